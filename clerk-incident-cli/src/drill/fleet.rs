//! Drill phase "switch the fleet": three instances of the service on one fleet store (in
//! memory, or Redis with `drill --redis URL`), Grace everywhere with one write, acknowledged,
//! then the bypass's end, which an instance cut off from the store keeps too; then the state
//! the fleet shares (`fleet_shared`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use clerk_incident_core::api::{BudgetError, SharedBudget};
use clerk_incident_core::auth::{
    AuthMode, AuthPolicy, BypassSwitch, ChangeCause, DEFAULT_GRACE_MAX_AGE, KeySnapshot,
    KeySnapshotStore, KeySource, SnapshotError, Verifier, VerifierConfig,
};
use clerk_incident_core::fleet::{
    DenialBatch, DenialUpdates, DenylistStore, DesiredMode, FleetConfig, FleetError, FleetStore,
    Heartbeat, MemoryFleetStore, ModeRequest, ModeUpdates, wait_for_acknowledgements,
};
use clerk_incident_core::incident::EntryKind;
use clerk_incident_core::revocation::{
    CurrentJob, JobLease, JobStoreError, LeaseGrant, RevocationJobStore,
};
use clerk_incident_redis::RedisFleetStore;
use clerk_incident_sim::{DEFAULT_AZP, TokenRequest};
use futures::StreamExt;

use super::middleware::expect;
use super::service::ME;
use super::{Drill, Observation, Recorder};

/// How long the drill's bypass lasts.
const BYPASS: Duration = Duration::from_secs(5);

/// A store connection that the drill can cut, as a network partition would.
#[derive(Debug)]
struct Severable {
    store: Arc<dyn FleetStore>,
    cut: Arc<AtomicBool>,
}

impl Severable {
    fn check(&self) -> Result<(), FleetError> {
        if self.cut.load(Ordering::Acquire) {
            Err(FleetError::Unavailable("cut off by the drill".into()))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl FleetStore for Severable {
    async fn desired(&self) -> Result<Option<DesiredMode>, FleetError> {
        self.check()?;
        self.store.desired().await
    }

    async fn set_desired(&self, request: ModeRequest) -> Result<DesiredMode, FleetError> {
        self.check()?;
        self.store.set_desired(request).await
    }

    async fn subscribe(&self) -> Result<ModeUpdates, FleetError> {
        self.check()?;
        let cut = Arc::clone(&self.cut);
        // Pushes stop at the first one after the cut, as a dead connection's would.
        Ok(self
            .store
            .subscribe()
            .await?
            .take_while(move |_| std::future::ready(!cut.load(Ordering::Acquire)))
            .boxed())
    }

    async fn history(&self, limit: usize) -> Result<Vec<DesiredMode>, FleetError> {
        self.check()?;
        self.store.history(limit).await
    }

    async fn heartbeat(&self, beat: &Heartbeat, ttl: Duration) -> Result<(), FleetError> {
        self.check()?;
        self.store.heartbeat(beat, ttl).await
    }

    async fn instances(&self) -> Result<Vec<Heartbeat>, FleetError> {
        self.check()?;
        self.store.instances().await
    }

    fn describe(&self) -> String {
        self.store.describe()
    }
}

#[async_trait]
impl DenylistStore for Severable {
    async fn add_denials(&self, session_ids: &[String]) -> Result<DenialBatch, FleetError> {
        self.check()?;
        self.store.add_denials(session_ids).await
    }

    async fn denials_after(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DenialBatch>, FleetError> {
        self.check()?;
        self.store.denials_after(cursor, limit).await
    }

    async fn subscribe_denials(&self) -> Result<DenialUpdates, FleetError> {
        self.check()?;
        let cut = Arc::clone(&self.cut);
        Ok(self
            .store
            .subscribe_denials()
            .await?
            .take_while(move |_| std::future::ready(!cut.load(Ordering::Acquire)))
            .boxed())
    }
}

#[async_trait]
impl SharedBudget for Severable {
    async fn reserve(&self, interval: Duration) -> Result<Duration, BudgetError> {
        self.check()
            .map_err(|error| BudgetError(error.to_string()))?;
        self.store.reserve(interval).await
    }

    async fn pause(&self, wait: Duration) -> Result<(), BudgetError> {
        self.check()
            .map_err(|error| BudgetError(error.to_string()))?;
        self.store.pause(wait).await
    }

    fn budget_location(&self) -> String {
        self.store.budget_location()
    }
}

impl Severable {
    fn check_jobs(&self) -> Result<(), JobStoreError> {
        self.check()
            .map_err(|error| JobStoreError::Unavailable(error.to_string()))
    }
}

#[async_trait]
impl RevocationJobStore for Severable {
    async fn acquire_lease(
        &self,
        job: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<LeaseGrant, JobStoreError> {
        self.check_jobs()?;
        self.store.acquire_lease(job, holder, ttl).await
    }

    async fn renew_lease(&self, lease: &JobLease, ttl: Duration) -> Result<bool, JobStoreError> {
        self.check_jobs()?;
        self.store.renew_lease(lease, ttl).await
    }

    async fn release_lease(&self, lease: &JobLease) -> Result<bool, JobStoreError> {
        self.check_jobs()?;
        self.store.release_lease(lease).await
    }

    async fn current_job(&self) -> Result<Option<CurrentJob>, JobStoreError> {
        self.check_jobs()?;
        self.store.current_job().await
    }

    async fn write_job(&self, lease: &JobLease, record: &str) -> Result<bool, JobStoreError> {
        self.check_jobs()?;
        self.store.write_job(lease, record).await
    }

    async fn job(&self, job: &str) -> Result<Option<String>, JobStoreError> {
        self.check_jobs()?;
        self.store.job(job).await
    }

    async fn append_checkpoint(
        &self,
        lease: &JobLease,
        lines: &[String],
    ) -> Result<bool, JobStoreError> {
        self.check_jobs()?;
        self.store.append_checkpoint(lease, lines).await
    }

    async fn checkpoint(&self, job: &str) -> Result<Vec<String>, JobStoreError> {
        self.check_jobs()?;
        self.store.checkpoint(job).await
    }

    async fn request_cancel(&self, job: &str, request: &str) -> Result<String, JobStoreError> {
        self.check_jobs()?;
        self.store.request_cancel(job, request).await
    }

    async fn cancel_request(&self, job: &str) -> Result<Option<String>, JobStoreError> {
        self.check_jobs()?;
        self.store.cancel_request(job).await
    }
}

#[async_trait]
impl KeySnapshotStore for Severable {
    async fn load(&self) -> Result<Option<KeySnapshot>, SnapshotError> {
        self.check()
            .map_err(|error| error.to_snapshot_error(self.location(), "read"))?;
        self.store.load().await
    }

    async fn save(&self, snapshot: &KeySnapshot) -> Result<(), SnapshotError> {
        self.check()
            .map_err(|error| error.to_snapshot_error(self.location(), "written"))?;
        self.store.save(snapshot).await
    }

    fn location(&self) -> String {
        self.store.location()
    }
}

/// The fleet's store: in memory, or the Redis at `redis` under a fleet name of the drill's
/// own, so that a drill never switches a real fleet.
fn open_store(redis: Option<&str>) -> Result<(Arc<dyn FleetStore>, String), String> {
    match redis {
        None => Ok((Arc::new(MemoryFleetStore::new()), "in memory".to_owned())),
        Some(url) => {
            let name = format!("clerk-incident-drill-{}", std::process::id());
            let store = RedisFleetStore::open(url, &name).map_err(|error| error.to_string())?;
            let shown = store.describe();
            Ok((Arc::new(store), shown))
        }
    }
}

pub(super) async fn run(drill: &Drill, rec: &mut Recorder, redis: Option<&str>) {
    let sim = drill.sim();
    rec.phase(
        "Phase 11",
        "switch the fleet: three instances, one command, and the end that needs no store",
    );
    let (store, shown) = match open_store(redis) {
        Ok(opened) => opened,
        Err(problem) => {
            rec.step("fleet store", async { Observation::unexpected(problem) })
                .await;
            return;
        }
    };
    let Ok(keys) = KeySource::pem(sim.public_key_pem()) else {
        rec.step("setup", async {
            Observation::unexpected("the sim's public key does not parse")
        })
        .await;
        return;
    };
    let cut = Arc::new(AtomicBool::new(false));
    let mut instances = Vec::new();
    for i in 1..=3 {
        let config = VerifierConfig::default()
            .issuers([sim.issuer()])
            .authorized_parties([DEFAULT_AZP]);
        let policy = AuthPolicy::new(Verifier::new(keys.clone(), config), BypassSwitch::new());
        let connection = Severable {
            store: Arc::clone(&store),
            // The third instance's link is the one the drill cuts.
            cut: if i == 3 {
                Arc::clone(&cut)
            } else {
                Arc::new(AtomicBool::new(false))
            },
        };
        let fleet_config = FleetConfig::default()
            .with_instance_id(format!("drill-web-{i}"))
            .with_periods(Duration::from_millis(200), Duration::from_millis(500));
        match policy.join_fleet(Arc::new(connection), fleet_config) {
            Ok(policy) => instances.push(policy),
            Err(error) => {
                rec.step("join", async { Observation::unexpected(error.to_string()) })
                    .await;
                return;
            }
        }
    }
    let apps: Vec<_> = instances
        .iter()
        .map(|policy| super::service::app(policy.clone(), None))
        .collect();

    let joined = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match store.instances().await {
                Ok(live) if live.len() >= 3 => break Ok(live.len()),
                Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(error) => break Err(error.to_string()),
            }
        }
    })
    .await
    .unwrap_or_else(|_| Err("the instances did not all heartbeat within 10 s".to_owned()));
    let stop = joined.is_err();
    rec.step("three instances join", async {
        match joined {
            Ok(count) => Observation::expected(format!("{count} live instances on {shown}")),
            Err(problem) => Observation::unexpected(format!("{problem} ({shown})")),
        }
    })
    .await;
    if stop {
        return;
    }

    let until = SystemTime::now() + BYPASS;
    let grace = AuthMode::Grace {
        max_token_age: DEFAULT_GRACE_MAX_AGE,
    };
    let mut written = None;
    rec.step("grace everywhere", async {
        let request = match ModeRequest::new(grace, Some(until), "drill: Clerk is down", "drill") {
            Ok(request) => request,
            Err(error) => return Observation::unexpected(error.to_string()),
        };
        let desired = match store.set_desired(request).await {
            Ok(desired) => desired,
            Err(error) => return Observation::unexpected(error.to_string()),
        };
        let acks = wait_for_acknowledgements(store.as_ref(), &desired, &[], Duration::from_secs(5))
            .await;
        let switched = instances
            .iter()
            .all(|policy| policy.switch().mode() == grace);
        let observation = match acks {
            Ok(acks) if acks.complete() && switched => Observation::expected(format!(
                "v{} written once; {} of {} instances acknowledged in {} ms, each in grace until the same instant",
                desired.version,
                acks.acknowledged.len(),
                acks.acknowledged.len(),
                acks.waited.as_millis()
            )),
            Ok(acks) => Observation::unexpected(format!(
                "{} acknowledged, {} missing; all in grace: {switched}",
                acks.acknowledged.len(),
                acks.missing.len()
            )),
            Err(error) => Observation::unexpected(error.to_string()),
        };
        written = Some(desired);
        observation.with_entry(EntryKind::ModeChange {
            from: "enforce".to_owned(),
            to: "grace".to_owned(),
            reason: "clerk-incident bypass grace (drill: every instance at once)".to_owned(),
        })
    })
    .await;

    let Some(admin) = sim.admin_user_id() else {
        return;
    };
    let expired = sim
        .mint_token(
            &TokenRequest::for_user(admin)
                .issued_at(SystemTime::now() - Duration::from_secs(300))
                .lifetime(Duration::from_secs(60)),
        )
        .unwrap_or_default();
    if let Some(app) = apps.last() {
        rec.step(
            "expired token, grace",
            expect(app, ME, Some(&expired), 200, Some("grace")),
        )
        .await;
    }

    cut.store(true, Ordering::Release);
    rec.step("instance 3 cut off", async {
        let Some(cut_off) = instances.last() else {
            return Observation::unexpected("no third instance");
        };
        let lost = tokio::time::timeout(Duration::from_secs(5), async {
            while cut_off
                .fleet_health()
                .is_none_or(|fleet| fleet.lost_since.is_none())
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        match (lost, instances.last().map(|p| p.switch().mode())) {
            (Ok(()), Some(mode)) if mode == grace => Observation::expected(
                "its health reports the lost store; it keeps grace until the fleet's end",
            ),
            (Ok(()), mode) => Observation::unexpected(format!("it left grace early: {mode:?}")),
            (Err(_), _) => Observation::unexpected("its health never reported the lost store"),
        }
    })
    .await;

    rec.step("the end, without a store", async {
        let mut changes = instances
            .last()
            .map(|policy| policy.switch().subscribe());
        // Wait for the expiry itself, bounded: it is due at `until`.
        if let Some(changes) = changes.as_mut() {
            let _ = tokio::time::timeout(BYPASS + Duration::from_secs(2), async {
                while let Ok(change) = changes.recv().await {
                    if change.cause == ChangeCause::Expired {
                        break;
                    }
                }
            })
            .await;
        }
        let all_enforce = instances
            .iter()
            .all(|policy| policy.switch().mode() == AuthMode::Enforce);
        let ended_at = instances
            .last()
            .map(|policy| policy.switch().current().since);
        let scheduled = written.as_ref().and_then(|desired| desired.until_ms);
        if all_enforce
            && ended_at == scheduled
            && scheduled.is_some_and(|end| SystemTime::now() >= end)
        {
            Observation::expected(
                "all three enforce again at the fleet's end, the cut-off one too, with no write",
            )
            .with_entry(EntryKind::ModeChange {
                from: "grace".to_owned(),
                to: "enforce".to_owned(),
                reason: "the fleet's grace reached its end on every instance (drill)".to_owned(),
            })
        } else {
            Observation::unexpected(format!(
                "all enforce: {all_enforce}; the cut-off instance ended at {ended_at:?}, scheduled {scheduled:?}"
            ))
        }
    })
    .await;
    if let Some(app) = apps.last() {
        rec.step(
            "expired token, enforce",
            expect(app, ME, Some(&expired), 401, None),
        )
        .await;
    }

    // The link comes back: the third instance reads the fleet (and its denylist) again.
    cut.store(false, Ordering::Release);
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while instances.iter().any(|policy| {
            !policy.denylist().is_current()
                || policy
                    .fleet_health()
                    .is_some_and(|fleet| fleet.lost_since.is_some())
        }) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    super::fleet_shared::run(drill, rec, &store, &instances).await;
}
