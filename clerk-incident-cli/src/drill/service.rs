//! The drill's reference service: a small axum app guarded by `clerk-incident-axum`, as a
//! service team would write one (see `examples/axum-service` for the full example). The drill
//! serves it in-process, so the published binary needs no example.
//!
//! | Route | Protection |
//! | --- | --- |
//! | `GET /api/me` | a session token (degraded access in `Grace` and `Open`) |
//! | `GET /api/admin/ping` | a fully valid token with the `org:admin` role, in every mode |
//! | `GET /api/clerk-health` | public summary; the details for an operator or the health token |
//! | `POST /api/webhooks/clerk` | a valid Svix signature; `user.*` events update the users table |

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use clerk_incident_axum::{
    Auth, BypassHeaderLayer, ClerkAuthLayer, VerifiedWebhook, health_router,
};
use clerk_incident_core::auth::{AuthPolicy, Requirement};
use clerk_incident_core::webhooks::UserSync;
use serde_json::{Value, json};

/// The protected route.
pub(crate) const ME: &str = "/api/me";
/// The route that needs the `org:admin` role.
pub(crate) const ADMIN_PING: &str = "/api/admin/ping";
/// The webhook endpoint.
pub(crate) const WEBHOOKS: &str = "/api/webhooks/clerk";

/// The service guarded by `policy`, with the webhook endpoint and the users table when `sync`
/// is given.
pub(crate) fn app(policy: AuthPolicy, sync: Option<UserSync>) -> Router {
    let bypass_header = BypassHeaderLayer::new(policy.switch().clone());
    let protected = Router::new()
        .route(ME, get(me))
        .route_layer(ClerkAuthLayer::new(policy.clone()));
    let admin = Router::new()
        .route(ADMIN_PING, get(|| async { Json(json!({ "pong": true })) }))
        .route_layer(ClerkAuthLayer::new(policy.clone()).require(Requirement::role("org:admin")));
    let app = Router::new()
        .merge(protected)
        .merge(admin)
        .merge(health_router(policy));
    let app = match sync {
        None => app,
        Some(sync) => app.merge(
            Router::new()
                .route(WEBHOOKS, post(receive))
                .layer(Extension(sync.verifier().clone()))
                .with_state(sync),
        ),
    };
    app.layer(bypass_header)
}

async fn me(auth: Auth) -> Json<Value> {
    Json(auth.to_json())
}

/// 204 for every verified delivery, as Svix expects.
async fn receive(State(sync): State<UserSync>, webhook: VerifiedWebhook) -> StatusCode {
    sync.receive(&webhook.delivery, &webhook.event);
    StatusCode::NO_CONTENT
}
