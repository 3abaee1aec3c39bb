//! Drill phase for a restart during a Clerk outage: a service that starts while Clerk is
//! down, without keys and with the snapshot its predecessor saved, then Clerk's return.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clerk_incident_core::auth::{
    AuthMode, AuthPolicy, BackendApiJwks, BypassSwitch, DEFAULT_GRACE_MAX_AGE, FileSnapshotStore,
    JwksCache, JwksCacheConfig, KeySnapshotStore, KeySource, Verifier, VerifierConfig,
};
use clerk_incident_sim::{DEFAULT_AZP, Faults, Outage, TokenRequest};

use super::middleware::expect;
use super::service::ME;
use super::{Drill, Observation, Recorder};

/// A service as the environment builds it: keys checked in the background, the snapshot at
/// `snapshot` when given.
fn service(drill: &Drill, snapshot: Option<&PathBuf>) -> (AuthPolicy, JwksCache) {
    let sim = drill.sim();
    let mut cache = JwksCache::new(
        BackendApiJwks(drill.api().clone()),
        JwksCacheConfig::default(),
    );
    if let Some(path) = snapshot {
        cache = cache.with_snapshot(FileSnapshotStore::new(path), Some(sim.issuer()));
    }
    cache.keep_fresh();
    let config = VerifierConfig::default()
        .issuers([sim.issuer()])
        .authorized_parties([DEFAULT_AZP]);
    let policy = AuthPolicy::new(
        Verifier::new(KeySource::Jwks(cache.clone()), config),
        BypassSwitch::new(),
    );
    (policy, cache)
}

pub(super) async fn run(drill: &Drill, rec: &mut Recorder) {
    let sim = drill.sim();
    rec.phase(
        "Phase 10",
        "a restart during the outage: without keys, and with the snapshot of the keys",
    );
    let Some(admin) = sim.admin_user_id() else {
        rec.step("setup", async {
            Observation::unexpected("the sim seeded no admin")
        })
        .await;
        return;
    };
    let snapshot = std::env::temp_dir().join(format!(
        "clerk-incident-drill-jwks-{}.json",
        std::process::id()
    ));
    let token = sim
        .mint_token(&TokenRequest::for_user(admin.clone()).lifetime(Duration::from_secs(300)))
        .unwrap_or_default();
    let expired = sim
        .mint_token(
            &TokenRequest::for_user(admin)
                .issued_at(std::time::SystemTime::now() - Duration::from_secs(5 * 60)),
        )
        .unwrap_or_default();

    // Before the outage, the running service checks its keys and saves them.
    rec.step("keys saved before", async {
        let (_, cache) = service(drill, Some(&snapshot));
        if let Err(err) = cache.refresh().await {
            return Observation::unexpected(format!(
                "the keys could not be fetched: {}",
                err.reason()
            ));
        }
        match FileSnapshotStore::new(&snapshot).load().await {
            Ok(Some(saved)) => Observation::expected(format!(
                "{} key(s) in {}",
                saved.jwks.keys.len(),
                snapshot.display()
            )),
            Ok(None) => Observation::unexpected("no snapshot was written"),
            Err(err) => Observation::unexpected(err.to_string()),
        }
    })
    .await;

    sim.set_faults(Faults {
        outage: Some(Outage::Unavailable),
        ..Faults::default()
    });
    let (cold, _) = service(drill, None);
    let cold_app = super::service::app(cold.clone(), None);
    let ready = cold.wait_ready(Duration::from_secs(2)).await;
    rec.step("restart, no snapshot", async {
        let answer = expect(&cold_app, ME, Some(&token), 503, None).await;
        match (ready, cold.health().problem) {
            (false, Some(problem)) => answer.note(format!(
                "not ready: {problem}; the runbook's step 0: give services CLERK_JWKS_SNAPSHOT (keys snapshot --out) or CLERK_JWT_KEY before an outage"
            )),
            _ => Observation::unexpected("the service claims keys it cannot have"),
        }
    })
    .await;

    let (warm, _) = service(drill, Some(&snapshot));
    let warm_app = super::service::app(warm.clone(), None);
    let ready = warm.wait_ready(Duration::from_secs(3)).await;
    rec.step("restart, snapshot", async {
        let answer = expect(&warm_app, ME, Some(&token), 200, None).await;
        match (ready, warm.health().problem) {
            (true, Some(problem)) if problem.contains("snapshot") => answer.note(problem),
            (_, problem) => Observation::unexpected(format!(
                "not verifying from the snapshot: {}",
                problem.unwrap_or_default()
            )),
        }
    })
    .await;
    let grace = AuthMode::Grace {
        max_token_age: DEFAULT_GRACE_MAX_AGE,
    };
    let switched = warm.switch().activate(
        grace,
        Some(Duration::from_secs(45 * 60)),
        "drill: restart in an outage",
    );
    rec.step("Grace on the snapshot", async {
        match switched {
            Ok(_) => expect(&warm_app, ME, Some(&expired), 200, Some("grace")).await,
            Err(err) => Observation::unexpected(format!("Grace refused: {err}")),
        }
    })
    .await;

    // Clerk is back: the keyless service verifies within its retry backoff.
    sim.set_faults(Faults::default());
    let back = Instant::now();
    let recovered = cold.wait_ready(Duration::from_secs(15)).await;
    let took = back.elapsed();
    rec.step("Clerk back, no snapshot", async {
        if recovered {
            expect(&cold_app, ME, Some(&token), 200, None)
                .await
                .note(format!(
                    "verifying {:.1} s after Clerk's return",
                    took.as_secs_f64()
                ))
        } else {
            Observation::unexpected(format!(
                "still no keys {} s after Clerk's return",
                took.as_secs()
            ))
        }
    })
    .await;
    let _ = std::fs::remove_file(&snapshot);
}
