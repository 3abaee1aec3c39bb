//! [`RevocationError`]: why a revocation run could not start or finish.

use std::path::{Path, PathBuf};

use super::job_store::JobStoreError;
use super::report::RevocationReport;
use crate::api::ApiError;

/// Why a revocation run could not start, or stopped before the end.
///
/// Failures of single users or sessions do not end a run: they are listed in
/// [`RevocationReport::failed`]. A run ends early only when going on would be useless or unsafe
/// (Clerk rejects the key, the user list cannot be read, the checkpoint cannot be written);
/// it then returns [`Interrupted`](Self::Interrupted) with the report so far. Messages never
/// repeat their source: walk [`std::error::Error::source`] for it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RevocationError {
    /// The plan cannot be run.
    #[error("invalid revocation plan: {0}")]
    InvalidPlan(String),
    /// A Backend API call failed after the client's retries.
    #[error("a Clerk Backend API call failed")]
    Api(#[source] ApiError),
    /// The checkpoint file could not be read or written.
    #[error("cannot use the checkpoint file {}", path.display())]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// The checkpoint file is not a revocation checkpoint this version can read.
    #[error("{} is not a readable revocation checkpoint (line {line}: {reason})", path.display())]
    CorruptCheckpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// The first unreadable line, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The checkpoint file was written for another plan; resuming it would mix two runs.
    #[error(
        "the checkpoint {} was written for a different plan ({differences}); resume it with the same plan, or use another file",
        path.display()
    )]
    PlanMismatch {
        /// The checkpoint file.
        path: PathBuf,
        /// What differs, such as `target, dry run`.
        differences: String,
    },
    /// Another run holds the checkpoint file.
    #[error("the checkpoint {} is in use by another revocation run", path.display())]
    CheckpointInUse {
        /// The checkpoint file.
        path: PathBuf,
    },
    /// The fleet store could not keep a fleet job's checkpoint, or holds one this version
    /// cannot read.
    #[error("cannot use the fleet store's checkpoint of revocation job {job}")]
    SharedCheckpoint {
        /// The job.
        job: String,
        /// What the store said.
        #[source]
        source: JobStoreError,
    },
    /// Another instance took the fleet job over: this instance's lease expired (it lost the
    /// store for longer than the lease, or was paused). It stops at once and leaves the rest
    /// to the new holder, which counts what this one did.
    #[error(
        "revocation job {job} was taken over by another instance after this one's lease expired"
    )]
    LeaseLost {
        /// The job.
        job: String,
    },
    /// The run stopped before every candidate user was processed. The checkpoint (if any)
    /// holds everything done so far: resume from it once the cause is fixed.
    #[error(
        "revocation stopped early, after {} user(s); resume from the checkpoint to finish",
        report.users_scanned
    )]
    Interrupted {
        /// What was done before the stop.
        report: Box<RevocationReport>,
        /// Why the run stopped.
        #[source]
        cause: Box<RevocationError>,
    },
}

impl RevocationError {
    /// The report of what was done before an [`Interrupted`](Self::Interrupted) run stopped.
    pub fn partial_report(&self) -> Option<&RevocationReport> {
        match self {
            RevocationError::Interrupted { report, .. } => Some(report),
            _ => None,
        }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        RevocationError::Checkpoint {
            path: path.to_owned(),
            source,
        }
    }

    pub(crate) fn shared(job: &str, source: JobStoreError) -> Self {
        RevocationError::SharedCheckpoint {
            job: job.to_owned(),
            source,
        }
    }

    pub(crate) fn corrupt(path: &Path, line: usize, reason: impl Into<String>) -> Self {
        RevocationError::CorruptCheckpoint {
            path: path.to_owned(),
            line,
            reason: reason.into(),
        }
    }
}
