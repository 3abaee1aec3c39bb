//! The example app against a simulated Clerk, through `actix_web::test` (no socket).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use actix_service_example::{ServiceOptions, UserSync, WEBHOOKS, app_with};
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::test::{self, TestRequest};
use clerk_incident_actix::core::auth::{AuthMode, AuthPolicy, ENV_HEALTH_TOKEN, ENV_JWT_KEY};
use clerk_incident_actix::core::webhooks::{
    EventType, WebhookEvent, WebhookSecret, WebhookVerifier, sign,
};
use clerk_incident_sim::{OrgRole, Sim, TokenRequest};
use serde_json::{Value, json};

/// The health token the test service is configured with.
const HEALTH_TOKEN: &str = "health-token-of-the-actix-example";

struct Setup {
    sim: Sim,
    policy: AuthPolicy,
}

async fn setup() -> Setup {
    let sim = Sim::builder().start().await.expect("the sim starts");
    let pem = sim.public_key_pem().to_owned();
    let policy = AuthPolicy::from_vars(|name| match name {
        ENV_JWT_KEY => Some(pem.clone()),
        ENV_HEALTH_TOKEN => Some(HEALTH_TOKEN.to_owned()),
        _ => None,
    })
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
    switch
        .activate(AuthMode::Open, Some(Duration::from_secs(600)), "INC-42")
        .unwrap();

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
async fn health_is_public_and_its_details_need_the_token() {
    let setup = setup().await;
    let app = test::init_service(actix_service_example::app(setup.policy.clone())).await;
    let (status, _, body) = send(&app, request("/api/clerk-health", None).to_request()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"status": "ok", "mode": "enforce", "ready": true})
    );
    let with_token = request("/api/clerk-health", Some(HEALTH_TOKEN)).to_request();
    let (status, _, body) = send(&app, with_token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["keys"]["source"], "pinned_pem");
    // Another bearer value gets the summary.
    let guess = request("/api/clerk-health", Some("x".repeat(33).as_str())).to_request();
    let (_, _, body) = send(&app, guess).await;
    assert!(body.get("keys").is_none());
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

/// A delivery of `body` as message `msg_id`, signed with `secret`.
fn signed(secret: &WebhookSecret, msg_id: &str, body: &[u8]) -> TestRequest {
    let now = unix_now();
    TestRequest::post()
        .uri(WEBHOOKS)
        .insert_header(("content-type", "application/json"))
        .insert_header(("svix-id", msg_id))
        .insert_header(("svix-timestamp", now.to_string()))
        .insert_header(("svix-signature", sign(secret, msg_id, now, body)))
        .set_payload(body.to_vec())
}

/// The status `request` gets.
async fn status<S, R, B>(app: &S, request: R) -> StatusCode
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    test::call_service(app, request).await.status()
}

fn options_with_webhooks() -> (ServiceOptions, UserSync) {
    let sync = UserSync::new(WebhookVerifier::new(webhook_secret()));
    let options = ServiceOptions {
        webhooks: Some(sync.clone()),
        ..ServiceOptions::default()
    };
    (options, sync)
}

#[actix_web::test]
async fn user_webhooks_keep_the_users_table() {
    let setup = setup().await;
    let (options, sync) = options_with_webhooks();
    let app = test::init_service(app_with(setup.policy.clone(), options)).await;
    let secret = webhook_secret();

    let created = user_event(EventType::UserCreated, "user_42", 1_000);
    assert_eq!(
        status(&app, signed(&secret, "msg_1", &created).to_request()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(sync.users().ids(), ["user_42"]);
    assert_eq!(sync.users().updated_at("user_42"), Some(1_000));

    let updated = user_event(EventType::UserUpdated, "user_42", 2_000);
    assert_eq!(
        status(&app, signed(&secret, "msg_2", &updated).to_request()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(sync.users().updated_at("user_42"), Some(2_000));

    let deleted = user_event(EventType::UserDeleted, "user_42", 3_000);
    assert_eq!(
        status(&app, signed(&secret, "msg_3", &deleted).to_request()).await,
        StatusCode::NO_CONTENT
    );
    assert!(sync.users().is_empty());

    // A late update of the deleted user is acknowledged and changes nothing.
    let late = user_event(EventType::UserUpdated, "user_42", 2_500);
    assert_eq!(
        status(&app, signed(&secret, "msg_4", &late).to_request()).await,
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
        status(&app, signed(&secret, "msg_5", &session).to_request()).await,
        StatusCode::NO_CONTENT
    );
    assert!(sync.users().is_empty());
    assert_eq!(sync.inbox().len(), 5);
}

#[actix_web::test]
async fn the_same_delivery_twice_applies_once() {
    let setup = setup().await;
    let (options, sync) = options_with_webhooks();
    let app = test::init_service(app_with(setup.policy.clone(), options)).await;
    let secret = webhook_secret();

    let created = user_event(EventType::UserCreated, "user_7", 1_000);
    assert_eq!(
        status(&app, signed(&secret, "msg_a", &created).to_request()).await,
        StatusCode::NO_CONTENT
    );
    let deleted = user_event(EventType::UserDeleted, "user_7", 2_000);
    assert_eq!(
        status(&app, signed(&secret, "msg_b", &deleted).to_request()).await,
        StatusCode::NO_CONTENT
    );
    // A retry of msg_a (same svix-id) after the deletion: a duplicate, not applied.
    assert_eq!(
        status(&app, signed(&secret, "msg_a", &created).to_request()).await,
        StatusCode::NO_CONTENT
    );
    assert!(sync.users().is_empty());
    assert_eq!(sync.inbox().len(), 2);

    let other = user_event(EventType::UserCreated, "user_8", 1_000);
    assert_eq!(
        status(&app, signed(&secret, "msg_c", &other).to_request()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        status(&app, signed(&secret, "msg_c", &other).to_request()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(sync.users().ids(), ["user_8"]);
    assert_eq!(sync.inbox().len(), 3);
}

#[actix_web::test]
async fn a_bad_signature_is_400_and_changes_nothing() {
    let setup = setup().await;
    let (options, sync) = options_with_webhooks();
    let app = test::init_service(app_with(setup.policy.clone(), options)).await;
    let wrong = WebhookSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();

    let created = user_event(EventType::UserCreated, "user_1", 1_000);
    assert_eq!(
        status(&app, signed(&wrong, "msg_1", &created).to_request()).await,
        StatusCode::BAD_REQUEST
    );
    assert!(sync.users().is_empty());
    // Not recorded either: the genuine delivery with that id still applies.
    assert!(sync.inbox().is_empty());
    assert_eq!(
        status(
            &app,
            signed(&webhook_secret(), "msg_1", &created).to_request()
        )
        .await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(sync.users().len(), 1);
}

#[actix_web::test]
async fn health_shows_the_user_table() {
    let setup = setup().await;
    let (options, _sync) = options_with_webhooks();
    let app = test::init_service(app_with(setup.policy.clone(), options)).await;
    let secret = webhook_secret();
    for (n, id) in ["user_1", "user_2"].into_iter().enumerate() {
        let body = user_event(EventType::UserCreated, id, 1_000);
        let status = status(
            &app,
            signed(&secret, &format!("msg_{n}"), &body).to_request(),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let update = user_event(EventType::UserUpdated, "user_1", 1_000);
    assert_eq!(
        status(&app, signed(&secret, "msg_9", &update).to_request()).await,
        StatusCode::NO_CONTENT
    );

    let health = request("/api/clerk-health", Some(HEALTH_TOKEN)).to_request();
    let response = test::call_service(&app, health).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let health: Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["keys"]["source"], "pinned_pem");
    assert_eq!(
        health["user_table"],
        json!({ "users": 2, "deliveries_seen": 3 })
    );
}

#[actix_web::test]
async fn without_a_webhook_secret_there_is_no_endpoint_and_no_user_table() {
    let setup = setup().await;
    let app = test::init_service(app_with(setup.policy.clone(), ServiceOptions::default())).await;
    let body = user_event(EventType::UserCreated, "user_1", 1_000);
    let status = status(&app, signed(&webhook_secret(), "msg_1", &body).to_request()).await;
    // Without the resource the path falls into the protected `/api` scope, whose
    // middleware refuses an anonymous request before the scope finds no route.
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, health) = send(&app, request("/api/clerk-health", None).to_request()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(health.get("user_table").is_none());
}
