//! The example app against a simulated Clerk, through `actix_web::test` (no socket).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::test::{self, TestRequest};
use clerk_incident_actix::core::auth::{AuthMode, AuthPolicy, ENV_JWT_KEY};
use clerk_incident_sim::{OrgRole, Sim, TokenRequest};
use serde_json::Value;

struct Setup {
    sim: Sim,
    policy: AuthPolicy,
}

async fn setup() -> Setup {
    let sim = Sim::builder().start().await.expect("the sim starts");
    let pem = sim.public_key_pem().to_owned();
    let policy = AuthPolicy::from_vars(|name| (name == ENV_JWT_KEY).then(|| pem.clone()))
        .expect("a pinned key is enough");
    Setup { sim, policy }
}

impl Setup {
    fn token(&self, user_id: String) -> String {
        self.sim
            .mint_token(&TokenRequest::for_user(user_id).lifetime(Duration::from_secs(600)))
            .expect("a token")
    }

    fn admin(&self) -> String {
        self.token(self.sim.admin_user_id().expect("an admin"))
    }

    /// A member (not an admin) with an active session.
    fn member(&self) -> String {
        let active: Vec<String> = self
            .sim
            .sessions()
            .into_iter()
            .filter(|session| session.status.as_str() == "active")
            .map(|session| session.user_id)
            .collect();
        let member = self
            .sim
            .users()
            .into_iter()
            .filter(|user| {
                user.membership
                    .as_ref()
                    .is_some_and(|membership| membership.role == OrgRole::Member)
            })
            .map(|user| user.id)
            .find(|id| active.contains(id))
            .expect("a member with an active session");
        self.token(member)
    }
}

/// `GET path`, with `token` as a bearer token.
fn request(path: &str, token: Option<&str>) -> TestRequest {
    let request = TestRequest::get().uri(path);
    match token {
        Some(token) => request.insert_header((AUTHORIZATION, format!("Bearer {token}"))),
        None => request,
    }
}

/// Sends `request`; the status, `X-Auth-Bypass` and JSON body of the response.
async fn send<S, R, B>(app: &S, request: R) -> (StatusCode, Option<String>, Value)
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, request).await;
    let status = response.status();
    let bypass = response
        .headers()
        .get("x-auth-bypass")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = test::read_body(response).await;
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, bypass, json)
}

#[actix_web::test]
async fn the_home_page_is_public() {
    let setup = setup().await;
    let app = test::init_service(actix_service_example::app(setup.policy.clone())).await;
    let (status, bypass, body) = send(&app, request("/", None).to_request()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bypass, None);
    assert_eq!(body["message"], "hello from actix-service-example");
}

#[actix_web::test]
async fn me_needs_a_valid_token() {
    let setup = setup().await;
    let app = test::init_service(actix_service_example::app(setup.policy.clone())).await;

    let (status, _, body) = send(&app, request("/api/me", None).to_request()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_token");

    let (status, _, _) = send(&app, request("/api/me", Some("not.a.token")).to_request()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let admin = setup.admin();
    let (status, bypass, body) = send(&app, request("/api/me", Some(&admin)).to_request()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bypass, None);
    assert_eq!(
        body["user_id"].as_str(),
        setup.sim.admin_user_id().as_deref()
    );
    assert!(
        body["session_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("sess_"))
    );
    assert_eq!(body["org_role"], "org:admin");
    assert_eq!(body["degraded"], false);
    assert_eq!(body["bypassed"], false);
    assert_eq!(body["mode"], "enforce");
}

#[actix_web::test]
async fn admin_ping_needs_the_admin_role() {
    let setup = setup().await;
    let app = test::init_service(actix_service_example::app(setup.policy.clone())).await;

    let (status, _, body) = send(
        &app,
        request("/api/admin/ping", Some(&setup.member())).to_request(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "insufficient_scope");

    let (status, _, body) = send(
        &app,
        request("/api/admin/ping", Some(&setup.admin())).to_request(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["pong"], true);

    let (status, _, _) = send(&app, request("/api/admin/ping", None).to_request()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn the_emergency_bypass_opens_me_but_not_admin() {
    let setup = setup().await;
    let app = test::init_service(actix_service_example::app(setup.policy.clone())).await;
    let switch = setup.policy.switch();
    switch.activate(AuthMode::Open, Some(Duration::from_secs(600)), "INC-42");

    let (status, bypass, body) = send(&app, request("/api/me", None).to_request()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bypass.as_deref(), Some("true"));
    assert_eq!(body["bypassed"], true);
    assert_eq!(body["user_id"], Value::Null);

    let (status, bypass, _) = send(&app, request("/api/admin/ping", None).to_request()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(bypass.as_deref(), Some("true"));

    let (_, bypass, _) = send(&app, request("/", None).to_request()).await;
    assert_eq!(bypass.as_deref(), Some("true"));

    switch.deactivate("Clerk recovered");
    let (status, bypass, _) = send(&app, request("/api/me", None).to_request()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(bypass, None);
}

#[actix_web::test]
async fn health_is_public() {
    let setup = setup().await;
    let app = test::init_service(actix_service_example::app(setup.policy.clone())).await;
    let (status, _, body) = send(&app, request("/api/clerk-health", None).to_request()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["keys"]["source"], "pinned_pem");
}
