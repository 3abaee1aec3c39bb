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

    /// Combines each count with `other`'s by `merge`; a count either knows stays known.
    fn combine(&mut self, other: &Self, merge: fn(u64, u64) -> u64) {
        let both = |mine: &mut Option<u64>, theirs: Option<u64>| {
            if let Some(theirs) = theirs {
                *mine = Some(mine.map_or(theirs, |mine| merge(mine, theirs)));
            }
        };
        both(&mut self.users_signed_out, other.users_signed_out);
        both(&mut self.sessions_revoked, other.sessions_revoked);
        both(&mut self.deliveries_dropped, other.deliveries_dropped);
        both(&mut self.events_replayed, other.events_replayed);
        both(&mut self.replays_failed, other.replays_failed);
        both(&mut self.requests_bypassed, other.requests_bypassed);
        both(&mut self.requests_in_grace, other.requests_in_grace);
    }

    fn counts_revocations(&self) -> bool {
        self.users_signed_out.is_some() || self.sessions_revoked.is_some()
    }

    fn counts_replays(&self) -> bool {
        self.events_replayed.is_some() || self.replays_failed.is_some()
    }

    /// True when the counts show a change: a session revoked, an event replayed.
    pub fn changed_something(&self) -> bool {
        self.sessions_revoked.unwrap_or(0) > 0 || self.events_replayed.unwrap_or(0) > 0
    }
}

/// What the actions of an incident log counted, together: see
/// [`Timeline::counted_impact`](super::Timeline::counted_impact).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CountedImpact {
    /// The counts, summed over runs (`run` and `partial` unset).
    pub counts: ActionCounts,
    /// A revocation counted stopped early and was not resumed to its end: its counts are a
    /// floor.
    pub revocations_partial: bool,
    /// The same for a webhook replay.
    pub replays_partial: bool,
}

impl CountedImpact {
    /// Sums `parts`: the parts of one run (the same [`ActionCounts::run`]) count once, by
    /// the largest of each count (a resumed part holds the earlier parts' counts; a part cut
    /// short may hold fewer), and are partial only when every part is.
    pub(crate) fn of<'a>(parts: impl IntoIterator<Item = &'a ActionCounts>) -> Self {
        let mut runs: Vec<ActionCounts> = Vec::new();
        for part in parts {
            let same_run = part
                .run
                .as_ref()
                .and_then(|run| runs.iter_mut().find(|r| r.run.as_ref() == Some(run)));
            match same_run {
                Some(run) => {
                    run.combine(part, u64::max);
                    run.partial &= part.partial;
                }
                None => runs.push(part.clone()),
            }
        }
        let mut impact = Self::default();
        for run in &runs {
            impact.counts.combine(run, u64::saturating_add);
            impact.revocations_partial |= run.partial && run.counts_revocations();
            impact.replays_partial |= run.partial && run.counts_replays();
        }
        impact
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_counts_once_by_its_largest_counts() {
        let run = |counts: ActionCounts| counts.resumable("run");
        let impact = CountedImpact::of(&[
            run(ActionCounts::revocation(10, 20)),
            // A resume stopped before its first user: it knows nothing more.
            run(ActionCounts::revocation(0, 0)).partial(),
            ActionCounts::revocation(1, 1).partial(),
            ActionCounts::replay(30, 0).resumable("replay"),
            ActionCounts::replay(30, 0).resumable("replay"),
        ]);
        assert_eq!(impact.counts.sessions_revoked, Some(21));
        assert_eq!(impact.counts.users_signed_out, Some(11));
        assert_eq!(
            impact.counts.events_replayed,
            Some(30),
            "replayed twice, counted once"
        );
        assert!(
            impact.revocations_partial,
            "the run without a checkpoint stopped early"
        );
        assert!(!impact.replays_partial, "partial flags are per kind");
        assert_eq!(
            impact.counts.deliveries_dropped, None,
            "unknown stays unknown"
        );
    }
}
