//! Example: an axum service guarded by `clerk-incident-axum`.
//!
//! | Route | Protection | Answers |
//! | --- | --- | --- |
//! | `GET /` | public | `{"service":"axum-service","message":"hello"}` |
//! | `GET /api/me` | a session token (degraded access in `Grace` and `Open`) | the [context view](context_view) |
//! | `GET /api/admin/ping` | a fully valid token with the `org:admin` role, in every mode | `{"pong":true,"user_id":…}` |
//! | `GET /api/clerk-health` | public | the auth health state (mode, keys, counters) |
//!
//! Every response carries `X-Auth-Bypass` while a bypass mode is on. The binary reads its
//! [`AuthPolicy`] from the environment ([`AuthPolicy::from_env`]); tests and the
//! `clerk-incident drill` build one themselves and call [`app`] in-process.

use axum::routing::get;
use axum::{Json, Router};
use clerk_incident_axum::{Auth, BypassHeaderLayer, ClerkAuthLayer, VerifiedUser, health_router};
use clerk_incident_core::auth::{AuthContext, AuthPolicy, Requirement};
use serde_json::{Value, json};

/// The path of the protected route.
pub const ME: &str = "/api/me";
/// The path of the route that needs the `org:admin` role.
pub const ADMIN_PING: &str = "/api/admin/ping";
/// The role [`ADMIN_PING`] needs.
pub const ADMIN_ROLE: &str = "org:admin";

/// The whole service. Cheap and free of side effects: no task, socket or global state, so it
/// can be built once per test or drill run.
pub fn app(policy: AuthPolicy) -> Router {
    let bypass_header = BypassHeaderLayer::new(policy.switch().clone());
    let protected = Router::new()
        .route(ME, get(me))
        .route_layer(ClerkAuthLayer::new(policy.clone()));
    let admin = Router::new()
        .route(ADMIN_PING, get(admin_ping))
        .route_layer(ClerkAuthLayer::new(policy.clone()).require(Requirement::role(ADMIN_ROLE)));
    Router::new()
        .route("/", get(hello))
        .merge(protected)
        .merge(admin)
        .merge(health_router(policy))
        .layer(bypass_header)
}

/// What `/api/me` answers: the identity and how the request was let in.
///
/// ```json
/// {"authenticated": true, "user_id": "user_…", "session_id": "sess_…",
///  "org_id": "org_…", "org_role": "org:admin", "org_permissions": ["org:sys_memberships:manage"],
///  "degraded": false, "bypassed": false, "mode": "enforce"}
/// ```
pub fn context_view(context: &AuthContext) -> Value {
    let session = context.session.as_deref();
    let organization = session.and_then(|session| session.organization.as_ref());
    json!({
        "authenticated": session.is_some(),
        "user_id": session.map(|session| session.user_id.as_str()),
        "session_id": session.map(|session| session.session_id.as_str()),
        "org_id": organization.map(|org| org.id.as_str()),
        "org_role": organization.map(|org| org.role.as_str()),
        "org_permissions": organization.map(|org| org.permissions.as_slice()),
        "degraded": context.degraded,
        "bypassed": context.bypassed,
        "mode": context.mode.name(),
    })
}

async fn hello() -> Json<Value> {
    Json(json!({ "service": "axum-service", "message": "hello" }))
}

async fn me(auth: Auth) -> Json<Value> {
    Json(context_view(&auth))
}

async fn admin_ping(admin: VerifiedUser) -> Json<Value> {
    Json(json!({ "pong": true, "user_id": admin.user_id }))
}
