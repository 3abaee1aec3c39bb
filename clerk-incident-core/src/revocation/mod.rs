//! Runbook step 4: mass session revocation.
//!
//! A [`SessionRevoker`] signs out every user of a [`RevocationPlan`]'s target (all users, given
//! users, or an organisation's members), except the users it excludes, optionally only the
//! sessions created before a moment (a key leaked at a known time). It
//!
//! * skips users who cannot hold a live session (inactive for longer than the maximum session
//!   lifetime) through the `last_active_at_after` filter, so they cost no call;
//! * processes users concurrently, every request paced by the [`ClerkApi`](crate::api::ClerkApi)
//!   under the instance's rate limit and retried on 429, 5xx and timeouts;
//! * counts a session that is no longer live as already inactive, so running twice is safe;
//! * reports [`Progress`] events while it runs, and a [`RevocationReport`] with exact counts
//!   and every failure at the end;
//! * appends what it does to a checkpoint file, so that a run killed at any point resumes
//!   where it stopped without missing or double-counting a session;
//! * can run dry.
//!
//! # Example
//!
//! Sign out everyone but the on-call admin, against the built-in simulated Clerk:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use clerk_incident_core::api::{ClerkApi, SecretKey};
//! use clerk_incident_core::revocation::{Progress, RevocationPlan, RevocationTarget, SessionRevoker};
//!
//! let sim = clerk_incident_sim::Sim::builder().users(100).sessions(150).start().await?;
//! let admin = sim.admin_user_id().ok_or("no admin")?;
//! let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
//!     .base_url(sim.base_url())
//!     .without_rate_limit()
//!     .build()?;
//!
//! let plan = RevocationPlan::new(RevocationTarget::AllUsers).exclude_users([admin.clone()]);
//! let revoker = SessionRevoker::new(api, plan);
//! let preview = revoker.preview().await?;
//! assert!(preview.candidate_users < preview.total_users, "inactive users are pruned");
//!
//! let report = revoker
//!     .run(None, |event| {
//!         if let Progress::UserDone { totals, .. } = event {
//!             tracing::debug!(revoked = totals.revoked, "progress");
//!         }
//!     })
//!     .await?;
//! assert!(report.is_complete());
//! assert_eq!(report.sessions_found, report.revoked + report.already_inactive);
//! let still_active = sim.sessions().into_iter()
//!     .filter(|s| s.status.is_signed_in() && s.user_id != admin)
//!     .count();
//! assert_eq!(still_active, 0);
//! # Ok(())
//! # }
//! ```

mod checkpoint;
mod endpoints;
mod error;
mod job_status;
mod job_store;
mod jobs;
mod lease_keeper;
mod plan;
mod report;
mod revoker;

pub use self::checkpoint::CheckpointPace;
pub use self::endpoints::{EndpointResponse, REVOKE_PATH, RevokeRequest};
pub use self::error::RevocationError;
pub use self::job_status::{CancelOutcome, JobId, JobState, JobStatus};
pub use self::job_store::{
    CurrentJob, DEFAULT_JOB_LEASE_TTL, JOB_RECORD_TTL, JobLease, JobStoreError, LeaseGrant,
    RevocationJobStore, SharedJobs,
};
pub use self::jobs::{JOBS_KEPT, JobError, RevocationJobs};
pub use self::plan::{
    DEFAULT_CONCURRENCY, DEFAULT_MAX_SESSION_LIFETIME, RevocationPlan, RevocationTarget,
};
pub use self::report::{PlanPreview, Progress, RevocationFailure, RevocationReport, Totals};
pub use self::revoker::SessionRevoker;
