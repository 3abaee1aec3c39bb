//! The contract every [`FleetStore`] keeps, and the fleet semantics a [`FleetMember`] shows on
//! top of one: run on the in-memory store by this crate's tests and on Redis by
//! `clerk-incident-redis`'s.
//!
//! Test support: a broken rule panics, as a failed assertion does.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clerk_incident_core::auth::{AuthMode, BypassSwitch, ChangeCause, DEFAULT_GRACE_MAX_AGE};
use clerk_incident_core::fleet::{
    FleetConfig, FleetMember, FleetStore, Heartbeat, ModeRequest, wait_for_acknowledgements,
};
use futures::StreamExt;

/// How long any one step of these checks may take before it counts as a failure: far above
/// what a store on this machine needs, so that only a real fault trips it.
pub const STEP: Duration = Duration::from_secs(10);

/// Heartbeat and poll periods short enough for tests.
pub fn quick_config(id: &str) -> FleetConfig {
    FleetConfig::default()
        .with_instance_id(id)
        .with_periods(Duration::from_millis(100), Duration::from_millis(200))
}

/// A grace request for `ttl` from now.
///
/// # Panics
///
/// When the request is refused (a ttl above 24 hours).
pub fn grace_for(ttl: Duration, reason: &str) -> ModeRequest {
    ModeRequest::new(
        AuthMode::Grace {
            max_token_age: DEFAULT_GRACE_MAX_AGE,
        },
        Some(SystemTime::now() + ttl),
        reason,
        "conformance@test",
    )
    .expect("a valid request")
}

/// The Enforce request.
///
/// # Panics
///
/// Never: Enforce is always accepted.
pub fn enforce(reason: &str) -> ModeRequest {
    ModeRequest::new(AuthMode::Enforce, None, reason, "conformance@test").expect("enforce")
}

fn beat(id: &str, applied_version: u64) -> Heartbeat {
    let json = serde_json::json!({
        "id": id, "host": "test-host", "version": "0", "mode": "enforce",
        "mode_until_ms": null, "applied_version": applied_version, "key_count": 1,
        "key_age_secs": 3, "store_contact_ms": null,
        "at_ms": 1_800_000_000_000_u64,
    });
    serde_json::from_value(json).expect("a heartbeat")
}

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(STEP, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {STEP:?}"))
}

/// The store contract, on an empty store (`store`) and a second connection to it (`other`):
/// an empty store reads `None`; writes get increasing versions and record the previous mode;
/// the last write wins; subscribers on another connection are pushed each write (or a later
/// one, never an older one); the history keeps
/// who, why and the previous mode, oldest first; heartbeats are listed until their TTL passes.
///
/// # Panics
///
/// On the first broken rule, saying which.
pub async fn check_store_contract(store: Arc<dyn FleetStore>, other: Arc<dyn FleetStore>) {
    assert_eq!(within("read", store.desired()).await.unwrap(), None);
    assert!(
        within("history", store.history(10))
            .await
            .unwrap()
            .is_empty()
    );

    let mut pushes = within("subscribe", other.subscribe()).await.unwrap();
    let first = within(
        "write",
        store.set_desired(grace_for(Duration::from_secs(600), "INC-1")),
    )
    .await
    .unwrap();
    assert_eq!(first.version, 1);
    assert_eq!(first.previous, AuthMode::Enforce);
    assert_eq!(first.reason, "INC-1");
    assert_eq!(first.set_by, "conformance@test");
    let pushed = within("push", pushes.next()).await.expect("a push");
    assert_eq!(pushed, first, "the push carries the record as written");
    assert_eq!(
        within("read", other.desired()).await.unwrap(),
        Some(first.clone())
    );

    // Concurrent writers: each gets its own version; the last one wins.
    let (a, b) = tokio::join!(
        store.set_desired(enforce("Clerk is back")),
        other.set_desired(grace_for(Duration::from_secs(60), "INC-2")),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut versions = [a.version, b.version];
    versions.sort_unstable();
    assert_eq!(versions, [2, 3], "each write its own version");
    let last = if a.version > b.version { &a } else { &b };
    assert_eq!(
        within("read", store.desired()).await.unwrap().as_ref(),
        Some(last)
    );
    // A push may carry the record in force when it is delivered (Redis reads it again, so
    // that nobody can push a forged one): in order, ending with the last write.
    let second = within("push", pushes.next()).await.expect("a push");
    assert!(second.version >= 2, "{second:?}");
    if second.version == 2 {
        let third = within("push", pushes.next()).await.expect("a push");
        assert_eq!(third.version, 3, "pushed in order");
    }

    let history = within("history", other.history(10)).await.unwrap();
    assert_eq!(
        history.iter().map(|d| d.version).collect::<Vec<_>>(),
        [1, 2, 3],
        "oldest first"
    );
    assert_eq!(
        history[1].previous, first.mode,
        "the previous mode is recorded"
    );
    assert_eq!(
        within("history", store.history(1)).await.unwrap(),
        [history[2].clone()]
    );

    // Heartbeats: listed until their TTL passes.
    within(
        "beat",
        store.heartbeat(&beat("web-1", 3), Duration::from_secs(60)),
    )
    .await
    .unwrap();
    within(
        "beat",
        other.heartbeat(&beat("web-2", 2), Duration::from_secs(3)),
    )
    .await
    .unwrap();
    let listed = within("instances", store.instances()).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|beat| beat.id.as_str()).collect();
    assert_eq!(ids, ["web-1", "web-2"]);
    assert_eq!(
        listed[0],
        beat("web-1", 3),
        "a heartbeat reads back as written"
    );
    within("expiry", async {
        while store.instances().await.unwrap().len() > 1 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(!store.describe().is_empty());
}

/// Three members on connections of one store (`connect`), written to through `store`: a
/// write reaches all three and each acknowledges it; the switch follows with the absolute
/// end; Enforce brings them all back.
///
/// # Panics
///
/// On the first broken rule.
pub async fn check_switching(
    store: Arc<dyn FleetStore>,
    connect: impl Fn() -> Arc<dyn FleetStore>,
) {
    let switches: Vec<BypassSwitch> = (0..3).map(|_| BypassSwitch::new()).collect();
    let _members: Vec<FleetMember> = switches
        .iter()
        .enumerate()
        .map(|(i, switch)| {
            FleetMember::join(
                connect(),
                switch.clone(),
                None,
                quick_config(&format!("web-{i}")),
            )
            .unwrap()
        })
        .collect();
    within("join", async {
        while store.instances().await.unwrap().len() < 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;

    let written = store
        .set_desired(grace_for(Duration::from_secs(600), "INC-7"))
        .await
        .unwrap();
    let acks = wait_for_acknowledgements(store.as_ref(), &written, &[], STEP)
        .await
        .unwrap();
    assert!(acks.complete(), "{acks:?}");
    assert_eq!(acks.acknowledged.len(), 3);
    for switch in &switches {
        let state = switch.current();
        assert_eq!(state.mode, written.mode);
        assert_eq!(
            state.expires_at, written.until_ms,
            "the fleet's absolute end"
        );
        assert!(state.reason.contains("INC-7"), "{}", state.reason);
    }

    let back = store.set_desired(enforce("Clerk is back")).await.unwrap();
    let acks = wait_for_acknowledgements(store.as_ref(), &back, &[], STEP)
        .await
        .unwrap();
    assert!(acks.complete(), "{acks:?}");
    assert!(switches.iter().all(|s| s.mode() == AuthMode::Enforce));
}

/// A member returns to Enforce at the mode's end by itself, and one whose store is gone
/// (`cut` makes `lost` unreachable) keeps its mode until then too, never longer, and says so
/// in its health.
///
/// # Panics
///
/// On the first broken rule.
pub async fn check_expiry_without_the_store(
    store: Arc<dyn FleetStore>,
    lost: Arc<dyn FleetStore>,
    cut: impl FnOnce(),
) {
    let switch = BypassSwitch::new();
    let member = FleetMember::join(lost, switch.clone(), None, quick_config("cut-off")).unwrap();
    let mut changes = switch.subscribe();
    let written = store
        .set_desired(grace_for(Duration::from_secs(5), "short"))
        .await
        .unwrap();
    let change = within("apply", changes.recv()).await.unwrap();
    assert_eq!(change.cause, ChangeCause::Activated);
    assert_eq!(change.expires_at, written.until_ms);

    cut();
    within("lost", async {
        while member.health().lost_since.is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        switch.mode().is_bypass(),
        "a lost store keeps the mode until its end"
    );
    let expired = within("expiry", changes.recv()).await.unwrap();
    assert_eq!(expired.cause, ChangeCause::Expired);
    assert_eq!(
        expired.at,
        written.until_ms.unwrap(),
        "at the fleet's end, not later"
    );
    assert!(SystemTime::now() >= written.until_ms.unwrap());
    assert_eq!(switch.mode(), AuthMode::Enforce);
    let health = member.health();
    assert!(!health.connected);
    assert!(health.last_error.is_some());
}

/// A member on a store that restarts empty returns to Enforce at its next read, and a later
/// write (its versions starting again at 1) still reaches it. `restart` empties the store.
///
/// # Panics
///
/// On the first broken rule.
pub async fn check_restart_empty(
    store: Arc<dyn FleetStore>,
    member_store: Arc<dyn FleetStore>,
    restart: impl AsyncFnOnce(),
) {
    let switch = BypassSwitch::new();
    let member = FleetMember::join(member_store, switch.clone(), None, quick_config("r")).unwrap();
    let mut changes = switch.subscribe();
    store
        .set_desired(grace_for(Duration::from_secs(600), "one"))
        .await
        .unwrap();
    store
        .set_desired(grace_for(Duration::from_secs(600), "two"))
        .await
        .unwrap();
    within("apply", async {
        while member.health().applied_version < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    restart().await;
    within("resync", async {
        loop {
            let change = changes.recv().await.unwrap();
            if change.cause == ChangeCause::Deactivated {
                break;
            }
        }
    })
    .await;
    assert_eq!(
        switch.mode(),
        AuthMode::Enforce,
        "an empty store means Enforce"
    );
    assert_eq!(member.health().applied_version, 0);

    let again = within("write", async {
        loop {
            // Right after a restart the writer's connection may need a moment to come back.
            match store
                .set_desired(grace_for(Duration::from_secs(600), "after"))
                .await
            {
                Ok(written) => break written,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await;
    assert_eq!(again.version, 1, "the store restarted empty");
    within("apply after restart", async {
        while switch.mode() == AuthMode::Enforce {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}
