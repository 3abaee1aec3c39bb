//! The post-incident review: a golden file for a complete incident, prompts where the log is
//! silent, and the computed duration.
//!
//! To re-create the golden file after an intended change of the format, run
//! `UPDATE_GOLDEN=1 cargo test -p clerk-incident-core --test incident_report` and review the
//! diff of `tests/fixtures/incident-report.md`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clerk_incident_core::incident::{Entry, EntryKind, IncidentLog, Timeline, report};
use clerk_incident_core::triage::{Category, Severity};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// 2026-11-26T18:00:00Z plus `secs`.
fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_716_000 + secs)
}

fn started() -> Entry {
    Entry::new(
        at(0),
        EntryKind::Started {
            title: "Random logouts".into(),
            severity: Severity::Medium,
            category: Category::SessionIssues,
        },
    )
}

#[test]
fn the_review_of_a_complete_incident_matches_the_golden_file() {
    let fixtures = Path::new(FIXTURES);
    let timeline = IncidentLog::open(fixtures.join("incident.jsonl"))
        .unwrap()
        .read()
        .unwrap();
    assert!(timeline.warnings.is_empty());
    let markdown = report::render(&timeline);

    let golden = fixtures.join("incident-report.md");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &markdown).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap();
    assert_eq!(
        markdown, expected,
        "the review changed; if intended, re-create the golden file with UPDATE_GOLDEN=1"
    );
    assert_eq!(
        report::render(&timeline),
        markdown,
        "rendering is deterministic"
    );
}

#[test]
fn the_duration_is_computed_from_detection_to_resolution() {
    let timeline: Timeline = [
        started(),
        Entry::new(
            at(30),
            EntryKind::Note {
                text: "users report logouts".into(),
            },
        ),
        Entry::new(
            at(2 * 3600 + 5 * 60 + 10),
            EntryKind::Resolved {
                summary: "the session lifetime was set back to 7 days".into(),
                root_cause: Some("a dashboard change cut the session lifetime to 5 min".into()),
            },
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(timeline.duration(), Some(Duration::from_secs(7510)));
    let markdown = report::render(&timeline);
    assert!(
        markdown.contains("| **Duration** | 2 h 5 min |"),
        "{markdown}"
    );
    assert!(markdown.contains("| **Detected** | 2026-11-26 18:00:00 UTC |"));
    assert!(markdown.contains("| **Resolved** | 2026-11-26 20:05:10 UTC |"));
    assert!(markdown.contains("## Root cause\n\na dashboard change cut the session lifetime"));
    assert!(!markdown.contains("TODO: root cause"));
    assert!(!markdown.contains("ongoing"));
}

#[test]
fn prompts_mark_what_the_log_does_not_record() {
    let timeline: Timeline = [
        started(),
        Entry::new(
            at(120),
            EntryKind::Note {
                text: "looking into it".into(),
            },
        ),
    ]
    .into_iter()
    .collect();
    let markdown = report::render(&timeline);
    for prompt in [
        "| **Duration** | ongoing (not resolved in the log) |",
        "| **Resolved** | not resolved in the log |",
        "> _TODO: summary — the log records no resolution._",
        "> _TODO: root cause — the log does not record it._",
        "> _TODO: users affected — the log does not record it._",
        "> _TODO: auth downtime — the log records no auth mode change",
        "> _TODO: data loss — the log does not record it",
        "- [ ] Record the resolution once the incident is over",
        "- [ ] _TODO: detection — how could this have been detected sooner?_",
    ] {
        assert!(
            markdown.contains(prompt),
            "missing {prompt:?} in:\n{markdown}"
        );
    }
    assert!(markdown.contains("| 18:02:00 | Note | looking into it |"));
}

#[test]
fn time_in_bypass_modes_is_impact_and_an_action_item() {
    let mode = |secs, from: &str, to: &str| {
        Entry::new(
            at(secs),
            EntryKind::ModeChange {
                from: from.into(),
                to: to.into(),
                reason: String::new(),
            },
        )
    };
    // Open from 18:10 to 18:55 and still open at the last entry, a day later.
    let timeline: Timeline = [
        started(),
        mode(600, "enforce", "open"),
        mode(3300, "open", "grace"),
        mode(3900, "grace", "open"),
        Entry::new(
            at(86_400 + 60),
            EntryKind::Note {
                text: "forgot to switch back".into(),
            },
        ),
    ]
    .into_iter()
    .collect();
    let markdown = report::render(&timeline);
    // From 18:10 to 18:01 the next day, the last entry: 45 min open, 10 min grace, then open
    // for 22 h 56 min.
    assert!(
        markdown.contains("Auth was degraded for at least 23 h 51 min,"),
        "{markdown}"
    );
    assert!(markdown.contains("- [ ] Review the 23 h 41 min spent in open mode"));
    assert!(markdown.contains("- [ ] Review the 10 min spent in grace mode"));
    assert!(markdown.contains("- [ ] Confirm that auth is back in enforce mode"));
    // Across two dates, the timeline shows dates.
    assert!(markdown.contains("| 2026-11-27 18:01:00 | Note | forgot to switch back |"));
}

#[test]
fn secrets_in_a_hand_edited_log_are_redacted_in_the_review() {
    let timeline: Timeline = [
        started(),
        Entry::new(
            at(60),
            EntryKind::Note {
                text: "old key sk_live_0123456789abcdef".into(),
            },
        ),
    ]
    .into_iter()
    .collect();
    let markdown = report::render(&timeline);
    assert!(markdown.contains("old key sk_live_[redacted]"));
    assert!(!markdown.contains("0123456789abcdef"));
}
