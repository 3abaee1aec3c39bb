//! [`RevocationJobs`]: revocation runs in the background, one at a time, for the adapters'
//! admin endpoints (`POST /admin/clerk/sessions/revoke`, `GET …/revoke/{job}`,
//! `DELETE …/revoke/{job}`).
//!
//! Everything the two endpoints decide lives here, framework-free: parsing the body
//! ([`RevokeRequest`]), refusing a second job while one runs, the job's status, and the
//! status code and JSON of every answer ([`EndpointResponse`]). The `clerk-incident-axum` and
//! `clerk-incident-actix` adapters only translate an [`EndpointResponse`] into their response
//! type, so that both behave identically.
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
//! let job = jobs.start(RevocationPlan::new(RevocationTarget::AllUsers), None)?;
//! let status = jobs.wait(job.as_str()).await.ok_or("unknown job")?;
//! assert_eq!(status.state, JobState::Finished);
//! # Ok(())
//! # }
//! ```

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::watch;
use tokio::task::AbortHandle;

use super::plan::{RevocationPlan, RevocationTarget};
use super::report::{PlanPreview, Progress, RevocationReport, Totals};
use super::revoker::SessionRevoker;
use crate::api::{ClerkApi, SecretKey, SharedBudget};
use crate::auth::{AuthContext, AuthPolicy, Operator, OperatorRefusal, Rejection, SessionDenier};
use crate::error_chain::error_chain;

/// Where the admin endpoints are served: `POST` starts a job, `GET {REVOKE_PATH}/{job}` reads
/// it, `DELETE {REVOKE_PATH}/{job}` cancels it.
pub const REVOKE_PATH: &str = "/admin/clerk/sessions/revoke";

/// Finished jobs kept for `GET`, oldest forgotten first.
pub const JOBS_KEPT: usize = 64;

/// The identifier of a background job: 32 unguessable hex digits after `job_`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct JobId(String);

impl JobId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A fresh id: two SipHash outputs under the process's random keys, over a counter and the
    /// clock, so that ids cannot be guessed from one another.
    fn generate(counter: u64) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        let mut id = String::from("job_");
        for half in 0_u8..2 {
            let mut hasher = RandomState::new().build_hasher();
            hasher.write_u64(counter);
            hasher.write_u8(half);
            hasher.write_u128(nanos);
            let _ = write!(id, "{:016x}", hasher.finish());
        }
        Self(id)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum JobState {
    /// Still revoking.
    Running,
    /// Done; [`JobStatus::report`] holds the result (failures of single sessions included).
    Finished,
    /// Stopped early or could not start; [`JobStatus::error`] says why, and
    /// [`JobStatus::report`] holds what was done, if anything.
    Failed,
    /// Cancelled by an operator ([`JobStatus::cancelled_by`]); [`JobStatus::progress`] holds
    /// what had completed.
    Cancelled,
}

/// What `GET …/revoke/{job}` answers: the progress of a running job, or its report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct JobStatus {
    /// The job.
    pub id: JobId,
    /// Where it is.
    pub state: JobState,
    /// The user who started it, if known.
    pub requested_by: Option<String>,
    /// The operator who started it and how they qualified, when started through the admin
    /// endpoint.
    pub operator: Option<Operator>,
    /// True for a dry run.
    pub dry_run: bool,
    /// When it started, Unix ms.
    pub started_at_ms: i64,
    /// When it ended, Unix ms.
    pub finished_at_ms: Option<i64>,
    /// The size of the plan, once counted.
    pub preview: Option<PlanPreview>,
    /// Totals so far.
    pub progress: Totals,
    /// The report, once the job ended (a partial one for an interrupted run).
    pub report: Option<RevocationReport>,
    /// Why the job failed, with its causes.
    pub error: Option<String>,
    /// The operator who cancelled it.
    pub cancelled_by: Option<Operator>,
}

/// Why [`RevocationJobs::start`] started nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// A job is running; only one runs at a time.
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
}

/// Background revocation jobs, one running at a time, through one [`ClerkApi`]. Cheap to
/// clone: clones share the jobs.
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
}

#[derive(Default)]
struct Registry {
    running: Option<JobId>,
    order: VecDeque<JobId>,
    jobs: HashMap<JobId, Arc<watch::Sender<JobStatus>>>,
    /// The task of the running job, to cancel it.
    task: Option<AbortHandle>,
}

impl fmt::Debug for RevocationJobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let registry = self.registry();
        f.debug_struct("RevocationJobs")
            .field("api", &self.inner.api)
            .field("running", &registry.running)
            .field("jobs", &registry.jobs.len())
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

    /// Starts running `plan` on the current Tokio runtime and returns at once.
    ///
    /// # Errors
    ///
    /// [`JobError::AlreadyRunning`] while another job runs, [`JobError::InvalidPlan`],
    /// [`JobError::NoRuntime`] outside a Tokio runtime.
    ///
    /// `operator` is who asked (the admin endpoint passes the [`Operator`] its guard
    /// qualified); the job's status and its audit log line name them.
    pub fn start(
        &self,
        plan: RevocationPlan,
        operator: Option<&Operator>,
    ) -> Result<JobId, JobError> {
        plan.validate()
            .map_err(|err| JobError::InvalidPlan(err.to_string()))?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| JobError::NoRuntime)?;
        let mut registry = self.registry();
        if let Some(job) = &registry.running {
            return Err(JobError::AlreadyRunning { job: job.clone() });
        }
        let id = JobId::generate(self.inner.next.fetch_add(1, Ordering::Relaxed));
        let (sender, _) = watch::channel(JobStatus {
            id: id.clone(),
            state: JobState::Running,
            requested_by: operator.map(|operator| operator.user_id.clone()),
            operator: operator.cloned(),
            dry_run: plan.is_dry_run(),
            started_at_ms: now_ms(),
            finished_at_ms: None,
            preview: None,
            progress: Totals::default(),
            report: None,
            error: None,
            cancelled_by: None,
        });
        let sender = Arc::new(sender);
        registry.running = Some(id.clone());
        registry.order.push_back(id.clone());
        registry.jobs.insert(id.clone(), Arc::clone(&sender));
        registry.forget_old();

        // The registry stays locked until the task's handle is in it, so that neither the
        // task's end nor a cancel can come in between.
        let by = operator_name(operator);
        tracing::warn!(job = %id, operator = %by, dry_run = plan.is_dry_run(), target = ?plan.target(), "mass session revocation job started by {by}");
        let guard = RunningGuard {
            jobs: self.clone(),
            id: id.clone(),
            sender: Arc::clone(&sender),
        };
        let mut revoker = SessionRevoker::new(self.inner.api.clone(), plan);
        let denier = self
            .inner
            .denier
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(denier) = denier {
            revoker = revoker.deny_with(denier);
        }
        let task = runtime.spawn(async move {
            let progress = Arc::clone(&guard.sender);
            let result = revoker
                .run(None, move |event| {
                    // A cancelled job's status stays as the cancel left it, even for the
                    // moment the task runs on before its abort takes effect.
                    progress.send_if_modified(|status| {
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
                })
                .await;
            guard.finish(result);
        });
        registry.task = Some(task.abort_handle());
        drop(registry);
        Ok(id)
    }

    /// Cancels job `id` if it is running, on behalf of `operator`: `Ok` with its status, now
    /// [`JobState::Cancelled`]; `Err` with the status of a job that had already ended, left as
    /// it is; `None` for an unknown job.
    ///
    /// The run's task is aborted, which takes effect at its next await: no further user is
    /// listed and no further session revoked after that. The calls in flight at that instant
    /// are abandoned, so the sessions they were revoking may or may not be revoked;
    /// [`JobStatus::progress`] counts what had completed, and a later run (or the CLI's
    /// `sessions revoke`) counts the rest as already inactive.
    pub fn cancel(
        &self,
        id: &str,
        operator: Option<&Operator>,
    ) -> Option<Result<JobStatus, JobStatus>> {
        let sender = self.sender(id)?;
        let mut registry = self.registry();
        let cancelled = sender.send_if_modified(|status| {
            if status.state != JobState::Running {
                return false;
            }
            status.state = JobState::Cancelled;
            status.finished_at_ms = Some(now_ms());
            status.cancelled_by = operator.cloned();
            true
        });
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
        Some(if cancelled { Ok(status) } else { Err(status) })
    }

    /// The status of job `id`; `None` for an unknown (or long forgotten) job.
    pub fn status(&self, id: &str) -> Option<JobStatus> {
        let sender = self.sender(id)?;
        let status = sender.borrow().clone();
        Some(status)
    }

    /// The running job, if any.
    pub fn running(&self) -> Option<JobId> {
        self.registry().running.clone()
    }

    /// Waits until job `id` has ended and returns its final status; `None` for an unknown job.
    pub async fn wait(&self, id: &str) -> Option<JobStatus> {
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

    /// The `POST` endpoint: checks the caller and the body, starts a job.
    ///
    /// | Answer | When |
    /// | --- | --- |
    /// | 202 `{"job": id}` with `Location` | started |
    /// | 400 `{"error":"invalid_request","reason":…}` | the body is not a valid [`RevokeRequest`] |
    /// | 401 | the context is not fully verified (bypassed, degraded, anonymous) |
    /// | 403 | the context names no [`Operator`] (the route's guard is not [`RouteRule::operator`](crate::auth::RouteRule::operator)) |
    /// | 409 `{"error":"job_running","job": id}` | a job runs |
    /// | 415 | the content type is not `application/json` (so that no browser form can post it) |
    /// | 503 | no runtime (never inside a served app) |
    pub fn handle_start(
        &self,
        context: &AuthContext,
        content_type: Option<&[u8]>,
        body: &[u8],
    ) -> EndpointResponse {
        if let Some(refusal) = refuse_unverified(context) {
            return refusal;
        }
        let Some(operator) = &context.operator else {
            return not_an_operator();
        };
        if !is_json(content_type) {
            return EndpointResponse::json(
                415,
                &json!({ "error": "unsupported_media_type", "reason": "the body must be application/json" }),
            );
        }
        let plan = match RevokeRequest::parse(body).and_then(RevokeRequest::into_plan) {
            Ok(plan) => plan,
            Err(reason) => {
                return EndpointResponse::json(
                    400,
                    &json!({ "error": "invalid_request", "reason": reason }),
                );
            }
        };
        match self.start(plan, Some(operator)) {
            Ok(job) => {
                let mut response = EndpointResponse::json(202, &json!({ "job": job }));
                response.location = Some(format!("{REVOKE_PATH}/{job}"));
                response
            }
            Err(JobError::AlreadyRunning { job }) => {
                EndpointResponse::json(409, &json!({ "error": "job_running", "job": job }))
            }
            Err(JobError::InvalidPlan(reason)) => EndpointResponse::json(
                400,
                &json!({ "error": "invalid_request", "reason": reason }),
            ),
            Err(JobError::NoRuntime) => {
                let mut response = EndpointResponse::json(
                    503,
                    &json!({ "error": "temporarily_unavailable", "reason": "no_runtime" }),
                );
                response.retry_after_secs = Some(5);
                response
            }
        }
    }

    /// The `DELETE` endpoint: cancels the job ([`cancel`](Self::cancel)) and answers 200 with
    /// its status; 409 `{"error":"job_ended","state":…}` for a job that has already ended, 404
    /// for an unknown job, 401 for a context that is not fully verified, 403 without an
    /// operator.
    pub fn handle_cancel(&self, context: &AuthContext, job: &str) -> EndpointResponse {
        if let Some(refusal) = refuse_unverified(context) {
            return refusal;
        }
        let Some(operator) = &context.operator else {
            return not_an_operator();
        };
        match self.cancel(job, Some(operator)) {
            Some(Ok(status)) => EndpointResponse::json(200, &status),
            Some(Err(status)) => EndpointResponse::json(
                409,
                &json!({ "error": "job_ended", "state": status.state, "job": status.id }),
            ),
            None => EndpointResponse::json(
                404,
                &json!({ "error": "not_found", "reason": "no such revocation job" }),
            ),
        }
    }

    /// The `GET` endpoint: 200 with the [`JobStatus`], 404 for an unknown job, 401 for a
    /// context that is not fully verified.
    pub fn handle_status(&self, context: &AuthContext, job: &str) -> EndpointResponse {
        if let Some(refusal) = refuse_unverified(context) {
            return refusal;
        }
        if context.operator.is_none() {
            return not_an_operator();
        }
        match self.status(job) {
            Some(status) => EndpointResponse::json(200, &status),
            None => EndpointResponse::json(
                404,
                &json!({ "error": "not_found", "reason": "no such revocation job" }),
            ),
        }
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

/// Ends the job when the run returns, and also when the task is dropped (runtime shutdown) or
/// panics, so that a dead job never blocks the next one.
struct RunningGuard {
    jobs: RevocationJobs,
    id: JobId,
    sender: Arc<watch::Sender<JobStatus>>,
}

impl RunningGuard {
    fn finish(self, result: Result<RevocationReport, super::RevocationError>) {
        self.end(|status| match result {
            Ok(report) => {
                status.state = JobState::Finished;
                status.report = Some(report);
            }
            Err(err) => {
                status.state = JobState::Failed;
                status.report = err.partial_report().cloned();
                status.error = Some(error_chain(&err));
            }
        });
    }

    /// Frees the slot, then publishes the final status (once): whoever sees the job ended
    /// can start the next one.
    fn end(&self, update: impl FnOnce(&mut JobStatus)) {
        let mut registry = self.jobs.registry();
        if registry.running.as_ref() == Some(&self.id) {
            registry.running = None;
            registry.task = None;
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

/// The body of `POST /admin/clerk/sessions/revoke`: exactly one target (`all`, `user_ids` or
/// `organization_id`), the users to spare, the creation-time cutoff, and dry run.
///
/// ```
/// use clerk_incident_core::revocation::RevokeRequest;
///
/// let request = RevokeRequest::parse(br#"{"all": true, "exclude_user_ids": ["user_oncall"], "dry_run": true}"#)?;
/// let plan = request.into_plan()?;
/// assert!(plan.is_dry_run());
/// assert!(RevokeRequest::parse(b"{}").and_then(RevokeRequest::into_plan).is_err());
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RevokeRequest {
    /// Every user of the instance.
    pub all: bool,
    /// These users.
    pub user_ids: Vec<String>,
    /// The members of this organisation.
    pub organization_id: Option<String>,
    /// Users left signed in (such as the on-call admins).
    pub exclude_user_ids: Vec<String>,
    /// Only sessions created before this moment, Unix ms.
    pub created_before: Option<i64>,
    /// Count, revoke nothing.
    pub dry_run: bool,
}

impl RevokeRequest {
    /// Reads a JSON body.
    ///
    /// # Errors
    ///
    /// What is wrong with it, for a 400.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(body).map_err(|err| format!("invalid body: {err}"))
    }

    /// The plan the request describes.
    ///
    /// # Errors
    ///
    /// When it names no target or more than one, or an empty id.
    pub fn into_plan(self) -> Result<RevocationPlan, String> {
        let mut targets = Vec::new();
        if self.all {
            targets.push(RevocationTarget::AllUsers);
        }
        if !self.user_ids.is_empty() {
            targets.push(RevocationTarget::Users(self.user_ids));
        }
        if let Some(organization) = self.organization_id {
            targets.push(RevocationTarget::Organization(organization));
        }
        let target = match targets.len() {
            1 => targets.pop(),
            _ => None,
        }
        .ok_or_else(|| {
            "name exactly one target: `all`, `user_ids` or `organization_id`".to_owned()
        })?;
        if self.exclude_user_ids.iter().any(|id| id.trim().is_empty()) {
            return Err("an excluded user id is empty".to_owned());
        }
        let mut plan = RevocationPlan::new(target)
            .exclude_users(self.exclude_user_ids)
            .dry_run(self.dry_run);
        if let Some(cutoff) = self.created_before {
            plan = plan.sessions_created_before(cutoff);
        }
        plan.validate().map_err(|err| err.to_string())?;
        Ok(plan)
    }
}

/// A framework-free answer of the admin endpoints, which the adapters translate as is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointResponse {
    /// The HTTP status.
    pub status: u16,
    /// The `Location` header (202 only).
    pub location: Option<String>,
    /// The `WWW-Authenticate` header (401 only).
    pub www_authenticate: Option<&'static str>,
    /// The `Retry-After` header, seconds (503 only).
    pub retry_after_secs: Option<u32>,
    /// The JSON body.
    pub body: String,
}

impl EndpointResponse {
    /// The content type of [`body`](Self::body).
    pub const CONTENT_TYPE: &'static str = "application/json";

    fn json(status: u16, body: &impl Serialize) -> Self {
        Self {
            status,
            location: None,
            www_authenticate: None,
            retry_after_secs: None,
            body: serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned()),
        }
    }
}

/// A 401 unless the context verified in full: guards normally refuse earlier, this holds even
/// under a lenient rule.
fn refuse_unverified(context: &AuthContext) -> Option<EndpointResponse> {
    if context.is_fully_verified() {
        return None;
    }
    let mut response = EndpointResponse::json(
        401,
        &json!({ "error": "invalid_token", "reason": "not_fully_verified" }),
    );
    response.www_authenticate = Some(r#"Bearer error="invalid_token""#);
    Some(response)
}

/// A 403 for a context without an operator (the route was mounted without the operator
/// guard), with the guard's own body.
fn not_an_operator() -> EndpointResponse {
    let rejection = Rejection::NotOperator(OperatorRefusal::NotAnOperator);
    EndpointResponse {
        status: rejection.status(),
        location: None,
        www_authenticate: rejection.www_authenticate(),
        retry_after_secs: None,
        body: rejection.json_body(),
    }
}

/// How logs name the operator who acted: `user_… (allow-listed)`, or `-`.
fn operator_name(operator: Option<&Operator>) -> String {
    operator.map_or_else(|| "-".to_owned(), ToString::to_string)
}

/// `application/json`, with or without parameters.
fn is_json(content_type: Option<&[u8]>) -> bool {
    let Some(value) = content_type.and_then(|value| std::str::from_utf8(value).ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
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
        let first = jobs.start(plan.clone(), Some(&operator)).unwrap();
        assert!(first.as_str().starts_with("job_") && first.as_str().len() == 36);
        match jobs.start(plan.clone(), None) {
            Err(JobError::AlreadyRunning { job }) => assert_eq!(job, first),
            other => panic!("expected AlreadyRunning, got {other:?}"),
        }
        let running = jobs.status(first.as_str()).unwrap();
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
        let done = jobs.wait(first.as_str()).await.unwrap();
        assert_eq!(done.state, JobState::Finished, "{:?}", done.error);
        let report = done.report.unwrap();
        assert_eq!(report.revoked, live_before);
        assert_eq!(done.progress.revoked, live_before);
        assert!(jobs.running().is_none());
        assert_eq!(
            jobs.status(first.as_str()).unwrap().state,
            JobState::Finished
        );

        let second = jobs.start(plan, None).unwrap();
        assert_ne!(second, first);
        assert!(jobs.status("job_unknown").is_none());
        assert!(jobs.wait("job_unknown").await.is_none());
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
            .unwrap();
        let operator = Operator {
            user_id: "user_oncall".to_owned(),
            session_id: "sess_oncall".to_owned(),
            qualification: crate::auth::Qualification::AllowList,
        };
        let cancelled = jobs.cancel(job.as_str(), Some(&operator)).unwrap().unwrap();
        assert_eq!(cancelled.state, JobState::Cancelled);
        assert_eq!(cancelled.cancelled_by, Some(operator.clone()));
        assert!(jobs.running().is_none());
        // A second cancel changes nothing; an unknown job is None.
        let again = jobs.cancel(job.as_str(), None).unwrap().unwrap_err();
        assert_eq!(again.cancelled_by, Some(operator));
        assert!(jobs.cancel("job_unknown", None).is_none());

        // The slot is free, and by the time a whole dry run has gone through the same slow
        // answers, the cancelled run has revoked nothing.
        let dry = jobs
            .start(
                RevocationPlan::new(RevocationTarget::AllUsers).dry_run(true),
                None,
            )
            .unwrap();
        assert_eq!(
            jobs.wait(dry.as_str()).await.unwrap().state,
            JobState::Finished
        );
        assert_eq!(live(), before);
        assert_eq!(
            jobs.wait(job.as_str()).await.unwrap().state,
            JobState::Cancelled
        );
    }

    #[test]
    fn requests_name_exactly_one_target() {
        let plan =
            |body: &str| RevokeRequest::parse(body.as_bytes()).and_then(RevokeRequest::into_plan);
        assert!(plan(r#"{"all":true}"#).is_ok());
        assert!(plan(r#"{"user_ids":["user_a"],"created_before":5}"#).is_ok());
        assert!(plan(r#"{"organization_id":"org_a","dry_run":true}"#).is_ok());
        for bad in [
            "{}",
            "not json",
            r#"{"all":true,"user_ids":["user_a"]}"#,
            r#"{"all":true,"surprise":1}"#,
            r#"{"organization_id":""}"#,
            r#"{"all":true,"exclude_user_ids":[""]}"#,
            r#"{"all":"yes"}"#,
        ] {
            assert!(plan(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn content_types() {
        assert!(is_json(Some(b"application/json")));
        assert!(is_json(Some(b"Application/JSON; charset=utf-8")));
        assert!(!is_json(Some(b"text/plain")));
        assert!(!is_json(None));
    }

    #[test]
    fn job_ids_are_unguessable() {
        assert!(JobId::generate(1) != JobId::generate(1));
    }
}
