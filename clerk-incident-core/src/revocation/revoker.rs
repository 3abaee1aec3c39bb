//! [`SessionRevoker`]: the engine.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};

use super::checkpoint::{self, CheckpointPace, Journal, PlanFingerprint, Replay, UserCounts};
use super::error::RevocationError;
use super::lease_keeper::LeaseClock;
use super::plan::{RevocationPlan, RevocationTarget};
use super::report::{PlanPreview, Progress, RevocationFailure, RevocationReport, Totals};
use crate::api::{
    ApiCounters, ApiError, ClerkApi, MAX_IDS_PER_FILTER, RevokeOutcome, SessionStatus, User,
    UserQuery,
};
use crate::auth::{DENIAL_TTL, SessionDenier};

/// Revokes the live sessions of a [`RevocationPlan`]'s users, as fast as the client's rate
/// limit allows, resumably.
///
/// A run:
///
/// 1. counts the target's users with and without the pruning filter ([`PlanPreview`]);
/// 2. lists the candidate users (`last_active_at_after` = now − lifetime − 1 day, 500 per
///    page, user ids 100 per query), so users who cannot hold a session cost nothing;
/// 3. for each candidate, [`concurrency`](RevocationPlan::concurrency) at a time: lists its
///    sessions (every status, so that `pending` ones are revoked too and a resumed run can see
///    what an earlier one revoked), then revokes each live one in the plan's scope, one
///    request at a time;
/// 4. reports exact counts ([`RevocationReport`]).
///
/// Every request goes through the [`ClerkApi`], whose pacer spaces them under the instance's
/// limit and whose retries absorb 429s, 5xx and timeouts. What still fails is listed in the
/// report, never dropped; a resumed run retries it. Revoking is idempotent: a session that
/// is no longer live counts as already inactive.
///
/// With a checkpoint file, a run killed at any point and run again with the same plan and file
/// resumes where it stopped, skips the users it finished, and counts each session once (see
/// [`run`](Self::run)).
#[derive(Clone, Debug)]
pub struct SessionRevoker {
    api: ClerkApi,
    plan: RevocationPlan,
    denier: Option<Arc<dyn SessionDenier>>,
    /// A fleet job's lease: no call to Clerk once it may have passed to another instance.
    lease: Option<LeaseClock>,
}

impl SessionRevoker {
    /// A revoker of `plan`'s sessions through `api`.
    pub fn new(api: ClerkApi, plan: RevocationPlan) -> Self {
        Self {
            api,
            plan,
            denier: None,
            lease: None,
        }
    }

    /// Makes no call to Clerk for a user once `clock` says the fleet job's lease may have
    /// passed to another instance: the run stops with [`RevocationError::LeaseLost`].
    pub(crate) fn within_lease(mut self, clock: LeaseClock) -> Self {
        self.lease = Some(clock);
        self
    }

    /// Reports every session the run revokes to `denier` (a service's
    /// [`session_denier`](crate::auth::AuthPolicy::session_denier), or the fleet's denylist),
    /// user by user, so that no instance accepts their tokens in `Grace` or `Open`. Sessions a
    /// resumed run finds revoked by the run it resumes, and any session of a candidate revoked
    /// within the denial TTL, are reported again, so that repeating a run whose denials were
    /// lost heals the denylist. What could not be reported is counted in
    /// [`RevocationReport::sessions_not_denied`]; the run goes on.
    #[must_use]
    pub fn deny_with(mut self, denier: Arc<dyn SessionDenier>) -> Self {
        self.denier = Some(denier);
        self
    }

    /// The plan.
    pub fn plan(&self) -> &RevocationPlan {
        &self.plan
    }

    /// The plan stored in a checkpoint file, so that a run can be resumed without restating
    /// its filters (the concurrency is the default; set it again if needed).
    ///
    /// # Errors
    ///
    /// [`RevocationError::Checkpoint`] when the file cannot be read,
    /// [`RevocationError::CorruptCheckpoint`] when it is not a checkpoint.
    pub fn checkpoint_plan(path: &Path) -> Result<RevocationPlan, RevocationError> {
        checkpoint::stored_plan(path)
    }

    /// How the run recorded in a checkpoint file was last paced (users at once, the client's
    /// rate limit), so that a resume keeps it; `None` for a checkpoint written by a version
    /// that did not record it. A run appends its pace to the checkpoint whenever it differs
    /// from the last one recorded.
    ///
    /// # Errors
    ///
    /// As [`checkpoint_plan`](Self::checkpoint_plan).
    pub fn checkpoint_pace(path: &Path) -> Result<Option<CheckpointPace>, RevocationError> {
        checkpoint::stored_pace(path)
    }

    /// An id of the run recorded in a checkpoint file, the same for each of its resumed parts
    /// whatever path the file is reached by (`revocation started at 1750000000000`): what an
    /// incident log's [`ActionCounts::run`](crate::incident::ActionCounts::run) keys a
    /// resumable run by.
    ///
    /// # Errors
    ///
    /// As [`checkpoint_plan`](Self::checkpoint_plan).
    pub fn checkpoint_run_id(path: &Path) -> Result<String, RevocationError> {
        checkpoint::stored_run_id(path)
    }

    /// Counts the users the plan would scan and skip, without listing or revoking anything:
    /// the numbers an operator confirms. Two `GET /v1/users/count` calls (per 100 target ids).
    ///
    /// # Errors
    ///
    /// [`RevocationError::InvalidPlan`], or [`RevocationError::Api`] when a count fails.
    pub async fn preview(&self) -> Result<PlanPreview, RevocationError> {
        self.plan.validate()?;
        self.count(self.plan.active_since(now_ms())).await
    }

    /// Runs the plan, reporting [`Progress`] to `on_progress`.
    ///
    /// With `checkpoint`, the run appends what it does to that file and, when the file already
    /// holds a run of the same plan, resumes it: users recorded as done are skipped and their
    /// counts added, every other user is processed again, and sessions an interrupted run
    /// revoked are counted once, as revoked. The pruning bound of the first run is kept. A
    /// checkpoint of a finished run can be resumed too: it retries what failed, and revokes
    /// sessions of users who became active since.
    ///
    /// # Errors
    ///
    /// Before anything is revoked: [`RevocationError::InvalidPlan`],
    /// [`RevocationError::Api`] (the users cannot be counted), and the checkpoint errors
    /// ([`Checkpoint`](RevocationError::Checkpoint),
    /// [`CorruptCheckpoint`](RevocationError::CorruptCheckpoint),
    /// [`PlanMismatch`](RevocationError::PlanMismatch),
    /// [`CheckpointInUse`](RevocationError::CheckpointInUse)). Later:
    /// [`RevocationError::Interrupted`], with the report so far, when Clerk rejects the secret
    /// key (401, 403), the user list cannot be read, or the checkpoint cannot be written.
    /// Single users and sessions that fail do not stop the run: see
    /// [`RevocationReport::failed`].
    pub async fn run<F>(
        &self,
        checkpoint: Option<&Path>,
        on_progress: F,
    ) -> Result<RevocationReport, RevocationError>
    where
        F: FnMut(Progress) + Send,
    {
        self.plan.validate()?;
        let now = now_ms();
        let journal = match checkpoint {
            Some(path) => {
                let fingerprint = PlanFingerprint::of(&self.plan);
                let pace =
                    CheckpointPace::new(self.plan.concurrency_limit(), self.api.rate_limit());
                Some(
                    Journal::open(path, &fingerprint, self.plan.active_since(now), now, pace)
                        .await?,
                )
            }
            None => None,
        };
        self.run_journaled(journal, on_progress).await
    }

    /// [`run`](Self::run) with a checkpoint already opened (and replayed): a file, or a fleet
    /// job's lines in the fleet store.
    pub(crate) async fn run_journaled<F>(
        &self,
        journal: Option<(Journal, Replay)>,
        mut on_progress: F,
    ) -> Result<RevocationReport, RevocationError>
    where
        F: FnMut(Progress) + Send,
    {
        self.plan.validate()?;
        let started = tokio::time::Instant::now();
        let counters_before = self.api.counters();
        let (journal, replay) = match journal {
            Some((journal, replay)) => (Some(journal), replay),
            None => (
                None,
                Replay {
                    active_since: self.plan.active_since(now_ms()),
                    ..Replay::default()
                },
            ),
        };
        let Replay {
            active_since,
            done,
            mut intents,
            counts,
            users_signed_out,
            // Read by the caller before the run, to pace it.
            pace: _,
            started_at: _,
        } = replay;

        let preview = self.count(active_since).await?;
        let users_from_checkpoint = done.len() as u64;
        on_progress(Progress::Planned {
            preview,
            users_from_checkpoint,
        });
        tracing::info!(
            candidates = preview.candidate_users,
            pruned = preview.users_skipped_by_pruning,
            from_checkpoint = users_from_checkpoint,
            dry_run = self.plan.is_dry_run(),
            "session revocation starting"
        );

        let mut tally = Tally {
            users_from_checkpoint,
            users_scanned: users_from_checkpoint,
            counts,
            users_signed_out,
            ..Tally::default()
        };
        let worker = Worker {
            api: &self.api,
            plan: &self.plan,
            journal,
            denier: self.denier.as_deref(),
            deny_failed: AtomicBool::new(false),
            lease: self.lease.as_ref(),
        };

        let mut seen: HashSet<String> = HashSet::new();
        let mut stop_reason: Option<RevocationError> = None;
        let mut list_failures = 0_u64;
        let stopping = AtomicBool::new(false);
        let excluded = self.plan.excluded_users();
        let worker = &worker;
        let stopping_ref = &stopping;
        let mut events = self
            .candidates(active_since)
            .take_while(|_| std::future::ready(!stopping_ref.load(Ordering::Relaxed)))
            .map(|candidate| {
                let task = match candidate {
                    Err(err) => Task::ListFailed(err),
                    // The same user twice (a list that shifted under the cursor) is done once.
                    Ok(user) if !seen.insert(user.id.clone()) => Task::Skip,
                    Ok(user) if excluded.contains(&user.id) => Task::Excluded(user.id),
                    Ok(user) if done.contains(&user.id) => Task::Skip,
                    Ok(user) => {
                        let prior = intents.remove(&user.id).unwrap_or_default();
                        Task::Process(user, prior)
                    }
                };
                async move {
                    match task {
                        Task::Process(user, prior) => {
                            Event::User(worker.process(user, prior).await)
                        }
                        Task::Excluded(user_id) => Event::Excluded(user_id),
                        Task::ListFailed(err) => Event::ListFailed(err),
                        Task::Skip => Event::Skip,
                    }
                }
            })
            .buffer_unordered(self.plan.concurrency_limit());

        while let Some(event) = events.next().await {
            match event {
                Event::Skip => continue,
                Event::ListFailed(err) => {
                    list_failures += 1;
                    tracing::error!(error = %err, "cannot list the candidate users; finishing the users in flight");
                    stopping.store(true, Ordering::Relaxed);
                    stop_reason.get_or_insert(RevocationError::Api(err));
                    continue;
                }
                Event::Excluded(user_id) => {
                    tally.users_excluded += 1;
                    on_progress(Progress::UserDone {
                        user_id,
                        totals: tally.totals(),
                    });
                }
                Event::User(outcome) => {
                    tally.users_scanned += 1;
                    tally.not_denied += outcome.not_denied;
                    tally.counts.add(&outcome.counts);
                    if outcome.counts.revoked > 0 {
                        tally.users_signed_out += 1;
                    }
                    let clean = outcome.failures.is_empty() && outcome.fatal.is_none();
                    tally.failures.extend(outcome.failures);
                    if let Some(fatal) = outcome.fatal {
                        tracing::error!(error = %fatal, "stopping the revocation run");
                        stopping.store(true, Ordering::Relaxed);
                        stop_reason.get_or_insert(fatal);
                    } else if clean
                        && let Err(err) = worker.record_done(&outcome.user_id, outcome.counts).await
                    {
                        stopping.store(true, Ordering::Relaxed);
                        stop_reason.get_or_insert(err);
                    }
                    on_progress(Progress::UserDone {
                        user_id: outcome.user_id,
                        totals: tally.totals(),
                    });
                }
            }
        }
        drop(events);

        let report = tally.report(
            self.plan.is_dry_run(),
            preview.users_skipped_by_pruning,
            started.elapsed(),
            counters_since(counters_before, self.api.counters()),
        );
        if let Some(cause) = stop_reason {
            tracing::warn!(list_failures, "session revocation stopped early");
            return Err(RevocationError::Interrupted {
                report: Box::new(report),
                cause: Box::new(cause),
            });
        }
        on_progress(Progress::Finished {
            totals: tally.totals(),
        });
        tracing::info!(
            revoked = report.revoked,
            already_inactive = report.already_inactive,
            failed = report.failed.len(),
            "session revocation finished"
        );
        Ok(report)
    }

    /// Counts the target's users with and without the pruning filter.
    async fn count(&self, active_since: i64) -> Result<PlanPreview, RevocationError> {
        let mut total = 0_u64;
        let mut candidates = 0_u64;
        for query in self.target_queries() {
            total = total.saturating_add(
                self.api
                    .count_users(&query)
                    .await
                    .map_err(RevocationError::Api)?,
            );
            candidates = candidates.saturating_add(
                self.api
                    .count_users(&query.last_active_at_after(active_since))
                    .await
                    .map_err(RevocationError::Api)?,
            );
        }
        Ok(PlanPreview {
            total_users: total,
            candidate_users: candidates,
            users_skipped_by_pruning: total.saturating_sub(candidates),
            active_since,
        })
    }

    /// The user queries that together cover the target, without the pruning filter.
    fn target_queries(&self) -> Vec<UserQuery> {
        match self.plan.target() {
            RevocationTarget::AllUsers => vec![UserQuery::new()],
            RevocationTarget::Organization(id) => {
                vec![UserQuery::new().organization_ids([id.clone()])]
            }
            RevocationTarget::Users(_) => self
                .plan
                .target_user_ids()
                .chunks(MAX_IDS_PER_FILTER)
                .map(|chunk| UserQuery::new().user_ids(chunk.iter().cloned()))
                .collect(),
        }
    }

    /// Every candidate user, page after page. A failed page is one error item; the pages of
    /// other target batches still follow.
    fn candidates(&self, active_since: i64) -> BoxStream<'static, Result<User, ApiError>> {
        let api = self.api.clone();
        stream::iter(self.target_queries())
            .map(move |query| {
                api.list_user_pages(query.last_active_at_after(active_since))
                    .map_ok(|page| stream::iter(page.into_iter().map(Ok)))
                    .try_flatten()
            })
            .flatten()
            .boxed()
    }
}

/// What to do with one candidate, decided synchronously as it comes off the list.
enum Task {
    Process(User, BTreeSet<String>),
    Excluded(String),
    ListFailed(ApiError),
    Skip,
}

/// What came of one candidate.
enum Event {
    User(UserOutcome),
    Excluded(String),
    ListFailed(ApiError),
    Skip,
}

/// One user, processed.
struct UserOutcome {
    user_id: String,
    counts: UserCounts,
    /// Sessions revoked but not added to the denylist everywhere.
    not_denied: u64,
    failures: Vec<RevocationFailure>,
    /// An error that must stop the run.
    fatal: Option<RevocationError>,
}

/// What the concurrent per-user jobs share.
struct Worker<'a> {
    api: &'a ClerkApi,
    plan: &'a RevocationPlan,
    journal: Option<Journal>,
    denier: Option<&'a dyn SessionDenier>,
    /// Set at the first denial that failed.
    deny_failed: AtomicBool,
    lease: Option<&'a LeaseClock>,
}

impl Worker<'_> {
    async fn process(&self, user: User, prior: BTreeSet<String>) -> UserOutcome {
        let mut outcome = UserOutcome {
            user_id: user.id,
            counts: UserCounts::default(),
            not_denied: 0,
            failures: Vec::new(),
            fatal: None,
        };
        if let Some(lost) = self.lease_lost() {
            outcome.fatal = Some(lost);
            return outcome;
        }
        let sessions = match self.api.list_sessions(&outcome.user_id, None).await {
            Ok(sessions) => sessions,
            Err(err) => {
                outcome.fail(None, err);
                return outcome;
            }
        };

        // Sessions an interrupted run recorded as about to be revoked are counted whatever
        // their status now: still live, they are revoked below; no longer live, they were most
        // likely revoked by that run before it could record so.
        let cutoff = self.plan.created_before();
        let mut to_revoke = BTreeSet::new();
        let mut listed = HashSet::with_capacity(sessions.len());
        // Sessions revoked lately (by an earlier run whose denials were lost, or by someone
        // else) are denied again: a run repeated after a lost store heals the denylist.
        let recent =
            now_ms().saturating_sub(i64::try_from(DENIAL_TTL.as_millis()).unwrap_or(i64::MAX));
        let mut to_deny: BTreeSet<String> = sessions
            .iter()
            .filter(|s| s.status == SessionStatus::Revoked && s.updated_at >= recent)
            .map(|s| s.id.clone())
            .collect();
        for session in &sessions {
            listed.insert(session.id.as_str());
            let targeted = prior.contains(&session.id);
            if session.status.is_live() {
                if targeted || cutoff.is_none_or(|cutoff| session.created_at < cutoff) {
                    outcome.counts.found += 1;
                    to_revoke.insert(session.id.clone());
                } else {
                    outcome.counts.kept += 1;
                }
            } else if targeted {
                outcome.counts.found += 1;
                if session.status == SessionStatus::Revoked {
                    outcome.counts.revoked += 1;
                } else {
                    outcome.counts.already_inactive += 1;
                }
            }
        }
        // Recorded but no longer listed: cleaned up by Clerk since, nothing left to revoke.
        let vanished = prior
            .iter()
            .filter(|id| !listed.contains(id.as_str()))
            .count() as u64;
        outcome.counts.found += vanished;
        outcome.counts.already_inactive += vanished;

        if self.plan.is_dry_run() {
            return outcome;
        }
        // Denied before they are revoked, failed ones too: each is being signed out either
        // way, and its tokens must not pass Grace anywhere meanwhile.
        to_deny.extend(prior.iter().cloned());
        to_deny.extend(to_revoke.iter().cloned());
        self.deny(&mut outcome, &to_deny).await;
        if to_revoke.is_empty() {
            return outcome;
        }
        if let Err(err) = self
            .record_intent(&outcome.user_id, &prior, &to_revoke)
            .await
        {
            // Without the record, a kill could make a resumed run miscount: revoke nothing.
            outcome.counts.found -= to_revoke.len() as u64;
            outcome.fatal = Some(err);
            return outcome;
        }
        for session_id in &to_revoke {
            if let Some(lost) = self.lease_lost() {
                // Recorded as intended: the next holder counts what this one did not do.
                outcome.fatal = Some(lost);
                break;
            }
            match self.api.revoke_session(session_id).await {
                Ok(RevokeOutcome::Revoked(_)) => outcome.counts.revoked += 1,
                // Live when listed, revoked now: most likely this very call, whose first
                // answer was lost (a 5xx or a timeout after Clerk had acted) and whose retry
                // was refused. Counted as revoked, as a resumed run counts it.
                Ok(RevokeOutcome::AlreadyInactive(session))
                    if session.status == SessionStatus::Revoked =>
                {
                    outcome.counts.revoked += 1;
                }
                Ok(RevokeOutcome::AlreadyInactive(_)) => outcome.counts.already_inactive += 1,
                Err(err) => {
                    let fatal = is_fatal(&err);
                    outcome.fail(Some(session_id), err);
                    if fatal {
                        break;
                    }
                }
            }
        }
        outcome
    }

    /// The error to stop with when a fleet job's lease may have passed to another instance.
    fn lease_lost(&self) -> Option<RevocationError> {
        self.lease
            .filter(|clock| clock.expired())
            .map(LeaseClock::lost)
    }

    /// Reports `sessions` to the denier, if any.
    async fn deny(&self, outcome: &mut UserOutcome, sessions: &BTreeSet<String>) {
        let Some(denier) = self.denier else {
            return;
        };
        if sessions.is_empty() {
            return;
        }
        let ids: Vec<String> = sessions.iter().cloned().collect();
        if let Err(err) = denier.deny(&ids).await {
            // Once per run at error level: the report counts them all.
            if self.deny_failed.swap(true, Ordering::Relaxed) {
                tracing::debug!(user_id = %outcome.user_id, sessions = ids.len(), error = %err, "sessions not denied");
            } else {
                tracing::error!(user_id = %outcome.user_id, sessions = ids.len(), error = %err, "revoked sessions not denied everywhere: their expired tokens may pass Grace on other instances (the report counts them)");
            }
            outcome.not_denied += ids.len() as u64;
        }
    }

    /// Appends the sessions about to be revoked (with those of an earlier intent) to the
    /// checkpoint.
    async fn record_intent(
        &self,
        user_id: &str,
        prior: &BTreeSet<String>,
        to_revoke: &BTreeSet<String>,
    ) -> Result<(), RevocationError> {
        let Some(journal) = &self.journal else {
            return Ok(());
        };
        if to_revoke.is_subset(prior) {
            return Ok(());
        }
        let sessions: BTreeSet<String> = prior.union(to_revoke).cloned().collect();
        journal.intent(user_id, &sessions).await
    }

    async fn record_done(&self, user_id: &str, counts: UserCounts) -> Result<(), RevocationError> {
        let Some(journal) = &self.journal else {
            return Ok(());
        };
        journal.done(user_id, counts).await.inspect_err(|_| {
            tracing::error!(checkpoint = %journal.location(), "cannot append to the checkpoint");
        })
    }
}

impl UserOutcome {
    fn fail(&mut self, session_id: Option<&str>, err: ApiError) {
        let failure = RevocationFailure::new(&self.user_id, session_id, &err);
        tracing::warn!(user_id = %self.user_id, session_id, reason = %failure.reason, "revocation failure");
        self.failures.push(failure);
        if is_fatal(&err) && self.fatal.is_none() {
            self.fatal = Some(RevocationError::Api(err));
        }
    }
}

/// Errors that every later call would meet too: the key is rejected, or a fleet job's lease
/// may have passed to another instance.
fn is_fatal(err: &ApiError) -> bool {
    matches!(err.status(), Some(401 | 403)) || matches!(err, ApiError::DeadlinePassed { .. })
}

/// The run's running counts.
#[derive(Debug, Default)]
struct Tally {
    users_from_checkpoint: u64,
    users_scanned: u64,
    users_excluded: u64,
    counts: UserCounts,
    users_signed_out: u64,
    not_denied: u64,
    failures: Vec<RevocationFailure>,
}

impl Tally {
    fn totals(&self) -> Totals {
        Totals {
            users_processed: self.users_scanned.saturating_add(self.users_excluded),
            users_scanned: self.users_scanned,
            users_excluded: self.users_excluded,
            sessions_found: self.counts.found,
            sessions_kept: self.counts.kept,
            revoked: self.counts.revoked,
            already_inactive: self.counts.already_inactive,
            failed: self.failures.len() as u64,
            users_signed_out: self.users_signed_out,
        }
    }

    fn report(
        &self,
        dry_run: bool,
        users_skipped_by_pruning: u64,
        elapsed: std::time::Duration,
        api: ApiCounters,
    ) -> RevocationReport {
        RevocationReport {
            dry_run,
            users_scanned: self.users_scanned,
            users_excluded: self.users_excluded,
            users_skipped_by_pruning,
            users_from_checkpoint: self.users_from_checkpoint,
            sessions_found: self.counts.found,
            sessions_kept: self.counts.kept,
            revoked: self.counts.revoked,
            already_inactive: self.counts.already_inactive,
            users_signed_out: self.users_signed_out,
            failed: self.failures.clone(),
            sessions_not_denied: self.not_denied,
            elapsed,
            api,
        }
    }
}

fn counters_since(before: ApiCounters, after: ApiCounters) -> ApiCounters {
    ApiCounters {
        requests: after.requests.saturating_sub(before.requests),
        retries: after.retries.saturating_sub(before.retries),
        rate_limited: after.rate_limited.saturating_sub(before.rate_limited),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}
