//! A revocation run killed at any point and resumed from its checkpoint misses nothing and
//! counts nothing twice; a checkpoint of another plan is refused.

// Test helpers outside #[test] fns may fail loudly too.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use clerk_incident_core::api::{ClerkApi, RateLimit, RetryPolicy, SecretKey};
use clerk_incident_core::revocation::{
    Progress, RevocationError, RevocationPlan, RevocationReport, RevocationTarget, SessionRevoker,
};
use clerk_incident_sim::{Faults, Sim, endpoint};
use tokio::sync::mpsc;

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

/// The same data every time (same seed), with 5% of requests answered 500.
async fn sim() -> Sim {
    Sim::builder()
        .users(400)
        .sessions(600)
        .seed(11)
        .faults(Faults {
            error_rate: 0.05,
            latency_ms: 1,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap()
}

fn plan(sim: &Sim) -> RevocationPlan {
    RevocationPlan::new(RevocationTarget::AllUsers)
        .exclude_users([sim.admin_user_id().unwrap()])
        .concurrency(8)
}

fn checkpoint_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "clerk-incident-revocation-{}-{name}.jsonl",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    path
}

/// Starts a run in its own task and aborts it right after its `kill_after`-th progress event
/// (the `Planned` event is the first). Returns whether the run finished before the abort.
async fn run_and_kill(sim: &Sim, checkpoint: &Path, kill_after: usize) -> bool {
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let revoker = SessionRevoker::new(client(sim), plan(sim));
    let checkpoint = checkpoint.to_owned();
    let task = tokio::spawn(Box::pin(async move {
        revoker
            .run(Some(&checkpoint), move |event: Progress| {
                let _ = events_tx.send(event);
            })
            .await
    }));
    let mut seen = 0;
    while let Some(_event) = events.recv().await {
        seen += 1;
        if seen == kill_after {
            task.abort();
            break;
        }
    }
    match task.await {
        Err(join) => {
            assert!(join.is_cancelled());
            false
        }
        Ok(result) => {
            result.unwrap();
            true
        }
    }
}

async fn run_to_the_end(sim: &Sim, checkpoint: Option<&Path>) -> RevocationReport {
    SessionRevoker::new(client(sim), plan(sim))
        .run(checkpoint, |_| {})
        .await
        .unwrap()
}

/// The counts that must not depend on how often a run was killed.
fn counts(report: &RevocationReport) -> [u64; 8] {
    [
        report.users_scanned,
        report.users_excluded,
        report.users_skipped_by_pruning,
        report.sessions_found,
        report.sessions_kept,
        report.revoked,
        report.already_inactive,
        report.users_signed_out,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_run_killed_anywhere_and_resumed_counts_like_a_clean_run() {
    let clean_sim = sim().await;
    let admin = clean_sim.admin_user_id().unwrap();
    let targeted = clean_sim
        .sessions()
        .iter()
        .filter(|s| s.status.is_signed_in() && s.user_id != admin)
        .count() as u64;
    let clean = run_to_the_end(&clean_sim, None).await;
    assert!(clean.is_complete(), "{:?}", clean.failed);
    assert_eq!(clean.revoked, targeted, "all but the admin's sessions");
    assert!(clean.users_scanned > 40, "{clean:?}");

    // Kill points from right after planning to late in the run; each run is killed twice
    // (the second time while resuming) before it is allowed to finish.
    for (name, first_kill, second_kill) in [
        ("k1", 1, 2),
        ("k3", 3, 5),
        ("k10", 10, 1),
        ("k25", 25, 12),
        ("k45", 45, 30),
    ] {
        let sim = sim().await;
        let checkpoint = checkpoint_path(name);
        let finished = run_and_kill(&sim, &checkpoint, first_kill).await;
        assert!(!finished, "{name}: the first run was killed");
        let killed_revocations = sim.counters().revocations;
        let _ = run_and_kill(&sim, &checkpoint, second_kill).await;
        let report = run_to_the_end(&sim, Some(&checkpoint)).await;

        assert!(report.is_complete(), "{name}: {:?}", report.failed);
        assert_eq!(counts(&report), counts(&clean), "{name}: {report:?}");
        assert!(report.users_from_checkpoint <= report.users_scanned);
        // Nothing missed: only the excluded admin is still signed in.
        let still_live: Vec<_> = sim
            .sessions()
            .into_iter()
            .filter(|s| s.status.is_signed_in())
            .collect();
        assert!(!still_live.is_empty(), "{name}");
        assert!(still_live.iter().all(|s| s.user_id == admin), "{name}");
        // Nothing revoked twice, and the kills left revocations to count on resume.
        assert_eq!(sim.counters().revocations, clean.revoked, "{name}");
        if first_kill > 5 {
            assert!(killed_revocations > 0, "{name}: the first run revoked some");
        }
        let _ = std::fs::remove_file(&checkpoint);
    }
}

#[tokio::test]
async fn resuming_a_finished_run_makes_no_revoke_call() {
    let sim = sim().await;
    let checkpoint = checkpoint_path("finished");
    let first = run_to_the_end(&sim, Some(&checkpoint)).await;
    let revokes = sim.counters().get(endpoint::REVOKE_SESSION);
    let again = run_to_the_end(&sim, Some(&checkpoint)).await;
    assert_eq!(counts(&again), counts(&first));
    assert_eq!(again.users_from_checkpoint, first.users_scanned);
    assert_eq!(sim.counters().get(endpoint::REVOKE_SESSION), revokes);
    assert_eq!(
        again.api.requests,
        sim.counters().total() - first.api.requests
    );
    let _ = std::fs::remove_file(&checkpoint);
}

#[tokio::test]
async fn a_checkpoint_of_another_plan_is_refused_and_its_plan_can_be_read() {
    let sim = sim().await;
    let checkpoint = checkpoint_path("mismatch");
    let dry = plan(&sim).dry_run(true);
    SessionRevoker::new(client(&sim), dry.clone())
        .run(Some(&checkpoint), |_| {})
        .await
        .unwrap();

    let err = SessionRevoker::new(client(&sim), plan(&sim))
        .run(Some(&checkpoint), |_| {})
        .await
        .unwrap_err();
    let RevocationError::PlanMismatch { differences, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(differences, "dry run");
    assert!(err.to_string().contains("different plan"), "{err}");
    assert_eq!(sim.counters().revocations, 0);

    let stored = SessionRevoker::checkpoint_plan(&checkpoint).unwrap();
    assert_eq!(stored, dry.concurrency(8));
    let _ = std::fs::remove_file(&checkpoint);
}
