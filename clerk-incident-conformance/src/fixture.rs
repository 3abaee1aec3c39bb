//! [`Fixture`]: the sim, one policy per app variant, and the tokens the cases send.

use std::time::{Duration, SystemTime};

use clerk_incident_core::auth::{
    AuthMode, AuthPolicy, BypassSwitch, FrontendApiJwks, JwksCache, JwksCacheConfig, KeySource,
    Verifier, VerifierConfig,
};
use clerk_incident_core::http::ReqwestClient;
use clerk_incident_sim::{ClaimsVersion, DEFAULT_AZP, OrgRole, Sim, TokenRequest};

use crate::case::Case;

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
#[derive(Debug)]
pub struct Fixture {
    /// The simulated Clerk the tokens come from.
    pub sim: Sim,
    pub(crate) switch: BypassSwitch,
    standard: AuthPolicy,
    cookie: AuthPolicy,
    keyless: AuthPolicy,
    pub(crate) tokens: Tokens,
}

#[derive(Debug)]
pub(crate) struct Tokens {
    pub(crate) admin_id: String,
    pub(crate) member_id: String,
    pub(crate) admin_v1: String,
    pub(crate) member_v2: String,
    pub(crate) expired_recently: String,
    pub(crate) expired_long_ago: String,
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
        let standard = AuthPolicy::new(Verifier::new(pinned(), config.clone()), switch.clone());
        let cookie = AuthPolicy::new(
            Verifier::new(pinned(), config.clone().cookie(true)),
            switch.clone(),
        );
        let keyless = AuthPolicy::new(
            Verifier::new(KeySource::Jwks(unreachable_jwks()), config),
            switch.clone(),
        );

        let admin_id = sim.admin_user_id().expect("the sim seeds an admin");
        let member_id = member_with_active_session(&sim).expect("the sim seeds a member");
        let mint = |request: TokenRequest| sim.mint_token(&request).expect("minting works");
        let now = SystemTime::now();
        let tokens = Tokens {
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
            expired_long_ago: mint(
                TokenRequest::for_user(admin_id.clone())
                    .issued_at(now - Duration::from_secs(2 * 60 * 60)),
            ),
            bad_signature: tamper(&mint(
                TokenRequest::for_user(admin_id.clone()).lifetime(Duration::from_secs(600)),
            )),
            admin_id,
            member_id,
        };
        Self {
            sim,
            switch,
            standard,
            cookie,
            keyless,
            tokens,
        }
    }

    /// The policy of `variant`'s app. All share one [`BypassSwitch`].
    pub fn policy(&self, variant: AppVariant) -> AuthPolicy {
        match variant {
            AppVariant::Standard => self.standard.clone(),
            AppVariant::CookieEnabled => self.cookie.clone(),
            AppVariant::KeysUnavailable => self.keyless.clone(),
        }
    }

    /// Puts the shared switch in the mode `case` needs.
    pub fn prepare(&self, case: &Case) {
        match case.mode {
            ModeSetup::Enforce => {
                self.switch.deactivate("conformance case");
            }
            ModeSetup::Grace => {
                self.switch.activate(
                    AuthMode::Grace {
                        max_token_age: Duration::from_secs(30 * 60),
                    },
                    Some(Duration::from_secs(600)),
                    "conformance case",
                );
            }
            ModeSetup::Open => {
                self.switch.activate(
                    AuthMode::Open,
                    Some(Duration::from_secs(600)),
                    "conformance case",
                );
            }
        }
    }
}

fn member_with_active_session(sim: &Sim) -> Option<String> {
    let active: Vec<String> = sim
        .sessions()
        .into_iter()
        .filter(|s| s.status.as_str() == "active")
        .map(|s| s.user_id)
        .collect();
    sim.users()
        .into_iter()
        .filter(|u| {
            u.membership
                .as_ref()
                .is_some_and(|m| m.role == OrgRole::Member)
        })
        .map(|u| u.id)
        .find(|id| active.contains(id))
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
