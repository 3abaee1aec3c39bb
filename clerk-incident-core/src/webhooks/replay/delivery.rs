//! Signed delivery of one replayed event to the application's endpoint, with retries.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, USER_AGENT};
use http::{HeaderValue, Method, StatusCode, Uri};

use crate::api::{RetryPolicy, is_retryable, retry_after};
use crate::http::{HttpClient, TransportError};
use crate::webhooks::{WebhookSecret, sign};

/// The `User-Agent` of replayed deliveries.
const REPLAY_USER_AGENT: &str = concat!(
    "clerk-incident/",
    env!("CARGO_PKG_VERSION"),
    " (webhook replay)"
);

/// Where replayed events go and how they are signed.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) http: Arc<dyn HttpClient>,
    pub(crate) url: Uri,
    pub(crate) secret: WebhookSecret,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Duration,
}

/// How one delivery ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The endpoint answered 2xx.
    Delivered,
    /// It did not, after the retries; the reason names a status or a transport failure.
    Failed { reason: String },
}

impl Target {
    /// Sends `body` as message `id`, signed anew at each attempt (a retry can come minutes
    /// later, and receivers allow five minutes), retrying 5xx, 408, 409, 429 (after its
    /// `Retry-After`) and transport failures with jittered exponential backoff.
    pub(crate) async fn deliver(&self, id: &str, body: Bytes) -> Outcome {
        let started = tokio::time::Instant::now();
        let mut delays = self.retry.delays();
        loop {
            let (reason, wait) = match self.attempt(id, body.clone()).await {
                Ok(status) if status.is_success() => return Outcome::Delivered,
                Ok(status) if status == StatusCode::TOO_MANY_REQUESTS => {
                    (format!("HTTP {}", status.as_u16()), None)
                }
                Ok(status) if is_retryable(status) => (format!("HTTP {}", status.as_u16()), None),
                Ok(status) => {
                    return Outcome::Failed {
                        reason: rejected(status),
                    };
                }
                Err(Attempt::RetryAfter(status, wait)) => {
                    (format!("HTTP {}", status.as_u16()), Some(wait))
                }
                Err(Attempt::Transport(error)) => (error, None),
            };
            let Some(backoff) = delays.next() else {
                return Outcome::Failed {
                    reason: format!("{reason}, after {} attempts", self.retry.max_attempts),
                };
            };
            let wait = wait.map_or(backoff, |wait| wait.min(self.retry.max_delay));
            if started.elapsed() + wait > self.retry.max_elapsed {
                return Outcome::Failed {
                    reason: format!("{reason}; gave up after {:?}", started.elapsed()),
                };
            }
            tracing::debug!(message_id = id, %reason, ?wait, "replay delivery will be retried");
            tokio::time::sleep(wait).await;
        }
    }

    /// One signed POST; the status, or why there is none.
    async fn attempt(&self, id: &str, body: Bytes) -> Result<StatusCode, Attempt> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
            });
        let signature = sign(&self.secret, id, timestamp, &body);
        let request = http::Request::builder()
            .method(Method::POST)
            .uri(self.url.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(USER_AGENT, HeaderValue::from_static(REPLAY_USER_AGENT))
            .header("svix-id", id)
            .header("svix-timestamp", timestamp.to_string())
            .header("svix-signature", signature)
            .body(body)
            .map_err(|_| Attempt::Transport("the request could not be built".to_owned()))?;
        let response = match tokio::time::timeout(self.timeout, self.http.send(request)).await {
            Err(_) => return Err(Attempt::Transport(TransportError::Timeout.to_string())),
            Ok(Err(error)) => return Err(Attempt::Transport(error.to_string())),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS
            && let Some(wait) = retry_after(response.headers(), SystemTime::now())
        {
            return Err(Attempt::RetryAfter(status, wait));
        }
        Ok(status)
    }
}

/// An attempt that produced no usable status.
enum Attempt {
    /// 429 with a `Retry-After`.
    RetryAfter(StatusCode, Duration),
    /// No response: the transport error's message (it never holds headers or secrets).
    Transport(String),
}

/// The reason for a final 4xx, with a hint for the usual causes.
fn rejected(status: StatusCode) -> String {
    let hint = match status.as_u16() {
        400 | 401 | 403 => {
            ": does the endpoint's signing secret match CLERK_WEBHOOK_SIGNING_SECRET?"
        }
        404 | 405 => ": is --target the application's webhook endpoint?",
        _ => "",
    };
    format!("HTTP {}{hint}", status.as_u16())
}
