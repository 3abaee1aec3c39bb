//! Example: an axum service guarded by `clerk-incident-axum`.
//!
//! | Route | Protection | Answers |
//! | --- | --- | --- |
//! | `GET /` | public | `{"service":"axum-service","message":"hello"}` |
//! | `GET /api/me` | a session token (degraded access in `Grace` and `Open`) | the context as JSON ([`AuthContext::to_json`](clerk_incident_core::auth::AuthContext::to_json)) |
//! | `GET /api/admin/ping` | a fully valid token with the `org:admin` role, in every mode | `{"pong":true,"user_id":…}` |
//! | `GET /api/clerk-health` | public | `{"status","mode","ready"}`; for an operator's token or `CLERK_INCIDENT_HEALTH_TOKEN`, the details (mode, keys, counters), plus `"user_table": {"users": N, "deliveries_seen": M}` when the webhook endpoint is mounted |
//! | `POST /api/webhooks/clerk` | a valid Svix signature ([`VerifiedWebhook`](clerk_incident_axum::VerifiedWebhook)) | 204; `user.*` events update the users table ([`UserSync`]); 400 for a bad signature |
//! | `POST /admin/clerk/sessions/revoke` | an operator's fully valid token, in every mode ([`RouteRule::operator`](clerk_incident_core::auth::RouteRule::operator): `CLERK_INCIDENT_OPERATORS`, `CLERK_INCIDENT_OPERATOR_ORG`) | 202 `{"job":…}`: a mass session revocation runs in the background |
//! | `GET /admin/clerk/sessions/revoke/{job}` | the same | the job's progress or report, naming the operator |
//! | `DELETE /admin/clerk/sessions/revoke/{job}` | the same | 200: the job is cancelled |
//!
//! Every response carries `X-Auth-Bypass` while a bypass mode is on. The binary reads its
//! [`AuthPolicy`] from the environment ([`AuthPolicy::from_env`]); tests and the
//! `clerk-incident drill` build one themselves and call [`app`] in-process.
//!
//! What is mounted besides the auth routes comes in [`ServiceOptions`], built once by the
//! binary from the environment (core's `ServiceEnv::from_env`) and passed in: the revocation
//! endpoints need the jobs (a Backend API client, from `CLERK_SECRET_KEY`), the webhook
//! endpoint the webhook state (from `CLERK_WEBHOOK_SIGNING_SECRET`, `whsec_…`). Each delivery
//! is verified, deduped by its `svix-id` (a [`MemoryInbox`](clerk_incident_core::webhooks::MemoryInbox)
//! of [`USER_SYNC_INBOX_CAPACITY`](clerk_incident_core::webhooks::USER_SYNC_INBOX_CAPACITY) ids) and, the first time, applied to the users table, a
//! [`UserMirror`](clerk_incident_core::webhooks::UserMirror) read through
//! [`UserSync::users`]. Every verified delivery gets a 204, duplicates and ignored event types
//! included, so that Svix does not retry them. [`app_with`] takes both the revocation jobs and
//! the webhook state explicitly ([`ServiceOptions`]).

mod health;
mod server;
mod user_sync;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use clerk_incident_axum::{
    Auth, BypassHeaderLayer, ClerkAuthLayer, VerifiedUser, health_router, revocation_router,
};
use clerk_incident_core::auth::{AuthPolicy, Requirement};
use clerk_incident_core::revocation::RevocationJobs;
use clerk_incident_core::service_limits::ServiceLimits;
use serde_json::{Value, json};
use tower_http::timeout::TimeoutLayer;

pub use self::server::serve;
pub use self::user_sync::{ENV_WEBHOOK_SECRET, WEBHOOKS};
/// The webhook state the service keeps (from core).
pub use clerk_incident_core::webhooks::UserSync;

/// The path of the protected route.
pub const ME: &str = "/api/me";
/// The path of the route that needs the `org:admin` role.
pub const ADMIN_PING: &str = "/api/admin/ping";
/// The role [`ADMIN_PING`] needs.
pub const ADMIN_ROLE: &str = "org:admin";

/// What [`app_with`] mounts besides the auth routes.
#[derive(Clone, Debug, Default)]
pub struct ServiceOptions {
    /// The jobs behind the revocation endpoints; without them the endpoints are not mounted.
    pub revocation: Option<RevocationJobs>,
    /// The webhook state; without it the webhook endpoint is not mounted and the health JSON
    /// has no `user_table`.
    pub webhooks: Option<UserSync>,
    /// The request timeout (408) and the webhook body limit (413) the router applies; the
    /// header-read timeout and connection cap are [`serve`]'s.
    pub limits: ServiceLimits,
}

/// The whole service with nothing but the auth routes and the health endpoint
/// ([`ServiceOptions::default`]). Free of side effects: no task, socket or global state.
pub fn app(policy: AuthPolicy) -> Router {
    app_with(policy, ServiceOptions::default())
}

/// The whole service, with the revocation endpoints when `jobs` is given, without the
/// webhook endpoint. Free of side effects: no task, socket or global state.
pub fn app_with_revocation(policy: AuthPolicy, jobs: Option<RevocationJobs>) -> Router {
    app_with(
        policy,
        ServiceOptions {
            revocation: jobs,
            webhooks: None,
            limits: ServiceLimits::default(),
        },
    )
}

/// The whole service, with what `options` provides. Free of side effects: no task, socket or
/// global state.
pub fn app_with(policy: AuthPolicy, options: ServiceOptions) -> Router {
    let bypass_header = BypassHeaderLayer::new(policy.switch().clone());
    let protected = Router::new()
        .route(ME, get(me))
        .route_layer(ClerkAuthLayer::new(policy.clone()));
    let admin = Router::new()
        .route(ADMIN_PING, get(admin_ping))
        .route_layer(ClerkAuthLayer::new(policy.clone()).require(Requirement::role(ADMIN_ROLE)));
    let app = Router::new()
        .route("/", get(hello))
        .merge(protected)
        .merge(admin);
    let app = match options.webhooks {
        Some(sync) => app
            .merge(health::health_router(policy.clone(), sync.clone()))
            .merge(
                user_sync::router(sync)
                    .layer(DefaultBodyLimit::max(options.limits.webhook_body_limit)),
            ),
        None => app.merge(health_router(policy.clone())),
    };
    let app = match options.revocation {
        Some(jobs) => app.merge(revocation_router(policy, jobs)),
        None => app,
    };
    // The bypass header outermost, so that a 408 carries it too.
    app.layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        options.limits.request_timeout,
    ))
    .layer(bypass_header)
}

async fn hello() -> Json<Value> {
    Json(json!({ "service": "axum-service", "message": "hello" }))
}

async fn me(auth: Auth) -> Json<Value> {
    Json(auth.to_json())
}

async fn admin_ping(admin: VerifiedUser) -> Json<Value> {
    Json(json!({ "pong": true, "user_id": admin.user_id }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::Request;
    use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
    use clerk_incident_core::api::{ClerkApi, SecretKey};
    use clerk_incident_core::auth::{BypassSwitch, KeySource, Operators, Verifier, VerifierConfig};
    use clerk_incident_core::revocation::{JobState, REVOKE_PATH};
    use clerk_incident_sim::{Sim, TokenRequest};
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn the_revocation_endpoint_is_mounted_with_jobs_only() {
        let sim = Sim::builder().users(10).sessions(20).start().await.unwrap();
        let keys = KeySource::pem(sim.public_key_pem()).unwrap();
        let policy = AuthPolicy::new(
            Verifier::new(keys, VerifierConfig::default()),
            BypassSwitch::new(),
        )
        .with_operators(Operators::none().allow_users([sim.admin_user_id().unwrap()]));
        let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
            .base_url(sim.base_url())
            .without_rate_limit()
            .build()
            .unwrap();
        let jobs = RevocationJobs::new(api);
        let admin_id = sim.admin_user_id().unwrap();
        let admin = sim
            .mint_token(&TokenRequest::for_user(&admin_id).lifetime(Duration::from_secs(600)))
            .unwrap();
        let post = || {
            Request::post(REVOKE_PATH)
                .header(AUTHORIZATION, format!("Bearer {admin}"))
                .header(CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"all": true, "dry_run": true}"#))
                .unwrap()
        };

        let without = app_with_revocation(policy.clone(), None);
        assert_eq!(without.oneshot(post()).await.unwrap().status(), 404);

        let with = app_with_revocation(policy, Some(jobs.clone()));
        let response = with.oneshot(post()).await.unwrap();
        assert_eq!(response.status(), 202);
        let job = jobs.running().expect("a running job");
        let status = jobs.wait(job.as_str()).await.unwrap().unwrap();
        assert_eq!(status.state, JobState::Finished, "{:?}", status.error);
        assert_eq!(status.requested_by.as_deref(), Some(admin_id.as_str()));
        assert_eq!(
            status.operator.map(|operator| operator.to_string()),
            Some(format!("{admin_id} (allow-listed)"))
        );
    }
}
