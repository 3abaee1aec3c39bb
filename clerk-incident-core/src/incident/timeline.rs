//! [`Timeline`]: a log read back, and what it says about the incident.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::action_counts::CountedImpact;
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

    /// The category the incident was declared with: the last [`EntryKind::CategoryChanged`],
    /// else the start's. Triage results are evidence, not declarations: only when the start
    /// left it unknown and nothing re-declared it does the last decisive triage fill it in.
    pub fn category(&self) -> Option<Category> {
        let changed = self
            .entries
            .iter()
            .rev()
            .find_map(|entry| match &entry.kind {
                EntryKind::CategoryChanged { category, .. } => Some(*category),
                _ => None,
            });
        let started = self.started().map(|(.., category)| category);
        changed
            .or(started.filter(|category| *category != Category::Unknown))
            .or_else(|| self.last_decisive_triage())
            .or(started)
    }

    /// The last triage's category when it found something ([`Category::Healthy`] and
    /// [`Category::Unknown`] say nothing) that differs from the declared
    /// [`category`](Self::category): shown beside it in the review, never applied.
    pub fn triage_disagreement(&self) -> Option<Category> {
        let triaged = self.last_decisive_triage()?;
        (Some(triaged) != self.category()).then_some(triaged)
    }

    /// The counts of every action, summed: users signed out, sessions revoked, webhook
    /// deliveries dropped and events replayed, requests served while auth was degraded. A
    /// resumable run (the same [`ActionCounts::run`](super::ActionCounts::run)) counts once,
    /// by the largest of each count among its parts (a resumed part holds the earlier parts'
    /// counts); the flags say which kind of count is a floor because its action stopped
    /// early.
    ///
    /// ```
    /// use std::time::UNIX_EPOCH;
    /// use clerk_incident_core::incident::{ActionCounts, Entry, EntryKind, Timeline};
    ///
    /// let action = |outcome: &str, counts: ActionCounts| {
    ///     Entry::new(UNIX_EPOCH, EntryKind::Action {
    ///         command: "clerk-incident sessions revoke --all".into(),
    ///         outcome: outcome.into(),
    ///         counts,
    ///     })
    /// };
    /// let timeline: Timeline = [
    ///     action("interrupted", ActionCounts::revocation(4, 9).resumable("run.ckpt").partial()),
    ///     action("revoked 20", ActionCounts::revocation(10, 20).resumable("run.ckpt")),
    ///     action("revoked 1", ActionCounts::revocation(1, 1)),
    /// ]
    /// .into_iter()
    /// .collect();
    /// let impact = timeline.counted_impact();
    /// assert_eq!(impact.counts.sessions_revoked, Some(21));
    /// assert_eq!(impact.counts.users_signed_out, Some(11));
    /// assert!(!impact.revocations_partial, "the interrupted part was resumed to its end");
    /// ```
    pub fn counted_impact(&self) -> CountedImpact {
        CountedImpact::of(self.entries.iter().filter_map(|entry| match &entry.kind {
            EntryKind::Action { counts, .. } if !counts.is_empty() => Some(counts),
            _ => None,
        }))
    }

    fn last_decisive_triage(&self) -> Option<Category> {
        self.entries
            .iter()
            .rev()
            .find_map(|entry| match &entry.kind {
                EntryKind::Triage { category, .. }
                    if !matches!(category, Category::Healthy | Category::Unknown) =>
                {
                    Some(*category)
                }
                _ => None,
            })
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
        // Declared session issues: the triage that said otherwise is shown, not applied.
        assert_eq!(timeline.category(), Some(Category::SessionIssues));
        assert_eq!(timeline.triage_disagreement(), Some(Category::ClerkOutage));
        assert_eq!(timeline.severity(), Some(Severity::High));

        let timeline: Timeline = [start, triage(50, Category::Healthy, Severity::None)]
            .into_iter()
            .collect();
        assert_eq!(timeline.category(), Some(Category::SessionIssues));

        let timeline: Timeline = [triage(50, Category::Healthy, Severity::None)]
            .into_iter()
            .collect();
        assert_eq!(
            timeline.category(),
            None,
            "a healthy check declares nothing"
        );
    }

    #[test]
    fn an_unknown_start_takes_the_triage_and_a_redeclaration_wins() {
        let start = |category| {
            Entry::new(
                at(0),
                EntryKind::Started {
                    title: "t".into(),
                    severity: Severity::High,
                    category,
                },
            )
        };
        let timeline: Timeline = [
            start(Category::Unknown),
            triage(1, Category::ClerkOutage, Severity::High),
        ]
        .into_iter()
        .collect();
        assert_eq!(timeline.category(), Some(Category::ClerkOutage));
        assert_eq!(timeline.triage_disagreement(), None);

        let timeline: Timeline = [
            start(Category::ClerkOutage),
            triage(1, Category::ClerkOutage, Severity::High),
            Entry::new(
                at(5),
                EntryKind::CategoryChanged {
                    category: Category::MiddlewareFailure,
                    reason: "Clerk was up".into(),
                },
            ),
        ]
        .into_iter()
        .collect();
        assert_eq!(timeline.category(), Some(Category::MiddlewareFailure));
        assert_eq!(timeline.triage_disagreement(), Some(Category::ClerkOutage));
    }

    #[test]
    fn the_first_resolution_ends_it_and_the_last_words_it() {
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
        // An amended resolution rewords the incident's end; it does not move it.
        assert_eq!(timeline.duration(), Some(Duration::from_secs(10 * 60)));
        assert_eq!(timeline.resolution(), Some("at 30"));
        assert_eq!(timeline.root_cause(), None);
    }
}
