//! The `VerifiedWebhook` extractor against the conformance crate's webhook checks
//! (`run_webhooks`), the same in both adapters, plus axum's body limit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use axum::body::{Body, to_bytes};
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use axum::{Extension, Json, Router};
use clerk_incident_axum::{VerifiedWebhook, WebhookRejectionKind};
use clerk_incident_conformance::{WEBHOOK_SECRET, WebhookDelivery, run_webhooks, webhook_view};
use clerk_incident_core::webhooks::{WebhookSecret, WebhookVerifier};
use serde_json::Value;
use tower::ServiceExt;

async fn handler(webhook: VerifiedWebhook) -> Json<Value> {
    Json(webhook_view(
        &webhook.delivery,
        &webhook.event,
        webhook.body.len(),
    ))
}

fn app(verifier: Option<WebhookVerifier>) -> Router {
    let router = Router::new().route("/webhook", post(handler));
    match verifier {
        Some(verifier) => router.layer(Extension(verifier)),
        None => router,
    }
}

async fn send(app: Router, delivery: &WebhookDelivery) -> (StatusCode, String) {
    let mut request = Request::post("/webhook").header("content-type", "application/json");
    for (name, value) in &delivery.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request.body(Body::from(delivery.body.clone())).unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn the_extractor_passes_the_conformance_checks() {
    run_webhooks(|verifier, delivery| async move {
        let (status, body) = send(app(verifier), &delivery).await;
        (status.as_u16(), body)
    })
    .await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let verifier = WebhookVerifier::new(WebhookSecret::new(WEBHOOK_SECRET).unwrap());
    let app = app(Some(verifier)).layer(DefaultBodyLimit::max(64));
    let (status, body) = send(app, &WebhookDelivery::valid()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body, WebhookRejectionKind::TooLarge.json_body());
}
