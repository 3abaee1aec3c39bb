//! The incident log on disk: every entry kind round-trips, torn and corrupt lines, concurrent
//! writers, and refusing to overwrite another incident.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::PathBuf;
use std::thread;

use clerk_incident_core::incident::{ActionCounts, Entry, EntryKind, IncidentError, IncidentLog};
use clerk_incident_core::triage::{Category, Severity};

/// A fresh, empty directory for one test, under Cargo's per-target scratch space.
fn scratch(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("incident_log-{test}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn new_log(test: &str) -> IncidentLog {
    IncidentLog::create(
        scratch(test).join("incident.jsonl"),
        "Sign-in failing",
        Severity::High,
        Category::Unknown,
    )
    .unwrap()
}

fn note(text: &str) -> EntryKind {
    EntryKind::Note { text: text.into() }
}

fn every_kind() -> Vec<EntryKind> {
    vec![
        note("status page reports a major outage"),
        EntryKind::Triage {
            category: Category::ClerkOutage,
            severity: Severity::Critical,
            summary: "Clerk's Backend API answers 503".into(),
            evidence: vec!["GET /v1/users: 503".into(), "JWKS reachable".into()],
        },
        EntryKind::ModeChange {
            from: "enforce".into(),
            to: "grace".into(),
            reason: "operator".into(),
        },
        EntryKind::Action {
            command: "clerk-incident revoke --all".into(),
            outcome: "revoked 42 sessions of 17 users".into(),
            counts: ActionCounts::revocation(17, 42),
        },
        EntryKind::SeverityChanged {
            severity: Severity::Medium,
            reason: "Grace mode holds".into(),
        },
        EntryKind::Resolved {
            summary: "Clerk recovered".into(),
            root_cause: Some("Clerk outage".into()),
        },
        EntryKind::Resolved {
            summary: "again, without a cause".into(),
            root_cause: None,
        },
    ]
}

#[test]
fn every_entry_kind_reads_back_as_written() {
    let log = new_log("every_kind");
    let mut written = Vec::new();
    for kind in every_kind() {
        let entry = log.append(kind.clone()).unwrap();
        assert_eq!(entry.kind, kind);
        written.push(entry);
    }

    let timeline = IncidentLog::open(log.path()).unwrap().read().unwrap();
    assert!(timeline.warnings.is_empty());
    let (started, rest) = timeline.entries.split_first().unwrap();
    assert_eq!(
        started.kind,
        EntryKind::Started {
            title: "Sign-in failing".into(),
            severity: Severity::High,
            category: Category::Unknown,
        }
    );
    assert_eq!(rest, written.as_slice());
    assert!(
        timeline.entries.windows(2).all(|w| w[0].at <= w[1].at),
        "lines are in time order"
    );
    assert_eq!(timeline.title(), Some("Sign-in failing"));
    assert_eq!(timeline.severity(), Some(Severity::Critical));
    assert_eq!(timeline.category(), Some(Category::ClerkOutage));
    assert_eq!(timeline.resolution(), Some("again, without a cause"));
    assert!(timeline.duration().is_some());

    // Each line is one JSON object with `at` and `type`.
    let text = fs::read_to_string(log.path()).unwrap();
    assert!(text.ends_with('\n'));
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(value["at"].as_str().is_some_and(|at| at.ends_with('Z')));
        assert!(value["type"].is_string(), "{line}");
    }
}

#[test]
fn a_torn_last_line_is_skipped_with_a_warning_and_cut_by_the_next_append() {
    let log = new_log("torn");
    log.append(note("one")).unwrap();
    log.append(note("two")).unwrap();
    // A crash in the middle of a write: half a line, no newline.
    let mut file = OpenOptions::new().append(true).open(log.path()).unwrap();
    file.write_all(br#"{"at":"2026-11-26T18:04:05.123Z","type":"note","te"#)
        .unwrap();
    drop(file);

    let timeline = log.read().unwrap();
    assert_eq!(timeline.entries.len(), 3, "the complete entries");
    assert_eq!(timeline.warnings.len(), 1, "{:?}", timeline.warnings);
    assert!(
        timeline.warnings[0].contains("line 4"),
        "{:?}",
        timeline.warnings
    );
    assert!(
        timeline.warnings[0].contains(&log.path().display().to_string()),
        "the warning names the file"
    );

    // The next append cuts the fragment off, so the log stays readable.
    log.append(note("three")).unwrap();
    let timeline = log.read().unwrap();
    assert!(timeline.warnings.is_empty(), "{:?}", timeline.warnings);
    let notes: Vec<&EntryKind> = timeline.entries.iter().map(|e| &e.kind).skip(1).collect();
    assert_eq!(notes, [&note("one"), &note("two"), &note("three")]);
}

#[test]
fn a_complete_last_line_without_its_newline_is_kept() {
    let log = new_log("no_newline");
    let mut file = OpenOptions::new().append(true).open(log.path()).unwrap();
    file.write_all(br#"{"at":"2026-11-26T18:04:05.123Z","type":"note","text":"typed by hand"}"#)
        .unwrap();
    drop(file);

    log.append(note("after")).unwrap();
    let timeline = log.read().unwrap();
    assert!(timeline.warnings.is_empty());
    assert_eq!(timeline.entries.len(), 3);
    assert_eq!(timeline.entries[1].kind, note("typed by hand"));
    assert_eq!(timeline.entries[2].kind, note("after"));
}

#[test]
fn a_corrupt_middle_line_is_an_error_naming_it() {
    let log = new_log("corrupt");
    let mut file = OpenOptions::new().append(true).open(log.path()).unwrap();
    // A note without its text: a kind this version knows, written wrong.
    file.write_all(b"{\"at\":\"2026-11-26T18:04:05.123Z\",\"type\":\"note\"}\n")
        .unwrap();
    drop(file);
    log.append(note("after the damage")).unwrap();

    let err = log.read().unwrap_err();
    assert!(
        matches!(&err, IncidentError::Corrupt { line: 2, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("line 2"), "{message}");
    assert!(
        message.contains(&log.path().display().to_string()),
        "{message}"
    );
    assert!(message.contains("missing field `text`"), "{message}");
}

#[test]
fn entries_of_a_newer_version_are_kept_and_shown_as_unknown() {
    let log = new_log("newer");
    let line =
        r#"{"at":"2026-11-26T18:04:05.123Z","type":"fleet_switch","mode":"grace","replicas":5}"#;
    let mut file = OpenOptions::new().append(true).open(log.path()).unwrap();
    file.write_all(format!("{line}\n").as_bytes()).unwrap();
    drop(file);
    log.append(note("after the newer entry")).unwrap();

    let timeline = log.read().unwrap();
    assert!(timeline.warnings.is_empty());
    assert_eq!(timeline.entries.len(), 3);
    let unknown = &timeline.entries[1];
    assert!(
        matches!(&unknown.kind, EntryKind::Unknown { kind, fields } if kind == "fleet_switch" && fields["replicas"] == 5),
        "{unknown:?}"
    );
    // Written back exactly as read.
    assert_eq!(serde_json::to_string(unknown).unwrap(), line);
    let review = clerk_incident_core::incident::report::render(&timeline);
    assert!(review.contains("Unknown entry"), "{review}");
    assert!(review.contains("fleet_switch"), "{review}");
}

#[test]
fn two_writers_with_their_own_files_lose_and_tear_nothing() {
    const PER_WRITER: usize = 500;
    let log = new_log("two_writers");
    let writers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|writer| {
            let path = log.path().to_owned();
            thread::spawn(move || {
                // Its own handle, so its own file descriptor on every append, as another
                // process would have.
                let log = IncidentLog::open(path).unwrap();
                for i in 0..PER_WRITER {
                    log.append(note(&format!("{writer}-{i}"))).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }

    let text = fs::read_to_string(log.path()).unwrap();
    assert!(text.ends_with('\n'));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 2 * PER_WRITER);
    let mut seen = HashSet::new();
    for line in &lines[1..] {
        let entry: Entry = serde_json::from_str(line).expect("every line is a whole entry");
        let EntryKind::Note { text } = entry.kind else {
            panic!("only notes were appended: {line}");
        };
        assert!(seen.insert(text), "no line written twice");
    }
    for writer in ["a", "b"] {
        for i in 0..PER_WRITER {
            assert!(
                seen.contains(&format!("{writer}-{i}")),
                "{writer}-{i} is there"
            );
        }
    }
    let timeline = log.read().unwrap();
    assert_eq!(timeline.entries.len(), 1 + 2 * PER_WRITER);
    assert!(timeline.entries.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn create_refuses_a_file_that_is_not_empty() {
    let dir = scratch("create");
    let path = dir.join("incident.jsonl");
    IncidentLog::create(&path, "first", Severity::Low, Category::Unknown).unwrap();
    let before = fs::read(&path).unwrap();

    let err = IncidentLog::create(&path, "second", Severity::Low, Category::Unknown).unwrap_err();
    assert!(matches!(err, IncidentError::Exists { .. }), "{err:?}");
    assert!(err.to_string().contains("already exists"));
    assert_eq!(
        fs::read(&path).unwrap(),
        before,
        "the first log is untouched"
    );

    let other = dir.join("other.txt");
    fs::write(&other, "not a log\n").unwrap();
    assert!(matches!(
        IncidentLog::create(&other, "t", Severity::Low, Category::Unknown),
        Err(IncidentError::Exists { .. })
    ));

    // An empty file, as `mktemp` makes, is fine.
    let empty = dir.join("empty.jsonl");
    fs::write(&empty, "").unwrap();
    let log = IncidentLog::create(&empty, "t", Severity::Low, Category::Unknown).unwrap();
    assert_eq!(log.read().unwrap().entries.len(), 1);
}

#[test]
fn missing_logs_and_directories_are_clear_errors() {
    let dir = scratch("missing");
    let path = dir.join("nope.jsonl");
    let err = IncidentLog::open(&path).unwrap_err();
    assert!(matches!(err, IncidentError::NotFound { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("incident log {} does not exist", path.display())
    );
    assert!(matches!(
        IncidentLog::open(&dir),
        Err(IncidentError::Io { .. })
    ));
    let err = IncidentLog::create(
        dir.join("no-such-dir").join("x.jsonl"),
        "t",
        Severity::Low,
        Category::Unknown,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            IncidentError::Io {
                operation: "create",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(std::error::Error::source(&err).is_some());

    // A log deleted after it was opened: appends do not recreate it.
    let log = new_log("deleted");
    fs::remove_file(log.path()).unwrap();
    assert!(matches!(
        log.append(note("x")),
        Err(IncidentError::NotFound { .. })
    ));
    assert!(!log.path().exists());
}

#[test]
fn secrets_never_reach_the_file() {
    let log = new_log("secrets");
    let entry = log
        .append(note(
            "pasted by mistake: sk_live_Abc123Def456Ghi789 and whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ))
        .unwrap();
    assert_eq!(
        entry.kind,
        note("pasted by mistake: sk_live_[redacted] and whsec_[redacted]")
    );
    let text = fs::read_to_string(log.path()).unwrap();
    assert!(!text.contains("Abc123Def456"), "{text}");
    assert!(!text.contains("MfKQ9r8GKYqr"), "{text}");
}
