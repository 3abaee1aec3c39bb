//! One mass revocation at a time for a whole fleet, checked on any [`FleetStore`]: the
//! [`RevocationJobStore`](clerk_incident_core::revocation::RevocationJobStore) contract (the lease, its fencing token, the current job, the fenced
//! writes), and two replicas' [`RevocationJobs`] sharing it: a second start refused on the
//! other replica, progress read and the job cancelled from there, and a job whose holder
//! stopped resumed by the other with exact counts. Run on the in-memory store by this crate's
//! tests and on Redis by `clerk-incident-redis`'s.
//!
//! Test support: a broken rule panics, as a failed assertion does.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use clerk_incident_core::api::{ClerkApi, SecretKey};
use clerk_incident_core::auth::{Operator, Qualification};
use clerk_incident_core::fleet::FleetStore;
use clerk_incident_core::revocation::{
    CancelOutcome, JobError, JobState, JobStatus, LeaseGrant, RevocationJobs, RevocationPlan,
    RevocationTarget, SharedJobs,
};
use clerk_incident_sim::{Faults, Sim};

use crate::fleet_store::STEP;

/// The lease the replicas of these checks hold: short, so that a stopped holder's job is
/// resumed within moments.
pub const QUICK_LEASE: Duration = Duration::from_millis(600);

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(STEP, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within {STEP:?}"))
}

fn job_id(n: u8) -> String {
    format!("job_{n:032x}")
}

/// The [`RevocationJobStore`](clerk_incident_core::revocation::RevocationJobStore) contract: `store` and `other` are two connections to one empty
/// store.
///
/// # Panics
///
/// On the first broken rule.
pub async fn check_job_store_contract(store: Arc<dyn FleetStore>, other: Arc<dyn FleetStore>) {
    let (a, b) = (job_id(1), job_id(2));
    assert_eq!(store.current_job().await.unwrap(), None);
    let LeaseGrant::Granted(first) = store.acquire_lease(&a, "replica-a", STEP).await.unwrap()
    else {
        panic!("an empty store grants the lease");
    };
    assert_eq!(
        (first.job.as_str(), first.holder.as_str()),
        (a.as_str(), "replica-a")
    );
    for (job, holder) in [(&b, "replica-b"), (&a, "replica-b")] {
        assert_eq!(
            other.acquire_lease(job, holder, STEP).await.unwrap(),
            LeaseGrant::Held { job: a.clone() },
            "a live lease is held for everyone"
        );
    }
    let current = other.current_job().await.unwrap().unwrap();
    assert_eq!(current.job, a);
    assert_eq!(current.holder.as_deref(), Some("replica-a"));

    assert!(
        store
            .write_job(&first, r#"{"state":"running"}"#)
            .await
            .unwrap()
    );
    assert_eq!(
        other.job(&a).await.unwrap().as_deref(),
        Some(r#"{"state":"running"}"#)
    );
    assert_eq!(other.job(&b).await.unwrap(), None);
    // More lines than one read returns, in the order they were appended.
    let lines: Vec<String> = (0..10_050).map(|n| format!("{{\"n\":{n}}}")).collect();
    for chunk in lines.chunks(1000) {
        assert!(store.append_checkpoint(&first, chunk).await.unwrap());
    }
    assert_eq!(other.checkpoint(&a).await.unwrap(), lines);
    assert!(other.checkpoint(&b).await.unwrap().is_empty());
    assert!(store.renew_lease(&first, QUICK_LEASE).await.unwrap());

    // Whoever does not hold the lease writes nothing.
    let mut stale = first.clone();
    stale.fence += 100;
    let mut impostor = first.clone();
    impostor.holder = "replica-b".to_owned();
    for lease in [&stale, &impostor] {
        assert!(!other.write_job(lease, "{}").await.unwrap());
        assert!(
            !other
                .append_checkpoint(lease, &["{}".to_owned()])
                .await
                .unwrap()
        );
        assert!(!other.renew_lease(lease, STEP).await.unwrap());
        assert!(!other.release_lease(lease).await.unwrap());
    }
    assert_eq!(other.checkpoint(&a).await.unwrap().len(), lines.len());

    // The first cancel request stays.
    assert_eq!(other.cancel_request(&a).await.unwrap(), None);
    assert_eq!(other.request_cancel(&a, "first").await.unwrap(), "first");
    assert_eq!(store.request_cancel(&a, "second").await.unwrap(), "first");
    assert_eq!(
        store.cancel_request(&a).await.unwrap().as_deref(),
        Some("first")
    );

    // A lease not renewed expires; its job stays current until someone takes it over.
    within("the lease expires", async {
        while other.current_job().await.unwrap().unwrap().holder.is_some() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(
        other.acquire_lease(&b, "replica-b", STEP).await.unwrap(),
        LeaseGrant::Held { job: a.clone() },
        "an unfinished job keeps the slot"
    );
    let LeaseGrant::Granted(second) = other.acquire_lease(&a, "replica-b", STEP).await.unwrap()
    else {
        panic!("the expired lease of the current job is granted");
    };
    assert!(
        second.fence > first.fence,
        "a fencing token never goes back"
    );
    assert!(!store.write_job(&first, "{}").await.unwrap());
    assert!(
        !store
            .append_checkpoint(&first, &["{}".to_owned()])
            .await
            .unwrap()
    );
    assert!(!store.release_lease(&first).await.unwrap());
    assert!(other.release_lease(&second).await.unwrap());
    assert_eq!(
        store.current_job().await.unwrap(),
        None,
        "released: the slot is free"
    );
    let LeaseGrant::Granted(third) = store.acquire_lease(&b, "replica-a", STEP).await.unwrap()
    else {
        panic!("a free slot is granted");
    };
    assert!(third.fence > second.fence);
    assert!(store.release_lease(&third).await.unwrap());
}

/// A replica's jobs on `store`, as instance `name`, revoking in `sim`.
pub fn replica(sim: &Sim, store: Arc<dyn FleetStore>, name: &str) -> RevocationJobs {
    let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
        .base_url(sim.base_url())
        .without_rate_limit()
        .build()
        .unwrap();
    RevocationJobs::new(api).share(SharedJobs::new(store, name).lease_ttl(QUICK_LEASE))
}

/// A sim of 80 users whose every answer takes 40 ms, and two replicas' jobs on `a` and `b`.
async fn slow_fleet(
    a: Arc<dyn FleetStore>,
    b: Arc<dyn FleetStore>,
) -> (Sim, RevocationJobs, RevocationJobs) {
    let sim = Sim::builder()
        .users(80)
        .sessions(120)
        .start()
        .await
        .unwrap();
    sim.set_faults(Faults {
        latency_ms: 40,
        ..Faults::default()
    });
    let (replica_a, replica_b) = (replica(&sim, a, "replica-a"), replica(&sim, b, "replica-b"));
    (sim, replica_a, replica_b)
}

fn oncall() -> Operator {
    Operator::new("user_oncall", "sess_oncall", Qualification::AllowList)
}

fn live(sim: &Sim) -> u64 {
    sim.sessions()
        .iter()
        .filter(|session| session.status.is_signed_in())
        .count() as u64
}

/// Waits until `jobs` reads job `id` with at least `users` users processed.
async fn until_progress(jobs: &RevocationJobs, id: &str, users: u64) -> JobStatus {
    within("progress", async {
        loop {
            let status = jobs.status(id).await.unwrap().unwrap();
            if status.progress.users_processed >= users || status.state != JobState::Running {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

/// A slow revocation of every user of a fresh sim, started on replica A: replica B refuses a
/// second one, reads A's progress, cancels the job; A stops; then B runs the next job and A
/// reads its report. `a` and `b` are two connections to one empty store.
///
/// # Panics
///
/// On the first broken rule.
pub async fn check_one_job_for_the_fleet(a: Arc<dyn FleetStore>, b: Arc<dyn FleetStore>) {
    let (sim, replica_a, replica_b) = slow_fleet(a, b).await;
    let plan = RevocationPlan::new(RevocationTarget::AllUsers).concurrency(2);
    let job = replica_a
        .start(plan.clone(), Some(&oncall()))
        .await
        .unwrap();
    match replica_b.start(plan.clone(), None).await {
        Err(JobError::AlreadyRunning { job: running }) => assert_eq!(running, job),
        other => panic!("a second job on another replica: {other:?}"),
    }

    let seen = until_progress(&replica_b, job.as_str(), 3).await;
    assert_eq!(seen.state, JobState::Running, "{seen:?}");
    assert_eq!(seen.instance.as_deref(), Some("replica-a"));
    assert_eq!(seen.requested_by.as_deref(), Some("user_oncall"));

    let canceller = Operator::new("user_second", "sess_second", Qualification::AllowList);
    let CancelOutcome::Cancelled(cancelled) = replica_b
        .cancel(job.as_str(), Some(&canceller))
        .await
        .unwrap()
    else {
        panic!("the running job is cancelled from the other replica");
    };
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert_eq!(cancelled.cancelled_by, Some(canceller.clone()));
    let stopped = within("the holder stops", replica_a.wait(job.as_str()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stopped.state, JobState::Cancelled, "{stopped:?}");
    assert_eq!(stopped.cancelled_by, Some(canceller.clone()));
    assert!(stopped.progress.users_processed >= 3, "{stopped:?}");
    // Nothing is revoked once the holder says it stopped.
    let live_when_stopped = live(&sim);
    for _ in 0..3 {
        tokio::time::sleep(QUICK_LEASE / 3).await;
    }
    assert_eq!(live(&sim), live_when_stopped, "revoked after the cancel");
    let revoked_when_stopped = stopped.progress.revoked;
    assert!(
        revoked_when_stopped < 120,
        "cancelled before the end: {stopped:?}"
    );
    let CancelOutcome::AlreadyEnded(again) = replica_a.cancel(job.as_str(), None).await.unwrap()
    else {
        panic!("a second cancel changes nothing");
    };
    assert_eq!(again.cancelled_by, Some(canceller));

    // The slot is free for the next job, on either replica, and every replica reads it.
    sim.set_faults(Faults::default());
    let before = live(&sim);
    let next = within("the next job starts", async {
        loop {
            match replica_b.start(plan.clone(), None).await {
                Ok(next) => return next,
                Err(JobError::AlreadyRunning { .. }) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(err) => panic!("{err}"),
            }
        }
    })
    .await;
    let finished = within("the next job ends", replica_a.wait(next.as_str()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(finished.state, JobState::Finished, "{finished:?}");
    assert_eq!(finished.instance.as_deref(), Some("replica-b"));
    let report = finished.report.clone().unwrap();
    assert_eq!(report.revoked, before, "every live session, once");
    assert_eq!(
        finished.progress.revoked, report.revoked,
        "the final record keeps the last progress: {finished:?}"
    );
    assert!(finished.preview.is_some(), "{finished:?}");
    assert_eq!(live(&sim), 0);
    assert_eq!(
        replica_b.status(job.as_str()).await.unwrap().unwrap().state,
        JobState::Cancelled,
        "the cancelled job stays readable"
    );
    assert_eq!(replica_b.status("job_unknown").await.unwrap(), None);
}

/// A job whose holder stops mid-run (`stop_a` cuts replica A off the store, as a crash or a
/// partition would) is resumed by replica B from the checkpoint in the store once A's lease
/// expires, and its counts are exact: every session live at the start revoked, each counted
/// once. `a` and `b` are two connections to one empty store.
///
/// # Panics
///
/// On the first broken rule.
pub async fn check_a_job_resumed_after_its_holder_stopped(
    a: Arc<dyn FleetStore>,
    b: Arc<dyn FleetStore>,
    stop_a: impl FnOnce(),
) {
    let sim = Sim::builder()
        .users(80)
        .sessions(120)
        .start()
        .await
        .unwrap();
    let admin = sim.admin_user_id().unwrap();
    let live_others = || {
        sim.sessions()
            .iter()
            .filter(|session| session.status.is_signed_in() && session.user_id != admin)
            .count() as u64
    };
    let before = live_others();
    sim.set_faults(Faults {
        latency_ms: 40,
        ..Faults::default()
    });
    let (replica_a, replica_b) = (replica(&sim, a, "replica-a"), replica(&sim, b, "replica-b"));
    let plan = RevocationPlan::new(RevocationTarget::AllUsers)
        .exclude_users([admin.clone()])
        .concurrency(2);
    let job = replica_a.start(plan, Some(&oncall())).await.unwrap();
    let seen = until_progress(&replica_b, job.as_str(), 5).await;
    assert_eq!(seen.state, JobState::Running, "{seen:?}");

    stop_a();
    sim.set_faults(Faults::default());
    let left = within("the cut-off holder stops", replica_a.wait(job.as_str()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left.state, JobState::Failed, "{left:?}");
    assert!(
        left.error
            .as_deref()
            .is_some_and(|error| error.contains("resume")),
        "{left:?}"
    );
    let resumed = within("resumed and finished elsewhere", async {
        loop {
            let status = replica_b.status(job.as_str()).await.unwrap().unwrap();
            if status.state != JobState::Running {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(resumed.state, JobState::Finished, "{resumed:?}");
    assert_eq!(resumed.instance.as_deref(), Some("replica-b"));
    assert_eq!(resumed.resumes, 1);
    assert_eq!(resumed.requested_by.as_deref(), Some("user_oncall"));
    let report = resumed.report.clone().unwrap();
    assert!(report.users_from_checkpoint > 0, "{report:?}");
    assert_eq!(resumed.progress.revoked, report.revoked, "{resumed:?}");
    assert_eq!(report.users_excluded, 1);
    assert_eq!(
        (
            report.sessions_found,
            report.revoked,
            report.already_inactive
        ),
        (before, before, 0),
        "every session live at the start revoked and counted once: {report:?}"
    );
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(live_others(), 0);
}

/// Without the store, no job starts and a running one stops (it could not record what it
/// does); a store back empty has forgotten the job, and the next one starts and runs. `kill`
/// takes the store away from both replicas, `restart` brings it back empty.
///
/// # Panics
///
/// On the first broken rule.
pub async fn check_jobs_without_the_store(
    a: Arc<dyn FleetStore>,
    b: Arc<dyn FleetStore>,
    kill: impl FnOnce(),
    restart: impl AsyncFnOnce(),
) {
    let (sim, replica_a, replica_b) = slow_fleet(a, b).await;
    let plan = RevocationPlan::new(RevocationTarget::AllUsers).concurrency(2);
    let job = replica_a.start(plan.clone(), None).await.unwrap();
    until_progress(&replica_b, job.as_str(), 2).await;

    kill();
    let stopped = within(
        "the holder stops without the store",
        replica_a.wait(job.as_str()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(stopped.state, JobState::Failed, "{stopped:?}");
    match replica_b.start(plan.clone(), None).await {
        Err(JobError::Store(_)) => {}
        other => panic!("a job started without the store: {other:?}"),
    }
    assert!(
        replica_b.status(job.as_str()).await.is_err(),
        "an unknown job without the store is an error, not a 404"
    );
    assert_eq!(
        replica_a.status(job.as_str()).await.unwrap().unwrap().state,
        JobState::Failed,
        "the holder still shows what it knows"
    );

    restart().await;
    sim.set_faults(Faults::default());
    let next = within("a job starts once the store is back", async {
        loop {
            match replica_b.start(plan.clone(), None).await {
                Ok(next) => return next,
                Err(JobError::Store(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(err) => panic!("{err}"),
            }
        }
    })
    .await;
    let finished = within("the next job ends", replica_b.wait(next.as_str()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(finished.state, JobState::Finished, "{finished:?}");
    assert_eq!(live(&sim), 0);
    assert_eq!(
        replica_b.status(job.as_str()).await.unwrap(),
        None,
        "the store back empty has forgotten the old job"
    );
}

/// Orphaned jobs that cannot run are ended, never run and never left holding the slot: one
/// whose start failed before its record was written (a 503 told the operator no job started),
/// and one whose record is unreadable, both with a checkpoint that would revoke everyone.
/// `store` is an empty store.
///
/// # Panics
///
/// On the first broken rule.
pub async fn check_orphans_that_cannot_run_are_ended(store: Arc<dyn FleetStore>) {
    let sim = Sim::builder().users(5).start().await.unwrap();
    let live_before = live(&sim);
    for (job, record) in [(job_id(3), None), (job_id(4), Some("not a job record"))] {
        let LeaseGrant::Granted(lease) = store
            .acquire_lease(&job, "crashed", Duration::from_millis(300))
            .await
            .unwrap()
        else {
            panic!("an empty slot");
        };
        if let Some(record) = record {
            assert!(store.write_job(&lease, record).await.unwrap());
        }
        // A checkpoint that would run: every user, for real.
        let start = r#"{"record":"start","version":1,"plan":{"target":{"kind":"all_users"},"exclude_users":[],"sessions_created_before":null,"max_session_lifetime_ms":604800000,"dry_run":false},"active_since":0,"started_at":0}"#;
        assert!(
            store
                .append_checkpoint(&lease, &[start.to_owned()])
                .await
                .unwrap()
        );
        let jobs = replica(&sim, Arc::clone(&store), "replica-b");
        let ended = within("the orphan is ended", async {
            loop {
                if store.current_job().await.unwrap().is_none() {
                    return jobs.status(&job).await.unwrap().unwrap();
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert_eq!(ended.state, JobState::Failed, "{ended:?}");
        assert!(ended.error.is_some(), "{ended:?}");
        assert!(ended.report.is_none(), "never run: {ended:?}");
    }
    assert_eq!(live(&sim), live_before, "nothing revoked");
}
