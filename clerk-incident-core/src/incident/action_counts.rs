//! [`ActionCounts`]: what an action changed, counted, so that the review's Impact section can
//! say how many users were signed out or how many webhook events were replayed instead of
//! asking.

use serde::{Deserialize, Serialize};

/// What an [`Action`](super::EntryKind::Action) changed, counted. A command fills what it
/// knows and leaves the rest `None`; the review sums them.
///
/// On disk it is the action's `counts` object, omitted when empty:
///
/// ```
/// use clerk_incident_core::incident::ActionCounts;
///
/// let counts = ActionCounts::revocation(12, 30).resumable("revoke.ckpt").partial();
/// assert_eq!(
///     serde_json::to_string(&counts)?,
///     r#"{"users_signed_out":12,"sessions_revoked":30,"run":"revoke.ckpt","partial":true}"#
/// );
/// assert!(ActionCounts::default().is_empty());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionCounts {
    /// Users with at least one session revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_signed_out: Option<u64>,
    /// Sessions revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions_revoked: Option<u64>,
    /// Webhook deliveries that never reached the app (known to whoever saw them fail, such as
    /// the drill).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliveries_dropped: Option<u64>,
    /// Webhook events delivered again to the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_replayed: Option<u64>,
    /// Webhook events a replay could not deliver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replays_failed: Option<u64>,
    /// Requests let through without a valid session (`Open` mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_bypassed: Option<u64>,
    /// Requests served on an expired token (`Grace` mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_in_grace: Option<u64>,
    /// The run these counts belong to when it can be resumed (its checkpoint): each part
    /// records the whole run's counts so far, so the review keeps only the last part's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// True when the action stopped before its end: the counts are what it did until then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

impl ActionCounts {
    /// A revocation's: users signed out and sessions revoked.
    pub fn revocation(users_signed_out: u64, sessions_revoked: u64) -> Self {
        Self {
            users_signed_out: Some(users_signed_out),
            sessions_revoked: Some(sessions_revoked),
            ..Self::default()
        }
    }

    /// A webhook replay's: events delivered again and events that failed.
    pub fn replay(events_replayed: u64, replays_failed: u64) -> Self {
        Self {
            events_replayed: Some(events_replayed),
            replays_failed: Some(replays_failed),
            ..Self::default()
        }
    }

    /// What the services served while auth was degraded, from their counters.
    pub fn degraded_traffic(requests_bypassed: u64, requests_in_grace: u64) -> Self {
        Self {
            requests_bypassed: Some(requests_bypassed),
            requests_in_grace: Some(requests_in_grace),
            ..Self::default()
        }
    }

    /// The same counts, with the webhook deliveries known to have been dropped.
    #[must_use]
    pub fn dropped(mut self, deliveries: u64) -> Self {
        self.deliveries_dropped = Some(deliveries);
        self
    }

    /// The same counts, as a part of the resumable run `run` (such as its checkpoint path).
    #[must_use]
    pub fn resumable(mut self, run: impl Into<String>) -> Self {
        self.run = Some(run.into());
        self
    }

    /// The same counts, marked as those of an action that stopped before its end.
    #[must_use]
    pub fn partial(mut self) -> Self {
        self.partial = true;
        self
    }

    /// True when nothing is counted.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Adds `other`'s counts to these; a count either knows stays known. `partial` is kept
    /// if either is partial; the run is dropped (a sum is no run's).
    pub(crate) fn add(&mut self, other: &Self) {
        fn sum(total: &mut Option<u64>, more: Option<u64>) {
            if let Some(more) = more {
                *total = Some(total.unwrap_or(0).saturating_add(more));
            }
        }
        sum(&mut self.users_signed_out, other.users_signed_out);
        sum(&mut self.sessions_revoked, other.sessions_revoked);
        sum(&mut self.deliveries_dropped, other.deliveries_dropped);
        sum(&mut self.events_replayed, other.events_replayed);
        sum(&mut self.replays_failed, other.replays_failed);
        sum(&mut self.requests_bypassed, other.requests_bypassed);
        sum(&mut self.requests_in_grace, other.requests_in_grace);
        self.partial |= other.partial;
        self.run = None;
    }

    /// True when the counts show a change: a session revoked, an event replayed.
    pub fn changed_something(&self) -> bool {
        self.sessions_revoked.unwrap_or(0) > 0 || self.events_replayed.unwrap_or(0) > 0
    }
}
