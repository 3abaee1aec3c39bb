//! Runbook step 3: secret-key rotation, verified.
//!
//! No Backend API call rotates a secret key: the Clerk Dashboard does. This module proves each
//! step of a rotation instead, so that a leaked key is replaced without breaking the app and
//! the old key is shown to be dead:
//!
//! - [`verify_new`]: the new key works and belongs to the same instance, in the same
//!   environment, as the old one (`GET /v1/instance` with each key); a development key
//!   (`sk_test_`) pasted for a production instance is caught.
//! - [`verify_old_revoked`]: the old key is now rejected (401), is still valid (200), or the
//!   answer is unknown (Clerk could not be reached).
//! - [`checklist`]: the ordered procedure, each step with the command that checks it.
//!
//! Results serialise to JSON; errors ([`RotationError`]) name instance ids and environments,
//! never a key.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use clerk_incident_core::api::{ClerkApi, SecretKey};
//! use clerk_incident_core::rotation::{self, OldKeyStatus};
//!
//! let sim = clerk_incident_sim::Sim::builder().start().await?;
//! let new_key = "sk_test_rotated0000000000000000000000";
//! sim.add_secret_key(new_key);
//! let client = |key: &str| {
//!     ClerkApi::builder(SecretKey::new(key)).base_url(sim.base_url()).build()
//! };
//! let (old, new) = (client(sim.secret_key())?, client(new_key)?);
//!
//! let check = rotation::verify_new(&old, &new).await?;
//! assert_eq!(check.instance_id, sim.instance_id());
//!
//! sim.revoke_secret_key(sim.secret_key());
//! let old_check = rotation::verify_old_revoked(&old).await?;
//! assert_eq!(old_check.status, OldKeyStatus::Rejected);
//! # Ok(())
//! # }
//! ```

mod checklist;
mod error;
mod verify;

pub use self::checklist::{ChecklistStep, checklist};
pub use self::error::RotationError;
pub use self::verify::{
    NewKeyCheck, OldKeyCheck, OldKeyStatus, rotation_retry_policy, verify_new, verify_old_revoked,
};
