//! Waiting until the live instances have applied a write: what `clerk-incident bypass` shows
//! the operator.

use std::time::{Duration, SystemTime};

use super::store::{DesiredMode, FleetError, FleetStore, Heartbeat};

/// How often [`wait_for_acknowledgements`] reads the heartbeats.
const POLL: Duration = Duration::from_millis(20);

/// Who applied a write, and who did not in time.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Acknowledgements {
    /// The version waited for.
    pub version: u64,
    /// Instances that put it in force.
    pub acknowledged: Vec<Heartbeat>,
    /// Live instances that had not when the wait ended.
    pub missing: Vec<Heartbeat>,
    /// Instances that were live before the write and whose heartbeat stopped during the wait
    /// (their last heartbeat): stopped, or cut off from the store.
    pub vanished: Vec<Heartbeat>,
    /// How long it took until the last acknowledgement, or the whole wait when some are
    /// missing.
    pub waited: Duration,
}

impl Acknowledgements {
    /// True when at least one instance is live and every one acknowledged, none vanished.
    pub fn complete(&self) -> bool {
        self.missing.is_empty() && self.vanished.is_empty() && !self.acknowledged.is_empty()
    }
}

/// True when `beat` shows exactly `written` in force: its epoch and version, its mode, and for
/// a bypass its end. (An instance on another write, even a later one, has not put this one
/// in force: after a restore a "later" number can be an older record.)
fn acknowledges(beat: &Heartbeat, written: &DesiredMode) -> bool {
    let mode = written.mode_at(SystemTime::now());
    beat.applied_epoch == written.epoch
        && beat.applied_version == written.version
        && beat.mode == mode
        && (!mode.is_bypass() || beat.mode_until_ms == written.until_ms)
}

/// Reads the heartbeats until every live instance put `written` in force, or `timeout`
/// passed; a failed read is tried again until then. `before` is the list of instances read before the write: one of them
/// whose heartbeat stops during the wait is reported as vanished, not forgotten. An instance
/// that started after the write counts once it applied it.
///
/// # Errors
///
/// [`FleetError`] when no read of the store succeeded within `timeout`.
pub async fn wait_for_acknowledgements(
    store: &dyn FleetStore,
    written: &DesiredMode,
    before: &[Heartbeat],
    timeout: Duration,
) -> Result<Acknowledgements, FleetError> {
    let started = tokio::time::Instant::now();
    loop {
        let instances = match store.instances().await {
            Ok(instances) => instances,
            Err(error) if started.elapsed() >= timeout => return Err(error),
            Err(_) => {
                tokio::time::sleep(POLL.min(timeout.saturating_sub(started.elapsed()))).await;
                continue;
            }
        };
        let vanished: Vec<Heartbeat> = before
            .iter()
            .filter(|old| !instances.iter().any(|beat| beat.id == old.id))
            .cloned()
            .collect();
        let (acknowledged, missing): (Vec<_>, Vec<_>) = instances
            .into_iter()
            .partition(|beat| acknowledges(beat, written));
        let waited = started.elapsed();
        let done = missing.is_empty() && vanished.is_empty() && !acknowledged.is_empty();
        if done || waited >= timeout {
            return Ok(Acknowledgements {
                version: written.version,
                acknowledged,
                missing,
                vanished,
                waited,
            });
        }
        tokio::time::sleep(POLL.min(timeout.saturating_sub(waited))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthMode;
    use crate::fleet::{MemoryFleetStore, ModeRequest};

    fn beat(id: &str, epoch: &str, version: u64, mode: AuthMode) -> Heartbeat {
        let mut beat: Heartbeat = serde_json::from_value(serde_json::json!({
            "id": id, "host": "h", "version": "0", "mode": "enforce", "mode_until_ms": null,
            "applied_version": version, "key_count": 1, "key_age_secs": 1,
            "store_contact_ms": null, "at_ms": 1_800_000_000_000_u64,
        }))
        .unwrap();
        beat.applied_epoch = epoch.to_owned();
        beat.mode = mode;
        beat
    }

    #[tokio::test]
    async fn only_the_same_write_in_force_acknowledges_and_the_vanished_are_named() {
        let store = MemoryFleetStore::new();
        let written = store
            .set_desired(ModeRequest::new(AuthMode::Enforce, None, "back", "t").unwrap())
            .await
            .unwrap();
        let ttl = Duration::from_secs(60);
        let epoch = written.epoch.clone();
        store
            .heartbeat(&beat("ok", &epoch, 1, AuthMode::Enforce), ttl)
            .await
            .unwrap();
        // The same number from before a restart, and the number without its mode: not it.
        store
            .heartbeat(&beat("old-epoch", "other", 1, AuthMode::Enforce), ttl)
            .await
            .unwrap();
        store
            .heartbeat(&beat("refused", &epoch, 1, AuthMode::Open), ttl)
            .await
            .unwrap();
        let gone = beat("gone", "", 0, AuthMode::Enforce);
        let acks = wait_for_acknowledgements(&store, &written, &[gone], Duration::from_millis(50))
            .await
            .unwrap();
        let ids = |beats: &[Heartbeat]| beats.iter().map(|b| b.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&acks.acknowledged), ["ok"]);
        assert_eq!(ids(&acks.missing), ["old-epoch", "refused"]);
        assert_eq!(ids(&acks.vanished), ["gone"]);
        assert!(!acks.complete());
    }
}
