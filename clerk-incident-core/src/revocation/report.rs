//! What a revocation run tells its caller: [`PlanPreview`], [`Progress`] events, and the final
//! [`RevocationReport`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::api::{ApiCounters, ApiError};
use crate::error_chain::error_chain;

/// The size of a plan, from two `GET /v1/users/count` calls per target batch: what an operator
/// confirms before anything is revoked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlanPreview {
    /// Users of the target.
    pub total_users: u64,
    /// Users of the target active recently enough to hold a live session: the users the run
    /// lists sessions for (excluded users included).
    pub candidate_users: u64,
    /// Users of the target skipped without a call because they cannot hold a live session.
    pub users_skipped_by_pruning: u64,
    /// The `last_active_at_after` bound of the pruning, Unix ms.
    pub active_since: i64,
}

/// Running totals, carried by [`Progress`] events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Totals {
    /// Candidate users done with (scanned or excluded), including those a checkpoint held:
    /// the position of a progress bar whose length is [`PlanPreview::candidate_users`].
    pub users_processed: u64,
    /// Candidate users whose sessions were listed.
    pub users_scanned: u64,
    /// Candidate users left alone because the plan excludes them.
    pub users_excluded: u64,
    /// Live sessions the plan targets.
    pub sessions_found: u64,
    /// Live sessions left alone because they were created at or after the plan's cutoff.
    pub sessions_kept: u64,
    /// Targeted sessions that are now revoked.
    pub revoked: u64,
    /// Targeted sessions that ended otherwise (signed out, expired, removed) before their
    /// turn.
    pub already_inactive: u64,
    /// Users or sessions that failed.
    pub failed: u64,
    /// Scanned users with at least one session revoked: the users signed out.
    pub users_signed_out: u64,
}

/// An event of a running [`SessionRevoker`](super::SessionRevoker), in this order:
/// one `Planned`, one `UserDone` per candidate user, one `Finished` (unless the run is
/// interrupted).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// The users were counted; nothing has been revoked yet.
    Planned {
        /// The plan's size.
        preview: PlanPreview,
        /// Candidate users a checkpoint already holds as done: where progress starts.
        users_from_checkpoint: u64,
    },
    /// A candidate user is done with (scanned, excluded, or failed).
    UserDone {
        /// The user.
        user_id: String,
        /// Totals so far.
        totals: Totals,
    },
    /// Every candidate user is done with.
    Finished {
        /// The final totals.
        totals: Totals,
    },
}

/// A user or session the run could not process, after the client's retries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RevocationFailure {
    /// The user.
    pub user_id: String,
    /// The session, when revoking it failed; `None` when listing the user's sessions did.
    pub session_id: Option<String>,
    /// The HTTP status Clerk answered, if it answered.
    pub status: Option<u16>,
    /// What went wrong, with its causes.
    pub reason: String,
}

impl RevocationFailure {
    pub(crate) fn new(user_id: &str, session_id: Option<&str>, err: &ApiError) -> Self {
        Self {
            user_id: user_id.to_owned(),
            session_id: session_id.map(str::to_owned),
            status: err.status(),
            reason: error_chain(err),
        }
    }
}

/// The result of a revocation run. Counts cover the whole run, resumed parts included, and are
/// exact: a run killed at any point and resumed counts each session once.
///
/// With no failures, `sessions_found == revoked + already_inactive` (in a dry run, `revoked`
/// and `already_inactive` are 0 and `sessions_found` is what a real run would revoke).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RevocationReport {
    /// True when nothing was revoked on purpose.
    pub dry_run: bool,
    /// Candidate users whose sessions were listed.
    pub users_scanned: u64,
    /// Candidate users left alone because the plan excludes them.
    pub users_excluded: u64,
    /// Users of the target skipped without a call: inactive for longer than the maximum
    /// session lifetime, so without a live session.
    pub users_skipped_by_pruning: u64,
    /// Of `users_scanned`, the users a checkpoint held as done when this run started.
    pub users_from_checkpoint: u64,
    /// Live sessions the plan targets.
    pub sessions_found: u64,
    /// Live sessions left alone because they were created at or after the plan's cutoff.
    pub sessions_kept: u64,
    /// Targeted sessions that are now revoked: by this run, or (rarely) by someone else
    /// between the listing and the revoke call, which Clerk's answer cannot tell apart from a
    /// retry of a call whose first answer was lost.
    pub revoked: u64,
    /// Targeted sessions that ended otherwise (signed out, expired, removed) before their
    /// turn.
    pub already_inactive: u64,
    /// Scanned users with at least one session revoked (by this run or the parts of it a
    /// checkpoint holds): the users signed out.
    #[serde(default)]
    pub users_signed_out: u64,
    /// Every user or session that could not be processed; a resumed run retries them.
    pub failed: Vec<RevocationFailure>,
    /// Revoked sessions the run could not add to the fleet's denylist (its store was
    /// unreachable): other instances may accept their expired tokens in `Grace` until the
    /// tokens are older than the grace window. 0 without a denylist.
    pub sessions_not_denied: u64,
    /// Wall time of this run (not of earlier, resumed parts).
    #[serde(rename = "elapsed_ms", with = "millis")]
    pub elapsed: Duration,
    /// Requests of this run, retries included, from the client's counters (requests of other
    /// users of the same client during the run included).
    pub api: ApiCounters,
}

impl RevocationReport {
    /// True when nothing failed.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }
}

/// A duration as whole milliseconds.
mod millis {
    use std::time::Duration;

    use serde::Deserialize as _;

    pub(super) fn serialize<S: serde::Serializer>(
        elapsed: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}
