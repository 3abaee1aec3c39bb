//! [`Fixture`]: the sim, one policy per app variant, and the tokens the cases send.

use std::time::{Duration, SystemTime};

use clerk_incident_core::auth::{
    AuthMode, AuthPolicy, BypassSwitch, FrontendApiJwks, HealthToken, JwksCache, JwksCacheConfig,
    KeySource, Operators, SessionDenylist, Verifier, VerifierConfig,
};
use clerk_incident_core::http::ReqwestClient;
use clerk_incident_sim::{ClaimsVersion, DEFAULT_AZP, OrgRole, Sim, TokenRequest};

/// The health token of every fixture policy ([`AuthPolicy::with_health_token`]).
pub const HEALTH_TOKEN: &str = "conformance-health-token-0123456789";

/// Which app (which policy) a case runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppVariant {
    /// Pinned sim key; cookie off; issuer and authorized party pinned.
    Standard,
    /// The same with the `__session` cookie enabled.
    CookieEnabled,
    /// Keys from a JWKS URL nothing answers at: every protected request is a 503.
    KeysUnavailable,
}

/// The mode the switch is put in before a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeSetup {
    /// The default.
    Enforce,
    /// Grace with the default 30-minute window.
    Grace,
    /// The emergency bypass.
    Open,
}

/// Everything the cases need: the sim, one policy per [`AppVariant`], and tokens.
///
/// Every policy has the same [`Operators`]: the `org:admin`s of the seeded admin's organisation
/// (pinned), and one allow-listed `org:member` ([`Fixture::listed_member_id`]);
/// [`Fixture::policy_without_operators`] has none.
#[derive(Debug)]
pub struct Fixture {
    /// The simulated Clerk the tokens come from.
    pub sim: Sim,
    pub(crate) switch: BypassSwitch,
    standard: AuthPolicy,
    cookie: AuthPolicy,
    keyless: AuthPolicy,
    no_operators: AuthPolicy,
    pub(crate) tokens: Tokens,
}

#[derive(Debug)]
pub(crate) struct Tokens {
    pub(crate) admin_id: String,
    pub(crate) member_id: String,
    pub(crate) listed_member_id: String,
    pub(crate) admin_v1: String,
    pub(crate) member_v2: String,
    pub(crate) listed_member: String,
    pub(crate) other_org_admin: String,
    pub(crate) impersonated_admin: String,
    pub(crate) expired_recently: String,
    pub(crate) expired_long_ago: String,
    /// A valid token of a session on every policy's denylist (revoked during the incident).
    pub(crate) revoked_valid: String,
    /// A recently expired token of that session.
    pub(crate) revoked_expired: String,
    pub(crate) bad_signature: String,
}

impl Fixture {
    /// Starts a sim and builds the policies and tokens.
    ///
    /// # Panics
    ///
    /// When the sim cannot start or seeds no admin or member: test support fails loudly.
    #[allow(clippy::expect_used)]
    pub async fn start() -> Self {
        let sim = Sim::builder()
            .users(40)
            .sessions(80)
            .start()
            .await
            .expect("the sim starts");
        let switch = BypassSwitch::new();
        let config = VerifierConfig::default()
            .issuers([sim.issuer()])
            .authorized_parties([DEFAULT_AZP]);
        let pinned = || KeySource::pem(sim.public_key_pem()).expect("the sim's key is a PEM");
        let admin_id = sim.admin_user_id().expect("the sim seeds an admin");
        let [member_id, listed_member_id] = members_with_active_sessions(&sim);
        let operator_org = sim
            .users()
            .into_iter()
            .find(|user| user.id == admin_id)
            .and_then(|user| user.membership)
            .map(|membership| membership.organization_id)
            .expect("the admin belongs to an organisation");
        let operators = Operators::none()
            .organization(operator_org, "org:admin")
            .allow_users([listed_member_id.clone()]);
        // The admin's oldest live session is revoked; the tokens minted for the admin are of
        // the newest one.
        let revoked_session = sim
            .sessions()
            .into_iter()
            .filter(|s| s.user_id == admin_id && s.status.is_signed_in())
            .min_by_key(|s| s.created_at)
            .map(|s| s.id)
            .expect("the admin has live sessions");
        let denylist = SessionDenylist::new();
        denylist.deny([revoked_session.as_str()], SystemTime::now());
        let policy = |keys: KeySource, config: VerifierConfig| {
            AuthPolicy::new(Verifier::new(keys, config), switch.clone())
                .with_denylist(denylist.clone())
                .with_operators(operators.clone())
                .with_health_token(HealthToken::new(HEALTH_TOKEN).expect("a long token"))
        };
        let standard = policy(pinned(), config.clone());
        let cookie = policy(pinned(), config.clone().cookie(true));
        let keyless = policy(KeySource::Jwks(unreachable_jwks()), config.clone());
        let no_operators = AuthPolicy::new(Verifier::new(pinned(), config), switch.clone());

        let mint = |request: TokenRequest| sim.mint_token(&request).expect("minting works");
        let ten_minutes = || Duration::from_secs(600);
        let now = SystemTime::now();
        let tokens = Tokens {
            listed_member: mint(
                TokenRequest::for_user(listed_member_id.clone()).lifetime(ten_minutes()),
            ),
            // What Clerk signs for the creator of a new organisation: its `org:admin`.
            other_org_admin: mint(
                TokenRequest::for_user(admin_id.clone())
                    .lifetime(ten_minutes())
                    .claim("org_id", "org_freshlymadebyanyone")
                    .claim("org_slug", "anyones-org")
                    .claim("org_role", "org:admin"),
            ),
            impersonated_admin: mint(
                TokenRequest::for_user(admin_id.clone())
                    .lifetime(ten_minutes())
                    .claim("act", serde_json::json!({ "sub": "user_support_agent" })),
            ),
            admin_v1: mint(
                TokenRequest::for_user(admin_id.clone()).lifetime(Duration::from_secs(600)),
            ),
            member_v2: mint(
                TokenRequest::for_user(member_id.clone())
                    .version(ClaimsVersion::V2)
                    .lifetime(Duration::from_secs(600)),
            ),
            expired_recently: mint(
                TokenRequest::for_user(admin_id.clone())
                    .issued_at(now - Duration::from_secs(10 * 60)),
            ),
            revoked_valid: mint(
                TokenRequest::for_session(revoked_session.clone()).lifetime(ten_minutes()),
            ),
            revoked_expired: mint(
                TokenRequest::for_session(revoked_session)
                    .issued_at(now - Duration::from_secs(10 * 60)),
            ),
            expired_long_ago: mint(
                TokenRequest::for_user(admin_id.clone())
                    .issued_at(now - Duration::from_secs(2 * 60 * 60)),
            ),
            bad_signature: tamper(&mint(
                TokenRequest::for_user(admin_id.clone()).lifetime(Duration::from_secs(600)),
            )),
            admin_id,
            member_id,
            listed_member_id,
        };
        Self {
            sim,
            switch,
            standard,
            cookie,
            keyless,
            no_operators,
            tokens,
        }
    }

    /// The standard policy with no operator configured: operator-only routes refuse everyone.
    pub fn policy_without_operators(&self) -> AuthPolicy {
        self.no_operators.clone()
    }

    /// The `org:member` whose user id is allow-listed as an operator.
    pub fn listed_member_id(&self) -> &str {
        &self.tokens.listed_member_id
    }

    /// The policy of `variant`'s app. All share one [`BypassSwitch`].
    pub fn policy(&self, variant: AppVariant) -> AuthPolicy {
        match variant {
            AppVariant::Standard => self.standard.clone(),
            AppVariant::CookieEnabled => self.cookie.clone(),
            AppVariant::KeysUnavailable => self.keyless.clone(),
        }
    }

    /// Puts the shared switch in `mode` (a bypass for ten minutes).
    ///
    /// # Panics
    ///
    /// Never: the modes it sets are valid.
    #[allow(clippy::expect_used)]
    pub fn set_mode(&self, mode: ModeSetup) {
        let ttl = Some(Duration::from_secs(600));
        let mode = match mode {
            ModeSetup::Enforce => {
                self.switch.deactivate("conformance case");
                return;
            }
            ModeSetup::Grace => AuthMode::Grace {
                max_token_age: Duration::from_secs(30 * 60),
            },
            ModeSetup::Open => AuthMode::Open,
        };
        self.switch
            .activate(mode, ttl, "conformance case")
            .expect("the conformance modes are valid");
    }
}

/// Two `org:member`s with an active session each.
#[allow(clippy::expect_used)]
fn members_with_active_sessions(sim: &Sim) -> [String; 2] {
    let active: Vec<String> = sim
        .sessions()
        .into_iter()
        .filter(|s| s.status.as_str() == "active")
        .map(|s| s.user_id)
        .collect();
    let mut members = sim
        .users()
        .into_iter()
        .filter(|u| {
            u.membership
                .as_ref()
                .is_some_and(|m| m.role == OrgRole::Member)
        })
        .map(|u| u.id)
        .filter(|id| active.contains(id));
    let mut next = || {
        members
            .next()
            .expect("the sim seeds two members with sessions")
    };
    [next(), next()]
}

/// A JWKS cache whose source is a local port nothing listens on.
#[allow(clippy::expect_used)]
fn unreachable_jwks() -> JwksCache {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!(
        "http://{}/.well-known/jwks.json",
        closed.local_addr().expect("an address")
    );
    drop(closed);
    let http = ReqwestClient::new().expect("an HTTP client");
    JwksCache::new(
        FrontendApiJwks::new(std::sync::Arc::new(http), url),
        JwksCacheConfig::default(),
    )
}

/// Flips one character in the middle of the signature, keeping it valid base64url.
fn tamper(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let signature_start = token.rfind('.').map_or(0, |dot| dot + 1);
    let middle = signature_start + (bytes.len() - signature_start) / 2;
    if let Some(byte) = bytes.get_mut(middle) {
        *byte = if *byte == b'A' { b'B' } else { b'A' };
    }
    String::from_utf8(bytes).unwrap_or_default()
}
