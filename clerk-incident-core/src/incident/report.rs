//! The runbook's post-incident review, rendered from a [`Timeline`] as Markdown.
//!
//! [`render`] fills in what the log knows (date, duration, severity, category, the timeline,
//! the root cause when the resolution gives one, the time spent in the bypass modes, the
//! repairs run, and the impact the actions counted: users signed out, webhook deliveries
//! dropped and replayed, requests served while auth was degraded; see
//! [`Timeline::counted_impact`]) and leaves a marked prompt (`> _TODO: …_`) wherever the log is silent, so that
//! the review meeting starts from facts and sees at a glance what is left to write.
//!
//! The output depends on the timeline only, never on the current time, so the same log always
//! renders the same review. Times are UTC.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use clerk_incident_core::incident::{Entry, EntryKind, Timeline, report};
//! use clerk_incident_core::triage::{Category, Severity};
//!
//! let at = |minute: u64| UNIX_EPOCH + Duration::from_secs(1_795_716_000 + 60 * minute);
//! let timeline: Timeline = [
//!     Entry::new(at(0), EntryKind::Started {
//!         title: "Sign-in failing".into(),
//!         severity: Severity::High,
//!         category: Category::ClerkOutage,
//!     }),
//!     Entry::new(at(5), EntryKind::ModeChange {
//!         from: "enforce".into(),
//!         to: "grace".into(),
//!         reason: "Clerk's API answers 503".into(),
//!     }),
//!     Entry::new(at(45), EntryKind::ModeChange {
//!         from: "grace".into(),
//!         to: "enforce".into(),
//!         reason: "Clerk recovered".into(),
//!     }),
//!     Entry::new(at(50), EntryKind::Resolved { summary: "Clerk recovered".into(), root_cause: None }),
//! ]
//! .into_iter()
//! .collect();
//!
//! let markdown = report::render(&timeline);
//! assert!(markdown.starts_with("# Post-incident review: Sign-in failing\n"));
//! assert!(markdown.contains("| **Duration** | 50 min |"));
//! assert!(markdown.contains("Auth was degraded for 40 min"));
//! assert!(markdown.contains("> _TODO: root cause — the log does not record it._"));
//! ```

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use super::action_counts::ActionCounts;
use super::entry::{Entry, EntryKind};
use super::leaked_key_section;
use super::markdown::{cell, code, one_line};
use super::redact::redact;
use super::timeline::Timeline;
use super::timestamp;
use crate::triage::Category;

/// Renders the post-incident review of `timeline` as Markdown.
///
/// Sections: a summary table (date, detection, resolution, duration, severity, category), the
/// summary, the timeline, the root cause, the impact (users affected, auth downtime, data
/// loss, repairs run), what the leaked key changed (when the log holds an audit, or the
/// incident is a key compromise) and the action items. Whatever the log does not record is a prompt
/// starting with `_TODO:`. Anything in the log that looks like a secret is redacted.
pub fn render(timeline: &Timeline) -> String {
    let clock = Clock::for_timeline(timeline);
    let spans = degraded_spans(timeline);
    let mut out = String::new();
    header(&mut out, timeline, &clock);
    summary(&mut out, timeline);
    table(&mut out, timeline, &clock);
    root_cause(&mut out, timeline);
    impact(&mut out, timeline, &clock, &spans);
    leaked_key_section::render(&mut out, timeline, |at| clock.full(at));
    action_items(&mut out, timeline, &spans);
    out
}

fn header(out: &mut String, timeline: &Timeline, clock: &Clock) {
    let title = timeline.title().map_or_else(
        || "untitled incident".to_owned(),
        |title| one_line(title).trim().to_owned(),
    );
    let _ = writeln!(out, "# Post-incident review: {title}\n");
    for warning in &timeline.warnings {
        let _ = writeln!(out, "> **Warning:** {}\n", one_line(warning));
    }
    let started = timeline.started_at();
    let date = started
        .and_then(|at| Some(format!("{} (UTC)", clock.date(at)?)))
        .unwrap_or_else(|| "unknown: the log has no start entry".to_owned());
    let detected = started.map_or_else(|| "unknown".to_owned(), |at| clock.full(at));
    let resolved = timeline
        .resolved_at()
        .map_or_else(|| "not resolved in the log".to_owned(), |at| clock.full(at));
    let duration = match (timeline.duration(), timeline.is_resolved()) {
        (Some(duration), _) => span(duration),
        (None, false) => "ongoing (not resolved in the log)".to_owned(),
        (None, true) => "unknown: the log has no start entry before its resolution".to_owned(),
    };
    let first = timeline.entries.iter().find_map(|entry| match &entry.kind {
        EntryKind::Started { severity, .. } => Some(*severity),
        _ => None,
    });
    let severity = match (timeline.severity(), first) {
        (Some(highest), Some(first)) if highest != first => {
            format!("{highest} (assessed {first} at detection)")
        }
        (Some(highest), _) => highest.to_string(),
        (None, _) => "unknown".to_owned(),
    };
    let declared = timeline.category().unwrap_or(Category::Unknown);
    let category = match timeline.triage_disagreement() {
        Some(triaged) => format!(
            "{} (the last triage said {}; re-declare with `clerk-incident incident category` if it was right)",
            declared.title(),
            triaged.title()
        ),
        None => declared.title().to_owned(),
    };
    let _ = writeln!(out, "| | |\n| --- | --- |");
    for (name, value) in [
        ("Date", date),
        ("Detected", detected),
        ("Resolved", resolved),
        ("Duration", duration),
        ("Severity", severity),
        ("Category", category),
    ] {
        let _ = writeln!(out, "| **{name}** | {value} |");
    }
    out.push('\n');
}

fn summary(out: &mut String, timeline: &Timeline) {
    out.push_str("## Summary\n\n");
    match timeline
        .resolution()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(text) => {
            let _ = writeln!(out, "{}\n", redact(text));
        }
        None => out.push_str("> _TODO: summary — the log records no resolution._\n\n"),
    }
}

fn table(out: &mut String, timeline: &Timeline, clock: &Clock) {
    out.push_str("## Timeline\n\n");
    if timeline.entries.is_empty() {
        out.push_str("> _TODO: timeline — the log has no entries._\n\n");
        return;
    }
    let zone = if clock.one_day {
        "Times are UTC, on the date above."
    } else {
        "Times are UTC."
    };
    let _ = writeln!(out, "{zone}\n");
    out.push_str("| Time | Event | Details |\n| --- | --- | --- |\n");
    let resolved_at = timeline.resolved_at();
    for entry in &timeline.entries {
        let (mut event, details) = describe(entry);
        if matches!(entry.kind, EntryKind::Note { .. })
            && resolved_at.is_some_and(|resolved| entry.at > resolved)
        {
            event = "Note (after resolution)";
        }
        let _ = writeln!(
            out,
            "| {} | {event} | {} |",
            clock.time(entry.at),
            cell(&details)
        );
    }
    out.push('\n');
}

/// The event name and details of a timeline row (not yet escaped for the table).
fn describe(entry: &Entry) -> (&'static str, String) {
    match &entry.kind {
        EntryKind::Started {
            title,
            severity,
            category,
        } => (
            "Detected",
            format!(
                "{} (severity {severity}, category {})",
                title.trim(),
                category.title()
            ),
        ),
        EntryKind::Note { text } => ("Note", text.trim().to_owned()),
        EntryKind::Triage {
            category,
            severity,
            summary,
            evidence,
        } => {
            let mut details = format!("{}, severity {severity}", category.title());
            with_reason(&mut details, summary);
            let evidence: Vec<&str> = evidence
                .iter()
                .map(|e| e.trim())
                .filter(|e| !e.is_empty())
                .collect();
            if !evidence.is_empty() {
                let _ = write!(details, " (evidence: {})", evidence.join("; "));
            }
            ("Triage", details)
        }
        EntryKind::ModeChange { from, to, reason } => {
            let mut details = format!("{} → {}", from.trim(), to.trim());
            with_reason(&mut details, reason);
            ("Auth mode", details)
        }
        EntryKind::Action {
            command, outcome, ..
        } => {
            let mut details = code(command.trim());
            with_reason(&mut details, outcome);
            ("Action", details)
        }
        EntryKind::Audit {
            window,
            complete,
            findings,
            not_checked,
        } => {
            let mut details = format!("{} finding(s) in {}", findings.len(), window.trim());
            if !complete {
                let _ = write!(
                    details,
                    "; incomplete: {} list(s) not checked",
                    not_checked.len()
                );
            }
            ("Key audit", details)
        }
        EntryKind::SeverityChanged { severity, reason } => {
            let mut details = format!("now {severity}");
            with_reason(&mut details, reason);
            ("Severity", details)
        }
        EntryKind::CategoryChanged { category, reason } => {
            let mut details = format!("now {}", category.title());
            with_reason(&mut details, reason);
            ("Category", details)
        }
        // The root cause has its own section.
        EntryKind::Resolved { summary, .. } => ("Resolved", summary.trim().to_owned()),
        EntryKind::Unknown { kind, .. } => (
            "Unknown entry",
            format!(
                "of kind `{kind}`, written by a newer clerk-incident: read it with that version"
            ),
        ),
    }
}

fn with_reason(details: &mut String, reason: &str) {
    let reason = reason.trim();
    if !reason.is_empty() {
        let _ = write!(details, ": {reason}");
    }
}

fn root_cause(out: &mut String, timeline: &Timeline) {
    out.push_str("## Root cause\n\n");
    match timeline.root_cause() {
        Some(cause) => {
            let _ = writeln!(out, "{}\n", redact(cause.trim()));
        }
        None => out.push_str("> _TODO: root cause — the log does not record it._\n\n"),
    }
}

fn impact(out: &mut String, timeline: &Timeline, clock: &Clock, spans: &[Span]) {
    let actions: Vec<(&Entry, &str, &str)> = timeline
        .entries
        .iter()
        .filter_map(|entry| match &entry.kind {
            EntryKind::Action {
                command,
                outcome,
                counts,
            } if is_repair(command, outcome, counts) => {
                Some((entry, command.as_str(), outcome.as_str()))
            }
            _ => None,
        })
        .collect();
    let impact = timeline.counted_impact();
    let counted = &impact.counts;

    out.push_str("## Impact\n\n### Users affected\n\n");
    if let (Some(users), Some(sessions)) = (counted.users_signed_out, counted.sessions_revoked) {
        let _ = writeln!(
            out,
            "{users} user(s) signed out: {sessions} session(s) revoked by the repairs below{}.\n",
            if impact.revocations_partial {
                " (at least: a counted action stopped early, and the log records no resume to its end)"
            } else {
                ""
            }
        );
    } else if actions.is_empty() {
        out.push_str("> _TODO: users affected — the log does not record it._\n\n");
    } else {
        out.push_str(
            "> _TODO: users affected — the log records no count; the repairs below may tell._\n\n",
        );
    }

    out.push_str("### Auth downtime\n\n");
    if spans.is_empty() {
        out.push_str(
            "> _TODO: auth downtime — the log records no auth mode change; how long could users \
             not sign in?_\n\n",
        );
    } else {
        let total: Duration = spans.iter().map(|s| s.length()).sum();
        let ongoing = spans.iter().any(|s| s.open_ended);
        let _ = writeln!(
            out,
            "Auth was degraded for {}{}, from the recorded auth mode changes:\n",
            if ongoing { "at least " } else { "" },
            span(total)
        );
        for s in spans {
            let _ = writeln!(
                out,
                "- {} mode{}: {}, {} to {}{}",
                s.mode.title(),
                s.mode.meaning(),
                span(s.length()),
                clock.time(s.from),
                clock.time(s.to),
                if s.open_ended {
                    " (the log records no return to enforce)"
                } else {
                    ""
                }
            );
        }
        out.push('\n');
    }
    if let Some(line) = degraded_traffic(counted) {
        let _ = writeln!(out, "{line}\n");
    }

    out.push_str("### Data loss\n\n");
    match webhook_loss(counted) {
        Some(line) => {
            let _ = writeln!(out, "{line}\n");
            if impact.replays_partial {
                out.push_str(
                    "A replay stopped early and was not run again to its end: the counts are a \
                     floor.\n\n",
                );
            }
            if !spans.is_empty() {
                out.push_str("> _TODO: other data loss — writes refused while auth was down?_\n\n");
            }
        }
        None => out.push_str(
            "> _TODO: data loss — the log does not record it (missed webhook events, writes \
             refused while auth was down?)._\n\n",
        ),
    }

    out.push_str("### Repairs run\n\n");
    if actions.is_empty() {
        out.push_str("None recorded in the log.\n\n");
    } else {
        for (entry, command, outcome) in actions {
            let mut line = code(command.trim());
            with_reason(&mut line, outcome);
            let _ = writeln!(out, "- {}: {}", clock.time(entry.at), one_line(&line));
        }
        out.push('\n');
    }
}

/// What the services served while auth was degraded, when the log counts it.
fn degraded_traffic(counted: &ActionCounts) -> Option<String> {
    let part = |count: Option<u64>, what: &str| count.map(|count| format!("{count} {what}"));
    let parts: Vec<String> = [
        part(
            counted.requests_bypassed,
            "request(s) let through without a valid session in open mode",
        ),
        part(
            counted.requests_in_grace,
            "served on an expired token in grace mode",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "{}, from the services' counters.",
            capitalised(&parts.join("; "))
        )
    })
}

/// What the log says about webhook deliveries the app missed, and their replay.
fn webhook_loss(counted: &ActionCounts) -> Option<String> {
    let replayed = counted.events_replayed;
    let failed = counted.replays_failed.unwrap_or(0);
    Some(match (counted.deliveries_dropped, replayed) {
        (Some(0), None) => "No webhook delivery was dropped.".to_owned(),
        (Some(dropped), Some(replayed)) if failed == 0 && replayed >= dropped => {
            if replayed == dropped {
                format!("{dropped} webhook deliveries dropped, all replayed.")
            } else {
                format!(
                    "{dropped} webhook deliveries dropped, all replayed ({replayed} events replayed)."
                )
            }
        }
        (Some(dropped), Some(replayed)) => format!(
            "{dropped} webhook deliveries dropped; {replayed} events replayed, {failed} could not \
             be: the app misses those changes until they are replayed again \
             (`clerk-incident webhooks replay`)."
        ),
        (Some(dropped), None) => format!(
            "{dropped} webhook deliveries dropped, none replayed: the app misses those changes \
             until they are (`clerk-incident webhooks replay`)."
        ),
        (None, Some(replayed)) => format!(
            "{replayed} webhook events replayed{}; the log does not record how many deliveries \
             were dropped (the Clerk Dashboard's webhook attempts show the failed ones).",
            if failed > 0 {
                format!(", {failed} could not be")
            } else {
                String::new()
            }
        ),
        (None, None) => return None,
    })
}

/// `text` with its first letter in upper case.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// True for an action that changed something (a revocation, a replay, a key deleted or
/// rotated): not the "started" line a command writes first, not a check, a dry run or the
/// printed checklist, and, when the action counts what it did, not one that changed nothing.
/// The timeline keeps them all.
fn is_repair(command: &str, outcome: &str, counts: &ActionCounts) -> bool {
    if !counts.is_empty() {
        return counts.changed_something();
    }
    let outcome = outcome.trim();
    let started = outcome == "started" || outcome.starts_with("started (");
    let looks_only = [
        "--dry-run",
        "keys checklist",
        "keys verify-new",
        "keys verify-old-revoked",
        "clerk-incident triage",
        "clerk-incident status",
    ]
    .iter()
    .any(|marker| command.contains(marker));
    !started && !looks_only
}

fn action_items(out: &mut String, timeline: &Timeline, spans: &[Span]) {
    out.push_str("## Action items\n\n");
    let mut totals: Vec<(&Mode, Duration)> = Vec::new();
    for s in spans {
        match totals.iter_mut().find(|(mode, _)| **mode == s.mode) {
            Some((_, total)) => *total += s.length(),
            None => totals.push((&s.mode, s.length())),
        }
    }
    for (mode, total) in totals {
        let _ = writeln!(
            out,
            "- [ ] Review the {} spent in {} mode{}",
            span(total),
            mode.title(),
            mode.review()
        );
    }
    if let Some(last) = spans.last().filter(|s| s.open_ended) {
        let _ = writeln!(
            out,
            "- [ ] Confirm that auth is back in enforce mode: the log's last auth mode change is \
             to {}.",
            last.mode.title()
        );
    }
    if !timeline.is_resolved() {
        out.push_str(
            "- [ ] Record the resolution once the incident is over \
             (`clerk-incident incident resolve`), then render this review again.\n",
        );
    }
    if let Some(item) = timeline.category().and_then(category_item) {
        let _ = writeln!(out, "- [ ] {item}");
    }
    leaked_key_section::action_items(out, timeline);
    out.push_str(
        "- [ ] _TODO: detection — how could this have been detected sooner?_\n\
         - [ ] _TODO: prevention — what change would stop it from happening again?_\n\
         - [ ] _TODO: runbook — what was missing or wrong in it?_\n\
         - [ ] _TODO: owners and due dates for each item._\n",
    );
}

/// The follow-up the runbook asks for after an incident of `category`.
fn category_item(category: Category) -> Option<&'static str> {
    Some(match category {
        Category::ClerkOutage => {
            "Link Clerk's incident report (status.clerk.com) and check its timeline against ours."
        }
        Category::KeyCompromise => {
            "Confirm that the old secret key is deleted and answers 401, that the sessions it \
             could reach are revoked, and find how it leaked."
        }
        Category::MiddlewareFailure => {
            "Add a test that reproduces the middleware failure, and alerting on its symptom."
        }
        Category::SessionIssues => {
            "Confirm that users can sign in and stay signed in, and find why sessions were lost."
        }
        Category::WebhookBacklog => {
            "Confirm that the app's user data caught up with Clerk (webhook replay) and that \
             deliveries succeed."
        }
        Category::ConfigurationError => {
            "Add a check that catches this configuration error before it reaches production."
        }
        _ => return None,
    })
}

/// An auth mode as the log names it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Mode {
    Enforce,
    Grace,
    Open,
    Other(String),
}

impl Mode {
    fn parse(name: &str) -> Self {
        let name = name.trim().to_ascii_lowercase();
        let word = name.split(|c: char| !c.is_ascii_alphanumeric()).next();
        match word.unwrap_or_default() {
            "enforce" | "false" | "off" => Mode::Enforce,
            "grace" => Mode::Grace,
            "open" | "true" | "bypass" => Mode::Open,
            _ => Mode::Other(name),
        }
    }

    fn title(&self) -> String {
        match self {
            Mode::Enforce => "enforce".to_owned(),
            Mode::Grace => "grace".to_owned(),
            Mode::Open => "open".to_owned(),
            Mode::Other(name) => format!("\"{}\"", one_line(name)),
        }
    }

    fn meaning(&self) -> &'static str {
        match self {
            Mode::Grace => " (expired tokens accepted)",
            Mode::Open => " (protected routes passed without a valid token)",
            _ => "",
        }
    }

    fn review(&self) -> &'static str {
        match self {
            Mode::Open => {
                ": which requests passed without a valid token? The middleware logged each one \
                 at warn level."
            }
            Mode::Grace => ": were expired tokens of revoked sessions or removed users accepted?",
            _ => ".",
        }
    }
}

/// A stretch of time spent in a mode other than enforce.
#[derive(Debug)]
struct Span {
    mode: Mode,
    from: SystemTime,
    to: SystemTime,
    /// The log records no switch out of the mode; `to` is the resolution or the last entry.
    open_ended: bool,
}

impl Span {
    fn length(&self) -> Duration {
        self.to.duration_since(self.from).unwrap_or_default()
    }
}

/// The stretches spent in grace, open or an unknown mode, from the mode changes. A mode
/// already on before the first change counts from the start entry; a mode still on at the end
/// counts up to the resolution (or the last entry while unresolved).
fn degraded_spans(timeline: &Timeline) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut current: Option<(Mode, SystemTime)> = None;
    for entry in &timeline.entries {
        let EntryKind::ModeChange { from, to, .. } = &entry.kind else {
            continue;
        };
        let (mode, since) = match current.take() {
            Some(current) => current,
            None => {
                let before = Mode::parse(from);
                match timeline.started_at().filter(|start| *start <= entry.at) {
                    Some(start) if before != Mode::Enforce => (before, start),
                    _ => (Mode::Enforce, entry.at),
                }
            }
        };
        if mode != Mode::Enforce {
            spans.push(Span {
                mode,
                from: since,
                to: entry.at,
                open_ended: false,
            });
        }
        current = Some((Mode::parse(to), entry.at));
    }
    if let Some((mode, since)) = current.filter(|(mode, _)| *mode != Mode::Enforce) {
        let end = timeline
            .resolved_at()
            .or_else(|| timeline.entries.last().map(|e| e.at))
            .filter(|end| *end >= since)
            .unwrap_or(since);
        spans.push(Span {
            mode,
            from: since,
            to: end,
            open_ended: true,
        });
    }
    spans
}

/// Formats times in UTC: just the time of day when the whole log falls on one date.
struct Clock {
    one_day: bool,
}

impl Clock {
    fn for_timeline(timeline: &Timeline) -> Self {
        let mut dates = timeline
            .entries
            .iter()
            .map(|entry| Self::split(entry.at).map(|(date, _)| date));
        let one_day = match dates.next() {
            Some(Some(first)) => dates.all(|date| date.as_deref() == Some(first.as_str())),
            _ => false,
        };
        Self { one_day }
    }

    /// `("2026-11-26", "18:04:05")`.
    fn split(at: SystemTime) -> Option<(String, String)> {
        let text = timestamp::format_seconds(at)?;
        Some((text.get(..10)?.to_owned(), text.get(11..19)?.to_owned()))
    }

    fn date(&self, at: SystemTime) -> Option<String> {
        Self::split(at).map(|(date, _)| date)
    }

    /// The time for the timeline: `18:04:05`, or `2026-11-26 18:04:05` across dates.
    fn time(&self, at: SystemTime) -> String {
        match Self::split(at) {
            Some((_, time)) if self.one_day => time,
            Some((date, time)) => format!("{date} {time}"),
            None => "(time out of range)".to_owned(),
        }
    }

    /// `2026-11-26 18:04:05 UTC`.
    fn full(&self, at: SystemTime) -> String {
        Self::split(at).map_or_else(
            || "(time out of range)".to_owned(),
            |(date, time)| format!("{date} {time} UTC"),
        )
    }
}

/// `45 s`, `12 min`, `1 h 12 min`: minutes rounded to the nearest.
fn span(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs < 60 {
        return format!("{secs} s");
    }
    let minutes = (secs + 30) / 60;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use crate::triage::Severity;

    use super::*;

    #[test]
    fn repairs_are_the_actions_that_changed_something() {
        let revoke = "clerk-incident sessions revoke --all";
        let none = ActionCounts::default();
        let is_repair = |command: &str, outcome: &str| super::is_repair(command, outcome, &none);
        assert!(is_repair(revoke, "revoked 4210 sessions of 1380 users"));
        assert!(is_repair(
            revoke,
            "interrupted by SIGTERM after 12 user(s): 30 revoked, 0 already inactive, 0 failed"
        ));
        assert!(!is_repair(revoke, "started"));
        assert!(!is_repair(revoke, "started (dry run)"));
        assert!(!is_repair(
            "clerk-incident sessions revoke --all --dry-run",
            "would revoke 5"
        ));
        assert!(!is_repair("clerk-incident keys checklist", "printed"));
        assert!(!is_repair("clerk-incident keys verify-new", "passed: …"));
        assert!(is_repair(
            "clerk-incident webhooks replay --since 6h --target https://app/hook",
            "delivered 30"
        ));
        // Counts decide when an action gives them.
        assert!(!super::is_repair(
            revoke,
            "revoked 0",
            &ActionCounts::revocation(0, 0)
        ));
        assert!(super::is_repair(
            revoke,
            "interrupted",
            &ActionCounts::revocation(2, 3).partial()
        ));
        assert!(!super::is_repair(
            "drill: service counters",
            "",
            &ActionCounts::degraded_traffic(4, 9)
        ));
    }

    #[test]
    fn impact_is_filled_from_the_counts_the_log_holds() {
        let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs);
        let action = |secs: u64, command: &str, outcome: &str, counts: ActionCounts| {
            Entry::new(
                at(secs),
                EntryKind::Action {
                    command: command.into(),
                    outcome: outcome.into(),
                    counts,
                },
            )
        };
        let revoke = "clerk-incident sessions revoke --all --checkpoint r.ckpt";
        let timeline: Timeline = [
            Entry::new(
                at(0),
                EntryKind::Started {
                    title: "t".into(),
                    severity: Severity::High,
                    category: Category::WebhookBacklog,
                },
            ),
            Entry::new(
                at(5),
                EntryKind::ModeChange {
                    from: "enforce".into(),
                    to: "grace".into(),
                    reason: "Clerk is down".into(),
                },
            ),
            action(
                10,
                revoke,
                "interrupted by SIGTERM after 5 user(s): 7 revoked",
                ActionCounts::revocation(5, 7).resumable("r.ckpt").partial(),
            ),
            action(
                20,
                "service counters",
                "",
                ActionCounts::degraded_traffic(3, 41),
            ),
            Entry::new(
                at(25),
                EntryKind::ModeChange {
                    from: "grace".into(),
                    to: "enforce".into(),
                    reason: "Clerk is back".into(),
                },
            ),
            action(
                30,
                "webhook endpoint",
                "",
                ActionCounts::default().dropped(30),
            ),
            action(
                40,
                "clerk-incident webhooks replay --since 1h",
                "delivered 30",
                ActionCounts::replay(30, 0),
            ),
        ]
        .into_iter()
        .collect();
        let review = render(&timeline);
        assert!(
            review.contains(
                "5 user(s) signed out: 7 session(s) revoked by the repairs below (at least: a \
                 counted action stopped early"
            ),
            "{review}"
        );
        assert!(
            review.contains(
                "3 request(s) let through without a valid session in open mode; 41 served on \
                 an expired token in grace mode, from the services' counters."
            ),
            "{review}"
        );
        assert!(
            review.contains("### Data loss\n\n30 webhook deliveries dropped, all replayed.\n"),
            "{review}"
        );
        assert!(!review.contains("TODO: data loss"), "{review}");
        assert!(!review.contains("TODO: users affected"), "{review}");
        assert!(
            review.contains("interrupted by SIGTERM after 5 user(s): 7 revoked"),
            "the interrupted run's partial counts are in the repairs: {review}"
        );
        let repairs = review
            .split("### Repairs run")
            .nth(1)
            .and_then(|rest| rest.split("## Action items").next())
            .unwrap_or_default();
        assert!(repairs.contains("webhooks replay"), "{repairs}");
        assert!(
            !repairs.contains("service counters"),
            "counters are no repair: {repairs}"
        );

        // The resume to the end replaces the partial counts.
        let mut resumed = timeline;
        resumed.entries.push(action(
            50,
            revoke,
            "revoked 20 session(s) of 12 user(s)",
            ActionCounts::revocation(12, 20).resumable("r.ckpt"),
        ));
        let review = render(&resumed);
        assert!(
            review.contains("12 user(s) signed out: 20 session(s) revoked by the repairs below.\n"),
            "{review}"
        );
    }

    #[test]
    fn notes_after_the_resolution_say_so() {
        let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs);
        let timeline: Timeline = [
            Entry::new(
                at(0),
                EntryKind::Started {
                    title: "t".into(),
                    severity: Severity::High,
                    category: Category::ClerkOutage,
                },
            ),
            Entry::new(
                at(10),
                EntryKind::Note {
                    text: "during".into(),
                },
            ),
            Entry::new(
                at(20),
                EntryKind::Resolved {
                    summary: "over".into(),
                    root_cause: None,
                },
            ),
            Entry::new(
                at(30),
                EntryKind::Note {
                    text: "later".into(),
                },
            ),
        ]
        .into_iter()
        .collect();
        let review = render(&timeline);
        assert!(review.contains("| Note | during |"), "{review}");
        assert!(
            review.contains("| Note (after resolution) | later |"),
            "{review}"
        );
    }

    #[test]
    fn spans_round_to_minutes() {
        assert_eq!(span(Duration::from_secs(45)), "45 s");
        assert_eq!(span(Duration::from_secs(60)), "1 min");
        assert_eq!(span(Duration::from_secs(12 * 60 + 29)), "12 min");
        assert_eq!(span(Duration::from_secs(12 * 60 + 30)), "13 min");
        assert_eq!(span(Duration::from_secs(3599)), "1 h");
        assert_eq!(span(Duration::from_secs(72 * 60)), "1 h 12 min");
    }

    #[test]
    fn cells_stay_in_their_column() {
        assert_eq!(cell("a | b\nc\r\n\nd"), "a \\| b c d");
        assert_eq!(code("revoke --all"), "`revoke --all`");
        assert_eq!(code("echo `x`"), "`` echo `x` ``");
    }

    #[test]
    fn modes_are_read_leniently() {
        assert_eq!(Mode::parse("Grace (max token age 30m)"), Mode::Grace);
        assert_eq!(Mode::parse(" OPEN"), Mode::Open);
        assert_eq!(Mode::parse("enforce"), Mode::Enforce);
        assert_eq!(Mode::parse("panic"), Mode::Other("panic".into()));
    }

    #[test]
    fn a_mode_on_before_the_first_change_counts_from_the_start() {
        let at = |minute: u64| UNIX_EPOCH + Duration::from_secs(1_795_716_000 + 60 * minute);
        let timeline: Timeline = [
            Entry::new(
                at(0),
                EntryKind::Started {
                    title: "t".into(),
                    severity: crate::triage::Severity::High,
                    category: Category::ClerkOutage,
                },
            ),
            Entry::new(
                at(10),
                EntryKind::ModeChange {
                    from: "open".into(),
                    to: "grace".into(),
                    reason: String::new(),
                },
            ),
            Entry::new(
                at(25),
                EntryKind::Note {
                    text: "still down".into(),
                },
            ),
        ]
        .into_iter()
        .collect();
        let spans = degraded_spans(&timeline);
        assert_eq!(spans.len(), 2);
        assert_eq!(
            spans
                .iter()
                .map(|s| (s.mode.clone(), s.length(), s.open_ended))
                .collect::<Vec<_>>(),
            [
                (Mode::Open, Duration::from_secs(600), false),
                (Mode::Grace, Duration::from_secs(900), true)
            ]
        );
    }
}
