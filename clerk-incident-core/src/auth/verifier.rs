//! [`Verifier`]: checks a Clerk session token and returns the session it proves.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use super::claims::RawClaims;
use super::jwks_cache::{JwksCache, KeyLookupError, KeyStatus};
use super::keys::KeySet;
use super::reject::RejectReason;
use super::session::VerifiedSession;
use super::token_cache::{CachedToken, TokenCache};

/// The header `cat` (token category) of Clerk session tokens.
pub const SESSION_TOKEN_CATEGORY: &str = "cl_B7d4PD111AAA";

/// Where the verification keys come from.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum KeySource {
    /// A key pinned from `CLERK_JWT_KEY`: networkless, verifies whatever the `kid`.
    Pinned(Arc<KeySet>),
    /// A JWKS, fetched and cached.
    Jwks(JwksCache),
}

impl KeySource {
    /// A pinned key from PEM text.
    ///
    /// # Errors
    ///
    /// When the text is not an RSA public key.
    pub fn pem(pem: &str) -> Result<Self, super::keys::InvalidPemKey> {
        Ok(Self::Pinned(Arc::new(KeySet::from_pem(pem)?)))
    }

    /// Waits up to `wait` for a usable key: at once for a pinned key, else
    /// [`JwksCache::wait_for_keys`].
    pub async fn wait_for_keys(&self, wait: Duration) -> bool {
        match self {
            KeySource::Pinned(_) => true,
            KeySource::Jwks(cache) => cache.wait_for_keys(wait).await,
        }
    }

    async fn key(&self, kid: Option<&str>) -> Result<(Arc<DecodingKey>, u64), KeyLookupError> {
        match self {
            KeySource::Pinned(set) => set
                .get(kid)
                .map(|key| (Arc::clone(key), 0))
                .ok_or(KeyLookupError::Unavailable),
            KeySource::Jwks(cache) => cache.key(kid).await,
        }
    }

    /// The key generation; `None` while the keys are too stale to verify.
    fn generation(&self) -> Option<u64> {
        match self {
            KeySource::Pinned(_) => Some(0),
            KeySource::Jwks(cache) => cache.generation(),
        }
    }

    /// The state of the keys, for health output.
    pub fn status(&self) -> KeyStatus {
        match self {
            KeySource::Pinned(set) => KeyStatus {
                source: "pinned_pem",
                key_count: set.len(),
                kids: set.kids(),
                last_refresh: None,
                staleness_secs: None,
                too_stale: false,
                last_error: None,
                last_error_status: None,
                fetches: 0,
                failures: 0,
                from_snapshot: None,
            },
            KeySource::Jwks(cache) => cache.status(),
        }
    }
}

/// What a [`Verifier`] checks beyond the signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VerifierConfig {
    /// Accepted `iss` values (the Frontend API URL); empty accepts any issuer. Pin it in
    /// production.
    pub issuers: Vec<String>,
    /// Accepted `azp` values (your app's origins); when non-empty, `azp` must be present and
    /// listed.
    pub authorized_parties: Vec<String>,
    /// Clock-skew allowance for `exp`, `nbf` and `iat`. Default 5 s.
    pub leeway: Duration,
    /// Also read the token from the `__session` cookie. Default off.
    pub cookie: bool,
    /// Reject sessions whose `sts` is `pending`. Default on.
    pub reject_pending: bool,
    /// The longest token accepted, in bytes. Default 8 KiB.
    pub max_token_bytes: usize,
    /// How many verified tokens are cached. Default 10 000; 0 turns the cache off.
    pub cache_capacity: usize,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        Self {
            issuers: Vec::new(),
            authorized_parties: Vec::new(),
            leeway: Duration::from_secs(5),
            cookie: false,
            reject_pending: true,
            max_token_bytes: 8 * 1024,
            cache_capacity: 10_000,
        }
    }
}

impl VerifierConfig {
    /// Accepts only tokens issued by one of `issuers` (your Frontend API URL).
    #[must_use]
    pub fn issuers<I: IntoIterator<Item = S>, S: Into<String>>(mut self, issuers: I) -> Self {
        self.issuers = issuers.into_iter().map(Into::into).collect();
        self
    }

    /// Accepts only tokens whose `azp` is one of `parties` (your app's origins).
    #[must_use]
    pub fn authorized_parties<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        parties: I,
    ) -> Self {
        self.authorized_parties = parties.into_iter().map(Into::into).collect();
        self
    }

    /// The clock-skew allowance.
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Also reads the token from the `__session` cookie.
    #[must_use]
    pub fn cookie(mut self, enabled: bool) -> Self {
        self.cookie = enabled;
        self
    }

    /// Rejects (or accepts) sessions whose `sts` is `pending`.
    #[must_use]
    pub fn reject_pending(mut self, reject: bool) -> Self {
        self.reject_pending = reject;
        self
    }

    /// The longest token accepted, in bytes.
    #[must_use]
    pub fn max_token_bytes(mut self, bytes: usize) -> Self {
        self.max_token_bytes = bytes;
        self
    }

    /// How many verified tokens are cached (0 turns the cache off).
    #[must_use]
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }
}

/// How expiry is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// Past `exp` plus the leeway is expired.
    Strict,
    /// Expired tokens pass while no more than this past `exp` (Grace mode).
    AllowExpiredFor(Duration),
}

/// A token that verified, and by how much it is past its `exp` (when [`Expiry`] allowed it).
#[derive(Clone, Debug)]
pub(crate) struct Verified {
    pub(crate) session: Arc<VerifiedSession>,
    pub(crate) expired_for: Option<Duration>,
}

/// Verification counters, for health output.
#[derive(Debug)]
pub(crate) struct VerifyCounters {
    pub(crate) verified: AtomicU64,
    pub(crate) cache_hits: AtomicU64,
    pub(crate) rejected: [AtomicU64; RejectReason::ALL.len()],
}

/// The source of "now" for time checks.
type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Verifies Clerk session tokens: RS256 only, signature before claims, `exp`/`nbf`/`iat` with
/// leeway, pinned issuer and authorized parties, token category, pending sessions, size cap.
///
/// Cheap to clone; clones share keys, cache and counters.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use clerk_incident_core::auth::{KeySource, Verifier, VerifierConfig};
/// use clerk_incident_sim::{Sim, TokenRequest};
///
/// let sim = Sim::builder().start().await?;
/// let verifier = Verifier::new(
///     KeySource::pem(sim.public_key_pem())?,
///     VerifierConfig::default().issuers([sim.issuer()]),
/// );
/// let admin = sim.admin_user_id().ok_or("no admin")?;
/// let token = sim.mint_token(&TokenRequest::for_user(admin.clone()))?;
/// let session = verifier.verify(&token).await?;
/// assert_eq!(session.user_id, admin);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<VerifierInner>,
}

struct VerifierInner {
    config: VerifierConfig,
    issuers: HashSet<String>,
    authorized_parties: HashSet<String>,
    keys: KeySource,
    validation: Validation,
    cache: TokenCache,
    counters: VerifyCounters,
    clock: Clock,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("config", &self.inner.config)
            .field("keys", &self.inner.keys)
            .finish_non_exhaustive()
    }
}

/// The header fields verification looks at; everything else is ignored.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    cat: Option<String>,
    #[serde(default)]
    jku: Option<serde_json::Value>,
    #[serde(default)]
    jwk: Option<serde_json::Value>,
    #[serde(default)]
    x5u: Option<serde_json::Value>,
    #[serde(default)]
    x5c: Option<serde_json::Value>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

impl Verifier {
    /// A verifier over `keys` with `config`.
    pub fn new(keys: KeySource, config: VerifierConfig) -> Self {
        Self::with_clock(keys, config, SystemTime::now)
    }

    /// A verifier whose time checks read `clock` instead of the system clock (for tests and
    /// for replaying recorded traffic).
    pub fn with_clock(
        keys: KeySource,
        config: VerifierConfig,
        clock: impl Fn() -> SystemTime + Send + Sync + 'static,
    ) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        // Time, issuer and audience checks are done here, with typed reasons and Grace mode.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        validation.leeway = 0;
        Self {
            inner: Arc::new(VerifierInner {
                issuers: config.issuers.iter().cloned().collect(),
                authorized_parties: config.authorized_parties.iter().cloned().collect(),
                cache: TokenCache::new(config.cache_capacity),
                config,
                keys,
                validation,
                counters: VerifyCounters {
                    verified: AtomicU64::new(0),
                    cache_hits: AtomicU64::new(0),
                    rejected: std::array::from_fn(|_| AtomicU64::new(0)),
                },
                clock: Arc::new(clock),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &VerifierConfig {
        &self.inner.config
    }

    /// The key source.
    pub fn keys(&self) -> &KeySource {
        &self.inner.keys
    }

    /// Verifies `token` strictly (Enforce mode) and returns its session.
    ///
    /// # Errors
    ///
    /// The [`RejectReason`]; it is also counted for health output.
    pub async fn verify(&self, token: &str) -> Result<Arc<VerifiedSession>, RejectReason> {
        self.verify_with(token, Expiry::Strict)
            .await
            .map(|verified| verified.session)
    }

    /// Verifies `token`, judging expiry by `expiry`, and counts the outcome.
    pub(crate) async fn verify_with(
        &self,
        token: &str,
        expiry: Expiry,
    ) -> Result<Verified, RejectReason> {
        let outcome = self.check(token, expiry).await;
        let counters = &self.inner.counters;
        match &outcome {
            Ok(_) => counters.verified.fetch_add(1, Ordering::Relaxed),
            Err(reason) => counters
                .rejected
                .get(reason.index())
                .map_or(0, |count| count.fetch_add(1, Ordering::Relaxed)),
        };
        outcome
    }

    /// Verifies without counting: for the `Open` bypass, which lets the request through
    /// whatever the outcome.
    pub(crate) async fn verify_uncounted(
        &self,
        token: &str,
        expiry: Expiry,
    ) -> Result<Verified, RejectReason> {
        self.check(token, expiry).await
    }

    /// Counts a rejection decided before verification (a missing or unreadable token).
    pub(crate) fn count_rejection(&self, reason: RejectReason) {
        if let Some(count) = self.inner.counters.rejected.get(reason.index()) {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn counters(&self) -> &VerifyCounters {
        &self.inner.counters
    }

    /// Tokens currently cached.
    pub fn cached_tokens(&self) -> usize {
        self.inner.cache.len()
    }

    async fn check(&self, token: &str, expiry: Expiry) -> Result<Verified, RejectReason> {
        let inner = &*self.inner;
        if token.len() > inner.config.max_token_bytes {
            return Err(RejectReason::TooLarge);
        }
        let now = unix_seconds((inner.clock)());

        if let Some(cached) = inner.cache.get(token) {
            if Some(cached.key_generation) == inner.keys.generation() {
                inner.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
                let expired_for = self.expiry(cached.session.expires_at, now, expiry)?;
                return Ok(Verified {
                    session: cached.session,
                    expired_for,
                });
            }
            // Verified with keys that have since been replaced: verify again.
            inner.cache.remove(token);
        }

        let header = parse_header(token)?;
        if header.alg != "RS256" {
            return Err(RejectReason::DisallowedAlgorithm);
        }
        if header.jku.is_some()
            || header.jwk.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
        {
            return Err(RejectReason::EmbeddedKey);
        }
        if header.crit.is_some() {
            return Err(RejectReason::Malformed);
        }
        if header
            .cat
            .as_deref()
            .is_some_and(|cat| cat != SESSION_TOKEN_CATEGORY)
        {
            return Err(RejectReason::WrongCategory);
        }

        let (key, generation) =
            inner
                .keys
                .key(header.kid.as_deref())
                .await
                .map_err(|err| match err {
                    KeyLookupError::UnknownKey => RejectReason::UnknownKey,
                    KeyLookupError::Unavailable => RejectReason::KeysUnavailable,
                })?;
        let claims = jsonwebtoken::decode::<RawClaims>(token, &key, &inner.validation)
            .map_err(|err| match err.kind() {
                ErrorKind::InvalidSignature => RejectReason::BadSignature,
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    RejectReason::DisallowedAlgorithm
                }
                _ => RejectReason::Malformed,
            })?
            .claims;

        if !inner.issuers.is_empty() && !inner.issuers.contains(&claims.iss) {
            return Err(RejectReason::WrongIssuer);
        }
        if !inner.authorized_parties.is_empty() {
            match claims.azp.as_deref() {
                None | Some("") => return Err(RejectReason::MissingAuthorizedParty),
                Some(azp) if !inner.authorized_parties.contains(azp) => {
                    return Err(RejectReason::WrongAuthorizedParty);
                }
                Some(_) => {}
            }
        }
        let leeway = i64::try_from(inner.config.leeway.as_secs()).unwrap_or(i64::MAX);
        if claims.iat > now.saturating_add(leeway) {
            return Err(RejectReason::IssuedInFuture);
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now.saturating_add(leeway))
        {
            return Err(RejectReason::NotYetValid);
        }
        let session = Arc::new(claims.into_session().map_err(|_| RejectReason::Malformed)?);
        if inner.config.reject_pending
            && session.status == super::session::SessionClaimStatus::Pending
        {
            return Err(RejectReason::Pending);
        }
        let expired_for = self.expiry(session.expires_at, now, expiry)?;

        inner.cache.insert(
            token,
            CachedToken {
                session: Arc::clone(&session),
                key_generation: generation,
            },
            now.saturating_sub(leeway),
        );
        Ok(Verified {
            session,
            expired_for,
        })
    }

    /// Judges `exp` at `now`: `Ok(None)` when not expired, `Ok(Some(age))` when expired but
    /// allowed, `Err(Expired)` otherwise.
    fn expiry(&self, exp: i64, now: i64, expiry: Expiry) -> Result<Option<Duration>, RejectReason> {
        let leeway = i64::try_from(self.inner.config.leeway.as_secs()).unwrap_or(i64::MAX);
        if now <= exp.saturating_add(leeway) {
            return Ok(None);
        }
        let past = Duration::from_secs(u64::try_from(now.saturating_sub(exp)).unwrap_or(0));
        match expiry {
            Expiry::AllowExpiredFor(max) if past <= max => Ok(Some(past)),
            _ => Err(RejectReason::Expired),
        }
    }
}

/// Reads the header segment; anything but three non-empty-header segments is malformed.
fn parse_header(token: &str) -> Result<RawHeader, RejectReason> {
    let mut segments = token.split('.');
    let (Some(header), Some(_payload), Some(_signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(RejectReason::Malformed);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| RejectReason::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| RejectReason::Malformed)
}

fn unix_seconds(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
