//! The [`FleetStore`] seam and the records it keeps: the fleet's [`DesiredMode`], the
//! [`ModeRequest`] that writes it, and each instance's [`Heartbeat`].

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::api::SharedBudget;
use crate::auth::{
    AuthMode, KeySnapshotStore, MAX_BYPASS_TTL, MAX_GRACE_MAX_AGE, Rfc3339, SnapshotError,
};
use crate::revocation::RevocationJobStore;

/// The mode every instance of the fleet should be in, as the store holds it.
///
/// Serialises with Unix milliseconds, the form the stores keep:
/// `{"version":3,"mode":"grace","max_token_age_secs":1800,"until_ms":…,"reason":"INC-42",
/// "set_by":"alice@laptop","set_at_ms":…,"previous":{"mode":"enforce"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DesiredMode {
    /// The store's epoch: a random id drawn when its version counter starts (again after the
    /// store restarted empty), so that a version number names one write only.
    #[serde(default)]
    pub epoch: String,
    /// Bumped by every write: an instance applies a version only once, and never goes back to
    /// an older one on a late message.
    pub version: u64,
    /// The mode.
    #[serde(flatten)]
    pub mode: AuthMode,
    /// When the mode ends, absolute: every instance returns to `Enforce` at that instant by
    /// itself, store or no store. `None` for `Enforce`.
    #[serde(with = "unix_ms_opt")]
    pub until_ms: Option<SystemTime>,
    /// Why, as the operator gave it.
    pub reason: String,
    /// Who wrote it (user and host).
    pub set_by: String,
    /// When it was written, by the store's clock where it has one (Redis).
    #[serde(with = "unix_ms")]
    pub set_at_ms: SystemTime,
    /// The fleet's mode before this write.
    pub previous: AuthMode,
}

impl DesiredMode {
    /// The mode in force at `now`: `Enforce` once `until` has passed.
    pub fn mode_at(&self, now: SystemTime) -> AuthMode {
        match self.until_ms {
            Some(until) if until > now => self.mode,
            _ => AuthMode::Enforce,
        }
    }
}

impl fmt::Display for DesiredMode {
    /// `v3 grace (max token age 30m) until 2026-11-26T20:00:00Z by alice@laptop: INC-42`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{} {}", self.version, self.mode)?;
        if let Some(until) = self.until_ms {
            write!(f, " until {}", Rfc3339(until))?;
        }
        write!(f, " by {}: {}", self.set_by, self.reason)
    }
}

/// A checked request to change the fleet's mode: the ceilings of the environment apply (a
/// bypass ends within 24 hours, a grace window is at most 24 hours).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModeRequest {
    mode: AuthMode,
    until: Option<SystemTime>,
    reason: String,
    set_by: String,
}

impl ModeRequest {
    /// `mode` until `until` (ignored for `Enforce`), for `reason`, written by `set_by`.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    ///
    /// use clerk_incident_core::auth::AuthMode;
    /// use clerk_incident_core::fleet::ModeRequest;
    ///
    /// let in_an_hour = SystemTime::now() + Duration::from_secs(3600);
    /// assert!(ModeRequest::new(AuthMode::Open, Some(in_an_hour), "INC-42", "alice").is_ok());
    /// // A bypass needs an end, within 24 hours.
    /// assert!(ModeRequest::new(AuthMode::Open, None, "INC-42", "alice").is_err());
    /// let in_two_days = SystemTime::now() + Duration::from_secs(48 * 3600);
    /// assert!(ModeRequest::new(AuthMode::Open, Some(in_two_days), "INC-42", "alice").is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`FleetError::Refused`] for a bypass without an end, one that ends in the past or more
    /// than 24 hours ahead, a grace window above 24 hours, or an empty reason.
    pub fn new(
        mode: AuthMode,
        until: Option<SystemTime>,
        reason: impl Into<String>,
        set_by: impl Into<String>,
    ) -> Result<Self, FleetError> {
        let reason = reason.into().trim().to_owned();
        if reason.is_empty() {
            return Err(FleetError::Refused(
                "a reason is required: it goes into the fleet's history and the incident log"
                    .into(),
            ));
        }
        if let AuthMode::Grace { max_token_age } = mode
            && max_token_age > MAX_GRACE_MAX_AGE
        {
            return Err(FleetError::Refused(
                "a grace window is at most 24h: a token expired for longer than a day is never \
                 accepted"
                    .into(),
            ));
        }
        let until = if mode.is_bypass() {
            let Some(until) = until else {
                return Err(FleetError::Refused(format!(
                    "the {} bypass needs an end (--until or --ttl), at most 24h ahead",
                    mode.name()
                )));
            };
            let now = SystemTime::now();
            match until.duration_since(now) {
                Ok(ttl) if ttl > MAX_BYPASS_TTL + Duration::from_secs(1) => {
                    return Err(FleetError::Refused(format!(
                        "{} is more than 24h ahead; a bypass lasts at most 24h",
                        Rfc3339(until)
                    )));
                }
                Ok(ttl) if !ttl.is_zero() => Some(whole_millis(until)),
                _ => {
                    return Err(FleetError::Refused(format!(
                        "{} is not in the future",
                        Rfc3339(until)
                    )));
                }
            }
        } else {
            None
        };
        Ok(Self {
            mode,
            until,
            reason,
            set_by: set_by.into(),
        })
    }

    /// The mode asked for.
    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// When it ends; `None` for `Enforce`.
    pub fn until(&self) -> Option<SystemTime> {
        self.until
    }

    /// Why.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Who asks.
    pub fn set_by(&self) -> &str {
        &self.set_by
    }

    /// The record a store writes for this request as `version`, over `previous` (the store
    /// sets its [`epoch`](DesiredMode::epoch)).
    pub fn into_desired(self, version: u64, previous: AuthMode) -> DesiredMode {
        DesiredMode {
            epoch: String::new(),
            version,
            mode: self.mode,
            until_ms: self.until,
            reason: self.reason,
            set_by: self.set_by,
            set_at_ms: whole_millis(SystemTime::now()),
            previous,
        }
    }
}

/// What an instance tells the fleet about itself, every few seconds and right after it
/// applies a change; the store forgets it when it stops (after the heartbeat's TTL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Heartbeat {
    /// The instance's id, unique in the fleet.
    pub id: String,
    /// The host it runs on.
    pub host: String,
    /// The clerk-incident version it runs.
    pub version: String,
    /// The mode in force there.
    #[serde(flatten)]
    pub mode: AuthMode,
    /// When that mode ends there.
    #[serde(with = "unix_ms_opt")]
    pub mode_until_ms: Option<SystemTime>,
    /// The [`DesiredMode::version`] it applied last (0: none yet).
    pub applied_version: u64,
    /// The [`DesiredMode::epoch`] of that record.
    #[serde(default)]
    pub applied_epoch: String,
    /// Verification keys held.
    pub key_count: usize,
    /// Seconds since those keys were fetched.
    pub key_age_secs: Option<u64>,
    /// When it last reached the store.
    #[serde(with = "unix_ms_opt")]
    pub store_contact_ms: Option<SystemTime>,
    /// When it sent this heartbeat.
    #[serde(with = "unix_ms")]
    pub at_ms: SystemTime,
}

/// Why a fleet store call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// The store cannot be reached or did not answer in time.
    #[error("the fleet store is unreachable: {0}")]
    Unavailable(String),
    /// The store answered with something that is not a fleet record.
    #[error("the fleet store holds an invalid record: {0}")]
    Invalid(String),
    /// The request breaks a rule (no end, past the ceiling, no reason).
    #[error("{0}")]
    Refused(String),
    /// The configuration names no usable store or fleet.
    #[error("{0}")]
    Config(String),
}

impl FleetError {
    /// This failure as a [`SnapshotError`] of the key snapshot at `location` (the store is
    /// also the fleet's [`KeySnapshotStore`]): it could not be `action` (`read`, `written`).
    pub fn to_snapshot_error(&self, location: String, action: &'static str) -> SnapshotError {
        SnapshotError::Io {
            location,
            action,
            source: std::io::Error::other(self.to_string()),
        }
    }
}

/// Pushed changes of the fleet's mode; the stream ends when the store connection is lost.
pub type ModeUpdates = BoxStream<'static, DesiredMode>;

/// Where a fleet keeps its desired mode, its history and its instances' heartbeats, and the
/// state its instances share: the last known good signing keys ([`KeySnapshotStore`]: an
/// instance that starts while Clerk is down verifies with the keys another one fetched) and
/// the revoked sessions ([`DenylistStore`](super::DenylistStore): refused by every instance,
/// even in `Grace`), and the Backend API budget ([`SharedBudget`]: every process's requests
/// together under Clerk's rate limit), and the revocation jobs ([`RevocationJobStore`]: one
/// mass revocation at a time for the whole fleet, visible and resumable from every replica).
///
/// Object safe (`Arc<dyn FleetStore>`); [`MemoryFleetStore`](super::MemoryFleetStore) keeps it
/// in the process, `clerk-incident-redis` on Redis. Every call is bounded in time by the
/// implementation, and a failure is an error, never a default: an instance that cannot read
/// the store keeps the mode it has until that mode's own expiry.
#[async_trait]
pub trait FleetStore:
    KeySnapshotStore
    + super::DenylistStore
    + SharedBudget
    + RevocationJobStore
    + fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// The fleet's mode, or `None` when none was ever written (or the store restarted empty):
    /// `Enforce`.
    async fn desired(&self) -> Result<Option<DesiredMode>, FleetError>;

    /// Writes `request` atomically as the next version, records it in the history with the
    /// previous mode, pushes it to the subscribers, and returns what was written. Concurrent
    /// writers: the last write wins, each with its own version.
    async fn set_desired(&self, request: ModeRequest) -> Result<DesiredMode, FleetError>;

    /// Pushes later writes, in order; an implementation may push the record in force when
    /// the push is delivered instead (a later one, never an older one). The stream ends when
    /// the connection is lost.
    async fn subscribe(&self) -> Result<ModeUpdates, FleetError>;

    /// The last `limit` writes, oldest first.
    async fn history(&self, limit: usize) -> Result<Vec<DesiredMode>, FleetError>;

    /// Records `beat`, forgotten after `ttl` unless renewed.
    async fn heartbeat(&self, beat: &Heartbeat, ttl: Duration) -> Result<(), FleetError>;

    /// The instances whose heartbeat has not expired, by id.
    async fn instances(&self) -> Result<Vec<Heartbeat>, FleetError>;

    /// Where the store is, for logs and health: no password, no secret.
    fn describe(&self) -> String;
}

/// `time` cut to whole milliseconds, as the stores keep it.
pub(crate) fn whole_millis(time: SystemTime) -> SystemTime {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let millis = u64::try_from(since.as_millis()).unwrap_or(u64::MAX);
    UNIX_EPOCH + Duration::from_millis(millis)
}

/// `SystemTime` as Unix milliseconds.
pub(crate) mod unix_ms {
    use super::{Deserialize, Deserializer, Duration, Serializer, SystemTime, UNIX_EPOCH};

    pub(crate) fn serialize<S: Serializer>(time: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        let ms = time
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        s.serialize_u64(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let ms = u64::deserialize(d)?;
        UNIX_EPOCH
            .checked_add(Duration::from_millis(ms))
            .ok_or_else(|| serde::de::Error::custom("time out of range"))
    }
}

/// `Option<SystemTime>` as Unix milliseconds or `null`.
pub(crate) mod unix_ms_opt {
    use super::{Deserialize, Deserializer, Serializer, SystemTime};

    pub(crate) fn serialize<S: Serializer>(
        time: &Option<SystemTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => super::unix_ms::serialize(time, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SystemTime>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(with = "super::unix_ms")] SystemTime);
        Ok(Option::<Wrapped>::deserialize(d)?.map(|Wrapped(time)| time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::DEFAULT_GRACE_MAX_AGE;

    #[test]
    fn records_round_trip_as_json() {
        let until = UNIX_EPOCH + Duration::from_millis(1_800_000_000_123);
        let request = ModeRequest {
            mode: AuthMode::Grace {
                max_token_age: DEFAULT_GRACE_MAX_AGE,
            },
            until: Some(until),
            reason: "INC-42".into(),
            set_by: "alice@laptop".into(),
        };
        let desired = request.into_desired(3, AuthMode::Enforce);
        let json = serde_json::to_value(&desired).unwrap();
        assert_eq!(json["mode"], "grace");
        assert_eq!(json["max_token_age_secs"], 1800);
        assert_eq!(json["until_ms"], 1_800_000_000_123_u64);
        assert_eq!(json["previous"]["mode"], "enforce");
        let back: DesiredMode = serde_json::from_value(json).unwrap();
        assert_eq!(back, desired);
        assert_eq!(back.mode_at(until - Duration::from_secs(1)), desired.mode);
        assert_eq!(back.mode_at(until), AuthMode::Enforce);
    }

    #[test]
    fn requests_keep_the_ceilings() {
        let now = SystemTime::now();
        let hour = Duration::from_secs(3600);
        assert!(ModeRequest::new(AuthMode::Open, Some(now + hour), "x", "a").is_ok());
        assert!(ModeRequest::new(AuthMode::Open, Some(now + 24 * hour), "x", "a").is_ok());
        for refused in [
            ModeRequest::new(AuthMode::Open, None, "x", "a"),
            ModeRequest::new(AuthMode::Open, Some(now - hour), "x", "a"),
            ModeRequest::new(AuthMode::Open, Some(now + 25 * hour), "x", "a"),
            ModeRequest::new(AuthMode::Open, Some(now + hour), "  ", "a"),
            ModeRequest::new(
                AuthMode::Grace {
                    max_token_age: 25 * hour,
                },
                Some(now + hour),
                "x",
                "a",
            ),
        ] {
            assert!(
                matches!(refused, Err(FleetError::Refused(_))),
                "{refused:?}"
            );
        }
        // Enforce needs no end, and keeps none.
        let enforce = ModeRequest::new(AuthMode::Enforce, Some(now + hour), "x", "a").unwrap();
        assert_eq!(enforce.until(), None);
    }
}
