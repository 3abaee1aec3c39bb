//! The incident's timeline: an append-only log, and the post-incident review rendered from it.
//!
//! One file per incident, one JSON object per line. [`IncidentLog::create`] opens it with a
//! [`Started`](EntryKind::Started) entry; then every command run with `--incident FILE`
//! appends what it did (a triage result, an auth mode change, a revocation run, a key rotation
//! step, an operator's note) and [`Resolved`](EntryKind::Resolved) closes it.
//! [`IncidentLog::read`] gives the [`Timeline`] back and [`report::render`] turns it into the
//! runbook's post-incident review in Markdown.
//!
//! ```text
//! {"at":"2026-11-26T18:04:05.123Z","type":"started","title":"Sign-in failing","severity":"high","category":"unknown"}
//! {"at":"2026-11-26T18:06:41.002Z","type":"triage","category":"clerk_outage","severity":"critical","summary":"Clerk's Backend API answers 503","evidence":["status page: major outage"]}
//! {"at":"2026-11-26T18:09:12.480Z","type":"mode_change","from":"enforce","to":"grace","reason":"operator: Clerk is down"}
//! {"at":"2026-11-26T19:16:40.000Z","type":"resolved","summary":"Clerk recovered","root_cause":"Clerk's API outage"}
//! ```
//!
//! Several processes may append to one log at once (each append is one locked write of one
//! whole line), and a line cut short by a crash costs that line only.
//!
//! **Entries must never contain secrets.** They are free text typed by an operator and
//! summaries written by our commands, and they end up in a review document: commands write
//! what they did (`revoked 4210 sessions`), never a secret key, webhook secret or token.
//! [`IncidentLog::append`] replaces anything that looks like one anyway, as a safety net.
//!
//! # Example
//!
//! ```
//! use clerk_incident_core::incident::{EntryKind, IncidentLog, report};
//! use clerk_incident_core::triage::{Category, Severity};
//!
//! # let dir = std::env::temp_dir().join(format!("incident-mod-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let path = dir.join("incident.jsonl");
//! # let _ = std::fs::remove_file(&path);
//! let log = IncidentLog::create(&path, "Sign-in failing", Severity::High, Category::Unknown)?;
//! log.append(EntryKind::ModeChange {
//!     from: "enforce".into(),
//!     to: "grace".into(),
//!     reason: "Clerk's API answers 503".into(),
//! })?;
//! log.append(EntryKind::Resolved {
//!     summary: "Clerk recovered; back in enforce mode".into(),
//!     root_cause: Some("Clerk's API outage".into()),
//! })?;
//!
//! let timeline = log.read()?;
//! assert!(timeline.is_resolved());
//! let review = report::render(&timeline);
//! assert!(review.contains("## Root cause\n\nClerk's API outage"));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod action_counts;
mod audited_change;
mod entry;
mod error;
mod leaked_key_section;
mod log;
mod markdown;
mod redact;
pub mod report;
mod timeline;
mod timestamp;

pub use self::action_counts::{ActionCounts, CountedImpact};
pub use self::audited_change::AuditedChange;
pub use self::entry::{Entry, EntryKind};
pub use self::error::IncidentError;
pub use self::log::IncidentLog;
pub use self::redact::redact;
pub use self::timeline::Timeline;
