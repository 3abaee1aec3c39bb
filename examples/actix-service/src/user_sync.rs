//! The users table kept up to date by Clerk's webhooks: `POST /api/webhooks/clerk`.

use std::sync::OnceLock;

use actix_web::{HttpResponse, Resource, web};
use clerk_incident_actix::VerifiedWebhook;
use clerk_incident_actix::core::webhooks::{self, UserSync};

/// The path of the webhook endpoint.
pub const WEBHOOKS: &str = "/api/webhooks/clerk";

/// The environment variable holding the webhook signing secret (`whsec_…`):
/// `CLERK_WEBHOOK_SIGNING_SECRET`.
pub const ENV_WEBHOOK_SECRET: &str = webhooks::ENV_WEBHOOK_SIGNING_SECRET;

/// The webhook endpoint at [`WEBHOOKS`], carrying its verifier and this state; a body above
/// `body_limit` bytes gets a 413.
pub(crate) fn resource(sync: &UserSync, body_limit: usize) -> Resource {
    web::resource(WEBHOOKS)
        .app_data(web::PayloadConfig::new(body_limit))
        .app_data(web::Data::new(sync.verifier().clone()))
        .app_data(web::Data::new(sync.clone()))
        .route(web::post().to(receive))
}

/// The webhook state from [`ENV_WEBHOOK_SECRET`] ([`UserSync::from_env`]); `None`, logged,
/// without a usable secret. Built once per process, so that every app built by
/// [`app`](crate::app) (one per `HttpServer` worker) shares one users table.
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
async fn receive(sync: web::Data<UserSync>, webhook: VerifiedWebhook) -> HttpResponse {
    sync.receive(&webhook.delivery, &webhook.event);
    HttpResponse::NoContent().finish()
}
