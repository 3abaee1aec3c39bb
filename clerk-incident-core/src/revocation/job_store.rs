//! [`RevocationJobStore`]: one mass revocation at a time for a whole fleet, visible from every
//! replica.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

/// How long a job's lease lasts without a renewal: a crashed holder's job is resumed
/// elsewhere this long after its last renewal.
pub const DEFAULT_JOB_LEASE_TTL: Duration = Duration::from_secs(15);

/// How long the fleet's store keeps a job's record, checkpoint and cancel request after the
/// last write: status stays readable for a week, and the store stays bounded. (The in-memory
/// store keeps the last [`JOBS_KEPT`](super::JOBS_KEPT) jobs instead.)
pub const JOB_RECORD_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Why a [`RevocationJobStore`] call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JobStoreError {
    /// The store cannot be reached or did not answer in time.
    #[error("the fleet store is unreachable: {0}")]
    Unavailable(String),
    /// The store answered with something that is not a job record.
    #[error("the fleet store holds an invalid job record: {0}")]
    Invalid(String),
}

/// A lease on the fleet's revocation slot, as the store granted it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobLease {
    /// The job it runs.
    pub job: String,
    /// The instance that holds it.
    pub holder: String,
    /// The fencing token: greater than every token granted before, in this store.
    pub fence: u64,
}

impl JobLease {
    /// A lease of `job` held by `holder` under `fence` (what a store returns).
    pub fn new(job: impl Into<String>, holder: impl Into<String>, fence: u64) -> Self {
        Self {
            job: job.into(),
            holder: holder.into(),
            fence,
        }
    }
}

/// What [`RevocationJobStore::acquire_lease`] answered.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeaseGrant {
    /// The lease is this caller's.
    Granted(JobLease),
    /// Another job holds the slot: its lease is live, or it has not ended.
    Held {
        /// That job.
        job: String,
    },
}

/// The job that holds the fleet's revocation slot.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CurrentJob {
    /// The job.
    pub job: String,
    /// The instance holding its lease; `None` when the lease expired (its holder died) and
    /// no one has resumed it yet.
    pub holder: Option<String>,
}

impl CurrentJob {
    /// The current job `job`, whose lease `holder` holds (`None`: expired).
    pub fn new(job: impl Into<String>, holder: Option<String>) -> Self {
        Self {
            job: job.into(),
            holder,
        }
    }
}

/// Where a fleet keeps its revocation jobs: one mass revocation at a time for a whole fleet,
/// visible from every replica.
///
/// The admin routes of every replica share one store (the fleet's: a few Redis keys in
/// `clerk-incident-redis`, the process's memory in
/// [`MemoryFleetStore`](crate::fleet::MemoryFleetStore)) that holds:
///
/// * **the lease**: which job runs, on which instance, under which *fencing token*. Taking it
///   draws a new token from a counter that never goes back; the holder renews it every
///   [`SharedJobs::tick`], and a crashed holder's lease expires after
///   [`SharedJobs::lease_ttl`];
/// * **the current job**: the job the lease was last taken for, until that job ends. While it
///   is set, no other job can start: a job whose holder died is resumed (by the first replica
///   to take its expired lease) or cancelled, never forgotten;
/// * **each job's record** (its [`JobStatus`](super::JobStatus) as JSON), **its checkpoint**
///   (the lines of a checkpoint file, appended), and **its cancel request**.
///
/// Every write a holder makes (record, checkpoint lines, release) names its lease and is
/// refused once another holder took the lease over, so that a holder paused for longer than
/// its lease (a stopped process, a long GC) cannot write over its successor's work. Calls to
/// Clerk cannot be fenced: a holder makes them only within half its lease after its last
/// renewal was sent, by its own monotonic clock, and stops once that has passed.
///
/// Job ids are [`JobId`](super::JobId)s (`job_` and 32 hex digits), checked by the caller.
/// Every call is bounded in time by the implementation; a failure is an error, never a
/// default.
#[async_trait]
pub trait RevocationJobStore: Send + Sync + 'static {
    /// Takes the slot for `job`, held by `holder` for `ttl`, with a new fencing token: when no
    /// lease is live and the current job is `job` or none (then `job` becomes it).
    async fn acquire_lease(
        &self,
        job: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<LeaseGrant, JobStoreError>;

    /// Extends `lease` to `ttl` from now; `false` when it is no longer held under that token
    /// (expired and taken over, or the store lost it).
    async fn renew_lease(&self, lease: &JobLease, ttl: Duration) -> Result<bool, JobStoreError>;

    /// Ends `lease` and its job: the slot is free for the next one. `false` when it was no
    /// longer held under that token (nothing changed).
    async fn release_lease(&self, lease: &JobLease) -> Result<bool, JobStoreError>;

    /// The job holding the slot, if any.
    async fn current_job(&self) -> Result<Option<CurrentJob>, JobStoreError>;

    /// Replaces the record of `lease`'s job with `record`, if `lease` still holds; `false`
    /// (nothing written) otherwise.
    async fn write_job(&self, lease: &JobLease, record: &str) -> Result<bool, JobStoreError>;

    /// The record of `job`; `None` for a job it does not know (or forgot).
    async fn job(&self, job: &str) -> Result<Option<String>, JobStoreError>;

    /// Appends `lines` to the checkpoint of `lease`'s job, if `lease` still holds; `false`
    /// (nothing written) otherwise.
    async fn append_checkpoint(
        &self,
        lease: &JobLease,
        lines: &[String],
    ) -> Result<bool, JobStoreError>;

    /// The checkpoint lines of `job`, in the order they were appended.
    async fn checkpoint(&self, job: &str) -> Result<Vec<String>, JobStoreError>;

    /// Asks the holder of `job` to cancel it, with `request` (who asked, when): the first
    /// request stays. Returns the request in force.
    async fn request_cancel(&self, job: &str, request: &str) -> Result<String, JobStoreError>;

    /// The cancel request of `job`, if any.
    async fn cancel_request(&self, job: &str) -> Result<Option<String>, JobStoreError>;
}

/// Where, and as which instance, a replica runs the fleet's revocation jobs:
/// [`RevocationJobs::share`](super::RevocationJobs::share) takes it, and a fleet member hands
/// it out ([`AuthPolicy::fleet_jobs`](crate::auth::AuthPolicy::fleet_jobs)).
#[derive(Clone)]
#[non_exhaustive]
pub struct SharedJobs {
    /// The fleet's store.
    pub store: Arc<dyn RevocationJobStore>,
    /// This instance's id, as the lease and the status name it.
    pub instance_id: String,
    /// How long a lease lasts without renewal ([`DEFAULT_JOB_LEASE_TTL`]).
    pub lease_ttl: Duration,
}

impl SharedJobs {
    /// Jobs in `store`, run as `instance_id`, with the default lease.
    pub fn new(store: Arc<dyn RevocationJobStore>, instance_id: impl Into<String>) -> Self {
        Self {
            store,
            instance_id: instance_id.into(),
            lease_ttl: DEFAULT_JOB_LEASE_TTL,
        }
    }

    /// Sets the lease's lifetime, from 300 ms (tests and drills use short ones) to 5 minutes.
    /// A holder acts only within half of it after each renewal, so a short lease stops a job
    /// at a short loss of the store.
    #[must_use]
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl.clamp(Duration::from_millis(300), Duration::from_secs(300));
        self
    }

    /// How often a holder renews its lease, publishes its progress and looks for a cancel
    /// request, and how often an idle replica looks for a job to resume: a third of the
    /// lease, at most a second.
    pub fn tick(&self) -> Duration {
        (self.lease_ttl / 3).min(Duration::from_secs(1))
    }
}

impl fmt::Debug for SharedJobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedJobs")
            .field("instance_id", &self.instance_id)
            .field("lease_ttl", &self.lease_ttl)
            .finish_non_exhaustive()
    }
}
