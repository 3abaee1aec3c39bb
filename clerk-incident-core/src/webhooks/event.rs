//! Clerk's webhook event envelope, typed loosely.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::WebhookError;

/// The `type` of a Clerk webhook event.
///
/// The user, session, organisation and membership events have their own variants; every other
/// type (email, sms, billing, roles, future ones) is kept as [`EventType::Other`], never
/// rejected.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventType {
    /// `user.created`
    UserCreated,
    /// `user.updated`
    UserUpdated,
    /// `user.deleted`
    UserDeleted,
    /// `session.created`
    SessionCreated,
    /// `session.pending`
    SessionPending,
    /// `session.ended`
    SessionEnded,
    /// `session.removed`
    SessionRemoved,
    /// `session.revoked`
    SessionRevoked,
    /// `organization.created`
    OrganizationCreated,
    /// `organization.updated`
    OrganizationUpdated,
    /// `organization.deleted`
    OrganizationDeleted,
    /// `organizationMembership.created`
    OrganizationMembershipCreated,
    /// `organizationMembership.updated`
    OrganizationMembershipUpdated,
    /// `organizationMembership.deleted`
    OrganizationMembershipDeleted,
    /// Any other type, kept as sent.
    Other(String),
}

/// The kind of object an [`EventType`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventCategory {
    /// `user.*`
    User,
    /// `session.*`
    Session,
    /// `organization.*`
    Organization,
    /// `organizationMembership.*`
    OrganizationMembership,
    /// Anything else.
    Other,
}

const KNOWN: [(&str, EventType); 14] = [
    ("user.created", EventType::UserCreated),
    ("user.updated", EventType::UserUpdated),
    ("user.deleted", EventType::UserDeleted),
    ("session.created", EventType::SessionCreated),
    ("session.pending", EventType::SessionPending),
    ("session.ended", EventType::SessionEnded),
    ("session.removed", EventType::SessionRemoved),
    ("session.revoked", EventType::SessionRevoked),
    ("organization.created", EventType::OrganizationCreated),
    ("organization.updated", EventType::OrganizationUpdated),
    ("organization.deleted", EventType::OrganizationDeleted),
    (
        "organizationMembership.created",
        EventType::OrganizationMembershipCreated,
    ),
    (
        "organizationMembership.updated",
        EventType::OrganizationMembershipUpdated,
    ),
    (
        "organizationMembership.deleted",
        EventType::OrganizationMembershipDeleted,
    ),
];

impl EventType {
    /// Parses a `type` string; unknown types become [`EventType::Other`].
    pub fn parse(name: &str) -> Self {
        KNOWN
            .iter()
            .find(|(known, _)| *known == name)
            .map_or_else(|| EventType::Other(name.to_owned()), |(_, ty)| ty.clone())
    }

    /// The `type` string as Clerk sends it.
    pub fn as_str(&self) -> &str {
        match self {
            EventType::Other(name) => name,
            known => KNOWN
                .iter()
                .find(|(_, ty)| ty == known)
                .map_or("", |(name, _)| name),
        }
    }

    /// What the event is about.
    pub fn category(&self) -> EventCategory {
        match self {
            EventType::UserCreated | EventType::UserUpdated | EventType::UserDeleted => {
                EventCategory::User
            }
            EventType::SessionCreated
            | EventType::SessionPending
            | EventType::SessionEnded
            | EventType::SessionRemoved
            | EventType::SessionRevoked => EventCategory::Session,
            EventType::OrganizationCreated
            | EventType::OrganizationUpdated
            | EventType::OrganizationDeleted => EventCategory::Organization,
            EventType::OrganizationMembershipCreated
            | EventType::OrganizationMembershipUpdated
            | EventType::OrganizationMembershipDeleted => EventCategory::OrganizationMembership,
            EventType::Other(_) => EventCategory::Other,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for EventType {
    fn from(name: &str) -> Self {
        Self::parse(name)
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(Self::parse(&name))
    }
}

/// A Clerk webhook event: `{data, object: "event", type, timestamp, instance_id}`.
///
/// `data` is kept as JSON (its shape depends on the type and grows over time); the accessors
/// read the ids most handlers need.
///
/// ```
/// use clerk_incident_core::webhooks::{EventType, WebhookEvent};
///
/// let body = br#"{"object":"event","type":"user.deleted","timestamp":1716883200,
///     "instance_id":"ins_1","data":{"object":"user","id":"user_1","deleted":true}}"#;
/// let event = WebhookEvent::from_slice(body)?;
/// assert_eq!(event.event_type, EventType::UserDeleted);
/// assert_eq!(event.user_id(), Some("user_1"));
/// assert!(event.is_deleted());
/// # Ok::<(), clerk_incident_core::webhooks::WebhookError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The object the event is about (a user, session, organisation, membership, …).
    pub data: Value,
    /// Always `"event"`.
    pub object: String,
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When the event was created, as sent by Clerk.
    pub timestamp: i64,
    /// The Clerk instance the event comes from, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// The request that caused the event (client IP, user agent), when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_attributes: Option<Value>,
}

impl WebhookEvent {
    /// An event of `event_type` about `data` (for replay and the sim).
    pub fn new(event_type: EventType, data: Value, timestamp: i64) -> Self {
        Self {
            data,
            object: "event".to_owned(),
            event_type,
            timestamp,
            instance_id: None,
            event_attributes: None,
        }
    }

    /// Sets the instance id.
    #[must_use]
    pub fn with_instance_id(mut self, instance_id: impl Into<String>) -> Self {
        self.instance_id = Some(instance_id.into());
        self
    }

    /// Parses a (verified) raw body.
    ///
    /// # Errors
    ///
    /// [`WebhookError::BadPayload`] when the body is not an event envelope (`object` must be
    /// `"event"`); the error does not repeat the body.
    pub fn from_slice(body: &[u8]) -> Result<Self, WebhookError> {
        let event: Self = serde_json::from_slice(body).map_err(|_| WebhookError::BadPayload)?;
        if event.object != "event" {
            return Err(WebhookError::BadPayload);
        }
        Ok(event)
    }

    /// `data.id`: the id of the object the event is about.
    pub fn object_id(&self) -> Option<&str> {
        self.data.get("id").and_then(Value::as_str)
    }

    /// The user the event is about: `data.id` for user events, `data.user_id` for session
    /// events, `data.public_user_data.user_id` for membership events, `data.user_id` if present
    /// otherwise.
    pub fn user_id(&self) -> Option<&str> {
        match self.event_type.category() {
            EventCategory::User => self.object_id(),
            EventCategory::OrganizationMembership => self
                .data
                .get("public_user_data")
                .and_then(|user| user.get("user_id"))
                .and_then(Value::as_str),
            EventCategory::Session | EventCategory::Organization | EventCategory::Other => {
                self.data.get("user_id").and_then(Value::as_str)
            }
        }
    }

    /// The organisation the event is about: `data.id` for organisation events,
    /// `data.organization.id` for membership events, `None` otherwise.
    pub fn organization_id(&self) -> Option<&str> {
        match self.event_type.category() {
            EventCategory::Organization => self.object_id(),
            EventCategory::OrganizationMembership => self
                .data
                .get("organization")
                .and_then(|org| org.get("id"))
                .and_then(Value::as_str),
            EventCategory::User | EventCategory::Session | EventCategory::Other => None,
        }
    }

    /// `data.deleted == true` (the shape of `*.deleted` events).
    pub fn is_deleted(&self) -> bool {
        self.data.get("deleted").and_then(Value::as_bool) == Some(true)
    }

    /// `data.updated_at` (Unix milliseconds), when present.
    pub fn updated_at(&self) -> Option<i64> {
        self.data.get("updated_at").and_then(Value::as_i64)
    }
}
