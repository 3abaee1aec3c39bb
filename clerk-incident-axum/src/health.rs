//! The health endpoint: `GET /api/clerk-health`, the auth state core reports.

use axum::Json;
use axum::Router;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clerk_incident_core::auth::{AuthPolicy, HealthStatus};

/// Where [`health_router`] serves the health state.
pub const HEALTH_PATH: &str = "/api/clerk-health";

/// A router serving `GET /api/clerk-health` with [`health_response`]. Merge it into the app,
/// outside any [`ClerkAuthLayer`](crate::ClerkAuthLayer): triage probes it when Clerk is
/// down.
///
/// ```
/// use axum::Router;
/// use clerk_incident_axum::core::auth::AuthPolicy;
/// use clerk_incident_axum::health_router;
///
/// fn with_health(app: Router, policy: &AuthPolicy) -> Router {
///     app.merge(health_router(policy.clone()))
/// }
/// # let _ = with_health;
/// ```
pub fn health_router<S>(policy: AuthPolicy) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new().route(
        HEALTH_PATH,
        get(move || {
            let policy = policy.clone();
            async move { health_response(&policy) }
        }),
    )
}

/// The JSON of [`AuthPolicy::health`]: mode (with its expiry and reason), keys and counters.
/// The status is 200, or 503 when no verification key is usable
/// ([`HealthStatus::Unavailable`]); the response is never cached.
///
/// The state names no secret and no token, only key ids, counts and the operator's reason
/// for a bypass.
pub fn health_response(policy: &AuthPolicy) -> Response {
    let health = policy.health();
    let status = if health.status == HealthStatus::Unavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (
        status,
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(health),
    )
        .into_response()
}
