//! The health endpoint: `GET /api/clerk-health` serves [`AuthPolicy::health_for`]: a summary to
//! anyone, the details to operators and health-token holders.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, Resource, web};
use clerk_incident_core::auth::{AuthPolicy, Credentials, HealthView};

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

/// The health handler: [`health_response`] of what the policy in the app data shows this
/// caller ([`AuthPolicy::health_for`]): a summary to anyone, the details to an operator's token
/// or the health token (`CLERK_INCIDENT_HEALTH_TOKEN`) as `Authorization: Bearer …`.
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
pub async fn health(policy: web::Data<AuthPolicy>, request: HttpRequest) -> HttpResponse {
    health_response(&health_view(&policy, &request).await)
}

/// What the health endpoint shows the caller of `request`.
pub async fn health_view(policy: &AuthPolicy, request: &HttpRequest) -> HealthView {
    let headers = request.headers();
    let credentials = Credentials::from_values(
        headers
            .get_all(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes),
        std::iter::empty(),
    );
    policy.health_for(&credentials).await
}

/// `view` as a response: its status (200, or 503 when no verification key is usable) and JSON
/// body, never cached.
///
/// The body names no secret and no token; the details hold key ids, counts and the operator's
/// reason for a bypass.
pub fn health_response(view: &HealthView) -> HttpResponse {
    let status = StatusCode::from_u16(view.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    HttpResponse::build(status)
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(&view.body)
}
