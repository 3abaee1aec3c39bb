//! What a replay reports: progress while it runs, totals at the end.

use serde::Serialize;

use super::{EventCounts, PlannedEvent, Skipped};
use crate::webhooks::EventType;

/// An event of a running replay, in this order: `Listed`, `Checked` (with known ids), one
/// `Planned`, one `Sent` per event (none in a dry run), then the report is returned.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplayProgress {
    /// Clerk's users changed since the start time are listed.
    Listed {
        /// How many.
        changed_users: u64,
    },
    /// The known ids not among them were checked, 100 per request.
    Checked {
        /// Known ids checked.
        checked: u64,
        /// Of which Clerk no longer has.
        gone: u64,
    },
    /// The events to send are decided.
    Planned {
        /// Per type.
        planned: EventCounts,
        /// Left out.
        skipped: Skipped,
    },
    /// One event was delivered or failed.
    Sent {
        /// Delivered so far.
        delivered: u64,
        /// Failed so far.
        failed: u64,
        /// Events planned in all.
        total: u64,
    },
}

/// An event the endpoint did not accept, after the retries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FailedDelivery {
    /// The event type.
    pub event_type: EventType,
    /// The user.
    pub user_id: String,
    /// The `svix-id` sent; the same in the next replay.
    pub message_id: String,
    /// Why, such as `HTTP 503, after 5 attempts`.
    pub reason: String,
}

/// The outcome of a replay.
///
/// `delivered + failed.len()` equals `planned.total()` unless the run is a dry run, which
/// delivers nothing.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ReplayReport {
    /// The start of the window, Unix ms.
    pub since_ms: i64,
    /// Whether nothing was sent.
    pub dry_run: bool,
    /// The endpoint events went to (`--target`).
    pub target: String,
    /// Users Clerk lists as created or updated since `since_ms`.
    pub changed_users: u64,
    /// Ids in the known-ids file, when one was given.
    pub known_ids: Option<u64>,
    /// Known ids Clerk no longer has (sent as `user.deleted`).
    pub gone: u64,
    /// The events decided, per type.
    pub planned: EventCounts,
    /// The events delivered (2xx), per type.
    pub delivered: EventCounts,
    /// Users found but not sent.
    pub skipped: Skipped,
    /// The events that failed.
    pub failed: Vec<FailedDelivery>,
    /// The events decided, in sending order (for `--dry-run` and `--json`).
    pub events: Vec<PlannedEvent>,
    /// Backend API requests made.
    pub api_requests: u64,
    /// Wall time, in milliseconds.
    pub elapsed_ms: u64,
}

impl ReplayReport {
    /// Whether every planned event was delivered (always true of a dry run).
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }

    /// One line for humans and for the incident log, such as
    /// `delivered 30 (created 12, updated 15, deleted 3), skipped 4, failed 0`.
    pub fn summary(&self) -> String {
        let counts = |c: &EventCounts| {
            format!(
                "created {}, updated {}, deleted {}",
                c.created, c.updated, c.deleted
            )
        };
        if self.dry_run {
            return format!(
                "dry run: would deliver {} ({}), skipped {}",
                self.planned.total(),
                counts(&self.planned),
                self.skipped.total()
            );
        }
        format!(
            "delivered {} ({}), skipped {}, failed {}",
            self.delivered.total(),
            counts(&self.delivered),
            self.skipped.total(),
            self.failed.len()
        )
    }
}
