//! [`Entry`] and [`EntryKind`]: one line of the log.

use std::time::SystemTime;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::action_counts::ActionCounts;
use super::audited_change::AuditedChange;
use super::redact::redact;
use super::timestamp::{self, rfc3339_millis};
use crate::triage::{Category, Severity};

/// One event of an incident: when, and what.
///
/// On disk an entry is one JSON object on one line; the time is `at`, the kind's tag is `type`
/// and the kind's fields sit beside them:
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use clerk_incident_core::incident::{Entry, EntryKind};
///
/// let at = UNIX_EPOCH + Duration::from_millis(1_795_716_245_123);
/// let entry = Entry::new(at, EntryKind::Note { text: "status page confirms".into() });
/// let line = serde_json::to_string(&entry)?;
/// assert_eq!(
///     line,
///     r#"{"at":"2026-11-26T18:04:05.123Z","type":"note","text":"status page confirms"}"#
/// );
/// assert_eq!(serde_json::from_str::<Entry>(&line)?, entry);
///
/// // A kind this version does not know (a newer binary wrote it) is kept, not refused.
/// let newer = r#"{"at":"2026-11-26T18:05:00.000Z","type":"fleet_switch","mode":"grace"}"#;
/// let entry: Entry = serde_json::from_str(newer)?;
/// assert!(matches!(&entry.kind, EntryKind::Unknown { kind, .. } if kind == "fleet_switch"));
/// assert_eq!(serde_json::to_string(&entry)?, newer);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Entry {
    /// When it happened, to the millisecond; RFC 3339 in UTC on disk
    /// (`2026-11-26T18:04:05.123Z`).
    pub at: SystemTime,
    /// What happened.
    pub kind: EntryKind,
}

/// An entry of a kind this version knows, as the derived serde code reads and writes it.
#[derive(Serialize, Deserialize)]
struct KnownEntry<K> {
    #[serde(with = "rfc3339_millis")]
    at: SystemTime,
    #[serde(flatten)]
    kind: K,
}

/// The time of an entry of a kind this version does not know.
#[derive(Deserialize)]
struct EntryTime {
    #[serde(with = "rfc3339_millis")]
    at: SystemTime,
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let EntryKind::Unknown { kind, fields } = &self.kind else {
            return KnownEntry {
                at: self.at,
                kind: &self.kind,
            }
            .serialize(serializer);
        };
        let mut map = serializer.serialize_map(Some(fields.len() + 2))?;
        let at = timestamp::format_millis(self.at).ok_or_else(|| {
            serde::ser::Error::custom("the entry time is outside the years 1970 to 9999")
        })?;
        map.serialize_entry("at", &at)?;
        map.serialize_entry("type", kind)?;
        for (name, value) in fields {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = Map::deserialize(deserializer)?;
        let kind = match fields.get("type") {
            Some(Value::String(kind)) => kind.clone(),
            _ => return Err(de::Error::missing_field("type")),
        };
        if EntryKind::KNOWN.contains(&kind.as_str()) {
            let known: KnownEntry<EntryKind> =
                serde_json::from_value(Value::Object(fields)).map_err(de::Error::custom)?;
            return Ok(Self {
                at: known.at,
                kind: known.kind,
            });
        }
        let EntryTime { at } = serde_json::from_value(Value::Object(
            fields
                .get("at")
                .map(|at| ("at".to_owned(), at.clone()))
                .into_iter()
                .collect(),
        ))
        .map_err(de::Error::custom)?;
        fields.remove("at");
        fields.remove("type");
        Ok(Self {
            at,
            kind: EntryKind::Unknown { kind, fields },
        })
    }
}

impl Entry {
    /// An entry at `at`, cut to the millisecond (the precision of the log, so that the entry
    /// reads back equal).
    pub fn new(at: SystemTime, kind: EntryKind) -> Self {
        Self {
            at: timestamp::to_millis(at),
            kind,
        }
    }
}

/// What happened, as the runbook's steps record it.
///
/// Every text field is free text that an operator typed or a summary one of our commands
/// produced. **Commands must never put secrets in an entry**: no secret keys, webhook secrets,
/// tokens or personal data beyond user ids. As a safety net,
/// [`IncidentLog::append`](super::IncidentLog::append) replaces anything that looks like a
/// Clerk secret key (`sk_live_…`, `sk_test_…`), a webhook secret (`whsec_…`) or a JWT before
/// writing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EntryKind {
    /// The incident was detected and the log opened. The first entry of every log.
    Started {
        /// A short title, such as `Sign-in failing: Clerk API answers 503`.
        title: String,
        /// The severity first assessed.
        severity: Severity,
        /// The category first assessed.
        category: Category,
    },
    /// A free-text note.
    Note {
        /// The note.
        text: String,
    },
    /// A triage result (`clerk-incident triage --incident FILE`).
    Triage {
        /// The category the evidence points to.
        category: Category,
        /// How bad it is.
        severity: Severity,
        /// One line saying what is wrong.
        summary: String,
        /// The observations behind it, one per item.
        #[serde(default)]
        evidence: Vec<String>,
    },
    /// The auth mode changed: `enforce`, `grace` or `open` (see
    /// [`AuthMode::name`](crate::auth::AuthMode::name)).
    ModeChange {
        /// The mode before.
        from: String,
        /// The mode after.
        to: String,
        /// Why: who switched it, or that the bypass expired by itself.
        reason: String,
    },
    /// A repair one of the commands ran: a revocation run, a key rotation step, a webhook
    /// replay…
    Action {
        /// The command, without secrets, such as `clerk-incident revoke --all`.
        command: String,
        /// What came of it, such as `revoked 4210 sessions of 1380 users`.
        outcome: String,
        /// What it changed, counted, for the review's Impact section (`counts` on disk,
        /// omitted when empty).
        #[serde(default, skip_serializing_if = "ActionCounts::is_empty")]
        counts: ActionCounts,
    },
    /// A key-compromise audit ran (`clerk-incident audit --incident FILE`): what it found in
    /// its window, and whether every list could be read.
    Audit {
        /// The window, such as `2026-12-03T09:00:00Z to 2026-12-03T11:30:00Z`.
        window: String,
        /// False when a list could not be read: the findings are then incomplete.
        complete: bool,
        /// What the leaked key created or changed.
        #[serde(default)]
        findings: Vec<AuditedChange>,
        /// The checks that could not run, each with why.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        not_checked: Vec<String>,
    },
    /// The severity was reassessed.
    SeverityChanged {
        /// The new severity.
        severity: Severity,
        /// Why.
        reason: String,
    },
    /// The incident was re-declared as another category (the review's category from then on:
    /// triage results are evidence, never applied by themselves).
    CategoryChanged {
        /// The new category.
        category: Category,
        /// Why.
        reason: String,
    },
    /// The incident is over.
    Resolved {
        /// How it ended.
        summary: String,
        /// The root cause, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        root_cause: Option<String>,
    },
    /// An entry of a kind this version does not know, written by a newer `clerk-incident`:
    /// kept as it was read (and written back unchanged), shown as unknown.
    #[serde(skip)]
    Unknown {
        /// Its `type` tag.
        kind: String,
        /// Its other fields, as read.
        fields: Map<String, Value>,
    },
}

impl EntryKind {
    /// The `type` tags of the kinds this version knows; any other is read as
    /// [`Unknown`](Self::Unknown).
    pub const KNOWN: [&'static str; 9] = [
        "started",
        "note",
        "triage",
        "mode_change",
        "action",
        "audit",
        "severity_changed",
        "category_changed",
        "resolved",
    ];

    /// The `type` tag, such as `mode_change`.
    ///
    /// ```
    /// use clerk_incident_core::incident::EntryKind;
    ///
    /// let kind = EntryKind::Note { text: "paged the app team".into() };
    /// assert_eq!(kind.name(), "note");
    /// ```
    pub fn name(&self) -> &str {
        match self {
            EntryKind::Unknown { kind, .. } => kind,
            EntryKind::Started { .. } => "started",
            EntryKind::Note { .. } => "note",
            EntryKind::Triage { .. } => "triage",
            EntryKind::ModeChange { .. } => "mode_change",
            EntryKind::Action { .. } => "action",
            EntryKind::Audit { .. } => "audit",
            EntryKind::SeverityChanged { .. } => "severity_changed",
            EntryKind::CategoryChanged { .. } => "category_changed",
            EntryKind::Resolved { .. } => "resolved",
        }
    }

    /// The same entry with secret-looking text replaced.
    pub(crate) fn redacted(self) -> Self {
        fn clean(text: String) -> String {
            match redact(&text) {
                std::borrow::Cow::Borrowed(_) => text,
                std::borrow::Cow::Owned(clean) => clean,
            }
        }
        match self {
            EntryKind::Started {
                title,
                severity,
                category,
            } => EntryKind::Started {
                title: clean(title),
                severity,
                category,
            },
            EntryKind::Note { text } => EntryKind::Note { text: clean(text) },
            EntryKind::Triage {
                category,
                severity,
                summary,
                evidence,
            } => EntryKind::Triage {
                category,
                severity,
                summary: clean(summary),
                evidence: evidence.into_iter().map(clean).collect(),
            },
            EntryKind::ModeChange { from, to, reason } => EntryKind::ModeChange {
                from: clean(from),
                to: clean(to),
                reason: clean(reason),
            },
            EntryKind::Action {
                command,
                outcome,
                counts,
            } => EntryKind::Action {
                command: clean(command),
                outcome: clean(outcome),
                counts: ActionCounts {
                    run: counts.run.map(clean),
                    ..counts
                },
            },
            EntryKind::Audit {
                window,
                complete,
                findings,
                not_checked,
            } => EntryKind::Audit {
                window: clean(window),
                complete,
                findings: findings
                    .into_iter()
                    .map(|finding| AuditedChange {
                        kind: clean(finding.kind),
                        id: clean(finding.id),
                        at: finding.at.map(clean),
                        what: clean(finding.what),
                        undo: clean(finding.undo),
                    })
                    .collect(),
                not_checked: not_checked.into_iter().map(clean).collect(),
            },
            EntryKind::SeverityChanged { severity, reason } => EntryKind::SeverityChanged {
                severity,
                reason: clean(reason),
            },
            EntryKind::CategoryChanged { category, reason } => EntryKind::CategoryChanged {
                category,
                reason: clean(reason),
            },
            EntryKind::Resolved {
                summary,
                root_cause,
            } => EntryKind::Resolved {
                summary: clean(summary),
                root_cause: root_cause.map(clean),
            },
            EntryKind::Unknown { kind, fields } => EntryKind::Unknown {
                kind: clean(kind),
                fields: fields
                    .into_iter()
                    .map(|(name, value)| match value {
                        Value::String(text) => (name, Value::String(clean(text))),
                        other => (name, other),
                    })
                    .collect(),
            },
        }
    }
}

/// The log entry of a triage: its verdict, summary and the evidence that decided it.
impl From<&crate::triage::TriageReport> for EntryKind {
    fn from(report: &crate::triage::TriageReport) -> Self {
        EntryKind::Triage {
            category: report.classification.category,
            severity: report.classification.severity,
            summary: report.classification.summary.to_owned(),
            evidence: report
                .classification
                .evidence
                .iter()
                .map(|e| e.detail.clone())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn lines_are_flat_json_with_a_type_tag() {
        let at = UNIX_EPOCH + Duration::from_millis(1_795_716_245_123);
        let entry = Entry::new(
            at,
            EntryKind::Resolved {
                summary: "Clerk recovered".into(),
                root_cause: None,
            },
        );
        let line = serde_json::to_string(&entry).unwrap();
        assert_eq!(
            line,
            r#"{"at":"2026-11-26T18:04:05.123Z","type":"resolved","summary":"Clerk recovered"}"#
        );
        assert_eq!(serde_json::from_str::<Entry>(&line).unwrap(), entry);
    }

    #[test]
    fn bad_entries_do_not_parse() {
        for line in [
            r#"{"at":"yesterday","type":"note","text":"x"}"#,
            r#"{"at":"yesterday","type":"party"}"#,
            r#"{"type":"party"}"#,
            r#"{"at":"2026-11-26T18:04:05.123Z","type":7}"#,
            r#"{"at":"2026-11-26T18:04:05.123Z"}"#,
            r#"{"type":"note","text":"x"}"#,
            r#"{"at":"2026-11-26T18:04:05Z","type":"note"}"#,
        ] {
            assert!(serde_json::from_str::<Entry>(line).is_err(), "{line}");
        }
    }

    #[test]
    fn every_kind_is_known_by_its_name() {
        let kinds = [
            EntryKind::Started {
                title: String::new(),
                severity: Severity::Low,
                category: Category::Unknown,
            },
            EntryKind::Note {
                text: String::new(),
            },
            EntryKind::Triage {
                category: Category::Unknown,
                severity: Severity::Low,
                summary: String::new(),
                evidence: Vec::new(),
            },
            EntryKind::ModeChange {
                from: String::new(),
                to: String::new(),
                reason: String::new(),
            },
            EntryKind::Action {
                command: String::new(),
                outcome: String::new(),
                counts: ActionCounts::default(),
            },
            EntryKind::Audit {
                window: String::new(),
                complete: true,
                findings: Vec::new(),
                not_checked: Vec::new(),
            },
            EntryKind::SeverityChanged {
                severity: Severity::Low,
                reason: String::new(),
            },
            EntryKind::CategoryChanged {
                category: Category::Unknown,
                reason: String::new(),
            },
            EntryKind::Resolved {
                summary: String::new(),
                root_cause: None,
            },
        ];
        let names: Vec<&str> = kinds.iter().map(EntryKind::name).collect();
        assert_eq!(names, EntryKind::KNOWN);
    }

    #[test]
    fn redaction_reaches_every_text_field() {
        let kind = EntryKind::Triage {
            category: Category::KeyCompromise,
            severity: Severity::Critical,
            summary: "sk_live_0123456789abcdef works".into(),
            evidence: vec!["whsec_0123456789abcdef".into(), "fine".into()],
        }
        .redacted();
        assert_eq!(
            kind,
            EntryKind::Triage {
                category: Category::KeyCompromise,
                severity: Severity::Critical,
                summary: "sk_live_[redacted] works".into(),
                evidence: vec!["whsec_[redacted]".into(), "fine".into()],
            }
        );
        let change = super::AuditedChange::new(
            "api_key.created",
            "ak_1",
            "key sk_test_0123456789abcdef",
            "curl -H \"Authorization: Bearer sk_live_0123456789abcdef\"",
        );
        let EntryKind::Audit {
            findings,
            not_checked,
            ..
        } = (EntryKind::Audit {
            window: "w".into(),
            complete: false,
            findings: vec![change],
            not_checked: vec!["users: sk_live_0123456789abcdef".into()],
        })
        .redacted()
        else {
            panic!("still an audit");
        };
        assert_eq!(findings[0].what, "key sk_test_[redacted]");
        assert!(findings[0].undo.contains("sk_live_[redacted]"));
        assert_eq!(not_checked, ["users: sk_live_[redacted]"]);
    }
}
