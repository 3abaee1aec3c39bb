//! What a replay sends: the diff between Clerk's users and the application's known ids.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Value, json};

use super::message::message_id;
use crate::webhooks::EventType;

/// A user as Clerk's Backend API returned it, with the fields a replay reads.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ClerkUser {
    pub(crate) id: String,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    /// The whole object, forwarded as the event's `data`.
    pub(crate) json: Value,
}

impl ClerkUser {
    /// Reads the id and timestamps of a raw user object; `None` when one is missing.
    pub(crate) fn from_json(json: Value) -> Option<Self> {
        let id = json.get("id")?.as_str()?.to_owned();
        let created_at = json.get("created_at")?.as_i64()?;
        let updated_at = json.get("updated_at")?.as_i64()?;
        Some(Self {
            id,
            created_at,
            updated_at,
            json,
        })
    }
}

/// One event a replay delivers (or, in a dry run, would deliver).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PlannedEvent {
    /// `user.created`, `user.updated` or `user.deleted`.
    pub event_type: EventType,
    /// The user.
    pub user_id: String,
    /// Clerk's `updated_at` for the user (Unix ms); `None` for a deletion.
    pub updated_at: Option<i64>,
    /// The `svix-id` sent: the same for the same (type, user, update time) in every replay,
    /// so a receiver that dedupes by message id applies it once.
    pub message_id: String,
    /// The event's `data`.
    #[serde(skip)]
    pub(crate) data: Value,
}

impl PlannedEvent {
    fn new(event_type: EventType, user_id: String, updated_at: Option<i64>, data: Value) -> Self {
        let message_id = message_id(&event_type, &user_id, updated_at);
        Self {
            event_type,
            user_id,
            updated_at,
            message_id,
            data,
        }
    }

    /// A `user.deleted` event, in Clerk's shape for deleted objects.
    pub(crate) fn deleted(user_id: String) -> Self {
        let data = json!({ "object": "user", "id": user_id, "deleted": true });
        Self::new(EventType::UserDeleted, user_id, None, data)
    }
}

/// Counts per event type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EventCounts {
    /// `user.created` events.
    pub created: u64,
    /// `user.updated` events.
    pub updated: u64,
    /// `user.deleted` events.
    pub deleted: u64,
}

impl EventCounts {
    /// All three together.
    pub fn total(&self) -> u64 {
        self.created + self.updated + self.deleted
    }

    /// Counts one more event of `event_type` (other types are not counted).
    pub(crate) fn add(&mut self, event_type: &EventType) {
        match event_type {
            EventType::UserCreated => self.created += 1,
            EventType::UserUpdated => self.updated += 1,
            EventType::UserDeleted => self.deleted += 1,
            _ => {}
        }
    }
}

/// Users a replay found but did not send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Known users whose `updated_at` in the known-ids file is already Clerk's.
    pub unchanged: u64,
    /// Events of a type left out by the `types` filter.
    pub filtered: u64,
}

impl Skipped {
    /// Both together.
    pub fn total(&self) -> u64 {
        self.unchanged + self.filtered
    }
}

/// The events to send, oldest change first, deletions last, and what was left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Plan {
    pub(crate) events: Vec<PlannedEvent>,
    pub(crate) skipped: Skipped,
}

/// Decides the event for each user Clerk lists as changed since `since_ms`, and a deletion
/// for each known id Clerk no longer has.
///
/// With known ids, a user the application lacks is `user.created` and one it holds is
/// `user.updated` (skipped when the file's `updated_at` is already Clerk's); without them,
/// a user created since `since_ms` is `user.created` and any other `user.updated`.
pub(crate) fn plan(
    changed: Vec<ClerkUser>,
    known: Option<&super::KnownIds>,
    gone: Vec<String>,
    since_ms: i64,
    types: &BTreeSet<String>,
) -> Plan {
    let mut skipped = Skipped::default();
    let mut changed = changed;
    changed.sort_by(|a, b| (a.updated_at, &a.id).cmp(&(b.updated_at, &b.id)));
    let mut events = Vec::with_capacity(changed.len() + gone.len());
    for user in changed {
        let event_type = match known {
            Some(known) if !known.contains(&user.id) => EventType::UserCreated,
            Some(known) => {
                if known
                    .updated_at(&user.id)
                    .is_some_and(|held| held >= user.updated_at)
                {
                    skipped.unchanged += 1;
                    continue;
                }
                EventType::UserUpdated
            }
            None if user.created_at >= since_ms => EventType::UserCreated,
            None => EventType::UserUpdated,
        };
        events.push(PlannedEvent::new(
            event_type,
            user.id,
            Some(user.updated_at),
            user.json,
        ));
    }
    let mut gone = gone;
    gone.sort_unstable();
    events.extend(gone.into_iter().map(PlannedEvent::deleted));
    events.retain(|event| {
        let keep = types.is_empty() || types.contains(event.event_type.as_str());
        if !keep {
            skipped.filtered += 1;
        }
        keep
    });
    Plan { events, skipped }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks::KnownIds;

    fn user(id: &str, created_at: i64, updated_at: i64) -> ClerkUser {
        ClerkUser::from_json(json!({
            "object": "user", "id": id, "created_at": created_at, "updated_at": updated_at,
            "first_name": "Ada",
        }))
        .unwrap()
    }

    fn kinds(plan: &Plan) -> Vec<(String, String)> {
        plan.events
            .iter()
            .map(|e| (e.event_type.to_string(), e.user_id.clone()))
            .collect()
    }

    #[test]
    fn without_known_ids_creation_time_decides_created_or_updated() {
        let changed = vec![user("user_new", 150, 160), user("user_old", 50, 155)];
        let plan = plan(changed, None, Vec::new(), 100, &BTreeSet::new());
        assert_eq!(
            kinds(&plan),
            [
                ("user.updated".to_owned(), "user_old".to_owned()),
                ("user.created".to_owned(), "user_new".to_owned()),
            ]
        );
        assert_eq!(plan.events[1].data["first_name"], "Ada");
        assert_eq!(plan.events[1].updated_at, Some(160));
    }

    #[test]
    fn known_ids_decide_created_updated_unchanged_and_deleted() {
        let known =
            KnownIds::parse("user_held\nuser_current,200\nuser_behind,100\nuser_gone\n").unwrap();
        let changed = vec![
            user("user_missing", 10, 150),
            user("user_held", 10, 160),
            user("user_current", 10, 200),
            user("user_behind", 10, 170),
        ];
        let plan = plan(
            changed,
            Some(&known),
            vec!["user_gone".to_owned()],
            100,
            &BTreeSet::new(),
        );
        assert_eq!(
            kinds(&plan),
            [
                ("user.created".to_owned(), "user_missing".to_owned()),
                ("user.updated".to_owned(), "user_held".to_owned()),
                ("user.updated".to_owned(), "user_behind".to_owned()),
                ("user.deleted".to_owned(), "user_gone".to_owned()),
            ]
        );
        assert_eq!(plan.skipped.unchanged, 1);
        let deleted = &plan.events[3];
        assert_eq!(
            deleted.data,
            json!({"object":"user","id":"user_gone","deleted":true})
        );
        assert_eq!(deleted.updated_at, None);
    }

    #[test]
    fn the_types_filter_skips_and_counts() {
        let types: BTreeSet<String> = ["user.deleted".to_owned()].into();
        let changed = vec![user("user_a", 150, 150)];
        let plan = plan(changed, None, vec!["user_b".to_owned()], 100, &types);
        assert_eq!(
            kinds(&plan),
            [("user.deleted".to_owned(), "user_b".to_owned())]
        );
        assert_eq!(
            plan.skipped,
            Skipped {
                unchanged: 0,
                filtered: 1
            }
        );
    }

    #[test]
    fn users_without_timestamps_are_not_read() {
        assert!(ClerkUser::from_json(json!({"id": "user_a", "created_at": 1})).is_none());
        assert!(ClerkUser::from_json(json!({"id": 5, "created_at": 1, "updated_at": 1})).is_none());
    }
}
