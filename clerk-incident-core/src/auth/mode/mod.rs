//! The auth modes ([`AuthMode`]) and the [`BypassSwitch`] that changes them at run time.
//!
//! A service starts in [`AuthMode::Enforce`] and stays there unless an operator switches a
//! bypass on: through the switch's methods (an admin endpoint, the CLI) or through the
//! environment at start-up ([`BypassSwitch::from_env`], with an absolute end time so that a
//! restart never extends it). Nothing in a request can change the mode. Every bypass has an
//! expiry, after which the switch returns to `Enforce` by itself;
//! every change is logged with `tracing` and recorded as a [`ModeChange`] that subscribers
//! receive and [`BypassSwitch::history`] keeps.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//!
//! use clerk_incident_core::auth::{AuthMode, BypassSwitch, ChangeCause};
//!
//! let switch = BypassSwitch::new();
//! assert_eq!(switch.mode(), AuthMode::Enforce);
//!
//! // Clerk is down: let traffic through for 45 minutes.
//! let state = switch.activate(AuthMode::Open, Some(Duration::from_secs(45 * 60)), "INC-42")?;
//! assert_eq!(state.mode, AuthMode::Open);
//! assert!(state.expires_at.is_some());
//! assert_eq!(switch.mode().bypass_header_value(), Some("true"));
//!
//! // Clerk is back before the 45 minutes are up.
//! switch.deactivate("Clerk recovered");
//! assert_eq!(switch.mode(), AuthMode::Enforce);
//! let causes: Vec<ChangeCause> = switch.history().iter().map(|c| c.cause).collect();
//! assert_eq!(causes, [ChangeCause::Activated, ChangeCause::Deactivated]);
//! # Ok::<(), clerk_incident_core::auth::ModeError>(())
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tokio::sync::broadcast;
use tokio::task::AbortHandle;
use tokio::time::Instant;

mod env;

pub use self::env::{
    BypassConfigError, ENV_BYPASS, ENV_BYPASS_GRACE_MAX_AGE, ENV_BYPASS_TTL, ENV_BYPASS_UNTIL,
};

/// How long past its `exp` a token is still accepted in [`AuthMode::Grace`] unless told
/// otherwise: 30 minutes.
pub const DEFAULT_GRACE_MAX_AGE: Duration = Duration::from_secs(30 * 60);

/// How long a bypass lasts when it is switched on without a TTL: 1 hour.
pub const DEFAULT_BYPASS_TTL: Duration = Duration::from_secs(60 * 60);

/// The longest a bypass may last; longer requests are clamped to it, with a warning: 24 hours.
pub const MAX_BYPASS_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The ceiling of [`AuthMode::Grace`]'s `max_token_age`: a token expired for longer than a day
/// is never accepted. A longer window is refused ([`ModeError::GraceTooLong`]).
pub const MAX_GRACE_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// Why [`BypassSwitch::activate`] refused a mode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModeError {
    /// A grace window above [`MAX_GRACE_MAX_AGE`].
    #[error(
        "a grace window of {} is longer than the ceiling of 24h: a token expired for longer than a day is never accepted",
        humantime::format_duration(*.requested)
    )]
    GraceTooLong {
        /// The window asked for.
        requested: Duration,
    },
}

/// Refuses a grace window above [`MAX_GRACE_MAX_AGE`].
fn check_grace(mode: AuthMode) -> Result<(), ModeError> {
    match mode {
        AuthMode::Grace { max_token_age } if max_token_age > MAX_GRACE_MAX_AGE => {
            Err(ModeError::GraceTooLong {
                requested: max_token_age,
            })
        }
        _ => Ok(()),
    }
}

/// How many changes [`BypassSwitch::history`] keeps.
const HISTORY_LEN: usize = 100;

/// Room in the broadcast channel before a slow subscriber starts missing changes.
const EVENT_CAPACITY: usize = 64;

/// A bound on any TTL, however [`BypassSwitch::with_limits`] is configured, so that deadline
/// arithmetic can never overflow (100 years is "forever" for a bypass).
const TTL_CEILING: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// How protected routes treat requests.
///
/// Serialises (and deserialises) as `{"mode":"enforce"}`,
/// `{"mode":"grace","max_token_age_secs":1800}` or `{"mode":"open"}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthMode {
    /// Fail closed: a protected route needs a valid token. The default.
    #[default]
    Enforce,
    /// Clerk is down and clients cannot refresh their tokens: a token whose signature and other
    /// claims verify is accepted even if expired, up to `max_token_age` past its `exp`.
    Grace {
        /// How long past `exp` a token is still accepted ([`DEFAULT_GRACE_MAX_AGE`] by default).
        #[serde(
            rename = "max_token_age_secs",
            serialize_with = "as_secs",
            deserialize_with = "from_secs"
        )]
        max_token_age: Duration,
    },
    /// The emergency bypass: protected routes pass without a valid token.
    Open,
}

impl AuthMode {
    /// The mode's name: `"enforce"`, `"grace"` or `"open"`.
    ///
    /// ```
    /// use clerk_incident_core::auth::{AuthMode, DEFAULT_GRACE_MAX_AGE};
    ///
    /// let grace = AuthMode::Grace { max_token_age: DEFAULT_GRACE_MAX_AGE };
    /// assert_eq!(grace.name(), "grace");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            AuthMode::Enforce => "enforce",
            AuthMode::Grace { .. } => "grace",
            AuthMode::Open => "open",
        }
    }

    /// The value of the `X-Auth-Bypass` response header in this mode: none when enforcing,
    /// `grace` in grace mode, `true` when open.
    ///
    /// ```
    /// use clerk_incident_core::auth::AuthMode;
    ///
    /// assert_eq!(AuthMode::Enforce.bypass_header_value(), None);
    /// assert_eq!(AuthMode::Open.bypass_header_value(), Some("true"));
    /// ```
    pub fn bypass_header_value(&self) -> Option<&'static str> {
        match self {
            AuthMode::Enforce => None,
            AuthMode::Grace { .. } => Some("grace"),
            AuthMode::Open => Some("true"),
        }
    }

    /// True in every mode other than [`AuthMode::Enforce`].
    pub fn is_bypass(&self) -> bool {
        !matches!(self, AuthMode::Enforce)
    }
}

impl fmt::Display for AuthMode {
    /// The [name](AuthMode::name), with the token age in grace mode (`grace (max token age 30m)`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthMode::Grace { max_token_age } => write!(
                f,
                "grace (max token age {})",
                humantime::format_duration(*max_token_age)
            ),
            other => f.write_str(other.name()),
        }
    }
}

/// The mode in force, since when, until when, and why.
///
/// Serialises flat, with RFC 3339 times:
/// `{"mode":"open","since":"2026-11-26T19:15:00Z","expires_at":"2026-11-26T20:00:00Z","reason":"INC-42"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ModeState {
    /// The mode.
    #[serde(flatten)]
    pub mode: AuthMode,
    /// When this mode took effect.
    #[serde(serialize_with = "rfc3339")]
    pub since: SystemTime,
    /// When the switch returns to [`AuthMode::Enforce`] by itself; `None` when enforcing.
    #[serde(serialize_with = "rfc3339_opt")]
    pub expires_at: Option<SystemTime>,
    /// Why the mode was set, as the operator (or the expiry) gave it.
    pub reason: String,
}

/// What brought a [`ModeChange`] about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeCause {
    /// An operator switched a bypass on (or changed it).
    Activated,
    /// An operator switched the bypass off.
    Deactivated,
    /// The bypass reached its expiry and the switch returned to `Enforce` by itself.
    Expired,
}

/// One change of mode, as subscribers receive it and [`BypassSwitch::history`] keeps it.
///
/// Serialises with RFC 3339 times:
/// `{"from":{"mode":"enforce"},"to":{"mode":"open"},"cause":"activated","at":"…","expires_at":"…","reason":"INC-42"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ModeChange {
    /// The mode before.
    pub from: AuthMode,
    /// The mode after.
    pub to: AuthMode,
    /// What brought the change about.
    pub cause: ChangeCause,
    /// When the change took effect. For an expiry, the scheduled expiry time, even when it was
    /// noticed later.
    #[serde(serialize_with = "rfc3339")]
    pub at: SystemTime,
    /// When the new mode expires; `None` when it is `Enforce`.
    #[serde(serialize_with = "rfc3339_opt")]
    pub expires_at: Option<SystemTime>,
    /// The reason of the new state ([`ModeState::reason`]).
    pub reason: String,
}

/// The shared, run-time switch between the [auth modes](AuthMode).
///
/// Cheap to clone; clones share one state, so the handle given to the middleware and the one
/// given to an admin endpoint see the same mode.
///
/// - [`mode`](Self::mode) is the per-request read: no allocation, a single atomic load while
///   enforcing.
/// - [`activate`](Self::activate) switches a bypass on for a bounded time (a default TTL when
///   none is given, clamped to a maximum), [`deactivate`](Self::deactivate) switches it off.
/// - The expiry needs no traffic: inside a tokio runtime (with the time driver enabled, as for
///   the rest of this crate) a task returns the switch to `Enforce` at the deadline. A switch
///   activated outside a runtime (say by [`from_env`](Self::from_env) before `main` starts one)
///   arms that task at its first read inside one. And whatever happens to the task, a read
///   after the deadline returns `Enforce`.
/// - Changes are logged (`warn` for a bypass switched on or expiring, `info` for one switched
///   off), broadcast to [`subscribe`](Self::subscribe)rs and kept in
///   [`history`](Self::history).
///
/// ```
/// use clerk_incident_core::auth::{AuthMode, BypassSwitch, DEFAULT_GRACE_MAX_AGE};
///
/// let switch = BypassSwitch::new();
/// let for_the_middleware = switch.clone();
/// switch.activate(AuthMode::Grace { max_token_age: DEFAULT_GRACE_MAX_AGE }, None, "INC-42")?;
/// assert_eq!(for_the_middleware.mode().bypass_header_value(), Some("grace"));
/// # Ok::<(), clerk_incident_core::auth::ModeError>(())
/// ```
#[derive(Clone)]
pub struct BypassSwitch {
    shared: Arc<Shared>,
}

struct Shared {
    /// True exactly when `inner.state.mode` is a bypass; written only under the write lock.
    /// Lets the enforcing hot path skip the lock.
    bypassing: AtomicBool,
    inner: RwLock<Inner>,
    events: broadcast::Sender<ModeChange>,
    default_ttl: Duration,
    max_ttl: Duration,
}

struct Inner {
    state: ModeState,
    /// When the bypass ends, on tokio's clock; `None` when enforcing.
    deadline: Option<Instant>,
    /// Bumped by every change, so that a timer armed for an earlier activation does nothing.
    generation: u64,
    /// The task that expires the current activation, when one could be spawned.
    timer: Option<AbortHandle>,
    history: VecDeque<ModeChange>,
}

impl BypassSwitch {
    /// A switch in [`AuthMode::Enforce`], with the default TTL ([`DEFAULT_BYPASS_TTL`]) and
    /// maximum ([`MAX_BYPASS_TTL`]).
    pub fn new() -> Self {
        Self::with_limits(DEFAULT_BYPASS_TTL, MAX_BYPASS_TTL)
    }

    /// A switch in [`AuthMode::Enforce`] with its own limits: `default_ttl` applies when an
    /// activation gives no TTL, and no bypass lasts longer than `max_ttl`. A `default_ttl` above
    /// `max_ttl` is lowered to it.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use clerk_incident_core::auth::{AuthMode, BypassSwitch};
    ///
    /// let minutes = |m: u64| Duration::from_secs(m * 60);
    /// let switch = BypassSwitch::with_limits(minutes(15), minutes(120));
    /// let state = switch.activate(AuthMode::Open, Some(minutes(600)), "drill")?;
    /// let lasts = state.expires_at.unwrap().duration_since(state.since).unwrap();
    /// assert_eq!(lasts, minutes(120));
    /// # Ok::<(), clerk_incident_core::auth::ModeError>(())
    /// ```
    pub fn with_limits(default_ttl: Duration, max_ttl: Duration) -> Self {
        let max_ttl = max_ttl.min(TTL_CEILING);
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Self {
            shared: Arc::new(Shared {
                bypassing: AtomicBool::new(false),
                inner: RwLock::new(Inner {
                    state: ModeState {
                        mode: AuthMode::Enforce,
                        since: SystemTime::now(),
                        expires_at: None,
                        reason: "the default".to_owned(),
                    },
                    deadline: None,
                    generation: 0,
                    timer: None,
                    history: VecDeque::new(),
                }),
                events,
                default_ttl: default_ttl.min(max_ttl),
                max_ttl,
            }),
        }
    }

    /// A switch set from the process environment, for start-up.
    ///
    /// | Variable | Meaning |
    /// | --- | --- |
    /// | `CLERK_EMERGENCY_BYPASS` | `true` or `open`: the emergency bypass; `grace`: grace mode; `false`, `0`, `off`, `enforce`, empty or unset: none |
    /// | `CLERK_EMERGENCY_BYPASS_UNTIL` | required with a bypass: when it ends, in RFC 3339, such as `2026-11-26T20:00:00Z`, at most 24 h ahead |
    /// | `CLERK_EMERGENCY_BYPASS_GRACE_MAX_AGE` | grace mode: how long past `exp` tokens are accepted (default `30m`, at most `24h`) |
    ///
    /// The end is absolute so that no restart, crash loop or new replica extends the bypass:
    /// `CLERK_EMERGENCY_BYPASS_TTL` is refused, with the `_UNTIL` value it means now in the
    /// error. An end time already past starts the switch in `Enforce`, with a warning.
    /// Values are read case-insensitively; the expiry variables are read only when a bypass is
    /// asked for.
    ///
    /// # Errors
    ///
    /// Fails closed, with a message naming the variable and the accepted values, when a value
    /// is not recognised, a duration or time does not parse or is zero, a TTL is given, the end
    /// is missing or more than 24 hours ahead, or the grace window is above 24 hours.
    pub fn from_env() -> Result<Self, BypassConfigError> {
        // A value that is not UTF-8 is read lossily, so that it is rejected, not ignored.
        Self::from_vars(|name| {
            std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
        })
    }

    /// Like [`from_env`](Self::from_env), reading the variables through `get`, so that the
    /// configuration can be tested (or come from somewhere else) without touching the process
    /// environment.
    ///
    /// ```
    /// use std::collections::HashMap;
    ///
    /// use clerk_incident_core::auth::{AuthMode, BypassSwitch};
    ///
    /// let until = humantime::format_rfc3339_seconds(std::time::SystemTime::now() + std::time::Duration::from_secs(2700)).to_string();
    /// let vars = HashMap::from([
    ///     ("CLERK_EMERGENCY_BYPASS", "open"),
    ///     ("CLERK_EMERGENCY_BYPASS_UNTIL", until.as_str()),
    /// ]);
    /// let switch = BypassSwitch::from_vars(|name| vars.get(name).map(|v| v.to_string()))?;
    /// assert_eq!(switch.mode(), AuthMode::Open);
    ///
    /// let typo = HashMap::from([("CLERK_EMERGENCY_BYPASS", "ture")]);
    /// assert!(BypassSwitch::from_vars(|name| typo.get(name).map(|v| v.to_string())).is_err());
    /// # Ok::<(), clerk_incident_core::auth::BypassConfigError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, BypassConfigError> {
        let switch = Self::new();
        if let Some(request) = env::read(&get, SystemTime::now())? {
            switch.switch_on(
                request.mode,
                Some(request.ttl),
                Some(request.until),
                request.reason,
            );
        }
        Ok(switch)
    }

    /// Switches `mode` on for `ttl` (the default TTL when `None`; at most the maximum, with a
    /// warning when clamped) and returns the state now in force.
    ///
    /// Activating while a bypass is on replaces it, with a fresh expiry. Activating
    /// [`AuthMode::Enforce`] is [`deactivate`](Self::deactivate).
    ///
    /// # Errors
    ///
    /// [`ModeError::GraceTooLong`] for a grace window above [`MAX_GRACE_MAX_AGE`]: nothing
    /// changes.
    pub fn activate(
        &self,
        mode: AuthMode,
        ttl: Option<Duration>,
        reason: impl Into<String>,
    ) -> Result<ModeState, ModeError> {
        check_grace(mode)?;
        Ok(if mode.is_bypass() {
            self.switch_on(mode, ttl, None, reason.into())
        } else {
            self.deactivate(reason)
        })
    }

    /// Switches `mode` on until the absolute time `until` (at most the maximum TTL from now)
    /// and returns the state now in force: how a mode set for a whole fleet is applied, so that
    /// every instance ends it at the same instant, however late it heard of it. An `until`
    /// already past, or [`AuthMode::Enforce`], is [`deactivate`](Self::deactivate).
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    ///
    /// use clerk_incident_core::auth::{AuthMode, BypassSwitch};
    ///
    /// let switch = BypassSwitch::new();
    /// let until = SystemTime::now() + Duration::from_secs(600);
    /// let state = switch.activate_until(AuthMode::Open, until, "INC-42")?;
    /// assert_eq!(state.expires_at, Some(until));
    /// # Ok::<(), clerk_incident_core::auth::ModeError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ModeError::GraceTooLong`] for a grace window above [`MAX_GRACE_MAX_AGE`]: nothing
    /// changes.
    pub fn activate_until(
        &self,
        mode: AuthMode,
        until: SystemTime,
        reason: impl Into<String>,
    ) -> Result<ModeState, ModeError> {
        check_grace(mode)?;
        match until.duration_since(SystemTime::now()) {
            Ok(ttl) if mode.is_bypass() && !ttl.is_zero() => {
                Ok(self.switch_on(mode, Some(ttl), Some(until), reason.into()))
            }
            _ => Ok(self.deactivate(reason)),
        }
    }

    /// Returns to [`AuthMode::Enforce`] and returns the state now in force. Does nothing when
    /// already enforcing.
    pub fn deactivate(&self, reason: impl Into<String>) -> ModeState {
        let now = Instant::now();
        let mut inner = self.shared.write();
        self.shared.expire_locked(&mut inner, now);
        if !inner.state.mode.is_bypass() {
            tracing::debug!("auth bypass deactivation asked while already enforcing");
            return inner.state.clone();
        }
        let from = inner.state.mode;
        let state = ModeState {
            mode: AuthMode::Enforce,
            since: SystemTime::now(),
            expires_at: None,
            reason: reason.into(),
        };
        tracing::info!(
            from = from.name(),
            reason = %state.reason,
            "auth bypass switched off; enforcing"
        );
        self.shared
            .change(&mut inner, state, None, ChangeCause::Deactivated, from);
        inner.state.clone()
    }

    /// The state in force.
    ///
    /// Cheap, but it clones the reason; per request, prefer [`mode`](Self::mode). When the
    /// expiry has passed, the switch returns to `Enforce` first (recording the expiry once).
    pub fn current(&self) -> ModeState {
        if !self.shared.bypassing.load(Ordering::Acquire) {
            return self.shared.read().state.clone();
        }
        let now = Instant::now();
        {
            let inner = self.shared.read();
            if inner.is_settled(now) {
                return inner.state.clone();
            }
        }
        self.settle(now).state.clone()
    }

    /// The mode in force: the per-request read.
    ///
    /// No allocation; while enforcing, one atomic load. When the expiry has passed, the switch
    /// returns to `Enforce` first (recording the expiry once).
    pub fn mode(&self) -> AuthMode {
        if !self.shared.bypassing.load(Ordering::Acquire) {
            return AuthMode::Enforce;
        }
        let now = Instant::now();
        {
            let inner = self.shared.read();
            if inner.is_settled(now) {
                return inner.state.mode;
            }
        }
        self.settle(now).state.mode
    }

    /// Receives every later change. A subscriber that falls more than 64 changes behind gets
    /// [`RecvError::Lagged`](tokio::sync::broadcast::error::RecvError::Lagged) and can catch up
    /// from [`history`](Self::history).
    pub fn subscribe(&self) -> broadcast::Receiver<ModeChange> {
        self.shared.events.subscribe()
    }

    /// The last 100 changes, oldest first (after recording an expiry that is due).
    pub fn history(&self) -> Vec<ModeChange> {
        self.mode();
        self.shared.read().history.iter().cloned().collect()
    }

    fn switch_on(
        &self,
        mode: AuthMode,
        requested: Option<Duration>,
        display_expiry: Option<SystemTime>,
        reason: String,
    ) -> ModeState {
        let ttl = match requested {
            None => self.shared.default_ttl,
            Some(ttl) if ttl > self.shared.max_ttl => {
                tracing::warn!(
                    mode = mode.name(),
                    requested = %humantime::format_duration(ttl),
                    max = %humantime::format_duration(self.shared.max_ttl),
                    "auth bypass TTL above the maximum; clamped to the maximum"
                );
                self.shared.max_ttl
            }
            Some(ttl) => ttl,
        };
        let clamped = requested.is_some_and(|requested| requested > ttl);
        let now = Instant::now();
        let wall = SystemTime::now();
        // Overflow is impossible below TTL_CEILING; were it to happen, expire at once.
        let deadline = now.checked_add(ttl).unwrap_or(now);
        let expires_at = display_expiry
            .filter(|_| !clamped)
            .unwrap_or_else(|| wall.checked_add(ttl).unwrap_or(wall));

        let mut inner = self.shared.write();
        self.shared.expire_locked(&mut inner, now);
        let from = inner.state.mode;
        let state = ModeState {
            mode,
            since: wall,
            expires_at: Some(expires_at),
            reason,
        };
        tracing::warn!(
            mode = %mode,
            from = from.name(),
            ttl = %humantime::format_duration(ttl),
            expires_at = %Rfc3339(expires_at),
            reason = %state.reason,
            "auth bypass switched on: {}",
            match mode {
                AuthMode::Open => "protected routes pass without a valid token",
                _ => "expired tokens are accepted",
            }
        );
        self.shared.change(
            &mut inner,
            state,
            Some(deadline),
            ChangeCause::Activated,
            from,
        );
        inner.timer = self.spawn_timer(deadline, inner.generation);
        inner.state.clone()
    }

    /// Records an expiry that is due and arms a missing timer.
    fn settle(&self, now: Instant) -> RwLockWriteGuard<'_, Inner> {
        let mut inner = self.shared.write();
        self.shared.expire_locked(&mut inner, now);
        if let Some(deadline) = inner.deadline
            && inner.timer.is_none()
        {
            inner.timer = self.spawn_timer(deadline, inner.generation);
        }
        inner
    }

    /// Spawns the task that expires activation `generation` at `deadline`, when there is a
    /// runtime to spawn it on.
    fn spawn_timer(&self, deadline: Instant, generation: u64) -> Option<AbortHandle> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let shared: Weak<Shared> = Arc::downgrade(&self.shared);
        let task = runtime.spawn(async move {
            tokio::time::sleep_until(deadline).await;
            if let Some(shared) = shared.upgrade() {
                let mut inner = shared.write();
                if inner.generation == generation {
                    shared.expire_locked(&mut inner, Instant::now());
                }
            }
        });
        Some(task.abort_handle())
    }

    /// Returns to `Enforce` if the deadline has passed by `now`; true when it did.
    #[cfg(test)]
    fn expire_if_due(&self, now: Instant) -> bool {
        self.shared.expire_locked(&mut self.shared.write(), now)
    }
}

impl Default for BypassSwitch {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for BypassSwitch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.shared.read();
        f.debug_struct("BypassSwitch")
            .field("state", &inner.state)
            .field("default_ttl", &self.shared.default_ttl)
            .field("max_ttl", &self.shared.max_ttl)
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // Every write leaves `Inner` consistent before anything that could panic.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns to `Enforce` if the deadline has passed by `now`; true when it did.
    fn expire_locked(&self, inner: &mut Inner, now: Instant) -> bool {
        if inner.deadline.is_none_or(|deadline| deadline > now) {
            return false;
        }
        let from = inner.state.mode;
        // The mode stopped counting at its deadline, however late this runs.
        let at = inner.state.expires_at.unwrap_or_else(SystemTime::now);
        let state = ModeState {
            mode: AuthMode::Enforce,
            since: at,
            expires_at: None,
            reason: format!("{} mode expired ({})", from.name(), inner.state.reason),
        };
        tracing::warn!(
            mode = from.name(),
            expired_at = %Rfc3339(at),
            reason = %inner.state.reason,
            "auth bypass expired; enforcing again"
        );
        self.change(inner, state, None, ChangeCause::Expired, from);
        true
    }

    /// Puts `state` in force, cancels the previous activation's timer, and records the change.
    fn change(
        &self,
        inner: &mut Inner,
        state: ModeState,
        deadline: Option<Instant>,
        cause: ChangeCause,
        from: AuthMode,
    ) {
        let change = ModeChange {
            from,
            to: state.mode,
            cause,
            at: state.since,
            expires_at: state.expires_at,
            reason: state.reason.clone(),
        };
        inner.generation = inner.generation.wrapping_add(1);
        if let Some(timer) = inner.timer.take() {
            timer.abort();
        }
        self.bypassing
            .store(state.mode.is_bypass(), Ordering::Release);
        inner.state = state;
        inner.deadline = deadline;
        if inner.history.len() >= HISTORY_LEN {
            inner.history.pop_front();
        }
        inner.history.push_back(change.clone());
        // No subscriber is not an error.
        let _ = self.events.send(change);
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(timer) = inner.timer.take() {
            timer.abort();
        }
    }
}

impl Inner {
    /// True when a read can answer from the state as it is: no expiry is due, and the timer is
    /// armed or cannot be (no runtime here).
    ///
    /// A timer is armed once per activation: one whose runtime has gone is not replaced (reads
    /// still expire the mode), so that a runtime that cannot run it costs one failed task, not
    /// one per request.
    fn is_settled(&self, now: Instant) -> bool {
        match self.deadline {
            None => true,
            Some(deadline) if deadline <= now => false,
            Some(_) => self.timer.is_some() || tokio::runtime::Handle::try_current().is_err(),
        }
    }
}

/// Formats a time as RFC 3339 in UTC, without panicking on times outside 1970..=9999 (a
/// badly set clock): those are shown clamped to the range.
pub(crate) struct Rfc3339(pub(crate) SystemTime);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // 9999-12-31T23:59:59Z
        const LAST: Duration = Duration::from_secs(253_402_300_799);
        let since_epoch = self
            .0
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .min(LAST);
        let at = UNIX_EPOCH + since_epoch;
        if since_epoch.subsec_nanos().is_multiple_of(1_000_000) && since_epoch.subsec_nanos() != 0 {
            // A time kept in milliseconds (the fleet's) reads as milliseconds.
            humantime::format_rfc3339_millis(at).fmt(f)
        } else {
            humantime::format_rfc3339(at).fmt(f)
        }
    }
}

pub(crate) fn rfc3339<S: Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&Rfc3339(*time))
}

pub(crate) fn rfc3339_opt<S: Serializer>(
    time: &Option<SystemTime>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => rfc3339(time, serializer),
        None => serializer.serialize_none(),
    }
}

fn from_secs<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    u64::deserialize(deserializer).map(Duration::from_secs)
}

fn as_secs<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(duration.as_secs())
}

#[cfg(test)]
mod tests;
