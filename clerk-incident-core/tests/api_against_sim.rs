//! The Backend API client against the simulated Clerk over real HTTP: pacing under a rate
//! limit, every fault mode, pagination and idempotent revocation.

// Test helpers outside #[test] fns may fail loudly too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use clerk_incident_core::api::{
    ApiError, ClerkApi, RateLimit, RetryPolicy, RevokeOutcome, SecretKey, SessionStatus, UserQuery,
};
use clerk_incident_core::http::TransportError;
use clerk_incident_sim::{Faults, Outage, RateLimitFault, Sim, endpoint};
use futures::TryStreamExt;

fn quick_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_elapsed: Duration::from_secs(10),
    }
}

fn client(sim: &Sim, retry: RetryPolicy) -> ClerkApi {
    ClerkApi::builder(SecretKey::new(sim.secret_key()))
        .base_url(sim.base_url())
        .without_rate_limit()
        .retry(retry)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("valid configuration")
}

async fn sim_with(faults: Faults) -> Sim {
    Sim::builder()
        .users(30)
        .sessions(45)
        .faults(faults)
        .start()
        .await
        .expect("sim starts")
}

#[tokio::test]
async fn three_times_the_limit_in_concurrent_requests_causes_no_429() {
    let limit = RateLimitFault {
        requests: 10,
        window_ms: 1000,
    };
    let sim = sim_with(Faults {
        rate_limit: Some(limit),
        ..Faults::default()
    })
    .await;
    let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
        .base_url(sim.base_url())
        .rate_limit(RateLimit::new(10, Duration::from_secs(1)).unwrap())
        .build()
        .unwrap();

    let calls: Vec<_> = (0..30)
        .map(|_| {
            let api = api.clone();
            tokio::spawn(async move { api.instance().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().expect("every paced call succeeds");
    }

    assert_eq!(sim.counters().rate_limited, 0, "the sim never answered 429");
    assert_eq!(api.counters().rate_limited, 0);
    assert_eq!(api.counters().requests, 30, "no retries were needed");
    assert_eq!(sim.counters().get(endpoint::INSTANCE), 30);
}

#[tokio::test]
async fn a_429_is_honoured_and_the_call_succeeds() {
    let sim = sim_with(Faults {
        rate_limit: Some(RateLimitFault {
            requests: 2,
            window_ms: 1000,
        }),
        ..Faults::default()
    })
    .await;
    // An unpaced client, so that it runs into the limit.
    let api = client(&sim, quick_retries(3));
    let started = Instant::now();
    for _ in 0..3 {
        api.instance().await.expect("retried past the 429");
    }
    assert!(sim.counters().rate_limited >= 1);
    assert_eq!(api.counters().rate_limited, sim.counters().rate_limited);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
}

#[tokio::test]
async fn an_outage_is_a_503_after_every_attempt() {
    let sim = sim_with(Faults {
        outage: Some(Outage::Unavailable),
        ..Faults::default()
    })
    .await;
    let err = client(&sim, quick_retries(3)).instance().await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.attempts(), 3);
    assert_eq!(sim.counters().get(endpoint::INSTANCE), 3);
}

#[tokio::test]
async fn a_hung_clerk_times_out_each_attempt() {
    let sim = sim_with(Faults {
        outage: Some(Outage::Hang),
        ..Faults::default()
    })
    .await;
    let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
        .base_url(sim.base_url())
        .without_rate_limit()
        .retry(quick_retries(2))
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = api.instance().await.unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Transport {
                attempts: 2,
                source: TransportError::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn added_latency_is_observed() {
    let sim = sim_with(Faults {
        latency_ms: 300,
        ..Faults::default()
    })
    .await;
    let started = Instant::now();
    client(&sim, quick_retries(1)).instance().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn an_error_rate_of_one_fails_every_attempt_and_zero_none() {
    let sim = sim_with(Faults {
        error_rate: 1.0,
        ..Faults::default()
    })
    .await;
    let api = client(&sim, quick_retries(4));
    let err = api.instance().await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(err.attempts(), 4);
    assert_eq!(api.counters().retries, 3);

    sim.set_faults(Faults::default());
    api.instance().await.expect("no injected errors any more");
}

#[tokio::test]
async fn a_revoked_key_is_a_401_that_is_not_retried() {
    let sim = sim_with(Faults::default()).await;
    sim.revoke_secret_key(sim.secret_key());
    let err = client(&sim, quick_retries(5)).instance().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert_eq!(err.attempts(), 1);
    assert_eq!(sim.counters().get(endpoint::INSTANCE), 1);
    assert!(!err.to_string().contains(sim.secret_key()));
    assert!(!format!("{err:?}").contains(sim.secret_key()));
}

#[tokio::test]
async fn every_user_is_listed_once_in_the_fewest_pages() {
    let sim = Sim::builder().users(50).start().await.unwrap();
    let api = client(&sim, quick_retries(1));
    let users: Vec<_> = api
        .list_users(UserQuery::new().page_size(7))
        .try_collect()
        .await
        .unwrap();
    let ids: HashSet<_> = users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids.len(), 50);
    assert_eq!(
        sim.counters().get(endpoint::LIST_USERS),
        8,
        "7 full pages and a short one"
    );
    assert_eq!(api.count_users(&UserQuery::new()).await.unwrap(), 50);
}

#[tokio::test]
async fn seeded_data_is_deterministic_through_the_client() {
    let now = 1_780_000_000_000;
    let start = |seed| Sim::builder().users(40).seed(seed).now_unix_ms(now).start();
    let (a, b, c) = (
        start(7).await.unwrap(),
        start(7).await.unwrap(),
        start(8).await.unwrap(),
    );
    let list = |sim: &Sim| {
        client(sim, quick_retries(1))
            .list_users(UserQuery::new())
            .try_collect::<Vec<_>>()
    };
    let (a, b, c) = (
        list(&a).await.unwrap(),
        list(&b).await.unwrap(),
        list(&c).await.unwrap(),
    );
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[tokio::test]
async fn revoking_is_idempotent() {
    let sim = Sim::builder().users(20).sessions(40).start().await.unwrap();
    let api = client(&sim, quick_retries(1));
    let live = sim
        .sessions()
        .into_iter()
        .find(|s| s.status.as_str() == "active")
        .expect("the sim seeds active sessions");

    let listed = api
        .list_sessions(&live.user_id, Some(SessionStatus::Active))
        .await
        .unwrap();
    assert!(listed.iter().any(|s| s.id == live.id));

    let first = api.revoke_session(&live.id).await.unwrap();
    assert!(matches!(first, RevokeOutcome::Revoked(_)), "{first:?}");
    assert_eq!(first.session().status, SessionStatus::Revoked);
    let second = api.revoke_session(&live.id).await.unwrap();
    assert!(
        matches!(second, RevokeOutcome::AlreadyInactive(_)),
        "{second:?}"
    );
    assert_eq!(sim.counters().revocations, 1);
}
