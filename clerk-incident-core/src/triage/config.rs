//! [`TriageConfig`]: what to probe, how long to wait, and what the operator reports.

use std::time::Duration;

use super::probe::ProbeName;
use super::status_page::DEFAULT_STATUS_URL;
use super::symptom::Symptom;
use crate::api::{ClerkApi, SecretKey};
use crate::auth::HealthToken;

/// The default time limit of each probe.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// How the Backend API probe reaches Clerk.
#[derive(Clone, Debug)]
pub(crate) enum ApiTarget {
    /// A client the caller built, used as it is.
    Client(ClerkApi),
    /// A base URL and key: [`run`](super::run) builds a client over its HTTP client with no
    /// retries, no pacing and the probe timeout.
    Key { base_url: String, key: SecretKey },
}

/// What [`run`](super::run) probes.
///
/// Every probe applies. The status page has a default target; the others run when given one
/// (a secret key, a JWKS URL, the app's health URL) and are otherwise reported as *not
/// checked*, which caps the verdict at [`Category::Unknown`](super::Category::Unknown): a
/// verdict of healthy needs every probe to have run and passed. Leave a probe out on purpose
/// with [`skip`](Self::skip). Not-checked reasons name the `clerk-incident triage` flags that
/// supply the input.
///
/// ```
/// use std::time::Duration;
/// use clerk_incident_core::api::SecretKey;
/// use clerk_incident_core::triage::{Symptom, TriageConfig};
///
/// let config = TriageConfig::new("https://status.clerk.com")
///     .secret_key("https://api.clerk.com", SecretKey::new("sk_live_…"))
///     .jwks_url("https://clerk.example.com/.well-known/jwks.json")
///     .expected_kid("ins_2abc")
///     .app_health_url("https://app.example.com/api/clerk-health")
///     .timeout(Duration::from_secs(3))
///     .symptom(Symptom::RandomLogouts);
/// assert_eq!(config.probe_timeout(), Duration::from_secs(3));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TriageConfig {
    pub(crate) status_url: String,
    pub(crate) api: Option<ApiTarget>,
    pub(crate) jwks_url: Option<String>,
    pub(crate) expected_kid: Option<String>,
    pub(crate) app_health_url: Option<String>,
    pub(crate) app_health_token: Option<HealthToken>,
    pub(crate) timeout: Duration,
    pub(crate) symptoms: Vec<Symptom>,
    pub(crate) skipped: Vec<ProbeName>,
}

impl Default for TriageConfig {
    /// Clerk's public status page, nothing else, 5 s per probe.
    fn default() -> Self {
        Self::new(DEFAULT_STATUS_URL)
    }
}

impl TriageConfig {
    /// Probes the status page at `status_url` (the page's base URL, such as
    /// `https://status.clerk.com`); 5 s per probe.
    pub fn new(status_url: impl Into<String>) -> Self {
        Self {
            status_url: status_url.into(),
            api: None,
            jwks_url: None,
            expected_kid: None,
            app_health_url: None,
            app_health_token: None,
            timeout: DEFAULT_PROBE_TIMEOUT,
            symptoms: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// Probes the Backend API at `base_url` with `key`, through the HTTP client given to
    /// [`run`](super::run), with no retries and no pacing: one request, bounded by the probe
    /// timeout. Without a JWKS URL, the JWKS probe then reads the Backend API's `/v1/jwks`.
    pub fn secret_key(mut self, base_url: impl Into<String>, key: SecretKey) -> Self {
        self.api = Some(ApiTarget::Key {
            base_url: base_url.into(),
            key,
        });
        self
    }

    /// Probes the Backend API through `api`, as configured. Build it with
    /// [`RetryPolicy::none`](crate::api::RetryPolicy::none): the probe timeout bounds all its
    /// attempts together, so a retrying client turns a 503 into a timeout.
    pub fn api(mut self, api: ClerkApi) -> Self {
        self.api = Some(ApiTarget::Client(api));
        self
    }

    /// Probes this JWKS URL (the Frontend API's `https://<frontend api>/.well-known/jwks.json`,
    /// no secret needed) instead of the Backend API's.
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// The `kid` the app's tokens carry (the instance id until a signing key rotation): the
    /// JWKS probe checks the key set holds it.
    pub fn expected_kid(mut self, kid: impl Into<String>) -> Self {
        self.expected_kid = Some(kid.into());
        self
    }

    /// Probes the app's auth health at this URL (its `/api/clerk-health`, as the adapters'
    /// health routes serve it).
    pub fn app_health_url(mut self, url: impl Into<String>) -> Self {
        self.app_health_url = Some(url.into());
        self
    }

    /// Sends `token` (the app's `CLERK_INCIDENT_HEALTH_TOKEN`) as `Authorization: Bearer` to
    /// the app's health endpoint, which then shows its details (key ids, counters, the last key
    /// error) instead of the public summary, so that triage keeps all its evidence.
    pub fn app_health_token(mut self, token: HealthToken) -> Self {
        self.app_health_token = Some(token);
        self
    }

    /// The time limit of each probe (default 5 s). Probes run concurrently, so a triage takes
    /// about the slowest probe's time, at most this.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Leaves `probe` out on purpose: the report shows it as skipped, and a healthy verdict
    /// no longer needs it.
    pub fn skip(mut self, probe: ProbeName) -> Self {
        if !self.skipped.contains(&probe) {
            self.skipped.push(probe);
        }
        self
    }

    /// The probes left out on purpose.
    pub fn skipped_probes(&self) -> &[ProbeName] {
        &self.skipped
    }

    /// Adds a symptom the operator reports.
    pub fn symptom(mut self, symptom: Symptom) -> Self {
        if !self.symptoms.contains(&symptom) {
            self.symptoms.push(symptom);
        }
        self
    }

    /// Adds several symptoms.
    pub fn symptoms(self, symptoms: impl IntoIterator<Item = Symptom>) -> Self {
        symptoms.into_iter().fold(self, Self::symptom)
    }

    /// The status page base URL.
    pub fn status_url(&self) -> &str {
        &self.status_url
    }

    /// The time limit of each probe.
    pub fn probe_timeout(&self) -> Duration {
        self.timeout
    }

    /// The symptoms reported, without duplicates, in the order given.
    pub fn reported_symptoms(&self) -> &[Symptom] {
        &self.symptoms
    }
}
