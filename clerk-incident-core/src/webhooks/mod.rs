//! Runbook step 5: Clerk webhooks — signature verification, the event envelope, deduplication.
//!
//! Clerk delivers webhooks through Svix. Each delivery carries three headers, in the `svix-*`
//! family or the Standard Webhooks `webhook-*` family:
//!
//! * `svix-id`: the message id, the same for every retry: the dedupe key;
//! * `svix-timestamp`: Unix seconds;
//! * `svix-signature`: space-separated `v1,<base64>` entries.
//!
//! A [`WebhookVerifier`] accepts a delivery when its timestamp is within five minutes of now
//! (both ways) and any `v1` entry is the HMAC-SHA256 of `{id}.{timestamp}.{raw body}` under any
//! of its [`WebhookSecret`]s (several during a rotation), compared in constant time. The body
//! must be the raw bytes received: re-serialised JSON does not verify. [`sign`] produces the
//! header value (for replay and the sim).
//!
//! A verified body parses into a [`WebhookEvent`]; a [`WebhookInbox`] (e.g. the bounded
//! [`MemoryInbox`]) remembers the message ids already processed; a [`UserMirror`] applies
//! `user.*` events to an in-memory users table, newest `updated_at` wins; a [`UserSync`] ties
//! the three together for a service's webhook endpoint (the reference consumer of the
//! examples and drills).
//!
//! When deliveries were lost (an outage, the application's endpoint down), a
//! [`WebhookReplayer`] rebuilds `user.created` / `user.updated` / `user.deleted` events from
//! the Backend API, diffed against the ids the application holds ([`KnownIds`]), and delivers
//! them signed, with message ids that are the same in every replay.
//!
//! [`WebhookError`] says why a delivery was rejected without repeating any header value, and no
//! secret appears in any `Debug` output.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use clerk_incident_core::webhooks::{
//!     InboxOutcome, MemoryInbox, WebhookEvent, WebhookInbox, WebhookSecret, WebhookVerifier, sign,
//! };
//! use http::{HeaderMap, HeaderValue};
//! use std::time::SystemTime;
//!
//! let secret = WebhookSecret::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")?;
//! let body = br#"{"object":"event","type":"user.created","timestamp":1716883200,"instance_id":"ins_1","data":{"object":"user","id":"user_1"}}"#;
//! let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH)?.as_secs() as i64;
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("svix-id", HeaderValue::from_static("msg_1"));
//! headers.insert("svix-timestamp", HeaderValue::from_str(&now.to_string())?);
//! headers.insert("svix-signature", HeaderValue::from_str(&sign(&secret, "msg_1", now, body))?);
//!
//! let verifier = WebhookVerifier::new(secret);
//! let inbox = MemoryInbox::new(10_000);
//! let delivery = verifier.verify(&headers, body)?;
//! if inbox.record(&delivery.id).await? == InboxOutcome::New {
//!     let event = WebhookEvent::from_slice(body)?;
//!     assert_eq!(event.user_id(), Some("user_1"));
//! }
//! # Ok(())
//! # }
//! ```

mod event;
mod inbox;
mod mirror;
mod rejection;
mod replay;
mod secret;
mod signature;
mod user_sync;

use std::fmt;

pub use event::{EventCategory, EventType, WebhookEvent};
pub use inbox::{InboxError, InboxOutcome, MemoryInbox, WebhookInbox};
pub use mirror::{MirrorOutcome, UserMirror};
pub use rejection::{WebhookRejection, WebhookRejectionKind};
pub use replay::{
    DEFAULT_DELIVERY_TIMEOUT, DEFAULT_REPLAY_CONCURRENCY, EventCounts, FailedDelivery, KnownIds,
    KnownIdsError, PlannedEvent, REPLAY_MESSAGE_PREFIX, REPLAY_TYPES, ReplayError, ReplayOptions,
    ReplayProgress, ReplayReport, Skipped, WebhookReplayer,
};
pub use secret::WebhookSecret;
pub use signature::{DEFAULT_TOLERANCE, VerifiedDelivery, WebhookHeaders, WebhookVerifier, sign};
pub use user_sync::{USER_SYNC_INBOX_CAPACITY, UserSync};

/// The environment variable holding the webhook signing secret (`whsec_…`), as Clerk's own
/// SDKs name it: read by the example services and by `clerk-incident webhooks replay`.
pub const ENV_WEBHOOK_SIGNING_SECRET: &str = "CLERK_WEBHOOK_SIGNING_SECRET";

/// One of the three signature headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WebhookHeader {
    /// `svix-id` / `webhook-id`.
    Id,
    /// `svix-timestamp` / `webhook-timestamp`.
    Timestamp,
    /// `svix-signature` / `webhook-signature`.
    Signature,
}

impl WebhookHeader {
    /// The Svix name (`svix-id`, …).
    pub fn svix_name(self) -> &'static str {
        match self {
            WebhookHeader::Id => "svix-id",
            WebhookHeader::Timestamp => "svix-timestamp",
            WebhookHeader::Signature => "svix-signature",
        }
    }

    /// The Standard Webhooks name (`webhook-id`, …).
    pub fn standard_name(self) -> &'static str {
        match self {
            WebhookHeader::Id => "webhook-id",
            WebhookHeader::Timestamp => "webhook-timestamp",
            WebhookHeader::Signature => "webhook-signature",
        }
    }
}

impl fmt::Display for WebhookHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (or {})", self.svix_name(), self.standard_name())
    }
}

/// Why a webhook delivery, secret or payload was rejected.
///
/// No variant carries a header value, a body or a secret: the messages are safe to log, and an
/// adapter answers 400 without echoing them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A signature header is absent, empty or not text.
    #[error("missing webhook header {0}")]
    MissingHeader(WebhookHeader),
    /// The timestamp header is not Unix seconds.
    #[error("webhook timestamp is not a Unix time in seconds")]
    BadTimestamp,
    /// The timestamp is older than the tolerance allows.
    #[error("webhook timestamp is too old")]
    TooOld,
    /// The timestamp is further in the future than the tolerance allows.
    #[error("webhook timestamp is too far in the future")]
    TooNew,
    /// No `v1` signature matches any secret.
    #[error("no webhook signature matches")]
    NoMatchingSignature,
    /// A signing secret is not `whsec_<base64>`.
    #[error("the webhook signing secret is not whsec_ followed by base64")]
    BadSecret,
    /// A verifier was built with no secret.
    #[error("no webhook signing secret configured")]
    NoSecret,
    /// The body is not a Clerk event envelope.
    #[error("the webhook body is not a Clerk event")]
    BadPayload,
}
