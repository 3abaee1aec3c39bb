//! [`Finding`]: one thing a leaked key created or changed, with what undoes it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kind of object a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ObjectKind {
    /// A user.
    User,
    /// Users as a whole (deletions, counted against the baseline).
    Users,
    /// An organisation.
    Organization,
    /// An organisation membership with an admin role.
    OrganizationMembership,
    /// A session.
    Session,
    /// A machine (machine-to-machine identity).
    Machine,
    /// A machine-to-machine token.
    M2mToken,
    /// An API key.
    ApiKey,
    /// An invitation.
    Invitation,
    /// A redirect URL.
    RedirectUrl,
    /// A (satellite) domain.
    Domain,
    /// An allowlist identifier.
    AllowlistIdentifier,
    /// A blocklist identifier.
    BlocklistIdentifier,
    /// A JWT template.
    JwtTemplate,
    /// An OAuth application.
    OauthApplication,
    /// A SAML connection.
    SamlConnection,
    /// The instance's settings.
    Instance,
}

impl ObjectKind {
    const ALL: [Self; 17] = [
        Self::User,
        Self::Users,
        Self::Organization,
        Self::OrganizationMembership,
        Self::Session,
        Self::Machine,
        Self::M2mToken,
        Self::ApiKey,
        Self::Invitation,
        Self::RedirectUrl,
        Self::Domain,
        Self::AllowlistIdentifier,
        Self::BlocklistIdentifier,
        Self::JwtTemplate,
        Self::OauthApplication,
        Self::SamlConnection,
        Self::Instance,
    ];

    /// The name, as Clerk's `object` member spells it (`redirect_url`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Users => "users",
            Self::Organization => "organization",
            Self::OrganizationMembership => "organization_membership",
            Self::Session => "session",
            Self::Machine => "machine",
            Self::M2mToken => "m2m_token",
            Self::ApiKey => "api_key",
            Self::Invitation => "invitation",
            Self::RedirectUrl => "redirect_url",
            Self::Domain => "domain",
            Self::AllowlistIdentifier => "allowlist_identifier",
            Self::BlocklistIdentifier => "blocklist_identifier",
            Self::JwtTemplate => "jwt_template",
            Self::OauthApplication => "oauth_application",
            Self::SamlConnection => "saml_connection",
            Self::Instance => "instance",
        }
    }
}

/// What happened to the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Change {
    /// It was created (or added).
    Created,
    /// It changed.
    Updated,
    /// It is gone.
    Deleted,
    /// A session started by impersonation (an actor token).
    Impersonated,
}

impl Change {
    const ALL: [Self; 4] = [
        Self::Created,
        Self::Updated,
        Self::Deleted,
        Self::Impersonated,
    ];

    /// `created`, `updated`, `deleted` or `impersonated`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
            Self::Impersonated => "impersonated",
        }
    }
}

/// A finding's kind, written `object.change` (`user.created`, `session.impersonated`, ...),
/// the names of Clerk's webhook events where there is one.
///
/// ```
/// use clerk_incident_core::audit::{Change, FindingKind, ObjectKind};
///
/// let kind: FindingKind = "redirect_url.created".parse()?;
/// assert_eq!(kind, FindingKind::new(ObjectKind::RedirectUrl, Change::Created));
/// assert_eq!(kind.to_string(), "redirect_url.created");
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FindingKind {
    /// The object.
    pub object: ObjectKind,
    /// What happened to it.
    pub change: Change,
}

impl FindingKind {
    /// `object.change`.
    pub const fn new(object: ObjectKind, change: Change) -> Self {
        Self { object, change }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.object.as_str(), self.change.as_str())
    }
}

impl FromStr for FindingKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (object, change) = text
            .split_once('.')
            .ok_or_else(|| format!("`{text}` is not object.change"))?;
        let object = ObjectKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == object)
            .ok_or_else(|| format!("`{object}` is not a kind of object the audit reports"))?;
        let change = Change::ALL
            .into_iter()
            .find(|kind| kind.as_str() == change)
            .ok_or_else(|| format!("`{change}` is not a change the audit reports"))?;
        Ok(Self { object, change })
    }
}

impl Serialize for FindingKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FindingKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One thing created or changed in the audit's window that a leaked key could have done.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Finding {
    /// What happened to what.
    pub kind: FindingKind,
    /// The object's id (`user_…`, `sess_…`, `orgmem_…`, ...).
    pub id: String,
    /// When, Unix ms, when the Backend API tells (`None` for objects without timestamps,
    /// found by the baseline).
    pub at_ms: Option<i64>,
    /// What it is, for people: names, roles, URLs (never a secret).
    pub what: String,
    /// Why it matters.
    pub why: String,
    /// The exact command, or the Dashboard step, that undoes it.
    pub undo: String,
}
