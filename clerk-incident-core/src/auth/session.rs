//! The identity a verified session token carries, and Clerk's `has()` checks on it.
//!
//! Version 1 and version 2 session claims normalise into one [`VerifiedSession`]: the
//! organisation role always carries the `org:` prefix, and v2's compact permission encoding
//! (`o.per` + `o.fpm` over the org-scoped features of `fea`) is expanded into the same
//! `org:<feature>:<permission>` keys v1 sends in `org_permissions`.
//!
//! # Example
//!
//! ```
//! use clerk_incident_core::auth::{Check, VerifiedSession};
//!
//! /// Whether the session may change the dashboard: organisation admins, or members granted
//! /// the permission.
//! fn may_manage_dashboard(session: &VerifiedSession) -> bool {
//!     session.has(Check::Role("admin")) || session.has(Check::Permission("dashboard:manage"))
//! }
//! # let _ = may_manage_dashboard;
//! ```

use serde::Serialize;

/// The claims of a Clerk session token whose signature and time claims have been verified.
///
/// Built by the verifier from either claims version; [`claims_version`](Self::claims_version)
/// records which one the token used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct VerifiedSession {
    /// The user id, `user_…` (the `sub` claim).
    pub user_id: String,
    /// The session id, `sess_…` (the `sid` claim).
    pub session_id: String,
    /// The Frontend API URL that issued the token (the `iss` claim).
    pub issuer: String,
    /// The origin the token was minted for (the `azp` claim), when present.
    pub authorized_party: Option<String>,
    /// The session's status (the `sts` claim; absent means active).
    pub status: SessionClaimStatus,
    /// The organisation active in the session, if any.
    pub organization: Option<Organization>,
    /// The features of the session's plans, as in the v2 `fea` claim, scope prefix kept:
    /// `o:dashboard`, `u:beta`, `ou:sso`. Always empty for v1 tokens.
    pub features: Vec<String>,
    /// The plan, as in the v2 `pla` claim, scope prefix kept: `o:free_org`, `u:pro`. Always
    /// `None` for v1 tokens.
    pub plan: Option<String>,
    /// The actor impersonating the user (the `act` claim, verbatim), when the session is an
    /// impersonation session.
    pub actor: Option<serde_json::Value>,
    /// How long ago the user last verified each factor (the `fva` claim), when the instance
    /// includes it.
    pub factor_verification_age: Option<FactorVerificationAge>,
    /// When the token was issued, Unix seconds (the `iat` claim).
    pub issued_at: i64,
    /// When the token expires, Unix seconds (the `exp` claim).
    pub expires_at: i64,
    /// The claims version of the token: 1 or 2 (the `v` claim; absent means 1).
    pub claims_version: u8,
}

impl VerifiedSession {
    /// Clerk's `has()`: whether the session holds a role, permission, feature or plan.
    ///
    /// - [`Check::Role`] and [`Check::Permission`] are checked against the active
    ///   [`organization`](Self::organization), and are `false` without one. The `org:` prefix
    ///   is optional in the check: `"admin"` and `"org:admin"` are the same role, and
    ///   `"dashboard:read"` the same permission as `"org:dashboard:read"`.
    /// - [`Check::Feature`] and [`Check::Plan`] are checked against
    ///   [`features`](Self::features) and [`plan`](Self::plan). A bare name (`"dashboard"`)
    ///   matches either scope; `"org:dashboard"` only an organisation-scoped entry and
    ///   `"user:beta"` only a user-scoped one. Any other prefix matches nothing.
    ///
    /// Comparisons are exact and case-sensitive; an empty check is `false`.
    ///
    /// ```
    /// use clerk_incident_core::auth::{Check, VerifiedSession};
    ///
    /// fn is_paying_admin(session: &VerifiedSession) -> bool {
    ///     session.has(Check::Role("org:admin")) && session.has(Check::Plan("org:pro"))
    /// }
    /// # let _ = is_paying_admin;
    /// ```
    pub fn has(&self, check: Check<'_>) -> bool {
        match check {
            Check::Role(role) => self
                .organization
                .as_ref()
                .is_some_and(|org| org.has_role(role)),
            Check::Permission(permission) => self
                .organization
                .as_ref()
                .is_some_and(|org| org.has_permission(permission)),
            Check::Feature(feature) => {
                scoped_match(self.features.iter().map(String::as_str), feature)
            }
            Check::Plan(plan) => {
                scoped_match(self.plan.iter().flat_map(|plans| plans.split(',')), plan)
            }
        }
    }

    /// Whether someone else is acting as the user (the token carries an `act` claim).
    pub fn is_impersonated(&self) -> bool {
        self.actor.is_some()
    }
}

/// The organisation active in a [`VerifiedSession`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Organization {
    /// The organisation id, `org_…`.
    pub id: String,
    /// The organisation's slug, if it has one.
    pub slug: Option<String>,
    /// The user's role in the organisation, always `org:`-prefixed: `org:admin`.
    pub role: String,
    /// The user's permissions in the organisation, `org:<feature>:<permission>`:
    /// `org:dashboard:read`.
    pub permissions: Vec<String>,
}

impl Organization {
    fn has_role(&self, role: &str) -> bool {
        let wanted = strip_org_prefix(role);
        !wanted.is_empty() && self.role.strip_prefix("org:") == Some(wanted)
    }

    fn has_permission(&self, permission: &str) -> bool {
        let wanted = strip_org_prefix(permission);
        !wanted.is_empty()
            && self
                .permissions
                .iter()
                .any(|held| held.strip_prefix("org:") == Some(wanted))
    }
}

/// The status of the session a token belongs to (the `sts` claim).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SessionClaimStatus {
    /// Signed in and usable. Also what a token without `sts` means.
    Active,
    /// Signed in with tasks left to complete, such as choosing an organisation.
    Pending,
}

/// Minutes since the user last verified each authentication factor (the `fva` claim).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FactorVerificationAge {
    /// Minutes since the first factor (password, email code, OAuth, …) was verified.
    pub first_factor_minutes: i64,
    /// Minutes since a second factor was verified; `None` when the instance or user has no
    /// second factor (`-1` in the claim).
    pub second_factor_minutes: Option<i64>,
}

/// One authorisation question for [`VerifiedSession::has`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Check<'a> {
    /// An organisation role: `"admin"` or `"org:admin"`.
    Role(&'a str),
    /// An organisation permission: `"dashboard:read"` or `"org:dashboard:read"`.
    Permission(&'a str),
    /// A feature of the session's plans: `"dashboard"` (either scope), `"org:dashboard"` or
    /// `"user:dashboard"`.
    Feature(&'a str),
    /// A plan: `"pro"` (either scope), `"org:pro"` or `"user:pro"`.
    Plan(&'a str),
}

/// Removes every leading `org:` (Clerk's checks treat `org:org:admin` as `org:admin`).
pub(super) fn strip_org_prefix(mut value: &str) -> &str {
    while let Some(rest) = value.strip_prefix("org:") {
        value = rest;
    }
    value
}

/// One entry of the `fea` or `pla` claim, such as `o:dashboard`, `u:beta` or `ou:sso`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ScopedEntry<'a> {
    /// Whether the entry belongs to the organisation (its scope contains `o`).
    pub(super) org: bool,
    /// Whether the entry belongs to the user (its scope contains `u`).
    pub(super) user: bool,
    /// The name after the scope; may be empty in a malformed claim.
    pub(super) name: &'a str,
}

impl<'a> ScopedEntry<'a> {
    /// Splits `scope:name`; `None` for an entry without a scope.
    pub(super) fn parse(entry: &'a str) -> Option<Self> {
        let (scope, name) = entry.trim().split_once(':')?;
        Some(ScopedEntry {
            org: scope.contains('o'),
            user: scope.contains('u'),
            name: name.trim(),
        })
    }
}

/// Clerk's feature and plan matching: a bare name matches either scope, `org:`/`user:` one.
fn scoped_match<'e>(entries: impl IntoIterator<Item = &'e str>, check: &str) -> bool {
    let (want_org, want_user, name) = if let Some(name) = check.strip_prefix("org:") {
        (true, false, name)
    } else if let Some(name) = check.strip_prefix("user:") {
        (false, true, name)
    } else {
        (true, true, check)
    };
    if name.is_empty() || name.contains(':') {
        return false;
    }
    entries
        .into_iter()
        .filter_map(ScopedEntry::parse)
        .any(|entry| entry.name == name && ((want_org && entry.org) || (want_user && entry.user)))
}

#[cfg(test)]
impl VerifiedSession {
    /// An active session of `user_id` with no organisation, for unit tests.
    pub(crate) fn for_tests(user_id: &str) -> Self {
        Self {
            user_id: user_id.into(),
            session_id: format!("sess_of_{user_id}"),
            issuer: "https://clerk.example.com".into(),
            authorized_party: None,
            status: SessionClaimStatus::Active,
            organization: None,
            features: Vec::new(),
            plan: None,
            actor: None,
            factor_verification_age: None,
            issued_at: 1_700_000_000,
            expires_at: 1_700_000_060,
            claims_version: 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> VerifiedSession {
        VerifiedSession {
            session_id: "sess_1".into(),
            ..VerifiedSession::for_tests("user_1")
        }
    }

    fn with_org(role: &str, permissions: &[&str]) -> VerifiedSession {
        VerifiedSession {
            organization: Some(Organization {
                id: "org_1".into(),
                slug: Some("acme".into()),
                role: role.into(),
                permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
            }),
            ..session()
        }
    }

    fn with_billing(features: &[&str], plan: Option<&str>) -> VerifiedSession {
        VerifiedSession {
            features: features.iter().map(|f| (*f).to_owned()).collect(),
            plan: plan.map(str::to_owned),
            ..session()
        }
    }

    #[test]
    fn role_check_with_or_without_org_prefix() {
        let s = with_org("org:admin", &[]);
        assert!(s.has(Check::Role("org:admin")));
        assert!(s.has(Check::Role("admin")), "admin ≡ org:admin");
        assert!(
            s.has(Check::Role("org:org:admin")),
            "Clerk collapses repeated prefixes"
        );
        assert!(!s.has(Check::Role("org:member")));
        assert!(!s.has(Check::Role("member")));
    }

    #[test]
    fn role_check_is_exact_and_case_sensitive() {
        let s = with_org("org:admin", &[]);
        assert!(!s.has(Check::Role("Admin")));
        assert!(!s.has(Check::Role("org:Admin")));
        assert!(!s.has(Check::Role("adm")));
        assert!(!s.has(Check::Role("org:admin ")));
        assert!(!s.has(Check::Role("")));
        assert!(!s.has(Check::Role("org:")));
    }

    #[test]
    fn permission_check_with_or_without_org_prefix() {
        let s = with_org("org:member", &["org:dashboard:read", "org:teams:manage"]);
        assert!(s.has(Check::Permission("org:dashboard:read")));
        assert!(s.has(Check::Permission("dashboard:read")));
        assert!(s.has(Check::Permission("teams:manage")));
        assert!(!s.has(Check::Permission("dashboard:manage")));
        assert!(!s.has(Check::Permission("org:dashboard")));
        assert!(!s.has(Check::Permission("dashboard")));
        assert!(!s.has(Check::Permission("org:Dashboard:read")));
        assert!(!s.has(Check::Permission("")));
        assert!(!s.has(Check::Permission("org:")));
    }

    #[test]
    fn role_and_permission_checks_without_organization_are_false() {
        let s = with_billing(&["u:beta"], Some("u:pro"));
        assert!(!s.has(Check::Role("admin")));
        assert!(!s.has(Check::Role("org:admin")));
        assert!(!s.has(Check::Permission("org:dashboard:read")));
        assert!(s.has(Check::Feature("beta")), "user features still count");
        assert!(s.has(Check::Plan("pro")));
    }

    #[test]
    fn feature_check_scoping() {
        let s = with_billing(&["o:dashboard", "o:teams", "u:beta", "ou:sso"], None);
        assert!(s.has(Check::Feature("dashboard")));
        assert!(s.has(Check::Feature("org:dashboard")));
        assert!(!s.has(Check::Feature("user:dashboard")));
        assert!(s.has(Check::Feature("beta")));
        assert!(s.has(Check::Feature("user:beta")));
        assert!(!s.has(Check::Feature("org:beta")));
        assert!(
            s.has(Check::Feature("org:sso")),
            "a multi-scope entry is in both scopes"
        );
        assert!(s.has(Check::Feature("user:sso")));
        assert!(!s.has(Check::Feature("billing")));
        assert!(!s.has(Check::Feature("Dashboard")), "case-sensitive");
    }

    #[test]
    fn plan_check_scoping() {
        let org_plan = with_billing(&[], Some("o:free_org"));
        assert!(org_plan.has(Check::Plan("free_org")));
        assert!(org_plan.has(Check::Plan("org:free_org")));
        assert!(!org_plan.has(Check::Plan("user:free_org")));
        assert!(!org_plan.has(Check::Plan("pro")));

        let user_plan = with_billing(&[], Some("u:pro"));
        assert!(user_plan.has(Check::Plan("pro")));
        assert!(user_plan.has(Check::Plan("user:pro")));
        assert!(!user_plan.has(Check::Plan("org:pro")));

        assert!(!session().has(Check::Plan("pro")), "no plan");
    }

    #[test]
    fn malformed_feature_and_plan_checks_are_false() {
        let s = with_billing(&["o:dashboard", "u:beta", "nodash", "o:"], Some("u:pro"));
        for check in [
            "",
            "org:",
            "user:",
            "o:dashboard",
            "u:beta",
            "team:dashboard",
            ":dashboard",
            "org:o:dashboard",
            "nodash",
        ] {
            assert!(!s.has(Check::Feature(check)), "feature {check:?}");
            assert!(!s.has(Check::Plan(check)), "plan {check:?}");
        }
    }

    #[test]
    fn feature_checks_do_not_reach_role_or_permissions() {
        let s = with_org("org:admin", &["org:dashboard:read"]);
        assert!(!s.has(Check::Feature("admin")));
        assert!(!s.has(Check::Feature("dashboard")));
        assert!(!s.has(Check::Plan("admin")));
    }

    #[test]
    fn impersonation_is_the_presence_of_an_actor() {
        assert!(!session().is_impersonated());
        let s = VerifiedSession {
            actor: Some(serde_json::json!({"sub": "user_support"})),
            ..session()
        };
        assert!(s.is_impersonated());
    }

    #[test]
    fn serializes_with_snake_case_status() {
        let s = VerifiedSession {
            status: SessionClaimStatus::Pending,
            ..with_org("org:admin", &["org:dashboard:read"])
        };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["status"], "pending");
        assert_eq!(json["organization"]["role"], "org:admin");
        assert_eq!(json["claims_version"], 2);
    }

    #[test]
    fn scoped_entry_parsing() {
        assert_eq!(
            ScopedEntry::parse(" uo:sso "),
            Some(ScopedEntry {
                org: true,
                user: true,
                name: "sso"
            })
        );
        assert_eq!(ScopedEntry::parse("dashboard"), None);
        assert_eq!(strip_org_prefix("org:org:admin"), "admin");
        assert_eq!(strip_org_prefix("admin"), "admin");
    }
}
