//! The app's own view of its auth: the `GET /api/clerk-health` JSON the adapters serve
//! ([`AuthHealth`](crate::auth::AuthHealth)), read defensively.
//!
//! Parsing never fails on a JSON object: a missing or oddly typed field reads as absent, so an
//! app on an older or newer version of the adapters still gives what evidence it can. Only a
//! body that is not a JSON object carrying at least one of `status`, `mode`, `keys` or
//! `counters` reads as "not a health body".
//!
//! ```
//! use clerk_incident_core::triage::app_health::{AppHealthSnapshot, AppStatus};
//!
//! let body = br#"{"status":"degraded","mode":{"mode":"grace","reason":"INC-7"},
//!     "keys":{"source":"backend_api","key_count":1,"staleness_secs":620,"last_error":"timed out"},
//!     "counters":{"verified":90,"rejected":{"expired":25,"missing":400}}}"#;
//! let health = AppHealthSnapshot::parse(body).expect("a health body");
//! assert_eq!(health.status, AppStatus::Degraded);
//! assert_eq!(health.mode.as_deref(), Some("grace"));
//! assert_eq!(health.session_rejections(), 25, "missing tokens are not session trouble");
//! assert!(health.rejection_spike());
//! assert!(AppHealthSnapshot::parse(b"<html>oops</html>").is_none());
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use super::text::clip;

/// Rejection reasons that mean a signed-in user's session token stopped verifying (as opposed
/// to anonymous traffic or attacks on the token format): the counters that climb when users
/// are logged out at random.
pub const SESSION_REJECTION_REASONS: [&str; 5] = [
    "expired",
    "unknown_key",
    "bad_signature",
    "not_yet_valid",
    "issued_in_future",
];

/// A rejection spike needs at least this many [session rejections](SESSION_REJECTION_REASONS)…
pub const SPIKE_MIN_REJECTIONS: u64 = 10;

/// …making up at least this share (in percent) of the tokens the app has seen (verified plus
/// session rejections). The counters run since the app started, so the share, not the count,
/// tells a spike from a long uptime.
pub const SPIKE_MIN_SHARE_PERCENT: u64 = 5;

/// How many rejection reasons, kids and characters of text a snapshot keeps: enough for any
/// real app, bounded for a misbehaving one.
const MAX_ENTRIES: usize = 32;
const MAX_TEXT: usize = 200;

/// The health endpoint's verdict (`status`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AppStatus {
    /// Enforcing with fresh keys.
    Ok,
    /// A bypass mode is on, or the last key refresh failed (cached keys still verify).
    Degraded,
    /// No usable key: protected routes answer 503.
    Unavailable,
    /// Missing or a value this version does not know.
    #[default]
    Unknown,
}

impl fmt::Display for AppStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AppStatus::Ok => "ok",
            AppStatus::Degraded => "degraded",
            AppStatus::Unavailable => "unavailable",
            AppStatus::Unknown => "unknown",
        })
    }
}

/// What the app's health endpoint said, as far as it could be read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AppHealthSnapshot {
    /// The verdict.
    pub status: AppStatus,
    /// The auth mode in force: `enforce`, `grace` or `open` (`mode.mode`).
    pub mode: Option<String>,
    /// When the bypass returns to `enforce` by itself (`mode.expires_at`, RFC 3339).
    pub mode_expires_at: Option<String>,
    /// Why the mode was set (`mode.reason`).
    pub mode_reason: Option<String>,
    /// Where the keys come from: `pinned_pem`, `backend_api` or `frontend_api` (`keys.source`).
    pub key_source: Option<String>,
    /// How many verification keys the app holds (`keys.key_count`).
    pub key_count: Option<u64>,
    /// Their ids (`keys.kids`).
    pub kids: Vec<String>,
    /// Seconds since the keys were fetched (`keys.staleness_secs`).
    pub staleness_secs: Option<u64>,
    /// True when the keys are past the staleness bound and no longer verify.
    pub too_stale: bool,
    /// The last key-refresh error (`keys.last_error`).
    pub last_key_error: Option<String>,
    /// The HTTP status of the last failed key fetch (`keys.last_error_status`; 401: the app's
    /// secret key is rejected).
    pub last_key_error_status: Option<u16>,
    /// When the keys in use come from a snapshot: when it was taken (`keys.from_snapshot`).
    pub keys_from_snapshot: Option<String>,
    /// Why the app is not `ok`, in its own words (`problem`).
    pub problem: Option<String>,
    /// Tokens that verified (`counters.verified`).
    pub verified: u64,
    /// Rejections by reason (`counters.rejected`).
    pub rejected: BTreeMap<String, u64>,
    /// Requests let through by the `Open` bypass (`counters.bypassed`).
    pub bypassed: u64,
    /// Expired tokens accepted in `Grace` (`counters.grace_allowed`).
    pub grace_allowed: u64,
    /// Whether the app can verify tokens (`ready`), when it says.
    pub ready: Option<bool>,
    /// True when the body held the details (`keys`, `counters`): the app showed them to an
    /// operator or to its health token. False for the public summary (`status`, `mode`,
    /// `ready`), whose counters then read as zero.
    pub details: bool,
}

impl AppHealthSnapshot {
    /// Reads a health body; `None` when it is not a JSON object with at least one of
    /// `status`, `mode`, `keys` or `counters`.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let json: Value = serde_json::from_slice(body).ok()?;
        let root = json.as_object()?;
        if !["status", "mode", "keys", "counters"]
            .iter()
            .any(|key| root.contains_key(*key))
        {
            return None;
        }
        let empty = Map::new();
        let object = |key: &str| root.get(key).and_then(Value::as_object).unwrap_or(&empty);
        let text = |map: &Map<String, Value>, key: &str| {
            map.get(key)
                .and_then(Value::as_str)
                .map(|s| clip(s, MAX_TEXT))
        };
        let number = |map: &Map<String, Value>, key: &str| map.get(key).and_then(Value::as_u64);

        let mode = object("mode");
        let keys = object("keys");
        let counters = object("counters");
        let status = match root.get("status").and_then(Value::as_str) {
            Some("ok") => AppStatus::Ok,
            Some("degraded") => AppStatus::Degraded,
            Some("unavailable") => AppStatus::Unavailable,
            _ => AppStatus::Unknown,
        };
        let kids = keys
            .get("kids")
            .and_then(Value::as_array)
            .map(|kids| {
                kids.iter()
                    .filter_map(Value::as_str)
                    .take(MAX_ENTRIES)
                    .map(|kid| clip(kid, MAX_TEXT))
                    .collect()
            })
            .unwrap_or_default();
        let rejected = counters
            .get("rejected")
            .and_then(Value::as_object)
            .map(|reasons| {
                reasons
                    .iter()
                    .filter_map(|(reason, count)| Some((clip(reason, MAX_TEXT), count.as_u64()?)))
                    .take(MAX_ENTRIES)
                    .collect()
            })
            .unwrap_or_default();
        // The public summary names the mode as a string, the details as an object.
        let mode_name = root
            .get("mode")
            .and_then(Value::as_str)
            .map(|name| clip(name, MAX_TEXT))
            .or_else(|| text(mode, "mode"));
        Some(Self {
            status,
            mode: mode_name,
            mode_expires_at: text(mode, "expires_at"),
            mode_reason: text(mode, "reason"),
            key_source: text(keys, "source"),
            key_count: number(keys, "key_count"),
            kids,
            staleness_secs: number(keys, "staleness_secs"),
            too_stale: keys
                .get("too_stale")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            last_key_error: text(keys, "last_error"),
            last_key_error_status: number(keys, "last_error_status")
                .and_then(|status| u16::try_from(status).ok()),
            problem: text(root, "problem"),
            keys_from_snapshot: text(keys, "from_snapshot"),
            verified: number(counters, "verified").unwrap_or(0),
            rejected,
            bypassed: number(counters, "bypassed").unwrap_or(0),
            grace_allowed: number(counters, "grace_allowed").unwrap_or(0),
            ready: root.get("ready").and_then(Value::as_bool),
            details: root.contains_key("keys") || root.contains_key("counters"),
        })
    }

    /// Why users do not get what they should from this app, when they do not: no usable key,
    /// not ready, failing key fetches, or a verdict of `unavailable`. A bypass alone is not a
    /// failure (the app serves users, on purpose), nor an unknown status.
    pub fn failure(&self) -> Option<String> {
        let said = |fallback: &str| self.problem.clone().unwrap_or_else(|| fallback.to_owned());
        if self.status == AppStatus::Unavailable {
            Some(said("no usable verification key"))
        } else if self.too_stale {
            Some(said("the keys are too stale to verify"))
        } else if self.ready == Some(false) || self.key_count == Some(0) {
            Some(said("no verification key yet"))
        } else if let Some(error) = &self.last_key_error {
            Some(
                self.problem
                    .clone()
                    .unwrap_or_else(|| format!("the last key refresh failed: {error}")),
            )
        } else if self.status == AppStatus::Degraded && !self.bypass_on() {
            Some(said("the app reports itself degraded"))
        } else {
            None
        }
    }

    /// True when a bypass mode (`grace` or `open`) is on.
    pub fn bypass_on(&self) -> bool {
        self.mode.as_deref().is_some_and(|mode| mode != "enforce")
    }

    /// Rejections whose reason is one of [`SESSION_REJECTION_REASONS`].
    pub fn session_rejections(&self) -> u64 {
        SESSION_REJECTION_REASONS
            .iter()
            .filter_map(|reason| self.rejected.get(*reason))
            .fold(0, |sum, count| sum.saturating_add(*count))
    }

    /// True when [session rejections](Self::session_rejections) number at least
    /// [`SPIKE_MIN_REJECTIONS`] and make up at least [`SPIKE_MIN_SHARE_PERCENT`] of the tokens
    /// seen.
    pub fn rejection_spike(&self) -> bool {
        let rejected = self.session_rejections();
        let seen = self.verified.saturating_add(rejected);
        rejected >= SPIKE_MIN_REJECTIONS
            && u128::from(rejected) * 100 >= u128::from(seen) * u128::from(SPIKE_MIN_SHARE_PERCENT)
    }

    /// The largest session-rejection counters, biggest first, as `expired 25, unknown_key 3`.
    pub fn top_session_rejections(&self) -> String {
        let mut counts: Vec<(&str, u64)> = SESSION_REJECTION_REASONS
            .iter()
            .filter_map(|reason| Some((*reason, *self.rejected.get(*reason)?)))
            .filter(|(_, count)| *count > 0)
            .collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        counts
            .iter()
            .map(|(reason, count)| format!("{reason} {count}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for AppHealthSnapshot {
    /// One line: status, mode, keys, session rejections.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "status {}", self.status)?;
        if self.ready == Some(false) {
            f.write_str(", not ready")?;
        }
        if let Some(problem) = &self.problem {
            write!(f, " ({problem})")?;
        }
        if let Some(mode) = &self.mode {
            write!(f, ", mode {mode}")?;
            if let Some(until) = &self.mode_expires_at {
                write!(f, " until {until}")?;
            }
        }
        match (self.key_count, self.staleness_secs) {
            (Some(count), Some(age)) => write!(f, ", {count} key(s) {age} s old")?,
            (Some(count), None) => write!(f, ", {count} key(s)")?,
            _ => {}
        }
        if self.too_stale {
            f.write_str(" (too stale)")?;
        }
        if let Some(taken) = &self.keys_from_snapshot {
            write!(f, " from the snapshot of {taken}")?;
        }
        // The problem, when the app names one, already says it.
        if let (Some(error), None) = (&self.last_key_error, &self.problem) {
            write!(f, ", last key refresh failed: {error}")?;
        }
        let session = self.session_rejections();
        write!(
            f,
            ", {} verified, {session} session rejection(s)",
            self.verified
        )?;
        if session > 0 {
            write!(f, " ({})", self.top_session_rejections())?;
        }
        if !self.details {
            f.write_str(
                " (the public summary only: set CLERK_INCIDENT_HEALTH_TOKEN to the app's health token for keys and counters)",
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_summary_reads_as_what_it_says_and_no_more() {
        let health =
            AppHealthSnapshot::parse(br#"{"status":"degraded","mode":"grace","ready":false}"#)
                .unwrap();
        assert_eq!(health.status, AppStatus::Degraded);
        assert_eq!(health.mode.as_deref(), Some("grace"));
        assert_eq!(health.ready, Some(false));
        assert!(!health.details);
        assert!(
            health.to_string().contains("CLERK_INCIDENT_HEALTH_TOKEN"),
            "{health}"
        );
        let details = AppHealthSnapshot::parse(
            br#"{"status":"ok","ready":true,"mode":{"mode":"enforce"},"keys":{"key_count":1},"counters":{}}"#,
        )
        .unwrap();
        assert!(details.details);
        assert_eq!(details.ready, Some(true));
        assert!(!details.to_string().contains("CLERK_INCIDENT_HEALTH_TOKEN"));
    }

    #[test]
    fn odd_shapes_read_as_absent() {
        let health = AppHealthSnapshot::parse(
            br#"{"status":7,"mode":"open","keys":{"key_count":-1,"kids":[1,"k1"]},
                "counters":{"verified":"many","rejected":{"expired":3,"weird":"x"}}}"#,
        )
        .unwrap();
        assert_eq!(health.status, AppStatus::Unknown);
        // A string is the public summary's form of the mode.
        assert_eq!(health.mode.as_deref(), Some("open"));
        assert_eq!(health.key_count, None);
        assert_eq!(health.kids, ["k1"]);
        assert_eq!(health.verified, 0);
        assert_eq!(health.rejected.len(), 1);
        for garbage in [
            &b""[..],
            b"null",
            b"[]",
            b"{}",
            b"{\"other\":1}",
            b"\xff\xfe",
        ] {
            assert!(AppHealthSnapshot::parse(garbage).is_none());
        }
    }

    #[test]
    fn spikes_need_a_count_and_a_share() {
        let with = |verified: u64, expired: u64| AppHealthSnapshot {
            verified,
            rejected: BTreeMap::from([("expired".to_owned(), expired)]),
            ..AppHealthSnapshot::default()
        };
        assert!(!with(0, 9).rejection_spike(), "too few");
        assert!(with(0, 10).rejection_spike());
        assert!(with(190, 10).rejection_spike(), "exactly 5 %");
        assert!(!with(10_000, 100).rejection_spike(), "1 % of a long uptime");
        assert!(with(u64::MAX, u64::MAX).rejection_spike(), "no overflow");
    }

    #[test]
    fn long_text_is_clipped() {
        let reason = "x".repeat(10_000);
        let body = format!(r#"{{"mode":{{"mode":"open","reason":"{reason}"}}}}"#);
        let health = AppHealthSnapshot::parse(body.as_bytes()).unwrap();
        assert!(health.mode_reason.as_ref().unwrap().chars().count() <= MAX_TEXT + 1);
        assert!(health.bypass_on());
    }
}
