//! `GET /v1/sessions`, `GET /v1/sessions/{session_id}` and
//! `POST /v1/sessions/{session_id}/revoke`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use clerk_incident_sim::{SessionStatus, Sim, endpoint};
use common::{assert_clerk_error, assert_session, builder, client, get_json, ids};
use reqwest::StatusCode;

/// The user with the most sessions.
fn busiest_user(sim: &Sim) -> (String, usize) {
    let sessions = sim.sessions();
    sim.users()
        .into_iter()
        .map(|u| {
            let count = sessions.iter().filter(|s| s.user_id == u.id).count();
            (u.id, count)
        })
        .max_by_key(|(_, count)| *count)
        .unwrap()
}

async fn revoke(sim: &Sim, session_id: &str) -> reqwest::Response {
    client()
        .post(format!(
            "{}/v1/sessions/{session_id}/revoke",
            sim.base_url()
        ))
        .bearer_auth(sim.secret_key())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn lists_a_users_sessions_newest_first_plain_or_paginated() {
    let sim = builder().users(10).sessions(60).start().await.unwrap();
    let (user_id, count) = busiest_user(&sim);
    assert!(count > 3, "{count}");
    let expected: Vec<String> = sim
        .sessions()
        .into_iter()
        .filter(|s| s.user_id == user_id)
        .map(|s| s.id)
        .collect();

    let plain = get_json(
        &sim,
        &format!("/v1/sessions?user_id={user_id}&limit=500"),
        StatusCode::OK,
    )
    .await;
    for session in plain.as_array().unwrap() {
        assert_session(session);
        assert_eq!(session["user_id"], user_id.as_str());
    }
    assert_eq!(ids(&plain), expected);

    let paginated = get_json(
        &sim,
        &format!("/v1/sessions?user_id={user_id}&paginated=true&limit=2&offset=1"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(paginated["total_count"], count);
    assert_eq!(ids(&paginated["data"]), expected[1..3].to_vec());
    assert_eq!(paginated.as_object().unwrap().len(), 2);
}

#[tokio::test]
async fn filters_by_status_and_client() {
    let sim = builder().users(10).sessions(60).start().await.unwrap();
    let (user_id, _) = busiest_user(&sim);
    let active = get_json(
        &sim,
        &format!("/v1/sessions?user_id={user_id}&status=active&paginated=true&limit=500"),
        StatusCode::OK,
    )
    .await;
    let expected = sim
        .sessions()
        .iter()
        .filter(|s| s.user_id == user_id && s.status == SessionStatus::Active)
        .count();
    assert_eq!(active["total_count"], expected);
    assert!(
        active["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "active")
    );

    let session = &sim.sessions()[0];
    let by_client = get_json(
        &sim,
        &format!("/v1/sessions?client_id={}", session.client_id),
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&by_client), vec![session.id.clone()]);
}

#[tokio::test]
async fn a_user_or_client_is_required_and_parameters_are_checked() {
    let sim = builder().start().await.unwrap();
    let body = get_json(
        &sim,
        "/v1/sessions?status=active",
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_clerk_error(&body, "form_param_missing");
    let body = get_json(
        &sim,
        "/v1/sessions?user_id=u&status=zombie",
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_clerk_error(&body, "form_param_value_invalid");
    let body = get_json(
        &sim,
        "/v1/sessions?user_id=u&paginated=yes",
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_clerk_error(&body, "form_param_format_invalid");
    let empty = get_json(&sim, "/v1/sessions?user_id=user_nobody", StatusCode::OK).await;
    assert_eq!(empty, serde_json::json!([]));
}

#[tokio::test]
async fn get_session_returns_it_or_404() {
    let sim = builder().start().await.unwrap();
    let id = sim.sessions()[3].id.clone();
    let session = get_json(&sim, &format!("/v1/sessions/{id}"), StatusCode::OK).await;
    assert_session(&session);
    assert_eq!(session["id"], id.as_str());
    let body = get_json(&sim, "/v1/sessions/sess_nobody", StatusCode::NOT_FOUND).await;
    assert_clerk_error(&body, "resource_not_found");
    assert_eq!(sim.counters().get(endpoint::GET_SESSION), 2);
}

#[tokio::test]
async fn revoking_twice_fails_the_second_time_and_the_session_stays_revoked() {
    let sim = builder().start().await.unwrap();
    let session = sim
        .sessions()
        .into_iter()
        .find(|s| s.status == SessionStatus::Active)
        .unwrap();

    let response = revoke(&sim, &session.id).await;
    assert_eq!(response.status(), StatusCode::OK);
    let revoked: serde_json::Value = response.json().await.unwrap();
    assert_session(&revoked);
    assert_eq!(revoked["status"], "revoked");
    assert!(revoked["updated_at"].as_i64().unwrap() >= session.updated_at);

    let response = revoke(&sim, &session.id).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_clerk_error(&response.json().await.unwrap(), "session_not_active");

    let fetched = get_json(
        &sim,
        &format!("/v1/sessions/{}", session.id),
        StatusCode::OK,
    )
    .await;
    assert_eq!(fetched["status"], "revoked");
    let snapshot = sim
        .sessions()
        .into_iter()
        .find(|s| s.id == session.id)
        .unwrap();
    assert_eq!(snapshot.status, SessionStatus::Revoked);

    let response = revoke(&sim, "sess_nobody").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let counters = sim.counters();
    assert_eq!(counters.revocations, 1);
    assert_eq!(counters.get(endpoint::REVOKE_SESSION), 3);
}
