//! Runbook step 3 against the sim: the new key fits, the old key is dead.

// Test helpers outside #[test] fns may fail loudly too.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use clerk_incident_core::api::{ClerkApi, SecretKey};
use clerk_incident_core::rotation::{
    self, OldKeyStatus, RotationError, checklist, rotation_retry_policy,
};
use clerk_incident_sim::Sim;

const NEW_TEST_KEY: &str = "sk_test_rotationnewkey000000000000000000";
const LIVE_KEY: &str = "sk_live_rotationoldkey000000000000000000";
const NEW_LIVE_KEY: &str = "sk_live_rotationnewkey000000000000000000";

fn client(base_url: &str, key: &str) -> ClerkApi {
    ClerkApi::builder(SecretKey::new(key))
        .base_url(base_url)
        .retry(rotation_retry_policy())
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

fn assert_no_key(text: &str, keys: &[&str]) {
    for key in keys {
        assert!(!text.contains(key), "{text:?} contains a key");
    }
}

#[tokio::test]
async fn a_second_key_of_the_same_instance_passes() {
    let sim = Sim::builder().start().await.unwrap();
    sim.add_secret_key(NEW_TEST_KEY);
    let old = client(sim.base_url(), sim.secret_key());
    let new = client(sim.base_url(), NEW_TEST_KEY);

    let check = rotation::verify_new(&old, &new).await.unwrap();
    assert_eq!(check.instance_id, sim.instance_id());
    assert_eq!(check.environment_type.as_str(), "development");
    assert_eq!(check.new_key_kind, "test");
    let json = serde_json::to_string(&check).unwrap();
    assert!(json.contains(sim.instance_id()));
    assert_no_key(&json, &[NEW_TEST_KEY, sim.secret_key()]);
}

#[tokio::test]
async fn a_production_rotation_passes() {
    let sim = Sim::builder().secret_key(LIVE_KEY).start().await.unwrap();
    sim.add_secret_key(NEW_LIVE_KEY);
    let check = rotation::verify_new(
        &client(sim.base_url(), LIVE_KEY),
        &client(sim.base_url(), NEW_LIVE_KEY),
    )
    .await
    .unwrap();
    assert_eq!(check.environment_type.as_str(), "production");
}

#[tokio::test]
async fn a_key_of_another_instance_fails_naming_both_instances() {
    let ours = Sim::builder().seed(1).start().await.unwrap();
    let theirs = Sim::builder()
        .seed(2)
        .secret_key(NEW_TEST_KEY)
        .start()
        .await
        .unwrap();
    assert_ne!(ours.instance_id(), theirs.instance_id());
    let old = client(ours.base_url(), ours.secret_key());
    let new = client(theirs.base_url(), NEW_TEST_KEY);

    let err = rotation::verify_new(&old, &new).await.unwrap_err();
    assert!(
        matches!(err, RotationError::InstanceMismatch { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains(ours.instance_id()), "{message}");
    assert!(message.contains(theirs.instance_id()), "{message}");
    assert!(message.contains("development"), "{message}");
    assert_no_key(&message, &[NEW_TEST_KEY, ours.secret_key()]);
    assert_no_key(&format!("{err:?}"), &[NEW_TEST_KEY, ours.secret_key()]);
}

#[tokio::test]
async fn a_development_key_for_a_production_instance_is_caught() {
    let sim = Sim::builder().secret_key(LIVE_KEY).start().await.unwrap();
    sim.add_secret_key(NEW_TEST_KEY);
    let old = client(sim.base_url(), LIVE_KEY);
    let new = client(sim.base_url(), NEW_TEST_KEY);

    let err = rotation::verify_new(&old, &new).await.unwrap_err();
    assert!(
        matches!(err, RotationError::KeyKindMismatch { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("production"), "{message}");
    assert!(message.contains(sim.instance_id()), "{message}");
    assert_no_key(&message, &[NEW_TEST_KEY, LIVE_KEY]);
}

#[tokio::test]
async fn an_unknown_new_key_is_rejected() {
    let sim = Sim::builder().start().await.unwrap();
    let old = client(sim.base_url(), sim.secret_key());
    let new = client(sim.base_url(), NEW_TEST_KEY);
    let err = rotation::verify_new(&old, &new).await.unwrap_err();
    assert!(matches!(err, RotationError::NewKeyRejected(_)), "{err:?}");
    assert!(err.to_string().contains("401"));
    assert_no_key(&err.to_string(), &[NEW_TEST_KEY]);
}

#[tokio::test]
async fn the_old_key_is_still_valid_until_revoked() {
    let sim = Sim::builder().start().await.unwrap();
    let old = client(sim.base_url(), sim.secret_key());

    let before = rotation::verify_old_revoked(&old).await.unwrap();
    assert_eq!(before.status, OldKeyStatus::StillValid);
    assert_eq!(before.http_status, Some(200));
    assert_eq!(before.instance_id.as_deref(), Some(sim.instance_id()));
    assert!(!before.passed());

    sim.revoke_secret_key(sim.secret_key());
    let after = rotation::verify_old_revoked(&old).await.unwrap();
    assert_eq!(after.status, OldKeyStatus::Rejected);
    assert_eq!(after.http_status, Some(401));
    assert!(after.passed());
    let json = serde_json::to_value(&after).unwrap();
    assert_eq!(json["status"], "rejected");
}

#[tokio::test]
async fn an_unreachable_clerk_is_unknown() {
    // A port that was free a moment ago: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let old = client(&format!("http://{addr}"), LIVE_KEY);

    let check = rotation::verify_old_revoked(&old).await.unwrap();
    assert_eq!(check.status, OldKeyStatus::Unknown);
    assert_eq!(check.http_status, None);
    assert!(!check.passed());
    assert_no_key(&check.detail, &[LIVE_KEY]);
}

#[tokio::test]
async fn an_outage_is_unknown_not_rejected() {
    let sim = Sim::builder().start().await.unwrap();
    let mut faults = sim.faults();
    faults.outage = Some(clerk_incident_sim::Outage::Unavailable);
    sim.set_faults(faults);
    let old = client(sim.base_url(), sim.secret_key());
    let check = rotation::verify_old_revoked(&old).await.unwrap();
    assert_eq!(check.status, OldKeyStatus::Unknown);
    assert_eq!(check.http_status, Some(503));
}

#[test]
fn the_checklist_is_the_runbook_order() {
    let steps = checklist();
    let position = |id: &str| steps.iter().position(|s| s.id == id).unwrap();
    assert!(position("create_key") < position("verify_new"));
    assert!(position("verify_new") < position("deploy"));
    assert!(position("app_healthy") < position("delete_old_key"));
    assert!(position("delete_old_key") < position("verify_old_revoked"));
    assert!(position("verify_old_revoked") < position("revoke_sessions"));
    assert!(
        steps
            .iter()
            .any(|s| s.check.contains("keys verify-old-revoked"))
    );
}
