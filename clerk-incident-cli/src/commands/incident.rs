//! `clerk-incident incident`: start, annotate, resolve and show an incident log.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clerk_incident_core::incident::{
    ActionCounts, Entry, EntryKind, IncidentError, IncidentLog, Timeline,
};
use serde_json::json;

use crate::cli::{
    IncidentAction, IncidentCategoryArgs, IncidentLogArgs, IncidentNoteArgs, IncidentResolveArgs,
    IncidentStartArgs,
};
use crate::exit_code::Exit;
use crate::global_args::GlobalArgs;
use crate::terminal;

pub(crate) fn run(global: &GlobalArgs, action: &IncidentAction) -> Exit {
    let result = match action {
        IncidentAction::Start(args) => start(global, args),
        IncidentAction::Note(args) => note(global, args),
        IncidentAction::Category(args) => category(global, args),
        IncidentAction::Resolve(args) => match refuse_second_resolve(args) {
            Some(problem) => {
                terminal::problem(&problem);
                return Exit::Failure;
            }
            None => resolve(global, args),
        },
        IncidentAction::Show(args) => show(global, args),
    };
    match result {
        Ok(()) => Exit::Ok,
        Err(err) => {
            terminal::problem(&explain(&err));
            Exit::Failure
        }
    }
}

fn start(global: &GlobalArgs, args: &IncidentStartArgs) -> Result<(), IncidentError> {
    let log = IncidentLog::create(&args.log.path, &args.title, args.severity, args.category)?;
    let timeline = log.read()?;
    // The title as the log keeps it: anything that looks like a secret already redacted.
    let title = timeline.title().unwrap_or_default().to_owned();
    let entry = timeline.entries.into_iter().next();
    if global.json {
        terminal::json(&json!({ "path": log.path(), "entry": entry }));
    } else {
        terminal::out(format!(
            "Started incident log {}: {} (severity {}, category {}).",
            log.path().display(),
            title,
            args.severity,
            args.category
        ));
        terminal::out(format!(
            "Pass --incident {0} to the other commands to record what they do; \
             `clerk-incident report --incident {0}` renders the review.",
            log.path().display()
        ));
    }
    Ok(())
}

fn note(global: &GlobalArgs, args: &IncidentNoteArgs) -> Result<(), IncidentError> {
    let log = IncidentLog::open(&args.log.path)?;
    let entry = log.append(EntryKind::Note {
        text: args.text.join(" "),
    })?;
    print_appended(global, &log, &entry, "Noted");
    Ok(())
}

fn category(global: &GlobalArgs, args: &IncidentCategoryArgs) -> Result<(), IncidentError> {
    let log = IncidentLog::open(&args.log.path)?;
    let entry = log.append(EntryKind::CategoryChanged {
        category: args.category,
        reason: args.reason.clone(),
    })?;
    print_appended(global, &log, &entry, "Category changed");
    Ok(())
}

/// Why a resolve must not go ahead: the incident was resolved already (and `--amend` was not
/// given). A log that cannot be read is left to `resolve` to report.
fn refuse_second_resolve(args: &IncidentResolveArgs) -> Option<String> {
    if args.amend {
        return None;
    }
    let timeline = IncidentLog::open(&args.log.path).ok()?.read().ok()?;
    let at = timeline.resolved_at()?;
    Some(format!(
        "{} was resolved already, at {}: add --amend to replace its summary (the earlier \
         resolution stays in the log)",
        args.log.path.display(),
        timestamp(at)
    ))
}

fn resolve(global: &GlobalArgs, args: &IncidentResolveArgs) -> Result<(), IncidentError> {
    let log = IncidentLog::open(&args.log.path)?;
    let entry = log.append(EntryKind::Resolved {
        summary: args.summary.clone(),
        root_cause: args.root_cause.clone(),
    })?;
    let timeline = log.read()?;
    warn(&timeline);
    if global.json {
        terminal::json(&json!({
            "path": log.path(),
            "entry": entry,
            "duration_secs": timeline.duration().map(|d| d.as_secs()),
        }));
        return Ok(());
    }
    print_appended(global, &log, &entry, "Resolved");
    if let Some(duration) = timeline.duration() {
        terminal::out(format!("Duration from detection: {}.", elapsed(duration)));
    }
    terminal::out(format!(
        "Render the post-incident review: clerk-incident report --incident {}",
        log.path().display()
    ));
    Ok(())
}

fn show(global: &GlobalArgs, args: &IncidentLogArgs) -> Result<(), IncidentError> {
    let log = IncidentLog::open(&args.path)?;
    let timeline = log.read()?;
    warn(&timeline);
    if global.json {
        terminal::json(&json!({
            "path": log.path(),
            "title": timeline.title(),
            "severity": timeline.severity(),
            "category": timeline.category(),
            "started_at": timeline.started_at().map(timestamp),
            "resolved_at": timeline.resolved_at().map(timestamp),
            "duration_secs": timeline.duration().map(|d| d.as_secs()),
            "entries": timeline.entries,
            "warnings": timeline.warnings,
        }));
        return Ok(());
    }
    terminal::out(headline(&timeline));
    for entry in &timeline.entries {
        terminal::out(format!(
            "{}  {:<16}  {}",
            timestamp(entry.at),
            entry.kind.name(),
            details(&entry.kind)
        ));
    }
    Ok(())
}

fn print_appended(global: &GlobalArgs, log: &IncidentLog, entry: &Entry, what: &str) {
    if global.json {
        terminal::json(&json!({ "path": log.path(), "entry": entry }));
    } else {
        terminal::out(format!(
            "{what} in {} at {}.",
            log.path().display(),
            timestamp(entry.at)
        ));
    }
}

/// `Title — critical, Clerk outage, resolved after 1h 12m 34s`.
fn headline(timeline: &Timeline) -> String {
    let mut line = timeline.title().unwrap_or("(no start entry)").to_owned();
    let _ = write!(
        line,
        " — {}, {}, ",
        timeline
            .severity()
            .map_or_else(|| "severity unknown".to_owned(), |s| s.to_string()),
        timeline
            .category()
            .map_or("category unknown", |c| c.title()),
    );
    match (timeline.duration(), timeline.started_at()) {
        (Some(duration), _) => {
            let _ = write!(line, "resolved after {}", elapsed(duration));
        }
        (None, _) if timeline.is_resolved() => line.push_str("resolved"),
        (None, Some(started)) => {
            let _ = write!(line, "ongoing since {}", timestamp(started));
        }
        (None, None) => line.push_str("ongoing"),
    }
    line
}

/// One entry's fields on one line.
fn details(kind: &EntryKind) -> String {
    let text = match kind {
        EntryKind::Started {
            title,
            severity,
            category,
        } => format!("{title} ({severity}, {category})"),
        EntryKind::Note { text } => text.clone(),
        EntryKind::Triage {
            category,
            severity,
            summary,
            evidence,
        } => format!(
            "{category}, {severity}: {summary} ({} evidence item(s))",
            evidence.len()
        ),
        EntryKind::ModeChange { from, to, reason } => format!("{from} -> {to}: {reason}"),
        EntryKind::Action {
            command, outcome, ..
        } => format!("{command}: {outcome}"),
        EntryKind::SeverityChanged { severity, reason } => format!("{severity}: {reason}"),
        EntryKind::CategoryChanged { category, reason } => format!("{category}: {reason}"),
        EntryKind::Resolved {
            summary,
            root_cause,
        } => match root_cause {
            Some(cause) => format!("{summary} (root cause: {cause})"),
            None => summary.clone(),
        },
        EntryKind::Unknown { kind, .. } => {
            format!(
                "(an entry of kind `{kind}` this version does not know: written by a newer clerk-incident)"
            )
        }
        other => other.name().to_owned(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Prints the warnings reading the log produced (an incomplete last line) on stderr.
pub(crate) fn warn(timeline: &Timeline) {
    for warning in &timeline.warnings {
        terminal::problem(&format!("warning: {warning}"));
    }
}

/// Appends an Action entry of `command` to `log`, when there is one; false (after saying why)
/// when it could not be written.
pub(crate) fn record_action(log: Option<&IncidentLog>, command: &str, outcome: String) -> bool {
    record_counted(log, command, outcome, ActionCounts::default())
}

/// [`record_action`] with what the action changed, counted, for the review's Impact section.
pub(crate) fn record_counted(
    log: Option<&IncidentLog>,
    command: &str,
    outcome: String,
    counts: ActionCounts,
) -> bool {
    let Some(log) = log else {
        return true;
    };
    match log.append(EntryKind::Action {
        command: command.to_owned(),
        outcome,
        counts,
    }) {
        Ok(_) => true,
        Err(err) => {
            terminal::problem(&explain(&err));
            false
        }
    }
}

/// The error, its sources, and what to do about it.
pub(crate) fn explain(err: &IncidentError) -> String {
    let mut message = terminal::error_chain(err);
    let hint = match err {
        IncidentError::Exists { .. } => Some(
            "pick another file for a new incident, or add to this one with \
             `clerk-incident incident note`",
        ),
        IncidentError::NotFound { .. } => {
            Some("start one with `clerk-incident incident start --incident FILE --title TITLE`")
        }
        IncidentError::Corrupt { .. } => {
            Some("the file was edited or damaged; fix or remove that line")
        }
        _ => None,
    };
    if let Some(hint) = hint {
        let _ = write!(message, " ({hint})");
    }
    message
}

/// `2026-11-26T18:04:05.123Z`.
pub(crate) fn timestamp(at: SystemTime) -> String {
    let mut text = String::new();
    // humantime panics before 1970 and fails after 9999; entries read from a log are inside.
    if at.duration_since(UNIX_EPOCH).is_err()
        || write!(text, "{}", humantime::format_rfc3339_millis(at)).is_err()
    {
        return "(time out of range)".to_owned();
    }
    text
}

/// `1h 12m 34s`: whole seconds.
fn elapsed(duration: Duration) -> String {
    humantime::format_duration(Duration::from_secs(duration.as_secs())).to_string()
}

/// Whether two paths name the same existing file.
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_fit_on_one_line() {
        let kind = EntryKind::Note {
            text: "two\nlines  and\tspaces".into(),
        };
        assert_eq!(details(&kind), "two lines and spaces");
        assert_eq!(
            timestamp(UNIX_EPOCH + Duration::from_millis(1_795_716_245_123)),
            "2026-11-26T18:04:05.123Z"
        );
        assert_eq!(
            timestamp(UNIX_EPOCH - Duration::from_secs(1)),
            "(time out of range)"
        );
        assert_eq!(elapsed(Duration::from_millis(4_354_877)), "1h 12m 34s");
    }
}
