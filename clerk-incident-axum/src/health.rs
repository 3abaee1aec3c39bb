//! The health endpoint: `GET /api/clerk-health`, the auth state core reports: a summary to
//! anyone, the details to operators and health-token holders.

use axum::Json;
use axum::Router;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clerk_incident_core::auth::{AuthPolicy, Credentials, HealthView};

/// Where [`health_router`] serves the health state.
pub const HEALTH_PATH: &str = "/api/clerk-health";

/// A router serving `GET /api/clerk-health`. Merge it into the app, outside any
/// [`ClerkAuthLayer`](crate::ClerkAuthLayer): load balancers and triage probe it when Clerk is
/// down.
///
/// Anyone gets `{"status","mode","ready"}`; an operator's token, or the health token
/// (`CLERK_INCIDENT_HEALTH_TOKEN`) as `Authorization: Bearer …`, gets the details (the bypass
/// reason, key ids, counters, the last key error): see
/// [`AuthPolicy::health_for`].
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
        get(move |headers: HeaderMap| {
            let policy = policy.clone();
            async move { health_response(&health_view(&policy, &headers).await) }
        }),
    )
}

/// What the health endpoint shows the caller whose request carried `headers`.
pub async fn health_view(policy: &AuthPolicy, headers: &HeaderMap) -> HealthView {
    policy.health_for(&Credentials::from_headers(headers)).await
}

/// `view` as a response: its status (200, or 503 when no verification key is usable) and JSON
/// body, never cached.
///
/// The body names no secret and no token; the details hold key ids, counts and the operator's
/// reason for a bypass.
pub fn health_response(view: &HealthView) -> Response {
    let status = StatusCode::from_u16(view.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    (
        status,
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(&view.body),
    )
        .into_response()
}
