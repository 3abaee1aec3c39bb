//! `GET /api/clerk-health` with the users table: the adapter's health JSON plus `user_table`.

use actix_web::http::StatusCode;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, Resource, web};
use clerk_incident_actix::core::auth::{AuthPolicy, HealthStatus};
use clerk_incident_actix::{HEALTH_PATH, health_response};

use crate::UserSync;

/// The health endpoint: [`AuthPolicy::health`] plus `"user_table": {"users": N,
/// "deliveries_seen": M}`, with the adapter's status (200, or 503 without a usable key) and
/// `Cache-Control: no-store`.
pub(crate) fn health_service(policy: AuthPolicy, sync: UserSync) -> Resource {
    web::resource(HEALTH_PATH)
        .app_data(web::Data::new(policy))
        .app_data(web::Data::new(sync))
        .route(web::get().to(health_with_users))
}

async fn health_with_users(
    policy: web::Data<AuthPolicy>,
    sync: web::Data<UserSync>,
) -> HttpResponse {
    let health = policy.health();
    let status = if health.status == HealthStatus::Unavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    match serde_json::to_value(&health) {
        Ok(serde_json::Value::Object(mut body)) => {
            body.insert("user_table".to_owned(), sync.to_json());
            HttpResponse::build(status)
                .insert_header(CacheControl(vec![CacheDirective::NoStore]))
                .json(body)
        }
        // Not reachable (the health state is a plain struct); the adapter's answer then.
        _ => health_response(&policy),
    }
}
