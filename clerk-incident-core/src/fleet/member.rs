//! [`FleetMember`]: one instance's part in the fleet. It applies the fleet's mode to the
//! instance's [`BypassSwitch`], and tells the fleet how it is doing.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::task::AbortHandle;

use super::denial_sync::{FleetDenier, follow_denials};
use super::ordering::{self, Mark, Verdict};
use super::push::next_push;
use super::store::{DesiredMode, FleetError, FleetStore, Heartbeat, ModeUpdates};
use crate::api::SharedBudget;
use crate::auth::{
    AuthMode, AuthPolicy, BypassSwitch, FleetHealth, FleetMembership, KeyStatus, Rfc3339,
    SessionDenier, SessionDenylist, Verifier,
};
use crate::revocation::{DEFAULT_JOB_LEASE_TTL, RevocationJobStore, SharedJobs};

/// How often an instance renews its heartbeat unless told otherwise: 2 s.
pub const DEFAULT_HEARTBEAT_EVERY: Duration = Duration::from_secs(2);

/// How often an instance reads the fleet's mode besides the pushes: 5 s.
pub const DEFAULT_POLL_EVERY: Duration = Duration::from_secs(5);

/// How long an instance may go without reading the fleet's denylist before it accepts only
/// fully valid tokens: 60 s, twelve poll periods.
pub const DEFAULT_DENYLIST_MAX_STALENESS: Duration = Duration::from_secs(60);

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
    /// How long the instance may go without reading the fleet's denylist before it accepts
    /// only fully valid tokens ([`DEFAULT_DENYLIST_MAX_STALENESS`]): a lost store could hide a
    /// revocation.
    pub denylist_max_staleness: Duration,
    /// How long this instance's lease on a fleet revocation job lasts without renewal
    /// ([`DEFAULT_JOB_LEASE_TTL`]): if it dies, another replica resumes the job this long
    /// after its last renewal.
    pub job_lease_ttl: Duration,
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
            denylist_max_staleness: DEFAULT_DENYLIST_MAX_STALENESS,
            job_lease_ttl: DEFAULT_JOB_LEASE_TTL,
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

/// The host this process runs on, as the heartbeats name it: `HOSTNAME`, else
/// `/etc/hostname`, else `unknown-host`.
pub fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned())
}

/// One instance's membership in the fleet: background tasks that apply the fleet's mode to
/// the [`BypassSwitch`] and send heartbeats. Dropping the last clone stops them.
///
/// - A write reaches the instance by push, or by the periodic read when a push is lost.
/// - Each record is applied once: its absolute end is what the switch counts to, so that no
///   message, restart or retry extends a bypass, and a late message never rolls the instance
///   back. A store that went back in time (a restored snapshot, a lagging replica) can make
///   the instance enforce, never open it; a record that ends more than 24 hours ahead is
///   refused (the instance enforces).
/// - When the store is lost, the instance keeps its mode until that mode's end, then
///   enforces; [`health`](Self::health) says so. When the store returns, the instance reads
///   it again; a store that restarted empty means `Enforce`.
#[derive(Clone)]
pub struct FleetMember {
    shared: Arc<MemberShared>,
    _tasks: Arc<[AbortOnDrop]>,
}

struct MemberShared {
    store: Arc<dyn FleetStore>,
    switch: BypassSwitch,
    verifier: Option<Verifier>,
    denylist: SessionDenylist,
    config: FleetConfig,
    state: Mutex<MemberState>,
    /// Held while a record is judged and put in force, so that two at once (the task and
    /// [`FleetMember::resync`]) cannot apply an older one last.
    applying: Mutex<()>,
}

#[derive(Debug, Default)]
struct MemberState {
    /// The record in force; `None`: none yet, or the store is empty.
    applied: Option<DesiredMode>,
    /// The newest record seen, which an older one never passes (not even after an empty
    /// store).
    mark: Mark,
    subscribed: bool,
    last_contact: Option<SystemTime>,
    /// Since when reads (and the subscription) fail.
    reads_lost_since: Option<SystemTime>,
    /// Since when heartbeats fail.
    beats_lost_since: Option<SystemTime>,
    last_error: Option<String>,
    /// True once a read of the store succeeded: from then on the fleet's mode is in force.
    synced: bool,
}

impl MemberState {
    fn applied_version(&self) -> u64 {
        self.applied.as_ref().map_or(0, |desired| desired.version)
    }

    fn lost_since(&self) -> Option<SystemTime> {
        match (self.reads_lost_since, self.beats_lost_since) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Which of the store's uses a call is, for the health.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    Reads,
    Beats,
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
        Self::start(store, switch, verifier, None, config)
    }

    /// [`join`](Self::join), keeping `denylist` in step with the fleet's: the revoked
    /// sessions every instance refuses ([`AuthPolicy::join_fleet`] passes the policy's).
    ///
    /// # Errors
    ///
    /// [`FleetError::Config`] outside a Tokio runtime.
    pub fn join_with_denylist(
        store: Arc<dyn FleetStore>,
        switch: BypassSwitch,
        verifier: Option<Verifier>,
        denylist: SessionDenylist,
        config: FleetConfig,
    ) -> Result<Self, FleetError> {
        Self::start(store, switch, verifier, Some(denylist), config)
    }

    fn start(
        store: Arc<dyn FleetStore>,
        switch: BypassSwitch,
        verifier: Option<Verifier>,
        denylist: Option<SessionDenylist>,
        config: FleetConfig,
    ) -> Result<Self, FleetError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            FleetError::Config("joining a fleet needs a Tokio runtime: join inside it".into())
        })?;
        // Periods of zero would make the timers fail: the membership must not stop silently.
        let (beat_every, poll_every) = (config.heartbeat_every, config.poll_every);
        let config = config.with_periods(beat_every, poll_every);
        tracing::info!(
            store = %store.describe(),
            instance = %config.instance_id,
            "joining the fleet: the bypass mode follows the fleet's"
        );
        let mut tasks = Vec::with_capacity(3);
        if let Some(denylist) = &denylist {
            denylist.follow_fleet(config.denylist_max_staleness);
            let denials = runtime.spawn(follow_denials(
                Arc::clone(&store),
                denylist.clone(),
                config.poll_every,
                config.store_timeout,
            ));
            tasks.push(AbortOnDrop(denials.abort_handle()));
        }
        let denylist = denylist.unwrap_or_default();
        let shared = Arc::new(MemberShared {
            store,
            switch,
            verifier,
            denylist,
            config,
            state: Mutex::default(),
            applying: Mutex::new(()),
        });
        let follow = runtime.spawn(follow(Arc::clone(&shared)));
        let beats = runtime.spawn(heartbeats(Arc::clone(&shared)));
        tasks.push(AbortOnDrop(follow.abort_handle()));
        tasks.push(AbortOnDrop(beats.abort_handle()));
        Ok(Self {
            shared,
            _tasks: tasks.into(),
        })
    }

    /// The fleet as this instance sees it.
    pub fn health(&self) -> FleetHealth {
        let state = self.shared.lock();
        FleetHealth {
            store: self.shared.store.describe(),
            instance_id: self.shared.config.instance_id.clone(),
            connected: state.lost_since().is_none() && state.subscribed,
            last_contact: state.last_contact,
            lost_since: state.lost_since(),
            last_error: state.last_error.clone(),
            applied_version: state.applied_version(),
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

impl FleetMembership for FleetMember {
    fn health(&self) -> FleetHealth {
        FleetMember::health(self)
    }

    fn api_budget(&self) -> Arc<dyn SharedBudget> {
        Arc::clone(&self.shared.store) as Arc<dyn SharedBudget>
    }

    fn shared_jobs(&self) -> SharedJobs {
        SharedJobs::new(
            Arc::clone(&self.shared.store) as Arc<dyn RevocationJobStore>,
            self.shared.config.instance_id.clone(),
        )
        .lease_ttl(self.shared.config.job_lease_ttl)
    }

    fn denier(&self) -> Arc<dyn SessionDenier> {
        Arc::new(FleetDenier::with_local(
            Arc::clone(&self.shared.store),
            self.shared.denylist.clone(),
            self.shared.config.store_timeout,
        ))
    }
}

impl AuthPolicy {
    /// Joins the fleet of `store`: from now on the switch follows the fleet's mode (see
    /// [`FleetMember`]), the policy refuses the sessions of the fleet's denylist, the
    /// heartbeat reports this policy's keys, and the health shows the fleet.
    ///
    /// # Errors
    ///
    /// [`FleetError::Config`] outside a Tokio runtime.
    pub fn join_fleet(
        self,
        store: Arc<dyn FleetStore>,
        config: FleetConfig,
    ) -> Result<Self, FleetError> {
        let member = FleetMember::join_with_denylist(
            store,
            self.switch().clone(),
            Some(self.verifier().clone()),
            self.denylist().clone(),
            config,
        )?;
        Ok(self.with_fleet(Arc::new(member)))
    }
}

impl MemberShared {
    fn lock(&self) -> MutexGuard<'_, MemberState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bounds a store call and records how it went on `channel`.
    async fn call<T>(
        &self,
        channel: Channel,
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
                let since = match channel {
                    Channel::Reads => state.reads_lost_since.take(),
                    Channel::Beats => state.beats_lost_since.take(),
                };
                if let Some(since) = since
                    && state.lost_since().is_none()
                {
                    tracing::info!(lost_since = %Rfc3339(since), "the fleet store is back");
                }
                if state.lost_since().is_none() {
                    state.last_error = None;
                }
                state.last_contact = Some(SystemTime::now());
                Some(value)
            }
            Err(error) => {
                self.lost(channel, what, &error);
                None
            }
        }
    }

    fn lost(&self, channel: Channel, what: &str, error: &FleetError) {
        let mut state = self.lock();
        if state.lost_since().is_none() {
            tracing::warn!(
                %error,
                during = what,
                mode = %self.switch.mode(),
                "lost the fleet store: keeping the current mode until its own end"
            );
        }
        let since = match channel {
            Channel::Reads => &mut state.reads_lost_since,
            Channel::Beats => &mut state.beats_lost_since,
        };
        since.get_or_insert_with(SystemTime::now);
        state.last_error = Some(error.to_string());
    }

    /// Judges `incoming` (`None`: the store is empty) against the record in force and acts on
    /// the verdict; returns it. `confirmed`: a second read agreed with the first. `first_read`:
    /// the instance's first successful read, which also ends a bypass it started with (from
    /// the environment) when the store holds no mode.
    fn judge(&self, incoming: Option<&DesiredMode>, confirmed: bool, first_read: bool) -> Verdict {
        let _applying = self.applying.lock().unwrap_or_else(PoisonError::into_inner);
        let current = self.lock().applied.clone();
        if first_read && incoming.is_none() && current.is_none() && self.switch.mode().is_bypass() {
            tracing::warn!(
                "the fleet holds no mode: the bypass this instance started with gives way to the fleet's (enforce); switch the fleet with clerk-incident bypass"
            );
            self.switch
                .deactivate("the fleet store holds no mode: enforcing");
            return Verdict::Apply;
        }
        let mark = self.lock().mark.clone();
        let verdict = ordering::verdict(&mark, current.as_ref(), incoming, confirmed);
        match verdict {
            Verdict::Apply => {
                self.put_in_force(incoming);
                if let Some(incoming) = incoming {
                    self.lock().mark.raise(incoming);
                }
            }
            Verdict::StricterOnly => {
                let now = SystemTime::now();
                tracing::warn!(
                    store_version = incoming.map_or(0, |desired| desired.version),
                    applied_version = current.as_ref().map_or(0, |desired| desired.version),
                    "the fleet store holds an older record than this instance has seen (a restored snapshot or a lagging replica?): it may make this instance enforce, never open it"
                );
                if incoming.is_none_or(|desired| desired.mode_at(now) == AuthMode::Enforce) {
                    self.put_in_force(incoming);
                }
            }
            Verdict::Ignore | Verdict::Read => {}
        }
        verdict
    }

    /// Puts `desired` in force (`None`: the store is empty, enforce).
    fn put_in_force(&self, desired: Option<&DesiredMode>) {
        let version = desired.map_or(0, |desired| desired.version);
        let result = match desired {
            None => Ok(self
                .switch
                .deactivate("the fleet store holds no mode: enforcing")),
            Some(desired) => match ordering::refusal(desired, SystemTime::now()) {
                Some(problem) => Err(problem.to_owned()),
                None => match desired.until_ms {
                    Some(until) if desired.mode.is_bypass() => self
                        .switch
                        .activate_until(
                            desired.mode,
                            until,
                            format!("fleet v{}: {}", desired.version, desired.reason),
                        )
                        .map_err(|error| error.to_string()),
                    _ => Ok(self
                        .switch
                        .deactivate(format!("fleet v{}: {}", desired.version, desired.reason))),
                },
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
        self.lock().applied = desired.cloned();
    }

    fn heartbeat(&self) -> Heartbeat {
        // Under the lock that applies records, so that the mode and the record agree.
        let _applying = self.applying.lock().unwrap_or_else(PoisonError::into_inner);
        let state = self.switch.current();
        let keys: Option<KeyStatus> = self.verifier.as_ref().map(|v| v.keys().status());
        let member = self.lock();
        Heartbeat {
            id: self.config.instance_id.clone(),
            host: self.config.host.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            mode: state.mode,
            mode_until_ms: state.expires_at,
            applied_version: member.applied_version(),
            applied_epoch: member
                .applied
                .as_ref()
                .map(|desired| desired.epoch.clone())
                .unwrap_or_default(),
            key_count: keys.as_ref().map_or(0, |keys| keys.key_count),
            key_age_secs: keys.and_then(|keys| keys.staleness_secs),
            store_contact_ms: member.last_contact,
            at_ms: SystemTime::now(),
        }
    }
}

/// Reads the store and applies what it holds; a read that is not decidable on its own (the
/// store seems to have gone back, or restarted) is followed by a second one, which decides.
async fn resync(shared: &MemberShared) -> bool {
    let Some(desired) = shared
        .call(Channel::Reads, "read", shared.store.desired())
        .await
    else {
        return false;
    };
    let first_read = !std::mem::replace(&mut shared.lock().synced, true);
    if shared.judge(desired.as_ref(), false, first_read) != Verdict::Read {
        return true;
    }
    let Some(again) = shared
        .call(Channel::Reads, "read", shared.store.desired())
        .await
    else {
        return false;
    };
    shared.judge(again.as_ref(), again == desired, false);
    true
}

async fn beat(shared: &MemberShared) {
    let beat = shared.heartbeat();
    let ttl = shared.config.heartbeat_every * 3;
    shared
        .call(
            Channel::Beats,
            "heartbeat",
            shared.store.heartbeat(&beat, ttl),
        )
        .await;
}

/// The heartbeat task: on its own, so that a slow read or reconnect never delays it past its
/// TTL.
async fn heartbeats(shared: Arc<MemberShared>) {
    let mut beats = tokio::time::interval(shared.config.heartbeat_every);
    beats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        beats.tick().await;
        beat(&shared).await;
    }
}

/// The task that follows the fleet's mode: pushes, and a read every poll period.
async fn follow(shared: Arc<MemberShared>) {
    let mut updates: Option<ModeUpdates> = None;
    let mut polls = tokio::time::interval(shared.config.poll_every);
    polls.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if updates.is_none() {
            // Subscribe first, then read: nothing written in between is missed.
            updates = shared
                .call(Channel::Reads, "subscribe", shared.store.subscribe())
                .await;
            shared.lock().subscribed = updates.is_some();
            if updates.is_some() && resync(&shared).await {
                beat(&shared).await;
            }
        }
        let next_push = next_push(&mut updates);
        tokio::select! {
            push = next_push => match push {
                Some(desired) => match shared.judge(Some(&desired), false, false) {
                    Verdict::Apply => beat(&shared).await,
                    Verdict::Read => {
                        // Not newer: a late message, or a store that restarted; reads decide.
                        if resync(&shared).await {
                            beat(&shared).await;
                        }
                    }
                    Verdict::StricterOnly | Verdict::Ignore => {}
                },
                None => {
                    shared.lost(Channel::Reads, "subscription", &FleetError::Unavailable(
                        "the push subscription ended".into(),
                    ));
                    shared.lock().subscribed = false;
                    updates = None;
                    // Wait for the next poll before subscribing again.
                    polls.tick().await;
                }
            },
            _ = polls.tick() => {
                if updates.is_some() && resync(&shared).await {
                    beat(&shared).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::DEFAULT_GRACE_MAX_AGE;
    use crate::fleet::{MemoryFleetStore, ModeRequest};

    fn shared() -> MemberShared {
        MemberShared {
            store: Arc::new(MemoryFleetStore::new()),
            switch: BypassSwitch::new(),
            verifier: None,
            denylist: SessionDenylist::new(),
            config: FleetConfig::default(),
            state: Mutex::default(),
            applying: Mutex::new(()),
        }
    }

    fn desired(version: u64, mode: AuthMode, minutes: u64) -> DesiredMode {
        let until = SystemTime::now() + Duration::from_secs(minutes * 60);
        let mut desired = ModeRequest::new(mode, Some(until), format!("v{version}"), "test")
            .unwrap()
            .into_desired(version, AuthMode::Enforce);
        desired.epoch = "epoch-a".into();
        desired
    }

    const GRACE: AuthMode = AuthMode::Grace {
        max_token_age: DEFAULT_GRACE_MAX_AGE,
    };

    #[test]
    fn a_late_message_never_rolls_an_instance_back() {
        let shared = shared();
        shared.judge(Some(&desired(2, AuthMode::Open, 10)), false, false);
        assert_eq!(shared.switch.mode(), AuthMode::Open);
        assert_eq!(
            shared.judge(Some(&desired(1, GRACE, 60)), false, false),
            Verdict::Read
        );
        assert_eq!(
            shared.switch.mode(),
            AuthMode::Open,
            "v1 after v2 is ignored"
        );
        assert_eq!(shared.lock().applied_version(), 2);
    }

    #[test]
    fn a_store_that_went_back_can_close_an_instance_never_open_it() {
        let shared = shared();
        shared.judge(Some(&desired(6, AuthMode::Enforce, 0)), false, false);
        // Restored to a snapshot holding v5 Open: confirmed, still not opened.
        shared.judge(Some(&desired(5, AuthMode::Open, 60)), true, false);
        assert_eq!(shared.switch.mode(), AuthMode::Enforce);
        // The store's next write (v6 again, later by the store's clock) is applied.
        let mut rewritten = desired(6, GRACE, 10);
        rewritten.set_at_ms += Duration::from_secs(1);
        shared.judge(Some(&rewritten), true, false);
        assert_eq!(shared.switch.mode(), GRACE);
        // A restored v5 Enforce under an instance in grace does close it.
        shared.judge(Some(&desired(5, AuthMode::Enforce, 0)), true, false);
        assert_eq!(shared.switch.mode(), AuthMode::Enforce);
    }

    #[test]
    fn the_same_record_again_never_extends_a_bypass() {
        let shared = shared();
        let first = desired(1, AuthMode::Open, 10);
        shared.judge(Some(&first), false, false);
        let until = shared.switch.current().expires_at;
        assert_eq!(shared.judge(Some(&first), false, false), Verdict::Ignore);
        assert_eq!(shared.switch.current().expires_at, until);
    }

    #[test]
    fn the_first_read_of_an_empty_store_ends_a_bypass_from_the_environment() {
        let shared = shared();
        let until = SystemTime::now() + Duration::from_secs(600);
        shared
            .switch
            .activate_until(AuthMode::Open, until, "CLERK_EMERGENCY_BYPASS=open")
            .unwrap();
        shared.judge(None, false, true);
        assert_eq!(shared.switch.mode(), AuthMode::Enforce);
        shared.judge(Some(&desired(1, AuthMode::Open, 10)), false, false);
        assert_eq!(shared.switch.mode(), AuthMode::Open);
    }

    #[test]
    fn records_the_instance_refuses_leave_it_enforcing() {
        let shared = shared();
        shared.judge(Some(&desired(1, AuthMode::Open, 10)), false, false);
        let mut too_long = desired(2, AuthMode::Open, 10);
        too_long.mode = AuthMode::Grace {
            max_token_age: Duration::from_secs(48 * 3600),
        };
        shared.judge(Some(&too_long), false, false);
        assert_eq!(shared.switch.mode(), AuthMode::Enforce);
        // An end in the year 3000: refused, not clamped to a fresh 24 hours.
        let mut far = desired(3, AuthMode::Open, 10);
        far.until_ms = Some(SystemTime::UNIX_EPOCH + Duration::from_secs(32_503_680_000));
        shared.judge(Some(&far), false, false);
        assert_eq!(shared.switch.mode(), AuthMode::Enforce);
        assert_eq!(shared.lock().applied_version(), 3);
    }
}
