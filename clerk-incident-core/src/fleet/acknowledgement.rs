//! Waiting until the live instances have applied a write: what `clerk-incident bypass` shows
//! the operator.

use std::time::Duration;

use super::store::{FleetError, FleetStore, Heartbeat};

/// How often [`wait_for_acknowledgements`] reads the heartbeats.
const POLL: Duration = Duration::from_millis(20);

/// Who applied a version, and who did not in time.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Acknowledgements {
    /// The version waited for.
    pub version: u64,
    /// Instances that applied it (or a later one).
    pub acknowledged: Vec<Heartbeat>,
    /// Live instances that had not when the wait ended.
    pub missing: Vec<Heartbeat>,
    /// How long it took until the last acknowledgement, or the whole wait when some are
    /// missing.
    pub waited: Duration,
}

impl Acknowledgements {
    /// True when at least one instance is live and every live one applied the version.
    pub fn complete(&self) -> bool {
        self.missing.is_empty() && !self.acknowledged.is_empty()
    }
}

/// Reads the heartbeats until every live instance applied `version` (or a later one), or
/// `timeout` passed. An instance that started after the write counts once it applied it;
/// one whose heartbeat expired during the wait is no longer waited for.
///
/// # Errors
///
/// [`FleetError`] when the store cannot be read at all.
pub async fn wait_for_acknowledgements(
    store: &dyn FleetStore,
    version: u64,
    timeout: Duration,
) -> Result<Acknowledgements, FleetError> {
    let started = tokio::time::Instant::now();
    loop {
        let instances = store.instances().await?;
        let (acknowledged, missing): (Vec<_>, Vec<_>) = instances
            .into_iter()
            .partition(|beat| beat.applied_version >= version);
        let waited = started.elapsed();
        if (missing.is_empty() && !acknowledged.is_empty()) || waited >= timeout {
            return Ok(Acknowledgements {
                version,
                acknowledged,
                missing,
                waited,
            });
        }
        tokio::time::sleep(POLL.min(timeout.saturating_sub(waited))).await;
    }
}
