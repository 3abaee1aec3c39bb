//! The holder's side of a fleet job: renewing its lease, publishing its status for the other
//! replicas, and noticing a cancel request made on any of them.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

use super::job_status::{CancelRequest, JobStatus};
use super::job_store::{JobLease, JobStoreError, SharedJobs};

/// Why a holder stops its job before the run ends.
#[derive(Debug)]
pub(crate) enum Stop {
    /// An operator cancelled the job, on any replica.
    Cancelled(CancelRequest),
    /// Another instance holds the lease now: it resumes the job.
    LeaseLost,
    /// The store has not renewed the lease for half its lifetime: the holder stops before the
    /// lease can expire, so that no two instances ever run the job together.
    StoreLost(JobStoreError),
}

/// Keeps `lease` while the job runs, every [`SharedJobs::tick`]: renews it, looks for a
/// cancel request, and writes `status` when it changed. Returns only to stop the job.
pub(crate) async fn keep(
    shared: &SharedJobs,
    lease: &JobLease,
    status: &watch::Sender<JobStatus>,
) -> Stop {
    let store = &shared.store;
    let mut ticks = tokio::time::interval(shared.tick());
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticks.tick().await;
    // Measured from before the call that renewed it: the store's expiry is no later.
    let mut renewed_at = Instant::now();
    let mut published: Option<JobStatus> = None;
    loop {
        ticks.tick().await;
        let sent = Instant::now();
        match store.renew_lease(lease, shared.lease_ttl).await {
            Ok(true) => renewed_at = sent,
            Ok(false) => return Stop::LeaseLost,
            Err(err) => {
                let unrenewed = renewed_at.elapsed();
                if unrenewed >= shared.lease_ttl / 2 {
                    return Stop::StoreLost(err);
                }
                tracing::warn!(job = %lease.job, error = %err, unrenewed_ms = millis(unrenewed), "cannot renew the revocation job's lease; the job stops if the store stays away for half the lease");
                continue;
            }
        }
        match store.cancel_request(&lease.job).await {
            Ok(Some(request)) => match serde_json::from_str::<CancelRequest>(&request) {
                Ok(request) => return Stop::Cancelled(request),
                Err(err) => {
                    // Someone asked for a cancel; who, the record does not say.
                    tracing::warn!(job = %lease.job, error = %err, "unreadable cancel request; cancelling");
                    return Stop::Cancelled(CancelRequest {
                        by: None,
                        at_ms: super::job_status::now_ms(),
                    });
                }
            },
            Ok(None) => {}
            Err(err) => {
                tracing::debug!(job = %lease.job, error = %err, "cannot read the cancel request");
            }
        }
        let current = status.borrow().clone();
        if published.as_ref() != Some(&current) {
            match publish(shared, lease, &current).await {
                Ok(true) => published = Some(current),
                Ok(false) => return Stop::LeaseLost,
                Err(err) => {
                    tracing::debug!(job = %lease.job, error = %err, "cannot publish the job's progress");
                }
            }
        }
    }
}

/// Writes `status` as the record of `lease`'s job, fenced by the lease.
pub(crate) async fn publish(
    shared: &SharedJobs,
    lease: &JobLease,
    status: &JobStatus,
) -> Result<bool, JobStoreError> {
    let record =
        serde_json::to_string(status).map_err(|err| JobStoreError::Invalid(err.to_string()))?;
    shared.store.write_job(lease, &record).await
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
