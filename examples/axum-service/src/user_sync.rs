//! The users table kept up to date by Clerk's webhooks: `POST /api/webhooks/clerk`.

use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Extension, Router};
use clerk_incident_axum::VerifiedWebhook;
use clerk_incident_core::webhooks::{
    self, InboxOutcome, MemoryInbox, MirrorOutcome, UserMirror, VerifiedDelivery, WebhookError,
    WebhookEvent, WebhookSecret, WebhookVerifier,
};
use serde_json::{Value, json};

/// The path of the webhook endpoint.
pub const WEBHOOKS: &str = "/api/webhooks/clerk";

/// The environment variable holding the webhook signing secret (`whsec_…`):
/// `CLERK_WEBHOOK_SIGNING_SECRET`.
pub const ENV_WEBHOOK_SECRET: &str = webhooks::ENV_WEBHOOK_SIGNING_SECRET;

/// How many delivery ids the inbox remembers.
pub const INBOX_CAPACITY: usize = 100_000;

/// The webhook state of the service: the verifier, the inbox that dedupes deliveries by
/// `svix-id`, and the users table ([`UserMirror`]) the `user.*` events keep up to date.
///
/// Cheap to clone: clones share the inbox and the table, so a test or the drill keeps a clone
/// to read [`users`](Self::users) while the app serves deliveries. `Debug` shows counts only.
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
            inbox: Arc::new(MemoryInbox::new(INBOX_CAPACITY)),
            users: UserMirror::new(),
        }
    }

    /// From the secret in [`ENV_WEBHOOK_SECRET`]; `Ok(None)` when it is unset or empty.
    ///
    /// # Errors
    ///
    /// [`WebhookError::BadSecret`] when the variable is not a `whsec_…` secret (the error does
    /// not repeat it).
    pub fn from_env() -> Result<Option<Self>, WebhookError> {
        Ok(WebhookSecret::from_env(ENV_WEBHOOK_SECRET)?
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

    /// The webhook endpoint at [`WEBHOOKS`].
    pub(crate) fn router(self) -> Router {
        Router::new()
            .route(WEBHOOKS, post(receive))
            .layer(Extension(self.verifier.clone()))
            .with_state(self)
    }
}

/// The webhook state from [`ENV_WEBHOOK_SECRET`] ([`UserSync::from_env`]); `None`, logged,
/// without a usable secret. Built once per process, so that every app built by
/// [`app`](crate::app) shares one users table.
pub fn user_sync_from_env() -> Option<UserSync> {
    static SYNC: OnceLock<Option<UserSync>> = OnceLock::new();
    SYNC.get_or_init(|| match UserSync::from_env() {
        Ok(Some(sync)) => Some(sync),
        Ok(None) => {
            tracing::info!("{ENV_WEBHOOK_SECRET} is not set: the webhook endpoint is not mounted");
            None
        }
        Err(error) => {
            tracing::error!(
                "{ENV_WEBHOOK_SECRET} is invalid ({error}): the webhook endpoint is not mounted"
            );
            None
        }
    })
    .clone()
}

/// 204 for every verified delivery: new, duplicate or of a type the service ignores (Svix
/// must not retry any of them).
async fn receive(State(sync): State<UserSync>, webhook: VerifiedWebhook) -> StatusCode {
    sync.receive(&webhook.delivery, &webhook.event);
    StatusCode::NO_CONTENT
}
