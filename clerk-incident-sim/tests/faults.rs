//! Fault injection: outage, hang, latency, error rate, rate limit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::time::{Duration, Instant};

use clerk_incident_sim::{Faults, Outage, RateLimitFault, endpoint};
use common::{assert_clerk_error, builder, client_with_timeout, get, get_with_key};
use reqwest::StatusCode;

#[tokio::test]
async fn unavailable_answers_503_on_the_apis_but_not_the_status_page() {
    let sim = builder()
        .faults(Faults {
            outage: Some(Outage::Unavailable),
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    for path in ["/v1/users", "/v1/jwks", "/.well-known/jwks.json"] {
        let response = get(&sim, path).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_clerk_error(&response.json().await.unwrap(), "service_unavailable");
    }
    // The outage comes before the key check.
    let response = get_with_key(&sim, "/v1/users", None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        get(&sim, "/proxy/status.clerk.com").await.status(),
        StatusCode::OK
    );
    assert_eq!(get(&sim, "/_sim/faults").await.status(), StatusCode::OK);
    let counters = sim.counters();
    assert_eq!(counters.unavailable, 4);
    assert_eq!(counters.unauthorized, 0);
    assert_eq!(counters.get(endpoint::LIST_USERS), 2);

    sim.set_faults(Faults::default());
    assert_eq!(get(&sim, "/v1/users").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn hang_never_answers_and_does_not_block_shutdown() {
    let sim = builder().start().await.unwrap();
    sim.set_faults(Faults {
        outage: Some(Outage::Hang),
        ..Faults::default()
    });
    let url = format!("{}/v1/users", sim.base_url());
    let error = client_with_timeout(Duration::from_millis(300))
        .get(&url)
        .bearer_auth(sim.secret_key())
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert_eq!(sim.counters().unavailable, 1);

    // A request without a timeout ends once the sim shuts down, whether it got in or not.
    let pending = tokio::spawn(async move {
        common::client()
            .get(&url)
            .send()
            .await
            .map(|response| response.status())
    });
    tokio::time::timeout(Duration::from_secs(5), sim.shutdown())
        .await
        .expect("shutdown blocked");
    let outcome = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("a hung request outlived the sim")
        .unwrap();
    if let Ok(status) = outcome {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
}

#[tokio::test]
async fn latency_delays_answers() {
    let sim = builder()
        .faults(Faults {
            latency_ms: 150,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    for path in ["/v1/users/count", "/.well-known/jwks.json"] {
        let started = Instant::now();
        assert_eq!(get(&sim, path).await.status(), StatusCode::OK);
        assert!(started.elapsed() >= Duration::from_millis(150), "{path}");
    }
}

#[tokio::test]
async fn error_rate_one_fails_everything_and_zero_nothing() {
    let sim = builder().start().await.unwrap();
    sim.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    for _ in 0..5 {
        let response = get(&sim, "/v1/users?limit=1").await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_clerk_error(&response.json().await.unwrap(), "internal_clerk_error");
    }
    assert_eq!(sim.counters().injected_errors, 5);
    sim.set_faults(Faults {
        error_rate: 0.0,
        ..Faults::default()
    });
    for _ in 0..5 {
        assert_eq!(
            get(&sim, "/v1/users?limit=1").await.status(),
            StatusCode::OK
        );
    }
    assert_eq!(sim.counters().injected_errors, 5);
}

#[tokio::test]
async fn error_rate_draws_are_reproducible() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let sim = builder().seed(seed).start().await.unwrap();
        sim.set_faults(Faults {
            error_rate: 0.5,
            ..Faults::default()
        });
        let mut statuses = Vec::new();
        for _ in 0..12 {
            statuses.push(get(&sim, "/v1/users/count").await.status().as_u16());
        }
        statuses
    }
    let first = statuses(3).await;
    assert_eq!(first, statuses(3).await);
    assert!(first.contains(&500) && first.contains(&200), "{first:?}");
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let sim = builder().start().await.unwrap();
    sim.set_faults(Faults {
        rate_limit: Some(RateLimitFault {
            requests: 3,
            window_ms: 60_000,
        }),
        ..Faults::default()
    });
    for _ in 0..3 {
        assert_eq!(get(&sim, "/v1/users/count").await.status(), StatusCode::OK);
    }
    let response = get(&sim, "/v1/sessions/sess_x").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_clerk_error(&response.json().await.unwrap(), "too_many_requests");

    // The Frontend API JWKS is not rate limited.
    assert_eq!(
        get(&sim, "/.well-known/jwks.json").await.status(),
        StatusCode::OK
    );
    let counters = sim.counters();
    assert_eq!(counters.rate_limited, 1);
    assert_eq!(counters.get(endpoint::GET_SESSION), 1);

    // Lifting the limit lets requests through again.
    sim.set_faults(Faults::default());
    assert_eq!(get(&sim, "/v1/users/count").await.status(), StatusCode::OK);
}
