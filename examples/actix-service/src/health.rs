//! `GET /api/clerk-health` with the users table: the adapter's health answer, with
//! `user_table` added to the details (operators and health-token holders only).

use actix_web::{HttpRequest, HttpResponse, Resource, web};
use clerk_incident_actix::core::auth::AuthPolicy;
use clerk_incident_actix::{HEALTH_PATH, health_response, health_view};

use clerk_incident_actix::core::webhooks::UserSync;

/// The health endpoint: [`health_view`], whose details gain `"user_table": {"users": N,
/// "deliveries_seen": M}`; the adapter's status and `Cache-Control: no-store`.
pub(crate) fn health_service(policy: AuthPolicy, sync: UserSync) -> Resource {
    web::resource(HEALTH_PATH)
        .app_data(web::Data::new(policy))
        .app_data(web::Data::new(sync))
        .route(web::get().to(health_with_users))
}

async fn health_with_users(
    policy: web::Data<AuthPolicy>,
    sync: web::Data<UserSync>,
    request: HttpRequest,
) -> HttpResponse {
    let view = health_view(&policy, &request).await;
    health_response(&view.with_detail("user_table", sync.to_json()))
}
