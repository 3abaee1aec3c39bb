//! Svix / Standard Webhooks signature verification and signing.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::{constant_time, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;

use super::{WebhookError, WebhookEvent, WebhookHeader, WebhookSecret};

/// The default timestamp tolerance: five minutes either way.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The length of an HMAC-SHA256 tag.
const TAG_LEN: usize = 32;

/// The three signature headers of one delivery, as raw strings.
///
/// Build it with [`from_header_map`](Self::from_header_map) (axum, hyper, anything on `http`)
/// or [`from_lookup`](Self::from_lookup) (any other header type, e.g. actix-web's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookHeaders<'a> {
    /// `svix-id` / `webhook-id`: the message id, also the dedupe key.
    pub id: &'a str,
    /// `svix-timestamp` / `webhook-timestamp`: Unix seconds, as sent.
    pub timestamp: &'a str,
    /// `svix-signature` / `webhook-signature`: space-separated `v1,<base64>` entries.
    pub signature: &'a str,
}

impl<'a> WebhookHeaders<'a> {
    /// Reads the headers from an [`http::HeaderMap`]; each `svix-*` header falls back to its
    /// `webhook-*` twin.
    ///
    /// # Errors
    ///
    /// [`WebhookError::MissingHeader`] naming the first header absent (or not visible ASCII).
    pub fn from_header_map(headers: &'a HeaderMap) -> Result<Self, WebhookError> {
        Self::from_lookup(|name| headers.get(name).map(http::HeaderValue::as_bytes))
    }

    /// Reads the headers through `get`, which returns a header's raw value by its lowercase
    /// name; each `svix-*` header falls back to its `webhook-*` twin.
    ///
    /// # Errors
    ///
    /// [`WebhookError::MissingHeader`] naming the first header absent (or not visible ASCII).
    pub fn from_lookup<F>(get: F) -> Result<Self, WebhookError>
    where
        F: Fn(&str) -> Option<&'a [u8]>,
    {
        let read = |header: WebhookHeader| -> Result<&'a str, WebhookError> {
            let text = |name: &str| {
                get(name)
                    .and_then(|raw| std::str::from_utf8(raw).ok())
                    .map(str::trim)
                    .filter(|value| !value.is_empty())
            };
            text(header.svix_name())
                .or_else(|| text(header.standard_name()))
                .ok_or(WebhookError::MissingHeader(header))
        };
        Ok(Self {
            id: read(WebhookHeader::Id)?,
            timestamp: read(WebhookHeader::Timestamp)?,
            signature: read(WebhookHeader::Signature)?,
        })
    }
}

/// What a successful verification proved: the message id and its signed timestamp.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct VerifiedDelivery {
    /// The message id (`svix-id`): the dedupe key for a [`WebhookInbox`](super::WebhookInbox).
    pub id: String,
    /// The signed timestamp, in Unix seconds.
    pub timestamp: i64,
}

/// Verifies webhook deliveries against one or more signing secrets.
///
/// A delivery passes when its timestamp is within the tolerance of now (five minutes by
/// default, both ways) and any `v1` entry of its signature header is the HMAC-SHA256 of
/// `{id}.{timestamp}.{raw body}` under any of the secrets (several during a rotation). Entries
/// of other versions are ignored; a `v1` entry must be 32 bytes in padded standard base64, as
/// Svix sends it; tags are compared in constant time. The body must be the raw
/// bytes received, never re-serialised JSON.
///
/// ```
/// use clerk_incident_core::webhooks::{WebhookHeaders, WebhookSecret, WebhookVerifier, sign};
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let secret = WebhookSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
/// let body = br#"{"test": 2432232314}"#;
/// let signature = sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
/// let headers = WebhookHeaders {
///     id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
///     timestamp: "1614265330",
///     signature: &signature,
/// };
/// let verifier = WebhookVerifier::new(secret);
/// let now = UNIX_EPOCH + Duration::from_secs(1614265330);
/// let delivery = verifier.verify_headers_at(&headers, body, now)?;
/// assert_eq!(delivery.id, "msg_p5jXN8AQM9LWM0D4loKWxJek");
/// # Ok::<(), clerk_incident_core::webhooks::WebhookError>(())
/// ```
#[derive(Clone)]
pub struct WebhookVerifier {
    secrets: Vec<WebhookSecret>,
    tolerance: Duration,
}

impl WebhookVerifier {
    /// A verifier for one secret, with the default five-minute tolerance.
    pub fn new(secret: WebhookSecret) -> Self {
        Self {
            secrets: vec![secret],
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// A verifier accepting any of `secrets` (rotation overlap).
    ///
    /// # Errors
    ///
    /// [`WebhookError::NoSecret`] when `secrets` is empty.
    pub fn with_secrets<I>(secrets: I) -> Result<Self, WebhookError>
    where
        I: IntoIterator<Item = WebhookSecret>,
    {
        let secrets: Vec<WebhookSecret> = secrets.into_iter().collect();
        if secrets.is_empty() {
            return Err(WebhookError::NoSecret);
        }
        Ok(Self {
            secrets,
            tolerance: DEFAULT_TOLERANCE,
        })
    }

    /// Also accepts `secret` (the other side of a rotation).
    #[must_use]
    pub fn and_secret(mut self, secret: WebhookSecret) -> Self {
        self.secrets.push(secret);
        self
    }

    /// Sets the timestamp tolerance (both ways).
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// How many secrets are accepted.
    pub fn secret_count(&self) -> usize {
        self.secrets.len()
    }

    /// Verifies a delivery against the system clock.
    ///
    /// # Errors
    ///
    /// See [`verify_at`](Self::verify_at).
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<VerifiedDelivery, WebhookError> {
        self.verify_at(headers, body, SystemTime::now())
    }

    /// Verifies a delivery as of `now`.
    ///
    /// # Errors
    ///
    /// [`WebhookError::MissingHeader`], [`WebhookError::BadTimestamp`],
    /// [`WebhookError::TooOld`], [`WebhookError::TooNew`] or
    /// [`WebhookError::NoMatchingSignature`]; none of them repeats a header value.
    pub fn verify_at(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<VerifiedDelivery, WebhookError> {
        let headers = WebhookHeaders::from_header_map(headers)?;
        self.verify_headers_at(&headers, body, now)
    }

    /// Verifies a delivery and parses its body as a Clerk event, as of `now`: what a webhook
    /// endpoint does with every request (the adapters' `VerifiedWebhook` extractors call it).
    ///
    /// # Errors
    ///
    /// As [`verify_headers_at`](Self::verify_headers_at), and [`WebhookError::BadPayload`]
    /// when the verified body is not an event envelope.
    pub fn verify_event_at(
        &self,
        headers: &WebhookHeaders<'_>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(VerifiedDelivery, WebhookEvent), WebhookError> {
        let delivery = self.verify_headers_at(headers, body, now)?;
        Ok((delivery, WebhookEvent::from_slice(body)?))
    }

    /// Verifies a delivery whose headers were already extracted, as of `now`.
    ///
    /// # Errors
    ///
    /// As [`verify_at`](Self::verify_at), without [`WebhookError::MissingHeader`].
    pub fn verify_headers_at(
        &self,
        headers: &WebhookHeaders<'_>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<VerifiedDelivery, WebhookError> {
        let timestamp = parse_timestamp(headers.timestamp)?;
        let now_secs = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| i128::from(since.as_secs()));
        let tolerance = i128::from(self.tolerance.as_secs());
        let skew = i128::from(timestamp) - now_secs;
        if skew < -tolerance {
            return Err(WebhookError::TooOld);
        }
        if skew > tolerance {
            return Err(WebhookError::TooNew);
        }

        let candidates: Vec<Vec<u8>> = headers
            .signature
            .split_ascii_whitespace()
            .filter_map(|entry| entry.split_once(','))
            .filter(|(version, _)| *version == "v1")
            .filter_map(|(_, encoded)| STANDARD.decode(encoded).ok())
            .filter(|tag| tag.len() == TAG_LEN)
            .collect();
        if candidates.is_empty() {
            return Err(WebhookError::NoMatchingSignature);
        }

        // Every candidate is compared against every secret, with no early exit, so the time
        // taken says nothing about which (if any) matched.
        let mut matched = false;
        for secret in &self.secrets {
            let expected = tag(secret, headers.id, headers.timestamp, body);
            for candidate in &candidates {
                matched |=
                    constant_time::verify_slices_are_equal(expected.as_ref(), candidate).is_ok();
            }
        }
        if matched {
            Ok(VerifiedDelivery {
                id: headers.id.to_owned(),
                timestamp,
            })
        } else {
            Err(WebhookError::NoMatchingSignature)
        }
    }
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("secrets", &self.secrets.len())
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

/// Signs a delivery: returns the `svix-signature` value `v1,<base64>` for
/// `{id}.{timestamp}.{body}` (for replay and the sim).
///
/// ```
/// use clerk_incident_core::webhooks::{WebhookSecret, sign};
///
/// let secret = WebhookSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
/// let signature = sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
/// assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
/// # Ok::<(), clerk_incident_core::webhooks::WebhookError>(())
/// ```
pub fn sign(secret: &WebhookSecret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = tag(secret, id, &timestamp.to_string(), body);
    format!("v1,{}", STANDARD.encode(tag.as_ref()))
}

/// HMAC-SHA256 of `{id}.{timestamp}.{body}`, without copying the body.
fn tag(secret: &WebhookSecret, id: &str, timestamp: &str, body: &[u8]) -> hmac::Tag {
    let mut context = hmac::Context::with_key(&secret.hmac_key());
    context.update(id.as_bytes());
    context.update(b".");
    context.update(timestamp.as_bytes());
    context.update(b".");
    context.update(body);
    context.sign()
}

/// Unix seconds: ASCII digits only, at most 18 of them (no sign, no overflow).
fn parse_timestamp(raw: &str) -> Result<i64, WebhookError> {
    if raw.is_empty() || raw.len() > 18 || !raw.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(WebhookError::BadTimestamp);
    }
    raw.parse().map_err(|_| WebhookError::BadTimestamp)
}
