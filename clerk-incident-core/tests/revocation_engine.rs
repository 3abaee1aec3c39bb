//! Mass session revocation against the simulated Clerk over real HTTP: every targeted session
//! revoked through 5xx, 429 bursts and latency, exact counts, filters, dry runs, pruning, and
//! a key revoked mid-run.

// Test helpers outside #[test] fns may fail loudly too.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clerk_incident_core::api::{
    ClerkApi, RateLimit, RetryPolicy, RevokeOutcome, SecretKey, SessionStatus, UserQuery,
};
use clerk_incident_core::revocation::{
    Progress, RevocationError, RevocationPlan, RevocationReport, RevocationTarget, SessionRevoker,
};
use clerk_incident_sim::{Faults, RateLimitFault, Sim, SimSession, SimUser, endpoint};
use futures::TryStreamExt;

const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;

/// A client paced at 2,000 requests/s, with fast retries: the sim's faults, not the pacing,
/// decide how long a test takes.
fn client(sim: &Sim) -> ClerkApi {
    ClerkApi::builder(SecretKey::new(sim.secret_key()))
        .base_url(sim.base_url())
        .rate_limit(RateLimit::new(2000, Duration::from_secs(1)).unwrap())
        .retry(RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(40),
            max_elapsed: Duration::from_secs(30),
        })
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

async fn sim(users: usize, sessions: usize, faults: Faults) -> Sim {
    Sim::builder()
        .users(users)
        .sessions(sessions)
        .seed(7)
        .faults(faults)
        .start()
        .await
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

/// Users who may hold a live session under the default lifetime, as the engine prunes them.
fn candidates(users: &[SimUser], now: i64) -> HashSet<String> {
    users
        .iter()
        .filter(|u| u.last_active_at > now - WEEK_MS - DAY_MS)
        .map(|u| u.id.clone())
        .collect()
}

fn live(sessions: &[SimSession]) -> impl Iterator<Item = &SimSession> {
    sessions.iter().filter(|s| s.status.is_signed_in())
}

/// Runs `plan` against `sim` without a checkpoint.
async fn run(sim: &Sim, plan: RevocationPlan) -> RevocationReport {
    SessionRevoker::new(client(sim), plan)
        .run(None, |_| {})
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_targeted_session_is_revoked_through_5xx_429_bursts_and_latency() {
    let faults = Faults {
        error_rate: 0.05,
        latency_ms: 2,
        ..Faults::default()
    };
    let sim = Arc::new(sim(2_000, 3_000, faults.clone()).await);
    let users_before = sim.users();
    let sessions_before = sim.sessions();
    let now = now_ms();

    // The on-call admin and two other users with live sessions stay signed in.
    let admin = sim.admin_user_id().unwrap();
    let mut excluded: Vec<String> = vec![admin.clone()];
    for session in live(&sessions_before) {
        if excluded.len() == 3 {
            break;
        }
        if !excluded.contains(&session.user_id) {
            excluded.push(session.user_id.clone());
        }
    }
    let excluded_set: HashSet<&str> = excluded.iter().map(String::as_str).collect();
    let targeted: HashSet<&str> = live(&sessions_before)
        .filter(|s| !excluded_set.contains(s.user_id.as_str()))
        .map(|s| s.id.as_str())
        .collect();
    let candidates = candidates(&users_before, now);
    assert!(
        targeted.len() > 1_500,
        "the seed holds enough live sessions"
    );

    // Two 429 bursts mid-run: every request is refused for 30 ms, with `Retry-After: 1`.
    let events = Arc::new(AtomicUsize::new(0));
    let burst_sim = Arc::clone(&sim);
    let burst_events = Arc::clone(&events);
    let on_progress = move |event: Progress| {
        if !matches!(event, Progress::UserDone { .. }) {
            return;
        }
        let n = burst_events.fetch_add(1, Ordering::Relaxed) + 1;
        if n == 60 || n == 180 {
            let mut burst = faults.clone();
            burst.rate_limit = Some(RateLimitFault {
                requests: 0,
                window_ms: 1_000,
            });
            burst_sim.set_faults(burst);
            let sim = Arc::clone(&burst_sim);
            let calm = faults.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(30)).await;
                sim.set_faults(calm);
            });
        }
    };

    let plan = RevocationPlan::new(RevocationTarget::AllUsers)
        .exclude_users(excluded.clone())
        .concurrency(16);
    let report = SessionRevoker::new(client(&sim), plan)
        .run(None, on_progress)
        .await
        .unwrap();

    // Every targeted session is revoked; nothing else changed.
    let sessions_after = sim.sessions();
    let before: HashMap<&str, &SimSession> =
        sessions_before.iter().map(|s| (s.id.as_str(), s)).collect();
    for session in &sessions_after {
        let old = before[session.id.as_str()];
        if targeted.contains(session.id.as_str()) {
            assert_eq!(
                session.status,
                clerk_incident_sim::SessionStatus::Revoked,
                "{}",
                session.id
            );
        } else {
            assert_eq!(
                session.status, old.status,
                "{} was not targeted",
                session.id
            );
        }
    }
    assert!(
        live(&sessions_after).all(|s| excluded_set.contains(s.user_id.as_str())),
        "only excluded users keep live sessions"
    );
    assert!(
        live(&sessions_after).any(|s| s.user_id == admin),
        "the admin is still signed in"
    );

    // The counts are exact.
    assert!(report.is_complete(), "{:?}", report.failed);
    assert_eq!(report.sessions_found, targeted.len() as u64);
    assert_eq!(report.revoked, targeted.len() as u64);
    let signed_out: std::collections::HashSet<&str> = sessions_before
        .iter()
        .filter(|s| targeted.contains(s.id.as_str()))
        .map(|s| s.user_id.as_str())
        .collect();
    assert_eq!(report.users_signed_out, signed_out.len() as u64);
    assert_eq!(report.already_inactive, 0);
    assert_eq!(report.sessions_kept, 0);
    assert_eq!(report.users_excluded, excluded.len() as u64);
    assert_eq!(
        report.users_scanned + report.users_excluded,
        candidates.len() as u64
    );
    assert_eq!(
        report.users_skipped_by_pruning,
        (users_before.len() - candidates.len()) as u64
    );
    assert_eq!(sim.counters().revocations, targeted.len() as u64);

    // The faults really happened, and the client absorbed them.
    let counters = sim.counters();
    assert!(counters.injected_errors > 0, "{counters:?}");
    assert!(counters.rate_limited > 0, "{counters:?}");
    assert!(report.api.rate_limited > 0 && report.api.retries > 0);
    assert_eq!(report.api.requests, counters.total());
    assert_eq!(events.load(Ordering::Relaxed), candidates.len());
}

#[tokio::test]
async fn a_dry_run_revokes_nothing_and_counts_what_a_run_would() {
    let sim = sim(300, 450, Faults::default()).await;
    let live_before = live(&sim.sessions()).count() as u64;
    let report = run(
        &sim,
        RevocationPlan::new(RevocationTarget::AllUsers).dry_run(true),
    )
    .await;
    assert!(report.dry_run);
    assert_eq!(report.sessions_found, live_before);
    assert_eq!((report.revoked, report.already_inactive), (0, 0));
    assert_eq!(sim.counters().get(endpoint::REVOKE_SESSION), 0);
    assert_eq!(sim.counters().revocations, 0);
    assert_eq!(live(&sim.sessions()).count() as u64, live_before);
}

/// The loop the runbook warns about: every user, every user's active sessions, one revoke at a
/// time.
async fn naive_loop(api: &ClerkApi) -> u64 {
    let users: Vec<_> = api
        .list_users(UserQuery::new())
        .try_collect()
        .await
        .unwrap();
    let mut revoked = 0;
    for user in users {
        for session in api
            .list_sessions(&user.id, Some(SessionStatus::Active))
            .await
            .unwrap()
        {
            if let RevokeOutcome::Revoked(_) = api.revoke_session(&session.id).await.unwrap() {
                revoked += 1;
            }
        }
    }
    revoked
}

#[tokio::test]
async fn pruning_makes_far_fewer_calls_than_the_naive_loop() {
    let naive_sim = sim(1_000, 1_500, Faults::default()).await;
    let naive_revoked = naive_loop(&client(&naive_sim)).await;
    let naive_calls = naive_sim.counters().total();

    let ours_sim = sim(1_000, 1_500, Faults::default()).await;
    let candidates = candidates(&ours_sim.users(), now_ms()).len() as u64;
    let report = run(&ours_sim, RevocationPlan::new(RevocationTarget::AllUsers)).await;
    let counters = ours_sim.counters();

    assert_eq!(report.revoked, naive_revoked, "both revoke every session");
    assert_eq!(live(&ours_sim.sessions()).count(), 0);
    // Ours: two counts, one page of candidates, one session list per candidate, the revokes.
    assert_eq!(counters.get(endpoint::COUNT_USERS), 2);
    assert_eq!(counters.get(endpoint::LIST_USERS), 1);
    assert_eq!(counters.get(endpoint::LIST_SESSIONS), candidates);
    assert_eq!(counters.get(endpoint::REVOKE_SESSION), report.revoked);
    assert_eq!(counters.total(), 3 + candidates + report.revoked);
    // The naive loop lists every user's sessions.
    assert_eq!(naive_sim.counters().get(endpoint::LIST_SESSIONS), 1_000);
    // Both revoke the same sessions; ours saves a session list per user who cannot hold one.
    assert_eq!(
        naive_calls - counters.total(),
        1_000 - candidates,
        "ours {} vs naive {naive_calls}: its two counts cost what its third page of users does",
        counters.total()
    );
}

#[tokio::test]
async fn sessions_created_after_the_cutoff_are_kept() {
    let sim = sim(400, 600, Faults::default()).await;
    let sessions = sim.sessions();
    let mut created: Vec<i64> = live(&sessions).map(|s| s.created_at).collect();
    created.sort_unstable();
    let cutoff = created[created.len() / 2];
    let older = live(&sessions).filter(|s| s.created_at < cutoff).count() as u64;
    let newer = live(&sessions).count() as u64 - older;

    let report = run(
        &sim,
        RevocationPlan::new(RevocationTarget::AllUsers).sessions_created_before(cutoff),
    )
    .await;
    assert_eq!((report.revoked, report.sessions_kept), (older, newer));
    for session in live(&sim.sessions()) {
        assert!(session.created_at >= cutoff, "{} survived", session.id);
    }
    assert_eq!(live(&sim.sessions()).count() as u64, newer);
}

#[tokio::test]
async fn user_and_organisation_targets_touch_nobody_else() {
    let sim = sim(600, 900, Faults::default()).await;
    let users = sim.users();
    let sessions = sim.sessions();

    // 250 users (three `user_id` batches), active or not, as an operator would paste them.
    let chosen: Vec<String> = users
        .iter()
        .step_by(2)
        .take(250)
        .map(|u| u.id.clone())
        .collect();
    let chosen_set: HashSet<&str> = chosen.iter().map(String::as_str).collect();
    let expected = live(&sessions)
        .filter(|s| chosen_set.contains(s.user_id.as_str()))
        .count() as u64;
    let report = run(
        &sim,
        RevocationPlan::new(RevocationTarget::Users(chosen.clone())),
    )
    .await;
    assert_eq!(report.revoked, expected);
    assert_eq!(
        report.users_scanned + report.users_skipped_by_pruning,
        250,
        "every chosen user is scanned or pruned"
    );
    assert_eq!(sim.counters().get(endpoint::LIST_USERS), 3);
    for session in live(&sim.sessions()) {
        assert!(!chosen_set.contains(session.user_id.as_str()));
    }

    let org = sim.organizations()[1].id.clone();
    let members: HashSet<&str> = users
        .iter()
        .filter(|u| {
            u.membership
                .as_ref()
                .is_some_and(|m| m.organization_id == org)
        })
        .map(|u| u.id.as_str())
        .collect();
    let live_before: Vec<SimSession> = live(&sim.sessions()).cloned().collect();
    let expected = live_before
        .iter()
        .filter(|s| members.contains(s.user_id.as_str()))
        .count() as u64;
    assert!(expected > 0);
    let report = run(
        &sim,
        RevocationPlan::new(RevocationTarget::Organization(org)),
    )
    .await;
    assert_eq!(report.revoked, expected);
    let live_after = live(&sim.sessions()).count() as u64;
    assert_eq!(live_after, live_before.len() as u64 - expected);
}

#[tokio::test]
async fn a_second_run_finds_nothing_left() {
    let sim = sim(300, 450, Faults::default()).await;
    let first = run(&sim, RevocationPlan::new(RevocationTarget::AllUsers)).await;
    assert!(first.revoked > 0);
    let second = run(&sim, RevocationPlan::new(RevocationTarget::AllUsers)).await;
    assert_eq!((second.sessions_found, second.revoked), (0, 0));
    assert_eq!(second.users_scanned, first.users_scanned);
}

#[tokio::test]
async fn a_key_revoked_mid_run_stops_it_with_the_report_so_far() {
    let sim = Arc::new(sim(300, 450, Faults::default()).await);
    let key_sim = Arc::clone(&sim);
    let mut users_done = 0;
    let on_progress = move |event: Progress| {
        if matches!(event, Progress::UserDone { .. }) {
            users_done += 1;
            if users_done == 5 {
                key_sim.revoke_secret_key(key_sim.secret_key());
            }
        }
    };
    let err = SessionRevoker::new(
        client(&sim),
        RevocationPlan::new(RevocationTarget::AllUsers).concurrency(2),
    )
    .run(None, on_progress)
    .await
    .unwrap_err();
    let RevocationError::Interrupted { report, cause } = &err else {
        panic!("{err:?}");
    };
    let RevocationError::Api(api) = cause.as_ref() else {
        panic!("{cause:?}");
    };
    assert!(api.is_unauthorized());
    assert!(report.users_scanned >= 5);
    assert!(!report.failed.is_empty(), "the refused calls are listed");
    assert!(report.failed.iter().all(|f| f.status == Some(401)));
    // The run stopped instead of failing every remaining user one by one.
    assert!(sim.counters().unauthorized <= 4, "{:?}", sim.counters());
    assert!(err.partial_report().is_some());
}

#[tokio::test]
async fn an_invalid_plan_or_an_unreachable_clerk_fails_before_revoking() {
    let sim = sim(10, 10, Faults::default()).await;
    let err = SessionRevoker::new(
        client(&sim),
        RevocationPlan::new(RevocationTarget::Users(vec![])),
    )
    .run(None, |_| {})
    .await
    .unwrap_err();
    assert!(matches!(err, RevocationError::InvalidPlan(_)), "{err:?}");

    sim.revoke_secret_key(sim.secret_key());
    let err = SessionRevoker::new(
        client(&sim),
        RevocationPlan::new(RevocationTarget::AllUsers),
    )
    .preview()
    .await
    .unwrap_err();
    assert!(
        matches!(err, RevocationError::Api(ref e) if e.is_unauthorized()),
        "{err:?}"
    );
}
