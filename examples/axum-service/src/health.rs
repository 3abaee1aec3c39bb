//! `GET /api/clerk-health` with the users table: the adapter's health answer, with
//! `user_table` added to the details (operators and health-token holders only).

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use clerk_incident_axum::{HEALTH_PATH, health_response, health_view};
use clerk_incident_core::auth::AuthPolicy;

use clerk_incident_core::webhooks::UserSync;

/// The health endpoint: [`health_view`], whose details gain `"user_table": {"users": N,
/// "deliveries_seen": M}`; the adapter's status and `Cache-Control: no-store`.
pub(crate) fn health_router(policy: AuthPolicy, sync: UserSync) -> Router {
    Router::new().route(
        HEALTH_PATH,
        get(move |headers: HeaderMap| {
            let (policy, sync) = (policy.clone(), sync.clone());
            async move {
                let view = health_view(&policy, &headers).await;
                health_response(&view.with_detail("user_table", sync.to_json()))
            }
        }),
    )
}
