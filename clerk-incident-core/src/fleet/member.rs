//! [`FleetMember`]: one instance's part in the fleet. It applies the fleet's mode to the
//! instance's [`BypassSwitch`], and tells the fleet how it is doing.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use serde::Serialize;
use tokio::task::AbortHandle;

use super::store::{DesiredMode, FleetError, FleetStore, Heartbeat, ModeUpdates};
use crate::auth::{BypassSwitch, KeyStatus, Rfc3339, Verifier};

/// How often an instance renews its heartbeat unless told otherwise: 2 s.
pub const DEFAULT_HEARTBEAT_EVERY: Duration = Duration::from_secs(2);

/// How often an instance reads the fleet's mode besides the pushes: 5 s.
pub const DEFAULT_POLL_EVERY: Duration = Duration::from_secs(5);

/// How long one store call may take before it counts as a lost store: 2 s.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// How an instance takes part in the fleet.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FleetConfig {
    /// The instance's id in the fleet: `host-pid-random` by default.
    pub instance_id: String,
    /// The host it runs on (`HOSTNAME`, else `/etc/hostname`).
    pub host: String,
    /// How often the heartbeat is renewed ([`DEFAULT_HEARTBEAT_EVERY`]); it lives three times
    /// as long, so that an instance that stopped disappears within that.
    pub heartbeat_every: Duration,
    /// How often the mode is read besides the pushes ([`DEFAULT_POLL_EVERY`]).
    pub poll_every: Duration,
    /// The bound on one store call ([`DEFAULT_STORE_TIMEOUT`]).
    pub store_timeout: Duration,
}

impl Default for FleetConfig {
    fn default() -> Self {
        let host = host_name();
        Self {
            instance_id: format!("{host}-{}-{:04x}", std::process::id(), fastrand::u16(..)),
            host,
            heartbeat_every: DEFAULT_HEARTBEAT_EVERY,
            poll_every: DEFAULT_POLL_EVERY,
            store_timeout: DEFAULT_STORE_TIMEOUT,
        }
    }
}

impl FleetConfig {
    /// The default configuration with `id` as the instance id.
    #[must_use]
    pub fn with_instance_id(mut self, id: impl Into<String>) -> Self {
        self.instance_id = id.into();
        self
    }

    /// Sets the heartbeat and poll periods (tests and drills use short ones).
    #[must_use]
    pub fn with_periods(mut self, heartbeat_every: Duration, poll_every: Duration) -> Self {
        self.heartbeat_every = heartbeat_every.max(Duration::from_millis(10));
        self.poll_every = poll_every.max(Duration::from_millis(10));
        self
    }
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned())
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
    #[serde(serialize_with = "crate::auth::rfc3339_opt")]
    pub last_contact: Option<SystemTime>,
    /// Since when it has not (RFC 3339): the mode in force stays until its own expiry.
    #[serde(serialize_with = "crate::auth::rfc3339_opt")]
    pub lost_since: Option<SystemTime>,
    /// Why the last call failed.
    pub last_error: Option<String>,
    /// The fleet mode version applied last (0: none yet).
    pub applied_version: u64,
}

/// One instance's membership in the fleet: a background task that applies the fleet's mode
/// to the [`BypassSwitch`] and sends heartbeats. Dropping the last clone stops it.
///
/// - A write reaches the instance by push, or by the periodic read when a push is lost.
/// - Each version is applied once: its absolute end is what the switch counts to, so that
///   no message, restart or retry extends a bypass, and a late message never rolls the
///   instance back.
/// - When the store is lost, the instance keeps its mode until that mode's end, then
///   enforces; [`health`](Self::health) says so. When the store returns, the instance reads
///   it again; a store that restarted empty means `Enforce`.
#[derive(Clone)]
pub struct FleetMember {
    shared: Arc<MemberShared>,
    _task: Arc<AbortOnDrop>,
}

struct MemberShared {
    store: Arc<dyn FleetStore>,
    switch: BypassSwitch,
    verifier: Option<Verifier>,
    config: FleetConfig,
    state: Mutex<MemberState>,
}

#[derive(Debug, Default)]
struct MemberState {
    applied_version: u64,
    subscribed: bool,
    last_contact: Option<SystemTime>,
    lost_since: Option<SystemTime>,
    last_error: Option<String>,
    /// True once a read of the store succeeded: from then on the fleet's mode is in force.
    synced: bool,
}

struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl FleetMember {
    /// Joins the fleet of `store`: from now on `switch` follows the fleet's mode. `verifier`,
    /// when given, tells the heartbeat which keys the instance holds.
    ///
    /// # Errors
    ///
    /// [`FleetError::Config`] outside a Tokio runtime: the membership is a background task.
    pub fn join(
        store: Arc<dyn FleetStore>,
        switch: BypassSwitch,
        verifier: Option<Verifier>,
        config: FleetConfig,
    ) -> Result<Self, FleetError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            FleetError::Config("joining a fleet needs a Tokio runtime: join inside it".into())
        })?;
        tracing::info!(
            store = %store.describe(),
            instance = %config.instance_id,
            "joining the fleet: the bypass mode follows the fleet's"
        );
        let shared = Arc::new(MemberShared {
            store,
            switch,
            verifier,
            config,
            state: Mutex::default(),
        });
        let task = runtime.spawn(run(Arc::clone(&shared)));
        Ok(Self {
            shared,
            _task: Arc::new(AbortOnDrop(task.abort_handle())),
        })
    }

    /// The fleet as this instance sees it.
    pub fn health(&self) -> FleetHealth {
        let state = self.shared.lock();
        FleetHealth {
            store: self.shared.store.describe(),
            instance_id: self.shared.config.instance_id.clone(),
            connected: state.lost_since.is_none() && state.subscribed,
            last_contact: state.last_contact,
            lost_since: state.lost_since,
            last_error: state.last_error.clone(),
            applied_version: state.applied_version,
        }
    }

    /// This instance's id.
    pub fn instance_id(&self) -> &str {
        &self.shared.config.instance_id
    }

    /// Reads the store now and applies what it holds (the background task does this every
    /// poll period); true when the store answered.
    pub async fn resync(&self) -> bool {
        resync(&self.shared).await
    }
}

impl fmt::Debug for FleetMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FleetMember")
            .field("store", &self.shared.store.describe())
            .field("instance_id", &self.shared.config.instance_id)
            .finish_non_exhaustive()
    }
}

impl MemberShared {
    fn lock(&self) -> MutexGuard<'_, MemberState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bounds a store call and records how it went.
    async fn call<T>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, FleetError>>,
    ) -> Option<T> {
        let result = match tokio::time::timeout(self.config.store_timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(FleetError::Unavailable(format!(
                "no answer within {}",
                humantime::format_duration(self.config.store_timeout)
            ))),
        };
        match result {
            Ok(value) => {
                let mut state = self.lock();
                if let Some(since) = state.lost_since.take() {
                    tracing::info!(lost_since = %Rfc3339(since), "the fleet store is back");
                }
                state.last_contact = Some(SystemTime::now());
                state.last_error = None;
                Some(value)
            }
            Err(error) => {
                self.lost(what, &error);
                None
            }
        }
    }

    fn lost(&self, what: &str, error: &FleetError) {
        let mut state = self.lock();
        if state.lost_since.is_none() {
            state.lost_since = Some(SystemTime::now());
            tracing::warn!(
                %error,
                during = what,
                mode = %self.switch.mode(),
                "lost the fleet store: keeping the current mode until its own end"
            );
        }
        state.last_error = Some(error.to_string());
    }

    /// Applies `desired` (`None`: the store is empty) when it is newer than what was applied,
    /// or when a read confirmed that the store went back (it restarted).
    fn apply(&self, desired: Option<&DesiredMode>, confirmed_rollback: bool) {
        let applied = self.lock().applied_version;
        let version = desired.map_or(0, |desired| desired.version);
        if version == applied || (version < applied && !confirmed_rollback) {
            return;
        }
        self.put_in_force(desired, version);
    }

    /// Applies what a successful read found. The first one also replaces a bypass the
    /// instance started with (from the environment) when the store holds no mode: from then
    /// on the fleet's mode is the one in force, and an empty store means `Enforce`.
    fn apply_read(&self, desired: Option<&DesiredMode>, confirmed_rollback: bool) {
        let first = !std::mem::replace(&mut self.lock().synced, true);
        if first && desired.is_none() && self.switch.mode().is_bypass() {
            tracing::warn!(
                "the fleet holds no mode: the bypass this instance started with gives way to the fleet's (enforce); switch the fleet with clerk-incident bypass"
            );
            self.put_in_force(None, 0);
            return;
        }
        self.apply(desired, confirmed_rollback);
    }

    fn put_in_force(&self, desired: Option<&DesiredMode>, version: u64) {
        let result = match desired {
            None => Ok(self
                .switch
                .deactivate("the fleet store holds no mode: enforcing")),
            Some(desired) => match desired.until_ms {
                Some(until) if desired.mode.is_bypass() => self.switch.activate_until(
                    desired.mode,
                    until,
                    format!("fleet v{}: {}", desired.version, desired.reason),
                ),
                _ => Ok(self
                    .switch
                    .deactivate(format!("fleet v{}: {}", desired.version, desired.reason))),
            },
        };
        match result {
            Ok(state) => {
                tracing::info!(
                    version,
                    mode = %state.mode,
                    until = ?state.expires_at.map(|until| Rfc3339(until).to_string()),
                    set_by = desired.map_or("", |desired| desired.set_by.as_str()),
                    "applied the fleet's mode"
                );
            }
            Err(error) => {
                // Fail closed: a mode this instance refuses leaves it enforcing.
                tracing::error!(version, %error, "refused the fleet's mode: enforcing");
                self.switch
                    .deactivate(format!("fleet v{version} refused: {error}"));
            }
        }
        self.lock().applied_version = version;
    }

    fn heartbeat(&self) -> Heartbeat {
        let state = self.switch.current();
        let keys: Option<KeyStatus> = self.verifier.as_ref().map(|v| v.keys().status());
        let member = self.lock();
        Heartbeat {
            id: self.config.instance_id.clone(),
            host: self.config.host.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            mode: state.mode,
            mode_until_ms: state.expires_at,
            applied_version: member.applied_version,
            key_count: keys.as_ref().map_or(0, |keys| keys.key_count),
            key_age_secs: keys.and_then(|keys| keys.staleness_secs),
            store_contact_ms: member.last_contact,
            at_ms: SystemTime::now(),
        }
    }
}

/// Reads the store and applies it; a read that goes back in versions is confirmed by a
/// second one (a write may have landed between the two), then taken: the store restarted.
async fn resync(shared: &MemberShared) -> bool {
    let Some(desired) = shared.call("read", shared.store.desired()).await else {
        return false;
    };
    let version = desired.as_ref().map_or(0, |desired| desired.version);
    if version < shared.lock().applied_version {
        let Some(again) = shared.call("read", shared.store.desired()).await else {
            return false;
        };
        let again_version = again.as_ref().map_or(0, |desired| desired.version);
        let rolled_back = again_version < shared.lock().applied_version;
        if rolled_back {
            tracing::warn!(
                store_version = again_version,
                "the fleet store went back in versions (restarted?): taking what it holds"
            );
        }
        shared.apply_read(again.as_ref(), rolled_back);
    } else {
        shared.apply_read(desired.as_ref(), false);
    }
    true
}

async fn beat(shared: &MemberShared) {
    let beat = shared.heartbeat();
    let ttl = shared.config.heartbeat_every * 3;
    shared
        .call("heartbeat", shared.store.heartbeat(&beat, ttl))
        .await;
}

async fn run(shared: Arc<MemberShared>) {
    let mut updates: Option<ModeUpdates> = None;
    let mut beats = tokio::time::interval(shared.config.heartbeat_every);
    beats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut polls = tokio::time::interval(shared.config.poll_every);
    polls.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if updates.is_none() {
            // Subscribe first, then read: nothing written in between is missed.
            updates = shared.call("subscribe", shared.store.subscribe()).await;
            shared.lock().subscribed = updates.is_some();
            if updates.is_some() && resync(&shared).await {
                beat(&shared).await;
            }
        }
        let next_push = async {
            match updates.as_mut() {
                Some(stream) => stream.next().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            push = next_push => match push {
                Some(desired) => {
                    if desired.version > shared.lock().applied_version {
                        shared.apply(Some(&desired), false);
                        beat(&shared).await;
                    } else {
                        // Not newer: a late message, or a store that restarted; a read decides.
                        resync(&shared).await;
                    }
                }
                None => {
                    shared.lost("subscription", &FleetError::Unavailable(
                        "the push subscription ended".into(),
                    ));
                    shared.lock().subscribed = false;
                    updates = None;
                    // Wait for the next poll before subscribing again.
                    polls.tick().await;
                }
            },
            _ = polls.tick() => {
                if updates.is_some() {
                    resync(&shared).await;
                }
            }
            _ = beats.tick() => beat(&shared).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AuthMode, DEFAULT_GRACE_MAX_AGE};
    use crate::fleet::{MemoryFleetStore, ModeRequest};

    fn shared() -> MemberShared {
        MemberShared {
            store: Arc::new(MemoryFleetStore::new()),
            switch: BypassSwitch::new(),
            verifier: None,
            config: FleetConfig::default(),
            state: Mutex::default(),
        }
    }

    fn desired(version: u64, mode: AuthMode, minutes: u64) -> DesiredMode {
        let until = SystemTime::now() + Duration::from_secs(minutes * 60);
        ModeRequest::new(mode, Some(until), format!("v{version}"), "test")
            .unwrap()
            .into_desired(version, AuthMode::Enforce)
    }

    #[test]
    fn a_late_message_never_rolls_an_instance_back() {
        let shared = shared();
        let grace = AuthMode::Grace {
            max_token_age: DEFAULT_GRACE_MAX_AGE,
        };
        shared.apply(Some(&desired(2, AuthMode::Open, 10)), false);
        assert_eq!(shared.switch.mode(), AuthMode::Open);
        shared.apply(Some(&desired(1, grace, 60)), false);
        assert_eq!(
            shared.switch.mode(),
            AuthMode::Open,
            "v1 after v2 is ignored"
        );
        assert_eq!(shared.lock().applied_version, 2);
        // Only a confirmed read takes an older version (the store restarted).
        shared.apply(Some(&desired(1, grace, 60)), true);
        assert_eq!(shared.switch.mode(), grace);
    }

    #[test]
    fn the_same_version_again_never_extends_a_bypass() {
        let shared = shared();
        let first = desired(1, AuthMode::Open, 10);
        shared.apply(Some(&first), false);
        let until = shared.switch.current().expires_at;
        let mut again = desired(1, AuthMode::Open, 600);
        again.reason = "replayed".into();
        shared.apply(Some(&again), false);
        assert_eq!(shared.switch.current().expires_at, until);
        assert_eq!(shared.switch.current().reason, "fleet v1: v1");
    }

    #[test]
    fn the_first_read_of_an_empty_store_ends_a_bypass_from_the_environment() {
        let shared = shared();
        let until = SystemTime::now() + Duration::from_secs(600);
        shared
            .switch
            .activate_until(AuthMode::Open, until, "CLERK_EMERGENCY_BYPASS=open")
            .unwrap();
        shared.apply_read(None, false);
        assert_eq!(shared.switch.mode(), AuthMode::Enforce);
        // Later reads of an empty store change nothing; a write is applied as usual.
        shared.apply_read(None, false);
        shared.apply_read(Some(&desired(1, AuthMode::Open, 10)), false);
        assert_eq!(shared.switch.mode(), AuthMode::Open);
    }

    #[test]
    fn a_mode_the_instance_refuses_leaves_it_enforcing() {
        let shared = shared();
        shared.apply(Some(&desired(1, AuthMode::Open, 10)), false);
        let mut too_long = desired(2, AuthMode::Open, 10);
        too_long.mode = AuthMode::Grace {
            max_token_age: Duration::from_secs(48 * 3600),
        };
        shared.apply(Some(&too_long), false);
        assert_eq!(shared.switch.mode(), AuthMode::Enforce);
    }
}
