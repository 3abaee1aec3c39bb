//! The example service, in-process against a sim's tokens: no socket on the service side.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::header::AUTHORIZATION;
use axum::http::{Request, StatusCode};
use axum_service::{ADMIN_PING, ME, ServiceOptions, UserSync, WEBHOOKS, app, app_with};
use clerk_incident_core::auth::{
    AuthMode, AuthPolicy, BypassSwitch, KeySource, Operators, Verifier, VerifierConfig,
};
use clerk_incident_core::webhooks::{
    EventType, WebhookEvent, WebhookSecret, WebhookVerifier, sign,
};
use clerk_incident_sim::{OrgRole, Sim, TokenRequest};
use serde_json::{Value, json};
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
    let admin_id = sim.admin_user_id().expect("an admin");
    // The admin is an operator: the health details and the revocation routes are theirs.
    let policy = AuthPolicy::new(
        Verifier::new(keys, VerifierConfig::default()),
        BypassSwitch::new(),
    )
    .with_operators(Operators::none().allow_users([admin_id.clone()]));
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
        .activate(AuthMode::Open, Some(Duration::from_secs(600)), "INC-1")
        .unwrap();

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
    assert_eq!(health.json["mode"], "open");
    assert!(
        health.json.get("keys").is_none(),
        "strangers get the summary"
    );
    let health = get(&app, "/api/clerk-health", Some(&setup.admin)).await;
    assert_eq!(health.json["mode"]["mode"], "open");
    assert_eq!(health.json["mode"]["reason"], "INC-1");
}

const WEBHOOK_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn webhook_secret() -> WebhookSecret {
    WebhookSecret::new(WEBHOOK_SECRET).unwrap()
}

fn unix_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// A `user.*` event about `id`, as Clerk sends it.
fn user_event(event_type: EventType, id: &str, updated_at: i64) -> Vec<u8> {
    let data = if event_type == EventType::UserDeleted {
        json!({ "object": "user", "id": id, "deleted": true })
    } else {
        json!({ "object": "user", "id": id, "updated_at": updated_at, "first_name": "Ada" })
    };
    serde_json::to_vec(&WebhookEvent::new(event_type, data, updated_at)).unwrap()
}

/// Delivers `body` as message `msg_id`, signed with `secret`.
async fn deliver(app: &Router, secret: &WebhookSecret, msg_id: &str, body: &[u8]) -> StatusCode {
    let now = unix_now();
    let request = Request::post(WEBHOOKS)
        .header("content-type", "application/json")
        .header("svix-id", msg_id)
        .header("svix-timestamp", now.to_string())
        .header("svix-signature", sign(secret, msg_id, now, body))
        .body(Body::from(body.to_vec()))
        .unwrap();
    app.clone().oneshot(request).await.unwrap().status()
}

fn app_with_webhooks(policy: AuthPolicy) -> (Router, UserSync) {
    let sync = UserSync::new(WebhookVerifier::new(webhook_secret()));
    let options = ServiceOptions {
        webhooks: Some(sync.clone()),
        ..ServiceOptions::default()
    };
    (app_with(policy, options), sync)
}

#[tokio::test]
async fn user_webhooks_keep_the_users_table() {
    let setup = setup().await;
    let (app, sync) = app_with_webhooks(setup.policy.clone());
    let secret = webhook_secret();

    let created = user_event(EventType::UserCreated, "user_42", 1_000);
    assert_eq!(
        deliver(&app, &secret, "msg_1", &created).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(sync.users().ids(), ["user_42"]);
    assert_eq!(sync.users().updated_at("user_42"), Some(1_000));

    let updated = user_event(EventType::UserUpdated, "user_42", 2_000);
    assert_eq!(
        deliver(&app, &secret, "msg_2", &updated).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(sync.users().updated_at("user_42"), Some(2_000));

    let deleted = user_event(EventType::UserDeleted, "user_42", 3_000);
    assert_eq!(
        deliver(&app, &secret, "msg_3", &deleted).await,
        StatusCode::NO_CONTENT
    );
    assert!(sync.users().is_empty());

    // A late update of the deleted user is acknowledged and changes nothing.
    let late = user_event(EventType::UserUpdated, "user_42", 2_500);
    assert_eq!(
        deliver(&app, &secret, "msg_4", &late).await,
        StatusCode::NO_CONTENT
    );
    assert!(sync.users().is_empty());
    // So is an event type the service does not use.
    let session = serde_json::to_vec(&WebhookEvent::new(
        EventType::SessionCreated,
        json!({ "object": "session", "id": "sess_1", "user_id": "user_1" }),
        1,
    ))
    .unwrap();
    assert_eq!(
        deliver(&app, &secret, "msg_5", &session).await,
        StatusCode::NO_CONTENT
    );
    assert!(sync.users().is_empty());
    assert_eq!(sync.inbox().len(), 5);
}

#[tokio::test]
async fn the_same_delivery_twice_applies_once() {
    let setup = setup().await;
    let (app, sync) = app_with_webhooks(setup.policy.clone());
    let secret = webhook_secret();

    let created = user_event(EventType::UserCreated, "user_7", 1_000);
    assert_eq!(
        deliver(&app, &secret, "msg_a", &created).await,
        StatusCode::NO_CONTENT
    );
    let deleted = user_event(EventType::UserDeleted, "user_7", 2_000);
    assert_eq!(
        deliver(&app, &secret, "msg_b", &deleted).await,
        StatusCode::NO_CONTENT
    );
    // A retry of msg_a (same svix-id) after the deletion: a duplicate, not applied. (The
    // mirror would refuse it anyway; the inbox does so without looking at the body.)
    assert_eq!(
        deliver(&app, &secret, "msg_a", &created).await,
        StatusCode::NO_CONTENT
    );
    assert!(sync.users().is_empty());
    assert_eq!(sync.inbox().len(), 2);

    // A retry of a creation that the mirror alone would apply again is caught by the inbox.
    let other = user_event(EventType::UserCreated, "user_8", 1_000);
    assert_eq!(
        deliver(&app, &secret, "msg_c", &other).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        deliver(&app, &secret, "msg_c", &other).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(sync.users().ids(), ["user_8"]);
    assert_eq!(sync.inbox().len(), 3);
}

#[tokio::test]
async fn a_bad_signature_is_400_and_changes_nothing() {
    let setup = setup().await;
    let (app, sync) = app_with_webhooks(setup.policy.clone());
    let wrong = WebhookSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();

    let created = user_event(EventType::UserCreated, "user_1", 1_000);
    assert_eq!(
        deliver(&app, &wrong, "msg_1", &created).await,
        StatusCode::BAD_REQUEST
    );
    assert!(sync.users().is_empty());
    // Not recorded either: the genuine delivery with that id still applies.
    assert!(sync.inbox().is_empty());
    assert_eq!(
        deliver(&app, &webhook_secret(), "msg_1", &created).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(sync.users().len(), 1);
}

#[tokio::test]
async fn health_shows_the_user_table() {
    let setup = setup().await;
    let (app, _sync) = app_with_webhooks(setup.policy.clone());
    let secret = webhook_secret();
    for (n, id) in ["user_1", "user_2"].into_iter().enumerate() {
        let body = user_event(EventType::UserCreated, id, 1_000);
        let status = deliver(&app, &secret, &format!("msg_{n}"), &body).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let session = user_event(EventType::UserUpdated, "user_1", 1_000);
    assert_eq!(
        deliver(&app, &secret, "msg_9", &session).await,
        StatusCode::NO_CONTENT
    );

    let response = app
        .clone()
        .oneshot(
            Request::get("/api/clerk-health")
                .header(AUTHORIZATION, format!("Bearer {}", setup.admin))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let health: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["keys"]["source"], "pinned_pem");
    assert_eq!(
        health["user_table"],
        json!({ "users": 2, "deliveries_seen": 3 })
    );
}

#[tokio::test]
async fn without_a_webhook_secret_there_is_no_endpoint_and_no_user_table() {
    let setup = setup().await;
    let app = app_with(setup.policy.clone(), ServiceOptions::default());
    let body = user_event(EventType::UserCreated, "user_1", 1_000);
    assert_eq!(
        deliver(&app, &webhook_secret(), "msg_1", &body).await,
        StatusCode::NOT_FOUND
    );
    let health = get(&app, "/api/clerk-health", None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert!(health.json.get("user_table").is_none());
}
