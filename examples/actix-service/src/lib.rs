//! An actix-web service protected by `clerk-incident-actix`: the app, built by [`app`] from an
//! [`AuthPolicy`], so that the binary serves it and the tests drive it without a socket.
//!
//! | Route | Protection | Answer |
//! | --- | --- | --- |
//! | `GET /` | public | a JSON hello |
//! | `GET /api/me` | a valid token (degraded access while a bypass is on) | the request's auth context |
//! | `GET /api/admin/ping` | a fully valid token with the `org:admin` role, in every mode | `{"pong":true,…}` |
//! | `GET /api/clerk-health` | public | mode, keys and counters |
//!
//! Every response carries `X-Auth-Bypass` while a bypass mode is on.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, Error, HttpResponse, web};
use clerk_incident_actix::core::auth::{AuthContext, AuthPolicy, Requirement};
use clerk_incident_actix::{Auth, BypassHeader, ClerkAuth, health_service};
use serde_json::{Value, json};

/// The whole app: [`configure`] wrapped in the bypass header layer of `policy`'s switch.
pub fn app(
    policy: AuthPolicy,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    App::new()
        .wrap(BypassHeader::new(policy.switch().clone()))
        .configure(configure(policy))
}

/// The routes. Public ones stay outside every [`ClerkAuth`]; the admin scope and the
/// protected `/api` scope are siblings, the admin one first (actix-web tries services in
/// registration order), so that each request passes exactly one `ClerkAuth`.
pub fn configure(policy: AuthPolicy) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config
            .route("/", web::get().to(hello))
            .service(health_service(policy.clone()))
            .service(
                web::scope("/api/admin")
                    .wrap(ClerkAuth::new(policy.clone()).require(Requirement::role("org:admin")))
                    .route("/ping", web::get().to(admin_ping)),
            )
            .service(
                web::scope("/api")
                    .wrap(ClerkAuth::new(policy))
                    .route("/me", web::get().to(me)),
            );
    }
}

async fn hello() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "message": "hello from actix-service-example" }))
}

async fn me(auth: Auth) -> HttpResponse {
    HttpResponse::Ok().json(context_view(&auth))
}

async fn admin_ping(auth: Auth) -> HttpResponse {
    let user_id = auth
        .session
        .as_ref()
        .map(|session| session.user_id.as_str());
    HttpResponse::Ok().json(json!({ "pong": true, "user_id": user_id }))
}

/// The context as `/api/me` shows it.
fn context_view(context: &AuthContext) -> Value {
    let session = context.session.as_deref();
    let organization = session.and_then(|session| session.organization.as_ref());
    json!({
        "user_id": session.map(|session| &session.user_id),
        "session_id": session.map(|session| &session.session_id),
        "organization": organization.map(|org| json!({
            "id": org.id,
            "role": org.role,
            "permissions": org.permissions,
        })),
        "degraded": context.degraded,
        "bypassed": context.bypassed,
        "mode": context.mode.name(),
    })
}
