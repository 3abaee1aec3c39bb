//! Key compromise: what could a leaked secret key have changed?
//!
//! Clerk's Backend API keeps no audit log, so [`audit`] answers from what it can list: for a
//! window (from the leak to the rotation) it reads users, organisations and their admin
//! memberships, the sessions of everyone active in the window, machines with their M2M
//! tokens, API keys, invitations, redirect URLs, domains, allow and block lists, JWT
//! templates, OAuth applications and SAML connections, and reports each object created or
//! changed in the window as a [`Finding`], with what it is, why it matters and the exact
//! command (or Dashboard step) that undoes it.
//!
//! A [`Baseline`] ([`snapshot`], taken regularly before any incident) lets it see what
//! timestamps cannot: domains added, entries removed, users deleted, a user created with a
//! backdated `created_at`, which fields of a changed user differ.
//!
//! It never stops quietly: a list that cannot be read is a [`NotChecked`] and the report's
//! [`outcome`](AuditReport::outcome) is then [`Incomplete`](AuditOutcome::Incomplete). Its
//! [`blind_spots`](AuditReport::blind_spots) say what no list shows (sign-in and actor
//! tokens never used, Dashboard changes). Every request goes through [`ClerkApi`]: paced,
//! retried, paginated as the spec says, counted per list.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use clerk_incident_core::api::{ClerkApi, SecretKey};
//! use clerk_incident_core::audit::{self, AuditOutcome, AuditWindow};
//!
//! let sim = clerk_incident_sim::Sim::builder().users(30).start().await?;
//! let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
//!     .base_url(sim.base_url())
//!     .build()?;
//! let compromise = sim.compromise(None).await?;
//! let window = AuditWindow { since_ms: compromise.leaked_at, until_ms: i64::MAX };
//! let report = audit::audit(&api, window, None, &mut |_| {}).await;
//! assert_eq!(report.outcome(), AuditOutcome::Findings);
//! assert!(report.findings.iter().any(|f| f.kind.to_string() == "session.impersonated"));
//! # Ok(())
//! # }
//! ```
//!
//! [`ClerkApi`]: crate::api::ClerkApi

mod baseline;
mod catalog;
mod checks;
mod digest;
mod finding;
mod report;

pub use self::baseline::{
    BASELINE_FORMAT, BASELINE_VERSION, Baseline, BaselineError, MembershipDigest, UserDigest,
};
pub use self::checks::{AuditProgress, audit, snapshot};
pub use self::finding::{Change, Finding, FindingKind, ObjectKind};
pub use self::report::{AuditOutcome, AuditReport, AuditWindow, CheckedList, NotChecked};
