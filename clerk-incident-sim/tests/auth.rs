//! Secret key checks of the Backend API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use clerk_incident_sim::{DEFAULT_SECRET_KEY, endpoint};
use common::{assert_clerk_error, builder, get_with_key};
use reqwest::StatusCode;

async fn expect_401(sim: &clerk_incident_sim::Sim, key: Option<&str>) {
    let response = get_with_key(sim, "/v1/users?limit=1", key).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let text = response.text().await.unwrap();
    if let Some(key) = key {
        assert!(!text.contains(key), "the 401 body echoes the key");
    }
    assert_clerk_error(&serde_json::from_str(&text).unwrap(), "clerk_key_invalid");
}

#[tokio::test]
async fn missing_malformed_and_unknown_keys_get_401() {
    let sim = builder().start().await.unwrap();
    assert_eq!(sim.secret_key(), DEFAULT_SECRET_KEY);
    expect_401(&sim, None).await;
    expect_401(&sim, Some("sk_test_wrongwrongwrongwrong")).await;
    let response = common::client()
        .get(format!("{}/v1/instance", sim.base_url()))
        .header("authorization", format!("Basic {}", sim.secret_key()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let counters = sim.counters();
    assert_eq!(counters.unauthorized, 3);
    assert_eq!(
        counters.get(endpoint::LIST_USERS),
        2,
        "401s are counted per endpoint"
    );
}

#[tokio::test]
async fn added_keys_work_and_revoked_keys_stop_working() {
    let sim = builder()
        .secret_key("sk_live_originaloriginal")
        .start()
        .await
        .unwrap();
    let response = get_with_key(&sim, "/v1/instance", Some(sim.secret_key())).await;
    assert_eq!(response.status(), StatusCode::OK);
    let instance: serde_json::Value = response.json().await.unwrap();
    assert_eq!(instance["environment_type"], "production");

    let new_key = "sk_live_rotatedrotatedrotated";
    expect_401(&sim, Some(new_key)).await;
    sim.add_secret_key(new_key);
    assert_eq!(
        get_with_key(&sim, "/v1/users", Some(new_key))
            .await
            .status(),
        StatusCode::OK
    );

    sim.revoke_secret_key(sim.secret_key());
    expect_401(&sim, Some("sk_live_originaloriginal")).await;
    assert_eq!(
        get_with_key(&sim, "/v1/users", Some(new_key))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_frontend_jwks_and_status_page_need_no_key() {
    let sim = builder().start().await.unwrap();
    for path in ["/.well-known/jwks.json", "/proxy/status.clerk.com"] {
        assert_eq!(
            get_with_key(&sim, path, None).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
    assert_eq!(
        get_with_key(&sim, "/v1/jwks", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn debug_output_redacts_the_secret_key() {
    let builder = builder().secret_key("sk_test_verysecretverysecret");
    assert!(!format!("{builder:?}").contains("verysecret"));
}

#[tokio::test]
async fn sim_debug_output_redacts_the_secret_key() {
    let sim = builder()
        .secret_key("sk_test_verysecretverysecret")
        .start()
        .await
        .unwrap();
    let debug = format!("{sim:?}");
    assert!(!debug.contains("verysecret"));
    assert!(debug.contains(sim.base_url()));
}
