//! Webhook delivery: Clerk's event envelope, signed the way Svix signs it, POSTed once to the
//! configured endpoint. Apart from the configuration (`webhooks.rs`), which the state holds,
//! so that the two never import each other.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::delivery::Delivery;
use crate::ids;
use crate::state::Shared;
use crate::svix::WebhookSecret;
use crate::webhooks::UserEvent;

/// Clerk's event envelope.
#[derive(Serialize)]
struct Envelope<'a, D> {
    data: D,
    object: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    timestamp: i64,
    instance_id: &'a str,
    event_attributes: EventAttributes,
}

#[derive(Serialize)]
struct EventAttributes {
    http_request: HttpRequest,
}

#[derive(Serialize)]
struct HttpRequest {
    client_ip: &'static str,
    user_agent: &'static str,
}

/// What to do with one event, decided under the lock.
enum Plan {
    NotConfigured,
    Dropped,
    Send {
        endpoint: String,
        secret: WebhookSecret,
    },
}

/// Real system time, Unix seconds (0 before 1970): receivers compare `svix-timestamp` with
/// their own clock, so the sim clock must not be used here.
fn system_now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// A short, secret-free description of a transport error.
fn error_kind(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() {
        "body"
    } else if error.is_request() {
        "request"
    } else {
        "transport"
    }
}

impl Shared {
    /// Serializes the envelope of an event with `data`, stamped `timestamp_ms` (sim clock).
    pub(crate) fn event_body<D: Serialize>(
        &self,
        kind: UserEvent,
        timestamp_ms: i64,
        data: D,
    ) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(&Envelope {
            data,
            object: "event",
            kind: kind.as_str(),
            timestamp: timestamp_ms,
            instance_id: &self.instance_id,
            event_attributes: EventAttributes {
                http_request: HttpRequest {
                    client_ip: "127.0.0.1",
                    user_agent: "clerk-incident-sim",
                },
            },
        })
    }

    /// Delivers one event body (single attempt) and counts the outcome. The lock is not held
    /// while the request is in flight.
    pub(crate) async fn deliver(
        &self,
        kind: UserEvent,
        body: Result<Vec<u8>, serde_json::Error>,
    ) -> Delivery {
        let plan = {
            let mut inner = self.lock();
            match inner.webhooks.endpoint.clone() {
                None => Plan::NotConfigured,
                Some(_) if inner.webhooks.drop_next > 0 => {
                    inner.webhooks.drop_next -= 1;
                    inner.counters.webhooks_dropped =
                        inner.counters.webhooks_dropped.saturating_add(1);
                    Plan::Dropped
                }
                Some(endpoint) => Plan::Send {
                    endpoint,
                    secret: inner.webhooks.secret.clone(),
                },
            }
        };
        let (endpoint, secret) = match plan {
            Plan::NotConfigured => return Delivery::NotConfigured,
            Plan::Dropped => {
                tracing::info!(event = kind.as_str(), "clerk sim webhook dropped");
                return Delivery::Dropped;
            }
            Plan::Send { endpoint, secret } => (endpoint, secret),
        };
        let delivery = match body {
            Ok(body) => self.post(&endpoint, &secret, body).await,
            Err(error) => {
                tracing::error!(%error, "cannot serialize a webhook event");
                Delivery::Failed {
                    reason: "serialization".to_owned(),
                }
            }
        };
        {
            let mut inner = self.lock();
            let counters = &mut inner.counters;
            if matches!(delivery, Delivery::Delivered { .. }) {
                counters.webhooks_delivered = counters.webhooks_delivered.saturating_add(1);
            } else {
                counters.webhooks_failed = counters.webhooks_failed.saturating_add(1);
            }
        }
        tracing::info!(event = kind.as_str(), ?delivery, "clerk sim webhook sent");
        delivery
    }

    /// One signed POST.
    async fn post(&self, endpoint: &str, secret: &WebhookSecret, body: Vec<u8>) -> Delivery {
        let msg_id = ids::new_id(&mut fastrand::Rng::new(), "msg");
        let timestamp = system_now_secs();
        let signature = secret.sign(&msg_id, timestamp, &body);
        let result = self
            .webhook_client
            .post(endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("svix-id", msg_id)
            .header("svix-timestamp", timestamp.to_string())
            .header("svix-signature", signature)
            .body(body)
            .send()
            .await;
        match result {
            Ok(response) if response.status().is_success() => Delivery::Delivered {
                status: response.status().as_u16(),
            },
            Ok(response) => Delivery::Failed {
                reason: format!("status {}", response.status().as_u16()),
            },
            Err(error) => Delivery::Failed {
                reason: error_kind(&error).to_owned(),
            },
        }
    }
}
