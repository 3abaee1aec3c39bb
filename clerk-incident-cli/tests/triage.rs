//! `clerk-incident triage` end to end: the sim and the axum example service on 127.0.0.1,
//! the text and JSON reports, the exit codes, and the incident log entry.

// Test helpers outside #[test] fns may fail loudly too.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::SocketAddr;
use std::process::{Command, Output};

use clerk_incident_core::auth::{AuthPolicy, BypassSwitch, KeySource, Verifier, VerifierConfig};
use clerk_incident_core::incident::{EntryKind, IncidentLog};
use clerk_incident_core::triage::{Category, Severity};
use clerk_incident_sim::{Faults, Outage, Sim, StatusPage};
use serde_json::Value;

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clerk-incident"));
    command
        .env_remove("CLERK_API_URL")
        .env_remove("CLERK_STATUS_URL")
        .env_remove("CLERK_SECRET_KEY")
        .env_remove("CLERK_JWKS_URL")
        .env_remove("RUST_LOG");
    command
}

/// `triage` pointed at the sim, with its key, JWKS and expected kid, 3 s per probe.
fn triage(sim: &Sim) -> Command {
    let mut command = binary();
    command
        .args(["triage", "--timeout", "3s", "--expected-kid"])
        .arg(sim.signing_kid())
        .env("CLERK_API_URL", sim.base_url())
        .env("CLERK_STATUS_URL", sim.base_url())
        .env("CLERK_JWKS_URL", sim.jwks_url())
        .env("CLERK_SECRET_KEY", sim.secret_key());
    command
}

/// Runs the binary off the async runtime's threads.
async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("the blocking task completes")
}

async fn run_json(mut command: Command) -> (Option<i32>, Value) {
    command.arg("--json");
    let output = run(command).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|err| {
        panic!(
            "--json prints one JSON document ({err}):\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code(), report)
}

/// An app's health endpoint over the sim's key, served on 127.0.0.1 until the test ends.
async fn serve_app(sim: &Sim) -> SocketAddr {
    let verifier = Verifier::new(
        KeySource::pem(sim.public_key_pem()).unwrap(),
        VerifierConfig::default().issuers([sim.issuer()]),
    );
    let app: axum::Router =
        clerk_incident_axum::health_router(AuthPolicy::new(verifier, BypassSwitch::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

#[tokio::test]
async fn a_healthy_setup_exits_0_with_a_readable_report() {
    let sim = Sim::builder().start().await.unwrap();
    let app = serve_app(&sim).await;
    let mut command = triage(&sim);
    command.args(["--app-url", &format!("http://{app}")]);
    let output = run(command).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("Healthy — severity none"), "{stdout}");
    for probe in ["status page", "Backend API", "JWKS", "app health"] {
        assert!(
            lines
                .iter()
                .any(|l| l.trim_start().starts_with(probe) && l.contains(" ok ")),
            "{probe} is not ok:\n{stdout}"
        );
    }
    assert!(!stdout.contains(sim.secret_key()));
    assert!(!String::from_utf8_lossy(&output.stderr).contains(sim.secret_key()));
}

#[tokio::test]
async fn a_clerk_outage_exits_13_and_the_json_says_why() {
    let sim = Sim::builder()
        .status_page(StatusPage::major_outage())
        .start()
        .await
        .unwrap();
    sim.set_faults(Faults {
        outage: Some(Outage::Unavailable),
        ..Faults::default()
    });
    let (code, report) = run_json(triage(&sim)).await;
    assert_eq!(code, Some(13), "{report:#}");
    assert_eq!(report["category"], "clerk_outage");
    assert_eq!(report["severity"], "critical");
    assert_eq!(report["exit_code"], 13);
    assert_eq!(report["probes"][1]["outcome"]["status"], 503);
    assert!(
        report["next_commands"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("CLERK_EMERGENCY_BYPASS=grace"))
    );
}

#[tokio::test]
async fn a_revoked_key_exits_12_or_13_with_the_compromise_symptom() {
    let sim = Sim::builder().start().await.unwrap();
    sim.revoke_secret_key(sim.secret_key());

    let (code, report) = run_json(triage(&sim)).await;
    assert_eq!(code, Some(12), "{report:#}");
    assert_eq!(report["category"], "configuration_error");

    let mut command = triage(&sim);
    command.args(["--symptom", "unauthorized-access"]);
    let (code, report) = run_json(command).await;
    assert_eq!(code, Some(13), "{report:#}");
    assert_eq!(report["category"], "key_compromise");
    assert_eq!(report["symptoms"][0], "unauthorized-access");
}

#[tokio::test]
async fn an_app_nobody_serves_is_a_middleware_failure_with_its_url_in_the_next_steps() {
    let sim = Sim::builder().start().await.unwrap();
    let app_url = closed_port();
    let mut command = triage(&sim);
    command.args(["--app-url", &app_url]);
    let (code, report) = run_json(command).await;
    assert_eq!(code, Some(12), "{report:#}");
    assert_eq!(report["category"], "middleware_failure");
    assert_eq!(report["probes"][3]["status"], "failed");
    let next: Vec<&str> = report["next_commands"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        next.iter()
            .any(|c| c.contains(&format!("{app_url}/api/clerk-health"))),
        "{next:?}"
    );
    assert!(next.iter().all(|c| !c.contains("<app-url>")), "{next:?}");
}

#[tokio::test]
async fn without_a_secret_key_the_verdict_is_unknown_unless_the_probes_are_skipped() {
    let sim = Sim::builder().start().await.unwrap();
    let mut command = binary();
    command.args(["triage", "--status-url", sim.base_url()]);
    let output = run(command).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(14), "{stdout}");
    assert!(
        stdout.starts_with("Unknown — severity medium (rule not_checked)"),
        "{stdout}"
    );
    for needle in [
        "Backend API  NOT CHECKED",
        "export CLERK_SECRET_KEY=",
        "--skip api",
        "app health   NOT CHECKED",
        "--app-url",
    ] {
        assert!(stdout.contains(needle), "{needle} missing from:\n{stdout}");
    }
    assert!(!stdout.contains("Healthy"), "{stdout}");

    // Left out on purpose, the status page alone can give the all-clear.
    let mut command = binary();
    command.args([
        "triage",
        "--status-url",
        sim.base_url(),
        "--skip",
        "api,jwks",
        "--skip",
        "app",
    ]);
    let output = run(command).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("skipped (left out with --skip api)"),
        "{stdout}"
    );
}

/// The inputs a new user got wrong, each once: every one is a truthful, non-zero verdict that
/// names what was not checked and why.
#[tokio::test]
async fn each_missing_or_invalid_input_is_named_and_never_healthy() {
    let sim = Sim::builder().start().await.unwrap();
    let app = serve_app(&sim).await;
    let app_url = format!("http://{app}");
    let cases: [(&str, Vec<&str>, bool, &str); 4] = [
        (
            "an app URL without a scheme",
            vec!["--app-url", "127.0.0.1:3917"],
            true,
            "has no scheme: did you mean http://127.0.0.1:3917",
        ),
        (
            "a Backend API URL that is not a URL",
            vec!["--app-url", &app_url, "--api-url", "notaurl"],
            true,
            "\"notaurl\" has no scheme",
        ),
        (
            "an ftp JWKS URL",
            vec!["--app-url", &app_url, "--jwks-url", "ftp://x"],
            true,
            "\"ftp://x\" is not http or https",
        ),
        (
            "no CLERK_SECRET_KEY",
            vec!["--app-url", &app_url],
            false,
            "no secret key (CLERK_SECRET_KEY is not set)",
        ),
    ];
    for (case, args, with_key, named) in cases {
        let mut command = triage(&sim);
        if !with_key {
            command.env_remove("CLERK_SECRET_KEY");
        }
        command.args(&args);
        let output = run(command).await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(14), "{case}:\n{stdout}");
        assert!(stdout.contains("NOT CHECKED"), "{case}:\n{stdout}");
        assert!(
            stdout.contains(named),
            "{case}: {named:?} missing from:\n{stdout}"
        );
        assert!(!stdout.contains("Healthy"), "{case}:\n{stdout}");
    }
}

#[tokio::test]
async fn contradicting_skips_are_usage_errors() {
    for args in [
        vec!["--skip", "app", "--app-url", "http://127.0.0.1:1"],
        vec!["--skip", "jwks", "--expected-kid", "ins_1"],
        vec!["--skip", "status-page,api,jwks,app"],
    ] {
        let mut command = binary();
        command.arg("triage").args(&args);
        let output = run(command).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("--skip"),
            "{args:?}"
        );
    }
}

#[tokio::test]
async fn nothing_answering_exits_14() {
    let mut command = binary();
    command.args(["triage", "--timeout", "2s", "--status-url", &closed_port()]);
    let (code, report) = run_json(command).await;
    assert_eq!(code, Some(14), "{report:#}");
    assert_eq!(report["category"], "unknown");
    assert_eq!(report["rule"], "no_answer");
}

#[tokio::test]
async fn the_result_is_appended_to_the_incident_log() {
    let sim = Sim::builder()
        .status_page(StatusPage::degraded())
        .start()
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!(
        "clerk-incident-triage-{}-{}",
        std::process::id(),
        sim.addr().port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("incident.jsonl");
    let _ = std::fs::remove_file(&path);
    IncidentLog::create(&path, "Sign-in slow", Severity::High, Category::Unknown).unwrap();

    let mut command = triage(&sim);
    command.arg("--incident").arg(&path);
    let output = run(command).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(12), "{stdout}");
    assert!(stdout.contains("Recorded in"), "{stdout}");

    let timeline = IncidentLog::open(&path).unwrap().read().unwrap();
    let triage_entry = timeline
        .entries
        .iter()
        .find_map(|entry| match &entry.kind {
            EntryKind::Triage {
                category,
                severity,
                summary,
                evidence,
            } => Some((*category, *severity, summary.clone(), evidence.clone())),
            _ => None,
        })
        .expect("a triage entry");
    assert_eq!(triage_entry.0, Category::ClerkOutage);
    assert_eq!(triage_entry.1, Severity::High);
    assert!(triage_entry.2.contains("degraded"), "{}", triage_entry.2);
    assert!(triage_entry.3.iter().any(|e| e.starts_with("status page:")));
    let log = std::fs::read_to_string(&path).unwrap();
    assert!(!log.contains(sim.secret_key()));

    // A log that does not exist: the report still prints, the exit says the record failed.
    let mut command = triage(&sim);
    command.arg("--incident").arg(dir.join("missing.jsonl"));
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("Clerk outage"));
    assert!(!String::from_utf8_lossy(&output.stderr).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn help_documents_the_exit_codes_and_symptoms() {
    let mut command = binary();
    command.args(["triage", "--help"]);
    let output = run(command).await;
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "13 triage: severity critical",
        "14 triage: the evidence does not decide",
        "unauthorized-access",
        "random-logouts",
        "users-missing",
        "CLERK_JWKS_URL",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
    assert!(!help.contains("--secret-key"));

    let mut command = binary();
    command.args(["triage", "--timeout", "0s"]);
    assert_eq!(run(command).await.status.code(), Some(2));
}
