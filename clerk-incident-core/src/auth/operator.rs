//! [`Operators`]: who may run instance-wide actions (mass session revocation, and every later
//! admin route that affects all users).
//!
//! An *operator* is a fully verified session (never accepted through `Grace` or `Open`, never
//! pending, never impersonated: a token with an `act` claim is never an operator) whose user
//! id is in an explicit allow-list, or that holds a role in **one pinned organisation**.
//!
//! Why not "`org:admin` anywhere"? On an instance where users may create organisations, the
//! creator of a new organisation holds `org:admin` of it, so any signed-up user would qualify.
//! A role is always held in the token's *active* organisation; only the pinned organisation's
//! role counts here.
//!
//! | Variable | Meaning |
//! | --- | --- |
//! | `CLERK_INCIDENT_OPERATORS` | comma-separated user ids (`user_…`) who are operators |
//! | `CLERK_INCIDENT_OPERATOR_ORG` | an organisation id (`org_…`) whose role holders are operators |
//! | `CLERK_INCIDENT_OPERATOR_ROLE` | that role (default `org:admin`; `admin` means the same) |
//!
//! With neither set, no one is an operator and the instance-wide routes refuse every request
//! (403 `no_operator_configured`).
//!
//! ```
//! use clerk_incident_core::auth::Operators;
//!
//! let vars = [("CLERK_INCIDENT_OPERATOR_ORG", "org_2abc"), ("CLERK_INCIDENT_OPERATORS", "user_oncall")];
//! let operators = Operators::from_vars(|name| {
//!     vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
//! })?;
//! assert!(operators.is_configured());
//!
//! let typo = Operators::from_vars(|name| (name == "CLERK_INCIDENT_OPERATOR_ORG").then(|| "2abc".to_owned()));
//! assert!(typo.is_err());
//! # Ok::<(), clerk_incident_core::auth::OperatorConfigError>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use super::env_value::{shown, value};
use super::session::{Check, SessionClaimStatus, VerifiedSession};

/// Comma-separated user ids who are operators.
pub const ENV_OPERATORS: &str = "CLERK_INCIDENT_OPERATORS";
/// The organisation whose role holders are operators.
pub const ENV_OPERATOR_ORG: &str = "CLERK_INCIDENT_OPERATOR_ORG";
/// The role in [`ENV_OPERATOR_ORG`] that makes an operator.
pub const ENV_OPERATOR_ROLE: &str = "CLERK_INCIDENT_OPERATOR_ROLE";
/// The role operators hold in the pinned organisation unless told otherwise.
pub const DEFAULT_OPERATOR_ROLE: &str = "org:admin";

/// Who may run instance-wide actions: allow-listed users, and the holders of one role in one
/// pinned organisation. The default is nobody.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Operators {
    users: Vec<String>,
    organization: Option<PinnedRole>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct PinnedRole {
    organization_id: String,
    role: String,
}

/// How an [`Operator`] qualified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Qualification {
    /// The user id is in the allow-list ([`ENV_OPERATORS`]).
    AllowList,
    /// The session holds `role` in the pinned organisation.
    Organization {
        /// The pinned organisation.
        organization_id: String,
        /// The role it holds there.
        role: String,
    },
}

/// A session that qualified as an operator: who, and how. What the audit line of an
/// instance-wide action names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Operator {
    /// The operator's user id.
    pub user_id: String,
    /// The session the action was taken in.
    pub session_id: String,
    /// How they qualified.
    #[serde(flatten)]
    pub qualification: Qualification,
}

impl Operator {
    /// The operator `user_id`, acting in `session_id`, qualified by `qualification`: what the
    /// operator guard attaches, for code that decides who is an operator by other means (and
    /// for tests).
    pub fn new(
        user_id: impl Into<String>,
        session_id: impl Into<String>,
        qualification: Qualification,
    ) -> Self {
        Self {
            user_id: user_id.into(),
            session_id: session_id.into(),
            qualification,
        }
    }
}

impl fmt::Display for Operator {
    /// `user_1 (allow-listed)` or `user_1 (org:admin of org_2)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.qualification {
            Qualification::AllowList => write!(f, "{} (allow-listed)", self.user_id),
            Qualification::Organization {
                organization_id,
                role,
            } => write!(f, "{} ({role} of {organization_id})", self.user_id),
        }
    }
}

/// Why a verified session is not an operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OperatorRefusal {
    /// No operator is configured: the routes refuse everyone.
    NotConfigured,
    /// The session is impersonated (an `act` claim): never an operator.
    Impersonated,
    /// The session is pending (`sts: pending`).
    Pending,
    /// Neither allow-listed nor holding the role in the pinned organisation.
    NotAnOperator,
}

impl OperatorRefusal {
    /// The snake_case reason for logs and JSON bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            OperatorRefusal::NotConfigured => "no_operator_configured",
            OperatorRefusal::Impersonated => "impersonated_session",
            OperatorRefusal::Pending => "pending_session",
            OperatorRefusal::NotAnOperator => "not_an_operator",
        }
    }

    /// A sentence for the response body.
    pub fn message(self) -> &'static str {
        match self {
            OperatorRefusal::NotConfigured => {
                "no operator is configured: set CLERK_INCIDENT_OPERATORS or \
                 CLERK_INCIDENT_OPERATOR_ORG on the service"
            }
            OperatorRefusal::Impersonated => "an impersonated session is never an operator",
            OperatorRefusal::Pending => "a pending session is never an operator",
            OperatorRefusal::NotAnOperator => {
                "this route is for operators: allow-listed users, or the operator role in the \
                 pinned organisation"
            }
        }
    }
}

/// Why the operator variables were refused (the service must not start).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OperatorConfigError {
    /// An entry of the allow-list is not a user id.
    #[error(
        "{ENV_OPERATORS} holds {value:?}, which is not a Clerk user id; give comma-separated ids such as user_2abc,user_2def"
    )]
    InvalidUserId {
        /// The entry (cut to 64 characters, `…` when cut).
        value: String,
    },
    /// The organisation is not an organisation id.
    #[error(
        "{ENV_OPERATOR_ORG}={value:?} is not a Clerk organisation id; give one id such as org_2abc"
    )]
    InvalidOrganization {
        /// The value (cut to 64 characters).
        value: String,
    },
    /// The role is not a role key.
    #[error(
        "{ENV_OPERATOR_ROLE}={value:?} is not a role key; give one such as org:admin (the default)"
    )]
    InvalidRole {
        /// The value (cut to 64 characters).
        value: String,
    },
    /// A role without the organisation it is held in.
    #[error(
        "{ENV_OPERATOR_ROLE} is set but {ENV_OPERATOR_ORG} is not: name the organisation the role is held in"
    )]
    RoleWithoutOrganization,
}

impl Operators {
    /// Nobody: every instance-wide route refuses.
    pub fn none() -> Self {
        Self::default()
    }

    /// Adds allow-listed users.
    #[must_use]
    pub fn allow_users<I, S>(mut self, user_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.users.extend(user_ids.into_iter().map(Into::into));
        self
    }

    /// Makes the holders of `role` (`org:admin`, or `admin` for short) in `organization_id`
    /// operators.
    #[must_use]
    pub fn organization(
        mut self,
        organization_id: impl Into<String>,
        role: impl Into<String>,
    ) -> Self {
        let role = role.into();
        let role = if role.starts_with("org:") {
            role
        } else {
            format!("org:{role}")
        };
        self.organization = Some(PinnedRole {
            organization_id: organization_id.into(),
            role,
        });
        self
    }

    /// Reads [`ENV_OPERATORS`], [`ENV_OPERATOR_ORG`] and [`ENV_OPERATOR_ROLE`] through `get`
    /// (empty counts as unset).
    ///
    /// # Errors
    ///
    /// [`OperatorConfigError`] for a malformed id or role, or a role without an organisation.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, OperatorConfigError> {
        let var = |name: &str| value(&get, name);
        let mut operators = Self::none();
        if let Some(list) = var(ENV_OPERATORS) {
            for id in list.split(',').map(str::trim).filter(|id| !id.is_empty()) {
                if !is_id(id, "user_") {
                    return Err(OperatorConfigError::InvalidUserId { value: shown(id) });
                }
                operators.users.push(id.to_owned());
            }
        }
        let role = var(ENV_OPERATOR_ROLE);
        match var(ENV_OPERATOR_ORG) {
            Some(org) if !is_id(&org, "org_") => {
                return Err(OperatorConfigError::InvalidOrganization { value: shown(&org) });
            }
            Some(org) => {
                let role = role.unwrap_or_else(|| DEFAULT_OPERATOR_ROLE.to_owned());
                if !is_role(&role) {
                    return Err(OperatorConfigError::InvalidRole {
                        value: shown(&role),
                    });
                }
                operators = operators.organization(org, role);
            }
            None if role.is_some() => return Err(OperatorConfigError::RoleWithoutOrganization),
            None => {}
        }
        Ok(operators)
    }

    /// Reads the operator variables from the process environment.
    ///
    /// # Errors
    ///
    /// As [`from_vars`](Self::from_vars).
    pub fn from_env() -> Result<Self, OperatorConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// True when anyone can qualify.
    pub fn is_configured(&self) -> bool {
        !self.users.is_empty() || self.organization.is_some()
    }

    /// What a service mounting operator-only routes without operators should log once at
    /// start-up (the routes then refuse everyone); `None` when operators are configured.
    pub fn unconfigured_warning(&self) -> Option<&'static str> {
        (!self.is_configured()).then_some(
            "no operator is configured (CLERK_INCIDENT_OPERATORS or CLERK_INCIDENT_OPERATOR_ORG): \
             the instance-wide admin routes (mass session revocation) refuse every request",
        )
    }

    /// A one-line description for start-up logs: who qualifies.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.users.is_empty() {
            parts.push(format!("{} allow-listed user(s)", self.users.len()));
        }
        if let Some(pinned) = &self.organization {
            parts.push(format!("{} of {}", pinned.role, pinned.organization_id));
        }
        if parts.is_empty() {
            "nobody".to_owned()
        } else {
            parts.join(" and ")
        }
    }

    /// Whether `session`, which verified in full (not through `Grace` or `Open`), is an
    /// operator. Callers must not pass a degraded or bypassed identity:
    /// [`AuthPolicy::decide_rule`](super::AuthPolicy::decide_rule) with
    /// [`RouteRule::operator`](super::RouteRule::operator) never does.
    ///
    /// # Errors
    ///
    /// Why not.
    pub fn qualify(&self, session: &VerifiedSession) -> Result<Operator, OperatorRefusal> {
        if !self.is_configured() {
            return Err(OperatorRefusal::NotConfigured);
        }
        if session.is_impersonated() {
            return Err(OperatorRefusal::Impersonated);
        }
        if session.status == SessionClaimStatus::Pending {
            return Err(OperatorRefusal::Pending);
        }
        let operator = |qualification| Operator {
            user_id: session.user_id.clone(),
            session_id: session.session_id.clone(),
            qualification,
        };
        if self.users.contains(&session.user_id) {
            return Ok(operator(Qualification::AllowList));
        }
        if let Some(pinned) = &self.organization {
            let in_org = session
                .organization
                .as_ref()
                .is_some_and(|org| org.id == pinned.organization_id);
            if in_org && session.has(Check::Role(&pinned.role)) {
                return Ok(operator(Qualification::Organization {
                    organization_id: pinned.organization_id.clone(),
                    role: pinned.role.clone(),
                }));
            }
        }
        Err(OperatorRefusal::NotAnOperator)
    }
}

/// `prefix` followed by at least one ASCII letter, digit or `_`.
fn is_id(value: &str, prefix: &str) -> bool {
    value.strip_prefix(prefix).is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// A role key as Clerk writes them, lower case: `org:admin`, `admin`, `org:billing_manager`.
/// (`Admin` would match nobody: role checks are exact.)
fn is_role(value: &str) -> bool {
    let key = value.strip_prefix("org:").unwrap_or(value);
    !key.is_empty()
        && key.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-' || b == b':'
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Organization;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn session(user: &str, org: Option<(&str, &str)>) -> VerifiedSession {
        let mut session = VerifiedSession::for_tests(user);
        session.organization = org.map(|(id, role)| Organization {
            id: id.to_owned(),
            slug: None,
            role: role.to_owned(),
            permissions: Vec::new(),
        });
        session
    }

    #[test]
    fn nobody_by_default() {
        let operators = Operators::from_vars(vars(&[])).unwrap();
        assert!(!operators.is_configured());
        assert!(operators.unconfigured_warning().is_some());
        assert!(
            Operators::none()
                .allow_users(["user_a"])
                .unconfigured_warning()
                .is_none()
        );
        assert_eq!(
            operators.qualify(&session("user_a", Some(("org_a", "org:admin")))),
            Err(OperatorRefusal::NotConfigured)
        );
    }

    #[test]
    fn an_admin_of_another_organisation_is_not_an_operator() {
        let operators = Operators::from_vars(vars(&[(ENV_OPERATOR_ORG, "org_pinned")])).unwrap();
        let own = operators
            .qualify(&session("user_a", Some(("org_pinned", "org:admin"))))
            .unwrap();
        assert_eq!(own.to_string(), "user_a (org:admin of org_pinned)");
        for org in [
            Some(("org_new", "org:admin")),
            Some(("org_pinned", "org:member")),
            None,
        ] {
            assert_eq!(
                operators.qualify(&session("user_b", org)),
                Err(OperatorRefusal::NotAnOperator),
                "{org:?}"
            );
        }
    }

    #[test]
    fn allow_listed_users_qualify_in_any_organisation() {
        let operators =
            Operators::from_vars(vars(&[(ENV_OPERATORS, " user_a, user_b ,")])).unwrap();
        let operator = operators.qualify(&session("user_b", None)).unwrap();
        assert_eq!(operator.qualification, Qualification::AllowList);
        assert_eq!(operator.to_string(), "user_b (allow-listed)");
        assert!(operators.qualify(&session("user_c", None)).is_err());
    }

    #[test]
    fn impersonated_and_pending_sessions_never_qualify() {
        let operators = Operators::none().allow_users(["user_a"]);
        let mut impersonated = session("user_a", None);
        impersonated.actor = Some(serde_json::json!({"sub": "user_support"}));
        assert_eq!(
            operators.qualify(&impersonated),
            Err(OperatorRefusal::Impersonated)
        );
        let mut pending = session("user_a", None);
        pending.status = SessionClaimStatus::Pending;
        assert_eq!(operators.qualify(&pending), Err(OperatorRefusal::Pending));
    }

    #[test]
    fn the_role_is_configurable_and_short_names_work() {
        let operators = Operators::from_vars(vars(&[
            (ENV_OPERATOR_ORG, "org_ops"),
            (ENV_OPERATOR_ROLE, "oncall"),
        ]))
        .unwrap();
        assert!(
            operators
                .qualify(&session("user_a", Some(("org_ops", "org:oncall"))))
                .is_ok()
        );
        assert!(
            operators
                .qualify(&session("user_a", Some(("org_ops", "org:admin"))))
                .is_err()
        );
    }

    #[test]
    fn malformed_values_are_refused() {
        for (pairs, expected) in [
            (
                vec![(ENV_OPERATORS, "user_a,alice@example.com")],
                "not a Clerk user id",
            ),
            (vec![(ENV_OPERATORS, "usr_a")], "not a Clerk user id"),
            (
                vec![(ENV_OPERATOR_ORG, "2abc")],
                "not a Clerk organisation id",
            ),
            (
                vec![(ENV_OPERATOR_ORG, "org_a,org_b")],
                "not a Clerk organisation id",
            ),
            (
                vec![
                    (ENV_OPERATOR_ORG, "org_a"),
                    (ENV_OPERATOR_ROLE, "org admin"),
                ],
                "not a role key",
            ),
            (vec![(ENV_OPERATOR_ROLE, "org:admin")], "is set but"),
            (
                vec![(ENV_OPERATOR_ORG, "org_a"), (ENV_OPERATOR_ROLE, "Admin")],
                "not a role key",
            ),
        ] {
            let err = Operators::from_vars(vars(&pairs)).unwrap_err();
            assert!(err.to_string().contains(expected), "{pairs:?}: {err}");
        }
    }
}
