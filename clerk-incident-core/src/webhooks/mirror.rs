//! A reference in-memory mirror of Clerk users, kept up to date by `user.*` webhook events.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::Value;

use super::{EventType, WebhookEvent};

/// What [`UserMirror::apply`] did with an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MirrorOutcome {
    /// A `user.created` or `user.updated` about a user the mirror did not hold: stored.
    Inserted,
    /// A newer version of a user the mirror held: replaced.
    Updated,
    /// A `user.deleted` about a user the mirror held: removed (and remembered as deleted).
    Deleted,
    /// Older than, or the same as, what the mirror holds, or about a deleted user: nothing
    /// changed. Replays and out-of-order deliveries end here.
    Stale,
    /// Not a user event, no `data.id`, or a deletion of a user the mirror never held (the
    /// deletion is still remembered): nothing changed.
    Ignored,
}

/// The users an app knows, as a webhook consumer keeps them: the "users table" of the
/// examples, tests and drills.
///
/// [`apply`](Self::apply) upserts `user.created` / `user.updated` events keyed by `data.id`,
/// newest `data.updated_at` wins, and removes users on `user.deleted`. Deleted ids are
/// remembered (Clerk never reuses a user id), so that a late `user.updated` delivered after
/// the `user.deleted` does not bring the user back. Applying the same event twice changes
/// nothing the second time, so it is safe with at-least-once delivery even without an inbox.
///
/// Methods take `&self`; clones share the same table (an `Arc` inside), so it can be handed
/// to handlers and read by tests. Memory grows with the users and the deleted ids: this is a
/// reference implementation, not a database.
///
/// `Debug` shows the counts only, never user data.
///
/// ```
/// use clerk_incident_core::webhooks::{EventType, MirrorOutcome, UserMirror, WebhookEvent};
/// use serde_json::json;
///
/// let users = UserMirror::new();
/// let created = WebhookEvent::new(
///     EventType::UserCreated,
///     json!({"object": "user", "id": "user_1", "updated_at": 1000}),
///     1,
/// );
/// let updated = WebhookEvent::new(
///     EventType::UserUpdated,
///     json!({"object": "user", "id": "user_1", "updated_at": 2000, "first_name": "Ada"}),
///     2,
/// );
/// // Delivered out of order: the newer version stays.
/// assert_eq!(users.apply(&updated), MirrorOutcome::Inserted);
/// assert_eq!(users.apply(&created), MirrorOutcome::Stale);
/// assert_eq!(users.updated_at("user_1"), Some(2000));
///
/// let deleted = WebhookEvent::new(
///     EventType::UserDeleted,
///     json!({"object": "user", "id": "user_1", "deleted": true}),
///     3,
/// );
/// assert_eq!(users.apply(&deleted), MirrorOutcome::Deleted);
/// assert_eq!(users.apply(&updated), MirrorOutcome::Stale);
/// assert!(users.is_empty());
/// ```
#[derive(Clone, Default)]
pub struct UserMirror {
    state: Arc<RwLock<State>>,
}

#[derive(Default)]
struct State {
    users: BTreeMap<String, Value>,
    deleted: HashSet<String>,
}

impl UserMirror {
    /// An empty mirror.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one (verified) event; see [`MirrorOutcome`] for what each case does.
    pub fn apply(&self, event: &WebhookEvent) -> MirrorOutcome {
        let Some(id) = event.object_id() else {
            return MirrorOutcome::Ignored;
        };
        match event.event_type {
            EventType::UserCreated | EventType::UserUpdated => {
                self.upsert(id, &event.data, event.updated_at())
            }
            EventType::UserDeleted => self.delete(id),
            _ => MirrorOutcome::Ignored,
        }
    }

    fn upsert(&self, id: &str, data: &Value, updated_at: Option<i64>) -> MirrorOutcome {
        let mut state = self.write();
        if state.deleted.contains(id) {
            return MirrorOutcome::Stale;
        }
        match state.users.get_mut(id) {
            None => {
                state.users.insert(id.to_owned(), data.clone());
                MirrorOutcome::Inserted
            }
            Some(stored) => {
                let older = matches!(
                    (updated_at, stored_updated_at(stored)),
                    (Some(new), Some(old)) if new < old
                );
                if older || stored == data {
                    MirrorOutcome::Stale
                } else {
                    *stored = data.clone();
                    MirrorOutcome::Updated
                }
            }
        }
    }

    fn delete(&self, id: &str) -> MirrorOutcome {
        let mut state = self.write();
        state.deleted.insert(id.to_owned());
        if state.users.remove(id).is_some() {
            MirrorOutcome::Deleted
        } else {
            MirrorOutcome::Ignored
        }
    }

    /// How many users it holds.
    pub fn len(&self) -> usize {
        self.read().users.len()
    }

    /// Whether it holds no user.
    pub fn is_empty(&self) -> bool {
        self.read().users.is_empty()
    }

    /// Whether it holds the user `id`.
    pub fn contains(&self, id: &str) -> bool {
        self.read().users.contains_key(id)
    }

    /// Whether the user `id` was deleted (a `user.deleted` was applied).
    pub fn is_deleted(&self, id: &str) -> bool {
        self.read().deleted.contains(id)
    }

    /// The user `id`'s `data`, as last applied.
    pub fn get(&self, id: &str) -> Option<Value> {
        self.read().users.get(id).cloned()
    }

    /// The ids of the users it holds, sorted.
    pub fn ids(&self) -> Vec<String> {
        self.read().users.keys().cloned().collect()
    }

    /// The user `id`'s `data.updated_at` (Unix milliseconds), when held and present.
    pub fn updated_at(&self, id: &str) -> Option<i64> {
        self.read().users.get(id).and_then(stored_updated_at)
    }

    // A poisoned lock only means another thread panicked mid-update; every update is a single
    // map operation, so the table stays consistent.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

fn stored_updated_at(data: &Value) -> Option<i64> {
    data.get("updated_at").and_then(Value::as_i64)
}

impl fmt::Debug for UserMirror {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.read();
        f.debug_struct("UserMirror")
            .field("users", &state.users.len())
            .field("deleted", &state.deleted.len())
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user(event_type: EventType, id: &str, updated_at: i64, name: &str) -> WebhookEvent {
        WebhookEvent::new(
            event_type,
            json!({"object": "user", "id": id, "updated_at": updated_at, "first_name": name}),
            updated_at,
        )
    }

    fn deleted(id: &str) -> WebhookEvent {
        WebhookEvent::new(
            EventType::UserDeleted,
            json!({"object": "user", "id": id, "deleted": true}),
            0,
        )
    }

    #[test]
    fn created_inserts_and_updated_replaces() {
        let users = UserMirror::new();
        assert!(users.is_empty());
        assert_eq!(
            users.apply(&user(EventType::UserCreated, "user_1", 100, "Ada")),
            MirrorOutcome::Inserted
        );
        assert_eq!(
            users.apply(&user(EventType::UserUpdated, "user_1", 200, "Grace")),
            MirrorOutcome::Updated
        );
        assert_eq!(users.len(), 1);
        assert!(users.contains("user_1"));
        assert_eq!(users.updated_at("user_1"), Some(200));
        assert_eq!(users.get("user_1").unwrap()["first_name"], "Grace");
    }

    #[test]
    fn an_update_of_an_unknown_user_inserts_it() {
        let users = UserMirror::new();
        assert_eq!(
            users.apply(&user(EventType::UserUpdated, "user_1", 100, "Ada")),
            MirrorOutcome::Inserted
        );
        assert!(users.contains("user_1"));
    }

    #[test]
    fn an_older_version_delivered_late_is_stale() {
        let users = UserMirror::new();
        users.apply(&user(EventType::UserUpdated, "user_1", 300, "Newest"));
        assert_eq!(
            users.apply(&user(EventType::UserCreated, "user_1", 100, "Oldest")),
            MirrorOutcome::Stale
        );
        assert_eq!(
            users.apply(&user(EventType::UserUpdated, "user_1", 200, "Older")),
            MirrorOutcome::Stale
        );
        assert_eq!(users.updated_at("user_1"), Some(300));
        assert_eq!(users.get("user_1").unwrap()["first_name"], "Newest");
    }

    #[test]
    fn a_replay_is_stale_but_a_different_version_at_the_same_time_wins() {
        let users = UserMirror::new();
        let event = user(EventType::UserUpdated, "user_1", 100, "Ada");
        assert_eq!(users.apply(&event), MirrorOutcome::Inserted);
        assert_eq!(users.apply(&event), MirrorOutcome::Stale);
        assert_eq!(
            users.apply(&user(EventType::UserUpdated, "user_1", 100, "Grace")),
            MirrorOutcome::Updated
        );
        assert_eq!(users.get("user_1").unwrap()["first_name"], "Grace");
    }

    #[test]
    fn delete_removes_and_a_late_update_does_not_resurrect() {
        let users = UserMirror::new();
        users.apply(&user(EventType::UserCreated, "user_1", 100, "Ada"));
        assert_eq!(users.apply(&deleted("user_1")), MirrorOutcome::Deleted);
        assert!(!users.contains("user_1"));
        assert!(users.is_deleted("user_1"));
        assert_eq!(users.get("user_1"), None);
        assert_eq!(
            users.apply(&user(EventType::UserUpdated, "user_1", 999, "Late")),
            MirrorOutcome::Stale
        );
        assert_eq!(
            users.apply(&user(EventType::UserCreated, "user_1", 50, "Early")),
            MirrorOutcome::Stale
        );
        assert!(users.is_empty());
        assert_eq!(users.apply(&deleted("user_1")), MirrorOutcome::Ignored);
    }

    #[test]
    fn deleting_an_unknown_user_is_ignored_but_remembered() {
        let users = UserMirror::new();
        assert_eq!(users.apply(&deleted("user_9")), MirrorOutcome::Ignored);
        assert!(users.is_deleted("user_9"));
        // The created event arrives after the deletion: out of order, stays deleted.
        assert_eq!(
            users.apply(&user(EventType::UserCreated, "user_9", 100, "Ghost")),
            MirrorOutcome::Stale
        );
        assert!(users.is_empty());
    }

    #[test]
    fn other_events_and_events_without_an_id_are_ignored() {
        let users = UserMirror::new();
        let session = WebhookEvent::new(
            EventType::SessionCreated,
            json!({"object": "session", "id": "sess_1", "user_id": "user_1"}),
            1,
        );
        assert_eq!(users.apply(&session), MirrorOutcome::Ignored);
        let other = WebhookEvent::new(EventType::parse("email.created"), json!({"id": "ema_1"}), 1);
        assert_eq!(users.apply(&other), MirrorOutcome::Ignored);
        let no_id = WebhookEvent::new(EventType::UserCreated, json!({"object": "user"}), 1);
        assert_eq!(users.apply(&no_id), MirrorOutcome::Ignored);
        let numeric_id = WebhookEvent::new(EventType::UserDeleted, json!({"id": 7}), 1);
        assert_eq!(users.apply(&numeric_id), MirrorOutcome::Ignored);
        assert!(users.is_empty());
    }

    #[test]
    fn ids_are_sorted_and_clones_share_the_table() {
        let users = UserMirror::new();
        let clone = users.clone();
        for id in ["user_c", "user_a", "user_b"] {
            clone.apply(&user(EventType::UserCreated, id, 1, id));
        }
        assert_eq!(users.ids(), ["user_a", "user_b", "user_c"]);
        assert_eq!(users.len(), 3);
        let debug = format!("{users:?}");
        assert!(debug.contains("users: 3"), "{debug}");
        assert!(!debug.contains("user_a"), "{debug}");
    }
}
