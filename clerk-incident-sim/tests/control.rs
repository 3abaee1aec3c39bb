//! The `/_sim/` control API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use clerk_incident_sim::{Faults, Outage, RateLimitFault, StatusPage, endpoint};
use common::{builder, client, get, get_with_key};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn send(method: reqwest::Method, url: String, body: Option<Value>) -> (StatusCode, Value) {
    let request = client().request(method, url);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, body)
}

#[tokio::test]
async fn faults_round_trip() {
    let sim = builder().start().await.unwrap();
    let url = format!("{}/_sim/faults", sim.base_url());
    let (status, body) = send(reqwest::Method::GET, url.clone(), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_value::<Faults>(body).unwrap(),
        Faults::default()
    );

    let wanted = json!({"outage": "unavailable", "rate_limit": {"requests": 5, "window_ms": 1000}});
    let (status, body) = send(reqwest::Method::PUT, url.clone(), Some(wanted)).await;
    assert_eq!(status, StatusCode::OK);
    let expected = Faults {
        outage: Some(Outage::Unavailable),
        rate_limit: Some(RateLimitFault {
            requests: 5,
            window_ms: 1000,
        }),
        ..Faults::default()
    };
    assert_eq!(serde_json::from_value::<Faults>(body).unwrap(), expected);
    assert_eq!(sim.faults(), expected);
    assert_eq!(
        get(&sim, "/v1/users").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    for bad in [
        json!({"error_rate": 2.0}),
        json!({"outage": "meltdown"}),
        json!({"latency": 1}),
        json!([1]),
    ] {
        let (status, body) = send(reqwest::Method::PUT, url.clone(), Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["error"].is_string());
    }
    let response = client().put(&url).body("{not json").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(sim.faults(), expected, "rejected input changes nothing");
}

#[tokio::test]
async fn status_page_round_trip() {
    let sim = builder().start().await.unwrap();
    let url = format!("{}/_sim/status-page", sim.base_url());
    let page = serde_json::to_value(StatusPage::degraded()).unwrap();
    let (status, body) = send(reqwest::Method::PUT, url.clone(), Some(page.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, page);
    let (_, body) = send(reqwest::Method::GET, url.clone(), None).await;
    assert_eq!(body, page);
    // Served as incident.io's widget by default; Statuspage's URLs are not found.
    let widget: Value = get(&sim, "/proxy/status.clerk.com")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        widget["ongoing_incidents"][0]["current_worst_impact"],
        "degraded_performance"
    );
    assert_eq!(
        get(&sim, "/api/v2/status.json").await.status(),
        StatusCode::NOT_FOUND
    );

    // The format is a switch of the same document.
    let mut page = page;
    page["format"] = json!("statuspage");
    let (status, body) = send(reqwest::Method::PUT, url.clone(), Some(page.clone())).await;
    assert_eq!((status, &body), (StatusCode::OK, &page));
    let summary: Value = get(&sim, "/api/v2/status.json").await.json().await.unwrap();
    assert_eq!(summary["status"]["indicator"], "minor");
    assert_eq!(
        get(&sim, "/proxy/status.clerk.com").await.status(),
        StatusCode::NOT_FOUND
    );
    for bad in [json!({"indicator": "meh"}), {
        let mut bad = page.clone();
        bad["format"] = json!("atom");
        bad
    }] {
        let (status, _) = send(reqwest::Method::PUT, url.clone(), Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn seed_replaces_the_data() {
    let sim = builder().start().await.unwrap();
    let before = sim.users();
    let url = format!("{}/_sim/seed", sim.base_url());
    let (status, body) = send(
        reqwest::Method::POST,
        url.clone(),
        Some(json!({"users": 7, "sessions": 9, "seed": 5})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["users"], 7);
    assert_eq!(body["sessions"], 9);
    assert_eq!(body["organizations"], 3);
    assert_eq!(
        body["admin_user_id"].as_str(),
        sim.admin_user_id().as_deref()
    );
    assert_eq!(sim.users().len(), 7);
    assert_ne!(sim.users()[0].id, before[0].id);
    let count: Value = get(&sim, "/v1/users/count").await.json().await.unwrap();
    assert_eq!(count["total_count"], 7);

    for bad in [
        json!({"users": 5}),
        json!({"users": 2_000_000, "sessions": 0}),
        json!({"users": -1, "sessions": 0}),
    ] {
        let (status, body) = send(reqwest::Method::POST, url.clone(), Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(sim.users().len(), 7);
}

#[tokio::test]
async fn tokens_are_minted_or_refused_clearly() {
    let sim = builder().start().await.unwrap();
    let url = format!("{}/_sim/tokens", sim.base_url());
    let admin = sim.admin_user_id().unwrap();
    let (status, body) = send(
        reqwest::Method::POST,
        url.clone(),
        Some(json!({"user_id": admin, "version": 2, "lifetime_secs": 120, "azp": null})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["kid"], sim.signing_kid().as_str());
    assert_eq!(body["token"].as_str().unwrap().split('.').count(), 3);

    for bad in [
        json!({}),
        json!({"user_id": "user_nobody"}),
        json!({"session_id": "sess_nobody"}),
        json!({"user_id": admin, "version": 3}),
        json!({"user_id": admin, "issued_at": u64::MAX}),
        json!({"user_id": admin, "surprise": true}),
    ] {
        let (status, body) = send(reqwest::Method::POST, url.clone(), Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(body["error"].is_string());
    }
}

#[tokio::test]
async fn counters_keys_and_rotation_round_trip() {
    let sim = builder().start().await.unwrap();
    let base = sim.base_url().to_owned();
    get(&sim, "/v1/users").await;
    let (status, body) = send(reqwest::Method::GET, format!("{base}/_sim/counters"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["requests"][endpoint::LIST_USERS], 1);
    assert_eq!(body["unauthorized"], 0);
    let (status, _) = send(
        reqwest::Method::DELETE,
        format!("{base}/_sim/counters"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(sim.counters().total(), 0);

    let key = "sk_test_controlapiaddedkey";
    let (status, _) = send(
        reqwest::Method::POST,
        format!("{base}/_sim/keys"),
        Some(json!({"secret_key": key})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        get_with_key(&sim, "/v1/instance", Some(key)).await.status(),
        StatusCode::OK
    );
    let (status, _) = send(
        reqwest::Method::POST,
        format!("{base}/_sim/keys/revoke"),
        Some(json!({"secret_key": key})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        get_with_key(&sim, "/v1/instance", Some(key)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = send(
        reqwest::Method::POST,
        format!("{base}/_sim/keys"),
        Some(json!({"secret_key": " "})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let old_kid = sim.signing_kid();
    let (status, body) = send(
        reqwest::Method::POST,
        format!("{base}/_sim/signing-key/rotate"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(body["kid"], old_kid.as_str());
    assert_eq!(body["kid"], sim.signing_kid().as_str());

    let (status, info) = send(reqwest::Method::GET, format!("{base}/_sim/info"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["instance_id"], sim.instance_id());
    assert_eq!(info["jwks_url"], sim.jwks_url().as_str());
    assert_eq!(info["kid"], sim.signing_kid().as_str());
    assert!(!info.to_string().contains(sim.secret_key()));
    let counters = sim.counters();
    assert_eq!(counters.get(endpoint::INSTANCE), 2);
    assert_eq!(counters.total(), 2, "control calls are not counted");
}
