//! The users table kept up to date by Clerk's webhooks: `POST /api/webhooks/clerk`.

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

/// 204 for every verified delivery: new, duplicate or of a type the service ignores (Svix
/// must not retry any of them).
async fn receive(sync: web::Data<UserSync>, webhook: VerifiedWebhook) -> HttpResponse {
    sync.receive(&webhook.delivery, &webhook.event);
    HttpResponse::NoContent().finish()
}
