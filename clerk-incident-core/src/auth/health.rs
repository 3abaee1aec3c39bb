//! [`AuthHealth`]: what the adapters' `GET /api/clerk-health` serves.

use std::collections::BTreeMap;

use serde::Serialize;

use super::jwks_cache::KeyStatus;
use super::mode::{AuthMode, ModeState};

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
    /// The mode in force, since when, until when, and why.
    pub mode: ModeState,
    /// The verification keys.
    pub keys: KeyStatus,
    /// The counters.
    pub counters: AuthCounters,
}

impl AuthHealth {
    pub(crate) fn new(mode: ModeState, keys: KeyStatus, counters: AuthCounters) -> Self {
        let status = if keys.key_count == 0 || keys.too_stale {
            // A pinned key set is never empty; a JWKS one is before its first fetch.
            if keys.fetches == 0 && keys.source != "pinned_pem" {
                HealthStatus::Degraded
            } else {
                HealthStatus::Unavailable
            }
        } else if mode.mode != AuthMode::Enforce || keys.last_error.is_some() {
            HealthStatus::Degraded
        } else {
            HealthStatus::Ok
        };
        Self {
            status,
            mode,
            keys,
            counters,
        }
    }
}
