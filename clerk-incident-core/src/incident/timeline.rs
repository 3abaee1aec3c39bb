//! [`Timeline`]: a log read back, and what it says about the incident.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::entry::{Entry, EntryKind};
use crate::triage::{Category, Severity};

/// Every entry of a log, in file order, with the warnings reading it produced.
///
/// The helpers answer the post-incident review's questions; each is `None` when the log does
/// not say.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use clerk_incident_core::incident::{Entry, EntryKind, Timeline};
/// use clerk_incident_core::triage::{Category, Severity};
///
/// let at = |minute: u64| UNIX_EPOCH + Duration::from_secs(1_795_716_000 + 60 * minute);
/// let timeline: Timeline = [
///     Entry::new(at(0), EntryKind::Started {
///         title: "Sign-in failing".into(),
///         severity: Severity::High,
///         category: Category::Unknown,
///     }),
///     Entry::new(at(3), EntryKind::Triage {
///         category: Category::ClerkOutage,
///         severity: Severity::Critical,
///         summary: "Clerk's Backend API answers 503".into(),
///         evidence: vec![],
///     }),
///     Entry::new(at(72), EntryKind::Resolved { summary: "Clerk recovered".into(), root_cause: None }),
/// ]
/// .into_iter()
/// .collect();
///
/// assert_eq!(timeline.title(), Some("Sign-in failing"));
/// assert_eq!(timeline.duration(), Some(Duration::from_secs(72 * 60)));
/// assert_eq!(timeline.severity(), Some(Severity::Critical));
/// assert_eq!(timeline.category(), Some(Category::ClerkOutage));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// The entries, in the order of the file.
    pub entries: Vec<Entry>,
    /// What reading skipped, such as an incomplete last line.
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl Timeline {
    /// The [`EntryKind::Started`] entry's fields (the first, should there be several).
    fn started(&self) -> Option<(&Entry, &str, Severity, Category)> {
        self.entries.iter().find_map(|entry| match &entry.kind {
            EntryKind::Started {
                title,
                severity,
                category,
            } => Some((entry, title.as_str(), *severity, *category)),
            _ => None,
        })
    }

    /// The last [`EntryKind::Resolved`] entry's time, summary and root cause.
    fn resolved(&self) -> Option<(SystemTime, &str, Option<&str>)> {
        self.entries
            .iter()
            .rev()
            .find_map(|entry| match &entry.kind {
                EntryKind::Resolved {
                    summary,
                    root_cause,
                } => Some((entry.at, summary.as_str(), root_cause.as_deref())),
                _ => None,
            })
    }

    /// The incident's title, from the [`EntryKind::Started`] entry.
    pub fn title(&self) -> Option<&str> {
        self.started().map(|(_, title, _, _)| title)
    }

    /// When the incident was detected: the [`EntryKind::Started`] entry's time.
    pub fn started_at(&self) -> Option<SystemTime> {
        self.started().map(|(entry, ..)| entry.at)
    }

    /// When it was resolved: the first [`EntryKind::Resolved`] entry's time.
    pub fn resolved_at(&self) -> Option<SystemTime> {
        // The first resolution ended the incident; a later one (`--amend`) only rewords it.
        self.entries
            .iter()
            .find(|entry| matches!(entry.kind, EntryKind::Resolved { .. }))
            .map(|entry| entry.at)
    }

    /// Whether the log records a resolution.
    pub fn is_resolved(&self) -> bool {
        self.resolved().is_some()
    }

    /// How it ended: the last [`EntryKind::Resolved`] entry's summary.
    pub fn resolution(&self) -> Option<&str> {
        self.resolved().map(|(_, summary, _)| summary)
    }

    /// The root cause, when the resolution records a non-blank one.
    pub fn root_cause(&self) -> Option<&str> {
        self.resolved()
            .and_then(|(.., cause)| cause)
            .filter(|cause| !cause.trim().is_empty())
    }

    /// From detection to resolution; `None` while unresolved (or when the resolution is
    /// stamped before the start, which only a hand edit can do).
    pub fn duration(&self) -> Option<Duration> {
        self.resolved_at()?.duration_since(self.started_at()?).ok()
    }

    /// The highest severity any entry assessed (start, triage, reassessment).
    pub fn severity(&self) -> Option<Severity> {
        self.entries
            .iter()
            .filter_map(|entry| match &entry.kind {
                EntryKind::Started { severity, .. }
                | EntryKind::Triage { severity, .. }
                | EntryKind::SeverityChanged { severity, .. } => Some(*severity),
                _ => None,
            })
            .max()
    }

    /// The category: the last triage's, or else the start's.
    ///
    /// A triage that found nothing ([`Category::Healthy`] or [`Category::Unknown`], typically
    /// a check after recovery) does not override an earlier finding or a category the
    /// operator gave at the start.
    pub fn category(&self) -> Option<Category> {
        let decisive = |c: &Category| !matches!(c, Category::Healthy | Category::Unknown);
        let started = self.started().map(|(.., category)| category);
        let triaged: Vec<Category> = self
            .entries
            .iter()
            .filter_map(|entry| match &entry.kind {
                EntryKind::Triage { category, .. } => Some(*category),
                _ => None,
            })
            .collect();
        triaged
            .iter()
            .rev()
            .copied()
            .find(decisive)
            .or(started.filter(decisive))
            .or(triaged.last().copied())
            .or(started)
    }
}

impl FromIterator<Entry> for Timeline {
    fn from_iter<I: IntoIterator<Item = Entry>>(entries: I) -> Self {
        Self {
            entries: entries.into_iter().collect(),
            warnings: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn at(minute: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_795_716_000 + 60 * minute)
    }

    fn triage(minute: u64, category: Category, severity: Severity) -> Entry {
        Entry::new(
            at(minute),
            EntryKind::Triage {
                category,
                severity,
                summary: String::new(),
                evidence: vec![],
            },
        )
    }

    #[test]
    fn an_empty_log_says_nothing() {
        let timeline = Timeline::default();
        assert_eq!(timeline.title(), None);
        assert_eq!(timeline.duration(), None);
        assert_eq!(timeline.severity(), None);
        assert_eq!(timeline.category(), None);
        assert!(!timeline.is_resolved());
    }

    #[test]
    fn a_healthy_check_after_recovery_keeps_the_finding() {
        let start = Entry::new(
            at(0),
            EntryKind::Started {
                title: "t".into(),
                severity: Severity::Medium,
                category: Category::SessionIssues,
            },
        );
        let timeline: Timeline = [
            start.clone(),
            triage(1, Category::ClerkOutage, Severity::High),
            triage(50, Category::Healthy, Severity::None),
        ]
        .into_iter()
        .collect();
        assert_eq!(timeline.category(), Some(Category::ClerkOutage));
        assert_eq!(timeline.severity(), Some(Severity::High));

        let timeline: Timeline = [start, triage(50, Category::Healthy, Severity::None)]
            .into_iter()
            .collect();
        assert_eq!(timeline.category(), Some(Category::SessionIssues));

        let timeline: Timeline = [triage(50, Category::Healthy, Severity::None)]
            .into_iter()
            .collect();
        assert_eq!(timeline.category(), Some(Category::Healthy));
    }

    #[test]
    fn the_last_resolution_counts() {
        let resolved = |minute, cause: Option<&str>| {
            Entry::new(
                at(minute),
                EntryKind::Resolved {
                    summary: format!("at {minute}"),
                    root_cause: cause.map(str::to_owned),
                },
            )
        };
        let timeline: Timeline = [
            Entry::new(
                at(0),
                EntryKind::Started {
                    title: "t".into(),
                    severity: Severity::Low,
                    category: Category::Unknown,
                },
            ),
            resolved(10, Some("first guess")),
            resolved(30, Some("  ")),
        ]
        .into_iter()
        .collect();
        assert_eq!(timeline.duration(), Some(Duration::from_secs(30 * 60)));
        assert_eq!(timeline.resolution(), Some("at 30"));
        assert_eq!(timeline.root_cause(), None);
    }
}
