//! What the revocation endpoints say about a job: its [`JobId`], its [`JobState`] and its
//! [`JobStatus`], the same JSON from every replica of a fleet (the fleet store keeps it as is).

use std::collections::hash_map::RandomState;
use std::fmt;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::report::{PlanPreview, RevocationReport, Totals};
use crate::auth::Operator;

/// The identifier of a background job: 32 unguessable hex digits after `job_`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(String);

impl JobId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id `text`, if it has the form of one (`job_` and 32 lowercase hex digits): what
    /// the endpoints accept from a path before they look it up.
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix("job_")?;
        let well_formed = hex.len() == 32
            && hex
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        well_formed.then(|| Self(text.to_owned()))
    }

    /// An id read from the fleet store, which holds only ids this crate generated.
    pub(crate) fn from_store(id: String) -> Self {
        Self(id)
    }

    /// A fresh id: two SipHash outputs under the process's random keys, over a counter and the
    /// clock, so that ids cannot be guessed from one another.
    pub(crate) fn generate(counter: u64) -> Self {
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// In a fleet, the instance running it (or that ran it last).
    #[serde(default)]
    pub instance: Option<String>,
    /// In a fleet, how many times another instance resumed it from its checkpoint after its
    /// holder stopped (crashed, or lost the store for longer than its lease).
    #[serde(default)]
    pub resumes: u32,
}

impl JobStatus {
    /// A running job's first status.
    pub(crate) fn started(
        id: JobId,
        operator: Option<&Operator>,
        dry_run: bool,
        instance: Option<String>,
    ) -> Self {
        Self {
            id,
            state: JobState::Running,
            requested_by: operator.map(|operator| operator.user_id.clone()),
            operator: operator.cloned(),
            dry_run,
            started_at_ms: now_ms(),
            finished_at_ms: None,
            preview: None,
            progress: Totals::default(),
            report: None,
            error: None,
            cancelled_by: None,
            instance,
            resumes: 0,
        }
    }

    /// Marks the job cancelled by `by` at `at_ms`, unless it has ended: `false` then.
    pub(crate) fn cancel(&mut self, by: Option<Operator>, at_ms: i64) -> bool {
        if self.state != JobState::Running {
            return false;
        }
        self.state = JobState::Cancelled;
        self.finished_at_ms = Some(at_ms);
        self.cancelled_by = by;
        true
    }
}

/// What [`RevocationJobs::cancel`](super::RevocationJobs::cancel) did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CancelOutcome {
    /// The job was running and is now cancelled: its status.
    Cancelled(JobStatus),
    /// The job had already ended: its status, left as it was.
    AlreadyEnded(JobStatus),
    /// No such job (or one forgotten long ago).
    Unknown,
}

/// A cancel request as the fleet store keeps it, for the job's holder to act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CancelRequest {
    pub(crate) by: Option<Operator>,
    pub(crate) at_ms: i64,
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_unguessable_and_parsed_strictly() {
        let id = JobId::generate(1);
        assert_ne!(id, JobId::generate(1));
        assert_eq!(JobId::parse(id.as_str()), Some(id));
        for bad in [
            "job_",
            "job_XYZ",
            "job_0123456789abcdef0123456789ABCDEF",
            "sess_0123456789abcdef0123456789abcdef",
            "job_0123456789abcdef0123456789abcdef0",
        ] {
            assert_eq!(JobId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_status_round_trips_as_json() {
        let mut status = JobStatus::started(JobId::generate(2), None, true, Some("a".into()));
        status.resumes = 2;
        assert!(status.cancel(None, 5));
        assert!(!status.cancel(None, 6), "a cancelled job stays as it is");
        let json = serde_json::to_string(&status).unwrap_or_default();
        let back: JobStatus =
            serde_json::from_str(&json).unwrap_or_else(|err| panic!("{err}: {json}"));
        assert_eq!(back, status);
    }
}
