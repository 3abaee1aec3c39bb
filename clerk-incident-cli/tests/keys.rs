//! `clerk-incident keys` end to end: the binary, keys in its environment, an in-process sim.

// Test helpers outside #[test] fns may fail loudly too.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::process::{Command, Output};

use clerk_incident_core::incident::{EntryKind, IncidentLog};
use clerk_incident_core::triage::{Category, Severity};
use clerk_incident_sim::Sim;
use serde_json::Value;

const LIVE_KEY: &str = "sk_live_keyscliold00000000000000000000000";
const NEW_LIVE_KEY: &str = "sk_live_keysclinew00000000000000000000000";
const NEW_TEST_KEY: &str = "sk_test_keysclinew00000000000000000000000";

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clerk-incident"));
    command
        .env_remove("CLERK_API_URL")
        .env_remove("CLERK_SECRET_KEY")
        .env_remove("CLERK_NEW_SECRET_KEY")
        .env_remove("CLERK_JWKS_URL")
        .env_remove("CLERK_ISSUER")
        .env_remove("RUST_LOG");
    command
}

/// `keys <action>` against the sim, with the old key set.
fn keys(sim: &Sim, action: &str, old: &str) -> Command {
    let mut command = binary();
    command
        .args(["keys", action])
        .env("CLERK_API_URL", sim.base_url())
        .env("CLERK_SECRET_KEY", old);
    command
}

async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("the blocking task completes")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn assert_no_key(output: &Output, keys: &[&str]) {
    let all = text(output);
    for key in keys {
        assert!(!all.contains(key), "the output shows a key:\n{all}");
    }
}

fn temp_log(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("keys-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("incident.jsonl");
    IncidentLog::create(
        &path,
        "Key leak",
        Severity::Critical,
        Category::KeyCompromise,
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_new_passes_for_a_key_of_the_same_instance() {
    let sim = Sim::builder().secret_key(LIVE_KEY).start().await.unwrap();
    sim.add_secret_key(NEW_LIVE_KEY);
    let log = temp_log("verify-new");

    let mut command = keys(&sim, "verify-new", LIVE_KEY);
    command
        .env("CLERK_NEW_SECRET_KEY", NEW_LIVE_KEY)
        .arg("--incident")
        .arg(&log);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains(sim.instance_id()));
    assert_no_key(&output, &[LIVE_KEY, NEW_LIVE_KEY]);

    let mut command = keys(&sim, "verify-new", LIVE_KEY);
    command
        .env("CLERK_NEW_SECRET_KEY", NEW_LIVE_KEY)
        .arg("--json");
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["passed"], true);
    assert_eq!(document["result"]["instance_id"], sim.instance_id());
    assert_eq!(document["result"]["environment_type"], "production");
    assert_no_key(&output, &[LIVE_KEY, NEW_LIVE_KEY]);

    let timeline = IncidentLog::open(&log).unwrap().read().unwrap();
    let actions: Vec<_> = timeline
        .entries
        .iter()
        .filter_map(|entry| match &entry.kind {
            EntryKind::Action {
                command, outcome, ..
            } => Some((command.clone(), outcome.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0].0, "clerk-incident keys verify-new");
    assert!(actions[0].1.starts_with("passed"), "{actions:?}");
    let raw = std::fs::read_to_string(&log).unwrap();
    assert!(!raw.contains(LIVE_KEY) && !raw.contains(NEW_LIVE_KEY));
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_new_fails_for_a_development_key_on_production() {
    let sim = Sim::builder().secret_key(LIVE_KEY).start().await.unwrap();
    sim.add_secret_key(NEW_TEST_KEY);

    let mut command = keys(&sim, "verify-new", LIVE_KEY);
    command.env("CLERK_NEW_SECRET_KEY", NEW_TEST_KEY);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("production"), "{stderr}");
    assert!(stderr.contains(sim.instance_id()), "{stderr}");
    assert_no_key(&output, &[LIVE_KEY, NEW_TEST_KEY]);
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_new_fails_for_a_key_clerk_rejects() {
    let sim = Sim::builder().secret_key(LIVE_KEY).start().await.unwrap();
    let mut command = keys(&sim, "verify-new", LIVE_KEY);
    command
        .env("CLERK_NEW_SECRET_KEY", NEW_LIVE_KEY)
        .arg("--json");
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["passed"], false);
    assert!(document["error"].as_str().unwrap().contains("401"));
    assert_no_key(&output, &[LIVE_KEY, NEW_LIVE_KEY]);
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_old_revoked_fails_then_passes_after_revocation() {
    let sim = Sim::builder().secret_key(LIVE_KEY).start().await.unwrap();
    let log = temp_log("verify-old");

    let mut command = keys(&sim, "verify-old-revoked", LIVE_KEY);
    command.arg("--incident").arg(&log);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("still accepts"), "{}", text(&output));
    assert_no_key(&output, &[LIVE_KEY]);

    sim.revoke_secret_key(LIVE_KEY);
    let mut command = keys(&sim, "verify-old-revoked", LIVE_KEY);
    command.arg("--incident").arg(&log).arg("--json");
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["result"]["status"], "rejected");
    assert_no_key(&output, &[LIVE_KEY]);

    let outcomes: Vec<String> = IncidentLog::open(&log)
        .unwrap()
        .read()
        .unwrap()
        .entries
        .iter()
        .filter_map(|entry| match &entry.kind {
            EntryKind::Action { outcome, .. } => Some(outcome.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    assert!(
        outcomes[0].starts_with("failed: still valid"),
        "{outcomes:?}"
    );
    assert!(outcomes[1].starts_with("passed"), "{outcomes:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn checklist_prints_the_steps_in_order() {
    let output = run({
        let mut command = binary();
        command.args(["keys", "checklist"]);
        command
    })
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let at = |needle: &str| {
        stdout
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing:\n{stdout}"))
    };
    assert!(at("1. Create a new secret key") < at("2. Check the new key"));
    assert!(at("keys verify-new") < at("3. Deploy"));
    assert!(at("4. Check the app is healthy") < at("5. Delete the old key"));
    assert!(at("5. Delete the old key") < at("6. Prove the old key is dead"));
    assert!(at("7. If the key may have been used") < at("8. Record"));
    assert!(stdout.contains("(optional)"));

    let output = run({
        let mut command = binary();
        command.args(["keys", "checklist", "--json"]);
        command
    })
    .await;
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["steps"].as_array().unwrap().len(), 8);
    assert_eq!(document["steps"][5]["id"], "verify_old_revoked");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_key_variable_is_a_usage_error() {
    let sim = Sim::builder().secret_key(LIVE_KEY).start().await.unwrap();
    let output = run(keys(&sim, "verify-new", LIVE_KEY)).await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("CLERK_NEW_SECRET_KEY"));

    let output = run({
        let mut command = binary();
        command
            .args(["keys", "verify-old-revoked"])
            .env("CLERK_API_URL", sim.base_url());
        command
    })
    .await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("CLERK_SECRET_KEY"));
}

/// `keys snapshot` prepares a service for an outage: the file a service reads from
/// CLERK_JWKS_SNAPSHOT, private, holding the instance's keys and issuer; `--pem` the key for
/// CLERK_JWT_KEY, which verifies the sim's tokens.
#[tokio::test]
async fn a_snapshot_is_what_a_service_needs_before_an_outage() {
    use clerk_incident_core::auth::{
        FileSnapshotStore, KeySnapshotStore, KeySource, Verifier, VerifierConfig,
    };

    let sim = Sim::builder().start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("keys-snapshot-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("jwks.json");
    let mut command = keys(&sim, "snapshot", sim.secret_key());
    command
        .arg("--out")
        .arg(&out)
        .args(["--issuer", &sim.issuer()]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        text(&output).contains("CLERK_JWKS_SNAPSHOT="),
        "{}",
        text(&output)
    );
    assert_no_key(&output, &[sim.secret_key()]);
    let snapshot = FileSnapshotStore::new(&out).load().await.unwrap().unwrap();
    assert_eq!(snapshot.jwks.keys[0].kid, sim.signing_kid());
    assert_eq!(snapshot.issuer.as_deref(), Some(sim.issuer().as_str()));
    assert!(
        snapshot
            .check(
                Some(&sim.issuer()),
                Some(std::time::Duration::from_secs(60))
            )
            .is_ok()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The Frontend API JWKS needs no key.
    let mut command = binary();
    command.args(["keys", "snapshot", "--pem", "--jwks-url", &sim.jwks_url()]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let pem: String = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect();
    let verifier = Verifier::new(KeySource::pem(&pem).unwrap(), VerifierConfig::default());
    let token = sim
        .mint_token(&clerk_incident_sim::TokenRequest::for_user(
            sim.admin_user_id().unwrap(),
        ))
        .unwrap();
    assert!(verifier.verify(&token).await.is_ok());

    // Neither a key nor a URL: a usage error that says what to give.
    let mut command = binary();
    command.args(["keys", "snapshot", "--pem"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("--jwks-url"), "{}", text(&output));
    let _ = std::fs::remove_dir_all(&dir);
}
