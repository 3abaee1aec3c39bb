//! The sim's records: users, sessions, organisations and memberships.
//!
//! These are plain snapshots handed out by [`Sim::users`](crate::Sim::users) and
//! [`Sim::sessions`](crate::Sim::sessions); the HTTP layer renders them in Clerk's JSON shapes.
//! All timestamps are Unix milliseconds, like Clerk's.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A simulated Clerk user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SimUser {
    /// `user_...` id.
    pub id: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// The user's only (primary, verified) email address.
    pub email_address: String,
    /// `idn_...` id of that email address.
    pub email_address_id: String,
    /// Creation time; distinct across users.
    pub created_at: i64,
    /// Last update, between `created_at` and the sim's "now" at seeding time.
    pub updated_at: i64,
    /// Latest session activity with day precision (UTC midnight), as Clerk reports it.
    pub last_active_at: i64,
    /// Last sign-in time.
    pub last_sign_in_at: i64,
    /// Whether the user is banned (seeded users never are).
    pub banned: bool,
    /// The id in the application's own system (seeded users have none).
    #[serde(default)]
    pub external_id: Option<String>,
    /// The username (seeded users have none).
    #[serde(default)]
    pub username: Option<String>,
    /// The user's only (primary, verified) phone number, E.164 (seeded users have none).
    #[serde(default)]
    pub phone_number: Option<String>,
    /// Metadata the frontend can read and the Backend API can write; where apps keep roles.
    #[serde(default)]
    pub public_metadata: Map<String, Value>,
    /// Metadata only the Backend API can read and write.
    #[serde(default)]
    pub private_metadata: Map<String, Value>,
    /// Metadata the user can write from the frontend.
    #[serde(default)]
    pub unsafe_metadata: Map<String, Value>,
    /// The user's organisation membership, if any (seeded users belong to at most one):
    /// the organisation their sessions and tokens carry.
    pub membership: Option<SimMembership>,
    /// Further memberships, added through the Backend API.
    #[serde(default)]
    pub other_memberships: Vec<SimMembership>,
}

/// A user's membership in an organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SimMembership {
    /// `orgmem_...` id.
    #[serde(default)]
    pub id: String,
    /// `org_...` id.
    pub organization_id: String,
    /// The organisation's slug.
    pub organization_slug: String,
    /// The member's role.
    pub role: OrgRole,
    /// When the membership was created (seeded ones: with their user).
    #[serde(default)]
    pub created_at: i64,
    /// When the membership last changed (a role change, for instance).
    #[serde(default)]
    pub updated_at: i64,
}

/// An organisation role, with the organisation permissions the sim grants it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgRole {
    /// `org:admin`: manages and reads the dashboard and teams.
    Admin,
    /// `org:member`: reads the dashboard and teams.
    Member,
}

impl OrgRole {
    /// The role key as Clerk writes it in v1 claims and the Backend API (`org:admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "org:admin",
            Self::Member => "org:member",
        }
    }

    /// The role without the `org:` prefix, as v2 session tokens carry it (`admin`).
    pub fn short_name(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    /// The organisation permissions of the role, as v1 claims list them.
    pub fn permissions(self) -> &'static [&'static str] {
        match self {
            Self::Admin => &[
                "org:dashboard:manage",
                "org:dashboard:read",
                "org:teams:manage",
                "org:teams:read",
            ],
            Self::Member => &["org:dashboard:read", "org:teams:read"],
        }
    }
}

impl fmt::Display for OrgRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A simulated organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SimOrganization {
    /// `org_...` id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// URL slug (unique).
    pub slug: String,
    /// Creation time.
    pub created_at: i64,
    /// Last update.
    #[serde(default)]
    pub updated_at: i64,
    /// The user who created it through the Backend API, if any.
    #[serde(default)]
    pub created_by: Option<String>,
}

/// A simulated Clerk session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SimSession {
    /// `sess_...` id.
    pub id: String,
    /// Owner's `user_...` id.
    pub user_id: String,
    /// `client_...` id of the device the session lives on (one client per session).
    pub client_id: String,
    /// Current status.
    pub status: SessionStatus,
    /// Creation time.
    pub created_at: i64,
    /// Last update (revocation sets it to the sim's "now").
    pub updated_at: i64,
    /// Latest activity, millisecond precision.
    pub last_active_at: i64,
    /// When the session expires (`last_active_at` + the instance's maximum session lifetime).
    pub expire_at: i64,
    /// When the session is abandoned for inactivity.
    pub abandon_at: i64,
    /// The organisation active in the session, if the user has one.
    pub last_active_organization_id: Option<String>,
    /// Who is impersonating the user (`{"sub": "user_..."}`), for a session started with an
    /// actor token; `None` otherwise.
    #[serde(default)]
    pub actor: Option<Value>,
}

/// A session status, with Clerk's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Signed in; tokens can be minted.
    Active,
    /// Signed in with pending tasks; tokens carry `sts: "pending"`.
    Pending,
    /// Revoked through the Backend API.
    Revoked,
    /// Signed out.
    Ended,
    /// Past `expire_at`.
    Expired,
    /// Removed from its client.
    Removed,
    /// Past `abandon_at`.
    Abandoned,
    /// Replaced by another session on the same client.
    Replaced,
}

impl SessionStatus {
    /// Every status, in Clerk's documentation order.
    pub const ALL: [Self; 8] = [
        Self::Active,
        Self::Pending,
        Self::Revoked,
        Self::Ended,
        Self::Expired,
        Self::Removed,
        Self::Abandoned,
        Self::Replaced,
    ];

    /// The status as Clerk spells it (`active`, `revoked`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Pending => "pending",
            Self::Revoked => "revoked",
            Self::Ended => "ended",
            Self::Expired => "expired",
            Self::Removed => "removed",
            Self::Abandoned => "abandoned",
            Self::Replaced => "replaced",
        }
    }

    /// Parses Clerk's spelling; `None` for anything else.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }

    /// Whether the session still authenticates its user (`active` or `pending`), i.e. whether
    /// it can be revoked.
    pub fn is_signed_in(self) -> bool {
        matches!(self, Self::Active | Self::Pending)
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::{OrgRole, SessionStatus};

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in SessionStatus::ALL {
            assert_eq!(SessionStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(SessionStatus::parse("Active"), None);
        assert!(SessionStatus::Pending.is_signed_in());
        assert!(!SessionStatus::Revoked.is_signed_in());
    }

    #[test]
    fn roles_have_both_spellings() {
        assert_eq!(OrgRole::Admin.as_str(), "org:admin");
        assert_eq!(OrgRole::Member.short_name(), "member");
        assert_eq!(OrgRole::Member.permissions().len(), 2);
    }
}
