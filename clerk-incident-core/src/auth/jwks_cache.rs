//! [`JwksCache`]: the instance's signing keys, kept fresh without ever letting Clerk's
//! availability decide whether cached keys can verify.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use jsonwebtoken::DecodingKey;
use serde::Serialize;
use tokio::time::Instant;

use super::key_snapshot::{KeySnapshot, KeySnapshotStore, SnapshotError};
use super::keys::KeySet;
use crate::api::{ApiError, ClerkApi, Jwks};
use crate::error_chain::error_chain;
use crate::http::{HttpClient, TransportError};

/// Where a JWKS is fetched from.
#[async_trait]
pub trait JwksSource: Send + Sync + 'static {
    /// Fetches the current key set.
    async fn fetch(&self) -> Result<Jwks, KeyFetchError>;

    /// A short name for health output, such as `backend_api`.
    fn name(&self) -> &'static str;
}

/// Why a JWKS fetch failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFetchError {
    /// The Backend API call failed.
    #[error("the Backend API JWKS could not be fetched")]
    Api(#[source] ApiError),
    /// The Frontend API JWKS URL did not answer.
    #[error("the JWKS URL did not answer")]
    Transport(#[source] TransportError),
    /// The JWKS URL answered with an error status.
    #[error("the JWKS URL answered HTTP {0}")]
    Status(u16),
    /// The answer was not a JWKS.
    #[error("the answer is not a JSON Web Key Set")]
    Decode,
    /// The fetch took longer than the cache's fetch timeout.
    #[error("the JWKS fetch timed out")]
    Timeout,
    /// The JWKS holds no RS256 signing key.
    #[error("the JWKS holds no usable RS256 key")]
    NoUsableKey,
}

impl KeyFetchError {
    /// How long Clerk asked to wait (a 429's `Retry-After`), when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            KeyFetchError::Api(ApiError::RateLimited { retry_after, .. }) => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status of the answer, when the endpoint answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            KeyFetchError::Api(ApiError::Api { status, .. }) => Some(*status),
            KeyFetchError::Api(ApiError::RateLimited { .. }) => Some(429),
            KeyFetchError::Status(status) => Some(*status),
            _ => None,
        }
    }

    /// What went wrong and what it means, in words an on-call engineer can act on, such as
    /// `the Backend API answered 401 to the JWKS fetch: the secret key is rejected`.
    ///
    /// A fixed vocabulary with a status code at most, never a URL, a header or a body, so that
    /// it is safe to show on the public health summary.
    pub fn reason(&self) -> String {
        match self {
            KeyFetchError::Api(ApiError::Api { status, .. }) => {
                let meaning = match status {
                    401 => ": the secret key is rejected (revoked, rolled, or of another instance)",
                    403 => ": the secret key may not read this instance's keys",
                    500..=599 => ": Clerk fails",
                    _ => "",
                };
                format!("the Backend API answered {status} to the JWKS fetch{meaning}")
            }
            KeyFetchError::Api(ApiError::RateLimited { .. }) => {
                "the Backend API answered 429 to the JWKS fetch: this instance is over its rate limit"
                    .to_owned()
            }
            KeyFetchError::Api(ApiError::Transport {
                source: TransportError::Timeout,
                ..
            })
            | KeyFetchError::Transport(TransportError::Timeout)
            | KeyFetchError::Timeout => {
                "the JWKS fetch timed out: Clerk is slow or unreachable from this service".to_owned()
            }
            KeyFetchError::Api(ApiError::Transport { .. }) | KeyFetchError::Transport(_) => {
                "the JWKS endpoint could not be reached from this service (network, DNS, TLS or proxy)"
                    .to_owned()
            }
            KeyFetchError::Api(ApiError::Config(_)) => {
                "the Backend API client is misconfigured (check CLERK_API_URL)".to_owned()
            }
            KeyFetchError::Api(_) | KeyFetchError::Decode => {
                "the JWKS endpoint did not answer with a JSON Web Key Set (check CLERK_JWKS_URL)"
                    .to_owned()
            }
            KeyFetchError::Status(status) => {
                let meaning = match status {
                    500..=599 => ": Clerk fails",
                    _ => " (check CLERK_JWKS_URL)",
                };
                format!("the JWKS URL answered {status}{meaning}")
            }
            KeyFetchError::NoUsableKey => "the JWKS holds no usable RS256 key".to_owned(),
        }
    }
}

/// The Backend API JWKS (`GET /v1/jwks`, needs the secret key).
#[derive(Clone, Debug)]
pub struct BackendApiJwks(pub ClerkApi);

#[async_trait]
impl JwksSource for BackendApiJwks {
    async fn fetch(&self) -> Result<Jwks, KeyFetchError> {
        self.0.jwks().await.map_err(KeyFetchError::Api)
    }

    fn name(&self) -> &'static str {
        "backend_api"
    }
}

/// The Frontend API JWKS (`https://<frontend api>/.well-known/jwks.json`, no secret needed).
pub struct FrontendApiJwks {
    http: Arc<dyn HttpClient>,
    url: String,
}

impl std::fmt::Debug for FrontendApiJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrontendApiJwks")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl FrontendApiJwks {
    /// Fetches `url` through `http`.
    pub fn new(http: Arc<dyn HttpClient>, url: impl Into<String>) -> Self {
        Self {
            http,
            url: url.into(),
        }
    }
}

#[async_trait]
impl JwksSource for FrontendApiJwks {
    async fn fetch(&self) -> Result<Jwks, KeyFetchError> {
        let request = http::Request::get(&self.url)
            .header(http::header::ACCEPT, "application/json")
            .body(Bytes::new())
            .map_err(|err| {
                KeyFetchError::Transport(TransportError::InvalidRequest(Box::new(err)))
            })?;
        let response = self
            .http
            .send(request)
            .await
            .map_err(KeyFetchError::Transport)?;
        if !response.status().is_success() {
            return Err(KeyFetchError::Status(response.status().as_u16()));
        }
        serde_json::from_slice(response.body()).map_err(|_| KeyFetchError::Decode)
    }

    fn name(&self) -> &'static str {
        "frontend_api"
    }
}

/// How a [`JwksCache`] refreshes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwksCacheConfig {
    /// After a fetch (successful or not), an unknown `kid` triggers no new fetch for this long,
    /// so a flood of forged `kid`s costs at most one fetch per cooldown. Default 30 s.
    pub refresh_cooldown: Duration,
    /// The longest one fetch may take. Default 5 s.
    pub fetch_timeout: Duration,
    /// How long the last good key set keeps verifying while refreshes fail; `None` keeps it
    /// forever. Default 24 h: long enough to ride out a Clerk outage, bounded so that a key
    /// revoked during a long outage stops verifying eventually.
    pub max_staleness: Option<Duration>,
    /// How often [`keep_fresh`](JwksCache::keep_fresh) re-checks the keys, give or take 10 %
    /// (so that a fleet's replicas spread their calls). Default 5 min: the staleness bound
    /// counts from the last successful check, so a service that checks keeps the full bound
    /// for an outage whenever it starts.
    pub refresh_every: Duration,
    /// After a failed check, the first retry waits this long, and each next one twice as
    /// long, up to [`retry_max`](Self::retry_max). Default 1 s.
    pub retry_min: Duration,
    /// The longest wait between retries. Default 5 s: within that of Clerk's return, a
    /// service that had no key verifies again (an unknown `kid` alone would wait the
    /// cooldown).
    pub retry_max: Duration,
}

impl Default for JwksCacheConfig {
    fn default() -> Self {
        Self {
            refresh_cooldown: Duration::from_secs(30),
            fetch_timeout: Duration::from_secs(5),
            max_staleness: Some(Duration::from_secs(24 * 60 * 60)),
            refresh_every: Duration::from_secs(5 * 60),
            retry_min: Duration::from_secs(1),
            retry_max: Duration::from_secs(5),
        }
    }
}

/// The state of the verification keys, for health endpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct KeyStatus {
    /// `pinned_pem`, `backend_api` or `frontend_api`.
    pub source: &'static str,
    /// Keys held.
    pub key_count: usize,
    /// Their ids.
    pub kids: Vec<String>,
    /// When the keys in use were fetched (RFC 3339), if ever.
    pub last_refresh: Option<String>,
    /// Seconds since then.
    pub staleness_secs: Option<u64>,
    /// True when the keys are older than the staleness bound and no longer verify.
    pub too_stale: bool,
    /// Why the last fetch failed, if it did ([`KeyFetchError::reason`]).
    pub last_error: Option<String>,
    /// The HTTP status of the last failed fetch, when the endpoint answered (401: the secret
    /// key is rejected).
    pub last_error_status: Option<u16>,
    /// Fetches attempted.
    pub fetches: u64,
    /// Fetches that failed.
    pub failures: u64,
    /// When the keys in use come from a snapshot ([`JwksCache::with_snapshot`]): when it was
    /// taken (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_snapshot: Option<String>,
}

impl KeyStatus {
    /// True when a key is held and not too stale: tokens can be verified.
    pub fn usable(&self) -> bool {
        self.key_count > 0 && !self.too_stale
    }
}

/// Why no key could be found for a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyLookupError {
    /// Keys are available, but none has this `kid`.
    UnknownKey,
    /// No usable key set (never fetched, or too stale).
    Unavailable,
}

/// The signing keys of an instance, fetched from a [`JwksSource`] and cached.
///
/// - A token with a `kid` the cache does not hold triggers a refresh, at most one per
///   [`refresh_cooldown`](JwksCacheConfig::refresh_cooldown), and concurrent misses share it
///   (single flight).
/// - A refresh replaces the whole set; a failed refresh keeps the last good set, for at most
///   [`max_staleness`](JwksCacheConfig::max_staleness).
/// - Lookups of cached keys never wait for a fetch, so a hung Clerk cannot slow verification.
///
/// Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct JwksCache {
    inner: Arc<CacheInner>,
}

struct CacheInner {
    source: Box<dyn JwksSource>,
    config: JwksCacheConfig,
    state: RwLock<CacheState>,
    refresh_lock: tokio::sync::Mutex<()>,
    /// The number of fetches attempted, for [`JwksCache::wait_for_keys`].
    fetched: tokio::sync::watch::Sender<u64>,
    /// Set once [`JwksCache::keep_fresh`] started its task.
    kept_fresh: AtomicBool,
    /// Where the last known good keys are kept, if anywhere.
    snapshot: OnceLock<Snapshots>,
}

/// A cache's snapshot store, and the issuer its snapshots are taken for.
struct Snapshots {
    store: Arc<dyn KeySnapshotStore>,
    issuer: Option<String>,
}

#[derive(Default)]
struct CacheState {
    keys: Arc<KeySet>,
    generation: u64,
    fetched_at: Option<(Instant, SystemTime)>,
    last_attempt: Option<Instant>,
    /// When an unknown `kid` last triggered a fetch: the cooldown counts from there, so that
    /// background refreshes never delay picking up a rotated key.
    last_miss_fetch: Option<Instant>,
    last_error: Option<(String, Option<u16>)>,
    fetches: u64,
    failures: u64,
    /// When the keys in use come from a snapshot: when that snapshot was taken.
    from_snapshot: Option<SystemTime>,
    /// The snapshot is loaded once, at the first failed fetch without keys.
    snapshot_tried: bool,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("source", &self.inner.source.name())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    /// A cache over `source`; nothing is fetched until the first lookup,
    /// [`refresh`](Self::refresh) or [`keep_fresh`](Self::keep_fresh). A service builds it
    /// once and calls `keep_fresh` inside its runtime (as [`AuthPolicy::from_env`] does), so
    /// that its keys are fetched at start-up and re-checked in the background.
    ///
    /// [`AuthPolicy::from_env`]: super::AuthPolicy::from_env
    pub fn new(source: impl JwksSource, config: JwksCacheConfig) -> Self {
        Self {
            inner: Arc::new(CacheInner {
                source: Box::new(source),
                config,
                state: RwLock::new(CacheState::default()),
                refresh_lock: tokio::sync::Mutex::new(()),
                fetched: tokio::sync::watch::Sender::new(0),
                kept_fresh: AtomicBool::new(false),
                snapshot: OnceLock::new(),
            }),
        }
    }

    /// Keeps the last known good keys in `store`: every successful fetch saves them (off the
    /// request path), and a cache that holds no key when a fetch fails loads them, checked
    /// against `issuer` (the Frontend API URL the service pins, if it pins one) and the
    /// staleness bound ([`KeySnapshot::check`]). A snapshot that fails the check is refused
    /// with a warning, never trusted. Set it before the first fetch; a second store is
    /// ignored.
    #[must_use]
    pub fn with_snapshot(self, store: impl KeySnapshotStore, issuer: Option<String>) -> Self {
        let _ = self.inner.snapshot.set(Snapshots {
            store: Arc::new(store),
            issuer,
        });
        self
    }

    /// Fetches now (waiting for a fetch already under way instead of starting another),
    /// whatever the cooldown.
    ///
    /// # Errors
    ///
    /// The fetch's error; the previous keys stay in use.
    pub async fn refresh(&self) -> Result<(), KeyFetchError> {
        let _flight = self.inner.refresh_lock.lock().await;
        self.fetch_and_store(Save::Await).await
    }

    /// Keeps the keys fresh from now on, in a task on the current Tokio runtime: fetches at
    /// once, then every [`refresh_every`](JwksCacheConfig::refresh_every) (± 10 %); after a
    /// failure, retries after [`retry_min`](JwksCacheConfig::retry_min), doubling up to
    /// [`retry_max`](JwksCacheConfig::retry_max). Requests never wait for it.
    ///
    /// The task holds no strong reference to the cache: it ends once the last clone is
    /// dropped. A second call does nothing. Returns false outside a Tokio runtime (nothing
    /// is started; keys are then fetched on the first unknown `kid` only).
    pub fn keep_fresh(&self) -> bool {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        if self.inner.kept_fresh.swap(true, Ordering::SeqCst) {
            return true;
        }
        let cache = Arc::downgrade(&self.inner);
        let config = self.inner.config;
        // Sane bounds whatever the configuration says: never a tight loop against Clerk.
        let every = config
            .refresh_every
            .clamp(Duration::from_secs(1), Duration::from_secs(24 * 60 * 60));
        let retry_min = config.retry_min.max(Duration::from_millis(100));
        let retry_max = config
            .retry_max
            .clamp(retry_min, Duration::from_secs(60 * 60));
        runtime.spawn(async move {
            let mut retry = retry_min;
            loop {
                let Some(inner) = cache.upgrade() else { return };
                let cache_now = JwksCache { inner };
                // Failures are recorded in the status and logged by the fetch itself.
                let wait = match cache_now.refresh().await {
                    Ok(()) => {
                        retry = retry_min;
                        jittered(every)
                    }
                    Err(err) => {
                        // A 429's Retry-After is honoured, whatever the backoff says.
                        let wait = retry.max(err.retry_after().unwrap_or_default());
                        retry = retry.saturating_mul(2).min(retry_max);
                        wait
                    }
                };
                drop(cache_now);
                tokio::time::sleep(wait).await;
            }
        });
        true
    }

    /// Waits up to `wait` for a usable key set (the first fetch, or a later one after
    /// failures); true when the cache holds one. Never fetches by itself: pair it with
    /// [`keep_fresh`](Self::keep_fresh), or a [`refresh`](Self::refresh) under way.
    pub async fn wait_for_keys(&self, wait: Duration) -> bool {
        let mut fetched = self.inner.fetched.subscribe();
        let usable = |cache: &Self| cache.status().usable();
        let waiting = async {
            while !usable(self) {
                if fetched.changed().await.is_err() {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(wait, waiting).await;
        usable(self)
    }

    /// The state of the keys, for health output.
    pub fn status(&self) -> KeyStatus {
        let state = self.read();
        let staleness = state.fetched_at.map(|(at, _)| at.elapsed());
        KeyStatus {
            source: self.inner.source.name(),
            key_count: state.keys.len(),
            kids: state.keys.kids(),
            last_refresh: state
                .fetched_at
                .map(|(_, wall)| humantime::format_rfc3339_seconds(wall).to_string()),
            staleness_secs: staleness.map(|s| s.as_secs()),
            too_stale: self.too_stale(&state),
            last_error: state.last_error.as_ref().map(|(reason, _)| reason.clone()),
            last_error_status: state.last_error.as_ref().and_then(|(_, status)| *status),
            fetches: state.fetches,
            failures: state.failures,
            from_snapshot: state
                .from_snapshot
                .map(|at| humantime::format_rfc3339_seconds(at).to_string()),
        }
    }

    /// The key generation, which changes whenever a refresh replaces the set; `None` while
    /// the keys are too stale to verify (so cached verifications stop counting too).
    pub(crate) fn generation(&self) -> Option<u64> {
        let state = self.read();
        (!self.too_stale(&state)).then_some(state.generation)
    }

    /// The key for `kid`, refreshing once (per cooldown) when it is unknown.
    pub(crate) async fn key(
        &self,
        kid: Option<&str>,
    ) -> Result<(Arc<DecodingKey>, u64), KeyLookupError> {
        let seen = match self.cached(kid) {
            Ok(found) => return Ok(found),
            Err(fetches) => fetches,
        };
        self.refresh_after_miss(seen).await;
        self.cached(kid).map_err(|_| {
            let state = self.read();
            if state.keys.is_empty() || self.too_stale(&state) {
                KeyLookupError::Unavailable
            } else {
                KeyLookupError::UnknownKey
            }
        })
    }

    /// The cached key for `kid` and its generation, or the number of fetches attempted so far.
    fn cached(&self, kid: Option<&str>) -> Result<(Arc<DecodingKey>, u64), u64> {
        let state = self.read();
        if self.too_stale(&state) {
            return Err(state.fetches);
        }
        match state.keys.get(kid) {
            Some(key) => Ok((Arc::clone(key), state.generation)),
            None => Err(state.fetches),
        }
    }

    /// Fetches for a missed `kid`, unless a fetch was attempted since the miss was seen
    /// (single flight: concurrent misses share one fetch, successful or not) or the cooldown
    /// since the last miss-triggered fetch is still running.
    async fn refresh_after_miss(&self, fetches_seen: u64) {
        let _flight = self.inner.refresh_lock.lock().await;
        {
            let mut state = self.write();
            let fetched_meanwhile = state.fetches != fetches_seen;
            let cooling_down = state
                .last_miss_fetch
                .is_some_and(|at| at.elapsed() < self.inner.config.refresh_cooldown);
            if fetched_meanwhile || cooling_down {
                return;
            }
            state.last_miss_fetch = Some(Instant::now());
        }
        // The outcome is recorded in the state; the caller reads it from there. A request
        // waits for the fetch, never for the snapshot's disk.
        let _ = self.fetch_and_store(Save::InBackground).await;
    }

    /// Fetches and stores; the caller holds the refresh lock.
    async fn fetch_and_store(&self, save: Save) -> Result<(), KeyFetchError> {
        self.write().last_attempt = Some(Instant::now());
        let fetched =
            tokio::time::timeout(self.inner.config.fetch_timeout, self.inner.source.fetch())
                .await
                .unwrap_or(Err(KeyFetchError::Timeout))
                .and_then(|jwks| {
                    let keys = KeySet::from_jwks(&jwks);
                    if keys.is_empty() {
                        Err(KeyFetchError::NoUsableKey)
                    } else {
                        Ok((keys, jwks))
                    }
                });
        let result = match fetched {
            Ok((keys, jwks)) => {
                tracing::info!(
                    source = self.inner.source.name(),
                    keys = keys.len(),
                    "JWKS refreshed"
                );
                {
                    let mut state = self.write();
                    state.fetches += 1;
                    state.keys = Arc::new(keys);
                    state.generation += 1;
                    state.fetched_at = Some((Instant::now(), SystemTime::now()));
                    state.from_snapshot = None;
                    state.last_error = None;
                }
                self.save_snapshot(jwks, save).await;
                Ok(())
            }
            Err(err) => {
                let keyless = {
                    let mut state = self.write();
                    state.fetches += 1;
                    state.failures += 1;
                    state.last_error = Some((err.reason(), err.status()));
                    state.keys.is_empty()
                };
                if keyless {
                    tracing::warn!(
                        source = self.inner.source.name(),
                        reason = %err.reason(),
                        error = %error_chain(&err),
                        "JWKS fetch failed; no key to verify tokens with"
                    );
                    self.load_snapshot().await;
                } else {
                    tracing::warn!(
                        source = self.inner.source.name(),
                        reason = %err.reason(),
                        error = %error_chain(&err),
                        "JWKS refresh failed; keeping the last good keys"
                    );
                }
                Err(err)
            }
        };
        let fetches = self.read().fetches;
        self.inner.fetched.send_replace(fetches);
        result
    }

    /// Saves `jwks` to the snapshot store, if there is one: at once for
    /// [`refresh`](Self::refresh) (the background checks), in a task of its own when a
    /// request's unknown `kid` caused the fetch, so that no request waits for the disk.
    async fn save_snapshot(&self, jwks: Jwks, save: Save) {
        let Some(snapshots) = self.inner.snapshot.get() else {
            return;
        };
        // Only the keys a snapshot may hold: a key set that also serves another key type
        // must not make the whole snapshot refused.
        let mut jwks = jwks;
        jwks.keys.retain(|key| key.kty == "RSA");
        let (store, snapshot) = (
            Arc::clone(&snapshots.store),
            KeySnapshot::new(snapshots.issuer.clone(), jwks),
        );
        let limit = self.inner.config.fetch_timeout;
        let saving = async move {
            match tokio::time::timeout(limit, store.save(&snapshot)).await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    tracing::warn!(error = %error_chain(&err), "cannot save the key snapshot; the service runs on without it");
                }
                Err(_) => {
                    tracing::warn!(snapshot = %store.location(), "saving the key snapshot timed out; the service runs on without it");
                }
            }
        };
        match (save, tokio::runtime::Handle::try_current()) {
            (Save::InBackground, Ok(runtime)) => {
                runtime.spawn(saving);
            }
            _ => saving.await,
        }
    }

    /// With no key and the fetch failing: the snapshot's keys, once checked, if there is a
    /// snapshot and it was not tried yet.
    async fn load_snapshot(&self) {
        let Some(snapshots) = self.inner.snapshot.get() else {
            return;
        };
        if std::mem::replace(&mut self.write().snapshot_tried, true) {
            return;
        }
        let location = snapshots.store.location();
        let loaded = tokio::time::timeout(self.inner.config.fetch_timeout, snapshots.store.load())
            .await
            .unwrap_or_else(|_| {
                Err(SnapshotError::Corrupt {
                    location: location.clone(),
                    detail: "reading it timed out".to_owned(),
                })
            });
        let snapshot = match loaded {
            Ok(Some(snapshot)) => snapshot,
            Ok(None) => {
                tracing::warn!(snapshot = %location, "no key snapshot to start from");
                return;
            }
            Err(err) => {
                tracing::warn!(error = %error_chain(&err), "the key snapshot is not used");
                return;
            }
        };
        let checked = snapshot
            .check(snapshots.issuer.as_deref(), self.inner.config.max_staleness)
            .and_then(|()| {
                let keys = KeySet::from_jwks(&snapshot.jwks);
                let age = SystemTime::now()
                    .duration_since(snapshot.fetched_at)
                    .unwrap_or_default();
                match (keys.is_empty(), Instant::now().checked_sub(age)) {
                    (false, Some(at)) => Ok((keys, at)),
                    (true, _) => Err("it holds no usable RS256 key".to_owned()),
                    (false, None) => Err("its age cannot be told".to_owned()),
                }
            });
        match checked {
            Ok((keys, at)) => {
                tracing::warn!(
                    snapshot = %location,
                    fetched_at = %humantime::format_rfc3339_seconds(snapshot.fetched_at),
                    keys = keys.len(),
                    "verifying with the keys of the snapshot until Clerk answers"
                );
                let mut state = self.write();
                if state.keys.is_empty() {
                    state.keys = Arc::new(keys);
                    state.generation += 1;
                    state.fetched_at = Some((at, snapshot.fetched_at));
                    state.from_snapshot = Some(snapshot.fetched_at);
                }
            }
            Err(reason) => {
                let err = SnapshotError::Refused { location, reason };
                tracing::warn!(error = %err, "the key snapshot is not used");
            }
        }
    }

    fn too_stale(&self, state: &CacheState) -> bool {
        match (self.inner.config.max_staleness, state.fetched_at) {
            (Some(max), Some((at, _))) => at.elapsed() > max,
            _ => false,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, CacheState> {
        self.inner
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, CacheState> {
        self.inner
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// When a fetch's snapshot is written.
#[derive(Clone, Copy)]
enum Save {
    /// Before the fetch returns.
    Await,
    /// In a task of its own.
    InBackground,
}

/// `every`, give or take 10 %.
fn jittered(every: Duration) -> Duration {
    let tenth = every / 10;
    (every - tenth) + tenth.mul_f64(2.0 * fastrand::f64())
}
