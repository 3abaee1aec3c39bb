//! [`MemoryFleetStore`]: the fleet store in the process, for tests, the drill and a service
//! that runs as several instances on one host.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use super::denylist_store::{DenialBatch, DenialUpdates, DenylistStore, check_denial_batch};
use super::name::FleetConnector;
use super::store::{
    DesiredMode, FleetError, FleetStore, Heartbeat, ModeRequest, ModeUpdates, whole_millis,
};
use crate::api::{BudgetError, SharedBudget};
use crate::auth::{AuthMode, DENIAL_TTL, KeySnapshot, KeySnapshotStore, SnapshotError};
use crate::revocation::{
    CurrentJob, JOBS_KEPT, JobLease, JobStoreError, LeaseGrant, RevocationJobStore,
};

/// The longest interval or pause the budget takes, as the Redis script.
const MAX_BUDGET_SPAN: Duration = Duration::from_secs(3600);

/// How many writes the history keeps.
const HISTORY_LEN: usize = 1000;

/// A [`FleetStore`] held in memory.
///
/// Clones share the same data and the same link; [`connection`](Self::connection) gives a
/// handle to the same data with a link of its own, which
/// [`set_reachable`](Self::set_reachable) can cut, so that a test or a drill can cut one
/// instance off from the store while the others keep it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::{Duration, SystemTime};
///
/// use clerk_incident_core::auth::AuthMode;
/// use clerk_incident_core::fleet::{FleetStore, MemoryFleetStore, ModeRequest};
///
/// let store = MemoryFleetStore::new();
/// let until = SystemTime::now() + Duration::from_secs(600);
/// let written = store
///     .set_desired(ModeRequest::new(AuthMode::Open, Some(until), "INC-42", "alice")?)
///     .await?;
/// assert_eq!(written.version, 1);
///
/// let cut_off = store.connection();
/// cut_off.set_reachable(false);
/// assert!(cut_off.desired().await.is_err());
/// assert_eq!(store.desired().await?.map(|d| d.version), Some(1));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MemoryFleetStore {
    data: Arc<Mutex<Data>>,
    pushes: broadcast::Sender<DesiredMode>,
    denial_pushes: broadcast::Sender<DenialBatch>,
    link: Arc<watch::Sender<bool>>,
}

#[derive(Debug, Default)]
struct Data {
    desired: Option<DesiredMode>,
    epoch: String,
    version: u64,
    history: VecDeque<DesiredMode>,
    instances: BTreeMap<String, (Heartbeat, Instant)>,
    /// The fleet's key snapshot, encoded as a store keeps it.
    keys: Option<Vec<u8>>,
    /// The denial batches, oldest first.
    denials: VecDeque<(u64, DenialBatch)>,
    /// The last batch's number: never reset, as a Redis stream id never goes back.
    denial_seq: u64,
    /// The API budget's next free send slot.
    budget_next: Option<Instant>,
    /// Until when a 429 holds every slot.
    budget_paused: Option<Instant>,
    /// The revocation lease and when it expires.
    job_lease: Option<(JobLease, Instant)>,
    /// The last fencing token granted.
    job_fence: u64,
    /// The job holding the revocation slot until it ends.
    current_job: Option<String>,
    /// Each job's record, checkpoint lines and cancel request.
    job_records: HashMap<String, String>,
    /// The jobs with records, oldest first: beyond [`JOBS_KEPT`], the oldest ended ones are
    /// forgotten.
    job_order: VecDeque<String>,
    job_checkpoints: HashMap<String, Vec<String>>,
    job_cancels: HashMap<String, String>,
}

impl Data {
    /// The live lease, if any (an expired one is forgotten).
    fn live_lease(&mut self) -> Option<&JobLease> {
        if self
            .job_lease
            .as_ref()
            .is_some_and(|(_, expiry)| *expiry <= Instant::now())
        {
            self.job_lease = None;
        }
        self.job_lease.as_ref().map(|(lease, _)| lease)
    }

    /// Forgets the oldest jobs beyond [`JOBS_KEPT`], never the current one.
    fn forget_old_jobs(&mut self) {
        while self.job_order.len() > JOBS_KEPT {
            let current = self.current_job.clone();
            let Some(position) = self
                .job_order
                .iter()
                .position(|job| Some(job) != current.as_ref())
            else {
                return;
            };
            if let Some(job) = self.job_order.remove(position) {
                self.job_records.remove(&job);
                self.job_checkpoints.remove(&job);
                self.job_cancels.remove(&job);
            }
        }
    }

    /// True while `lease` is the live lease.
    fn holds(&mut self, lease: &JobLease) -> bool {
        self.live_lease() == Some(lease)
    }
}

impl MemoryFleetStore {
    /// An empty store.
    pub fn new() -> Self {
        let (pushes, _) = broadcast::channel(64);
        let (denial_pushes, _) = broadcast::channel(256);
        Self {
            data: Arc::default(),
            pushes,
            denial_pushes,
            link: Arc::new(watch::Sender::new(true)),
        }
    }

    /// A handle to the same data with a link of its own.
    #[must_use]
    pub fn connection(&self) -> Self {
        Self {
            data: Arc::clone(&self.data),
            pushes: self.pushes.clone(),
            denial_pushes: self.denial_pushes.clone(),
            link: Arc::new(watch::Sender::new(true)),
        }
    }

    /// Cuts this handle's link (every call fails, its subscriptions end) or restores it.
    pub fn set_reachable(&self, reachable: bool) {
        self.link.send_replace(reachable);
    }

    /// Forgets everything, as a store restarted empty does (the versions start again at 1).
    pub fn clear(&self) {
        let mut data = self.lock();
        let denial_seq = data.denial_seq;
        *data = Data {
            denial_seq,
            ..Data::default()
        };
    }

    fn lock(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn job_link(&self) -> Result<(), JobStoreError> {
        self.reachable().map_err(|err| match err {
            FleetError::Unavailable(reason) => JobStoreError::Unavailable(reason),
            other => JobStoreError::Unavailable(other.to_string()),
        })
    }

    fn reachable(&self) -> Result<(), FleetError> {
        if *self.link.borrow() {
            Ok(())
        } else {
            Err(FleetError::Unavailable(
                "the link to the store is cut".into(),
            ))
        }
    }
}

impl Default for MemoryFleetStore {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl FleetStore for MemoryFleetStore {
    async fn desired(&self) -> Result<Option<DesiredMode>, FleetError> {
        self.reachable()?;
        Ok(self.lock().desired.clone())
    }

    async fn set_desired(&self, request: ModeRequest) -> Result<DesiredMode, FleetError> {
        self.reachable()?;
        let desired = {
            let mut data = self.lock();
            data.version += 1;
            if data.version == 1 {
                data.epoch = format!("{:016x}", fastrand::u64(..));
            }
            let previous = data.desired.as_ref().map_or(AuthMode::Enforce, |desired| {
                desired.mode_at(std::time::SystemTime::now())
            });
            let mut desired = request.into_desired(data.version, previous);
            desired.epoch.clone_from(&data.epoch);
            data.desired = Some(desired.clone());
            if data.history.len() >= HISTORY_LEN {
                data.history.pop_front();
            }
            data.history.push_back(desired.clone());
            desired
        };
        // No subscriber is not an error.
        let _ = self.pushes.send(desired.clone());
        Ok(desired)
    }

    async fn subscribe(&self) -> Result<ModeUpdates, FleetError> {
        self.reachable()?;
        Ok(follow_link(self.pushes.subscribe(), self.link.subscribe()))
    }

    async fn history(&self, limit: usize) -> Result<Vec<DesiredMode>, FleetError> {
        self.reachable()?;
        let data = self.lock();
        let skip = data.history.len().saturating_sub(limit);
        Ok(data.history.iter().skip(skip).cloned().collect())
    }

    async fn heartbeat(&self, beat: &Heartbeat, ttl: Duration) -> Result<(), FleetError> {
        self.reachable()?;
        let expires = Instant::now() + ttl;
        self.lock()
            .instances
            .insert(beat.id.clone(), (beat.clone(), expires));
        Ok(())
    }

    async fn instances(&self) -> Result<Vec<Heartbeat>, FleetError> {
        self.reachable()?;
        let now = Instant::now();
        let mut data = self.lock();
        data.instances.retain(|_, (_, expires)| *expires > now);
        Ok(data
            .instances
            .values()
            .map(|(beat, _)| beat.clone())
            .collect())
    }

    fn describe(&self) -> String {
        "memory".to_owned()
    }
}

/// The pushes of `pushes` while `link` is up; ends when it is cut, or when the subscriber fell
/// behind (it resynchronises by reading).
fn follow_link<T: Clone + Send + 'static>(
    pushes: broadcast::Receiver<T>,
    link: watch::Receiver<bool>,
) -> BoxStream<'static, T> {
    futures::stream::unfold((pushes, link), |(mut pushes, mut link)| async move {
        loop {
            tokio::select! {
                message = pushes.recv() => match message {
                    Ok(item) if *link.borrow() => return Some((item, (pushes, link))),
                    Ok(_) | Err(broadcast::error::RecvError::Closed) => return None,
                    Err(broadcast::error::RecvError::Lagged(_)) => return None,
                },
                changed = link.changed() => {
                    if changed.is_err() || !*link.borrow() {
                        return None;
                    }
                }
            }
        }
    })
    .boxed()
}

#[async_trait]
impl DenylistStore for MemoryFleetStore {
    async fn add_denials(&self, session_ids: &[String]) -> Result<DenialBatch, FleetError> {
        self.reachable()?;
        check_denial_batch(session_ids)?;
        let now = SystemTime::now();
        let batch = {
            let mut data = self.lock();
            data.denial_seq += 1;
            let seq = data.denial_seq;
            let batch = DenialBatch {
                cursor: seq.to_string(),
                at_ms: whole_millis(now),
                session_ids: session_ids.to_vec(),
            };
            data.denials
                .retain(|(_, kept)| kept.at_ms + DENIAL_TTL > now);
            data.denials.push_back((seq, batch.clone()));
            batch
        };
        let _ = self.denial_pushes.send(batch.clone());
        Ok(batch)
    }

    async fn denials_after(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DenialBatch>, FleetError> {
        self.reachable()?;
        let after = match cursor {
            None => 0,
            Some(cursor) => cursor
                .parse::<u64>()
                .map_err(|_| FleetError::Invalid(format!("{cursor:?} is not a cursor")))?,
        };
        Ok(self
            .lock()
            .denials
            .iter()
            .filter(|(seq, _)| *seq > after)
            .take(limit)
            .map(|(_, batch)| batch.clone())
            .collect())
    }

    async fn subscribe_denials(&self) -> Result<DenialUpdates, FleetError> {
        self.reachable()?;
        Ok(follow_link(
            self.denial_pushes.subscribe(),
            self.link.subscribe(),
        ))
    }
}

/// The same slot arithmetic as the Redis script: each slot `interval` after the previous
/// one, none before a pause ends.
#[async_trait]
impl SharedBudget for MemoryFleetStore {
    async fn reserve(&self, interval: Duration) -> Result<Duration, BudgetError> {
        self.reachable()
            .map_err(|error| BudgetError(error.to_string()))?;
        if interval > MAX_BUDGET_SPAN {
            return Err(BudgetError("an interval above an hour is refused".into()));
        }
        let now = Instant::now();
        let mut data = self.lock();
        let slot = [data.budget_next, data.budget_paused]
            .into_iter()
            .flatten()
            .fold(now, Instant::max);
        data.budget_next = Some(slot + interval);
        Ok(slot - now)
    }

    async fn pause(&self, wait: Duration) -> Result<(), BudgetError> {
        self.reachable()
            .map_err(|error| BudgetError(error.to_string()))?;
        let until = Instant::now() + wait.min(MAX_BUDGET_SPAN);
        let mut data = self.lock();
        data.budget_paused = Some(data.budget_paused.map_or(until, |paused| paused.max(until)));
        Ok(())
    }

    fn budget_location(&self) -> String {
        "the fleet's API budget in memory".to_owned()
    }
}

/// When a lease of `ttl` taken now ends (an hour at most, as no lease is longer).
fn expiry(ttl: Duration) -> Instant {
    Instant::now() + ttl.min(MAX_BUDGET_SPAN)
}

#[async_trait]
impl RevocationJobStore for MemoryFleetStore {
    async fn acquire_lease(
        &self,
        job: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<LeaseGrant, JobStoreError> {
        self.job_link()?;
        let mut data = self.lock();
        if let Some(lease) = data.live_lease() {
            return Ok(LeaseGrant::Held {
                job: lease.job.clone(),
            });
        }
        if let Some(current) = data.current_job.as_ref().filter(|current| *current != job) {
            return Ok(LeaseGrant::Held {
                job: current.clone(),
            });
        }
        data.job_fence += 1;
        let lease = JobLease::new(job, holder, data.job_fence);
        data.job_lease = Some((lease.clone(), expiry(ttl)));
        data.current_job = Some(job.to_owned());
        Ok(LeaseGrant::Granted(lease))
    }

    async fn renew_lease(&self, lease: &JobLease, ttl: Duration) -> Result<bool, JobStoreError> {
        self.job_link()?;
        let mut data = self.lock();
        if !data.holds(lease) {
            return Ok(false);
        }
        data.job_lease = Some((lease.clone(), expiry(ttl)));
        Ok(true)
    }

    async fn release_lease(&self, lease: &JobLease) -> Result<bool, JobStoreError> {
        self.job_link()?;
        let mut data = self.lock();
        if !data.holds(lease) {
            return Ok(false);
        }
        data.job_lease = None;
        if data.current_job.as_deref() == Some(lease.job.as_str()) {
            data.current_job = None;
        }
        Ok(true)
    }

    async fn current_job(&self) -> Result<Option<CurrentJob>, JobStoreError> {
        self.job_link()?;
        let mut data = self.lock();
        let holder = data.live_lease().map(|lease| lease.holder.clone());
        Ok(data
            .current_job
            .clone()
            .map(|job| CurrentJob::new(job, holder)))
    }

    async fn write_job(&self, lease: &JobLease, record: &str) -> Result<bool, JobStoreError> {
        self.job_link()?;
        let mut data = self.lock();
        if !data.holds(lease) {
            return Ok(false);
        }
        if data
            .job_records
            .insert(lease.job.clone(), record.to_owned())
            .is_none()
        {
            data.job_order.push_back(lease.job.clone());
            data.forget_old_jobs();
        }
        Ok(true)
    }

    async fn job(&self, job: &str) -> Result<Option<String>, JobStoreError> {
        self.job_link()?;
        Ok(self.lock().job_records.get(job).cloned())
    }

    async fn append_checkpoint(
        &self,
        lease: &JobLease,
        lines: &[String],
    ) -> Result<bool, JobStoreError> {
        self.job_link()?;
        let mut data = self.lock();
        if !data.holds(lease) {
            return Ok(false);
        }
        data.job_checkpoints
            .entry(lease.job.clone())
            .or_default()
            .extend(lines.iter().cloned());
        Ok(true)
    }

    async fn checkpoint(&self, job: &str) -> Result<Vec<String>, JobStoreError> {
        self.job_link()?;
        Ok(self
            .lock()
            .job_checkpoints
            .get(job)
            .cloned()
            .unwrap_or_default())
    }

    async fn request_cancel(&self, job: &str, request: &str) -> Result<String, JobStoreError> {
        self.job_link()?;
        let mut data = self.lock();
        Ok(data
            .job_cancels
            .entry(job.to_owned())
            .or_insert_with(|| request.to_owned())
            .clone())
    }

    async fn cancel_request(&self, job: &str) -> Result<Option<String>, JobStoreError> {
        self.job_link()?;
        Ok(self.lock().job_cancels.get(job).cloned())
    }
}

#[async_trait]
impl KeySnapshotStore for MemoryFleetStore {
    async fn load(&self) -> Result<Option<KeySnapshot>, SnapshotError> {
        self.reachable()
            .map_err(|err| err.to_snapshot_error(self.location(), "read"))?;
        let Some(bytes) = self.lock().keys.clone() else {
            return Ok(None);
        };
        KeySnapshot::from_stored(&bytes, self.location()).map(Some)
    }

    async fn save(&self, snapshot: &KeySnapshot) -> Result<(), SnapshotError> {
        self.reachable()
            .map_err(|err| err.to_snapshot_error(self.location(), "written"))?;
        self.lock().keys = Some(snapshot.to_json());
        Ok(())
    }

    fn location(&self) -> String {
        "the fleet's keys in memory".to_owned()
    }
}

/// Every service "connecting" to a memory store joins this same store, whatever the URL and
/// name: for tests and drills that start services with `from_vars_with_fleet`.
impl FleetConnector for MemoryFleetStore {
    fn open(&self, _url: &str, _name: &str) -> Result<Arc<dyn FleetStore>, FleetError> {
        Ok(Arc::new(self.connection()))
    }
}
