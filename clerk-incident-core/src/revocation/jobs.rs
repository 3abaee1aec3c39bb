//! [`RevocationJobs`]: revocation runs in the background, one at a time, for the adapters'
//! admin endpoints (`POST /admin/clerk/sessions/revoke`, `GET …/revoke/{job}`,
//! `DELETE …/revoke/{job}`; see [`REVOKE_PATH`](super::REVOKE_PATH)).
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use clerk_incident_core::api::{ClerkApi, SecretKey};
//! use clerk_incident_core::revocation::{JobState, RevocationJobs, RevocationPlan, RevocationTarget};
//!
//! let sim = clerk_incident_sim::Sim::builder().users(20).sessions(30).start().await?;
//! let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
//!     .base_url(sim.base_url())
//!     .without_rate_limit()
//!     .build()?;
//! let jobs = RevocationJobs::new(api);
//! let job = jobs.start(RevocationPlan::new(RevocationTarget::AllUsers), None).await?;
//! let status = jobs.wait(job.as_str()).await?.ok_or("unknown job")?;
//! assert_eq!(status.state, JobState::Finished);
//! # Ok(())
//! # }
//! ```

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::AbortHandle;

use super::checkpoint::{Journal, PlanFingerprint, Replay};
use super::error::RevocationError;
use super::job_status::{CancelOutcome, CancelRequest, JobId, JobState, JobStatus, now_ms};
use super::job_store::{CurrentJob, JobLease, JobStoreError, LeaseGrant, SharedJobs};
use super::lease_keeper::{self, LeaseClock, Stop};
use super::plan::RevocationPlan;
use super::report::{Progress, RevocationReport};
use super::revoker::SessionRevoker;
use crate::api::{ClerkApi, SecretKey, SharedBudget, sending_until};
use crate::auth::{AuthPolicy, Operator, SessionDenier};
use crate::error_chain::error_chain;

/// Finished jobs kept for `GET`, oldest forgotten first.
pub const JOBS_KEPT: usize = 64;

/// How long a cancel on the holder waits for its job to stop and free the fleet's slot.
const CANCEL_WAIT: Duration = Duration::from_secs(10);

/// Why [`RevocationJobs::start`] started nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// A job is running (in a fleet: on any replica, or waiting to be resumed); only one runs
    /// at a time.
    #[error("revocation job {job} is still running")]
    AlreadyRunning {
        /// The running job.
        job: JobId,
    },
    /// The plan cannot be run.
    #[error("invalid revocation plan: {0}")]
    InvalidPlan(String),
    /// `start` was called outside a Tokio runtime.
    #[error("no Tokio runtime to run the job on")]
    NoRuntime,
    /// In a fleet, the store cannot be reached: no job starts where one at a time cannot be
    /// ensured.
    #[error("cannot start a fleet revocation job")]
    Store(#[source] JobStoreError),
}

/// Background revocation jobs, one running at a time, through one [`ClerkApi`]. Cheap to
/// clone: clones share the jobs.
///
/// On its own, a `RevocationJobs` runs one job at a time in its process. Shared with a fleet
/// ([`share`](RevocationJobs::share), which the adapters' routers do for a policy in a fleet),
/// it runs one job at a time for the whole fleet:
///
/// * a job starts only once its instance holds the fleet's lease
///   ([`RevocationJobStore`](super::RevocationJobStore)); a second start on any replica answers `409 job_running`;
/// * its status and progress are in the store, readable from every replica, and any replica
///   can cancel it: the holder sees the request within a [tick](SharedJobs::tick) and stops;
/// * its checkpoint is in the store: when the holder dies, its lease expires and the first
///   replica to take it over resumes the job where the checkpoint stops, counting every
///   session once;
/// * without the store, no job starts (503), and a running one stops at its next checkpoint
///   write, to be resumed once the store is back: a lost store never lets two run at once.
#[derive(Clone)]
pub struct RevocationJobs {
    inner: Arc<Inner>,
}

struct Inner {
    api: ClerkApi,
    next: AtomicU64,
    registry: Mutex<Registry>,
    /// Where the jobs report the sessions they revoke.
    denier: Mutex<Option<Arc<dyn SessionDenier>>>,
    /// The fleet's jobs, once shared.
    shared: OnceLock<SharedJobs>,
    /// Set once the task that resumes orphaned fleet jobs runs.
    resumer_started: AtomicBool,
}

#[derive(Default)]
struct Registry {
    running: Option<JobId>,
    order: VecDeque<JobId>,
    jobs: HashMap<JobId, Arc<watch::Sender<JobStatus>>>,
    /// The task of the running job, to cancel it.
    task: Option<AbortHandle>,
    /// Wakes the running fleet job's task when it is cancelled on this instance.
    cancel: Option<Arc<Notify>>,
}

/// How a launched job keeps its record.
enum Keeping {
    /// In this process only.
    Local,
    /// In the fleet store, under `lease` (valid by `clock`), with the checkpoint opened.
    Shared {
        lease: JobLease,
        clock: LeaseClock,
        journal: Box<(Journal, Replay)>,
    },
}

impl fmt::Debug for RevocationJobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let registry = self.registry();
        f.debug_struct("RevocationJobs")
            .field("api", &self.inner.api)
            .field("running", &registry.running)
            .field("jobs", &registry.jobs.len())
            .field("shared", &self.inner.shared.get())
            .finish()
    }
}

impl RevocationJobs {
    /// Jobs revoking through `api` (whose pacer keeps them under the instance's rate limit).
    pub fn new(api: ClerkApi) -> Self {
        Self {
            inner: Arc::new(Inner {
                api,
                next: AtomicU64::new(0),
                registry: Mutex::new(Registry::default()),
                denier: Mutex::new(None),
                shared: OnceLock::new(),
                resumer_started: AtomicBool::new(false),
            }),
        }
    }

    /// Reports the sessions every later job revokes to `denier`, so that no instance accepts
    /// their tokens in `Grace` or `Open` ([`SessionRevoker::deny_with`]). The adapters'
    /// revocation routers set their policy's
    /// [`session_denier`](crate::auth::AuthPolicy::session_denier); clones share it.
    #[must_use]
    pub fn deny_with(self, denier: Arc<dyn SessionDenier>) -> Self {
        *self
            .inner
            .denier
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(denier);
        self
    }

    /// Runs the jobs for the whole fleet of `shared` (see [`RevocationJobs`]): one at a time
    /// fleet-wide, status and cancel from any replica, resumed elsewhere when this instance
    /// dies. From then on this instance also resumes the fleet's orphaned jobs. Set once;
    /// later calls change nothing.
    #[must_use]
    pub fn share(self, shared: SharedJobs) -> Self {
        if self.inner.shared.set(shared).is_ok() {
            self.start_resumer();
        }
        self
    }

    /// What the adapters' routers do for the service of `policy`: the jobs report to its
    /// [`session_denier`](AuthPolicy::session_denier) and, in a fleet, are
    /// [shared](Self::share) with it ([`AuthPolicy::fleet_jobs`]).
    #[must_use]
    pub fn for_service(self, policy: &AuthPolicy) -> Self {
        let jobs = self.deny_with(policy.session_denier());
        match policy.fleet_jobs() {
            Some(shared) => jobs.share(shared),
            None => jobs,
        }
    }

    /// Jobs revoking through a client built from `CLERK_SECRET_KEY` and `CLERK_API_URL`
    /// (default `https://api.clerk.com`), paced to the documented limit of the key's instance;
    /// `None` when `CLERK_SECRET_KEY` is unset or empty.
    ///
    /// # Errors
    ///
    /// [`ApiError::Config`](crate::api::ApiError::Config) when the URL or key is unusable.
    pub fn from_env() -> Result<Option<Self>, crate::api::ApiError> {
        Self::from_env_with_budget(None)
    }

    /// [`from_env`](Self::from_env) for the service of `policy`: in a fleet, the client
    /// shares the fleet's Backend API budget ([`AuthPolicy::fleet_budget`]), so that the
    /// replicas' jobs and the operators' CLI runs together stay under Clerk's limit.
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    pub fn from_env_for(policy: &AuthPolicy) -> Result<Option<Self>, crate::api::ApiError> {
        Self::from_env_with_budget(policy.fleet_budget())
    }

    fn from_env_with_budget(
        budget: Option<Arc<dyn SharedBudget>>,
    ) -> Result<Option<Self>, crate::api::ApiError> {
        let Some(key) = std::env::var("CLERK_SECRET_KEY")
            .ok()
            .filter(|key| !key.trim().is_empty())
        else {
            return Ok(None);
        };
        let mut builder = ClerkApi::builder(SecretKey::new(key.trim()));
        if let Some(url) = std::env::var("CLERK_API_URL")
            .ok()
            .filter(|url| !url.trim().is_empty())
        {
            builder = builder.base_url(url.trim());
        }
        if let Some(budget) = budget {
            builder = builder.shared_budget(budget);
        }
        builder.build().map(|api| Some(Self::new(api)))
    }

    /// Starts running `plan` on the current Tokio runtime and returns once it runs (in a
    /// fleet: once this instance holds the fleet's lease for it).
    ///
    /// # Errors
    ///
    /// [`JobError::AlreadyRunning`] while another job runs (in a fleet, anywhere),
    /// [`JobError::InvalidPlan`], [`JobError::NoRuntime`] outside a Tokio runtime,
    /// [`JobError::Store`] when the fleet's store cannot be reached.
    ///
    /// `operator` is who asked (the admin endpoint passes the [`Operator`] its guard
    /// qualified); the job's status and its audit log line name them.
    pub async fn start(
        &self,
        plan: RevocationPlan,
        operator: Option<&Operator>,
    ) -> Result<JobId, JobError> {
        plan.validate()
            .map_err(|err| JobError::InvalidPlan(err.to_string()))?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| JobError::NoRuntime)?;
        if let Some(job) = self.running() {
            return Err(JobError::AlreadyRunning { job });
        }
        let id = JobId::generate(self.inner.next.fetch_add(1, Ordering::Relaxed));
        let Some(shared) = self.inner.shared.get() else {
            let status = JobStatus::started(id, operator, plan.is_dry_run(), None);
            return self.launch(&runtime, status, plan, Keeping::Local);
        };
        self.start_resumer();
        let asked = tokio::time::Instant::now();
        let lease = match shared
            .store
            .acquire_lease(id.as_str(), &shared.instance_id, shared.lease_ttl)
            .await
            .map_err(JobError::Store)?
        {
            LeaseGrant::Granted(lease) => lease,
            LeaseGrant::Held { job } => {
                return Err(JobError::AlreadyRunning {
                    job: JobId::from_store(job),
                });
            }
        };
        let clock = LeaseClock::new(&lease.job, asked, shared.lease_ttl);
        let status = JobStatus::started(
            id,
            operator,
            plan.is_dry_run(),
            Some(shared.instance_id.clone()),
        );
        // The record first, then the checkpoint's start: a job whose start failed half-way has
        // no record or no plan, and the replica that finds it orphaned ends it, never runs it.
        let written = match lease_keeper::publish(shared, &lease, &status).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(JobStoreError::Unavailable(
                "the job's lease expired before its record was written".into(),
            )),
            Err(err) => Err(err),
        };
        if let Err(err) = written {
            abandon(shared, &lease).await;
            return Err(JobError::Store(err));
        }
        let now = now_ms();
        let opened = Journal::start_shared(
            Arc::clone(&shared.store),
            lease.clone(),
            &PlanFingerprint::of(&plan),
            plan.active_since(now),
            now,
        )
        .await;
        let journal = match opened {
            Ok(journal) => journal,
            Err(err) => {
                abandon(shared, &lease).await;
                return Err(JobError::Store(store_error(&err)));
            }
        };
        self.launch(
            &runtime,
            status,
            plan,
            Keeping::Shared {
                lease,
                clock,
                journal: Box::new(journal),
            },
        )
    }

    /// Puts the job of `status` in the registry and spawns its run.
    fn launch(
        &self,
        runtime: &tokio::runtime::Handle,
        status: JobStatus,
        plan: RevocationPlan,
        keeping: Keeping,
    ) -> Result<JobId, JobError> {
        let mut registry = self.registry();
        if let Some(job) = &registry.running {
            // Only a local race: in a fleet, the lease lets one start through.
            return Err(JobError::AlreadyRunning { job: job.clone() });
        }
        let id = status.id.clone();
        let by = operator_name(status.operator.as_ref());
        let sender = Arc::new(watch::Sender::new(status));
        registry.running = Some(id.clone());
        registry.order.push_back(id.clone());
        registry.jobs.insert(id.clone(), Arc::clone(&sender));
        registry.forget_old();

        // The registry stays locked until the task's handle is in it, so that neither the
        // task's end nor a cancel can come in between.
        tracing::warn!(job = %id, operator = %by, dry_run = plan.is_dry_run(), target = ?plan.target(), "mass session revocation job started by {by}");
        let guard = RunningGuard {
            jobs: self.clone(),
            id: id.clone(),
            sender,
        };
        let revoker = self.revoker(plan);
        let task = match keeping {
            Keeping::Local => runtime.spawn(async move {
                let result = revoker
                    .run(None, progress_of(Arc::clone(&guard.sender)))
                    .await;
                guard.finish(result);
            }),
            Keeping::Shared {
                lease,
                clock,
                journal,
            } => {
                let cancel = Arc::new(Notify::new());
                registry.cancel = Some(Arc::clone(&cancel));
                let shared = self.inner.shared.get().cloned();
                let revoker = revoker.within_lease(clock.clone());
                runtime.spawn(async move {
                    if let Some(shared) = shared {
                        guard
                            .run_shared(&shared, revoker, (lease, clock), *journal, &cancel)
                            .await;
                    }
                })
            }
        };
        registry.task = Some(task.abort_handle());
        drop(registry);
        Ok(id)
    }

    /// A revoker of `plan` reporting to the jobs' denier.
    fn revoker(&self, plan: RevocationPlan) -> SessionRevoker {
        let revoker = SessionRevoker::new(self.inner.api.clone(), plan);
        let denier = self
            .inner
            .denier
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match denier {
            Some(denier) => revoker.deny_with(denier),
            None => revoker,
        }
    }

    /// Cancels job `id` if it is running, on behalf of `operator`.
    ///
    /// On its own, the run's task is aborted, which takes effect at its next await: no
    /// further user is listed and no further session revoked after that. The calls in flight
    /// at that instant are abandoned, so the sessions they were revoking may or may not be
    /// revoked; [`JobStatus::progress`] counts what had completed, and a later run (or the
    /// CLI's `sessions revoke`) counts the rest as already inactive.
    ///
    /// In a fleet, the request goes to the store: cancelled on the holder, the job stops at
    /// once and this returns once it has; cancelled elsewhere, the holder stops within a
    /// [tick](SharedJobs::tick), and the status returned already says `cancelled`.
    ///
    /// # Errors
    ///
    /// [`JobStoreError`] when a fleet's store cannot be reached: the request is not recorded
    /// (without the store the job makes no progress either; cancel again once it is back).
    pub async fn cancel(
        &self,
        id: &str,
        operator: Option<&Operator>,
    ) -> Result<CancelOutcome, JobStoreError> {
        let Some(shared) = self.inner.shared.get() else {
            return Ok(self.cancel_local(id, operator));
        };
        let Some(job) = JobId::parse(id) else {
            return Ok(CancelOutcome::Unknown);
        };
        let request = CancelRequest {
            by: operator.cloned(),
            at_ms: now_ms(),
        };
        let encoded = serde_json::to_string(&request)
            .map_err(|err| JobStoreError::Invalid(err.to_string()))?;
        let local = {
            let registry = self.registry();
            (registry.running.as_ref() == Some(&job))
                .then(|| registry.cancel.clone())
                .flatten()
        };
        if let Some(notify) = local {
            // The record first, so that the cancel holds even if this instance dies now.
            shared.store.request_cancel(job.as_str(), &encoded).await?;
            notify.notify_one();
            let by = operator_name(operator);
            tracing::warn!(job = id, operator = %by, "mass session revocation job cancelled by {by}");
            let ended = tokio::time::timeout(CANCEL_WAIT, self.wait_local(id)).await;
            let status = match ended {
                Ok(Some(status)) => status,
                _ => match self.local_status(id) {
                    Some(status) => status,
                    None => return Ok(CancelOutcome::Unknown),
                },
            };
            return Ok(match status.state {
                JobState::Cancelled => CancelOutcome::Cancelled(status),
                // Recorded, still stopping (a slow store): it stops at its next tick.
                JobState::Running => {
                    let mut status = status;
                    status.cancel(request.by, request.at_ms);
                    CancelOutcome::Cancelled(status)
                }
                // Left this instance meanwhile (lease or store lost): whoever resumes it sees
                // the request.
                JobState::Failed => match self.stored_status(shared, &job, true).await {
                    Ok(Some(stored)) if stored.state == JobState::Cancelled => {
                        CancelOutcome::Cancelled(stored)
                    }
                    _ => CancelOutcome::AlreadyEnded(status),
                },
                _ => CancelOutcome::AlreadyEnded(status),
            });
        }
        let Some(status) = self.stored_status(shared, &job, true).await? else {
            return Ok(match self.local_status(id) {
                Some(status) => CancelOutcome::AlreadyEnded(status),
                None => CancelOutcome::Unknown,
            });
        };
        if status.state != JobState::Running {
            return Ok(CancelOutcome::AlreadyEnded(status));
        }
        let in_force = shared.store.request_cancel(job.as_str(), &encoded).await?;
        // The holder may have ended the job meanwhile: its record says so, not the request.
        let status = match self.stored_status(shared, &job, false).await? {
            // Cancelled by this very request, acted upon already.
            Some(ended) if ended.state == JobState::Cancelled => {
                return Ok(CancelOutcome::Cancelled(ended));
            }
            Some(ended) if ended.state != JobState::Running => {
                return Ok(CancelOutcome::AlreadyEnded(ended));
            }
            Some(running) => running,
            None => status,
        };
        let mut status = status;
        let first = serde_json::from_str::<CancelRequest>(&in_force).unwrap_or(request);
        status.cancel(first.by, first.at_ms);
        let by = operator_name(operator);
        tracing::warn!(job = id, operator = %by, holder = status.instance.as_deref(), "mass session revocation job cancelled by {by}; its holder stops it");
        Ok(CancelOutcome::Cancelled(status))
    }

    fn cancel_local(&self, id: &str, operator: Option<&Operator>) -> CancelOutcome {
        let Some(sender) = self.sender(id) else {
            return CancelOutcome::Unknown;
        };
        let mut registry = self.registry();
        let cancelled =
            sender.send_if_modified(|status| status.cancel(operator.cloned(), now_ms()));
        if cancelled {
            if registry
                .running
                .as_ref()
                .is_some_and(|running| running.as_str() == id)
            {
                registry.running = None;
                if let Some(task) = registry.task.take() {
                    task.abort();
                }
            }
            drop(registry);
            let by = operator_name(operator);
            tracing::warn!(job = id, operator = %by, "mass session revocation job cancelled by {by}");
        }
        let status = sender.borrow().clone();
        if cancelled {
            CancelOutcome::Cancelled(status)
        } else {
            CancelOutcome::AlreadyEnded(status)
        }
    }

    /// The status of job `id`; `None` for an unknown (or long forgotten) job. In a fleet, of
    /// a job run anywhere: this instance's view of the job it runs, else the store's record
    /// (with a cancel request not yet acted upon shown as `cancelled`).
    ///
    /// # Errors
    ///
    /// [`JobStoreError`] when a fleet's store cannot be reached and this instance does not
    /// know the job.
    pub async fn status(&self, id: &str) -> Result<Option<JobStatus>, JobStoreError> {
        let Some(shared) = self.inner.shared.get() else {
            return Ok(self.local_status(id));
        };
        self.start_resumer();
        let Some(job) = JobId::parse(id) else {
            return Ok(None);
        };
        if self.running().as_ref() == Some(&job) {
            return Ok(self.local_status(id));
        }
        match self.stored_status(shared, &job, true).await {
            Ok(Some(status)) => Ok(Some(status)),
            Ok(None) => Ok(self.local_status(id)),
            Err(err) => self.local_status(id).map(Some).ok_or(err),
        }
    }

    /// The store's record of `job`; with `pending_cancel`, a cancel request its holder has not
    /// acted upon yet is shown as `cancelled` (it stops within a tick).
    async fn stored_status(
        &self,
        shared: &SharedJobs,
        job: &JobId,
        pending_cancel: bool,
    ) -> Result<Option<JobStatus>, JobStoreError> {
        let Some(record) = shared.store.job(job.as_str()).await? else {
            return Ok(None);
        };
        let mut status: JobStatus = serde_json::from_str(&record)
            .map_err(|err| JobStoreError::Invalid(format!("job {job}: {err}")))?;
        if pending_cancel
            && status.state == JobState::Running
            && let Some(request) = shared.store.cancel_request(job.as_str()).await?
        {
            let request =
                serde_json::from_str::<CancelRequest>(&request).unwrap_or(CancelRequest {
                    by: None,
                    at_ms: now_ms(),
                });
            status.cancel(request.by, request.at_ms);
        }
        Ok(Some(status))
    }

    fn local_status(&self, id: &str) -> Option<JobStatus> {
        let sender = self.sender(id)?;
        let status = sender.borrow().clone();
        Some(status)
    }

    /// The job running on this instance, if any.
    pub fn running(&self) -> Option<JobId> {
        self.registry().running.clone()
    }

    /// Waits until job `id` has ended and returns its final status; `None` for an unknown
    /// job. In a fleet, a job run elsewhere is read from the store every
    /// [tick](SharedJobs::tick).
    ///
    /// # Errors
    ///
    /// As [`status`](Self::status).
    pub async fn wait(&self, id: &str) -> Result<Option<JobStatus>, JobStoreError> {
        let Some(shared) = self.inner.shared.get() else {
            return Ok(self.wait_local(id).await);
        };
        let Some(job) = JobId::parse(id) else {
            return Ok(None);
        };
        loop {
            if self.running().as_ref() == Some(&job) {
                return Ok(self.wait_local(id).await);
            }
            // The record as its holder wrote it: a cancel it has not acted upon yet is not
            // the end.
            let status = match self.stored_status(shared, &job, false).await {
                Ok(Some(status)) => Some(status),
                Ok(None) => self.local_status(id),
                Err(err) => Some(self.local_status(id).ok_or(err)?),
            };
            match status {
                Some(status) if status.state == JobState::Running => {
                    tokio::time::sleep(shared.tick()).await;
                }
                other => return Ok(other),
            }
        }
    }

    async fn wait_local(&self, id: &str) -> Option<JobStatus> {
        let mut receiver = self.sender(id)?.subscribe();
        let status = receiver
            .wait_for(|status| status.state != JobState::Running)
            .await
            .ok()
            .map(|status| status.clone());
        // The sender lives in the registry, so the wait ends with the job; should it be
        // forgotten meanwhile, its last status is still the answer.
        Some(status.unwrap_or_else(|| receiver.borrow().clone()))
    }

    fn sender(&self, id: &str) -> Option<Arc<watch::Sender<JobStatus>>> {
        self.registry()
            .jobs
            .iter()
            .find(|(job, _)| job.as_str() == id)
            .map(|(_, sender)| Arc::clone(sender))
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.inner
            .registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts, once and when a runtime is at hand, the task that resumes the fleet's orphaned
    /// job: every tick, when this instance runs nothing and the current job's lease has
    /// expired, it takes the lease and resumes the job from its checkpoint. The task ends
    /// with the last clone of these jobs.
    fn start_resumer(&self) {
        let Some(shared) = self.inner.shared.get().cloned() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.inner.resumer_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        // Should this task end (its runtime shut down), the next start or share spawns another.
        let flag = ResumerFlag(weak.clone());
        runtime.spawn(async move {
            let _flag = flag;
            let mut ticks = tokio::time::interval(shared.tick());
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(inner) = weak.upgrade() else {
                    return;
                };
                let jobs = RevocationJobs { inner };
                if jobs.running().is_some() {
                    continue;
                }
                match shared.store.current_job().await {
                    Ok(Some(CurrentJob {
                        job, holder: None, ..
                    })) => jobs.resume(&shared, &job).await,
                    Ok(_) => {}
                    Err(err) => {
                        tracing::debug!(error = %err, "cannot look for a fleet revocation job to resume");
                    }
                }
            }
        });
    }

    /// Takes over `job`, whose holder stopped, and resumes it from its checkpoint (or ends
    /// it, when it was cancelled or cannot be resumed).
    async fn resume(&self, shared: &SharedJobs, job: &str) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let asked = tokio::time::Instant::now();
        let lease = match shared
            .store
            .acquire_lease(job, &shared.instance_id, shared.lease_ttl)
            .await
        {
            Ok(LeaseGrant::Granted(lease)) => lease,
            Ok(_) => return,
            Err(err) => {
                tracing::debug!(job, error = %err, "cannot take over the fleet revocation job");
                return;
            }
        };
        let clock = LeaseClock::new(job, asked, shared.lease_ttl);
        let id = JobId::from_store(job.to_owned());
        let unusable = |reason: String| {
            let mut status =
                JobStatus::started(id.clone(), None, false, Some(shared.instance_id.clone()));
            status.state = JobState::Failed;
            status.finished_at_ms = Some(now_ms());
            status.error = Some(reason);
            status
        };
        let mut status = match self.stored_status(shared, &id, true).await {
            Ok(Some(status)) => status,
            Ok(None) => {
                // Its start failed before the record was written: it never ran.
                let status = unusable(
                    "its start was never confirmed (the fleet store failed as it started): \
                     nothing was revoked"
                        .into(),
                );
                tracing::warn!(
                    job,
                    "ending a fleet revocation job whose start was never confirmed"
                );
                end_shared(shared, &lease, &status).await;
                return;
            }
            Err(JobStoreError::Invalid(reason)) => {
                let status = unusable(format!("its record is unreadable: {reason}"));
                tracing::error!(job, %reason, "ending a fleet revocation job whose record is unreadable");
                end_shared(shared, &lease, &status).await;
                return;
            }
            Err(err) => {
                // Readable later, perhaps: the lease expires and the next tick tries again.
                tracing::warn!(job, error = %err, "cannot read the fleet revocation job to resume");
                return;
            }
        };
        if status.state != JobState::Running {
            // Cancelled (or ended) while no one held it: the record says so; the slot is free.
            tracing::warn!(job, state = ?status.state, "ending the fleet revocation job its stopped holder left");
            end_shared(shared, &lease, &status).await;
            return;
        }
        let (plan, journal, replay) =
            match Journal::resume_shared(Arc::clone(&shared.store), lease.clone()).await {
                Ok(opened) => opened,
                Err(err) => {
                    fail_unresumable(shared, &lease, &mut status, &err).await;
                    return;
                }
            };
        let previous = status.instance.replace(shared.instance_id.clone());
        status.dry_run = plan.is_dry_run();
        status.resumes = status.resumes.saturating_add(1);
        tracing::warn!(
            job,
            previous_holder = previous.as_deref(),
            resumes = status.resumes,
            "resuming the fleet revocation job from its checkpoint: its holder stopped"
        );
        if !matches!(
            lease_keeper::publish(shared, &lease, &status).await,
            Ok(true)
        ) {
            return;
        }
        if self
            .launch(
                &runtime,
                status,
                plan,
                Keeping::Shared {
                    lease,
                    clock,
                    journal: Box::new((journal, replay)),
                },
            )
            .is_err()
        {
            // A local start came in between: leave the lease to expire, resumed later.
            tracing::debug!(job, "not resuming: a job started here meanwhile");
        }
    }
}

/// Clears [`Inner::resumer_started`] when the resumer's task ends.
struct ResumerFlag(Weak<Inner>);

impl Drop for ResumerFlag {
    fn drop(&mut self) {
        if let Some(inner) = self.0.upgrade() {
            inner.resumer_started.store(false, Ordering::Release);
        }
    }
}

impl Registry {
    /// Forgets the oldest ended jobs beyond [`JOBS_KEPT`].
    fn forget_old(&mut self) {
        while self.order.len() > JOBS_KEPT {
            let Some(position) = self
                .order
                .iter()
                .position(|id| Some(id) != self.running.as_ref())
            else {
                return;
            };
            if let Some(id) = self.order.remove(position) {
                self.jobs.remove(&id);
            }
        }
    }
}

/// Updates a job's status from the run's progress events.
fn progress_of(sender: Arc<watch::Sender<JobStatus>>) -> impl FnMut(Progress) + Send {
    move |event| {
        // A cancelled job's status stays as the cancel left it, even for the moment the task
        // runs on before its abort takes effect.
        sender.send_if_modified(|status| {
            if status.state != JobState::Running {
                return false;
            }
            match event {
                Progress::Planned { preview, .. } => status.preview = Some(preview),
                Progress::UserDone { totals, .. } | Progress::Finished { totals } => {
                    status.progress = totals;
                }
            }
            true
        });
    }
}

/// Ends the job when the run returns, and also when the task is dropped (runtime shutdown) or
/// panics, so that a dead job never blocks the next one.
struct RunningGuard {
    jobs: RevocationJobs,
    id: JobId,
    sender: Arc<watch::Sender<JobStatus>>,
}

/// How a fleet job's run ended on its holder.
enum Ending {
    /// The record and the lease are written and released: the job is over for the fleet.
    Final(Box<JobStatus>),
    /// The job stays the fleet's current one, to be resumed by whoever takes its lease next
    /// (this instance lost it, or the store): only this instance's view ends.
    Left(String),
}

impl RunningGuard {
    fn finish(self, result: Result<RevocationReport, RevocationError>) {
        self.end(|status| apply_result(status, result));
    }

    /// Runs a fleet job: the run, beside the keeper of its lease, until one of them or a
    /// cancel on this instance ends it; then the final record and the release.
    async fn run_shared(
        self,
        shared: &SharedJobs,
        revoker: SessionRevoker,
        (lease, clock): (JobLease, LeaseClock),
        journal: (Journal, Replay),
        cancel: &Notify,
    ) {
        // No request reaches Clerk once the lease may have passed on, however long it waited.
        let run = sending_until(
            clock.deadline(),
            revoker.run_journaled(Some(journal), progress_of(Arc::clone(&self.sender))),
        );
        let keeper = lease_keeper::keep(shared, &lease, &self.sender, &clock);
        // The status as it stands when the run ends, with its last progress.
        let now = || self.sender.borrow().clone();
        let ending = tokio::select! {
            result = run => match result {
                Err(err) if leaves_the_job(&err) => Ending::Left(format!(
                    "this instance stopped the job: {}; it resumes on the first instance that takes its lease",
                    error_chain(&err)
                )),
                result => {
                    let mut last = now();
                    apply_result(&mut last, result);
                    Ending::Final(Box::new(last))
                }
            },
            stop = keeper => match stop {
                Stop::Cancelled(request) => {
                    let mut last = now();
                    last.cancel(request.by, request.at_ms);
                    Ending::Final(Box::new(last))
                }
                Stop::LeaseLost => Ending::Left(
                    "another instance took the job over after this one's lease expired".into(),
                ),
                Stop::StoreLost(err) => Ending::Left(format!(
                    "this instance lost the fleet store ({err}) for half the job's lease and stopped before the lease could expire; the job resumes once the store is back"
                )),
            },
            () = cancel.notified() => {
                let request = shared
                    .store
                    .cancel_request(lease.job.as_str())
                    .await
                    .ok()
                    .flatten()
                    .and_then(|request| serde_json::from_str::<CancelRequest>(&request).ok());
                let request = request.unwrap_or(CancelRequest { by: None, at_ms: now_ms() });
                let mut last = now();
                last.cancel(request.by, request.at_ms);
                Ending::Final(Box::new(last))
            }
        };
        match ending {
            Ending::Final(status) => {
                end_shared(shared, &lease, &status).await;
                self.end(move |current| *current = *status);
            }
            Ending::Left(reason) => {
                let reason = left_reason(shared, &lease, reason).await;
                tracing::warn!(job = %self.id, "{reason}");
                self.end(move |status| {
                    status.state = JobState::Failed;
                    status.error = Some(reason);
                });
            }
        }
    }

    /// Frees the slot, then publishes the final status (once): whoever sees the job ended
    /// can start the next one.
    fn end(&self, update: impl FnOnce(&mut JobStatus)) {
        let mut registry = self.jobs.registry();
        if registry.running.as_ref() == Some(&self.id) {
            registry.running = None;
            registry.task = None;
            registry.cancel = None;
        }
        let ended = self.sender.send_if_modified(|status| {
            if status.state != JobState::Running {
                return false;
            }
            status.finished_at_ms = Some(now_ms());
            update(status);
            if status.state == JobState::Running {
                status.state = JobState::Failed;
            }
            true
        });
        drop(registry);
        if ended {
            let status = self.sender.borrow();
            tracing::warn!(job = %self.id, state = ?status.state, error = status.error.as_deref(), "mass session revocation job ended");
        }
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        // After `finish`, a no-op; otherwise the task was dropped (runtime shutdown) or
        // panicked.
        self.end(|status| {
            status.state = JobState::Failed;
            status.error = Some("the job's task ended before the run did".into());
        });
    }
}

/// The final state of a run that returned.
fn apply_result(status: &mut JobStatus, result: Result<RevocationReport, RevocationError>) {
    status.finished_at_ms = Some(now_ms());
    match result {
        Ok(report) => {
            status.state = JobState::Finished;
            status.report = Some(report);
        }
        Err(err) => {
            status.state = JobState::Failed;
            status.report = err.partial_report().cloned();
            status.error = Some(error_chain(&err));
        }
    }
}

/// True when a run stopped because this instance can no longer keep the fleet job (its lease
/// was taken over, or the store lost): the job is not over, another instance resumes it.
fn leaves_the_job(err: &RevocationError) -> bool {
    let cause = match err {
        RevocationError::Interrupted { cause, .. } => cause.as_ref(),
        other => other,
    };
    matches!(
        cause,
        RevocationError::LeaseLost { .. }
            | RevocationError::Api(crate::api::ApiError::DeadlinePassed { .. })
            | RevocationError::SharedCheckpoint {
                source: JobStoreError::Unavailable(_),
                ..
            }
    )
}

/// Why this instance left a fleet job: `reason`, unless the store no longer holds the job's
/// record (it restarted empty): then no one resumes it.
async fn left_reason(shared: &SharedJobs, lease: &JobLease, reason: String) -> String {
    match shared.store.job(&lease.job).await {
        Ok(None) => {
            "the fleet store no longer holds this job (restarted empty?): no instance resumes \
             it; start it again (sessions already revoked count as already inactive)"
                .to_owned()
        }
        _ => reason,
    }
}

/// After a start failed half-way: frees the slot if the store still answers, and asks for a
/// cancel, so that a replica finding the job orphaned ends it rather than runs it.
async fn abandon(shared: &SharedJobs, lease: &JobLease) {
    let request = serde_json::to_string(&CancelRequest {
        by: None,
        at_ms: now_ms(),
    })
    .unwrap_or_default();
    if shared
        .store
        .request_cancel(&lease.job, &request)
        .await
        .is_ok()
    {
        release(shared, lease).await;
        return;
    }
    // The store failed: its last answer may have been lost after it wrote the checkpoint's
    // start. Ask again until it answers, so that no replica ever resumes what the operator
    // was told did not start.
    let (shared, lease) = (shared.clone(), lease.clone());
    tokio::spawn(async move {
        let mut wait = Duration::from_millis(500);
        for _ in 0..200 {
            tokio::time::sleep(wait).await;
            if shared
                .store
                .request_cancel(&lease.job, &request)
                .await
                .is_ok()
            {
                release(&shared, &lease).await;
                return;
            }
            wait = (wait * 2).min(Duration::from_secs(30));
        }
        tracing::error!(job = %lease.job, "could not cancel a fleet revocation job whose start failed; cancel it once the store answers");
    });
}

/// Writes a fleet job's final record and frees the fleet's slot.
async fn end_shared(shared: &SharedJobs, lease: &JobLease, status: &JobStatus) {
    match lease_keeper::publish(shared, lease, status).await {
        Ok(true) => release(shared, lease).await,
        Ok(false) => {
            tracing::warn!(job = %lease.job, "the job's lease was taken over before its end was recorded");
        }
        Err(err) => {
            // The lease expires; whoever takes it next sees the cancel request, or finds the
            // checkpoint complete and ends the job.
            tracing::error!(job = %lease.job, error = %err, "cannot record the end of the fleet revocation job");
        }
    }
}

/// Ends a job that cannot be resumed (its checkpoint is unreadable), so that it no longer
/// holds the fleet's slot.
async fn fail_unresumable(
    shared: &SharedJobs,
    lease: &JobLease,
    status: &mut JobStatus,
    err: &RevocationError,
) {
    if leaves_the_job(err) {
        return;
    }
    tracing::error!(job = %lease.job, error = %error_chain(err), "the fleet revocation job cannot be resumed; ending it");
    status.state = JobState::Failed;
    status.finished_at_ms = Some(now_ms());
    status.error = Some(format!("cannot be resumed: {}", error_chain(err)));
    end_shared(shared, lease, status).await;
}

async fn release(shared: &SharedJobs, lease: &JobLease) {
    match shared.store.release_lease(lease).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(job = %lease.job, "the job's lease was taken over before it was released");
        }
        Err(err) => {
            tracing::error!(job = %lease.job, error = %err, "cannot release the fleet revocation job's lease; it expires by itself");
        }
    }
}

/// The store error behind a checkpoint that could not be opened.
fn store_error(err: &RevocationError) -> JobStoreError {
    match err {
        RevocationError::SharedCheckpoint { source, .. } => source.clone(),
        other => JobStoreError::Invalid(error_chain(other)),
    }
}

/// How logs name the operator who acted: `user_… (allow-listed)`, or `-`.
fn operator_name(operator: Option<&Operator>) -> String {
    operator.map_or_else(|| "-".to_owned(), ToString::to_string)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::revocation::RevocationTarget;
    use clerk_incident_sim::{Faults, Sim};

    async fn jobs(sim: &Sim) -> RevocationJobs {
        let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
            .base_url(sim.base_url())
            .without_rate_limit()
            .build()
            .unwrap();
        RevocationJobs::new(api)
    }

    #[tokio::test]
    async fn one_job_at_a_time_and_status_until_done() {
        let sim = Sim::builder().users(30).sessions(50).start().await.unwrap();
        sim.set_faults(Faults {
            latency_ms: 200,
            ..Faults::default()
        });
        let jobs = jobs(&sim).await;
        let plan = RevocationPlan::new(RevocationTarget::AllUsers);
        let operator = Operator {
            user_id: "user_admin".to_owned(),
            session_id: "sess_admin".to_owned(),
            qualification: crate::auth::Qualification::AllowList,
        };
        let first = jobs.start(plan.clone(), Some(&operator)).await.unwrap();
        assert!(first.as_str().starts_with("job_") && first.as_str().len() == 36);
        match jobs.start(plan.clone(), None).await {
            Err(JobError::AlreadyRunning { job }) => assert_eq!(job, first),
            other => panic!("expected AlreadyRunning, got {other:?}"),
        }
        let running = jobs.status(first.as_str()).await.unwrap().unwrap();
        assert_eq!(running.state, JobState::Running);
        assert_eq!(running.requested_by.as_deref(), Some("user_admin"));
        assert_eq!(
            running
                .operator
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("user_admin (allow-listed)")
        );
        sim.set_faults(Faults::default());

        let live_before = sim
            .sessions()
            .iter()
            .filter(|s| s.status.is_signed_in())
            .count() as u64;
        let done = jobs.wait(first.as_str()).await.unwrap().unwrap();
        assert_eq!(done.state, JobState::Finished, "{:?}", done.error);
        let report = done.report.unwrap();
        assert_eq!(report.revoked, live_before);
        assert_eq!(done.progress.revoked, live_before);
        assert!(jobs.running().is_none());
        assert_eq!(
            jobs.status(first.as_str()).await.unwrap().unwrap().state,
            JobState::Finished
        );

        let second = jobs.start(plan, None).await.unwrap();
        assert_ne!(second, first);
        assert!(jobs.status("job_unknown").await.unwrap().is_none());
        assert!(jobs.wait("job_unknown").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_cancelled_job_stops_and_frees_the_slot() {
        let sim = Sim::builder().users(30).sessions(50).start().await.unwrap();
        // Every answer takes 200 ms: the job is still counting when it is cancelled.
        sim.set_faults(Faults {
            latency_ms: 200,
            ..Faults::default()
        });
        let jobs = jobs(&sim).await;
        let live = || {
            sim.sessions()
                .iter()
                .filter(|s| s.status.is_signed_in())
                .count()
        };
        let before = live();
        let job = jobs
            .start(RevocationPlan::new(RevocationTarget::AllUsers), None)
            .await
            .unwrap();
        let operator = Operator {
            user_id: "user_oncall".to_owned(),
            session_id: "sess_oncall".to_owned(),
            qualification: crate::auth::Qualification::AllowList,
        };
        let CancelOutcome::Cancelled(cancelled) =
            jobs.cancel(job.as_str(), Some(&operator)).await.unwrap()
        else {
            panic!("not cancelled");
        };
        assert_eq!(cancelled.state, JobState::Cancelled);
        assert_eq!(cancelled.cancelled_by, Some(operator.clone()));
        assert!(jobs.running().is_none());
        // A second cancel changes nothing; an unknown job is Unknown.
        let CancelOutcome::AlreadyEnded(again) = jobs.cancel(job.as_str(), None).await.unwrap()
        else {
            panic!("cancelled twice");
        };
        assert_eq!(again.cancelled_by, Some(operator));
        assert_eq!(
            jobs.cancel("job_unknown", None).await.unwrap(),
            CancelOutcome::Unknown
        );

        // The slot is free, and by the time a whole dry run has gone through the same slow
        // answers, the cancelled run has revoked nothing.
        let dry = jobs
            .start(
                RevocationPlan::new(RevocationTarget::AllUsers).dry_run(true),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            jobs.wait(dry.as_str()).await.unwrap().unwrap().state,
            JobState::Finished
        );
        assert_eq!(live(), before);
        assert_eq!(
            jobs.wait(job.as_str()).await.unwrap().unwrap().state,
            JobState::Cancelled
        );
    }
}
