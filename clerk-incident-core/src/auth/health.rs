//! [`AuthHealth`]: what the adapters' `GET /api/clerk-health` serves.

use std::collections::BTreeMap;

use serde::Serialize;

use super::fleet_membership::FleetHealth;
use super::jwks_cache::KeyStatus;
use super::mode::{AuthMode, ModeState};
use super::session_denylist::DenylistHealth;

/// The overall verdict of an [`AuthHealth`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HealthStatus {
    /// Enforcing with fresh keys.
    Ok,
    /// A bypass mode is on, or the last key refresh failed (cached keys still verify).
    Degraded,
    /// No usable key: protected routes answer 503 in `Enforce`.
    Unavailable,
}

/// Verification counters since start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuthCounters {
    /// Tokens that verified.
    pub verified: u64,
    /// Of those, answered from the verified-token cache.
    pub cache_hits: u64,
    /// Rejections by reason.
    pub rejected: BTreeMap<&'static str, u64>,
    /// Requests let through by the `Open` bypass.
    pub bypassed: u64,
    /// Expired tokens accepted in `Grace`.
    pub grace_allowed: u64,
}

/// The auth health state: mode, keys and counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuthHealth {
    /// The verdict.
    pub status: HealthStatus,
    /// True when a verification key is usable: the service can verify session tokens.
    pub ready: bool,
    /// Why the verdict is not `ok`, in words an on-call engineer can act on, such as `no
    /// verification key: the Backend API answered 401 to the JWKS fetch: the secret key is
    /// rejected (…)`; absent when all is well. A fixed vocabulary (never the operator's bypass
    /// reason, a URL or a key), so the public summary shows it too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The mode in force, since when, until when, and why.
    pub mode: ModeState,
    /// The verification keys.
    pub keys: KeyStatus,
    /// The counters.
    pub counters: AuthCounters,
    /// The fleet as this instance sees it, when it joined one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetHealth>,
    /// The revoked sessions refused in every mode.
    pub denylist: DenylistHealth,
}

impl AuthHealth {
    pub(crate) fn new(
        fleet: Option<FleetHealth>,
        denylist: DenylistHealth,
        mode: ModeState,
        keys: KeyStatus,
        counters: AuthCounters,
    ) -> Self {
        let fleet_lost = fleet
            .as_ref()
            .is_some_and(|fleet| fleet.lost_since.is_some());
        let status = if keys.key_count == 0 || keys.too_stale {
            // A pinned key set is never empty; a JWKS one is before its first fetch.
            if keys.fetches == 0 && keys.source != "pinned_pem" {
                HealthStatus::Degraded
            } else {
                HealthStatus::Unavailable
            }
        } else if mode.mode != AuthMode::Enforce
            || keys.last_error.is_some()
            || fleet_lost
            || denylist.full
            || !denylist.current
        {
            HealthStatus::Degraded
        } else {
            HealthStatus::Ok
        };
        let ready = keys.usable();
        let problem = problem(&mode, &keys, fleet_lost, &denylist);
        Self {
            status,
            ready,
            problem,
            mode,
            keys,
            counters,
            fleet,
            denylist,
        }
    }
}

/// Why a health is not `ok`: the keys first (they decide whether tokens verify), then a
/// denylist that may miss a revoked session (only fully valid tokens pass), then a lost fleet
/// store, then a bypass.
fn problem(
    mode: &ModeState,
    keys: &KeyStatus,
    fleet_lost: bool,
    denylist: &DenylistHealth,
) -> Option<String> {
    let last_error = keys.last_error.as_deref();
    let keys_reason = if keys.too_stale {
        // The age is in the details (`keys.staleness_secs`), not here: this is public.
        Some(match last_error {
            Some(error) => format!("the keys are too stale to verify; {error}"),
            None => "the keys are too stale to verify".to_owned(),
        })
    } else if keys.key_count == 0 {
        Some(match last_error {
            Some(error) => format!("no verification key: {error}"),
            None if keys.fetches == 0 => {
                "no verification key yet: the first JWKS fetch has not completed".to_owned()
            }
            None => "no verification key: the JWKS holds none".to_owned(),
        })
    } else if keys.from_snapshot.is_some() {
        // When it was taken is in the details (`keys.from_snapshot`), not here: this is public.
        Some(match last_error {
            Some(error) => format!("verifying with the keys of a snapshot: {error}"),
            None => "verifying with the keys of a snapshot".to_owned(),
        })
    } else {
        last_error
            .map(|error| format!("the last JWKS refresh failed, cached keys still verify: {error}"))
    };
    let keys_unusable = keys.key_count == 0 || keys.too_stale;
    if !keys_unusable {
        if denylist.full {
            return Some(
                "the session denylist is full: only fully valid tokens are accepted until its entries expire"
                    .to_owned(),
            );
        }
        if !denylist.current {
            return Some(
                "the fleet's session denylist has not been read lately: only fully valid tokens are accepted until it is"
                    .to_owned(),
            );
        }
    }
    if keys_reason.is_none() && fleet_lost {
        return Some(match mode.mode {
            AuthMode::Enforce => {
                "the fleet store is unreachable: enforcing until it answers again".to_owned()
            }
            other => format!(
                "the fleet store is unreachable: the {} bypass stays until its own end, then enforce",
                other.name()
            ),
        });
    }
    keys_reason.or_else(|| match mode.mode {
        AuthMode::Enforce => None,
        other => Some(format!("the {} bypass is on", other.name())),
    })
}
