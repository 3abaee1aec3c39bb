//! The sim's records: users, sessions, organisations and memberships.
//!
//! These are plain snapshots handed out by [`Sim::users`](crate::Sim::users) and
//! [`Sim::sessions`](crate::Sim::sessions); the HTTP layer renders them in Clerk's JSON shapes.
//! All timestamps are Unix milliseconds, like Clerk's.

use std::fmt;

use serde::{Deserialize, Serialize};

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
    /// The user's organisation membership, if any (seeded users belong to at most one).
    pub membership: Option<SimMembership>,
}

/// A user's membership in an organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SimMembership {
    /// `org_...` id.
    pub organization_id: String,
    /// The organisation's slug.
    pub organization_slug: String,
    /// The member's role.
    pub role: OrgRole,
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
