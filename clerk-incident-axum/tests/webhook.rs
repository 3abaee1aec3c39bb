//! The `VerifiedWebhook` extractor against the conformance crate's `webhook_cases`: each delivery
//! gets its status, the same in both adapters.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use axum::body::{Body, to_bytes};
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use axum::{Extension, Json, Router};
use clerk_incident_axum::{VerifiedWebhook, WebhookRejectionKind};
use clerk_incident_conformance::{
    OTHER_WEBHOOK_SECRET, WEBHOOK_BODY, WEBHOOK_ID, WEBHOOK_SECRET, WebhookDelivery, webhook_cases,
};
use clerk_incident_core::webhooks::{WebhookSecret, WebhookVerifier};
use serde_json::{Value, json};
use tower::ServiceExt;

fn verifier(secret: &str) -> WebhookVerifier {
    WebhookVerifier::new(WebhookSecret::new(secret).unwrap())
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

fn request(delivery: &WebhookDelivery) -> Request<Body> {
    let mut request = Request::post("/webhook").header("content-type", "application/json");
    for (name, value) in &delivery.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    request.body(Body::from(delivery.body.clone())).unwrap()
}

async fn send(app: Router, delivery: &WebhookDelivery) -> (StatusCode, String) {
    let response = app.oneshot(request(delivery)).await.unwrap();
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn every_case_gets_its_status() {
    for case in webhook_cases() {
        let (status, body) = send(app(Some(verifier(WEBHOOK_SECRET))), &case.delivery).await;
        assert_eq!(status.as_u16(), case.status, "{}: {body}", case.name);
    }
}

#[tokio::test]
async fn a_valid_delivery_reaches_the_handler_with_its_event() {
    let (status, body) = send(
        app(Some(verifier(WEBHOOK_SECRET))),
        &WebhookDelivery::valid(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["id"], WEBHOOK_ID);
    assert_eq!(json["type"], "user.created");
    assert_eq!(json["user_id"], "user_1");
    assert_eq!(json["body_len"], WEBHOOK_BODY.len());
}

#[tokio::test]
async fn a_rotation_verifier_accepts_either_secret() {
    let both =
        verifier(OTHER_WEBHOOK_SECRET).and_secret(WebhookSecret::new(WEBHOOK_SECRET).unwrap());
    let (status, _) = send(app(Some(both)), &WebhookDelivery::valid()).await;
    assert_eq!(status, StatusCode::OK);
    let only_other = verifier(OTHER_WEBHOOK_SECRET);
    let (status, _) = send(app(Some(only_other)), &WebhookDelivery::valid()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_400_body_is_fixed_and_echoes_nothing() {
    let mut refused = 0;
    for case in webhook_cases()
        .into_iter()
        .filter(|case| case.status == 400)
    {
        let (_, body) = send(app(Some(verifier(WEBHOOK_SECRET))), &case.delivery).await;
        assert_eq!(case.delivery.echo_in(&body), None, "{}: {body}", case.name);
        assert_eq!(
            body,
            WebhookRejectionKind::Invalid.json_body(),
            "{}",
            case.name
        );
        refused += 1;
    }
    assert!(refused > 5);
}

#[tokio::test]
async fn without_a_verifier_it_fails_closed_with_500() {
    let (status, body) = send(app(None), &WebhookDelivery::valid()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, WebhookRejectionKind::NotConfigured.json_body());
}
#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = app(Some(verifier(WEBHOOK_SECRET))).layer(DefaultBodyLimit::max(64));
    let (status, body) = send(app, &WebhookDelivery::valid()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body, WebhookRejectionKind::TooLarge.json_body());
}
