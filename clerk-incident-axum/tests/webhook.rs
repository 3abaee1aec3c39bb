//! The `VerifiedWebhook` extractor: one table of deliveries, each with the status it gets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, to_bytes};
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use axum::{Extension, Json, Router};
use clerk_incident_axum::VerifiedWebhook;
use clerk_incident_core::webhooks::{WebhookSecret, WebhookVerifier, sign};
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const OTHER_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_2kQm4bJxN0vW8sYrT6uZ";
const BODY: &str = r#"{"object":"event","type":"user.created","timestamp":1716883200,"instance_id":"ins_1","data":{"object":"user","id":"user_1","updated_at":1716883200000}}"#;

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn secret(raw: &str) -> WebhookSecret {
    WebhookSecret::new(raw).unwrap()
}

async fn handler(webhook: VerifiedWebhook) -> Json<Value> {
    Json(json!({
        "id": webhook.delivery.id,
        "type": webhook.event.event_type.as_str(),
        "user_id": webhook.event.user_id(),
        "body_len": webhook.body.len(),
    }))
}

fn app(verifier: Option<WebhookVerifier>) -> Router {
    let router = Router::new().route("/webhook", post(handler));
    match verifier {
        Some(verifier) => router.layer(Extension(verifier)),
        None => router,
    }
}

/// A delivery: headers (name, value) and a body.
struct Delivery {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Delivery {
    /// Signed with `SECRET` at `timestamp`, in the `prefix-*` header family.
    fn signed(prefix: &str, timestamp: i64, body: &[u8]) -> Self {
        let signature = sign(&secret(SECRET), ID, timestamp, body);
        Self {
            headers: vec![
                (format!("{prefix}-id"), ID.to_owned()),
                (format!("{prefix}-timestamp"), timestamp.to_string()),
                (format!("{prefix}-signature"), signature),
            ],
            body: body.to_vec(),
        }
    }

    fn valid() -> Self {
        Self::signed("svix", now(), BODY.as_bytes())
    }

    fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(header, _)| header != name);
        self
    }

    fn with_body(mut self, body: &[u8]) -> Self {
        self.body = body.to_vec();
        self
    }

    fn request(&self) -> Request<Body> {
        let mut request = Request::post("/webhook").header("content-type", "application/json");
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        request.body(Body::from(self.body.clone())).unwrap()
    }
}

async fn send(app: Router, delivery: &Delivery) -> (StatusCode, String) {
    let response = app.oneshot(delivery.request()).await.unwrap();
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// The cases, with the status each gets when `SECRET` is configured.
fn cases() -> Vec<(&'static str, Delivery, StatusCode)> {
    let tampered = BODY.replace("user_1", "user_2");
    let not_an_event = br#"{"object":"list","data":[]}"#;
    vec![
        ("valid svix-*", Delivery::valid(), StatusCode::OK),
        (
            "valid webhook-*",
            Delivery::signed("webhook", now(), BODY.as_bytes()),
            StatusCode::OK,
        ),
        (
            "tampered body",
            Delivery::valid().with_body(tampered.as_bytes()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "missing id",
            Delivery::valid().without("svix-id"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "missing timestamp",
            Delivery::valid().without("svix-timestamp"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "missing signature",
            Delivery::valid().without("svix-signature"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "stale timestamp",
            Delivery::signed("svix", now() - 600, BODY.as_bytes()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "future timestamp",
            Delivery::signed("svix", now() + 600, BODY.as_bytes()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "signed, but not an event",
            Delivery::signed("svix", now(), not_an_event),
            StatusCode::BAD_REQUEST,
        ),
    ]
}

#[tokio::test]
async fn every_case_gets_its_status() {
    let verifier = WebhookVerifier::new(secret(SECRET));
    for (name, delivery, expected) in cases() {
        let (status, body) = send(app(Some(verifier.clone())), &delivery).await;
        assert_eq!(status, expected, "{name}: {body}");
    }
}

#[tokio::test]
async fn a_valid_delivery_reaches_the_handler_with_its_event() {
    let verifier = WebhookVerifier::new(secret(SECRET));
    let (status, body) = send(app(Some(verifier)), &Delivery::valid()).await;
    assert_eq!(status, StatusCode::OK);
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["id"], ID);
    assert_eq!(json["type"], "user.created");
    assert_eq!(json["user_id"], "user_1");
    assert_eq!(json["body_len"], BODY.len());
}

#[tokio::test]
async fn a_rotation_verifier_accepts_either_secret() {
    let verifier = WebhookVerifier::new(secret(OTHER_SECRET)).and_secret(secret(SECRET));
    let (status, _) = send(app(Some(verifier)), &Delivery::valid()).await;
    assert_eq!(status, StatusCode::OK);
    let only_other = WebhookVerifier::new(secret(OTHER_SECRET));
    let (status, _) = send(app(Some(only_other)), &Delivery::valid()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_400_body_is_fixed_and_echoes_nothing() {
    let verifier = WebhookVerifier::new(secret(SECRET));
    let mut bodies = Vec::new();
    for (name, delivery, expected) in cases() {
        if expected != StatusCode::BAD_REQUEST {
            continue;
        }
        let (_, body) = send(app(Some(verifier.clone())), &delivery).await;
        for (header, value) in &delivery.headers {
            assert!(
                !body.contains(value.as_str()),
                "{name}: {body} echoes {header}"
            );
        }
        for reason in [
            "missing",
            "too old",
            "future",
            "no webhook signature matches",
            "not a Clerk event",
            "user_",
        ] {
            assert!(!body.contains(reason), "{name}: {body} says {reason:?}");
        }
        bodies.push(body);
    }
    assert!(!bodies.is_empty());
    for body in &bodies {
        assert_eq!(
            body,
            r#"{"error":"invalid_webhook","message":"webhook signature verification failed"}"#
        );
    }
}

#[tokio::test]
async fn without_a_verifier_it_fails_closed_with_500() {
    let (status, body) = send(app(None), &Delivery::valid()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"], "webhook_not_configured");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let verifier = WebhookVerifier::new(secret(SECRET));
    let app = app(Some(verifier)).layer(DefaultBodyLimit::max(64));
    let (status, body) = send(app, &Delivery::valid()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"], "payload_too_large");
}
