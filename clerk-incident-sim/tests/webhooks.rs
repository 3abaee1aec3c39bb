//! Webhook delivery (Svix-signed Clerk events) and the user admin API that produces it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clerk_incident_sim::{DEFAULT_WEBHOOK_SECRET, Delivery, NewUser, Sim, SimError, UserPatch};
use common::{NOW, assert_clerk_error, assert_user, builder, client, get, get_json, ids};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// One request the receiver saw.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).unwrap().to_str().unwrap()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
struct ReceiverState {
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
}

/// A webhook receiver on 127.0.0.1:0 that records every POST to `/hook`.
struct Receiver {
    addr: SocketAddr,
    state: ReceiverState,
}

impl Receiver {
    async fn start() -> Self {
        let state = ReceiverState::default();
        state.status.store(204, Ordering::SeqCst);
        let app = Router::new()
            .route("/hook", post(record))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, state }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn answer_with(&self, status: u16) {
        self.state.status.store(status, Ordering::SeqCst);
    }

    fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }
}

async fn record(State(state): State<ReceiverState>, headers: HeaderMap, body: Bytes) -> AxumStatus {
    state
        .received
        .lock()
        .unwrap()
        .push(Received { headers, body });
    AxumStatus::from_u16(state.status.load(Ordering::SeqCst)).unwrap()
}

/// The receiver's side of Svix: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
fn expected_signature(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let key_bytes = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key_bytes);
    let mut signed = format!("{id}.{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    format!("v1,{}", STANDARD.encode(hmac::sign(&key, &signed).as_ref()))
}

/// Asserts the Svix headers of a delivery and its signature under `secret`.
fn assert_signed(received: &Received, secret: &str) {
    assert_eq!(received.header("content-type"), "application/json");
    let id = received.header("svix-id");
    assert!(id.starts_with("msg_"), "{id}");
    let timestamp = received.header("svix-timestamp");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let sent: u64 = timestamp.parse().unwrap();
    assert!(
        sent.abs_diff(now) <= 300,
        "svix-timestamp uses the real clock"
    );
    assert_eq!(
        received.header("svix-signature"),
        expected_signature(secret, id, timestamp, &received.body)
    );
}

/// Asserts Clerk's envelope around `data`.
fn assert_envelope(event: &Value, kind: &str, sim: &Sim) {
    let object = event.as_object().unwrap();
    let mut members: Vec<&str> = object.keys().map(String::as_str).collect();
    members.sort_unstable();
    assert_eq!(
        members,
        [
            "data",
            "event_attributes",
            "instance_id",
            "object",
            "timestamp",
            "type"
        ]
    );
    assert_eq!(event["object"], "event");
    assert_eq!(event["type"], kind);
    assert_eq!(event["instance_id"], sim.instance_id());
    let timestamp = event["timestamp"].as_i64().unwrap();
    assert!(
        (NOW..NOW + 60_000).contains(&timestamp),
        "sim clock, Unix ms"
    );
    assert_eq!(
        event["event_attributes"],
        json!({"http_request": {"client_ip": "127.0.0.1", "user_agent": "clerk-incident-sim"}})
    );
}

fn new_user(first_name: &str) -> NewUser {
    NewUser {
        first_name: first_name.to_owned(),
        last_name: "Tester".to_owned(),
        email_address: format!("{}@example.com", first_name.to_lowercase()),
    }
}

#[test]
fn the_test_verifier_matches_the_svix_vector() {
    assert_eq!(
        expected_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            br#"{"test": 2432232314}"#
        ),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
}

#[tokio::test]
async fn create_update_delete_each_deliver_one_signed_event() {
    let receiver = Receiver::start().await;
    let sim = builder()
        .users(5)
        .sessions(5)
        .webhook_endpoint(receiver.url())
        .start()
        .await
        .unwrap();
    assert_eq!(sim.webhook_secret(), DEFAULT_WEBHOOK_SECRET);
    let users_before = sim.users().len();

    // user.created
    let (user, delivery) = sim.create_user(new_user("Ada")).await.unwrap();
    assert_eq!(delivery, Delivery::Delivered { status: 204 });
    assert!(user.id.starts_with("user_"));
    assert_eq!(user.created_at, user.updated_at);
    assert!(sim.sessions().iter().all(|s| s.user_id != user.id));
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_signed(&received[0], DEFAULT_WEBHOOK_SECRET);
    let event = received[0].json();
    assert_envelope(&event, "user.created", &sim);
    let fetched = get_json(&sim, &format!("/v1/users/{}", user.id), StatusCode::OK).await;
    assert_user(&fetched);
    assert_eq!(event["data"], fetched);
    assert_eq!(fetched["first_name"], "Ada");
    assert_eq!(
        fetched["email_addresses"][0]["email_address"],
        "ada@example.com"
    );
    assert_eq!(sim.users().len(), users_before + 1);
    assert_eq!(sim.users()[0].id, user.id, "the newest user");

    // user.updated
    let patch = UserPatch {
        last_name: Some("Lovelace".to_owned()),
        ..UserPatch::default()
    };
    let (updated, delivery) = sim.update_user(&user.id, patch).await.unwrap();
    assert_eq!(delivery, Delivery::Delivered { status: 204 });
    assert!(updated.updated_at > user.updated_at);
    assert_eq!(updated.created_at, user.created_at);
    assert_eq!(updated.first_name, "Ada");
    assert_eq!(updated.last_name, "Lovelace");
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    assert_signed(&received[1], DEFAULT_WEBHOOK_SECRET);
    let event = received[1].json();
    assert_envelope(&event, "user.updated", &sim);
    let fetched = get_json(&sim, &format!("/v1/users/{}", user.id), StatusCode::OK).await;
    assert_eq!(event["data"], fetched);
    assert_eq!(fetched["last_name"], "Lovelace");
    assert_eq!(fetched["updated_at"], updated.updated_at);

    // user.deleted
    let delivery = sim.delete_user(&user.id).await.unwrap();
    assert_eq!(delivery, Delivery::Delivered { status: 204 });
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert_signed(&received[2], DEFAULT_WEBHOOK_SECRET);
    let event = received[2].json();
    assert_envelope(&event, "user.deleted", &sim);
    assert_eq!(
        event["data"],
        json!({"object": "user", "id": user.id, "deleted": true})
    );
    let missing = get_json(
        &sim,
        &format!("/v1/users/{}", user.id),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_clerk_error(&missing, "resource_not_found");
    let listed = get_json(&sim, "/v1/users?limit=500", StatusCode::OK).await;
    assert!(!ids(&listed).contains(&user.id));
    let count = get_json(&sim, "/v1/users/count", StatusCode::OK).await;
    assert_eq!(count["total_count"], users_before);

    let message_ids: HashSet<&str> = received.iter().map(|r| r.header("svix-id")).collect();
    assert_eq!(message_ids.len(), 3, "one svix-id per delivery");
    let counters = sim.counters();
    assert_eq!(
        (
            counters.webhooks_delivered,
            counters.webhooks_dropped,
            counters.webhooks_failed
        ),
        (3, 0, 0)
    );
}

#[tokio::test]
async fn updated_at_rises_on_every_update() {
    let sim = builder().users(3).start().await.unwrap();
    let id = sim.users()[2].id.clone();
    let mut previous = sim.users()[2].updated_at;
    for round in 0..3 {
        let patch = UserPatch {
            first_name: Some(format!("Name{round}")),
            ..UserPatch::default()
        };
        let (user, delivery) = sim.update_user(&id, patch).await.unwrap();
        assert_eq!(delivery, Delivery::NotConfigured);
        assert!(user.updated_at > previous);
        previous = user.updated_at;
    }
}

#[tokio::test]
async fn deleting_a_user_removes_their_sessions() {
    let sim = builder().users(10).sessions(20).start().await.unwrap();
    let admin = sim.admin_user_id().unwrap();
    assert!(sim.sessions().iter().any(|s| s.user_id == admin));
    assert_eq!(
        sim.delete_user(&admin).await.unwrap(),
        Delivery::NotConfigured
    );
    assert!(sim.sessions().iter().all(|s| s.user_id != admin));
    assert!(sim.users().iter().all(|u| u.id != admin));
    let sessions = get_json(
        &sim,
        &format!("/v1/sessions?user_id={admin}"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(sessions, json!([]));
    assert!(matches!(
        sim.delete_user(&admin).await,
        Err(SimError::UnknownUser { .. })
    ));
}

#[tokio::test]
async fn dropped_deliveries_are_counted_and_never_sent() {
    let receiver = Receiver::start().await;
    let sim = builder()
        .users(2)
        .webhook_endpoint(receiver.url())
        .start()
        .await
        .unwrap();
    sim.drop_webhooks(3);
    let mut outcomes = Vec::new();
    for name in ["A", "B", "C", "D", "E"] {
        outcomes.push(sim.create_user(new_user(name)).await.unwrap().1);
    }
    assert_eq!(
        outcomes,
        [
            Delivery::Dropped,
            Delivery::Dropped,
            Delivery::Dropped,
            Delivery::Delivered { status: 204 },
            Delivery::Delivered { status: 204 },
        ]
    );
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].json()["data"]["first_name"], "D");
    let counters = sim.counters();
    assert_eq!(counters.webhooks_dropped, 3);
    assert_eq!(counters.webhooks_delivered, 2);
    assert_eq!(counters.webhooks_failed, 0);
}

#[tokio::test]
async fn refused_and_unreachable_deliveries_count_as_failed() {
    let receiver = Receiver::start().await;
    receiver.answer_with(500);
    let sim = builder()
        .users(2)
        .webhook_endpoint(receiver.url())
        .start()
        .await
        .unwrap();
    let (_, delivery) = sim.create_user(new_user("Fail")).await.unwrap();
    assert_eq!(
        delivery,
        Delivery::Failed {
            reason: "status 500".to_owned()
        }
    );
    assert_eq!(receiver.received().len(), 1, "a single attempt");

    // A port nobody listens on any more.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    sim.set_webhook_endpoint(Some(format!("http://{closed_addr}/hook")))
        .unwrap();
    let (_, delivery) = sim.create_user(new_user("Gone")).await.unwrap();
    let Delivery::Failed { reason } = delivery else {
        panic!("expected a failure, got {delivery:?}");
    };
    assert!(!reason.contains(DEFAULT_WEBHOOK_SECRET));

    let counters = sim.counters();
    assert_eq!(counters.webhooks_failed, 2);
    assert_eq!(counters.webhooks_delivered, 0);
}

#[tokio::test]
async fn without_an_endpoint_nothing_is_sent() {
    let sim = builder().users(2).start().await.unwrap();
    assert_eq!(sim.webhook_endpoint(), None);
    sim.drop_webhooks(1);
    let (user, delivery) = sim.create_user(NewUser::default()).await.unwrap();
    assert_eq!(delivery, Delivery::NotConfigured);
    assert_eq!(
        user.email_address,
        format!("{}@example.com", user.id.to_lowercase())
    );
    let counters = sim.counters();
    assert_eq!(
        (
            counters.webhooks_delivered,
            counters.webhooks_dropped,
            counters.webhooks_failed
        ),
        (0, 0, 0)
    );
    assert!(matches!(
        sim.update_user("user_missing", UserPatch::default()).await,
        Err(SimError::UnknownUser { .. })
    ));
    assert!(matches!(
        sim.create_user(NewUser {
            email_address: "not-an-email".to_owned(),
            ..NewUser::default()
        })
        .await,
        Err(SimError::InvalidUser { .. })
    ));
    assert!(
        sim.set_webhook_endpoint(Some("ftp://x".to_owned()))
            .is_err()
    );
    assert!(sim.set_webhook_secret("whsec_***").is_err());
}

async fn send(method: reqwest::Method, url: String, body: Option<Value>) -> (StatusCode, String) {
    let request = client().request(method, url);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn control_api_configures_webhooks_and_changes_users() {
    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let receiver = Receiver::start().await;
    let sim = builder().users(3).start().await.unwrap();
    let base = sim.base_url().to_owned();
    let hooks = format!("{base}/_sim/webhooks");

    let (status, body) = send(reqwest::Method::GET, hooks.clone(), None).await;
    assert_eq!(status, StatusCode::OK);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        json!({"endpoint": null, "drop_next": 0, "delivered": 0, "dropped": 0, "failed": 0})
    );

    let wanted = json!({"endpoint": receiver.url(), "secret": SECRET, "drop_next": 1});
    let (status, text) = send(reqwest::Method::PUT, hooks.clone(), Some(wanted)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(!text.contains(SECRET) && !text.contains("whsec_"));
    assert_eq!(sim.webhook_secret(), SECRET);
    assert_eq!(sim.webhook_endpoint(), Some(receiver.url()));

    for bad in [
        json!({"endpoint": "ftp://example.com/"}),
        json!({"endpoint": "not a url"}),
        json!({"secret": "whsec_sup3r*s3cret!"}),
        json!({"drop_next": -1}),
        json!({"unknown": 1}),
    ] {
        let (status, text) = send(reqwest::Method::PUT, hooks.clone(), Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(!text.contains("sup3r"), "{text}");
        assert!(serde_json::from_str::<Value>(&text).unwrap()["error"].is_string());
    }
    assert_eq!(sim.webhook_secret(), SECRET, "bad input changes nothing");

    // The first change is dropped, the second delivered.
    let users = format!("{base}/_sim/users");
    let (status, text) = send(
        reqwest::Method::POST,
        users.clone(),
        Some(json!({"first_name": "Grace", "last_name": "Hopper", "email_address": "grace@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    assert_user(&created["user"]);
    assert_eq!(created["webhook"], json!({"outcome": "dropped"}));
    let id = created["user"]["id"].as_str().unwrap().to_owned();
    assert!(receiver.received().is_empty());

    let (status, text) = send(
        reqwest::Method::PATCH,
        format!("{users}/{id}"),
        Some(json!({"first_name": "Rear Admiral"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let updated: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        updated["webhook"],
        json!({"outcome": "delivered", "status": 204})
    );
    assert_eq!(updated["user"]["first_name"], "Rear Admiral");
    assert!(
        updated["user"]["updated_at"].as_i64().unwrap()
            > created["user"]["updated_at"].as_i64().unwrap()
    );
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_signed(&received[0], SECRET);
    assert_eq!(received[0].json()["type"], "user.updated");
    assert_eq!(received[0].json()["data"], updated["user"]);

    let (status, text) = send(reqwest::Method::DELETE, format!("{users}/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"deleted": true, "id": id, "webhook": {"outcome": "delivered", "status": 204}})
    );
    assert_eq!(
        get(&sim, &format!("/v1/users/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );

    for (method, body) in [
        (reqwest::Method::PATCH, Some(json!({"first_name": "X"}))),
        (reqwest::Method::DELETE, None),
    ] {
        let (status, text) = send(method, format!("{users}/user_missing"), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_clerk_error(&serde_json::from_str(&text).unwrap(), "resource_not_found");
    }
    let (status, _) = send(
        reqwest::Method::POST,
        users.clone(),
        Some(json!({"email_address": "nope"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, text) = send(reqwest::Method::GET, hooks.clone(), None).await;
    assert!(!text.contains("whsec_"));
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"endpoint": receiver.url(), "drop_next": 0, "delivered": 2, "dropped": 1, "failed": 0})
    );
    let (_, text) = send(reqwest::Method::GET, format!("{base}/_sim/counters"), None).await;
    let counters: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(counters["webhooks_delivered"], 2);
    assert_eq!(counters["webhooks_dropped"], 1);
    assert_eq!(counters["webhooks_failed"], 0);

    // Removing the endpoint.
    let (status, _) = send(
        reqwest::Method::PUT,
        hooks.clone(),
        Some(json!({"endpoint": null})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, text) = send(reqwest::Method::POST, users, Some(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let created: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(created["webhook"], json!({"outcome": "not_configured"}));
}

#[tokio::test]
async fn debug_never_shows_the_webhook_secret() {
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let builder = builder()
        .users(1)
        .webhook_secret(SECRET)
        .webhook_endpoint("http://127.0.0.1:9/hook");
    let debug = format!("{builder:?}");
    assert!(!debug.contains("MfKQ9r8"), "{debug}");
    assert!(debug.contains("127.0.0.1:9"));
    let sim = builder.start().await.unwrap();
    assert!(!format!("{sim:?}").contains("MfKQ9r8"));
    let error = sim.set_webhook_secret("whsec_MfKQ9r8!!").unwrap_err();
    assert!(!format!("{error}").contains("MfKQ9r8"));
    assert!(!format!("{error:?}").contains("MfKQ9r8"));

    let bad = common::builder()
        .webhook_secret("whsec_MfKQ9r8!!")
        .start()
        .await
        .unwrap_err();
    assert!(!format!("{bad:?}").contains("MfKQ9r8"));
    let bad = common::builder()
        .webhook_endpoint("mailto:someone@example.com")
        .start()
        .await;
    assert!(matches!(bad, Err(SimError::InvalidConfig { .. })));
}
