//! `clerk-incident incident …` and `clerk-incident report` end to end: the whole flow, two
//! processes appending at once, and the errors.

// Test helpers outside #[test] fns may fail loudly too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread;

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

/// Runs the binary with `args` and returns its output.
fn run(args: &[&str]) -> Output {
    binary().args(args).output().expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh, empty directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-incident-{test}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

fn start(log: &Path, title: &str) {
    let output = run(&[
        "incident",
        "start",
        "--incident",
        text(log),
        "--title",
        title,
        "--severity",
        "critical",
        "--category",
        "clerk-outage",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn start_note_resolve_then_report_writes_the_review() {
    let dir = scratch("flow");
    let log = dir.join("incident.jsonl");
    start(&log, "Sign-in failing: Clerk API answers 503");

    let output = run(&[
        "incident",
        "note",
        "--incident",
        text(&log),
        "Switched",
        "to",
        "grace | paged the app team",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("Noted in "));

    let output = run(&[
        "incident",
        "resolve",
        "--incident",
        text(&log),
        "--summary",
        "Clerk recovered",
        "--root-cause",
        "Clerk's API outage",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("clerk-incident report --incident"));

    let review = dir.join("review.md");
    let output = run(&["report", "--incident", text(&log), "--out", text(&review)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("review.md"));
    let markdown = fs::read_to_string(&review).unwrap();
    assert!(
        markdown.starts_with("# Post-incident review: Sign-in failing: Clerk API answers 503\n"),
        "{markdown}"
    );
    assert!(markdown.contains("| Note | Switched to grace \\| paged the app team |"));
    let duration = markdown
        .lines()
        .find(|line| line.starts_with("| **Duration** | "))
        .expect("a duration row");
    assert!(
        duration.ends_with(" s |"),
        "resolved within the test: {duration}"
    );
    assert!(markdown.contains("| **Severity** | critical |"));
    assert!(markdown.contains("| **Category** | Clerk outage |"));
    assert!(markdown.contains("## Root cause\n\nClerk's API outage\n"));

    // The same review on stdout.
    let output = run(&["report", "--incident", text(&log)]);
    assert!(output.status.success());
    assert_eq!(stdout(&output), markdown);

    // `show` in text and JSON.
    let output = run(&["incident", "show", "--incident", text(&log)]);
    assert!(output.status.success());
    let shown = stdout(&output);
    assert_eq!(
        shown.lines().count(),
        4,
        "a headline and three entries:\n{shown}"
    );
    assert!(shown.contains("resolved after"), "{shown}");
    let output = run(&["incident", "show", "--incident", text(&log), "--json"]);
    assert!(output.status.success());
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["entries"].as_array().map(Vec::len), Some(3));
    assert_eq!(json["severity"], "critical");
    assert_eq!(json["entries"][2]["type"], "resolved");
}

#[test]
fn report_never_overwrites_without_force() {
    let dir = scratch("overwrite");
    let log = dir.join("incident.jsonl");
    start(&log, "Overwrite");
    let review = dir.join("review.md");
    fs::write(&review, "keep me").unwrap();

    let output = run(&["report", "--incident", text(&log), "--out", text(&review)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("--force"), "{}", stderr(&output));
    assert_eq!(fs::read_to_string(&review).unwrap(), "keep me");

    let output = run(&[
        "report",
        "--incident",
        text(&log),
        "--out",
        text(&review),
        "--force",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        fs::read_to_string(&review)
            .unwrap()
            .starts_with("# Post-incident review: Overwrite")
    );

    // Not even --force overwrites the log with its own review.
    let before = fs::read(&log).unwrap();
    let output = run(&[
        "report",
        "--incident",
        text(&log),
        "--out",
        text(&log),
        "--force",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(fs::read(&log).unwrap(), before);
}

#[test]
fn two_processes_appending_at_once_lose_nothing() {
    const NOTES: usize = 50;
    let dir = scratch("concurrent");
    let log = dir.join("incident.jsonl");
    start(&log, "Concurrent");

    let writers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|writer| {
            let log = log.clone();
            thread::spawn(move || {
                for i in 0..NOTES {
                    let note = format!("{writer}-{i}");
                    let output = run(&["incident", "note", "--incident", text(&log), &note]);
                    assert!(output.status.success(), "{}", stderr(&output));
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }

    let content = fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = content.lines().collect();
    assert_eq!(lines.len(), 1 + 2 * NOTES);
    let mut notes = Vec::new();
    for line in &lines {
        let entry: Value = serde_json::from_str(line).expect("every line is a whole entry");
        if entry["type"] == "note" {
            notes.push(entry["text"].as_str().unwrap().to_owned());
        }
    }
    notes.sort();
    let mut expected: Vec<String> = ["a", "b"]
        .iter()
        .flat_map(|w| (0..NOTES).map(move |i| format!("{w}-{i}")))
        .collect();
    expected.sort();
    assert_eq!(notes, expected);
}

#[test]
fn errors_exit_1_with_a_clear_message() {
    let dir = scratch("errors");
    let log = dir.join("incident.jsonl");

    let output = run(&["incident", "note", "--incident", text(&log), "hello"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("does not exist"),
        "{}",
        stderr(&output)
    );
    let output = run(&["report", "--incident", text(&log)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(!log.exists(), "nothing creates the log but `start`");

    start(&log, "First");
    let output = run(&[
        "incident",
        "start",
        "--incident",
        text(&log),
        "--title",
        "Second",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("already exists"),
        "{}",
        stderr(&output)
    );

    // Damage a middle line.
    let mut file = fs::OpenOptions::new().append(true).open(&log).unwrap();
    file.write_all(b"{\"oops\":\n").unwrap();
    drop(file);
    let output = run(&["incident", "note", "--incident", text(&log), "after"]);
    assert!(output.status.success());
    for args in [
        &["incident", "show", "--incident", text(&log)][..],
        &["report", "--incident", text(&log)][..],
    ] {
        let output = run(args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let message = stderr(&output);
        assert!(message.contains("is corrupt: line 2"), "{message}");
        assert!(message.contains("incident.jsonl"), "{message}");
    }

    // Bad values are clap's usage errors.
    let output = run(&[
        "incident",
        "start",
        "--incident",
        text(&dir.join("other.jsonl")),
        "--title",
        "t",
        "--severity",
        "apocalyptic",
    ]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_torn_last_line_is_a_warning_on_stderr() {
    let dir = scratch("torn");
    let log = dir.join("incident.jsonl");
    start(&log, "Torn");
    let mut file = fs::OpenOptions::new().append(true).open(&log).unwrap();
    file.write_all(br#"{"at":"2026-11-26T18:0"#).unwrap();
    drop(file);

    let output = run(&["incident", "show", "--incident", text(&log)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("warning:"), "{}", stderr(&output));
    assert!(stderr(&output).contains("line 2"), "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 2, "headline and the start");
}

/// The permission bits of `path`.
#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_pasted_secret_never_reaches_the_screen_or_the_files_and_the_files_are_private() {
    let dir = scratch("secrets");
    let log = dir.join("incident.jsonl");
    // Glued to the word before it, as a paste often is.
    let title = "Leak: keysk_live_AbCdEf0123456789xyz found in a gist";
    let output = run(&[
        "incident",
        "start",
        "--incident",
        text(&log),
        "--title",
        title,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let shown = stdout(&output);
    assert!(!shown.contains("AbCdEf0123456789"), "{shown}");
    assert!(
        shown.contains("keysk_live_[redacted] found in a gist"),
        "{shown}"
    );
    let output = run(&[
        "incident",
        "note",
        "--incident",
        text(&log),
        "webhook url had ?secret%3Dwhsec_C2FVsBQIhrscChlQIMV%2Bb5sSYspob7oD in it",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let written = fs::read_to_string(&log).unwrap();
    assert!(
        !written.contains("AbCdEf0123456789") && !written.contains("C2FVsBQ"),
        "{written}"
    );

    let review = dir.join("review.md");
    let output = run(&["report", "--incident", text(&log), "--out", text(&review)]);
    assert!(output.status.success(), "{}", stderr(&output));
    #[cfg(unix)]
    {
        assert_eq!(mode(&log), 0o600, "the incident log");
        assert_eq!(mode(&review), 0o600, "the review");
        // A file that existed with a wider mode is narrowed: an empty log made with `touch`,
        // a review overwritten with --force.
        use std::os::unix::fs::PermissionsExt;
        let touched = dir.join("touched.jsonl");
        fs::write(&touched, "").unwrap();
        fs::set_permissions(&touched, fs::Permissions::from_mode(0o644)).unwrap();
        start(&touched, "Reused log");
        assert_eq!(mode(&touched), 0o600, "a touched log");
        fs::set_permissions(&review, fs::Permissions::from_mode(0o644)).unwrap();
        let output = run(&[
            "report",
            "--incident",
            text(&log),
            "--out",
            text(&review),
            "--force",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(mode(&review), 0o600, "an overwritten review");
    }
}

#[test]
fn show_and_report_keep_entries_of_a_newer_version() {
    let dir = scratch("newer");
    let log = dir.join("incident.jsonl");
    start(&log, "Fleet drill");
    let mut file = fs::OpenOptions::new().append(true).open(&log).unwrap();
    writeln!(
        file,
        r#"{{"at":"2026-11-26T18:05:00.000Z","type":"fleet_switch","mode":"grace"}}"#
    )
    .unwrap();
    drop(file);
    let output = run(&["incident", "show", "--incident", text(&log)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("`fleet_switch` this version does not know"),
        "{}",
        stdout(&output)
    );
    let output = run(&["report", "--incident", text(&log)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("Unknown entry"));
}
