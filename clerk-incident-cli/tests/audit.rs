//! `clerk-incident audit` and `audit snapshot` end to end: the binary against a sim the
//! `compromise` scenario ran on, its exit codes, its JSON, the baseline file and the
//! incident log.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

use clerk_incident_core::incident::{EntryKind, IncidentLog};
use clerk_incident_core::triage::{Category, Severity};
use clerk_incident_sim::{Faults, Sim, endpoint};
use serde_json::Value;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("audit-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn audit(sim: &Sim, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clerk-incident"));
    command
        .env_remove("RUST_LOG")
        .env("CLERK_API_URL", sim.base_url())
        .env("CLERK_SECRET_KEY", sim.secret_key())
        .arg("audit")
        .args(args);
    command
}

async fn output(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .unwrap()
}

fn rfc3339(unix_ms: i64) -> String {
    let at =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(unix_ms).unwrap());
    humantime::format_rfc3339_millis(at).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_finds_the_attacker_records_it_and_exits_20() {
    let sim = Sim::builder().users(40).sessions(60).start().await.unwrap();
    let dir = temp_dir("found");
    let baseline = dir.join("baseline.json");
    let snapshot = output(audit(
        &sim,
        &["snapshot", "--out", baseline.to_str().unwrap()],
    ))
    .await;
    assert!(
        snapshot.status.success(),
        "{}",
        String::from_utf8_lossy(&snapshot.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&baseline).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the baseline names every user");
    }
    let kept = std::fs::read_to_string(&baseline).unwrap();
    sim.set_faults(Faults {
        failing_endpoints: vec![endpoint::LIST_JWT_TEMPLATES.to_owned()],
        ..Faults::default()
    });
    let failed = output(audit(
        &sim,
        &["snapshot", "--out", baseline.to_str().unwrap(), "--force"],
    ))
    .await;
    assert_eq!(failed.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&baseline).unwrap(),
        kept,
        "a failed snapshot keeps the last good baseline"
    );
    assert!(!dir.join("baseline.json.partial").exists());
    sim.set_faults(Faults::default());
    let again = output(audit(
        &sim,
        &["snapshot", "--out", baseline.to_str().unwrap()],
    ))
    .await;
    assert_eq!(
        again.status.code(),
        Some(2),
        "an existing baseline is not overwritten"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));

    let log_path = dir.join("incident.jsonl");
    IncidentLog::create(
        &log_path,
        "secret key on GitHub",
        Severity::Critical,
        Category::KeyCompromise,
    )
    .unwrap();
    let compromise = sim.compromise(None).await.unwrap();
    let since = rfc3339(compromise.leaked_at);
    let args = [
        "--since",
        &since,
        "--baseline",
        baseline.to_str().unwrap(),
        "--incident",
        log_path.to_str().unwrap(),
        "--json",
    ];
    let done = output(audit(&sim, &args)).await;
    assert_eq!(
        done.status.code(),
        Some(20),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let json: Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(json["status"], "findings");
    let found: BTreeSet<(String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = compromise
        .attacker
        .iter()
        .map(|a| (a.kind.clone(), a.id.clone()))
        .collect();
    assert_eq!(found, expected);
    assert!(!String::from_utf8_lossy(&done.stdout).contains(sim.secret_key()));

    let timeline = IncidentLog::open(&log_path).unwrap().read().unwrap();
    let audits: Vec<&EntryKind> = timeline
        .entries
        .iter()
        .map(|e| &e.kind)
        .filter(|k| matches!(k, EntryKind::Audit { .. }))
        .collect();
    assert_eq!(audits.len(), 1);
    let EntryKind::Audit {
        findings, complete, ..
    } = audits[0]
    else {
        unreachable!()
    };
    assert!(complete);
    assert_eq!(findings.len(), compromise.attacker.len());

    let mut report = Command::new(env!("CARGO_BIN_EXE_clerk-incident"));
    report.args(["report", "--incident", log_path.to_str().unwrap()]);
    let review = output(report).await;
    let review = String::from_utf8_lossy(&review.stdout);
    assert!(
        review.contains("## What the leaked key changed"),
        "{review}"
    );
    assert!(review.contains("session.impersonated"), "{review}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn text_output_says_how_to_undo_and_what_it_cannot_see() {
    let sim = Sim::builder().users(20).sessions(20).start().await.unwrap();
    let compromise = sim.compromise(None).await.unwrap();
    let since = rfc3339(compromise.leaked_at);
    let done = output(audit(&sim, &["--since", &since])).await;
    assert_eq!(done.status.code(), Some(20));
    let text = String::from_utf8_lossy(&done.stdout);
    assert!(text.contains("(no baseline)"), "{text}");
    assert!(text.contains("undo: curl -X POST"), "{text}");
    assert!(text.contains("What no list shows:"), "{text}");
    assert!(text.contains("Without a baseline"), "{text}");
    assert!(
        text.contains("clerk-incident sessions revoke --all"),
        "{text}"
    );

    let later = rfc3339(compromise.attacker.last().unwrap().at + 1);
    let clean = output(audit(&sim, &["--since", &later])).await;
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    assert!(String::from_utf8_lossy(&clean.stdout).contains("Nothing the Backend API lists"));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_list_that_fails_makes_the_audit_incomplete_exit_21() {
    let sim = Sim::builder().users(20).sessions(20).start().await.unwrap();
    let compromise = sim.compromise(None).await.unwrap();
    sim.set_faults(Faults {
        failing_endpoints: vec![endpoint::LIST_SAML_CONNECTIONS.to_owned()],
        ..Faults::default()
    });
    let since = rfc3339(compromise.leaked_at);
    let done = output(audit(&sim, &["--since", &since, "--json"])).await;
    assert_eq!(
        done.status.code(),
        Some(21),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let json: Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(json["status"], "incomplete");
    assert_eq!(json["not_checked"][0]["check"], "SAML connections");
    let text = output(audit(&sim, &["--since", &since])).await;
    assert!(String::from_utf8_lossy(&text.stdout).contains("NOT CHECKED"));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_arguments_are_refused_before_any_request() {
    let sim = Sim::builder().users(5).start().await.unwrap();
    let dir = temp_dir("misuse");
    let other = dir.join("other.json");
    std::fs::write(&other, "{\"format\":\"something else\"}").unwrap();
    sim.reset_counters();
    for (args, hint) in [
        (
            vec!["--since", "1h", "--until", "2h"],
            "is not after --since",
        ),
        (
            vec!["--since", "1h", "--baseline", other.to_str().unwrap()],
            "not an audit baseline",
        ),
        (vec!["--since", "2099-01-01T00:00:00Z"], "in the future"),
        (vec![], "--since"),
    ] {
        let done = output(audit(&sim, &args)).await;
        assert_eq!(done.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&done.stderr).contains(hint),
            "{args:?}: {}",
            String::from_utf8_lossy(&done.stderr)
        );
    }
    let mut no_key = audit(&sim, &["--since", "1h"]);
    no_key.env_remove("CLERK_SECRET_KEY");
    let done = output(no_key).await;
    assert_eq!(done.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&done.stderr).contains("CLERK_SECRET_KEY is not set"));
    assert_eq!(
        sim.counters().requests.values().sum::<u64>(),
        0,
        "nothing was sent"
    );

    let other_sim = Sim::builder().seed(9).users(5).start().await.unwrap();
    let theirs = dir.join("theirs.json");
    let snapshot = output(audit(
        &other_sim,
        &["snapshot", "--out", theirs.to_str().unwrap()],
    ))
    .await;
    assert!(snapshot.status.success());
    let done = output(audit(
        &sim,
        &["--since", "1h", "--baseline", theirs.to_str().unwrap()],
    ))
    .await;
    assert_eq!(done.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&done.stderr).contains("the baseline is of instance"));
    other_sim.shutdown().await;
    sim.shutdown().await;
}
