//! Typed Backend API objects, with the fields the runbook needs.
//!
//! Shapes follow Clerk's OpenAPI spec (version 2026-05-12). Fields the runbook does not use are
//! not modelled and unknown fields are ignored, so a Clerk release that adds fields never breaks
//! decoding. Timestamps are Unix milliseconds, as Clerk sends them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A Clerk user (`object: "user"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The user id, `user_…`.
    pub id: String,
    /// The id in the application's own system, if set.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Username, if the instance uses them.
    #[serde(default)]
    pub username: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// The id of the primary entry of [`email_addresses`](Self::email_addresses).
    #[serde(default)]
    pub primary_email_address_id: Option<String>,
    /// The user's email addresses.
    #[serde(default)]
    pub email_addresses: Vec<EmailAddress>,
    /// Whether the user is banned.
    #[serde(default)]
    pub banned: bool,
    /// Whether the user is locked out.
    #[serde(default)]
    pub locked: bool,
    /// Creation time, Unix ms.
    pub created_at: i64,
    /// Last update, Unix ms.
    pub updated_at: i64,
    /// Last sign-in, Unix ms.
    #[serde(default)]
    pub last_sign_in_at: Option<i64>,
    /// Latest session activity, Unix ms, with **day** precision.
    #[serde(default)]
    pub last_active_at: Option<i64>,
}

impl User {
    /// The primary email address, if the user has one.
    pub fn primary_email(&self) -> Option<&str> {
        let primary = self.primary_email_address_id.as_deref()?;
        self.email_addresses
            .iter()
            .find(|e| e.id == primary)
            .map(|e| e.email_address.as_str())
    }
}

/// An email address of a [`User`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EmailAddress {
    /// The id, `idn_…`.
    pub id: String,
    /// The address.
    pub email_address: String,
}

/// A session (`object: "session"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Session {
    /// The session id, `sess_…`.
    pub id: String,
    /// The user the session belongs to.
    pub user_id: String,
    /// The client (device) the session lives on.
    pub client_id: String,
    /// The session's status.
    pub status: SessionStatus,
    /// The organisation active in the session, if any.
    #[serde(default)]
    pub last_active_organization_id: Option<String>,
    /// Last activity, Unix ms.
    pub last_active_at: i64,
    /// When the session expires, Unix ms.
    pub expire_at: i64,
    /// When the session is abandoned, Unix ms.
    pub abandon_at: i64,
    /// Creation time, Unix ms.
    pub created_at: i64,
    /// Last update, Unix ms.
    pub updated_at: i64,
    /// Who is impersonating the user (`{"sub": "user_…"}`), for a session started with an
    /// actor token; `None` otherwise.
    #[serde(default)]
    pub actor: Option<serde_json::Value>,
}

/// The status of a [`Session`]. Values Clerk adds later decode as
/// [`Unknown`](SessionStatus::Unknown) instead of failing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum SessionStatus {
    /// Signed in and usable.
    Active,
    /// Signed in with tasks left to complete (for example choosing an organisation).
    Pending,
    /// Revoked through the API or the Dashboard.
    Revoked,
    /// Signed out.
    Ended,
    /// Past its lifetime.
    Expired,
    /// Removed by the user.
    Removed,
    /// Inactive for too long.
    Abandoned,
    /// Replaced by a newer session on the same client.
    Replaced,
    /// A status this version does not know, kept verbatim.
    Unknown(String),
}

impl SessionStatus {
    /// The wire value, such as `active`.
    pub fn as_str(&self) -> &str {
        match self {
            SessionStatus::Active => "active",
            SessionStatus::Pending => "pending",
            SessionStatus::Revoked => "revoked",
            SessionStatus::Ended => "ended",
            SessionStatus::Expired => "expired",
            SessionStatus::Removed => "removed",
            SessionStatus::Abandoned => "abandoned",
            SessionStatus::Replaced => "replaced",
            SessionStatus::Unknown(other) => other,
        }
    }

    /// True for statuses in which the session can still be used to sign requests
    /// (`active` and `pending`): what revocation must end.
    pub fn is_live(&self) -> bool {
        matches!(self, SessionStatus::Active | SessionStatus::Pending)
    }
}

impl From<String> for SessionStatus {
    fn from(value: String) -> Self {
        match value.as_str() {
            "active" => SessionStatus::Active,
            "pending" => SessionStatus::Pending,
            "revoked" => SessionStatus::Revoked,
            "ended" => SessionStatus::Ended,
            "expired" => SessionStatus::Expired,
            "removed" => SessionStatus::Removed,
            "abandoned" => SessionStatus::Abandoned,
            "replaced" => SessionStatus::Replaced,
            _ => SessionStatus::Unknown(value),
        }
    }
}

impl From<SessionStatus> for String {
    fn from(value: SessionStatus) -> Self {
        value.as_str().to_owned()
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The instance's JSON Web Key Set (`GET /v1/jwks`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// The key with id `kid`.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid == kid)
    }
}

/// One JSON Web Key. Clerk's session keys are RSA (`kty: "RSA"`, `alg: "RS256"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Jwk {
    /// Key id; the `kid` header of the tokens it signs.
    pub kid: String,
    /// Key type, `RSA` for session keys.
    pub kty: String,
    /// Algorithm, `RS256` for session keys.
    #[serde(default)]
    pub alg: Option<String>,
    /// Intended use, `sig`.
    #[serde(default, rename = "use")]
    pub use_: Option<String>,
    /// RSA modulus, base64url.
    #[serde(default)]
    pub n: Option<String>,
    /// RSA public exponent, base64url.
    #[serde(default)]
    pub e: Option<String>,
}

/// The instance a secret key belongs to (`GET /v1/instance`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Instance {
    /// The instance id, `ins_…`.
    pub id: String,
    /// `production`, `development` or `staging`.
    pub environment_type: EnvironmentType,
    /// Origins allowed to call the Frontend API.
    #[serde(default)]
    pub allowed_origins: Option<Vec<String>>,
}

/// The environment of an [`Instance`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum EnvironmentType {
    /// A production instance (`sk_live_` keys).
    Production,
    /// A development instance (`sk_test_` keys).
    Development,
    /// A staging instance.
    Staging,
    /// A value this version does not know, kept verbatim.
    Unknown(String),
}

impl EnvironmentType {
    /// The wire value, such as `production`.
    pub fn as_str(&self) -> &str {
        match self {
            EnvironmentType::Production => "production",
            EnvironmentType::Development => "development",
            EnvironmentType::Staging => "staging",
            EnvironmentType::Unknown(other) => other,
        }
    }
}

impl From<String> for EnvironmentType {
    fn from(value: String) -> Self {
        match value.as_str() {
            "production" => EnvironmentType::Production,
            "development" => EnvironmentType::Development,
            "staging" => EnvironmentType::Staging,
            _ => EnvironmentType::Unknown(value),
        }
    }
}

impl From<EnvironmentType> for String {
    fn from(value: EnvironmentType) -> Self {
        value.as_str().to_owned()
    }
}

impl fmt::Display for EnvironmentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `GET /v1/users/count` → `{"object":"total_count","total_count":N}`.
#[derive(Debug, Deserialize)]
pub(crate) struct TotalCount {
    pub(crate) total_count: u64,
}

/// `GET /v1/sessions`: `{"data":[…],"total_count":N}` with `paginated=true`, a plain array
/// without it. Both are accepted whatever was asked.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum SessionPage {
    Paginated {
        data: Vec<Session>,
        total_count: u64,
    },
    Plain(Vec<Session>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_session_status_is_kept() {
        let status: SessionStatus = serde_json::from_str("\"frozen\"").unwrap();
        assert_eq!(status, SessionStatus::Unknown("frozen".into()));
        assert!(!status.is_live());
        assert_eq!(serde_json::to_string(&status).unwrap(), "\"frozen\"");
        let active: SessionStatus = serde_json::from_str("\"active\"").unwrap();
        assert!(active.is_live());
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let user: User = serde_json::from_str(
            r#"{"id":"user_1","object":"user","created_at":1,"updated_at":2,
                "last_active_at":null,"brand_new_field":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(user.id, "user_1");
        assert_eq!(user.last_active_at, None);
    }
}
