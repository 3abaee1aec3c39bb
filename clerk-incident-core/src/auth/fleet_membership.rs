//! [`FleetMembership`]: what the auth policy knows of the fleet it is in, so that its health
//! can show it. The fleet itself (`crate::fleet`) depends on this module, never the reverse.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;

use super::session_denylist::SessionDenier;
use crate::api::SharedBudget;
use crate::revocation::SharedJobs;

/// The variable naming the fleet store: `redis://…` or `rediss://…`, with the ACL user and
/// password in the URL. Unset: no fleet.
pub const ENV_REDIS_URL: &str = "CLERK_INCIDENT_REDIS_URL";

/// An instance's membership in a fleet, as the policy holds it
/// ([`FleetMember`](crate::fleet::FleetMember) is the one this crate provides).
pub trait FleetMembership: fmt::Debug + Send + Sync {
    /// The fleet as this instance sees it.
    fn health(&self) -> FleetHealth;

    /// Where revocations report the sessions they revoked: the fleet's denylist, which every
    /// instance's copy follows.
    fn denier(&self) -> Arc<dyn SessionDenier>;

    /// The fleet's Backend API budget, which every process's client shares
    /// ([`ClerkApiBuilder::shared_budget`](crate::api::ClerkApiBuilder::shared_budget)).
    fn api_budget(&self) -> Arc<dyn SharedBudget>;

    /// The fleet's revocation jobs, as this instance runs them: one at a time fleet-wide
    /// ([`RevocationJobs::share`](crate::revocation::RevocationJobs::share)).
    fn shared_jobs(&self) -> SharedJobs;
}

/// The fleet as one instance sees it: part of what its health endpoint serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FleetHealth {
    /// The store (`memory`, or `redis://host:port/0` without the password).
    pub store: String,
    /// This instance's id.
    pub instance_id: String,
    /// True when the last store call succeeded and the pushes are received.
    pub connected: bool,
    /// When the store last answered (RFC 3339).
    #[serde(serialize_with = "super::rfc3339_opt")]
    pub last_contact: Option<SystemTime>,
    /// Since when it has not (RFC 3339): the mode in force stays until its own expiry.
    #[serde(serialize_with = "super::rfc3339_opt")]
    pub lost_since: Option<SystemTime>,
    /// Why the last call failed.
    pub last_error: Option<String>,
    /// The fleet mode version applied last (0: none yet).
    pub applied_version: u64,
}
