//! The `VerifiedWebhook` extractor against the conformance crate's webhook checks
//! (`run_webhooks`), the same in both adapters, plus actix-web's payload limit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::{App, HttpResponse, web};
use clerk_incident_actix::{VerifiedWebhook, WebhookRejectionKind};
use clerk_incident_conformance::{WEBHOOK_SECRET, WebhookDelivery, run_webhooks, webhook_view};
use clerk_incident_core::webhooks::{WebhookSecret, WebhookVerifier};

async fn handler(webhook: VerifiedWebhook) -> HttpResponse {
    HttpResponse::Ok().json(webhook_view(
        &webhook.delivery,
        &webhook.event,
        webhook.body.len(),
    ))
}

/// Serves `delivery` to a one-route app with `verifier` and, when given, a payload limit.
async fn send(
    verifier: Option<WebhookVerifier>,
    limit: Option<usize>,
    delivery: &WebhookDelivery,
) -> (StatusCode, String) {
    let mut resource = web::resource("/webhook").route(web::post().to(handler));
    if let Some(verifier) = verifier {
        resource = resource.app_data(web::Data::new(verifier));
    }
    if let Some(limit) = limit {
        resource = resource.app_data(web::PayloadConfig::new(limit));
    }
    let app = test::init_service(App::new().service(resource)).await;
    let mut request = TestRequest::post()
        .uri("/webhook")
        .insert_header(("content-type", "application/json"));
    for (name, value) in &delivery.headers {
        request = request.insert_header((name.as_str(), value.as_str()));
    }
    let request = request.set_payload(delivery.body.clone()).to_request();
    let response = test::call_service(&app, request).await;
    let status = response.status();
    let body = test::read_body(response).await;
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[actix_web::test]
async fn the_extractor_passes_the_conformance_checks() {
    run_webhooks(|verifier, delivery| async move {
        let (status, body) = send(verifier, None, &delivery).await;
        (status.as_u16(), body)
    })
    .await;
}

#[actix_web::test]
async fn a_body_over_the_limit_is_413() {
    let verifier = WebhookVerifier::new(WebhookSecret::new(WEBHOOK_SECRET).unwrap());
    let (status, body) = send(Some(verifier), Some(64), &WebhookDelivery::valid()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body, WebhookRejectionKind::TooLarge.json_body());
}
