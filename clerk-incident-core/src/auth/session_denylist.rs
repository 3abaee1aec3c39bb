//! [`SessionDenylist`]: the sessions this project revoked, refused even in `Grace` and `Open`.
//!
//! `Grace` accepts expired tokens whose signature verifies, and `Open` keeps the identity of
//! one: without a denylist, the token of a session revoked during the incident would pass.
//! Every revocation made through this project (the CLI's `sessions revoke`, the admin routes)
//! reports the sessions it revoked to a [`SessionDenier`]: the policy's own list for a single
//! service, the fleet's store (and every instance's copy) for a fleet.
//!
//! The request path reads the local copy only: a hash lookup under a read lock, skipped while
//! the list is empty. An entry lasts [`DENIAL_TTL`], past the longest a token of the session
//! could still be accepted (the 24-hour Grace ceiling and the token's own lifetime).
//!
//! The list is bounded ([`DEFAULT_DENYLIST_CAPACITY`]). When it is full, a session it cannot
//! hold is not forgotten quietly: until the last such entry would have expired, the list is
//! [full](SessionDenylist::is_full), and the policy then accepts only fully valid tokens
//! (`Grace` accepts no expired token, `Open` keeps no expired identity), and the health says
//! so. A copy that follows a fleet's list does the same until it has read the list once, and
//! whenever it has not read it for longer than its staleness bound
//! ([`is_current`](SessionDenylist::is_current)): a lost store could hide a revocation. Failing
//! closed costs availability, never a revoked session's access.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::Serialize;

use super::mode::MAX_GRACE_MAX_AGE;

/// How long a denied session stays denied: the Grace ceiling (24 h) and an hour, beyond the
/// lifetime of any token the session held when it was revoked.
pub const DENIAL_TTL: Duration = MAX_GRACE_MAX_AGE.saturating_add(Duration::from_secs(3600));

/// The sessions a [`SessionDenylist`] holds by default: about 30 MB at most.
pub const DEFAULT_DENYLIST_CAPACITY: usize = 200_000;

/// The local copy of the revoked sessions. Cheap to clone: clones share the list.
#[derive(Clone)]
pub struct SessionDenylist {
    inner: Arc<Inner>,
}

struct Inner {
    capacity: usize,
    /// Session id → when its denial ends.
    entries: RwLock<HashMap<String, SystemTime>>,
    /// Unix ms until which a denial that was dropped for lack of room would have lasted (0:
    /// none was).
    full_until_ms: AtomicU64,
    dropped: AtomicU64,
    refused: AtomicU64,
    /// True once the list follows a fleet's: it must then have read it lately.
    follows: AtomicBool,
    /// How long the copy may go without reading the fleet's list, in ms.
    max_staleness_ms: AtomicU64,
    /// Unix ms of the last read of the fleet's list (0: none yet), for the health.
    last_sync_ms: AtomicU64,
    /// The same read on the monotonic clock ([`monotonic_ms`]; 0: none yet), which the
    /// staleness is measured on: a wall clock stepped back must not make a stale copy current.
    last_sync_monotonic: AtomicU64,
}

/// Milliseconds since the first call in this process, plus one (0 means never).
fn monotonic_ms() -> u64 {
    static BASE: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let elapsed = BASE.get_or_init(std::time::Instant::now).elapsed();
    u64::try_from(elapsed.as_millis())
        .unwrap_or(u64::MAX)
        .saturating_add(1)
}

fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

fn from_unix_ms(ms: u64) -> Option<SystemTime> {
    (ms != 0)
        .then(|| UNIX_EPOCH.checked_add(Duration::from_millis(ms)))
        .flatten()
}

/// The denylist as the health shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DenylistHealth {
    /// Sessions held (an expired denial is dropped when room is needed).
    pub size: usize,
    /// The most it holds.
    pub capacity: usize,
    /// True while a denial it had no room for would still be in force: only fully valid
    /// tokens are accepted meanwhile.
    pub full: bool,
    /// Denials dropped for lack of room since start.
    pub dropped: u64,
    /// False while a copy that follows a fleet's list has not read it lately (or ever): only
    /// fully valid tokens are accepted meanwhile.
    pub current: bool,
    /// Requests refused because their session is denied.
    pub refused: u64,
    /// When the copy last read the fleet's list (absent outside a fleet).
    #[serde(serialize_with = "super::rfc3339_opt")]
    pub last_sync: Option<SystemTime>,
}

impl SessionDenylist {
    /// An empty list of [`DEFAULT_DENYLIST_CAPACITY`].
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_DENYLIST_CAPACITY)
    }

    /// An empty list holding at most `capacity` sessions.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                capacity,
                entries: RwLock::default(),
                full_until_ms: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                refused: AtomicU64::new(0),
                follows: AtomicBool::new(false),
                max_staleness_ms: AtomicU64::new(u64::MAX),
                last_sync_ms: AtomicU64::new(0),
                last_sync_monotonic: AtomicU64::new(0),
            }),
        }
    }

    /// Denies `session_ids`, revoked at `revoked_at` (taken as now if it is in the future),
    /// until [`DENIAL_TTL`] after that. Returns how many it newly holds.
    ///
    /// ```
    /// use std::time::SystemTime;
    ///
    /// use clerk_incident_core::auth::SessionDenylist;
    ///
    /// let list = SessionDenylist::with_capacity(2);
    /// let now = SystemTime::now();
    /// assert_eq!(list.deny(["sess_1", "sess_2", "sess_3"], now), 2);
    /// assert!(list.is_denied("sess_1"));
    /// // No room for sess_3: until its denial would end, only fully valid tokens pass.
    /// assert!(list.is_full());
    /// ```
    pub fn deny<I, S>(&self, session_ids: I, revoked_at: SystemTime) -> usize
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.deny_at(session_ids, revoked_at, SystemTime::now())
    }

    /// [`deny`](Self::deny) as of `now`.
    fn deny_at<I, S>(&self, session_ids: I, revoked_at: SystemTime, now: SystemTime) -> usize
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        // A time from the store is never trusted to lie ahead: that would make a denial, and
        // a full list, last for ever.
        let Some(until) = revoked_at.min(now).checked_add(DENIAL_TTL) else {
            return 0;
        };
        if until <= now {
            return 0;
        }
        let mut added = 0;
        let mut dropped_until: Option<SystemTime> = None;
        {
            let mut entries = self.write();
            let mut purged = false;
            for id in session_ids {
                let id = id.as_ref();
                if let Some(end) = entries.get_mut(id) {
                    *end = (*end).max(until);
                    continue;
                }
                if entries.len() >= self.inner.capacity && !purged {
                    entries.retain(|_, end| *end > now);
                    purged = true;
                }
                if entries.len() >= self.inner.capacity {
                    dropped_until = Some(until);
                    self.inner.dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                entries.insert(id.to_owned(), until);
                added += 1;
            }
        }
        if let Some(until) = dropped_until {
            let before = self
                .inner
                .full_until_ms
                .fetch_max(unix_ms(until), Ordering::Relaxed);
            if before < unix_ms(now) {
                tracing::error!(
                    capacity = self.inner.capacity,
                    "the session denylist is full: accepting only fully valid tokens until its entries expire"
                );
            }
        }
        added
    }

    /// True when `session_id` is denied now. The request path's check: a read lock and a
    /// lookup, nothing while the list is empty.
    pub fn is_denied(&self, session_id: &str) -> bool {
        let entries = self.read();
        if entries.is_empty() {
            return false;
        }
        entries
            .get(session_id)
            .is_some_and(|until| *until > SystemTime::now())
    }

    /// True while a denial the list had no room for would still be in force.
    pub fn is_full(&self) -> bool {
        let until = self.inner.full_until_ms.load(Ordering::Relaxed);
        until != 0 && until > unix_ms(SystemTime::now())
    }

    /// True unless the list follows a fleet's and has not read it within its staleness bound
    /// (or not yet at all). The policy accepts only fully valid tokens while it is not.
    pub fn is_current(&self) -> bool {
        self.is_current_at(monotonic_ms())
    }

    /// [`is_current`](Self::is_current) at `now` on the monotonic clock.
    fn is_current_at(&self, now: u64) -> bool {
        if !self.inner.follows.load(Ordering::Relaxed) {
            return true;
        }
        let last = self.inner.last_sync_monotonic.load(Ordering::Relaxed);
        last != 0 && now.saturating_sub(last) <= self.inner.max_staleness_ms.load(Ordering::Relaxed)
    }

    /// Makes the list follow a fleet's: from now on it is [current](Self::is_current) only
    /// while it has read the fleet's list within `max_staleness`.
    pub fn follow_fleet(&self, max_staleness: Duration) {
        self.inner.max_staleness_ms.store(
            u64::try_from(max_staleness.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.inner.follows.store(true, Ordering::Relaxed);
    }

    /// Counts a request refused because its session is denied.
    pub(crate) fn count_refused(&self) {
        self.inner.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Records that the copy read the fleet's list just now, `at` by the wall clock.
    pub fn mark_synced(&self, at: SystemTime) {
        self.inner
            .last_sync_monotonic
            .store(monotonic_ms(), Ordering::Relaxed);
        self.inner
            .last_sync_ms
            .store(unix_ms(at), Ordering::Relaxed);
    }

    /// The list as the health shows it.
    pub fn health(&self) -> DenylistHealth {
        DenylistHealth {
            // Held entries (an expired one goes at the next purge): a health check, which
            // anyone may send, must not walk the whole list.
            size: self.read().len(),
            capacity: self.inner.capacity,
            full: self.is_full(),
            dropped: self.inner.dropped.load(Ordering::Relaxed),
            current: self.is_current(),
            refused: self.inner.refused.load(Ordering::Relaxed),
            last_sync: from_unix_ms(self.inner.last_sync_ms.load(Ordering::Relaxed)),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, SystemTime>> {
        self.inner
            .entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, SystemTime>> {
        self.inner
            .entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for SessionDenylist {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SessionDenylist {
    /// The size, never the session ids.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionDenylist")
            .field("size", &self.read().len())
            .field("capacity", &self.inner.capacity)
            .finish()
    }
}

/// Why revoked sessions could not be denied everywhere.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the revoked sessions could not be added to {target}'s denylist: {reason}")]
pub struct DenyError {
    /// Which list ([`SessionDenier::describe`]).
    pub target: String,
    /// Why.
    pub reason: String,
}

/// Where a revocation reports the sessions it revoked, so that no instance accepts their
/// tokens in `Grace` or `Open`: a [`SessionDenylist`] for a single service, the fleet's store
/// for a fleet (`AuthPolicy::session_denier` gives the right one).
#[async_trait]
pub trait SessionDenier: fmt::Debug + Send + Sync + 'static {
    /// Denies `session_ids`, revoked now.
    ///
    /// # Errors
    ///
    /// [`DenyError`] when they could not be denied everywhere (the fleet's store is
    /// unreachable); this instance's own copy holds them all the same.
    async fn deny(&self, session_ids: &[String]) -> Result<(), DenyError>;

    /// Which list, for logs and reports (never a secret).
    fn describe(&self) -> String;
}

#[async_trait]
impl SessionDenier for SessionDenylist {
    async fn deny(&self, session_ids: &[String]) -> Result<(), DenyError> {
        SessionDenylist::deny(self, session_ids, SystemTime::now());
        Ok(())
    }

    fn describe(&self) -> String {
        "this service".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denial_lasts_past_the_grace_ceiling_then_ends() {
        let list = SessionDenylist::new();
        let now = SystemTime::now();
        list.deny(["sess_new"], now);
        list.deny(["sess_old"], now - DENIAL_TTL - Duration::from_secs(1));
        list.deny(["sess_edge"], now - DENIAL_TTL + Duration::from_secs(60));
        assert!(list.is_denied("sess_new"));
        assert!(list.is_denied("sess_edge"));
        assert!(!list.is_denied("sess_old"), "expired before it was added");
        assert!(!list.is_denied("sess_other"));
        assert!(DENIAL_TTL > MAX_GRACE_MAX_AGE);
        assert_eq!(list.health().size, 2);
    }

    #[test]
    fn a_full_list_makes_room_from_expired_entries_first_then_fails_closed() {
        let list = SessionDenylist::with_capacity(2);
        let now = SystemTime::now();
        // Added a day ago, ended ten seconds ago: its room is taken back before anything drops.
        let past = now - DENIAL_TTL - Duration::from_secs(10);
        assert_eq!(list.deny_at(["sess_a"], past, past), 1);
        list.deny(["sess_b"], now);
        assert!(!list.is_denied("sess_a"));
        assert_eq!(list.deny(["sess_c"], now), 1);
        assert!(!list.is_full());
        assert_eq!(list.deny(["sess_d"], now), 0);
        assert!(list.is_full(), "a dropped denial fails the list closed");
        let health = list.health();
        assert_eq!((health.size, health.dropped, health.full), (2, 1, true));
        // Denying a session it holds again never needs room.
        assert_eq!(list.deny(["sess_b"], now), 0);
        assert_eq!(list.health().dropped, 1);
    }

    #[test]
    fn a_time_from_the_future_is_taken_as_now() {
        let list = SessionDenylist::with_capacity(1);
        let far = SystemTime::now() + Duration::from_secs(100 * 86_400);
        list.deny(["sess_a", "sess_b"], far);
        assert!(list.is_full());
        let until = list.inner.full_until_ms.load(Ordering::Relaxed);
        let bound = unix_ms(SystemTime::now() + DENIAL_TTL) + 1000;
        assert!(until <= bound, "full for one TTL from now, never longer");
    }

    #[test]
    fn a_copy_that_follows_a_fleet_is_current_only_while_it_reads_it() {
        let list = SessionDenylist::new();
        assert!(list.is_current(), "a service's own list is always current");
        list.follow_fleet(Duration::from_secs(60));
        assert!(!list.is_current(), "not before the first read");
        list.mark_synced(SystemTime::now());
        assert!(list.is_current());
        // Two minutes later by the monotonic clock, whatever the wall clock says.
        let synced = list.inner.last_sync_monotonic.load(Ordering::Relaxed);
        assert!(list.is_current_at(synced + 59_000));
        assert!(
            !list.is_current_at(synced + 120_000),
            "not after two minutes without a read"
        );
        assert!(list.health().current);
    }

    #[test]
    fn debug_shows_no_session_id() {
        let list = SessionDenylist::new();
        list.deny(["sess_secretish"], SystemTime::now());
        assert!(!format!("{list:?}").contains("sess_secretish"));
    }
}
