//! The `compromise` scenario: ordinary actions before the leak, the attacker's after, every
//! one through the Backend API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::HashSet;

use clerk_incident_sim::{SimError, endpoint};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn the_attacker_acts_after_the_leak_and_leaves_traces() {
    let sim = common::builder()
        .users(12)
        .sessions(20)
        .start()
        .await
        .unwrap();
    let leak_at = common::NOW + 3_600_000;
    let compromise = sim.compromise(Some(leak_at)).await.unwrap();
    assert!(compromise.leaked_at >= leak_at);
    assert_eq!(compromise.before.len(), 3);
    assert!(
        compromise
            .before
            .iter()
            .all(|action| action.at < compromise.leaked_at)
    );
    assert!(
        compromise
            .attacker
            .iter()
            .all(|action| action.at >= compromise.leaked_at)
    );
    let kinds: HashSet<&str> = compromise
        .attacker
        .iter()
        .map(|a| a.kind.as_str())
        .collect();
    for kind in [
        "user.created",
        "user.updated",
        "organization.created",
        "organization_membership.created",
        "organization_membership.updated",
        "session.impersonated",
        "session.created",
        "machine.created",
        "m2m_token.created",
        "api_key.created",
        "invitation.created",
        "redirect_url.created",
        "domain.created",
        "allowlist_identifier.created",
        "blocklist_identifier.created",
        "jwt_template.created",
        "oauth_application.created",
        "saml_connection.created",
        "instance.updated",
    ] {
        assert!(kinds.contains(kind), "the scenario does {kind}");
    }
    let ids: HashSet<&str> = compromise.attacker.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids.len(), compromise.attacker.len(), "one id per action");

    let impersonation = compromise
        .attacker
        .iter()
        .find(|a| a.kind == "session.impersonated")
        .unwrap();
    let session = common::get_json(
        &sim,
        &format!("/v1/sessions/{}", impersonation.id),
        StatusCode::OK,
    )
    .await;
    assert!(session["actor"]["sub"].is_string());
    assert_eq!(session["user_id"], sim.admin_user_id().unwrap().as_str());
    let users = common::get_json(
        &sim,
        "/v1/users?limit=500&order_by=-updated_at",
        StatusCode::OK,
    )
    .await;
    let backdoor = compromise
        .attacker
        .iter()
        .find(|a| a.kind == "user.created")
        .unwrap();
    let backdoor = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == backdoor.id.as_str())
        .unwrap();
    assert!(
        backdoor["created_at"].as_i64().unwrap() < compromise.leaked_at,
        "backdated"
    );
    assert!(backdoor["updated_at"].as_i64().unwrap() >= compromise.leaked_at);
    assert_eq!(backdoor["public_metadata"]["role"], "admin");
    assert!(
        sim.counters().get(endpoint::CREATE_ACTOR_TOKEN) == 1,
        "through the Backend API"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_rotated_key_stops_the_attacker_and_the_control_api_runs_it_too() {
    let sim = common::builder()
        .users(6)
        .sessions(6)
        .start()
        .await
        .unwrap();
    let response = common::client()
        .post(format!("{}/_sim/scenarios/compromise", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["leaked_at"].is_i64());
    assert!(body["attacker"].as_array().unwrap().len() > 15);

    sim.revoke_secret_key(sim.secret_key());
    let error = sim.compromise(None).await.unwrap_err();
    assert!(matches!(error, SimError::Scenario { .. }), "{error}");
    assert!(error.to_string().contains("401"), "{error}");
    assert!(!error.to_string().contains(sim.secret_key()));
    sim.shutdown().await;
}
