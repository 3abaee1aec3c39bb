//! [`ClerkApi`], its builder, and the paced, retried request loop every operation goes through.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderValue, Method, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::de::DeserializeOwned;

use super::RETRY_LOG_TARGET;
use super::counters::{ApiCounters, AtomicCounters};
use super::error::{ApiError, ClerkErrorBody};
use super::pacing::{Pacer, RateLimit};
use super::retry::{RetryPolicy, is_retryable, retry_after};
use super::secret_key::{KeyKind, SecretKey};
use super::shared_budget::{BUDGET_TIMEOUT, DEFAULT_FALLBACK_SHARE, SharedBudget};
use crate::http::{DEFAULT_MAX_BODY_BYTES, HttpClient, HttpResponse, TransportError};

/// Clerk's Backend API.
pub const DEFAULT_BASE_URL: &str = "https://api.clerk.com";

/// The `Clerk-API-Version` every request pins: the version of the OpenAPI spec this crate's
/// shapes follow.
pub const DEFAULT_API_VERSION: &str = "2026-05-12";

/// The default time limit of one HTTP attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Characters kept as they are in a path segment: RFC 3986 unreserved, less `.`, so that no id
/// can become a `..` segment.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');

/// A typed, paced and retrying client for Clerk's Backend API.
///
/// Cheap to clone: clones share the pacer, so every clone together stays under the instance's
/// rate limit, and a 429 seen by one pauses all. The operations are listed in the
/// [module documentation](crate::api).
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use clerk_incident_core::api::{ClerkApi, SecretKey};
///
/// let sim = clerk_incident_sim::Sim::builder().start().await?;
/// let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
///     .base_url(sim.base_url())
///     .build()?;
/// let instance = api.instance().await?;
/// assert!(instance.id.starts_with("ins_"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ClerkApi {
    inner: Arc<Inner>,
}

struct Inner {
    http: Arc<dyn HttpClient>,
    base_url: String,
    key: SecretKey,
    authorization: HeaderValue,
    api_version: HeaderValue,
    rate_limit: Option<RateLimit>,
    retry: RetryPolicy,
    timeout: Duration,
    max_body_bytes: usize,
    pacer: Pacer,
    shared: Option<SharedPacing>,
    counters: AtomicCounters,
}

/// A fleet's budget, and the local pacing used while it cannot be reached.
struct SharedPacing {
    budget: Arc<dyn SharedBudget>,
    /// Paces at the fallback share of the limit.
    fallback: Pacer,
    share: f64,
    /// True while the budget cannot be reached (logged once per loss).
    lost: AtomicBool,
    /// When the budget last failed: it is not asked again for a moment, so that a store that
    /// hangs does not cost every request the budget's timeout.
    failed_at: std::sync::Mutex<Option<tokio::time::Instant>>,
}

/// The longest wait a shared budget may hand out before it counts as gone wrong.
const MAX_BUDGET_WAIT: Duration = Duration::from_secs(120);

/// How long a failed budget is not asked again.
const BUDGET_RETRY_AFTER: Duration = Duration::from_secs(2);

impl SharedPacing {
    fn breaker_open(&self) -> bool {
        self.failed_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() < BUDGET_RETRY_AFTER)
    }

    fn trip(&self) {
        let mut failed_at = self
            .failed_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if failed_at.is_none_or(|at| at.elapsed() >= BUDGET_RETRY_AFTER) {
            *failed_at = Some(tokio::time::Instant::now());
        }
    }
}

impl fmt::Debug for ClerkApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("ClerkApi")
            .field("base_url", &inner.base_url)
            .field("key", &inner.key)
            .field("api_version", &inner.api_version)
            .field("rate_limit", &inner.rate_limit)
            .field("retry", &inner.retry)
            .field("timeout", &inner.timeout)
            .field("max_body_bytes", &inner.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl ClerkApi {
    /// Starts configuring a client that authenticates with `key`.
    pub fn builder(key: SecretKey) -> ClerkApiBuilder {
        ClerkApiBuilder {
            key,
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            rate_limit: RateLimitChoice::FromKey,
            retry: RetryPolicy::default(),
            timeout: DEFAULT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            http: None,
            shared_budget: None,
        }
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The kind of the secret key the client authenticates with (`sk_live_` or `sk_test_`),
    /// never the key itself.
    pub fn key_kind(&self) -> KeyKind {
        self.inner.key.kind()
    }

    /// The rate limit the client paces itself to; `None` when pacing is off.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.inner.rate_limit
    }

    /// Requests, retries and 429s so far, across every clone of this client.
    pub fn counters(&self) -> ApiCounters {
        self.inner.counters.snapshot()
    }

    /// Sends a call and decodes a 2xx JSON body into `T`.
    pub(crate) async fn json<T: DeserializeOwned>(&self, call: &Call) -> Result<T, ApiError> {
        let response = self.send(call).await?;
        serde_json::from_slice(response.body()).map_err(|err| ApiError::Decode {
            operation: call.operation,
            status: response.status().as_u16(),
            detail: self.inner.key.redact(&err.to_string()),
        })
    }

    /// Waits for this request's send slot: from the fleet's budget when there is one (local
    /// pacing at the fallback share while it cannot be reached), else from the local pacer.
    async fn pace(&self) {
        let inner = &*self.inner;
        let (Some(shared), Some(limit)) = (&inner.shared, inner.rate_limit) else {
            inner.pacer.acquire().await;
            return;
        };
        // A client paced below its instance's documented limit (a cautious --rate-limit)
        // takes the fleet's slots at the documented spacing and slows only itself.
        let documented = RateLimit::for_key(&inner.key).interval();
        let interval = limit.interval().min(documented);
        let reserved = if shared.breaker_open() {
            Err("failed moments ago".to_owned())
        } else {
            match tokio::time::timeout(BUDGET_TIMEOUT, shared.budget.reserve(interval)).await {
                // A wait beyond any pause Clerk asks for is a store that went wrong (a planted
                // value, a clock far behind): never slept on.
                Ok(Ok(wait)) if wait <= MAX_BUDGET_WAIT => Ok(wait),
                Ok(Ok(wait)) => Err(format!("it asks for a wait of {wait:?}")),
                Ok(Err(error)) => Err(error.to_string()),
                Err(_) => Err(format!("no answer within {BUDGET_TIMEOUT:?}")),
            }
        };
        match reserved {
            Ok(wait) => {
                if shared.lost.swap(false, Ordering::Relaxed) {
                    tracing::info!(budget = %shared.budget.budget_location(), "the fleet's API budget answers again: pacing with the fleet");
                }
                tokio::time::sleep(wait).await;
                if limit.interval() > interval {
                    inner.pacer.acquire().await;
                } else {
                    // A 429 seen by this process holds it even if the budget missed the pause.
                    inner.pacer.hold().await;
                }
            }
            Err(error) => {
                shared.trip();
                if !shared.lost.swap(true, Ordering::Relaxed) {
                    tracing::warn!(budget = %shared.budget.budget_location(), %error, "the fleet's API budget cannot be used: pacing locally at {:.0}% of the limit until it answers", shared.share * 100.0);
                }
                shared.fallback.acquire().await;
            }
        }
    }

    /// True while the client paces locally because its shared budget cannot be reached.
    pub fn budget_lost(&self) -> bool {
        self.inner
            .shared
            .as_ref()
            .is_some_and(|shared| shared.lost.load(Ordering::Relaxed))
    }

    /// Sends a call, paced and retried, and returns the first 2xx response.
    pub(crate) async fn send(&self, call: &Call) -> Result<HttpResponse, ApiError> {
        let inner = &*self.inner;
        let started = tokio::time::Instant::now();
        let mut delays = inner.retry.delays();
        let mut attempts = 0_u32;
        loop {
            attempts += 1;
            self.pace().await;
            if super::send_deadline::deadline_passed() {
                return Err(ApiError::DeadlinePassed {
                    operation: call.operation,
                });
            }
            inner.counters.request();
            let request = self.request(call)?;
            tracing::debug!(operation = call.operation, attempt = attempts, path = %call.path, "Clerk API request");

            let failure = match tokio::time::timeout(inner.timeout, inner.http.send(request)).await
            {
                Err(_elapsed) => Failure::Transport(TransportError::Timeout),
                Ok(Err(
                    err @ (TransportError::InvalidRequest(_) | TransportError::BodyTooLarge { .. }),
                )) => {
                    return Err(ApiError::Transport {
                        operation: call.operation,
                        attempts,
                        source: err,
                    });
                }
                Ok(Err(err)) => Failure::Transport(err),
                Ok(Ok(response)) => {
                    if response.body().len() > inner.max_body_bytes {
                        return Err(ApiError::Transport {
                            operation: call.operation,
                            attempts,
                            source: TransportError::BodyTooLarge {
                                limit: inner.max_body_bytes,
                            },
                        });
                    }
                    let status = response.status();
                    if status.is_success() {
                        return Ok(response);
                    }
                    if status == http::StatusCode::TOO_MANY_REQUESTS {
                        inner.counters.rate_limited();
                        Failure::RateLimited(retry_after(response.headers(), SystemTime::now()))
                    } else if is_retryable(status) {
                        Failure::Status(response)
                    } else {
                        return Err(self.api_error(call, &response, attempts));
                    }
                }
            };

            let wait = match &failure {
                Failure::RateLimited(Some(wait)) => Some(*wait),
                _ => delays.next(),
            };
            // `Retry-After` is read from the network: a huge value must not overflow.
            let within_budget = wait.filter(|wait| {
                attempts < inner.retry.max_attempts
                    && started
                        .elapsed()
                        .checked_add(*wait)
                        .is_some_and(|total| total <= inner.retry.max_elapsed)
                    && tokio::time::Instant::now().checked_add(*wait).is_some()
            });
            let Some(wait) = within_budget else {
                return Err(match failure {
                    Failure::Transport(source) => ApiError::Transport {
                        operation: call.operation,
                        attempts,
                        source,
                    },
                    Failure::Status(response) => self.api_error(call, &response, attempts),
                    Failure::RateLimited(retry_after) => ApiError::RateLimited {
                        operation: call.operation,
                        attempts,
                        retry_after,
                    },
                });
            };

            inner.counters.retry();
            match failure {
                Failure::RateLimited(_) => {
                    tracing::warn!(target: RETRY_LOG_TARGET, cause = "429", operation = call.operation, wait = ?wait, "Clerk answered 429; pausing every caller of this client");
                    inner.pacer.pause_until(tokio::time::Instant::now() + wait);
                    if let Some(shared) = &inner.shared {
                        shared
                            .fallback
                            .pause_until(tokio::time::Instant::now() + wait);
                        let paused =
                            tokio::time::timeout(BUDGET_TIMEOUT, shared.budget.pause(wait)).await;
                        if !matches!(paused, Ok(Ok(()))) {
                            tracing::warn!(
                                "cannot pause the fleet's API budget: the other processes are not held"
                            );
                        }
                    }
                }
                Failure::Status(response) => {
                    tracing::warn!(target: RETRY_LOG_TARGET, cause = "5xx", operation = call.operation, status = response.status().as_u16(), attempt = attempts, wait = ?wait, "Clerk API error; retrying");
                    tokio::time::sleep(wait).await;
                }
                Failure::Transport(err) => {
                    tracing::warn!(target: RETRY_LOG_TARGET, cause = "unreachable", operation = call.operation, error = %err, attempt = attempts, wait = ?wait, "Clerk API unreachable; retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    fn request(&self, call: &Call) -> Result<crate::http::HttpRequest, ApiError> {
        let inner = &*self.inner;
        let mut uri = format!("{}{}", inner.base_url, call.path);
        if !call.query.is_empty() {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (name, value) in &call.query {
                query.append_pair(name, value);
            }
            uri.push('?');
            uri.push_str(&query.finish());
        }
        http::Request::builder()
            .method(call.method.clone())
            .uri(uri)
            .header(header::AUTHORIZATION, inner.authorization.clone())
            .header("Clerk-API-Version", inner.api_version.clone())
            .header(header::ACCEPT, HeaderValue::from_static("application/json"))
            .body(Bytes::new())
            .map_err(|_| ApiError::Config(format!("cannot build a request for {}", call.operation)))
    }

    fn api_error(&self, call: &Call, response: &HttpResponse, attempts: u32) -> ApiError {
        let key = &self.inner.key;
        let (errors, clerk_trace_id) = serde_json::from_slice::<ClerkErrorBody>(response.body())
            .map(|body| (body.errors, body.clerk_trace_id))
            .unwrap_or_default();
        let errors = errors
            .into_iter()
            .map(|mut e| {
                e.message = key.redact(&e.message);
                e.long_message = key.redact(&e.long_message);
                e.code = key.redact(&e.code);
                e
            })
            .collect();
        ApiError::Api {
            operation: call.operation,
            status: response.status().as_u16(),
            errors,
            clerk_trace_id: clerk_trace_id.map(|t| key.redact(&t)),
            attempts,
        }
    }
}

/// What went wrong with one attempt that may be retried.
enum Failure {
    Transport(TransportError),
    Status(HttpResponse),
    RateLimited(Option<Duration>),
}

/// One Backend API call, described so that it can be sent again.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) operation: &'static str,
    pub(crate) method: Method,
    /// The path from the base URL, starting with `/v1/`, segments already encoded.
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
}

impl Call {
    pub(crate) fn get(operation: &'static str, path: String) -> Self {
        Self {
            operation,
            method: Method::GET,
            path,
            query: Vec::new(),
        }
    }

    pub(crate) fn post(operation: &'static str, path: String) -> Self {
        Self {
            method: Method::POST,
            ..Self::get(operation, path)
        }
    }

    pub(crate) fn query(mut self, query: Vec<(&'static str, String)>) -> Self {
        self.query = query;
        self
    }
}

/// Percent-encodes an id for use as one path segment, so that an id such as `../users` cannot
/// change which endpoint is called. An empty, `.` or `..` id is refused: URL parsers (reqwest's
/// among them) read `%2E` as `.`, so encoding alone cannot keep it from being a dot segment.
pub(crate) fn segment(id: &str) -> Result<String, ApiError> {
    if matches!(id, "" | "." | "..") {
        return Err(ApiError::Config(format!("{id:?} is not a Clerk id")));
    }
    Ok(utf8_percent_encode(id, PATH_SEGMENT).to_string())
}

#[derive(Clone, Copy, Debug)]
enum RateLimitChoice {
    FromKey,
    Fixed(RateLimit),
    Off,
}

/// Configures a [`ClerkApi`]. Every setting has a production-ready default.
pub struct ClerkApiBuilder {
    key: SecretKey,
    base_url: String,
    api_version: String,
    rate_limit: RateLimitChoice,
    retry: RetryPolicy,
    timeout: Duration,
    max_body_bytes: usize,
    http: Option<Arc<dyn HttpClient>>,
    shared_budget: Option<(Arc<dyn SharedBudget>, f64)>,
}

impl fmt::Debug for ClerkApiBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClerkApiBuilder")
            .field("key", &self.key)
            .field("base_url", &self.base_url)
            .field("api_version", &self.api_version)
            .field("rate_limit", &self.rate_limit)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("custom_http_client", &self.http.is_some())
            .field(
                "shared_budget",
                &self
                    .shared_budget
                    .as_ref()
                    .map(|(b, _)| b.budget_location()),
            )
            .finish()
    }
}

impl ClerkApiBuilder {
    /// The API's base URL (default `https://api.clerk.com`); a trailing `/v1` is accepted.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The `Clerk-API-Version` header (default [`DEFAULT_API_VERSION`]).
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// Paces requests to `limit` instead of the documented limit of the key's instance kind.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = RateLimitChoice::Fixed(limit);
        self
    }

    /// Turns client-side pacing off (429 answers still pause every caller). Only for a server
    /// that has no limit, such as a sim without the rate-limit fault.
    pub fn without_rate_limit(mut self) -> Self {
        self.rate_limit = RateLimitChoice::Off;
        self
    }

    /// Takes every send slot from `budget`, shared with the fleet's other processes, under
    /// the client's rate limit (see [`SharedBudget`]): together they stay under Clerk's limit,
    /// and a 429 seen by one holds them all. While the budget cannot be reached the client
    /// paces locally at [`DEFAULT_FALLBACK_SHARE`] of the limit (or
    /// [`fallback_share`](Self::fallback_share)), and says so in its log. Without a rate
    /// limit ([`without_rate_limit`](Self::without_rate_limit)) the budget is not used.
    pub fn shared_budget(mut self, budget: Arc<dyn SharedBudget>) -> Self {
        let share = self
            .shared_budget
            .as_ref()
            .map_or(DEFAULT_FALLBACK_SHARE, |(_, share)| *share);
        self.shared_budget = Some((budget, share));
        self
    }

    /// The share of the limit paced at while the shared budget cannot be reached (default
    /// [`DEFAULT_FALLBACK_SHARE`]); set it after [`shared_budget`](Self::shared_budget).
    pub fn fallback_share(mut self, share: f64) -> Self {
        if let Some((_, kept)) = &mut self.shared_budget {
            *kept = share;
        }
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The time limit of one HTTP attempt (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest response body accepted (default 16 MiB).
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Sends through `http` instead of the default [`ReqwestClient`](crate::http::ReqwestClient).
    pub fn http_client(mut self, http: Arc<dyn HttpClient>) -> Self {
        self.http = Some(http);
        self
    }

    /// Checks the configuration and builds the client.
    ///
    /// # Errors
    ///
    /// [`ApiError::Config`] for a base URL that is not `http(s)://host[:port]`, a key or version
    /// that cannot be a header, a zero timeout or attempt count, or (without the `reqwest`
    /// feature) no HTTP client.
    pub fn build(self) -> Result<ClerkApi, ApiError> {
        let base_url = normalise_base_url(&self.base_url)?;
        let authorization = self.key.bearer_header().ok_or_else(|| {
            ApiError::Config("the secret key contains characters a header cannot carry".into())
        })?;
        let api_version = HeaderValue::from_str(&self.api_version)
            .map_err(|_| ApiError::Config("invalid Clerk-API-Version".into()))?;
        if self.timeout.is_zero() {
            return Err(ApiError::Config("the timeout must be above zero".into()));
        }
        if self.retry.max_attempts == 0 {
            return Err(ApiError::Config("max_attempts must be at least 1".into()));
        }
        let rate_limit = match self.rate_limit {
            RateLimitChoice::FromKey => Some(RateLimit::for_key(&self.key)),
            RateLimitChoice::Fixed(limit) => Some(limit),
            RateLimitChoice::Off => None,
        };
        let http = match self.http {
            Some(http) => http,
            None => default_http_client(self.max_body_bytes)?,
        };
        Ok(ClerkApi {
            inner: Arc::new(Inner {
                http,
                base_url,
                key: self.key,
                authorization,
                api_version,
                rate_limit,
                retry: self.retry,
                timeout: self.timeout,
                max_body_bytes: self.max_body_bytes,
                pacer: Pacer::new(rate_limit),
                shared: self.shared_budget.map(|(budget, share)| SharedPacing {
                    budget,
                    fallback: Pacer::new(rate_limit.map(|limit| limit.share(share))),
                    share,
                    lost: AtomicBool::new(false),
                    failed_at: std::sync::Mutex::new(None),
                }),
                counters: AtomicCounters::default(),
            }),
        })
    }
}

#[cfg(feature = "reqwest")]
pub(crate) fn default_http_client(max_body_bytes: usize) -> Result<Arc<dyn HttpClient>, ApiError> {
    let client = crate::http::ReqwestClient::with_settings(Duration::from_secs(10), max_body_bytes)
        .map_err(|err| ApiError::Config(format!("cannot build the HTTP client: {err}")))?;
    Ok(Arc::new(client))
}

#[cfg(not(feature = "reqwest"))]
pub(crate) fn default_http_client(_max_body_bytes: usize) -> Result<Arc<dyn HttpClient>, ApiError> {
    Err(ApiError::Config(
        "no HTTP client: enable the `reqwest` feature or call `http_client`".into(),
    ))
}

fn normalise_base_url(url: &str) -> Result<String, ApiError> {
    let trimmed = url.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/v1").unwrap_or(trimmed);
    let uri: http::Uri = trimmed
        .parse()
        .map_err(|_| ApiError::Config(format!("invalid base URL {trimmed:?}")))?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if !scheme_ok || uri.authority().is_none() || uri.query().is_some() {
        return Err(ApiError::Config(format!(
            "invalid base URL {trimmed:?}: expected http(s)://host[:port]"
        )));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised() {
        assert_eq!(
            normalise_base_url("https://api.clerk.com/").unwrap(),
            "https://api.clerk.com"
        );
        assert_eq!(
            normalise_base_url("http://127.0.0.1:9/v1/").unwrap(),
            "http://127.0.0.1:9"
        );
        assert!(normalise_base_url("api.clerk.com").is_err());
        assert!(normalise_base_url("ftp://api.clerk.com").is_err());
    }

    #[test]
    fn ids_cannot_escape_their_segment() {
        assert_eq!(segment("sess_123").unwrap(), "sess_123");
        assert_eq!(segment("../users?x=1").unwrap(), "%2E%2E%2Fusers%3Fx%3D1");
        for dot in ["", ".", ".."] {
            assert!(matches!(segment(dot), Err(ApiError::Config(_))), "{dot:?}");
        }
    }
}
