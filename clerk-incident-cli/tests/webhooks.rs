//! `clerk-incident webhooks replay` end to end: the binary, a sim that delivers (and drops)
//! webhooks, and the axum example service, served on 127.0.0.1, whose users table the
//! replay must bring back to Clerk's.

// Test helpers outside #[test] fns may fail loudly too.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use axum_service::{ServiceOptions, UserSync, WEBHOOKS};
use clerk_incident_core::auth::{AuthPolicy, BypassSwitch, KeySource, Verifier, VerifierConfig};
use clerk_incident_core::incident::{EntryKind, IncidentLog};
use clerk_incident_core::triage::{Category, Severity};
use clerk_incident_core::webhooks::{WebhookSecret, WebhookVerifier};
use clerk_incident_sim::{Delivery, NewUser, Sim, UserPatch};
use serde_json::Value;
use tokio::net::TcpListener;

/// The app and the sim it receives webhooks from.
struct Setup {
    sim: Sim,
    sync: UserSync,
    target: String,
    dir: PathBuf,
}

impl Setup {
    async fn start(name: &str, users: usize) -> Self {
        let sim = Sim::builder().users(users).start().await.unwrap();
        let secret = WebhookSecret::new(&sim.webhook_secret()).unwrap();
        let sync = UserSync::new(WebhookVerifier::new(secret));
        let policy = AuthPolicy::new(
            Verifier::new(
                KeySource::pem(sim.public_key_pem()).unwrap(),
                VerifierConfig::default(),
            ),
            BypassSwitch::new(),
        );
        let app = axum_service::app_with(
            policy,
            ServiceOptions {
                webhooks: Some(sync.clone()),
                ..ServiceOptions::default()
            },
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = format!("http://{}{WEBHOOKS}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        sim.set_webhook_endpoint(Some(target.clone())).unwrap();
        let dir = std::env::temp_dir().join(format!("webhooks-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            sim,
            sync,
            target,
            dir,
        }
    }

    /// `webhooks replay --target <app>` with both secrets in the environment.
    fn replay(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_clerk-incident"));
        command
            .env_remove("RUST_LOG")
            .env("CLERK_API_URL", self.sim.base_url())
            .env("CLERK_SECRET_KEY", self.sim.secret_key())
            .env("CLERK_WEBHOOK_SIGNING_SECRET", self.sim.webhook_secret())
            .args(["webhooks", "replay", "--target", &self.target])
            .args(args);
        command
    }

    /// The app's users table as `--known-ids` reads it: `id,updated_at` lines.
    fn export_known_ids(&self, name: &str) -> PathBuf {
        let users = self.sync.users();
        let lines: Vec<String> = users
            .ids()
            .into_iter()
            .map(|id| format!("{id},{}", users.updated_at(&id).unwrap()))
            .collect();
        let path = self.dir.join(name);
        std::fs::write(&path, format!("id,updated_at\n{}\n", lines.join("\n"))).unwrap();
        path
    }

    /// Clerk's users and the app's table, as id → updated_at.
    fn tables(&self) -> (BTreeMap<String, i64>, BTreeMap<String, i64>) {
        let clerk = self
            .sim
            .users()
            .into_iter()
            .map(|user| (user.id, user.updated_at))
            .collect();
        let users = self.sync.users();
        let app = users
            .ids()
            .into_iter()
            .map(|id| {
                let at = users.updated_at(&id).unwrap();
                (id, at)
            })
            .collect();
        (clerk, app)
    }

    /// Creates 12, updates 12 and deletes 6 users while the sim drops every delivery.
    async fn drop_thirty_deliveries(&self) {
        let existing: Vec<String> = self.sim.users().into_iter().map(|u| u.id).collect();
        self.sim.drop_webhooks(30);
        let mut deliveries = Vec::new();
        for n in 0..12 {
            let new = NewUser {
                first_name: "Missed".to_owned(),
                last_name: format!("{n}"),
                email_address: format!("missed-{n}@example.com"),
            };
            deliveries.push(self.sim.create_user(new).await.unwrap().1);
        }
        for id in &existing[..12] {
            let patch = UserPatch {
                first_name: Some("Changed".to_owned()),
                ..UserPatch::default()
            };
            deliveries.push(self.sim.update_user(id, patch).await.unwrap().1);
        }
        for id in &existing[12..18] {
            deliveries.push(self.sim.delete_user(id).await.unwrap());
        }
        assert!(deliveries.iter().all(|d| matches!(d, Delivery::Dropped)));
        assert_eq!(self.sim.counters().webhooks_dropped, 30);
    }
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

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("not JSON ({err}): {}", text(output)))
}

fn assert_no_secret(setup: &Setup, output: &Output) {
    let all = text(output);
    let secret = setup.sim.webhook_secret();
    let tail = secret.trim_start_matches("whsec_");
    assert!(
        !all.contains(tail),
        "the output shows the webhook secret:\n{all}"
    );
    assert!(
        !all.contains(setup.sim.secret_key()),
        "the output shows the key:\n{all}"
    );
}

fn actions(log: &Path) -> Vec<(String, String)> {
    IncidentLog::open(log)
        .unwrap()
        .read()
        .unwrap()
        .entries
        .into_iter()
        .filter_map(|entry| match entry.kind {
            EntryKind::Action {
                command, outcome, ..
            } => Some((command, outcome)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_repairs_thirty_dropped_deliveries_and_a_second_replay_changes_nothing() {
    let setup = Setup::start("backlog", 40).await;

    // Backfill: the app starts empty; a replay of everything with an empty known-ids file
    // makes its table Clerk's.
    let empty = setup.dir.join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let output =
        run(setup.replay(&["--since", "3650d", "--known-ids", empty.to_str().unwrap()])).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let (clerk, app) = setup.tables();
    assert_eq!(app, clerk);

    setup.drop_thirty_deliveries().await;
    let (clerk, app) = setup.tables();
    assert_ne!(app, clerk, "the dropped deliveries leave the table behind");

    let known = setup.export_known_ids("known.csv");
    let log = setup.dir.join("incident.jsonl");
    IncidentLog::create(
        &log,
        "Webhook backlog",
        Severity::Medium,
        Category::WebhookBacklog,
    )
    .unwrap();
    let args = [
        "--since",
        "1h",
        "--known-ids",
        known.to_str().unwrap(),
        "--incident",
        log.to_str().unwrap(),
        "--json",
    ];
    let output = run(setup.replay(&args)).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_no_secret(&setup, &output);
    let report = json(&output);
    assert_eq!(report["delivered"]["created"], 12, "{report}");
    assert_eq!(report["delivered"]["updated"], 12, "{report}");
    assert_eq!(report["delivered"]["deleted"], 6, "{report}");
    assert_eq!(report["failed"].as_array().map(Vec::len), Some(0));
    let (clerk, app) = setup.tables();
    assert_eq!(app, clerk, "the replay brings the table back to Clerk's");

    // The same command again, with the same (now stale) file: every event is re-sent with
    // the same message id, the app dedupes them all, and nothing changes.
    let seen = setup.sync.inbox().len();
    let output = run(setup.replay(&args)).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(json(&output)["delivered"], report["delivered"]);
    assert_eq!(setup.sync.inbox().len(), seen, "no new message id");
    assert_eq!(setup.tables().1, clerk);

    let actions = actions(&log);
    assert_eq!(actions.len(), 4, "{actions:?}");
    assert!(
        actions[0]
            .0
            .starts_with("clerk-incident webhooks replay --since ")
    );
    assert!(actions[1].1.starts_with("delivered 30"), "{actions:?}");
    let raw = std::fs::read_to_string(&log).unwrap();
    assert!(!raw.contains(setup.sim.webhook_secret().trim_start_matches("whsec_")));

    // The review counts the replayed events once, though the window was replayed twice.
    let output = run({
        let mut command = Command::new(env!("CARGO_BIN_EXE_clerk-incident"));
        command.args(["report", "--incident"]).arg(&log);
        command
    })
    .await;
    let review = String::from_utf8_lossy(&output.stdout);
    assert!(
        review.contains("### Data loss\n\n30 webhook events replayed; the log does not record"),
        "{review}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_lists_and_sends_nothing() {
    let setup = Setup::start("dry-run", 5).await;
    let output = run(setup.replay(&["--since", "3650d", "--dry-run"])).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("would send user."), "{stdout}");
    assert!(stdout.contains("Dry run: would deliver 5"), "{stdout}");
    assert!(setup.sync.users().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_signing_secret_fails_every_delivery_with_a_hint() {
    let setup = Setup::start("wrong-secret", 3).await;
    let mut command = setup.replay(&["--since", "3650d"]);
    command.env(
        "CLERK_WEBHOOK_SIGNING_SECRET",
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
    );
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let all = text(&output);
    assert!(all.contains("failed 3"), "{all}");
    assert!(all.contains("HTTP 400"), "{all}");
    assert!(all.contains("CLERK_WEBHOOK_SIGNING_SECRET"), "{all}");
    assert!(!all.contains("C2FVsBQIhrscChlQIMV"), "{all}");
    assert!(setup.sync.users().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_secrets_and_bad_arguments_are_usage_errors() {
    let setup = Setup::start("usage", 1).await;
    let mut command = setup.replay(&["--since", "1h"]);
    command.env_remove("CLERK_WEBHOOK_SIGNING_SECRET");
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("CLERK_WEBHOOK_SIGNING_SECRET is not set"));

    let mut command = setup.replay(&["--since", "1h"]);
    command.env("CLERK_WEBHOOK_SIGNING_SECRET", "whsec_not*base64!");
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(!text(&output).contains("not*base64"), "{}", text(&output));

    let output = run(setup.replay(&["--since", "1h", "--types", "session.created"])).await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));

    let bad = setup.dir.join("bad.txt");
    std::fs::write(&bad, "user_1\norg_2\n").unwrap();
    let output = run(setup.replay(&["--since", "1h", "--known-ids", bad.to_str().unwrap()])).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("line 2"), "{}", text(&output));
}
