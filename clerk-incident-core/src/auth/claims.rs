//! The raw payload of a Clerk session token, and its normalisation into a [`VerifiedSession`].
//!
//! Deserialisation is strict about types (`"exp": "123"` is not a timestamp) and lenient about
//! unknown claims, which are ignored. The verifier checks the time, issuer, party and status
//! claims; [`RawClaims::into_session`] only checks what makes the payload meaningless (an empty
//! subject, an unknown version or status) and normalises v1 and v2 into one shape.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::session::{
    FactorVerificationAge, Organization, ScopedEntry, SessionClaimStatus, VerifiedSession,
    strip_org_prefix,
};

/// A session token's payload as Clerk sends it, v1 or v2.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct RawClaims {
    /// The user id.
    pub(crate) sub: String,
    /// The session id.
    pub(crate) sid: String,
    /// The Frontend API URL.
    pub(crate) iss: String,
    /// The origin the token was minted for.
    #[serde(default)]
    pub(crate) azp: Option<String>,
    /// Expiry, Unix seconds.
    pub(crate) exp: i64,
    /// Not before, Unix seconds.
    #[serde(default)]
    pub(crate) nbf: Option<i64>,
    /// Issued at, Unix seconds.
    pub(crate) iat: i64,
    /// Session status: `active` or `pending`; absent means active.
    #[serde(default)]
    pub(crate) sts: Option<String>,
    /// The impersonating actor, `{"sub": …, "iss": …}`.
    #[serde(default)]
    pub(crate) act: Option<Map<String, Value>>,
    /// Minutes since first- and second-factor verification; `-1` for "no such factor".
    #[serde(default)]
    pub(crate) fva: Option<Vec<i64>>,
    /// Claims version: absent or 1, or 2.
    #[serde(default)]
    pub(crate) v: Option<u64>,
    /// v1: the active organisation's id.
    #[serde(default)]
    pub(crate) org_id: Option<String>,
    /// v1: the active organisation's slug.
    #[serde(default)]
    pub(crate) org_slug: Option<String>,
    /// v1: the role in the active organisation, `org:admin`.
    #[serde(default)]
    pub(crate) org_role: Option<String>,
    /// v1: the permissions in the active organisation, `org:dashboard:read`.
    #[serde(default)]
    pub(crate) org_permissions: Option<Vec<String>>,
    /// v2: the active organisation.
    #[serde(default)]
    pub(crate) o: Option<RawOrganization>,
    /// v2: features, comma-separated and scope-prefixed: `o:dashboard,u:beta`.
    #[serde(default)]
    pub(crate) fea: Option<String>,
    /// v2: plan, scope-prefixed: `o:free_org`.
    #[serde(default)]
    pub(crate) pla: Option<String>,
}

/// The v2 `o` claim.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct RawOrganization {
    /// Organisation id.
    #[serde(default)]
    pub(crate) id: Option<String>,
    /// Organisation slug.
    #[serde(default)]
    pub(crate) slg: Option<String>,
    /// Role, without the `org:` prefix: `admin`.
    #[serde(default)]
    pub(crate) rol: Option<String>,
    /// Permission names, comma-separated: `manage,read`.
    #[serde(default)]
    pub(crate) per: Option<String>,
    /// Per org-scoped feature of `fea`, a bitmask over `per`, comma-separated: `3,2`.
    #[serde(default)]
    pub(crate) fpm: Option<String>,
}

/// Why a well-typed payload is still not a usable session.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ClaimsError {
    /// The `sub` claim is empty.
    #[error("the session token's `sub` claim is empty")]
    EmptySubject,
    /// The `sid` claim is empty.
    #[error("the session token's `sid` claim is empty")]
    EmptySessionId,
    /// The `sts` claim is neither `active` nor `pending`.
    #[error("unknown session status `{0}` in the `sts` claim")]
    UnknownStatus(String),
    /// The `v` claim is neither 1 nor 2.
    #[error("unsupported session claims version {0}")]
    UnsupportedVersion(u64),
}

impl RawClaims {
    /// Normalises the payload into a [`VerifiedSession`]. Does not look at the clock.
    pub(crate) fn into_session(self) -> Result<VerifiedSession, ClaimsError> {
        let claims_version: u8 = match self.v {
            None | Some(1) => 1,
            Some(2) => 2,
            Some(other) => return Err(ClaimsError::UnsupportedVersion(other)),
        };
        if self.sub.is_empty() {
            return Err(ClaimsError::EmptySubject);
        }
        if self.sid.is_empty() {
            return Err(ClaimsError::EmptySessionId);
        }
        let status = match self.sts.as_deref() {
            None | Some("active") => SessionClaimStatus::Active,
            Some("pending") => SessionClaimStatus::Pending,
            Some(other) => return Err(ClaimsError::UnknownStatus(other.to_owned())),
        };

        let (organization, features, plan) = if claims_version == 2 {
            let features: Vec<String> = self
                .fea
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|feature| !feature.is_empty())
                .map(str::to_owned)
                .collect();
            let organization = self.o.and_then(|o| v2_organization(o, &features));
            (organization, features, non_empty(self.pla))
        } else {
            let organization = v1_organization(
                self.org_id,
                self.org_slug,
                self.org_role.as_deref(),
                self.org_permissions,
            );
            (organization, Vec::new(), None)
        };

        Ok(VerifiedSession {
            user_id: self.sub,
            session_id: self.sid,
            issuer: self.iss,
            authorized_party: self.azp,
            status,
            organization,
            features,
            plan,
            actor: self.act.map(Value::Object),
            factor_verification_age: self.fva.as_deref().and_then(factor_verification_age),
            issued_at: self.iat,
            expires_at: self.exp,
            claims_version,
        })
    }
}

fn v1_organization(
    id: Option<String>,
    slug: Option<String>,
    role: Option<&str>,
    permissions: Option<Vec<String>>,
) -> Option<Organization> {
    Some(Organization {
        id: non_empty(id)?,
        slug: non_empty(slug),
        role: org_role(role?)?,
        permissions: permissions.unwrap_or_default(),
    })
}

fn v2_organization(o: RawOrganization, features: &[String]) -> Option<Organization> {
    let permissions = match (o.per.as_deref(), o.fpm.as_deref()) {
        (Some(per), Some(fpm)) => feature_permissions(features, per, fpm),
        _ => Vec::new(),
    };
    Some(Organization {
        id: non_empty(o.id)?,
        slug: non_empty(o.slg),
        role: org_role(o.rol.as_deref()?)?,
        permissions,
    })
}

/// `rol` (`admin`) or `org_role` (`org:admin`) as `org:admin`; `None` when there is no name.
fn org_role(role: &str) -> Option<String> {
    let name = strip_org_prefix(role);
    (!name.is_empty()).then(|| format!("org:{name}"))
}

/// Expands v2's encoding: the i-th entry of `fpm` is a bitmask over the entries of `per`
/// (lowest bit = first entry) for the i-th org-scoped entry of `fea`.
///
/// Whatever cannot be mapped grants nothing: an `fpm` entry that is not a non-negative integer,
/// `fpm` entries beyond the org features, mask bits beyond the entries of `per` (or beyond 64),
/// empty feature or permission names.
fn feature_permissions(features: &[String], per: &str, fpm: &str) -> Vec<String> {
    let names: Vec<&str> = per.split(',').map(str::trim).collect();
    let org_features = features
        .iter()
        .filter_map(|feature| ScopedEntry::parse(feature))
        .filter(|entry| entry.org)
        .map(|entry| entry.name);

    let mut permissions: Vec<String> = Vec::new();
    for (feature, mask) in org_features.zip(fpm.split(',')) {
        let Ok(mask) = mask.trim().parse::<u64>() else {
            continue;
        };
        if feature.is_empty() {
            continue;
        }
        for (bit, name) in names.iter().enumerate() {
            let granted = u32::try_from(bit)
                .ok()
                .and_then(|bit| mask.checked_shr(bit))
                .is_some_and(|shifted| shifted & 1 == 1);
            if granted && !name.is_empty() {
                let permission = format!("org:{feature}:{name}");
                if !permissions.contains(&permission) {
                    permissions.push(permission);
                }
            }
        }
    }
    permissions
}

/// `fva`: `[first, second]`, where `-1` means the factor is not in use. A negative first-factor
/// age means nothing is known.
fn factor_verification_age(fva: &[i64]) -> Option<FactorVerificationAge> {
    let first = *fva.first()?;
    if first < 0 {
        return None;
    }
    Some(FactorVerificationAge {
        first_factor_minutes: first,
        second_factor_minutes: fva.get(1).copied().filter(|minutes| *minutes >= 0),
    })
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::auth::session::Check;

    fn base() -> Value {
        json!({
            "sub": "user_2abc",
            "sid": "sess_2abc",
            "iss": "https://clerk.example.com",
            "azp": "https://app.example.com",
            "exp": 1_700_000_060,
            "nbf": 1_699_999_990,
            "iat": 1_700_000_000,
        })
    }

    fn with(extra: Value) -> Value {
        let mut claims = base();
        let Value::Object(extra) = extra else {
            panic!("extra claims must be a JSON object");
        };
        for (key, value) in extra {
            claims[key] = value;
        }
        claims
    }

    fn raw(claims: &Value) -> Result<RawClaims, serde_json::Error> {
        serde_json::from_slice(&serde_json::to_vec(claims).unwrap())
    }

    fn session(claims: &Value) -> Result<VerifiedSession, ClaimsError> {
        raw(claims).unwrap().into_session()
    }

    fn v2_permissions(fea: &str, per: &str, fpm: &str) -> Vec<String> {
        let s = session(&with(json!({
            "v": 2,
            "fea": fea,
            "o": {"id": "org_1", "rol": "admin", "per": per, "fpm": fpm},
        })))
        .unwrap();
        let mut permissions = s.organization.unwrap().permissions;
        permissions.sort();
        permissions
    }

    fn sorted(permissions: &[&str]) -> Vec<String> {
        let mut permissions: Vec<String> = permissions.iter().map(|p| (*p).to_owned()).collect();
        permissions.sort();
        permissions
    }

    #[test]
    fn v1_claims_normalise_into_a_session() {
        let s = session(&with(json!({
            "sts": "active",
            "org_id": "org_1",
            "org_slug": "acme",
            "org_role": "org:admin",
            "org_permissions": ["org:dashboard:manage", "org:dashboard:read"],
            "fva": [3, 12],
        })))
        .unwrap();

        assert_eq!(s.user_id, "user_2abc");
        assert_eq!(s.session_id, "sess_2abc");
        assert_eq!(s.issuer, "https://clerk.example.com");
        assert_eq!(
            s.authorized_party.as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(s.status, SessionClaimStatus::Active);
        assert_eq!(s.issued_at, 1_700_000_000);
        assert_eq!(s.expires_at, 1_700_000_060);
        assert_eq!(s.claims_version, 1);
        assert!(s.features.is_empty());
        assert_eq!(s.plan, None);
        assert!(!s.is_impersonated());
        assert_eq!(
            s.organization,
            Some(Organization {
                id: "org_1".into(),
                slug: Some("acme".into()),
                role: "org:admin".into(),
                permissions: vec!["org:dashboard:manage".into(), "org:dashboard:read".into()],
            })
        );
        assert!(s.has(Check::Role("admin")));
        assert!(s.has(Check::Permission("dashboard:manage")));
    }

    #[test]
    fn v2_claims_normalise_with_the_documented_fpm_example() {
        let s = session(&with(json!({
            "v": 2,
            "fea": "o:dashboard,o:teams,u:beta",
            "pla": "o:free_org",
            "o": {"id": "org_1", "slg": "acme", "rol": "admin", "per": "manage,read", "fpm": "3,2"},
        })))
        .unwrap();

        assert_eq!(s.claims_version, 2);
        assert_eq!(s.features, ["o:dashboard", "o:teams", "u:beta"]);
        assert_eq!(s.plan.as_deref(), Some("o:free_org"));
        assert_eq!(
            s.organization,
            Some(Organization {
                id: "org_1".into(),
                slug: Some("acme".into()),
                role: "org:admin".into(),
                permissions: vec![
                    "org:dashboard:manage".into(),
                    "org:dashboard:read".into(),
                    "org:teams:read".into(),
                ],
            })
        );
        assert!(s.has(Check::Permission("org:teams:read")));
        assert!(!s.has(Check::Permission("org:teams:manage")));
        assert!(s.has(Check::Feature("beta")));
        assert!(s.has(Check::Plan("org:free_org")));
    }

    #[test]
    fn v2_permissions_match_clerks_reference_cases() {
        // The cases of clerk/javascript's jwtPayloadParser tests.
        assert_eq!(
            v2_permissions("o:impersonation,o:memberships", "read,manage", "1,3"),
            sorted(&[
                "org:impersonation:read",
                "org:memberships:read",
                "org:memberships:manage"
            ])
        );
        assert_eq!(
            v2_permissions(
                "o:repositories,o:projects",
                "read,create,update,delete,revoke",
                "7,21"
            ),
            sorted(&[
                "org:repositories:read",
                "org:repositories:create",
                "org:repositories:update",
                "org:projects:read",
                "org:projects:update",
                "org:projects:revoke",
            ])
        );
        assert_eq!(
            v2_permissions(
                "o:repositories,o:projects,o:webhooks,o:impersonation",
                "read,manage",
                "1,2,3"
            ),
            sorted(&[
                "org:repositories:read",
                "org:projects:manage",
                "org:webhooks:read",
                "org:webhooks:manage",
            ])
        );
    }

    #[test]
    fn v2_user_features_are_skipped_and_multi_scope_features_count() {
        assert_eq!(
            v2_permissions("u:beta,o:dashboard,u:gold,o:teams", "manage,read", "2,1"),
            sorted(&["org:dashboard:read", "org:teams:manage"])
        );
        // Clerk's own case: `uo:` and `ou:` entries are organisation features too.
        assert_eq!(
            v2_permissions(
                "o:repositories,uo:projects,u:goldprofileborder",
                "read,create",
                "1,3"
            ),
            sorted(&[
                "org:repositories:read",
                "org:projects:read",
                "org:projects:create"
            ])
        );
    }

    #[test]
    fn v2_role_gets_the_org_prefix_once() {
        let role = |rol: &str| {
            session(&with(json!({"v": 2, "o": {"id": "org_1", "rol": rol}})))
                .unwrap()
                .organization
                .map(|org| org.role)
        };
        assert_eq!(role("admin").as_deref(), Some("org:admin"));
        assert_eq!(role("org:admin").as_deref(), Some("org:admin"));
        assert_eq!(
            role("billing_manager").as_deref(),
            Some("org:billing_manager")
        );
        assert_eq!(
            role(""),
            None,
            "an organisation without a role is no organisation"
        );
    }

    #[test]
    fn v2_organization_without_permission_encoding_has_no_permissions() {
        let s = session(&with(json!({
            "v": 2,
            "fea": "o:dashboard",
            "o": {"id": "org_1", "rol": "member", "fpm": "3"},
        })))
        .unwrap();
        let org = s.organization.unwrap();
        assert_eq!(org.role, "org:member");
        assert!(org.permissions.is_empty());
        assert_eq!(org.slug, None);
    }

    #[test]
    fn v2_organization_without_id_is_no_organization() {
        for o in [
            json!({"rol": "admin", "per": "read", "fpm": "1"}),
            json!({"id": "", "rol": "admin"}),
            json!({}),
        ] {
            let s = session(&with(json!({"v": 2, "fea": "o:dashboard", "o": o}))).unwrap();
            assert_eq!(s.organization, None, "{o}");
            assert!(!s.has(Check::Role("admin")));
            assert!(!s.has(Check::Permission("dashboard:read")));
        }
    }

    #[test]
    fn versions_read_only_their_own_organization_claims() {
        let both = json!({
            "org_id": "org_v1",
            "org_role": "org:admin",
            "org_permissions": ["org:dashboard:read"],
            "o": {"id": "org_v2", "rol": "member"},
            "fea": "o:dashboard",
            "pla": "o:pro",
        });
        let v1 = session(&with(both.clone())).unwrap();
        assert_eq!(v1.organization.unwrap().id, "org_v1");
        assert!(v1.features.is_empty());
        assert_eq!(v1.plan, None);

        let mut v2 = both;
        v2["v"] = json!(2);
        let v2 = session(&with(v2)).unwrap();
        let org = v2.organization.unwrap();
        assert_eq!(
            (org.id.as_str(), org.role.as_str()),
            ("org_v2", "org:member")
        );
        assert!(org.permissions.is_empty());

        let explicit_v1 = session(&with(json!({"v": 1}))).unwrap();
        assert_eq!(explicit_v1.claims_version, 1);
        assert_eq!(explicit_v1.organization, None);
    }

    #[test]
    fn malformed_fpm_never_panics_and_never_over_grants() {
        let fea = "o:dashboard,o:teams";
        let per = "manage,read";
        // A non-numeric entry grants nothing but keeps its place.
        assert_eq!(
            v2_permissions(fea, per, "x,3"),
            sorted(&["org:teams:manage", "org:teams:read"])
        );
        // More masks than org features: the extra ones map to nothing.
        assert_eq!(
            v2_permissions(fea, per, "1,2,3,3"),
            sorted(&["org:dashboard:manage", "org:teams:read"])
        );
        // Fewer masks than org features: the unmatched features get nothing.
        assert_eq!(
            v2_permissions(fea, per, "2"),
            sorted(&["org:dashboard:read"])
        );
        // Bits beyond the entries of `per` name no permission.
        assert_eq!(
            v2_permissions(fea, per, "4,255"),
            sorted(&["org:teams:manage", "org:teams:read"])
        );
        // Negative, fractional, hexadecimal, overflowing or empty masks grant nothing.
        for fpm in [
            "-1,-3",
            "1.0,3e0",
            "0x3, 3 3",
            "99999999999999999999999,",
            ",",
            "",
        ] {
            assert_eq!(
                v2_permissions(fea, per, fpm),
                Vec::<String>::new(),
                "{fpm:?}"
            );
        }
        // Empty names grant nothing; a feature named twice is listed once.
        assert_eq!(
            v2_permissions("o:,o:teams", ",read", "3,3"),
            sorted(&["org:teams:read"])
        );
        assert_eq!(
            v2_permissions("o:teams,o:teams", "read", "1,1"),
            sorted(&["org:teams:read"])
        );
        // No org features at all.
        assert_eq!(v2_permissions("u:beta", per, "3"), Vec::<String>::new());
        assert_eq!(v2_permissions("", per, "3"), Vec::<String>::new());
        // More than 64 permissions: bits past the mask width are never granted.
        let many: Vec<String> = (0..70).map(|i| format!("p{i}")).collect();
        assert_eq!(
            v2_permissions("o:big", &many.join(","), &u64::MAX.to_string()).len(),
            64
        );
    }

    #[test]
    fn mistyped_claims_fail_to_deserialize() {
        for extra in [
            json!({"exp": "1"}),
            json!({"exp": 1.5}),
            json!({"exp": null}),
            json!({"iat": "1"}),
            json!({"nbf": "1"}),
            json!({"sub": 5}),
            json!({"sid": null}),
            json!({"iss": ["https://clerk.example.com"]}),
            json!({"azp": 1}),
            json!({"sts": true}),
            json!({"v": "2"}),
            json!({"v": -1}),
            json!({"act": "user_support"}),
            json!({"fva": "3,-1"}),
            json!({"fva": [3, "x"]}),
            json!({"org_permissions": "org:dashboard:read"}),
            json!({"o": {"id": "org_1", "fpm": 3}}),
            json!({"fea": ["o:dashboard"]}),
        ] {
            assert!(
                raw(&with(extra.clone())).is_err(),
                "{extra} must not deserialize"
            );
        }
    }

    #[test]
    fn missing_required_claims_fail_to_deserialize() {
        for claim in ["sub", "sid", "iss", "exp", "iat"] {
            let mut claims = base();
            claims.as_object_mut().unwrap().remove(claim);
            assert!(raw(&claims).is_err(), "{claim} is required");
        }
        let mut claims = base();
        for claim in ["azp", "nbf"] {
            claims.as_object_mut().unwrap().remove(claim);
        }
        let s = session(&claims).unwrap();
        assert_eq!(s.authorized_party, None);
    }

    #[test]
    fn unknown_claims_are_ignored() {
        let s = session(&with(json!({
            "cat": "cl_B7d4PD111AAA",
            "oiat": 1_700_000_000,
            "email": "ada@example.com",
            "v": 2,
            "o": {"id": "org_1", "rol": "admin", "new_field": [1, 2]},
        })))
        .unwrap();
        assert_eq!(s.organization.unwrap().id, "org_1");
    }

    #[test]
    fn empty_subject_or_session_is_an_error() {
        assert_eq!(
            session(&with(json!({"sub": ""}))),
            Err(ClaimsError::EmptySubject)
        );
        assert_eq!(
            session(&with(json!({"sid": ""}))),
            Err(ClaimsError::EmptySessionId)
        );
    }

    #[test]
    fn unsupported_versions_are_errors() {
        assert_eq!(
            session(&with(json!({"v": 0}))),
            Err(ClaimsError::UnsupportedVersion(0))
        );
        assert_eq!(
            session(&with(json!({"v": 3}))),
            Err(ClaimsError::UnsupportedVersion(3))
        );
    }

    #[test]
    fn session_status_claim() {
        let status = |sts: Value| session(&with(json!({"sts": sts}))).map(|s| s.status);
        assert_eq!(session(&base()).unwrap().status, SessionClaimStatus::Active);
        assert_eq!(status(Value::Null), Ok(SessionClaimStatus::Active));
        assert_eq!(status(json!("active")), Ok(SessionClaimStatus::Active));
        assert_eq!(status(json!("pending")), Ok(SessionClaimStatus::Pending));
        assert_eq!(
            status(json!("revoked")),
            Err(ClaimsError::UnknownStatus("revoked".into()))
        );
        assert_eq!(
            status(json!("Active")),
            Err(ClaimsError::UnknownStatus("Active".into()))
        );
        assert_eq!(
            status(json!("")),
            Err(ClaimsError::UnknownStatus(String::new()))
        );
    }

    #[test]
    fn factor_verification_age_claim() {
        let fva = |fva: Value| {
            session(&with(json!({"fva": fva})))
                .unwrap()
                .factor_verification_age
                .map(|age| (age.first_factor_minutes, age.second_factor_minutes))
        };
        assert_eq!(session(&base()).unwrap().factor_verification_age, None);
        assert_eq!(fva(json!([3, 12])), Some((3, Some(12))));
        assert_eq!(fva(json!([0, -1])), Some((0, None)), "-1: no second factor");
        assert_eq!(fva(json!([7])), Some((7, None)));
        assert_eq!(fva(json!([])), None);
        assert_eq!(
            fva(json!([-1, 5])),
            None,
            "no first-factor age, nothing known"
        );
        assert_eq!(fva(Value::Null), None);
    }

    #[test]
    fn impersonated_session_keeps_the_actor_verbatim() {
        let actor =
            json!({"sub": "user_support", "iss": "https://dashboard.clerk.com", "sid": "sess_x"});
        let s = session(&with(json!({"act": actor}))).unwrap();
        assert!(s.is_impersonated());
        assert_eq!(s.actor, Some(actor));
        assert_eq!(
            s.user_id, "user_2abc",
            "the subject stays the impersonated user"
        );
    }

    #[test]
    fn errors_display_without_panicking() {
        assert_eq!(
            ClaimsError::UnknownStatus("revoked".into()).to_string(),
            "unknown session status `revoked` in the `sts` claim"
        );
        assert_eq!(
            ClaimsError::UnsupportedVersion(3).to_string(),
            "unsupported session claims version 3"
        );
    }
}
