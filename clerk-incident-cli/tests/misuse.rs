//! The binary refuses what would quietly do nothing or the wrong thing, before it does
//! anything: unknown targets, a rotation to the same key, empty titles, windows in the future,
//! a drill too small to pass, corrupt incident logs; and its logs carry no colour codes off a
//! terminal.

// Test helpers outside #[test] fns may fail loudly too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Command, Output};

use clerk_incident_sim::Sim;

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clerk-incident"));
    command
        .env_remove("CLERK_API_URL")
        .env_remove("CLERK_STATUS_URL")
        .env_remove("CLERK_SECRET_KEY")
        .env_remove("CLERK_NEW_SECRET_KEY")
        .env_remove("CLERK_INCIDENT_REDIS_URL")
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG");
    command
}

/// Runs the binary off the async runtime's threads.
async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("the blocking task completes")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Nothing listens on port 9 of the loopback: a request sent there fails to connect.
const NOWHERE: &str = "http://127.0.0.1:9";

#[tokio::test]
async fn logs_carry_no_colour_codes_off_a_terminal() {
    let mut command = binary();
    command
        .env("RUST_LOG", "debug")
        .args(["status", "--status-url", NOWHERE, "--timeout", "1s"]);
    let output = run(command).await;
    let said = stderr(&output);
    assert!(said.contains("DEBUG"), "debug logs were asked for: {said}");
    assert!(!said.contains('\u{1b}'), "ANSI codes in a pipe: {said:?}");
}

#[tokio::test]
async fn a_rotation_to_the_same_key_or_a_malformed_one_is_refused_before_anything_is_sent() {
    for (new, expected) in [
        ("sk_test_samesamesame", "the same key"),
        ("banana", "not a Clerk secret key"),
        ("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k", "not a Clerk secret key"),
    ] {
        let mut command = binary();
        command
            .env("CLERK_SECRET_KEY", "sk_test_samesamesame")
            .env("CLERK_NEW_SECRET_KEY", new)
            .args(["keys", "verify-new", "--api-url", NOWHERE]);
        let output = run(command).await;
        let said = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{new}: {said}");
        assert!(said.contains(expected), "{new}: {said}");
        assert!(
            !said.contains("could not reach"),
            "{new}: sent anyway: {said}"
        );
        assert!(
            !said.contains(new) || new.len() < 10,
            "never echoes a key: {said}"
        );
        assert_eq!(said.trim().lines().count(), 1, "one line: {said}");
    }
}

#[tokio::test]
async fn an_empty_title_a_window_in_the_future_and_a_drill_too_small_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("incident.jsonl");
    let mut command = binary();
    command.args(["incident", "start", "--incident"]);
    command.arg(&log).args(["--title", "  "]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("title"), "{}", stderr(&output));
    assert!(!log.exists(), "nothing written");

    let mut command = binary();
    command.env("CLERK_SECRET_KEY", "sk_test_x").env(
        "CLERK_WEBHOOK_SIGNING_SECRET",
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
    );
    command.args([
        "webhooks",
        "replay",
        "--since",
        "2999-01-01T00:00:00Z",
        "--target",
        "http://127.0.0.1:9/webhooks",
        "--api-url",
        NOWHERE,
        "--dry-run",
    ]);
    let output = run(command).await;
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(said.contains("future"), "{said}");

    let mut command = binary();
    command.args(["drill", "--users", "5"]);
    let output = run(command).await;
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(said.contains("--users") && said.contains("20"), "{said}");
}

#[tokio::test]
async fn a_corrupt_log_is_reported_not_rendered_nor_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("incident.jsonl");
    std::fs::write(&log, "this is not an incident log\n").unwrap();
    let mut command = binary();
    command.args(["report", "--incident"]).arg(&log);
    let output = run(command).await;
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("corrupt") || said.contains("not an incident log"),
        "{said}"
    );
    assert!(output.stdout.is_empty(), "no review of garbage");

    let mut command = binary();
    command
        .args(["incident", "note", "--incident"])
        .arg(&log)
        .args(["a", "note"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "this is not an incident log\n",
        "nothing appended"
    );
}

#[tokio::test]
async fn an_unknown_user_or_organisation_is_an_error_before_anything_runs() {
    let sim = Sim::builder().users(10).sessions(20).start().await.unwrap();
    let live = || {
        sim.sessions()
            .iter()
            .filter(|s| s.status.is_signed_in())
            .count()
    };
    let before = live();
    for (flag, id) in [("--user", "user_doesnotexist"), ("--org", "org_nope")] {
        let mut command = binary();
        command
            .env("CLERK_SECRET_KEY", sim.secret_key())
            .args(["sessions", "revoke", flag, id, "--yes", "--api-url"])
            .arg(sim.base_url());
        let output = run(command).await;
        let said = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{flag}: {said}");
        assert!(said.contains(id), "{flag}: names it: {said}");
        assert!(
            !String::from_utf8_lossy(&output.stdout).contains("Revoked 0"),
            "{flag}: no report of nothing"
        );
    }
    assert_eq!(live(), before, "nothing revoked");
}

#[tokio::test]
async fn the_example_services_log_plain_text_off_a_terminal() {
    for name in ["axum-service", "actix-service-example"] {
        let path = std::path::Path::new(env!("CARGO_BIN_EXE_clerk-incident")).with_file_name(name);
        assert!(
            path.is_file(),
            "{} is not built: run the tests with scripts/test (cargo test --workspace)",
            path.display()
        );
        let mut command = Command::new(path);
        // No configuration: the service logs why it cannot start, and exits.
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        let output = run(command).await;
        let said = stderr(&output);
        assert!(!output.status.success(), "{name}: {said}");
        assert!(said.contains("ERROR"), "{name}: {said}");
        assert!(
            !said.contains('\u{1b}'),
            "{name}: ANSI codes in a pipe: {said:?}"
        );
    }
}

#[tokio::test]
async fn configuration_errors_exit_2_in_every_command() {
    let commands: [&[&str]; 4] = [
        &["sessions", "revoke", "--all", "--yes"],
        &[
            "webhooks",
            "replay",
            "--since",
            "1h",
            "--target",
            "http://127.0.0.1:9/",
        ],
        &["keys", "verify-new"],
        &["status", "--timeout", "0s"],
    ];
    for args in commands {
        let mut command = binary();
        command.args(args);
        let output = run(command).await;
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[tokio::test]
async fn a_second_resolve_is_refused_unless_amended() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("incident.jsonl");
    let incident = |args: &[&str]| {
        let mut command = binary();
        command
            .arg("incident")
            .arg(args[0])
            .arg("--incident")
            .arg(&log)
            .args(&args[1..]);
        command
    };
    let started = run(incident(&["start", "--title", "Clerk down"])).await;
    assert!(started.status.success(), "{}", stderr(&started));
    let first = run(incident(&["resolve", "--summary", "Clerk recovered"])).await;
    assert!(first.status.success(), "{}", stderr(&first));
    let lines = || std::fs::read_to_string(&log).unwrap().lines().count();
    let before = lines();
    let second = run(incident(&["resolve", "--summary", "again"])).await;
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    assert!(stderr(&second).contains("--amend"), "{}", stderr(&second));
    assert_eq!(lines(), before, "nothing appended");
    let amended = run(incident(&[
        "resolve",
        "--summary",
        "Clerk recovered at 18:05",
        "--amend",
    ]))
    .await;
    assert!(amended.status.success(), "{}", stderr(&amended));
    assert_eq!(lines(), before + 1);
}

/// SIGTERM (what `kill`, systemd and Kubernetes send) stops `sessions revoke` as Ctrl-C does:
/// the partial counts and the resume command on stderr and in the incident log, and a resume
/// that finishes with every session counted once.
#[cfg(unix)]
#[tokio::test]
async fn sigterm_stops_a_revocation_that_then_resumes_exactly() {
    use std::time::Duration;

    use clerk_incident_core::incident::IncidentLog;
    use clerk_incident_core::triage::{Category, Severity};
    use clerk_incident_sim::Faults;

    let sim = Sim::builder()
        .users(200)
        .sessions(300)
        .start()
        .await
        .unwrap();
    let live = || {
        sim.sessions()
            .iter()
            .filter(|s| s.status.is_signed_in())
            .count() as u64
    };
    let before = live();
    sim.set_faults(Faults {
        latency_ms: 50,
        ..Faults::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let (checkpoint, log) = (dir.path().join("run.jsonl"), dir.path().join("inc.jsonl"));
    IncidentLog::create(&log, "drill", Severity::High, Category::SessionIssues).unwrap();
    let revoke = |extra: &[&str]| {
        let mut command = binary();
        command
            .env("CLERK_SECRET_KEY", sim.secret_key())
            .args(["sessions", "revoke", "--yes", "--api-url"])
            .arg(sim.base_url())
            .arg("--checkpoint")
            .arg(&checkpoint)
            .arg("--incident")
            .arg(&log)
            .args(extra);
        command
    };
    let child = revoke(&["--all", "--concurrency", "1", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A user done with a session revoked: the interrupted run has something to count.
    let revoked_some = || {
        std::fs::read_to_string(&checkpoint).is_ok_and(|text| {
            text.lines()
                .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                .any(|record| {
                    record["record"] == "done"
                        && record["counts"]["revoked"].as_u64().is_some_and(|n| n > 0)
                })
        })
    };
    tokio::time::timeout(Duration::from_secs(30), async {
        while !revoked_some() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the run records progress");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("interrupted by SIGTERM after"), "{said}");
    assert!(said.contains("--resume --checkpoint"), "{said}");
    // --json still answers, with the counts so far.
    let document: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{err}: {:?}", String::from_utf8_lossy(&output.stdout)));
    assert_eq!(document["status"], "interrupted", "{document}");
    assert!(
        document["progress"]["users_processed"]
            .as_u64()
            .is_some_and(|users| users > 0),
        "{document}"
    );
    let recorded = std::fs::read_to_string(&log).unwrap();
    assert!(recorded.contains("interrupted by SIGTERM"), "{recorded}");
    assert!(live() > 0, "stopped before the end");
    // The review lists the interrupted run with its partial counts, as a floor.
    let review = || {
        let mut command = binary();
        command.args(["report", "--incident"]).arg(&log);
        command
            .output()
            .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let partial = review().unwrap();
    let repairs = partial.split("### Repairs run").nth(1).unwrap_or_default();
    assert!(
        repairs.contains("interrupted by SIGTERM after"),
        "{partial}"
    );
    assert!(
        partial.contains("(at least: a counted action stopped early"),
        "{partial}"
    );

    sim.set_faults(Faults::default());
    let output = run({
        let mut command = revoke(&["--resume", "--rate-limit", "1000/1s"]);
        command.arg("--json");
        command
    })
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["revoked"], before, "each session once: {report}");
    assert_eq!(live(), 0);
    let whole = review().unwrap();
    assert!(
        whole.contains(&format!(
            "{} user(s) signed out: {before} session(s) revoked by the repairs below.\n",
            report["users_signed_out"]
        )),
        "the resumed run's counts replace the partial ones: {whole}"
    );
}

/// The review's category is the one the incident was declared (or re-declared) with; a
/// triage that disagrees is shown beside it, never applied.
#[tokio::test]
async fn the_declared_category_stands_and_a_disagreeing_triage_is_shown() {
    use clerk_incident_core::incident::{EntryKind, IncidentLog};
    use clerk_incident_core::triage::{Category, Severity};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inc.jsonl");
    let log =
        IncidentLog::create(&path, "Clerk down", Severity::High, Category::ClerkOutage).unwrap();
    log.append(EntryKind::Triage {
        category: Category::MiddlewareFailure,
        severity: Severity::High,
        summary: "the app's health endpoint fails".into(),
        evidence: Vec::new(),
    })
    .unwrap();
    let review = |path: &std::path::Path| {
        let mut command = binary();
        command.args(["report", "--incident"]).arg(path);
        command
    };
    let output = run(review(&path)).await;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{}", stderr(&output));
    let line = text
        .lines()
        .find(|line| line.starts_with("| **Category**"))
        .unwrap_or_default()
        .to_owned();
    assert!(line.contains("Clerk outage"), "{line}");
    assert!(
        line.contains("Middleware failure"),
        "the disagreement is shown: {line}"
    );

    // Re-declared through the CLI: recorded, and then in force.
    let mut command = binary();
    command
        .args(["incident", "category", "--incident"])
        .arg(&path)
        .args([
            "middleware_failure",
            "--reason",
            "Clerk was up; our middleware timed out",
        ]);
    let output = run(command).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let output = run(review(&path)).await;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let line = text
        .lines()
        .find(|line| line.starts_with("| **Category**"))
        .unwrap_or_default()
        .to_owned();
    assert!(
        line.contains("Middleware failure") && !line.contains("Clerk outage"),
        "{line}"
    );
    assert!(
        text.contains("Clerk was up; our middleware timed out"),
        "the change is in the timeline"
    );
}

/// Under --json, a command that fails before its document still prints JSON on stdout.
#[tokio::test]
async fn json_errors_are_json() {
    for args in [
        &["keys", "verify-new", "--json"][..],
        &["sessions", "revoke", "--all", "--yes", "--json"][..],
    ] {
        let mut command = binary();
        command.args(args);
        let output = run(command).await;
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        let document: serde_json::Value =
            serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
                panic!(
                    "{args:?}: {err}: {:?}",
                    String::from_utf8_lossy(&output.stdout)
                )
            });
        assert_eq!(document["status"], "error", "{document}");
        assert_eq!(document["exit_code"], 2);
        assert!(
            document["error"]
                .as_str()
                .is_some_and(|error| error.contains("CLERK_SECRET_KEY")),
            "{document}"
        );
        assert!(!stderr(&output).is_empty(), "and a line on stderr");
    }

    // Arguments clap refuses are answered in JSON too, with clap's exit code.
    for (args, expected) in [
        (&["sessions", "revoke", "--json", "--bogus"][..], "--bogus"),
        (&["triage", "--json", "--timeout", "soon"][..], "soon"),
        (&["--json", "sessions", "revoke"][..], "required"),
        (
            &[
                "sessions",
                "revoke",
                "--json",
                "--rate-limit",
                "sk_live_0123456789abcdefXYZ",
            ][..],
            "--rate-limit",
        ),
    ] {
        let mut command = binary();
        command.args(args);
        let output = run(command).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let document: serde_json::Value =
            serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
                panic!(
                    "{args:?}: {err}: {:?}",
                    String::from_utf8_lossy(&output.stdout)
                )
            });
        assert_eq!(document["status"], "error", "{document}");
        assert_eq!(document["exit_code"], 2);
        assert!(
            document["error"]
                .as_str()
                .is_some_and(|error| error.contains(expected) && !error.contains('\n')),
            "{args:?}: {document}"
        );
        assert!(
            stderr(&output).contains(expected),
            "clap's message stays on stderr"
        );
        assert!(
            !String::from_utf8_lossy(&output.stdout).contains("0123456789abcdef"),
            "no secret on stdout"
        );
    }
    // Help is no error, JSON or not.
    let mut command = binary();
    command.args(["sessions", "revoke", "--help", "--json"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Usage:"));
}

/// `--api-url` and `--status-url` appear only on the commands that use them.
#[tokio::test]
async fn url_options_only_where_they_are_used() {
    let help = |args: &[&str]| {
        let mut command = binary();
        command.args(args).arg("--help");
        command
    };
    for args in [
        &["report"][..],
        &["incident", "start"],
        &["drill"],
        &["bypass"],
    ] {
        let output = run(help(args)).await;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{args:?}");
        assert!(
            !text.contains("--api-url") && !text.contains("--status-url"),
            "{args:?}: {text}"
        );
    }
    for (args, option) in [
        (&["sessions", "revoke"][..], "--api-url"),
        (&["status"], "--status-url"),
        (&["triage"], "--status-url"),
        (&["triage"], "--api-url"),
    ] {
        let output = run(help(args)).await;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(text.contains(option), "{args:?} lists {option}: {text}");
    }
}

/// `--resume` keeps the pace the run was started with (a production run resumed at the
/// development default took 98 s for ~960 requests); flags given again win, and are recorded
/// for the next resume.
#[tokio::test]
async fn a_resume_keeps_the_runs_pace_unless_told_otherwise() {
    let sim = Sim::builder().users(20).sessions(30).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("run.jsonl");
    let revoke = |extra: &[&str]| {
        let mut command = binary();
        command
            .env("CLERK_SECRET_KEY", sim.secret_key())
            .args(["sessions", "revoke", "--yes", "--json", "--api-url"])
            .arg(sim.base_url())
            .arg("--checkpoint")
            .arg(&checkpoint)
            .args(extra);
        command
    };
    let pace = |output: &Output| {
        assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        (
            report["pace"]["rate_limit"].as_str().unwrap().to_owned(),
            report["pace"]["concurrency"].as_u64().unwrap(),
        )
    };
    let first = run(revoke(&[
        "--all",
        "--rate-limit",
        "5000/10s",
        "--concurrency",
        "3",
    ]))
    .await;
    assert_eq!(pace(&first), ("5000/10s".to_owned(), 3));

    let resumed = run(revoke(&["--resume"])).await;
    assert_eq!(pace(&resumed), ("5000/10s".to_owned(), 3), "restored");
    assert!(
        stderr(&resumed).contains("the checkpoint's pace"),
        "says where the pace comes from: {}",
        stderr(&resumed)
    );

    let faster = run(revoke(&["--resume", "--concurrency", "5"])).await;
    assert_eq!(pace(&faster), ("5000/10s".to_owned(), 5), "the flag wins");
    let again = run(revoke(&["--resume", "--all"])).await;
    assert_eq!(pace(&again), ("5000/10s".to_owned(), 5), "and is recorded");
}

/// At the default verbosity a flaky Clerk does not scroll a retry warning per request past
/// the progress: the first is said, repeats are counted ("8 retries after 5xx so far"), and
/// `-v` shows each.
#[tokio::test]
async fn retry_warnings_are_counted_not_scrolled_unless_verbose() {
    use clerk_incident_sim::Faults;

    let flaky = || async {
        let sim = Sim::builder().users(60).sessions(90).start().await.unwrap();
        sim.set_faults(Faults {
            error_rate: 0.3,
            ..Faults::default()
        });
        sim
    };
    let revoke = |sim: &Sim, verbose: bool| {
        let mut command = binary();
        command
            .env("CLERK_SECRET_KEY", sim.secret_key())
            .args(["sessions", "revoke", "--all", "--yes", "--json"])
            .args(["--rate-limit", "100000/1s", "--api-url"])
            .arg(sim.base_url());
        if verbose {
            command.arg("-v");
        }
        command
    };
    let retries = |output: &Output| {
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        report["api"]["retries"].as_u64().unwrap()
    };

    let sim = flaky().await;
    let quiet = run(revoke(&sim, false)).await;
    let said = stderr(&quiet);
    let retried = retries(&quiet);
    assert!(retried >= 10, "the faults caused retries: {retried}");
    let lines = said.lines().filter(|line| line.contains("retr")).count();
    assert!(
        lines <= 2 + retried.ilog2() as usize,
        "{lines} lines for {retried} retries: {said}"
    );
    assert!(said.contains("retries after 5xx so far"), "{said}");
    assert!(said.contains("-v shows each"), "{said}");
    assert!(!said.contains("Clerk API error; retrying"), "{said}");

    let sim = flaky().await;
    let verbose = run(revoke(&sim, true)).await;
    let said = stderr(&verbose);
    let each = said.matches("Clerk API error; retrying").count() as u64;
    assert!(each >= 10 && each <= retries(&verbose), "{each}: {said}");
    assert!(!said.contains("so far"), "{said}");
}

/// SIGTERM stops the other long commands cleanly too: the drill records where it stopped in
/// its incident log and, under --json, still prints its steps; a triage waiting on a hung
/// Clerk answers `interrupted` instead of dying silently.
#[cfg(unix)]
#[tokio::test]
async fn sigterm_stops_the_drill_and_a_triage_with_an_answer() {
    use std::process::Stdio;
    use std::time::Duration;

    use clerk_incident_sim::{Faults, Outage};

    let terminate = |child: &std::process::Child| {
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
    };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("drill.jsonl");
    let child = binary()
        .args([
            "drill",
            "--json",
            "--users",
            "40",
            "--sessions",
            "60",
            "--incident",
        ])
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = || {
        std::fs::read_to_string(&log)
            .map(|text| text.lines().count())
            .unwrap_or(0)
    };
    tokio::time::timeout(Duration::from_secs(60), async {
        while lines() < 6 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the drill gets going");
    terminate(&child);
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("drill interrupted by SIGTERM"), "{said}");
    let document: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{err}: {:?}", String::from_utf8_lossy(&output.stdout)));
    assert_eq!(document["status"], "interrupted", "{document}");
    assert!(
        document["steps"]
            .as_array()
            .is_some_and(|steps| !steps.is_empty()),
        "{document}"
    );
    let recorded = std::fs::read_to_string(&log).unwrap();
    assert!(
        recorded
            .lines()
            .last()
            .is_some_and(|last| last.contains("interrupted by SIGTERM")),
        "{recorded}"
    );

    let sim = Sim::builder().start().await.unwrap();
    sim.set_faults(Faults {
        outage: Some(Outage::Hang),
        ..Faults::default()
    });
    let child = binary()
        .args(["triage", "--json", "--timeout", "60s", "--api-url"])
        .arg(sim.base_url())
        .arg("--status-url")
        .arg(sim.base_url())
        .env("CLERK_SECRET_KEY", sim.secret_key())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the triage has a request hanging at the sim.
    tokio::time::timeout(Duration::from_secs(30), async {
        while sim.counters().total() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the triage reaches the sim");
    terminate(&child);
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("interrupted by SIGTERM"), "{said}");
    let document: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{err}: {:?}", String::from_utf8_lossy(&output.stdout)));
    assert_eq!(document["status"], "interrupted", "{document}");
}
