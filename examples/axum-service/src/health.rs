//! `GET /api/clerk-health` with the users table: the adapter's health JSON plus `user_table`.

use axum::Json;
use axum::Router;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clerk_incident_axum::{HEALTH_PATH, health_response};
use clerk_incident_core::auth::{AuthPolicy, HealthStatus};

use crate::UserSync;

/// The health endpoint: [`AuthPolicy::health`] plus `"user_table": {"users": N,
/// "deliveries_seen": M}`, with the adapter's status (200, or 503 without a usable key) and
/// `Cache-Control: no-store`.
pub(crate) fn health_router(policy: AuthPolicy, sync: UserSync) -> Router {
    Router::new().route(
        HEALTH_PATH,
        get(move || {
            let (policy, sync) = (policy.clone(), sync.clone());
            async move { health_with_users(&policy, &sync) }
        }),
    )
}

fn health_with_users(policy: &AuthPolicy, sync: &UserSync) -> Response {
    let health = policy.health();
    let status = if health.status == HealthStatus::Unavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    match serde_json::to_value(&health) {
        Ok(serde_json::Value::Object(mut body)) => {
            body.insert("user_table".to_owned(), sync.to_json());
            (
                status,
                [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
                Json(body),
            )
                .into_response()
        }
        // Not reachable (the health state is a plain struct); the adapter's answer then.
        _ => health_response(policy),
    }
}
