//! `GET /api/clerk-health` with the users table: the adapter's health answer, with
//! `user_table` added to the details (operators and health-token holders only).

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use clerk_incident_axum::{HEALTH_PATH, health_response, health_view};
use clerk_incident_core::auth::AuthPolicy;

use crate::UserSync;

/// The health endpoint: [`health_view`], whose details gain `"user_table": {"users": N,
/// "deliveries_seen": M}`; the adapter's status and `Cache-Control: no-store`.
pub(crate) fn health_router(policy: AuthPolicy, sync: UserSync) -> Router {
    Router::new().route(
        HEALTH_PATH,
        get(move |headers: HeaderMap| {
            let (policy, sync) = (policy.clone(), sync.clone());
            async move {
                let mut view = health_view(&policy, &headers).await;
                if let (true, Some(body)) = (view.detailed, view.body.as_object_mut()) {
                    body.insert("user_table".to_owned(), sync.to_json());
                }
                health_response(&view)
            }
        }),
    )
}
