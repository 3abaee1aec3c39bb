//! Fixtures shared by the session-token verification tests (`auth_*`): a fixed clock, the
//! sim's embedded key pairs, a forger that edits and re-signs tokens, verifiers over a pinned
//! key or a JWKS, and helpers to run [`AuthPolicy::decide`] and unpack its [`Decision`].
//!
//! Every test binary uses a different subset, hence the `dead_code` allowance.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clerk_incident_core::auth::{
    AuthContext, AuthMode, AuthPolicy, Credentials, Decision, FrontendApiJwks, JwksCache,
    JwksCacheConfig, JwksSource, KeySource, Rejection, RouteClass, Verifier, VerifierConfig,
};
use clerk_incident_core::http::ReqwestClient;
use clerk_incident_sim::{OrgRole, Sim, TokenRequest};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

/// The sim's first signing key (generation 0, and every even generation after it).
pub(crate) const SIM_PRIVATE_PEM: &str =
    include_str!("../../../clerk-incident-sim/keys/sim-key-1.pem");

/// The public half of [`SIM_PRIVATE_PEM`], for tests that must not start a sim (paused time).
pub(crate) const SIM_PUBLIC_PEM: &str =
    include_str!("../../../clerk-incident-sim/keys/sim-key-1.pub.pem");

/// The RSA modulus of [`SIM_PRIVATE_PEM`], base64url.
pub(crate) const SIM_MODULUS: &str = include_str!("../../../clerk-incident-sim/keys/sim-key-1.n");

/// The attacker's key: the sim's other embedded key, used under the first key's `kid`.
pub(crate) const ATTACKER_PRIVATE_PEM: &str =
    include_str!("../../../clerk-incident-sim/keys/sim-key-2.pem");

/// The attacker key's RSA modulus, base64url, for embedded `jwk` headers and attacker JWKS.
pub(crate) const ATTACKER_MODULUS: &str =
    include_str!("../../../clerk-incident-sim/keys/sim-key-2.n");

/// "Now" for every verifier and minted token of these tests, Unix seconds.
pub(crate) const NOW: u64 = 1_800_000_000;

/// [`NOW`] shifted by `offset_secs`.
pub(crate) fn at(offset_secs: i64) -> SystemTime {
    let secs = NOW.checked_add_signed(offset_secs).unwrap();
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// [`at`] as the Unix seconds a claim holds.
pub(crate) fn unix(offset_secs: i64) -> i64 {
    i64::try_from(NOW).unwrap() + offset_secs
}

/// A sim with the default data (an `org:admin` and `org:member`s with active sessions).
pub(crate) async fn start_sim() -> Sim {
    Sim::builder().start().await.unwrap()
}

/// A token request for the sim's admin, issued at [`NOW`] (60 s lifetime, v1, default `azp`).
pub(crate) fn admin(sim: &Sim) -> TokenRequest {
    TokenRequest::for_user(sim.admin_user_id().unwrap()).issued_at(at(0))
}

/// A seeded `org:member` with an active session.
pub(crate) fn member_user_id(sim: &Sim) -> String {
    sim.users()
        .into_iter()
        .filter(|user| {
            user.membership
                .as_ref()
                .is_some_and(|membership| membership.role == OrgRole::Member)
        })
        .map(|user| user.id)
        .find(|id| sim.mint_token(&TokenRequest::for_user(id.clone())).is_ok())
        .expect("the seed has a member with an active session")
}

/// Mints `request`.
pub(crate) fn mint(sim: &Sim, request: &TokenRequest) -> String {
    sim.mint_token(request).unwrap()
}

/// A verifier pinned to the sim's current public key, whose clock reads `now`.
pub(crate) fn pinned_at(sim: &Sim, config: VerifierConfig, now: SystemTime) -> Verifier {
    pinned_pem_at(sim.public_key_pem(), config, now)
}

/// A verifier pinned to the sim's current public key, whose clock reads [`NOW`].
pub(crate) fn pinned(sim: &Sim, config: VerifierConfig) -> Verifier {
    pinned_at(sim, config, at(0))
}

/// A verifier pinned to `pem`, whose clock reads `now`.
pub(crate) fn pinned_pem_at(pem: &str, config: VerifierConfig, now: SystemTime) -> Verifier {
    Verifier::with_clock(KeySource::pem(pem).unwrap(), config, move || now)
}

/// The sim's Frontend API JWKS (`/.well-known/jwks.json`) over reqwest.
pub(crate) fn frontend_source(sim: &Sim) -> FrontendApiJwks {
    FrontendApiJwks::new(Arc::new(ReqwestClient::new().unwrap()), sim.jwks_url())
}

/// A JWKS cache over the sim's Frontend API JWKS.
pub(crate) fn frontend_jwks(sim: &Sim, config: JwksCacheConfig) -> JwksCache {
    JwksCache::new(frontend_source(sim), config)
}

/// A cache configuration with `refresh_cooldown` set.
pub(crate) fn cooldown(refresh_cooldown: Duration) -> JwksCacheConfig {
    let mut config = JwksCacheConfig::default();
    config.refresh_cooldown = refresh_cooldown;
    config
}

/// A verifier over `cache` (shared), whose clock reads [`NOW`].
pub(crate) fn over_jwks(cache: &JwksCache, config: VerifierConfig) -> Verifier {
    Verifier::with_clock(KeySource::Jwks(cache.clone()), config, || at(0))
}

/// A verifier over a fresh JWKS cache of `source` with the default cache configuration.
pub(crate) fn over_source(source: impl JwksSource) -> (Verifier, JwksCache) {
    let cache = JwksCache::new(source, JwksCacheConfig::default());
    (over_jwks(&cache, VerifierConfig::default()), cache)
}

/// The default verifier configuration with the token cache turned off, so that every call
/// goes through the keys.
pub(crate) fn uncached() -> VerifierConfig {
    VerifierConfig::default().cache_capacity(0)
}

/// The header and claims of `token`, decoded without any check.
pub(crate) fn decode(token: &str) -> (Value, Value) {
    let mut segments = token.split('.').map(|segment| {
        serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
    });
    (segments.next().unwrap(), segments.next().unwrap())
}

/// `bytes` in unpadded base64url, as JWT segments are.
pub(crate) fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `value` as a JWT segment.
pub(crate) fn segment(value: &Value) -> String {
    base64url(&serde_json::to_vec(value).unwrap())
}

/// `header.claims` signed with `key` under `alg`.
pub(crate) fn sign(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!("{}.{}", segment(header), segment(claims));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

/// An RSA signing key from PEM.
pub(crate) fn rsa_key(private_pem: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap()
}

/// `token` with its header and claims edited by `edit`, re-signed (RS256) with `private_pem`.
pub(crate) fn forge(
    token: &str,
    private_pem: &str,
    edit: impl FnOnce(&mut Value, &mut Value),
) -> String {
    let (mut header, mut claims) = decode(token);
    edit(&mut header, &mut claims);
    sign(&header, &claims, &rsa_key(private_pem), Algorithm::RS256)
}

/// `token` with its claims edited and re-signed with the sim's own key: a genuine signature
/// over claims the sim would not mint.
pub(crate) fn resign_claims(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    forge(token, SIM_PRIVATE_PEM, |_, claims| edit(claims))
}

/// A JWKS holding one RS256 key with `kid` and `modulus`.
pub(crate) fn jwks_json(kid: &str, modulus: &str) -> Value {
    json!({"keys": [{
        "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
        "n": modulus.trim(), "e": "AQAB",
    }]})
}

/// A token signed with the sim's first key under `kid`, issued at [`NOW`] for 60 s, made
/// without a sim (for paused-time tests, which keep sockets out).
pub(crate) fn hand_made_token(kid: &str) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid});
    let claims = json!({
        "sub": "user_hand_made", "sid": "sess_hand_made", "iss": "https://clerk.example.test",
        "iat": unix(0), "nbf": unix(-10), "exp": unix(60), "sts": "active",
    });
    sign(
        &header,
        &claims,
        &rsa_key(SIM_PRIVATE_PEM),
        Algorithm::RS256,
    )
}

/// Runs `policy.decide` for a request carrying `token` as a bearer token (or nothing).
pub(crate) async fn decide(
    policy: &AuthPolicy,
    token: Option<&str>,
    route: RouteClass,
) -> Decision {
    let header = token.map(|token| format!("Bearer {token}"));
    let credentials = Credentials::from_values(header.as_deref().map(str::as_bytes), []);
    policy.decide(&credentials, route).await
}

/// The context of an allowed decision; panics on a rejection.
pub(crate) fn allowed(decision: Decision) -> AuthContext {
    match decision {
        Decision::Allow(context) => context,
        other => panic!("expected the request to be allowed, got {other:?}"),
    }
}

/// The rejection and mode of a refused decision; panics when it was allowed.
pub(crate) fn refused(decision: &Decision) -> (Rejection, AuthMode) {
    match decision {
        Decision::Reject { rejection, mode } => (*rejection, *mode),
        other => panic!("expected the request to be refused, got {other:?}"),
    }
}

/// Grace mode with the default token age.
pub(crate) fn grace() -> AuthMode {
    AuthMode::Grace {
        max_token_age: clerk_incident_core::auth::DEFAULT_GRACE_MAX_AGE,
    }
}
