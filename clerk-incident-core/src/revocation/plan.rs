//! [`RevocationPlan`]: whose sessions to revoke, and how.

use std::collections::BTreeSet;
use std::time::Duration;

use super::error::RevocationError;

/// Clerk's default maximum session lifetime: 7 days.
pub const DEFAULT_MAX_SESSION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Users processed at once unless [`RevocationPlan::concurrency`] says otherwise.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// The margin added to the session lifetime when pruning users: Clerk keeps `last_active_at`
/// with day precision (UTC midnight), so a user active late yesterday reads as "yesterday,
/// 00:00".
pub(crate) const DAY_MS: i64 = 86_400_000;

/// Whose sessions a [`RevocationPlan`] revokes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationTarget {
    /// Every user of the instance.
    AllUsers,
    /// These users (any number; they are listed 100 at a time).
    Users(Vec<String>),
    /// The members of this organisation.
    Organization(String),
}

/// What a [`SessionRevoker`](super::SessionRevoker) does: the target, the users to spare, the
/// sessions to spare, and how.
///
/// ```
/// use std::time::Duration;
/// use clerk_incident_core::revocation::{RevocationPlan, RevocationTarget};
///
/// // A key leaked at a known moment: revoke every session created before it, except the
/// // on-call admin's, without touching anything yet.
/// let leaked_at_ms = 1_750_000_000_000;
/// let plan = RevocationPlan::new(RevocationTarget::AllUsers)
///     .exclude_users(["user_oncall"])
///     .sessions_created_before(leaked_at_ms)
///     .max_session_lifetime(Duration::from_secs(30 * 86_400))
///     .dry_run(true);
/// assert!(plan.is_dry_run());
/// assert_eq!(plan.concurrency_limit(), 8);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevocationPlan {
    target: RevocationTarget,
    exclude_users: BTreeSet<String>,
    sessions_created_before: Option<i64>,
    max_session_lifetime: Duration,
    dry_run: bool,
    concurrency: usize,
}

impl RevocationPlan {
    /// Revoke every live session of `target`'s users, 8 users at a time, assuming Clerk's
    /// default 7-day maximum session lifetime.
    pub fn new(target: RevocationTarget) -> Self {
        Self {
            target,
            exclude_users: BTreeSet::new(),
            sessions_created_before: None,
            max_session_lifetime: DEFAULT_MAX_SESSION_LIFETIME,
            dry_run: false,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// Leaves these users signed in (for example the on-call admins doing the revocation).
    #[must_use]
    pub fn exclude_users<I, S>(mut self, user_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.exclude_users
            .extend(user_ids.into_iter().map(Into::into));
        self
    }

    /// Only revokes sessions created before `unix_ms` (for a key leaked at a known moment);
    /// later sessions are counted as kept.
    #[must_use]
    pub fn sessions_created_before(mut self, unix_ms: i64) -> Self {
        self.sessions_created_before = Some(unix_ms);
        self
    }

    /// The instance's maximum session lifetime (default 7 days, Clerk's default). Users
    /// inactive for longer than this, plus a day for `last_active_at`'s day precision, cannot
    /// hold a live session and are skipped without a call. Set it to the instance's setting:
    /// too short a value would skip users who still hold sessions.
    #[must_use]
    pub fn max_session_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_session_lifetime = lifetime;
        self
    }

    /// Lists and counts everything, revokes nothing.
    #[must_use]
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Users processed at once (default 8, at least 1). Each makes one request at a time, and
    /// every request waits for the client's pacer, so this bounds the requests in flight; raise
    /// it when Clerk's latency keeps the run below the rate limit.
    #[must_use]
    pub fn concurrency(mut self, users: usize) -> Self {
        self.concurrency = users.max(1);
        self
    }

    /// The target.
    pub fn target(&self) -> &RevocationTarget {
        &self.target
    }

    /// The users left signed in.
    pub fn excluded_users(&self) -> &BTreeSet<String> {
        &self.exclude_users
    }

    /// The creation-time cutoff, Unix ms, if any.
    pub fn created_before(&self) -> Option<i64> {
        self.sessions_created_before
    }

    /// The maximum session lifetime pruning assumes.
    pub fn session_lifetime(&self) -> Duration {
        self.max_session_lifetime
    }

    /// True for a dry run.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// Users processed at once.
    pub fn concurrency_limit(&self) -> usize {
        self.concurrency
    }

    /// The `last_active_at_after` bound for a run starting at `now_ms`: users last active
    /// before it cannot hold a live session.
    pub(crate) fn active_since(&self, now_ms: i64) -> i64 {
        let lifetime = i64::try_from(self.max_session_lifetime.as_millis()).unwrap_or(i64::MAX);
        now_ms.saturating_sub(lifetime).saturating_sub(DAY_MS)
    }

    /// Checks what the type cannot.
    pub(crate) fn validate(&self) -> Result<(), RevocationError> {
        match &self.target {
            RevocationTarget::AllUsers => {}
            RevocationTarget::Users(ids) => {
                if ids.is_empty() {
                    return Err(RevocationError::InvalidPlan(
                        "the target names no user".into(),
                    ));
                }
                if ids.iter().any(|id| id.trim().is_empty()) {
                    return Err(RevocationError::InvalidPlan(
                        "a target user id is empty".into(),
                    ));
                }
            }
            RevocationTarget::Organization(id) => {
                if id.trim().is_empty() {
                    return Err(RevocationError::InvalidPlan(
                        "the target organisation id is empty".into(),
                    ));
                }
            }
        }
        if self.max_session_lifetime.is_zero() {
            return Err(RevocationError::InvalidPlan(
                "the maximum session lifetime must be above zero".into(),
            ));
        }
        Ok(())
    }

    /// The target's user ids, deduplicated and sorted, for [`RevocationTarget::Users`].
    pub(crate) fn target_user_ids(&self) -> Vec<String> {
        match &self.target {
            RevocationTarget::Users(ids) => ids
                .iter()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_leaves_a_day_of_margin() {
        let plan = RevocationPlan::new(RevocationTarget::AllUsers);
        let now = 100 * DAY_MS;
        assert_eq!(plan.active_since(now), now - 8 * DAY_MS);
        let long = plan.max_session_lifetime(Duration::MAX);
        assert!(
            long.active_since(now) < 0,
            "no overflow, every user a candidate"
        );
    }

    #[test]
    fn invalid_plans_are_refused() {
        for plan in [
            RevocationPlan::new(RevocationTarget::Users(vec![])),
            RevocationPlan::new(RevocationTarget::Users(vec![" ".into()])),
            RevocationPlan::new(RevocationTarget::Organization(String::new())),
            RevocationPlan::new(RevocationTarget::AllUsers).max_session_lifetime(Duration::ZERO),
        ] {
            assert!(
                matches!(plan.validate(), Err(RevocationError::InvalidPlan(_))),
                "{plan:?}"
            );
        }
        assert_eq!(
            RevocationPlan::new(RevocationTarget::AllUsers)
                .concurrency(0)
                .concurrency_limit(),
            1
        );
    }

    #[test]
    fn target_ids_are_deduplicated() {
        let plan = RevocationPlan::new(RevocationTarget::Users(vec![
            "user_b".into(),
            "user_a".into(),
            "user_b".into(),
        ]));
        assert_eq!(plan.target_user_ids(), ["user_a", "user_b"]);
    }
}
