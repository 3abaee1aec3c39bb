//! The users table kept up to date by Clerk's webhooks: `POST /api/webhooks/clerk`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Extension, Router};
use clerk_incident_axum::VerifiedWebhook;
use clerk_incident_core::webhooks::{self, UserSync};

/// The path of the webhook endpoint.
pub const WEBHOOKS: &str = "/api/webhooks/clerk";

/// The environment variable holding the webhook signing secret (`whsec_…`):
/// `CLERK_WEBHOOK_SIGNING_SECRET`.
pub const ENV_WEBHOOK_SECRET: &str = webhooks::ENV_WEBHOOK_SIGNING_SECRET;

/// The webhook endpoint at [`WEBHOOKS`], with `sync`'s verifier and state.
pub(crate) fn router(sync: UserSync) -> Router {
    Router::new()
        .route(WEBHOOKS, post(receive))
        .layer(Extension(sync.verifier().clone()))
        .with_state(sync)
}

/// 204 for every verified delivery: new, duplicate or of a type the service ignores (Svix
/// must not retry any of them).
async fn receive(State(sync): State<UserSync>, webhook: VerifiedWebhook) -> StatusCode {
    sync.receive(&webhook.delivery, &webhook.event);
    StatusCode::NO_CONTENT
}
