//! The state a fleet shares besides its mode, checked on any [`FleetStore`]: the last known
//! good keys (an instance that starts while Clerk is down verifies with them) and the denylist
//! of revoked sessions (refused by every instance, even in `Grace` and `Open`). Run on the
//! in-memory store by this crate's tests and on Redis by `clerk-incident-redis`'s.
//!
//! Test support: a broken rule panics, as a failed assertion does.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use clerk_incident_core::api::{ClerkApi, SecretKey};
use clerk_incident_core::auth::{
    AuthMode, AuthPolicy, BypassSwitch, Credentials, Decision, KeySnapshot, KeySource,
    RejectReason, Rejection, RouteClass, SessionDenier, Verifier, VerifierConfig,
};
use clerk_incident_core::fleet::{FleetConnector, FleetDenier, FleetStore, ModeRequest};
use clerk_incident_core::revocation::{RevocationPlan, RevocationTarget, SessionRevoker};
use clerk_incident_sim::{Faults, Outage, Sim, TokenRequest};
use futures::StreamExt;

use crate::fleet_store::{STEP, enforce, grace_for, quick_config};

/// The fleet name these checks give their services.
const FLEET: &str = "conformance-fleet";

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(STEP, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within {STEP:?}"))
}

async fn until(what: &str, condition: impl Fn() -> bool) {
    within(what, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// How `policy` decides a request on a protected route carrying `token`.
async fn decide(policy: &AuthPolicy, token: Option<&str>) -> Decision {
    let header = token.map(|token| format!("Bearer {token}"));
    let credentials = match &header {
        Some(header) => Credentials::authorization(header.as_bytes()),
        None => Credentials::default(),
    };
    policy.decide(&credentials, RouteClass::Protected).await
}

fn allowed(decision: &Decision) -> bool {
    matches!(decision, Decision::Allow(_))
}

fn refused_as_revoked(decision: &Decision) -> bool {
    matches!(
        decision,
        Decision::Reject {
            rejection: Rejection::Unauthenticated(RejectReason::Revoked),
            ..
        }
    )
}

/// The variables of a service of `sim` in the fleet at `url`.
fn service_vars(sim: &Sim, url: &str) -> HashMap<&'static str, String> {
    HashMap::from([
        ("CLERK_SECRET_KEY", sim.secret_key().to_owned()),
        ("CLERK_API_URL", sim.base_url().to_owned()),
        ("CLERK_ISSUER", sim.issuer()),
        ("CLERK_INCIDENT_REDIS_URL", url.to_owned()),
        ("CLERK_INCIDENT_FLEET", FLEET.to_owned()),
    ])
}

fn start_service(
    vars: &HashMap<&'static str, String>,
    connector: &dyn FleetConnector,
) -> AuthPolicy {
    AuthPolicy::from_vars_with_fleet(|name| vars.get(name).cloned(), Some(connector))
        .expect("a service in the fleet")
}

fn mode_request(mode: AuthMode) -> ModeRequest {
    ModeRequest::new(
        mode,
        Some(SystemTime::now() + Duration::from_secs(600)),
        "conformance",
        "conformance@test",
    )
    .unwrap()
}

/// An instance started while Clerk is down, with no snapshot file, verifies valid tokens and
/// serves `Grace` with the keys another instance saved in the fleet's store (`store`, a
/// connection to the store `connector` opens at `url`, empty). A snapshot in the store that is
/// of another issuer or too old is refused, as a file's would be: the instance is not ready.
///
/// # Panics
///
/// On the first broken rule.
pub async fn check_keys_for_an_instance_started_in_an_outage(
    store: Arc<dyn FleetStore>,
    connector: &dyn FleetConnector,
    url: &str,
) {
    let sim = Sim::builder().users(3).sessions(3).start().await.unwrap();
    let vars = service_vars(&sim, url);
    assert_eq!(within("read", store.load()).await.unwrap(), None);

    let first = start_service(&vars, connector);
    assert!(
        first.wait_ready(STEP).await,
        "the first instance fetches keys"
    );
    let saved = within("the keys saved in the fleet", async {
        loop {
            if let Ok(Some(saved)) = store.load().await {
                break saved;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(saved.issuer.as_deref(), Some(sim.issuer().as_str()));
    assert!(!saved.jwks.keys.is_empty());

    sim.set_faults(Faults {
        outage: Some(Outage::Unavailable),
        ..Faults::default()
    });
    let late = start_service(&vars, connector);
    assert!(
        late.wait_ready(STEP).await,
        "an instance started in the outage verifies with the fleet's keys"
    );
    assert!(late.health().keys.from_snapshot.is_some());
    let admin = sim.admin_user_id().unwrap();
    let valid = sim
        .mint_token(&TokenRequest::for_user(admin.clone()).lifetime(Duration::from_secs(300)))
        .unwrap();
    assert!(allowed(&decide(&late, Some(&valid)).await));
    let expired = sim
        .mint_token(
            &TokenRequest::for_user(admin).issued_at(SystemTime::now() - Duration::from_secs(300)),
        )
        .unwrap();
    assert!(!allowed(&decide(&late, Some(&expired)).await), "Enforce");
    within(
        "grace",
        store.set_desired(grace_for(Duration::from_secs(600), "outage")),
    )
    .await
    .unwrap();
    until("grace applied", || late.switch().mode().is_bypass()).await;
    match decide(&late, Some(&expired)).await {
        Decision::Allow(context) => assert!(context.degraded),
        other => panic!("Grace on the fleet's keys refused an expired token: {other:?}"),
    }

    // The same refusals as a file's: another issuer's keys, and keys too old.
    let mut foreign = KeySnapshot::new(
        Some("https://clerk.other.example".into()),
        saved.jwks.clone(),
    );
    foreign.fetched_at = saved.fetched_at;
    within("plant", store.save(&foreign)).await.unwrap();
    let refused = start_service(&vars, connector);
    assert!(
        !refused.wait_ready(Duration::from_secs(1)).await,
        "a snapshot of another issuer is never trusted"
    );
    let mut stale = saved.clone();
    stale.fetched_at = SystemTime::now() - Duration::from_secs(30 * 86_400);
    within("plant", store.save(&stale)).await.unwrap();
    let refused = start_service(&vars, connector);
    assert!(
        !refused.wait_ready(Duration::from_secs(1)).await,
        "a snapshot past the staleness bound is never trusted"
    );
    within("enforce", store.set_desired(enforce("done")))
        .await
        .unwrap();
    sim.shutdown().await;
}

/// The denylist's store contract, on an empty store (`store`) and a second connection to it
/// (`other`): batches read back in order from any connection, from a cursor and a page at a
/// time; subscribers are told of new batches (a push may stand for several); only Clerk ids
/// are written.
///
/// # Panics
///
/// On the first broken rule.
pub async fn check_denylist_contract(store: Arc<dyn FleetStore>, other: Arc<dyn FleetStore>) {
    assert!(
        within("read", other.denials_after(None, 10))
            .await
            .unwrap()
            .is_empty()
    );
    let mut pushes = within("subscribe", other.subscribe_denials())
        .await
        .unwrap();
    let ids = |list: &[&str]| list.iter().map(|id| (*id).to_owned()).collect::<Vec<_>>();
    let before = SystemTime::now() - Duration::from_secs(5);
    let a = within("deny", store.add_denials(&ids(&["sess_a", "sess_b"])))
        .await
        .unwrap();
    let b = within("deny", other.add_denials(&ids(&["sess_c"])))
        .await
        .unwrap();
    assert_eq!(a.session_ids, ["sess_a", "sess_b"]);
    assert!(a.at_ms >= before && a.at_ms <= SystemTime::now() + Duration::from_secs(5));
    assert_ne!(a.cursor, b.cursor);
    // Pushes are hints, and may come as one for both batches; the last names the newest.
    let mut pushed = within("push", pushes.next()).await.expect("a push");
    if pushed.cursor != b.cursor {
        assert_eq!(pushed, a);
        pushed = within("push", pushes.next()).await.expect("a push");
    }
    assert_eq!(pushed.cursor, b.cursor);

    let all = within("read", other.denials_after(None, 10)).await.unwrap();
    assert_eq!(all, [a.clone(), b.clone()], "oldest first, as written");
    let page = within("read", store.denials_after(None, 1)).await.unwrap();
    assert_eq!(page, std::slice::from_ref(&a), "a page at a time");
    let rest = within("read", store.denials_after(Some(&a.cursor), 10))
        .await
        .unwrap();
    assert_eq!(rest, std::slice::from_ref(&b), "after the cursor");
    assert!(
        within("read", store.denials_after(Some(&b.cursor), 10))
            .await
            .unwrap()
            .is_empty()
    );
    for bad in [ids(&[]), ids(&["sess 1"]), ids(&["sess_1\"]"])] {
        assert!(
            within("deny", store.add_denials(&bad)).await.is_err(),
            "{bad:?} is refused"
        );
    }
}

/// A session revoked with the fleet's denylist (as the CLI's `sessions revoke` does) is
/// refused in `Grace` by an instance on another connection (`replica`) within a second, and in
/// `Open` too; other sessions still pass. The replica keeps refusing it when its store is cut
/// (`cut_replica`), and accepts only fully valid tokens once its copy is out of date; after the
/// store restarted empty (`restart`, which also ends the cut) the copies keep what they hold
/// and a later denial still reaches them.
///
/// # Panics
///
/// On the first broken rule.
pub async fn check_revoked_sessions_refused_everywhere(
    store: Arc<dyn FleetStore>,
    replica: Arc<dyn FleetStore>,
    cut_replica: impl FnOnce(),
    restart: impl AsyncFnOnce(),
) {
    let sim = Sim::builder().users(10).sessions(40).start().await.unwrap();
    let instance = |store: Arc<dyn FleetStore>, id: &str| {
        let keys = KeySource::pem(sim.public_key_pem()).unwrap();
        let config = VerifierConfig::default().issuers([sim.issuer()]);
        let mut config_of_fleet = quick_config(id);
        config_of_fleet.denylist_max_staleness = Duration::from_millis(800);
        AuthPolicy::new(Verifier::new(keys, config), BypassSwitch::new())
            .join_fleet(store, config_of_fleet)
            .unwrap()
    };
    let writer = instance(Arc::clone(&store), "web-a");
    let other = instance(replica, "web-b");
    within(
        "grace",
        store.set_desired(grace_for(Duration::from_secs(600), "INC-9")),
    )
    .await
    .unwrap();
    until("grace everywhere", || {
        writer.switch().mode().is_bypass() && other.switch().mode().is_bypass()
    })
    .await;

    // Two live sessions of one user, created at different times: the plan revokes the older.
    let mut live: Vec<_> = sim
        .sessions()
        .into_iter()
        .filter(|session| session.status.is_signed_in())
        .collect();
    live.sort_by_key(|session| session.created_at);
    let victim = live[0].clone();
    let bystander = live
        .iter()
        .find(|session| session.user_id == victim.user_id && session.created_at > victim.created_at)
        .expect("a younger session of the same user")
        .clone();
    let expired = |request: TokenRequest| {
        sim.mint_token(&request.issued_at(SystemTime::now() - Duration::from_secs(300)))
            .unwrap()
    };
    let victim_token = expired(TokenRequest::for_session(victim.id.clone()));
    let bystander_token = expired(TokenRequest::for_session(bystander.id.clone()));
    assert!(
        allowed(&decide(&other, Some(&victim_token)).await),
        "before the revocation, Grace accepts the expired token"
    );

    let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
        .base_url(sim.base_url())
        .without_rate_limit()
        .build()
        .unwrap();
    let plan = RevocationPlan::new(RevocationTarget::Users(vec![victim.user_id.clone()]))
        .sessions_created_before(victim.created_at + 1);
    let report = within(
        "revocation",
        SessionRevoker::new(api, plan)
            .deny_with(Arc::new(FleetDenier::new(Arc::clone(&store))))
            .run(None, |_| {}),
    )
    .await
    .unwrap();
    assert!(
        report.revoked >= 1 && report.sessions_kept >= 1,
        "{report:?}"
    );
    assert_eq!(report.sessions_not_denied, 0);

    let revoked_at = Instant::now();
    tokio::time::timeout(Duration::from_secs(1), async {
        while !refused_as_revoked(&decide(&other, Some(&victim_token)).await) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the other instance refuses the revoked session within a second");
    let took = revoked_at.elapsed();
    until("the writer's copy", || {
        writer.denylist().is_denied(&victim.id)
    })
    .await;
    assert!(
        allowed(&decide(&other, Some(&bystander_token)).await),
        "a session not revoked still passes Grace ({took:?})"
    );
    let health = other.health().denylist;
    assert!(health.size >= 1 && health.last_sync.is_some(), "{health:?}");
    assert!(health.refused >= 1);

    // Open: the revoked session's identity never reaches a handler.
    within("open", store.set_desired(mode_request(AuthMode::Open)))
        .await
        .unwrap();
    until("open everywhere", || {
        other.switch().mode() == AuthMode::Open
    })
    .await;
    assert!(refused_as_revoked(
        &decide(&other, Some(&victim_token)).await
    ));
    assert!(
        allowed(&decide(&other, None).await),
        "Open lets the rest through"
    );

    // The replica's store is gone: its copy still refuses, and once it has not read the
    // fleet's list for its staleness bound, it accepts only fully valid tokens (a revocation
    // it cannot see could be among the expired ones).
    let bystander_valid = sim
        .mint_token(
            &TokenRequest::for_session(bystander.id.clone()).lifetime(Duration::from_secs(300)),
        )
        .unwrap();
    cut_replica();
    assert!(!allowed(&decide(&other, Some(&victim_token)).await));
    until("the replica's denylist is out of date", || {
        !other.denylist().is_current()
    })
    .await;
    // Open still lets requests through, but not as the expired token's user.
    assert!(
        matches!(
            decide(&other, Some(&bystander_token)).await,
            Decision::Allow(context) if context.session.is_none()
        ),
        "no expired token keeps its identity on a copy that may be behind"
    );
    assert!(allowed(&decide(&other, Some(&bystander_valid)).await));
    assert!(!other.health().denylist.current);

    // The store restarted empty: the copies keep what they hold, read the fleet again, and
    // a denial written after the restart reaches them (the cursor carries over).
    restart().await;
    until("the replica reads the fleet again", || {
        other.denylist().is_current()
    })
    .await;
    assert!(writer.denylist().is_denied(&victim.id));
    assert!(other.denylist().is_denied(&victim.id));
    within("a denial after the restart", async {
        loop {
            match FleetDenier::new(Arc::clone(&store))
                .deny(std::slice::from_ref(&bystander.id))
                .await
            {
                Ok(()) => break,
                // The writer's connection may need a moment to come back.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await;
    within("the replica refuses it", async {
        while !refused_as_revoked(&decide(&other, Some(&bystander_valid)).await) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    sim.shutdown().await;
}

/// The API budget's contract on two connections of one store: slots follow each other by
/// the interval across connections (whatever the time between the calls), a pause holds the
/// next slot of every connection until it ends, and an interval or pause above an hour is
/// refused.
///
/// # Panics
///
/// On the first broken rule.
pub async fn check_budget_contract(store: Arc<dyn FleetStore>, other: Arc<dyn FleetStore>) {
    let interval = Duration::from_millis(200);
    let started = Instant::now();
    let first = within("reserve", store.reserve(interval)).await.unwrap();
    let second = within("reserve", other.reserve(interval)).await.unwrap();
    let third = within("reserve", store.reserve(interval)).await.unwrap();
    let between = started.elapsed();
    assert!(first <= interval, "an idle budget sends at once: {first:?}");
    // Each slot one interval after the one before: the wait grows by the interval, less the
    // time that passed between the calls.
    assert!(second + between >= first + interval, "{first:?} {second:?}");
    assert!(third + between >= second + interval, "{second:?} {third:?}");
    assert!(third <= 3 * interval, "{third:?}");

    let paused_at = Instant::now();
    within("pause", other.pause(Duration::from_secs(2)))
        .await
        .unwrap();
    let held = within("reserve", store.reserve(interval)).await.unwrap();
    assert!(
        held + paused_at.elapsed() >= Duration::from_secs(2),
        "a pause holds every connection's next slot: {held:?}"
    );
    assert!(
        within("reserve", store.reserve(Duration::from_secs(7200)))
            .await
            .is_err(),
        "an interval of two hours is refused"
    );
}
