//! The holder's side of a fleet job: renewing its lease, publishing its status for the other
//! replicas, and noticing a cancel request made on any of them.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

use super::job_status::{CancelRequest, JobStatus};
use super::job_store::{JobLease, JobStoreError, SharedJobs};
use crate::api::SendDeadline;

/// Why a holder stops its job before the run ends.
#[derive(Debug)]
pub(crate) enum Stop {
    /// An operator cancelled the job, on any replica.
    Cancelled(CancelRequest),
    /// Another instance holds the lease now: it resumes the job.
    LeaseLost,
    /// The store has not renewed the lease for half its lifetime: the holder stops before the
    /// lease can expire, so that no two instances act on the job together.
    StoreLost(JobStoreError),
}

/// Until when a holder may act on its lease: half the lease after the last call that renewed
/// it (or took it) was sent, by this process's monotonic clock; the store's expiry is no
/// earlier. The holder's run sends no request to Clerk past it
/// ([`sending_until`](crate::api::sending_until)), and checks it before each user, so that it
/// never acts once another instance could hold the lease. Clones share the deadline.
#[derive(Clone, Debug)]
pub(crate) struct LeaseClock {
    job: String,
    act_until: SendDeadline,
    /// When the last successful renewal (or the acquire) was sent.
    renewed: Arc<Mutex<Instant>>,
    ttl: Duration,
}

impl LeaseClock {
    /// The clock of `job`'s lease of `ttl`, asked for at `sent`.
    pub(crate) fn new(job: &str, sent: Instant, ttl: Duration) -> Self {
        Self {
            job: job.to_owned(),
            act_until: SendDeadline::new(sent + ttl / 2),
            renewed: Arc::new(Mutex::new(sent)),
            ttl,
        }
    }

    fn renewed(&self, sent: Instant) {
        *self.renewed.lock().unwrap_or_else(PoisonError::into_inner) = sent;
        self.act_until.set(sent + self.ttl / 2);
    }

    /// The deadline the run's requests go out under.
    pub(crate) fn deadline(&self) -> SendDeadline {
        self.act_until.clone()
    }

    /// What is left of the lease itself (the store's expiry is no earlier): how long a call
    /// to the store may take and still renew it.
    fn lease_left(&self) -> Duration {
        let renewed = *self.renewed.lock().unwrap_or_else(PoisonError::into_inner);
        (renewed + self.ttl).saturating_duration_since(Instant::now())
    }

    /// True once the holder must stop acting.
    pub(crate) fn expired(&self) -> bool {
        Instant::now() >= self.act_until.at()
    }

    /// The error of a holder that would act past its lease.
    pub(crate) fn lost(&self) -> super::RevocationError {
        super::RevocationError::LeaseLost {
            job: self.job.clone(),
        }
    }
}

/// Keeps `lease` while the job runs, every [`SharedJobs::tick`] from now on: renews it (and
/// moves `clock` on), looks for a cancel request, and writes `status` when it changed. Every
/// call is bounded by what is left of the lease. Returns only to stop the job.
pub(crate) async fn keep(
    shared: &SharedJobs,
    lease: &JobLease,
    status: &watch::Sender<JobStatus>,
    clock: &LeaseClock,
) -> Stop {
    let store = &shared.store;
    let mut ticks = tokio::time::interval(shared.tick());
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut published: Option<JobStatus> = None;
    loop {
        ticks.tick().await;
        let sent = Instant::now();
        let renewed = tokio::time::timeout(
            clock.lease_left(),
            store.renew_lease(lease, shared.lease_ttl),
        )
        .await
        .unwrap_or_else(|_| {
            Err(JobStoreError::Unavailable(
                "no answer within what was left of the lease".into(),
            ))
        });
        match renewed {
            Ok(true) => clock.renewed(sent),
            Ok(false) => return Stop::LeaseLost,
            Err(err) => {
                if clock.expired() {
                    return Stop::StoreLost(err);
                }
                tracing::warn!(job = %lease.job, error = %err, lease_left_ms = millis(clock.lease_left()), "cannot renew the revocation job's lease; the job stops if the store stays away for half the lease");
                continue;
            }
        }
        let cancel = tokio::time::timeout(clock.lease_left(), store.cancel_request(&lease.job))
            .await
            .unwrap_or_else(|_| Err(JobStoreError::Unavailable("no answer".into())));
        match cancel {
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
            let written =
                tokio::time::timeout(clock.lease_left(), publish(shared, lease, &current))
                    .await
                    .unwrap_or_else(|_| Err(JobStoreError::Unavailable("no answer".into())));
            match written {
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
