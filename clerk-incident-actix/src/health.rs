//! The health endpoint: `GET /api/clerk-health` serves [`AuthPolicy::health`].

use actix_web::http::StatusCode;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, Resource, web};
use clerk_incident_core::auth::{AuthPolicy, HealthStatus};

/// Where [`health_service`] serves the health state.
pub const HEALTH_PATH: &str = "/api/clerk-health";

/// The health endpoint as a resource at [`HEALTH_PATH`], carrying its own policy: `GET`
/// answers with [`health`].
///
/// Register it before a scope whose prefix covers its path (such as a protected `/api`),
/// since actix-web tries services in registration order: the endpoint is public, for load
/// balancers and `clerk-incident triage`.
///
/// ```
/// use actix_web::{App, web};
/// use clerk_incident_actix::{ClerkAuth, health_service};
/// use clerk_incident_actix::core::auth::AuthPolicy;
///
/// fn app(policy: AuthPolicy) {
///     let _app = App::new()
///         .service(health_service(policy.clone()))
///         .service(web::scope("/api").wrap(ClerkAuth::new(policy)));
/// }
/// # let _ = app;
/// ```
pub fn health_service(policy: AuthPolicy) -> Resource {
    web::resource(HEALTH_PATH)
        .app_data(web::Data::new(policy))
        .route(web::get().to(health))
}

/// The health handler: [`health_response`] for the policy in the app data.
///
/// It reads the policy from `web::Data<AuthPolicy>`; [`health_service`] provides it, or
/// register it on the app yourself to mount the handler elsewhere:
///
/// ```
/// use actix_web::{App, web};
/// use clerk_incident_actix::health;
/// use clerk_incident_actix::core::auth::AuthPolicy;
///
/// fn app(policy: AuthPolicy) {
///     let _app = App::new()
///         .app_data(web::Data::new(policy))
///         .route("/internal/auth-health", web::get().to(health));
/// }
/// # let _ = app;
/// ```
pub async fn health(policy: web::Data<AuthPolicy>) -> HttpResponse {
    health_response(&policy)
}

/// The JSON of [`AuthPolicy::health`]: mode (with its expiry and reason), keys and counters.
/// The status is 200, or 503 when no verification key is usable
/// ([`HealthStatus::Unavailable`]); the response is never cached.
///
/// The state names no secret and no token, only key ids, counts and the operator's reason
/// for a bypass.
pub fn health_response(policy: &AuthPolicy) -> HttpResponse {
    let health = policy.health();
    let status = if health.status == HealthStatus::Unavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    HttpResponse::build(status)
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(&health)
}
