//! The message a replay sends: a deterministic id and Clerk's envelope.

use std::fmt::Write as _;

use aws_lc_rs::digest;
use serde_json::json;

use super::PlannedEvent;
use crate::webhooks::EventType;

/// The prefix of replayed message ids, so that a receiver's logs tell them from Clerk's.
pub const REPLAY_MESSAGE_PREFIX: &str = "msg_replay_";

/// The `svix-id` of a replayed event: `msg_replay_` and 32 hex digits of the SHA-256 of the
/// type, the user and Clerk's `updated_at`. The same change always gets the same id, so a
/// receiver that dedupes by message id applies a replayed change once however often the
/// replay runs, and a newer change of the same user gets a new id.
pub(crate) fn message_id(event_type: &EventType, user_id: &str, updated_at: Option<i64>) -> String {
    let mut input = format!("{}\n{user_id}\n", event_type.as_str());
    if let Some(updated_at) = updated_at {
        let _ = write!(input, "{updated_at}");
    }
    let hash = digest::digest(&digest::SHA256, input.as_bytes());
    let mut id = String::with_capacity(REPLAY_MESSAGE_PREFIX.len() + 32);
    id.push_str(REPLAY_MESSAGE_PREFIX);
    for byte in hash.as_ref().iter().take(16) {
        let _ = write!(id, "{byte:02x}");
    }
    id
}

/// The body of a replayed event: Clerk's envelope around the user object. Its `timestamp`
/// (Unix ms) is the change's `updated_at`, or `now_ms` for a deletion, whose time Clerk no
/// longer tells.
pub(crate) fn envelope(event: &PlannedEvent, instance_id: &str, now_ms: i64) -> Vec<u8> {
    let body = json!({
        "data": event.data,
        "object": "event",
        "type": event.event_type.as_str(),
        "timestamp": event.updated_at.unwrap_or(now_ms),
        "instance_id": instance_id,
    });
    body.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks::WebhookEvent;

    #[test]
    fn ids_are_deterministic_and_differ_by_type_user_and_time() {
        let a = message_id(&EventType::UserUpdated, "user_1", Some(5));
        assert_eq!(a, message_id(&EventType::UserUpdated, "user_1", Some(5)));
        assert!(a.starts_with(REPLAY_MESSAGE_PREFIX));
        assert_eq!(a.len(), REPLAY_MESSAGE_PREFIX.len() + 32);
        for other in [
            message_id(&EventType::UserCreated, "user_1", Some(5)),
            message_id(&EventType::UserUpdated, "user_2", Some(5)),
            message_id(&EventType::UserUpdated, "user_1", Some(6)),
            message_id(&EventType::UserUpdated, "user_1", None),
        ] {
            assert_ne!(a, other);
        }
    }

    #[test]
    fn the_envelope_parses_as_a_clerk_event() {
        let event = PlannedEvent::deleted("user_9".to_owned());
        let body = envelope(&event, "ins_1", 1_700_000_000_000);
        let parsed = WebhookEvent::from_slice(&body).unwrap();
        assert_eq!(parsed.event_type, EventType::UserDeleted);
        assert_eq!(parsed.user_id(), Some("user_9"));
        assert!(parsed.is_deleted());
        assert_eq!(parsed.timestamp, 1_700_000_000_000);
        assert_eq!(parsed.instance_id.as_deref(), Some("ins_1"));
    }
}
