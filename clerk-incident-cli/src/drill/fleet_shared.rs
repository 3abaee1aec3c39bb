//! The end of drill phase 11, the fleet's shared state: a replica started during a Clerk
//! outage verifies with the keys another one saved in the fleet's store, a session revoked
//! with the fleet's denylist is refused in Grace by every instance, and a mass revocation
//! started on one replica is refused a twin and watched from another.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use clerk_incident_core::auth::{
    AuthMode, AuthPolicy, BackendApiJwks, BypassSwitch, DEFAULT_GRACE_MAX_AGE, JwksCache,
    JwksCacheConfig, KeySnapshotStore, KeySource, Verifier, VerifierConfig,
};
use clerk_incident_core::fleet::{FleetConfig, FleetDenier, FleetStore, ModeRequest};
use clerk_incident_core::incident::{ActionCounts, EntryKind};
use clerk_incident_core::revocation::{
    JobError, JobState, REVOKE_PATH, RevocationJobs, RevocationPlan, RevocationTarget,
    SessionRevoker,
};
use clerk_incident_sim::{DEFAULT_AZP, Faults, Outage, TokenRequest};

use super::middleware::{expect, get};
use super::service::ME;
use super::{Drill, Observation, Recorder};

/// A service on JWKS keys that keeps its last known good keys in the fleet's store.
fn keyed_instance(drill: &Drill, store: &Arc<dyn FleetStore>, id: &str) -> Option<AuthPolicy> {
    let sim = drill.sim();
    let cache = JwksCache::new(
        BackendApiJwks(drill.api().clone()),
        JwksCacheConfig::default(),
    )
    .with_snapshot(
        Arc::clone(store) as Arc<dyn KeySnapshotStore>,
        Some(sim.issuer()),
    );
    cache.keep_fresh();
    let config = VerifierConfig::default()
        .issuers([sim.issuer()])
        .authorized_parties([DEFAULT_AZP]);
    let fleet_config = FleetConfig::default()
        .with_instance_id(id)
        .with_periods(Duration::from_millis(200), Duration::from_millis(500));
    AuthPolicy::new(
        Verifier::new(KeySource::Jwks(cache), config),
        BypassSwitch::new(),
    )
    .join_fleet(Arc::clone(store), fleet_config)
    .ok()
}

/// Until every app answers `token` with `status` (and the rejection `reason`, when given), for
/// at most `limit`: how long it took.
async fn until_all(
    apps: &[Router],
    token: &str,
    (status, reason): (u16, Option<&str>),
    limit: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    tokio::time::timeout(limit, async {
        loop {
            let mut all = true;
            for app in apps {
                let answer = get(app, ME, Some(token)).await;
                all &= answer.status == status
                    && reason.is_none_or(|reason| {
                        answer
                            .body
                            .get("reason")
                            .and_then(serde_json::Value::as_str)
                            == Some(reason)
                    });
            }
            if all {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .ok()
    .map(|()| started.elapsed())
}

pub(super) async fn run(
    drill: &Drill,
    rec: &mut Recorder,
    store: &Arc<dyn FleetStore>,
    instances: &[AuthPolicy],
) {
    let sim = drill.sim();
    let grace = AuthMode::Grace {
        max_token_age: DEFAULT_GRACE_MAX_AGE,
    };
    let Some(admin) = sim.admin_user_id() else {
        return;
    };
    let valid = sim
        .mint_token(&TokenRequest::for_user(&admin).lifetime(Duration::from_secs(300)))
        .unwrap_or_default();
    let expired = sim
        .mint_token(
            &TokenRequest::for_user(&admin).issued_at(SystemTime::now() - Duration::from_secs(300)),
        )
        .unwrap_or_default();
    let switched = match ModeRequest::new(
        grace,
        Some(SystemTime::now() + Duration::from_secs(120)),
        "drill: the fleet's shared state",
        "drill",
    ) {
        Ok(request) => store.set_desired(request).await.map_err(|e| e.to_string()),
        Err(error) => Err(error.to_string()),
    };
    if let Err(problem) = switched {
        rec.step("grace for the shared state", async {
            Observation::unexpected(problem)
        })
        .await;
        return;
    }

    // Keys: one instance fetches them and saves them in the fleet; Clerk goes down; a new
    // instance starts with no file and verifies with the fleet's.
    let saver = keyed_instance(drill, store, "drill-web-keys");
    let saved = match &saver {
        Some(policy) => policy.wait_ready(Duration::from_secs(5)).await,
        None => false,
    };
    let stored = tokio::time::timeout(Duration::from_secs(5), async {
        while !matches!(store.load().await, Ok(Some(_))) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .is_ok();
    sim.set_faults(Faults {
        outage: Some(Outage::Unavailable),
        ..Faults::default()
    });
    let late = keyed_instance(drill, store, "drill-web-late");
    rec.step("a replica started in the outage", async {
        let Some(late) = &late else {
            return Observation::unexpected("the late replica could not join");
        };
        if !(saved && stored) {
            return Observation::unexpected("no instance saved the keys in the fleet's store");
        }
        let ready = late.wait_ready(Duration::from_secs(5)).await;
        let in_grace = tokio::time::timeout(Duration::from_secs(5), async {
            // Grace in force, and the fleet's denylist read: only then are expired tokens in.
            while late.switch().mode() != grace || !late.denylist().is_current() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .is_ok();
        let app = super::service::app(late.clone(), None);
        let fresh = get(&app, ME, Some(&valid)).await.status;
        let old = get(&app, ME, Some(&expired)).await;
        if ready && in_grace && fresh == 200 && old.status == 200 {
            Observation::expected(format!(
                "no snapshot file, Clerk down: verifies with the fleet's keys ({}), and serves \
                 grace ({})",
                late.health().problem.unwrap_or_default(),
                old.describe(ME)
            ))
        } else {
            Observation::unexpected(format!(
                "ready {ready}, grace {in_grace}, valid token {fresh}, expired token {}",
                old.status
            ))
        }
    })
    .await;
    sim.set_faults(Faults::default());

    // The denylist: revoke one member's sessions with the fleet's denylist; every instance
    // refuses its expired token in Grace within a second.
    let member = sim
        .sessions()
        .into_iter()
        .find(|s| s.status.is_signed_in() && s.user_id != admin);
    let apps: Vec<Router> = instances
        .iter()
        .map(|policy| super::service::app(policy.clone(), None))
        .collect();
    rec.step("a revoked session, everywhere", async {
        let Some(session) = member else {
            return Observation::unexpected("the sim seeded no member with a live session");
        };
        let token = sim
            .mint_token(
                &TokenRequest::for_session(&session.id)
                    .issued_at(SystemTime::now() - Duration::from_secs(300)),
            )
            .unwrap_or_default();
        if until_all(&apps, &token, (200, None), Duration::from_secs(5))
            .await
            .is_none()
        {
            return Observation::unexpected(
                "before the revocation, not every instance accepted the expired token in grace",
            );
        }
        let plan = RevocationPlan::new(RevocationTarget::Users(vec![session.user_id.clone()]));
        let report = SessionRevoker::new(drill.api().clone(), plan)
            .deny_with(Arc::new(FleetDenier::new(Arc::clone(store))))
            .run(None, |_| {})
            .await;
        let report = match report {
            Ok(report) if report.sessions_not_denied == 0 => report,
            Ok(report) => {
                return Observation::unexpected(format!(
                    "{} revoked sessions not denied in the fleet",
                    report.sessions_not_denied
                ));
            }
            Err(error) => return Observation::unexpected(error.to_string()),
        };
        match until_all(
            &apps,
            &token,
            (401, Some("session_revoked")),
            Duration::from_secs(1),
        )
        .await
        {
            Some(took) => Observation::expected(format!(
                "{} session(s) of {} denied in the fleet, then revoked: all {} instances refuse \
                 its expired token in grace ({} ms after the run returned)",
                report.revoked,
                session.user_id,
                apps.len(),
                took.as_millis()
            ))
            .with_entry(EntryKind::Action {
                command: format!("clerk-incident sessions revoke --user {}", session.user_id),
                outcome: format!(
                    "{} revoked, denied in the fleet: refused in grace everywhere",
                    report.revoked
                ),
                counts: ActionCounts::revocation(report.users_signed_out, report.revoked),
            }),
            None => Observation::unexpected("not every instance refused it within a second"),
        }
    })
    .await;

    // One mass revocation for the whole fleet: started through one replica's admin jobs,
    // refused a twin on another, watched from there to its report.
    if let [first, second, ..] = instances {
        rec.step("one mass revocation, watched from another replica", async {
            one_job_for_the_fleet(drill, first, second).await
        })
        .await;
    }

    let back = ModeRequest::new(AuthMode::Enforce, None, "drill: shared state done", "drill");
    if let Ok(request) = back {
        let _ = store.set_desired(request).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while instances
            .iter()
            .any(|policy| policy.switch().mode() != AuthMode::Enforce)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    if let Some(app) = apps.last() {
        rec.step(
            "the shared state, then enforce",
            expect(app, ME, Some(&expired), 401, None),
        )
        .await;
    }
}

/// A revocation of three members' sessions started on `first`'s jobs and watched from
/// `second`'s, which share the fleet's job store.
async fn one_job_for_the_fleet(
    drill: &Drill,
    first: &AuthPolicy,
    second: &AuthPolicy,
) -> Observation {
    let sim = drill.sim();
    let admin = sim.admin_user_id().unwrap_or_default();
    let mut users: Vec<String> = sim
        .sessions()
        .into_iter()
        .filter(|s| s.status.is_signed_in() && s.user_id != admin)
        .map(|s| s.user_id)
        .collect();
    users.sort();
    users.dedup();
    users.truncate(3);
    let live = |users: &[String]| {
        sim.sessions()
            .iter()
            .filter(|s| s.status.is_signed_in() && users.contains(&s.user_id))
            .count() as u64
    };
    let before = live(&users);
    let on_first = RevocationJobs::new(drill.api().clone()).for_service(first);
    let on_second = RevocationJobs::new(drill.api().clone()).for_service(second);
    let plan = RevocationPlan::new(RevocationTarget::Users(users.clone()));
    let job = match on_first.start(plan.clone(), None).await {
        Ok(job) => job,
        Err(error) => return Observation::unexpected(error.to_string()),
    };
    match on_second.start(plan, None).await {
        Err(JobError::AlreadyRunning { job: running }) if running == job => {}
        other => {
            return Observation::unexpected(format!(
                "a second job through another replica while {job} runs: {other:?}"
            ));
        }
    }
    let watched = tokio::time::timeout(Duration::from_secs(30), on_second.wait(job.as_str()))
        .await
        .map_err(|_| "not finished within 30 s".to_owned())
        .and_then(|status| status.map_err(|error| error.to_string()));
    let status = match watched {
        Ok(Some(status)) => status,
        Ok(None) => return Observation::unexpected("the other replica does not know the job"),
        Err(problem) => return Observation::unexpected(problem),
    };
    let revoked = status.report.as_ref().map_or(0, |report| report.revoked);
    let signed_out = status
        .report
        .as_ref()
        .map_or(0, |report| report.users_signed_out);
    let holder = status.instance.clone().unwrap_or_default();
    if status.state != JobState::Finished || revoked != before || live(&users) != 0 {
        return Observation::unexpected(format!(
            "{:?} on {holder}: {revoked} revoked of {before} ({:?})",
            status.state, status.error
        ));
    }
    Observation::expected(format!(
        "{job} ran on {holder}; the other replica was refused a second job and read its \
         report from the fleet's store: {revoked} session(s) of {} users revoked",
        users.len()
    ))
    .with_entry(EntryKind::Action {
        command: format!(
            "POST {REVOKE_PATH} {{\"user_ids\": [{} users]}}",
            users.len()
        ),
        outcome: format!("{revoked} revoked on {holder}, watched from another replica"),
        counts: ActionCounts::revocation(signed_out, revoked),
    })
}
