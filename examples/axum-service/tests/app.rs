//! The example service, in-process against a sim's tokens: no socket on the service side.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::header::AUTHORIZATION;
use axum::http::{Request, StatusCode};
use axum_service::{ADMIN_PING, ME, app};
use clerk_incident_core::auth::{
    AuthMode, AuthPolicy, BypassSwitch, KeySource, Verifier, VerifierConfig,
};
use clerk_incident_sim::{OrgRole, Sim, TokenRequest};
use serde_json::Value;
use tower::ServiceExt;

struct Setup {
    // Kept alive for the tokens' session lookups.
    _sim: Sim,
    policy: AuthPolicy,
    admin_id: String,
    admin: String,
    member: String,
}

async fn setup() -> Setup {
    let sim = Sim::builder()
        .users(20)
        .sessions(40)
        .start()
        .await
        .expect("the sim starts");
    let keys = KeySource::pem(sim.public_key_pem()).expect("a PEM key");
    let policy = AuthPolicy::new(
        Verifier::new(keys, VerifierConfig::default()),
        BypassSwitch::new(),
    );
    let admin_id = sim.admin_user_id().expect("an admin");
    let active: Vec<String> = sim
        .sessions()
        .into_iter()
        .filter(|s| s.status.as_str() == "active")
        .map(|s| s.user_id)
        .collect();
    let member_id = sim
        .users()
        .into_iter()
        .filter(|u| {
            u.membership
                .as_ref()
                .is_some_and(|m| m.role == OrgRole::Member)
        })
        .map(|u| u.id)
        .find(|id| active.contains(id))
        .expect("a member with an active session");
    let mint = |user: &str| {
        sim.mint_token(&TokenRequest::for_user(user).lifetime(Duration::from_secs(600)))
            .expect("a token")
    };
    Setup {
        admin: mint(&admin_id),
        member: mint(&member_id),
        admin_id,
        policy,
        _sim: sim,
    }
}

struct Reply {
    status: StatusCode,
    bypass: Option<String>,
    json: Value,
}

async fn get(app: &Router, path: &str, token: Option<&str>) -> Reply {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bypass = response
        .headers()
        .get("x-auth-bypass")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Reply {
        status,
        bypass,
        json,
    }
}

#[tokio::test]
async fn the_root_is_public() {
    let setup = setup().await;
    let app = app(setup.policy.clone());
    let reply = get(&app, "/", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["service"], "axum-service");
    assert_eq!(reply.bypass, None);
}

#[tokio::test]
async fn me_needs_a_token_and_shows_the_context() {
    let setup = setup().await;
    let app = app(setup.policy.clone());

    let anonymous = get(&app, ME, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.json["error"], "invalid_token");

    let admin = get(&app, ME, Some(&setup.admin)).await;
    assert_eq!(admin.status, StatusCode::OK);
    assert_eq!(admin.json["user_id"], setup.admin_id.as_str());
    assert!(
        admin.json["session_id"]
            .as_str()
            .unwrap()
            .starts_with("sess_")
    );
    assert_eq!(admin.json["org_role"], "org:admin");
    assert!(admin.json["org_permissions"].is_array());
    assert_eq!(admin.json["degraded"], false);
    assert_eq!(admin.json["bypassed"], false);
    assert_eq!(admin.json["mode"], "enforce");
}

#[tokio::test]
async fn the_admin_route_needs_the_admin_role() {
    let setup = setup().await;
    let app = app(setup.policy.clone());

    let member = get(&app, ADMIN_PING, Some(&setup.member)).await;
    assert_eq!(member.status, StatusCode::FORBIDDEN);
    let admin = get(&app, ADMIN_PING, Some(&setup.admin)).await;
    assert_eq!(admin.status, StatusCode::OK);
    assert_eq!(admin.json["pong"], true);
    assert_eq!(admin.json["user_id"], setup.admin_id.as_str());
}

#[tokio::test]
async fn the_emergency_bypass_is_visible_everywhere() {
    let setup = setup().await;
    let app = app(setup.policy.clone());
    setup
        .policy
        .switch()
        .activate(AuthMode::Open, Some(Duration::from_secs(600)), "INC-1");

    let root = get(&app, "/", None).await;
    assert_eq!(root.bypass.as_deref(), Some("true"));
    let me = get(&app, ME, None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["bypassed"], true);
    assert_eq!(me.json["mode"], "open");
    assert_eq!(me.bypass.as_deref(), Some("true"));
    // The admin route still needs a fully valid admin token.
    let admin = get(&app, ADMIN_PING, None).await;
    assert_eq!(admin.status, StatusCode::UNAUTHORIZED);
    assert_eq!(admin.bypass.as_deref(), Some("true"));

    let health = get(&app, "/api/clerk-health", None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json["mode"]["mode"], "open");
    assert_eq!(health.json["mode"]["reason"], "INC-1");
}
