//! The review's "What the leaked key changed": the findings of the log's key-compromise
//! audits, what each one's undo is, and what the audits could not check.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::SystemTime;

use super::audited_change::AuditedChange;
use super::entry::EntryKind;
use super::markdown::{cell, code};
use super::timeline::Timeline;
use crate::triage::Category;

/// What the log's audits found together: every finding once (the latest audit's version),
/// and the latest audit's completeness.
struct Audits<'a> {
    runs: usize,
    findings: Vec<&'a AuditedChange>,
    last_window: &'a str,
    last_at: SystemTime,
    complete: bool,
    not_checked: &'a [String],
}

fn audits(timeline: &Timeline) -> Option<Audits<'_>> {
    let mut found: BTreeMap<(&str, &str), &AuditedChange> = BTreeMap::new();
    let mut last = None;
    let mut runs = 0;
    for entry in &timeline.entries {
        if let EntryKind::Audit {
            window,
            complete,
            findings,
            not_checked,
        } = &entry.kind
        {
            runs += 1;
            for finding in findings {
                found.insert((finding.kind.as_str(), finding.id.as_str()), finding);
            }
            last = Some((window.as_str(), entry.at, *complete, not_checked.as_slice()));
        }
    }
    let (last_window, last_at, complete, not_checked) = last?;
    let mut findings: Vec<&AuditedChange> = found.into_values().collect();
    findings
        .sort_by(|a, b| (a.at.is_none(), &a.at, &a.kind).cmp(&(b.at.is_none(), &b.at, &b.kind)));
    Some(Audits {
        runs,
        findings,
        last_window,
        last_at,
        complete,
        not_checked,
    })
}

/// The section, when the log holds an audit or the incident is a key compromise.
pub(super) fn render(out: &mut String, timeline: &Timeline, time: impl Fn(SystemTime) -> String) {
    let compromise = timeline.category() == Some(Category::KeyCompromise);
    let Some(audits) = audits(timeline) else {
        if compromise {
            out.push_str(
                "## What the leaked key changed\n\n_TODO: no audit in the log. Run `clerk-incident audit --since <leak> --incident <this log>` (with `--baseline` if you have a snapshot) and render this review again._\n\n",
            );
        }
        return;
    };
    out.push_str("## What the leaked key changed\n\n");
    let _ = writeln!(
        out,
        "{} audit run(s); the last at {}, over {}.{}\n",
        audits.runs,
        time(audits.last_at),
        audits.last_window.trim(),
        if audits.complete {
            " Every list was read."
        } else {
            " **Incomplete**: some lists could not be read (below)."
        }
    );
    if audits.findings.is_empty() && audits.complete {
        out.push_str("Nothing the Backend API lists was created or changed in the window.\n\n");
    } else if audits.findings.is_empty() {
        out.push_str("Nothing found in the lists that could be read; the others were not checked (below).\n\n");
    } else {
        out.push_str("| When | Change | Id | What | Undo |\n| --- | --- | --- | --- | --- |\n");
        for finding in &audits.findings {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(finding.at.as_deref().unwrap_or("unknown")),
                cell(&finding.kind),
                code(&finding.id),
                cell(&finding.what),
                cell(&code(&finding.undo)),
            );
        }
        out.push('\n');
    }
    if !audits.not_checked.is_empty() {
        out.push_str("Not checked:\n\n");
        for check in audits.not_checked {
            let _ = writeln!(out, "- {}", cell(check));
        }
        out.push('\n');
    }
}

/// The follow-ups: undo the findings, finish an incomplete audit, take baselines.
pub(super) fn action_items(out: &mut String, timeline: &Timeline) {
    let Some(audits) = audits(timeline) else {
        return;
    };
    if !audits.findings.is_empty() {
        let _ = writeln!(
            out,
            "- [ ] Undo or confirm each of the {} change(s) the leaked key made (see What the leaked key changed).",
            audits.findings.len()
        );
    }
    if !audits.complete {
        out.push_str(
            "- [ ] Run the audit again until every list is read: the last one was incomplete.\n",
        );
    }
    out.push_str(
        "- [ ] Take audit baselines regularly (`clerk-incident audit snapshot --out FILE`).\n",
    );
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use crate::incident::report::render;
    use crate::incident::{AuditedChange, Entry, EntryKind, Timeline};
    use crate::triage::{Category, Severity};

    fn timeline(entries: Vec<EntryKind>) -> Timeline {
        let at = |n: u64| UNIX_EPOCH + Duration::from_secs(1_800_000_000 + n * 60);
        let mut all = vec![Entry::new(
            at(0),
            EntryKind::Started {
                title: "key leaked".into(),
                severity: Severity::Critical,
                category: Category::KeyCompromise,
            },
        )];
        all.extend(
            entries
                .into_iter()
                .enumerate()
                .map(|(n, kind)| Entry::new(at(n as u64 + 1), kind)),
        );
        Timeline {
            entries: all,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn findings_of_every_audit_are_listed_once_with_their_undo() {
        let change = AuditedChange::new(
            "redirect_url.created",
            "ru_1",
            "url https://evil.example",
            "curl -X DELETE \"x/v1/redirect_urls/ru_1\"",
        )
        .at("2027-01-15T08:00:00Z");
        let audit = |findings: Vec<AuditedChange>, complete: bool| EntryKind::Audit {
            window: "2027-01-15T07:00:00Z to 2027-01-15T09:00:00Z".into(),
            complete,
            findings,
            not_checked: if complete {
                Vec::new()
            } else {
                vec!["SAML connections: 500".into()]
            },
        };
        let review = render(&timeline(vec![
            audit(vec![change.clone()], false),
            audit(
                vec![
                    change,
                    AuditedChange::new(
                        "domain.created",
                        "dmn_1",
                        "name evil.example",
                        "curl -X DELETE",
                    ),
                ],
                true,
            ),
        ]));
        let section = review
            .split("## What the leaked key changed")
            .nth(1)
            .unwrap()
            .split("## Action items")
            .next()
            .unwrap();
        assert!(section.contains("2 audit run(s)"), "{section}");
        assert!(section.contains("Every list was read."), "{section}");
        assert_eq!(section.matches("ru_1`").count(), 1, "{section}");
        assert!(
            section.contains("| unknown | domain.created |"),
            "{section}"
        );
        assert!(
            review.contains("Undo or confirm each of the 2 change(s)"),
            "{review}"
        );
        assert!(review.contains("| Key audit |"), "{review}");
    }

    #[test]
    fn a_key_compromise_without_an_audit_asks_for_one() {
        let review = render(&timeline(Vec::new()));
        assert!(review.contains("_TODO: no audit in the log."), "{review}");
    }
}
