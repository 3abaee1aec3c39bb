//! The `clerk-incident` binary end to end: the drill, `status` exit codes, and `sim`.

// Test helpers outside #[test] fns may fail loudly too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use clerk_incident_core::api::{ClerkApi, SecretKey};
use clerk_incident_sim::{Sim, StatusPage};
use serde_json::Value;

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clerk-incident"));
    command
        .env_remove("CLERK_API_URL")
        .env_remove("CLERK_STATUS_URL")
        .env_remove("CLERK_SECRET_KEY")
        .env_remove("RUST_LOG");
    command
}

/// Runs the binary off the async runtime's threads.
async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("the blocking task completes")
}

#[tokio::test]
async fn the_drill_passes_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let review = dir.path().join("review.md");
    let mut command = binary();
    command
        .args(["drill", "--json", "--users", "60", "--sessions", "90"])
        .arg("--report")
        .arg(&review);
    let output = run(command).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "drill failed:\n{stdout}");
    let report: Value = serde_json::from_str(&stdout).expect("--json prints one JSON document");
    assert_eq!(report["passed"], true);
    let steps = report["steps"].as_array().expect("steps");
    assert!(steps.len() >= 6, "three phases of two steps at least");
    assert!(steps.iter().all(|s| s["passed"] == true));
    let phases: Vec<&str> = steps.iter().filter_map(|s| s["phase"].as_str()).collect();
    assert!(phases.contains(&"Phase 2"), "the outage phase ran");
    let step = |name: &str| steps.iter().find(|s| s["step"] == name).cloned();
    let grace = step("expired token, Grace").expect("the Grace step ran");
    assert!(
        grace["observed"]
            .as_str()
            .is_some_and(|o| o.contains("X-Auth-Bypass: grace"))
    );
    assert!(
        step("bypass expiry").is_some(),
        "the Open mode expired by itself"
    );
    let fleet_end = step("the end, without a store").expect("the fleet phase ran");
    assert_eq!(fleet_end["phase"], "Phase 11");
    assert!(step("three instances join").is_some_and(|s| {
        s["observed"]
            .as_str()
            .is_some_and(|o| o.contains("3 live instances on in memory"))
    }));
    // The review's impact is filled from the log: who was signed out, what was dropped and
    // replayed, what the service let through.
    let review = std::fs::read_to_string(&review).unwrap();
    let impact = review
        .split("## Impact")
        .nth(1)
        .and_then(|rest| rest.split("## Action items").next())
        .unwrap_or_default();
    assert!(
        impact.contains("user(s) signed out:") && impact.contains("session(s) revoked"),
        "{impact}"
    );
    assert!(
        impact.contains("webhook deliveries dropped, all replayed"),
        "{impact}"
    );
    assert!(
        impact.contains("let through without a valid session in open mode"),
        "{impact}"
    );
    assert!(!impact.contains("TODO: users affected"), "{impact}");
    assert!(!impact.contains("TODO: data loss"), "{impact}");
}

async fn status_exit_code(status_url: &str) -> (Option<i32>, String) {
    let mut command = binary();
    command.args(["status", "--timeout", "2s", "--status-url", status_url]);
    let output = run(command).await;
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test]
async fn status_exit_codes_follow_the_status_page() {
    let sim = Sim::builder().start().await.unwrap();

    let (code, line) = status_exit_code(sim.base_url()).await;
    assert_eq!(code, Some(0), "{line}");
    assert!(line.starts_with("Clerk status: operational"), "{line}");

    sim.set_status_page(StatusPage::major_outage());
    let (code, line) = status_exit_code(sim.base_url()).await;
    assert_eq!(code, Some(4), "{line}");
    assert!(line.contains("OUTAGE"), "{line}");

    // A port nothing listens on.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    let (code, line) = status_exit_code(&url).await;
    assert_eq!(code, Some(5), "{line}");
}

/// Kills the child process when the test ends, however it ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn sim_prints_exports_that_work() {
    let mut child = binary()
        .args(["sim", "--json", "--users", "12"])
        .args(["--webhook-url", "http://127.0.0.1:9/api/webhooks/clerk"])
        .stdout(Stdio::piped())
        .spawn()
        .map(KillOnDrop)
        .expect("the binary starts");
    let stdout = child.0.stdout.take().expect("piped stdout");
    let first_line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .unwrap()
    .expect("sim prints its exports");
    let exports: Value = serde_json::from_str(&first_line).expect("one JSON line");
    let env = &exports["env"];
    let api_url = env["CLERK_API_URL"].as_str().expect("CLERK_API_URL");
    assert!(
        env["CLERK_WEBHOOK_SIGNING_SECRET"]
            .as_str()
            .is_some_and(|secret| secret.starts_with("whsec_")),
        "{env}"
    );
    // pk_test_ and the base64 of the sim's host and `$`, as Clerk's publishable keys are.
    let publishable = env["CLERK_PUBLISHABLE_KEY"]
        .as_str()
        .expect("CLERK_PUBLISHABLE_KEY");
    let encoded = publishable.strip_prefix("pk_test_").expect("pk_test_");
    let decoded = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded)
        .expect("base64");
    let host = api_url.trim_start_matches("http://");
    assert_eq!(String::from_utf8(decoded).unwrap(), format!("{host}$"));
    // --webhook-url points the sim's deliveries at the endpoint.
    let http = clerk_incident_core::http::ReqwestClient::new().unwrap();
    let request = http::Request::get(format!("{api_url}/_sim/webhooks"))
        .body(bytes::Bytes::new())
        .unwrap();
    let answer = clerk_incident_core::http::HttpClient::send(&http, request)
        .await
        .unwrap();
    let view: Value = serde_json::from_slice(answer.body()).unwrap();
    assert_eq!(
        view["endpoint"], "http://127.0.0.1:9/api/webhooks/clerk",
        "{view}"
    );
    let key = env["CLERK_SECRET_KEY"].as_str().expect("CLERK_SECRET_KEY");
    assert!(env["CLERK_JWKS_URL"].as_str().is_some());

    let api = ClerkApi::builder(SecretKey::new(key))
        .base_url(api_url)
        .build()
        .unwrap();
    let count = api
        .count_users(&clerk_incident_core::api::UserQuery::new())
        .await
        .unwrap();
    assert_eq!(count, 12);

    // `sim token` mints through the running sim's control API.
    let mut token = binary();
    token
        .args(["sim", "token", "--json", "--v2"])
        .env("CLERK_API_URL", api_url);
    let output = run(token).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let minted: Value = serde_json::from_slice(&output.stdout).expect("one JSON line");
    let jwt = minted["token"].as_str().expect("a token");
    assert_eq!(jwt.split('.').count(), 3);
    assert!(
        minted["user_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("user_"))
    );

    // Without a sim URL it refuses clearly instead of calling Clerk.
    let mut lost = binary();
    lost.args(["sim", "token"]);
    let output = run(lost).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("CLERK_API_URL"));
}
