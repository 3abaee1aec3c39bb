//! A service's webhook state: verify, dedupe, apply user events to a [`UserMirror`].

use std::sync::Arc;

use serde_json::{Value, json};

use super::{
    ENV_WEBHOOK_SIGNING_SECRET, InboxOutcome, MemoryInbox, MirrorOutcome, UserMirror,
    VerifiedDelivery, WebhookError, WebhookEvent, WebhookSecret, WebhookVerifier,
};

/// How many delivery ids a [`UserSync`] inbox remembers.
pub const USER_SYNC_INBOX_CAPACITY: usize = 100_000;

/// A service's webhook state: the verifier, the inbox that dedupes deliveries by
/// `svix-id`, and the users table ([`UserMirror`]) the `user.*` events keep up to date.
///
/// Cheap to clone: clones share the inbox and the table, so a test or the drill keeps a clone
/// to read [`users`](Self::users) while the app serves deliveries. `Debug` shows counts only.
///
/// ```
/// use clerk_incident_core::webhooks::{
///     UserSync, WebhookEvent, WebhookHeaders, WebhookSecret, WebhookVerifier, sign,
/// };
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let secret = WebhookSecret::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")?;
/// let body = br#"{"object":"event","type":"user.created","timestamp":1,"instance_id":"ins_1",
///     "data":{"object":"user","id":"user_1","updated_at":1}}"#;
/// let signature = sign(&secret, "msg_1", 1_700_000_000, body);
/// let sync = UserSync::new(WebhookVerifier::new(secret));
///
/// // What a webhook handler does, after the framework's `VerifiedWebhook` extractor:
/// let headers = WebhookHeaders { id: "msg_1", timestamp: "1700000000", signature: &signature };
/// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let delivery = sync.verifier().verify_headers_at(&headers, body, now)?;
/// let event = WebhookEvent::from_slice(body)?;
/// assert!(sync.receive(&delivery, &event).is_some());
/// assert!(sync.receive(&delivery, &event).is_none(), "Svix retried the same delivery");
/// assert_eq!(sync.users().len(), 1);
/// # Ok::<(), clerk_incident_core::webhooks::WebhookError>(())
/// ```
#[derive(Clone, Debug)]
pub struct UserSync {
    verifier: WebhookVerifier,
    inbox: Arc<MemoryInbox>,
    users: UserMirror,
}

impl UserSync {
    /// Empty state, verifying deliveries with `verifier`.
    pub fn new(verifier: WebhookVerifier) -> Self {
        Self {
            verifier,
            inbox: Arc::new(MemoryInbox::new(USER_SYNC_INBOX_CAPACITY)),
            users: UserMirror::new(),
        }
    }

    /// From the secret in [`ENV_WEBHOOK_SIGNING_SECRET`]; `Ok(None)` when it is unset or empty.
    ///
    /// # Errors
    ///
    /// [`WebhookError::BadSecret`] when the variable is not a `whsec_…` secret (the error does
    /// not repeat it).
    pub fn from_env() -> Result<Option<Self>, WebhookError> {
        Ok(WebhookSecret::from_env(ENV_WEBHOOK_SIGNING_SECRET)?
            .map(|secret| Self::new(WebhookVerifier::new(secret))))
    }

    /// The users table.
    pub fn users(&self) -> &UserMirror {
        &self.users
    }

    /// The deliveries seen (by id).
    pub fn inbox(&self) -> &MemoryInbox {
        &self.inbox
    }

    /// The verifier deliveries must pass.
    pub fn verifier(&self) -> &WebhookVerifier {
        &self.verifier
    }

    /// Processes a verified delivery: records its id, and applies its event to the users
    /// table the first time only. `None` for a duplicate.
    pub fn receive(
        &self,
        delivery: &VerifiedDelivery,
        event: &WebhookEvent,
    ) -> Option<MirrorOutcome> {
        if self.inbox.record_now(&delivery.id) == InboxOutcome::Duplicate {
            tracing::debug!(id = %delivery.id, "duplicate webhook delivery: acknowledged");
            return None;
        }
        let outcome = self.users.apply(event);
        tracing::info!(
            id = %delivery.id,
            r#type = %event.event_type,
            ?outcome,
            "webhook delivery applied"
        );
        Some(outcome)
    }

    /// `{"users": N, "deliveries_seen": M}`, for the health endpoint.
    pub fn to_json(&self) -> Value {
        json!({ "users": self.users.len(), "deliveries_seen": self.inbox.len() })
    }
}
