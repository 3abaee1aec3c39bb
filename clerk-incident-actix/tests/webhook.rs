//! The `VerifiedWebhook` extractor: one table of deliveries, each with the status it gets (the
//! same table as clerk-incident-axum's `tests/webhook.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::{App, HttpResponse, web};
use clerk_incident_actix::VerifiedWebhook;
use clerk_incident_core::webhooks::{WebhookSecret, WebhookVerifier, sign};
use serde_json::{Value, json};

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

async fn handler(webhook: VerifiedWebhook) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "id": webhook.delivery.id,
        "type": webhook.event.event_type.as_str(),
        "user_id": webhook.event.user_id(),
        "body_len": webhook.body.len(),
    }))
}

/// The app's configuration: the verifier (if any) and the payload limit.
struct Config {
    verifier: Option<WebhookVerifier>,
    limit: Option<usize>,
}

fn app(verifier: Option<WebhookVerifier>) -> Config {
    Config {
        verifier,
        limit: None,
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

    fn request(&self) -> TestRequest {
        let mut request = TestRequest::post()
            .uri("/webhook")
            .insert_header(("content-type", "application/json"));
        for (name, value) in &self.headers {
            request = request.insert_header((name.as_str(), value.as_str()));
        }
        request.set_payload(self.body.clone())
    }
}

async fn send(config: Config, delivery: &Delivery) -> (StatusCode, String) {
    let mut resource = web::resource("/webhook").route(web::post().to(handler));
    if let Some(verifier) = config.verifier {
        resource = resource.app_data(web::Data::new(verifier));
    }
    if let Some(limit) = config.limit {
        resource = resource.app_data(web::PayloadConfig::new(limit));
    }
    let app = test::init_service(App::new().service(resource)).await;
    let response = test::call_service(&app, delivery.request().to_request()).await;
    let status = response.status();
    let body = test::read_body(response).await;
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

#[actix_web::test]
async fn every_case_gets_its_status() {
    let verifier = WebhookVerifier::new(secret(SECRET));
    for (name, delivery, expected) in cases() {
        let (status, body) = send(app(Some(verifier.clone())), &delivery).await;
        assert_eq!(status, expected, "{name}: {body}");
    }
}

#[actix_web::test]
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

#[actix_web::test]
async fn a_rotation_verifier_accepts_either_secret() {
    let verifier = WebhookVerifier::new(secret(OTHER_SECRET)).and_secret(secret(SECRET));
    let (status, _) = send(app(Some(verifier)), &Delivery::valid()).await;
    assert_eq!(status, StatusCode::OK);
    let only_other = WebhookVerifier::new(secret(OTHER_SECRET));
    let (status, _) = send(app(Some(only_other)), &Delivery::valid()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
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

#[actix_web::test]
async fn without_a_verifier_it_fails_closed_with_500() {
    let (status, body) = send(app(None), &Delivery::valid()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"], "webhook_not_configured");
}

#[actix_web::test]
async fn a_body_over_the_limit_is_413() {
    let verifier = WebhookVerifier::new(secret(SECRET));
    let app = Config {
        verifier: Some(verifier),
        limit: Some(64),
    };
    let (status, body) = send(app, &Delivery::valid()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"], "payload_too_large");
}
