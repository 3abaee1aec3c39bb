//! The health endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use clerk_incident_axum::{BypassHeaderLayer, ClerkAuthLayer, HEALTH_PATH, health_router};
use clerk_incident_core::auth::{
    AuthPolicy, BypassSwitch, FrontendApiJwks, HealthToken, JwksCache, JwksCacheConfig, KeySource,
    Verifier, VerifierConfig,
};
use clerk_incident_core::http::ReqwestClient;

use support::{Setup, get as request, send};

const HEALTH_TOKEN: &str = "a-health-token-for-the-monitoring";

#[tokio::test]
async fn health_shows_strangers_a_summary_and_token_holders_the_details() {
    let setup = Setup::start().await;
    let policy = setup
        .policy
        .clone()
        .with_health_token(HealthToken::new(HEALTH_TOKEN).unwrap());
    let app = Router::new()
        .route("/me", get(|| async { "me" }))
        .route_layer(ClerkAuthLayer::new(policy.clone()))
        .merge(health_router(policy))
        .layer(BypassHeaderLayer::new(setup.switch().clone()));
    assert_eq!(HEALTH_PATH, "/api/clerk-health");

    let _ = send(app.clone(), request("/me", Some(&setup.admin_token))).await;
    let _ = send(app.clone(), request("/me", None)).await;
    let reply = send(app.clone(), request(HEALTH_PATH, None)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(
        reply.json(),
        serde_json::json!({"status": "ok", "mode": "enforce", "ready": true})
    );

    let reply = send(app.clone(), request(HEALTH_PATH, Some(HEALTH_TOKEN))).await;
    let health = reply.json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["ready"], true);
    assert_eq!(health["mode"]["mode"], "enforce");
    assert_eq!(health["keys"]["source"], "pinned_pem");
    assert_eq!(health["counters"]["verified"], 1);
    assert_eq!(health["counters"]["rejected"]["missing"], 1);

    setup.open();
    let reply = send(app.clone(), request(HEALTH_PATH, None)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-auth-bypass"), Some("true"));
    let health = reply.json();
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["mode"], "open");
    assert!(health.get("reason").is_none() && health.get("keys").is_none());
    // The problem is named in fixed words, never with the operator's reason.
    assert_eq!(health["problem"], "the open bypass is on");
    let details = send(app, request(HEALTH_PATH, Some(HEALTH_TOKEN)))
        .await
        .json();
    assert_eq!(details["mode"]["mode"], "open");
    assert_eq!(details["mode"]["reason"], "test");
}

#[tokio::test]
async fn health_is_a_503_when_no_key_is_usable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        closed.local_addr().unwrap()
    );
    drop(closed);
    let jwks = JwksCache::new(
        FrontendApiJwks::new(Arc::new(ReqwestClient::new().unwrap()), url),
        JwksCacheConfig::default(),
    );
    let policy = AuthPolicy::new(
        Verifier::new(KeySource::Jwks(jwks), VerifierConfig::default()),
        BypassSwitch::new(),
    );
    let app = Router::new()
        .route("/me", get(|| async { "me" }))
        .route_layer(ClerkAuthLayer::new(policy.clone()))
        .merge(health_router(policy));

    // A token makes the verifier fetch keys, which fails.
    let setup = Setup::start().await;
    let refused = send(app.clone(), request("/me", Some(&setup.admin_token))).await;
    assert_eq!(refused.status, 503);
    assert_eq!(refused.header("retry-after"), Some("5"));

    let reply = send(app, request(HEALTH_PATH, None)).await;
    assert_eq!(reply.status, 503);
    let health = reply.json();
    assert_eq!(health["status"], "unavailable");
    assert_eq!(health["ready"], false);
    // Why, in words to act on, and without the URL.
    assert_eq!(
        health["problem"],
        "no verification key: the JWKS endpoint could not be reached from this service (network, DNS, TLS or proxy)"
    );
}
