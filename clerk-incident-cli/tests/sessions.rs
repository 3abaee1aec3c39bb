//! `clerk-incident sessions revoke` end to end, against a running `clerk-incident sim`.

// Test helpers outside #[test] fns may fail loudly too.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use clerk_incident_core::api::{ClerkApi, SecretKey, SessionStatus};
use clerk_incident_core::http::{HttpClient, ReqwestClient};
use clerk_incident_core::incident::IncidentLog;
use clerk_incident_core::triage::{Category, Severity};
use serde_json::Value;

/// Kills the sim when the test ends, however it ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `clerk-incident sim` in its own process, and what its exports say.
struct RunningSim {
    _process: KillOnDrop,
    api_url: String,
    key: String,
}

impl RunningSim {
    async fn start(users: usize, sessions: usize) -> Self {
        let mut process = Command::new(env!("CARGO_BIN_EXE_clerk-incident"))
            .args(["sim", "--json", "--users", &users.to_string()])
            .args(["--sessions", &sessions.to_string()])
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .spawn()
            .map(KillOnDrop)
            .expect("the binary starts");
        let stdout = process.0.stdout.take().expect("piped stdout");
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await
        .unwrap()
        .expect("the sim prints its exports");
        let exports: Value = serde_json::from_str(&line).expect("one JSON line");
        Self {
            _process: process,
            api_url: exports["env"]["CLERK_API_URL"].as_str().unwrap().to_owned(),
            key: exports["env"]["CLERK_SECRET_KEY"]
                .as_str()
                .unwrap()
                .to_owned(),
        }
    }

    fn api(&self) -> ClerkApi {
        ClerkApi::builder(SecretKey::new(&self.key))
            .base_url(&self.api_url)
            .without_rate_limit()
            .build()
            .unwrap()
    }

    async fn admin_user_id(&self) -> String {
        let info = get(&format!("{}/_sim/info", self.api_url), None).await;
        info["admin_user_id"].as_str().unwrap().to_owned()
    }

    /// `(user id, session id)` of every active session.
    async fn active_sessions(&self) -> Vec<(String, String)> {
        // One page holds every user of these small sims.
        let users = get(
            &format!("{}/v1/users?limit=500", self.api_url),
            Some(&self.key),
        )
        .await;
        let users = users.as_array().expect("a plain array of users");
        assert!(users.len() < 500);
        let api = self.api();
        let mut active = Vec::new();
        for user in users {
            let user_id = user["id"].as_str().unwrap();
            for session in api
                .list_sessions(user_id, Some(SessionStatus::Active))
                .await
                .unwrap()
            {
                active.push((user_id.to_owned(), session.id));
            }
        }
        active.sort();
        active
    }

    /// `clerk-incident sessions revoke ARGS`, pointed at this sim, stdin closed.
    async fn revoke(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_clerk-incident"));
        command
            .args(["sessions", "revoke"])
            .args(args)
            // The sim's key is a development key (10 requests/s); pace like production.
            .args(["--rate-limit", "1000/1s"])
            .env("CLERK_API_URL", &self.api_url)
            .env("CLERK_SECRET_KEY", &self.key)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
            .await
            .unwrap()
    }
}

/// A GET through the core's HTTP client, with the secret key when given.
async fn get(url: &str, key: Option<&str>) -> Value {
    let mut request = http::Request::get(url);
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    let request = request.body(bytes::Bytes::new()).unwrap();
    let response = ReqwestClient::new().unwrap().send(request).await.unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    serde_json::from_slice(response.body()).unwrap()
}

fn temp_file(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "clerk-incident-cli-sessions-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    path
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn revoke_all_but_an_excluded_admin_and_refuse_without_confirmation() {
    let sim = RunningSim::start(200, 300).await;
    let admin = sim.admin_user_id().await;
    let before = sim.active_sessions().await;
    assert!(before.len() > 100 && before.iter().any(|(user, _)| *user == admin));

    // Without --yes, with stdin closed: the plan is shown, nothing is revoked.
    let output = sim.revoke(&["--all", "--exclude-user", &admin]).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("user(s) may hold a live session"), "{err}");
    assert!(err.contains("pass --yes"), "{err}");
    assert!(output.stdout.is_empty());
    assert_eq!(sim.active_sessions().await, before);

    // A mistyped exclusion is refused before anything is revoked.
    let output = sim
        .revoke(&["--all", "--yes", "--exclude-user", "user_typo"])
        .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no such user"),
        "{}",
        stderr(&output)
    );
    assert_eq!(sim.active_sessions().await.len(), before.len());

    // With --yes: everything but the admin's sessions, recorded in the incident log.
    let log = temp_file("incident.jsonl");
    IncidentLog::create(
        &log,
        "Key leak",
        Severity::Critical,
        Category::KeyCompromise,
    )
    .unwrap();
    let checkpoint = temp_file("revoke.ckpt");
    let output = sim
        .revoke(&[
            "--all",
            "--yes",
            "--json",
            "--exclude-user",
            &admin,
            "--checkpoint",
            checkpoint.to_str().unwrap(),
            "--incident",
            log.to_str().unwrap(),
        ])
        .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).expect("--json prints the report");
    let admins = before.iter().filter(|(user, _)| *user == admin).count() as u64;
    assert_eq!(report["status"], "complete");
    assert_eq!(report["revoked"], before.len() as u64 - admins);
    assert_eq!(report["sessions_found"], report["revoked"]);
    assert_eq!(report["users_excluded"], 1);
    assert_eq!(report["failed"].as_array().map(Vec::len), Some(0));
    let after = sim.active_sessions().await;
    assert_eq!(after.len() as u64, admins);
    assert!(after.iter().all(|(user, _)| *user == admin));

    let actions: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|entry| entry["type"] == "action")
        .collect();
    assert_eq!(actions.len(), 2, "start and result: {actions:?}");
    let command = actions[0]["command"].as_str().unwrap();
    assert!(command.starts_with("clerk-incident sessions revoke --all --exclude-user "));
    assert!(!command.contains(&sim.key), "no secret in the log");
    let outcome = actions[1]["outcome"].as_str().unwrap();
    assert!(
        outcome.starts_with(&format!("revoked {} session(s)", report["revoked"])),
        "{outcome}"
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&checkpoint).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o600,
            "the checkpoint names every user: its owner's only"
        );
    }
    // The checkpoint is not reused by accident; resuming it finds everything done.
    let output = sim
        .revoke(&[
            "--all",
            "--yes",
            "--checkpoint",
            checkpoint.to_str().unwrap(),
        ])
        .await;
    assert_eq!(
        output.status.code(),
        Some(2),
        "a usage problem, refused up front"
    );
    assert!(
        stderr(&output).contains("add --resume"),
        "{}",
        stderr(&output)
    );
    let output = sim
        .revoke(&[
            "--resume",
            "--yes",
            "--json",
            "--checkpoint",
            checkpoint.to_str().unwrap(),
        ])
        .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let resumed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(resumed["revoked"], report["revoked"]);
    assert_eq!(resumed["users_from_checkpoint"], report["users_scanned"]);

    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(&checkpoint);
}

#[tokio::test]
async fn a_dry_run_needs_no_confirmation_and_revokes_nothing() {
    let sim = RunningSim::start(100, 150).await;
    let before = sim.active_sessions().await;
    let output = sim.revoke(&["--all", "--dry-run"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with(&format!(
            "Dry run: would revoke {} session(s)",
            before.len()
        )),
        "{text}"
    );
    assert_eq!(sim.active_sessions().await, before);

    // A target is required.
    let output = sim.revoke(&["--yes"]).await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}
