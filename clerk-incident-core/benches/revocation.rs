//! Mass session revocation against the simulated Clerk, two figures:
//!
//! 1. **Pacing**: with the sim enforcing Clerk's production limit (1,000 requests per 10 s,
//!    sliding window) and 20 ms of latency, and the client paced to the same limit, the
//!    achieved request rate divided by the allowed rate (target ≥ 0.95) and the 429s seen
//!    (target 0).
//! 2. **Calls per revoked session**, [`SessionRevoker`] against the naive loop (list every
//!    user, list each one's active sessions, revoke them one by one), on a population where
//!    10% of the users were active in the last week, and on the sim's whole seeded population
//!    (about 15%).
//!
//! Run with `cargo bench -p clerk-incident-core --bench revocation` (about 30 s); the figures
//! are in `docs/benchmarks.md`. A plain timed harness, not criterion: one run takes tens of
//! seconds of paced wall time, and the figures are ratios, not per-iteration times. Outside
//! `cargo bench` (no `--bench` argument, as under `cargo test --benches`) it does nothing.

// A benchmark's setup has nothing to recover from, and its output is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::cast_precision_loss
)]

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clerk_incident_core::api::{
    ClerkApi, RateLimit, RevokeOutcome, SecretKey, SessionStatus, UserQuery,
};
use clerk_incident_core::revocation::{RevocationPlan, RevocationTarget, SessionRevoker};
use clerk_incident_sim::{Faults, RateLimitFault, Sim};
use futures::TryStreamExt;

const DAY_MS: i64 = 86_400_000;

fn main() {
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("revocation: run with `cargo bench -p clerk-incident-core --bench revocation`");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        pacing().await;
        calls_per_revoked_session().await;
    });
}

/// Figure 1: how close to the allowed rate a run goes, without a 429.
async fn pacing() {
    let (requests, window) = (1_000_u32, Duration::from_secs(10));
    let sim = Sim::builder()
        .users(2_000)
        .sessions(3_000)
        .faults(Faults {
            latency_ms: 20,
            rate_limit: Some(RateLimitFault {
                requests,
                window_ms: u64::try_from(window.as_millis()).unwrap(),
            }),
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
        .base_url(sim.base_url())
        .rate_limit(RateLimit::new(requests, window).unwrap())
        .build()
        .unwrap();
    let started = Instant::now();
    let report = SessionRevoker::new(api, RevocationPlan::new(RevocationTarget::AllUsers))
        .run(None, |_| {})
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let allowed = f64::from(requests) / window.as_secs_f64();
    let achieved = report.api.requests as f64 / elapsed.as_secs_f64();
    println!("pacing (limit {requests} requests / {window:?}, 20 ms latency, concurrency 8):");
    println!(
        "  {} requests in {:.2} s = {achieved:.2} req/s of {allowed:.2} allowed: ratio {:.3}; \
         429s: client {}, sim {}; revoked {} sessions",
        report.api.requests,
        elapsed.as_secs_f64(),
        achieved / allowed,
        report.api.rate_limited,
        sim.counters().rate_limited,
        report.revoked,
    );
}

/// Figure 2: API calls per revoked session, ours against the naive loop.
async fn calls_per_revoked_session() {
    println!("calls per revoked session (10,000 users, 3,000 sessions, unpaced, no faults):");
    let probe = seeded().await;
    let week_ago = now_ms() - 7 * DAY_MS;
    let users = probe.users();
    let (recent, inactive): (Vec<_>, Vec<_>) =
        users.iter().partition(|u| u.last_active_at >= week_ago);
    probe.shutdown().await;

    // 10% active: every inactive user, and a ninth as many active ones.
    let take = inactive.len() / 9;
    let ten_percent: Vec<String> = inactive
        .iter()
        .chain(recent.iter().take(take))
        .map(|u| u.id.clone())
        .collect();
    let share = take as f64 / ten_percent.len() as f64;
    compare(
        &format!(
            "{} users, {:.1}% active in the last week (targeted by id)",
            ten_percent.len(),
            share * 100.0
        ),
        RevocationTarget::Users(ten_percent),
    )
    .await;
    let share = recent.len() as f64 / users.len() as f64;
    compare(
        &format!(
            "all {} users, {:.1}% active in the last week",
            users.len(),
            share * 100.0
        ),
        RevocationTarget::AllUsers,
    )
    .await;
}

async fn compare(population: &str, target: RevocationTarget) {
    let naive_sim = seeded().await;
    let (naive_revoked, naive_started) = (
        naive_loop(&client(&naive_sim), &target).await,
        naive_sim.counters().total(),
    );
    let ours_sim = seeded().await;
    let report = SessionRevoker::new(client(&ours_sim), RevocationPlan::new(target))
        .run(None, |_| {})
        .await
        .unwrap();
    let ours = ours_sim.counters().total();
    assert_eq!(
        report.revoked, naive_revoked,
        "both revoke the same sessions"
    );
    let revoked = report.revoked as f64;
    println!(
        "  {population}: {} sessions revoked; naive {naive_started} calls ({:.2} per session), \
         ours {ours} calls ({:.2} per session): {:.1}x fewer",
        report.revoked,
        naive_started as f64 / revoked,
        ours as f64 / revoked,
        naive_started as f64 / ours as f64,
    );
}

/// List users (100 ids per query for an id target), list each one's active sessions, revoke
/// them one by one.
async fn naive_loop(api: &ClerkApi, target: &RevocationTarget) -> u64 {
    let queries: Vec<UserQuery> = match target {
        RevocationTarget::Users(ids) => ids
            .chunks(100)
            .map(|chunk| UserQuery::new().user_ids(chunk.iter().cloned()))
            .collect(),
        _ => vec![UserQuery::new()],
    };
    let mut revoked = 0;
    let mut seen = HashSet::new();
    for query in queries {
        let users: Vec<_> = api.list_users(query).try_collect().await.unwrap();
        for user in users.into_iter().filter(|u| seen.insert(u.id.clone())) {
            let sessions = api
                .list_sessions(&user.id, Some(SessionStatus::Active))
                .await
                .unwrap();
            for session in sessions {
                if let RevokeOutcome::Revoked(_) = api.revoke_session(&session.id).await.unwrap() {
                    revoked += 1;
                }
            }
        }
    }
    revoked
}

async fn seeded() -> Sim {
    Sim::builder()
        .users(10_000)
        .sessions(3_000)
        .seed(2024)
        .start()
        .await
        .unwrap()
}

fn client(sim: &Sim) -> ClerkApi {
    ClerkApi::builder(SecretKey::new(sim.secret_key()))
        .base_url(sim.base_url())
        .without_rate_limit()
        .build()
        .unwrap()
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}
