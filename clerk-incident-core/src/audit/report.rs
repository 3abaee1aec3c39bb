//! [`AuditReport`]: what the audit found, what it read, and what it could not see.

use serde::{Deserialize, Serialize};

use super::finding::Finding;
use crate::incident::{AuditedChange, EntryKind};

/// Unix ms as RFC 3339 to the second, for people and the incident log.
pub(crate) fn rfc3339(at_ms: i64) -> String {
    let millis = u64::try_from(at_ms).unwrap_or(0);
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(millis);
    humantime::format_rfc3339_seconds(at).to_string()
}

/// The time window an audit looks at: from the leak to the rotation (or now), Unix ms, both
/// ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditWindow {
    /// From (the earliest moment the key may have leaked).
    pub since_ms: i64,
    /// To (the rotation, or now).
    pub until_ms: i64,
}

impl AuditWindow {
    /// Whether `at_ms` falls in the window.
    pub fn contains(&self, at_ms: i64) -> bool {
        (self.since_ms..=self.until_ms).contains(&at_ms)
    }
}

impl std::fmt::Display for AuditWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} to {}",
            rfc3339(self.since_ms),
            rfc3339(self.until_ms)
        )
    }
}

/// A list the audit read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CheckedList {
    /// The check, such as `users created`.
    pub check: String,
    /// Objects read.
    pub items: u64,
    /// Backend API requests it took (retries included).
    pub calls: u64,
}

/// A check that could not be completed: what it found before failing is kept, the rest is
/// unknown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NotChecked {
    /// The check, such as `SAML connections`.
    pub check: String,
    /// Why (Clerk's error, never the key).
    pub error: String,
}

/// How an audit ended, for exit codes and summaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Every check ran and found nothing.
    Clean,
    /// Every check ran and something was found.
    Findings,
    /// At least one check could not run: whatever was found, the answer is incomplete.
    Incomplete,
}

/// Everything an audit learnt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditReport {
    /// The window looked at.
    pub window: AuditWindow,
    /// When the baseline compared against was taken, if there was one.
    pub baseline_taken_at_ms: Option<i64>,
    /// What was found, oldest first (findings without a time last).
    pub findings: Vec<Finding>,
    /// The lists read.
    pub checked: Vec<CheckedList>,
    /// The checks that failed.
    pub not_checked: Vec<NotChecked>,
    /// What the audit cannot see, in words.
    pub blind_spots: Vec<String>,
    /// Backend API requests in all.
    pub calls: u64,
}

impl AuditReport {
    /// True when every check ran.
    pub fn is_complete(&self) -> bool {
        self.not_checked.is_empty()
    }

    /// Clean, findings, or incomplete.
    pub fn outcome(&self) -> AuditOutcome {
        if !self.is_complete() {
            AuditOutcome::Incomplete
        } else if self.findings.is_empty() {
            AuditOutcome::Clean
        } else {
            AuditOutcome::Findings
        }
    }

    /// The incident log's record of this audit (`clerk-incident audit --incident FILE`).
    pub fn incident_entry(&self) -> EntryKind {
        EntryKind::Audit {
            window: self.window.to_string(),
            complete: self.is_complete(),
            findings: self
                .findings
                .iter()
                .map(|finding| {
                    let change = AuditedChange::new(
                        finding.kind.to_string(),
                        finding.id.clone(),
                        finding.what.clone(),
                        finding.undo.clone(),
                    );
                    match finding.at_ms {
                        Some(at) => change.at(rfc3339(at)),
                        None => change,
                    }
                })
                .collect(),
            not_checked: self
                .not_checked
                .iter()
                .map(|check| format!("{}: {}", check.check, check.error))
                .collect(),
        }
    }

    /// Sorts the findings oldest first, those without a time last, then by kind and id.
    pub(crate) fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            let time = |f: &Finding| (f.at_ms.is_none(), f.at_ms);
            time(a)
                .cmp(&time(b))
                .then_with(|| a.kind.cmp(&b.kind))
                .then_with(|| a.id.cmp(&b.id))
        });
    }
}
