//! Session token minting: what to mint ([`TokenRequest`]) and the claims Clerk puts in it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::model::{SessionStatus, SimMembership};
use crate::state::Shared;
use crate::{SimError, jwt};

/// Default token lifetime, Clerk's 60 seconds.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);

/// Default `azp` claim: the sim instance's only allowed origin.
pub const DEFAULT_AZP: &str = "http://localhost:3000";

/// How far `nbf` lies before `iat`, as in Clerk's tokens.
const NOT_BEFORE_SKEW_SECS: i64 = 10;

/// The organisation features of v2 claims, in `fea` order; `fpm[i]` is a bitmask over
/// [`V2_PERMISSIONS`] for the i-th feature.
const V2_ORG_FEATURES: &str = "o:dashboard,o:teams";
/// The permission names of v2 claims, lowest bit first.
const V2_PERMISSIONS: &str = "manage,read";
/// The plan of every simulated organisation.
const V2_ORG_PLAN: &str = "o:free_org";

/// The session claims layout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ClaimsVersion {
    /// Version 1: flat `org_id`, `org_slug`, `org_role`, `org_permissions` claims.
    #[default]
    V1,
    /// Version 2 (`"v": 2`): compact `o: {id, slg, rol, per, fpm}`, `fea` and `pla` claims.
    V2,
}

/// The header `cat` (token category) Clerk puts on session tokens.
pub const SESSION_TOKEN_CATEGORY: &str = "cl_B7d4PD111AAA";

/// What [`Sim::mint_token`](crate::Sim::mint_token) should mint.
///
/// The token is an RS256 JWT signed with the sim's current key. Its header is, like Clerk's,
/// `{"alg":"RS256","typ":"JWT","kid":<current kid>,"cat":"cl_B7d4PD111AAA"}` merged with
/// [`extra_header`](Self::extra_header). Its claims are `sub`, `sid`, `iss` (the sim's
/// [`issuer`](crate::Sim::issuer)), `azp` (when set), `iat`, `nbf` (`iat` − 10 s),
/// `exp` (`iat` + [`lifetime`](Self::lifetime)), `sts` (`"pending"` for a pending session,
/// `"active"` otherwise) and, when the user belongs to an organisation, the organisation claims
/// of [`version`](Self::version):
///
/// * v1: `org_id`, `org_slug`, `org_role` (`org:admin`/`org:member`) and `org_permissions`
///   (admin: `org:dashboard:manage`, `org:dashboard:read`, `org:teams:manage`,
///   `org:teams:read`; member: the two `read` ones);
/// * v2: `"v": 2`, `o: {id, slg, rol, per: "manage,read", fpm}` with `rol` `admin`/`member` and
///   `fpm` `"3,3"`/`"2,2"`, `fea: "o:dashboard,o:teams"` and `pla: "o:free_org"`.
///
/// ```
/// use std::time::Duration;
/// use clerk_incident_sim::{ClaimsVersion, TokenRequest};
///
/// let request = TokenRequest::for_user("user_123")
///     .version(ClaimsVersion::V2)
///     .lifetime(Duration::from_secs(300))
///     .header("cat", "cl_B7d4PD222AAA"); // not a session token
/// assert_eq!(request.azp.as_deref(), Some("http://localhost:3000"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequest {
    /// The session to mint for; wins over [`user_id`](Self::user_id), which must then match
    /// the session's user if given.
    pub session_id: Option<String>,
    /// The user to mint for: the token gets that user's newest active session.
    pub user_id: Option<String>,
    /// `exp` − `iat`; default 60 s. Sub-second parts are dropped.
    pub lifetime: Duration,
    /// `iat`; default: the system clock when minting.
    pub issued_at: Option<SystemTime>,
    /// Claims layout; default v1.
    pub version: ClaimsVersion,
    /// `azp` claim; default `Some("http://localhost:3000")`, `None` leaves the claim out.
    pub azp: Option<String>,
    /// Members merged into the JWT header last (they may replace `alg`, `typ` or `kid`).
    pub extra_header: Map<String, Value>,
    /// Claims merged into the payload last: an `act` claim for an impersonated session, or
    /// `org_id`/`org_role` of another organisation, as Clerk would sign them.
    pub extra_claims: Map<String, Value>,
}

impl Default for TokenRequest {
    fn default() -> Self {
        Self {
            session_id: None,
            user_id: None,
            lifetime: DEFAULT_TOKEN_LIFETIME,
            issued_at: None,
            version: ClaimsVersion::V1,
            azp: Some(DEFAULT_AZP.to_owned()),
            extra_header: Map::new(),
            extra_claims: Map::new(),
        }
    }
}

impl TokenRequest {
    /// A token for the newest active session of `user_id`.
    pub fn for_user(user_id: impl Into<String>) -> Self {
        Self {
            user_id: Some(user_id.into()),
            ..Self::default()
        }
    }

    /// A token for `session_id`, whatever its status.
    pub fn for_session(session_id: impl Into<String>) -> Self {
        Self {
            session_id: Some(session_id.into()),
            ..Self::default()
        }
    }

    /// Sets [`lifetime`](Self::lifetime).
    #[must_use]
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Sets [`issued_at`](Self::issued_at).
    #[must_use]
    pub fn issued_at(mut self, issued_at: SystemTime) -> Self {
        self.issued_at = Some(issued_at);
        self
    }

    /// Sets [`version`](Self::version).
    #[must_use]
    pub fn version(mut self, version: ClaimsVersion) -> Self {
        self.version = version;
        self
    }

    /// Sets [`azp`](Self::azp); `None` leaves the claim out.
    #[must_use]
    pub fn azp(mut self, azp: Option<String>) -> Self {
        self.azp = azp;
        self
    }

    /// Adds a member to [`extra_header`](Self::extra_header).
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra_header.insert(name.into(), value.into());
        self
    }

    /// Adds a claim to [`extra_claims`](Self::extra_claims), replacing one the sim would set.
    ///
    /// ```
    /// use clerk_incident_sim::TokenRequest;
    /// use serde_json::json;
    ///
    /// // A support agent impersonating the user.
    /// let request = TokenRequest::for_user("user_123").claim("act", json!({"sub": "user_support"}));
    /// assert!(request.extra_claims.contains_key("act"));
    /// ```
    #[must_use]
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra_claims.insert(name.into(), value.into());
        self
    }
}

/// The session a token is minted for, copied out of the store.
struct TokenSubject {
    session_id: String,
    user_id: String,
    status: SessionStatus,
    membership: Option<SimMembership>,
}

/// Mints a token for `request` with the sim's current signing key.
pub(crate) fn mint(shared: &Shared, request: &TokenRequest) -> Result<String, SimError> {
    let (subject, generation) = {
        let inner = shared.lock();
        (resolve(&inner.store, request)?, inner.signing_generation)
    };
    let issued_at = request.issued_at.unwrap_or_else(SystemTime::now);
    let iat = issued_at
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|since| i64::try_from(since.as_secs()).ok())
        .ok_or_else(|| SimError::InvalidTokenRequest {
            reason: "issued_at is before 1970".to_owned(),
        })?;
    let lifetime = i64::try_from(request.lifetime.as_secs()).unwrap_or(i64::MAX);
    let mut claims = claims(&subject, request, &shared.base_url, iat, lifetime);
    claims.extend(request.extra_claims.clone());

    let mut header = Map::new();
    header.insert("alg".to_owned(), json!("RS256"));
    header.insert("typ".to_owned(), json!("JWT"));
    header.insert("kid".to_owned(), json!(shared.signing.kid(generation)));
    header.insert("cat".to_owned(), json!(SESSION_TOKEN_CATEGORY));
    header.extend(request.extra_header.clone());

    jwt::sign_rs256(&header, &claims, shared.signing.encoding_key(generation))
}

/// Finds the session `request` asks for.
fn resolve(store: &crate::store::Store, request: &TokenRequest) -> Result<TokenSubject, SimError> {
    let session = match (&request.session_id, &request.user_id) {
        (Some(session_id), user_id) => {
            let session = store
                .session(session_id)
                .ok_or_else(|| SimError::UnknownSession {
                    session_id: session_id.clone(),
                })?;
            if let Some(user_id) = user_id.as_ref().filter(|id| **id != session.user_id) {
                return Err(SimError::InvalidTokenRequest {
                    reason: format!("session `{session_id}` does not belong to user `{user_id}`"),
                });
            }
            session
        }
        (None, Some(user_id)) => {
            if store.user(user_id).is_none() {
                return Err(SimError::UnknownUser {
                    user_id: user_id.clone(),
                });
            }
            store
                .newest_active_session(user_id)
                .ok_or_else(|| SimError::NoActiveSession {
                    user_id: user_id.clone(),
                })?
        }
        (None, None) => {
            return Err(SimError::InvalidTokenRequest {
                reason: "give a session_id or a user_id".to_owned(),
            });
        }
    };
    let user = store
        .user(&session.user_id)
        .ok_or_else(|| SimError::UnknownUser {
            user_id: session.user_id.clone(),
        })?;
    Ok(TokenSubject {
        session_id: session.id.clone(),
        user_id: user.id.clone(),
        status: session.status,
        membership: user.membership.clone(),
    })
}

/// The claims of a token for `subject`.
fn claims(
    subject: &TokenSubject,
    request: &TokenRequest,
    issuer: &str,
    iat: i64,
    lifetime_secs: i64,
) -> Map<String, Value> {
    let mut claims = Map::new();
    let mut put = |name: &str, value: Value| {
        claims.insert(name.to_owned(), value);
    };
    put("sub", json!(subject.user_id));
    put("sid", json!(subject.session_id));
    put("iss", json!(issuer));
    if let Some(azp) = &request.azp {
        put("azp", json!(azp));
    }
    put("iat", json!(iat));
    put("nbf", json!(iat.saturating_sub(NOT_BEFORE_SKEW_SECS)));
    put("exp", json!(iat.saturating_add(lifetime_secs)));
    let sts = if subject.status == SessionStatus::Pending {
        "pending"
    } else {
        "active"
    };
    put("sts", json!(sts));
    match request.version {
        ClaimsVersion::V1 => {
            if let Some(membership) = &subject.membership {
                put("org_id", json!(membership.organization_id));
                put("org_slug", json!(membership.organization_slug));
                put("org_role", json!(membership.role.as_str()));
                put("org_permissions", json!(membership.role.permissions()));
            }
        }
        ClaimsVersion::V2 => {
            put("v", json!(2));
            if let Some(membership) = &subject.membership {
                // Bit 0 = manage, bit 1 = read, one mask per feature of `fea`.
                let fpm = match membership.role {
                    crate::OrgRole::Admin => "3,3",
                    crate::OrgRole::Member => "2,2",
                };
                put(
                    "o",
                    json!({
                        "id": membership.organization_id,
                        "slg": membership.organization_slug,
                        "rol": membership.role.short_name(),
                        "per": V2_PERMISSIONS,
                        "fpm": fpm,
                    }),
                );
                put("fea", json!(V2_ORG_FEATURES));
                put("pla", json!(V2_ORG_PLAN));
            }
        }
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::{ClaimsVersion, TokenRequest, TokenSubject, claims};
    use crate::model::{OrgRole, SessionStatus, SimMembership};
    fn subject(role: Option<OrgRole>, status: SessionStatus) -> TokenSubject {
        TokenSubject {
            session_id: "sess_1".to_owned(),
            user_id: "user_1".to_owned(),
            status,
            membership: role.map(|role| SimMembership {
                id: "orgmem_1".to_owned(),
                organization_id: "org_1".to_owned(),
                organization_slug: "acme".to_owned(),
                role,
                created_at: 0,
                updated_at: 0,
            }),
        }
    }

    #[test]
    fn v1_claims_carry_flat_org_claims() {
        let request = TokenRequest::for_user("user_1");
        let claims = claims(
            &subject(Some(OrgRole::Admin), SessionStatus::Active),
            &request,
            "http://127.0.0.1:1",
            1_000,
            60,
        );
        assert_eq!(claims["exp"], 1_060);
        assert_eq!(claims["nbf"], 990);
        assert_eq!(claims["sts"], "active");
        assert_eq!(claims["org_role"], "org:admin");
        assert_eq!(claims["org_permissions"].as_array().unwrap().len(), 4);
        assert_eq!(claims["azp"], "http://localhost:3000");
        assert!(!claims.contains_key("v"));
    }

    #[test]
    fn v2_claims_carry_compact_org_claims() {
        let request = TokenRequest::for_user("user_1")
            .version(ClaimsVersion::V2)
            .azp(None);
        let claims = claims(
            &subject(Some(OrgRole::Member), SessionStatus::Pending),
            &request,
            "iss",
            1_000,
            60,
        );
        assert_eq!(claims["v"], 2);
        assert_eq!(claims["o"]["rol"], "member");
        assert_eq!(claims["o"]["fpm"], "2,2");
        assert_eq!(claims["fea"], "o:dashboard,o:teams");
        assert_eq!(claims["sts"], "pending");
        assert!(!claims.contains_key("azp"));
        assert!(!claims.contains_key("org_id"));
    }

    #[test]
    fn users_without_an_org_get_no_org_claims() {
        let claims = claims(
            &subject(None, SessionStatus::Active),
            &TokenRequest::default().version(ClaimsVersion::V2),
            "iss",
            0,
            60,
        );
        assert!(!claims.contains_key("o"));
        assert!(!claims.contains_key("fea"));
    }
}
