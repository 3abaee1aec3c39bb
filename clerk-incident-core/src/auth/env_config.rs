//! [`AuthPolicy::from_env`]: the whole auth policy from the environment, the way the example
//! services and most deployments configure it.

use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::env_value::value;
use super::fleet_membership::ENV_REDIS_URL;
use super::health_token::{ENV_HEALTH_TOKEN, HealthToken, InvalidHealthToken};
use super::jwks_cache::{BackendApiJwks, FrontendApiJwks, JwksCache, JwksCacheConfig};
use super::key_snapshot::KeySnapshotStore;
use super::key_snapshot_file::FileSnapshotStore;
use super::mode::{BypassConfigError, BypassSwitch};
use super::operator::{OperatorConfigError, Operators};
use super::policy::AuthPolicy;
use super::verifier::{KeySource, Verifier, VerifierConfig};
use crate::api::{ApiError, ClerkApi, RetryPolicy, SecretKey};
use crate::http::{HttpClient, ReqwestClient};

/// The pinned PEM public key (networkless verification).
pub const ENV_JWT_KEY: &str = "CLERK_JWT_KEY";
/// The secret key, for the Backend API JWKS.
pub const ENV_SECRET_KEY: &str = "CLERK_SECRET_KEY";
/// The Backend API base URL.
pub const ENV_API_URL: &str = "CLERK_API_URL";
/// A Frontend API JWKS URL.
pub const ENV_JWKS_URL: &str = "CLERK_JWKS_URL";
/// The accepted issuer (Frontend API URL).
pub const ENV_ISSUER: &str = "CLERK_ISSUER";
/// The publishable key (`pk_test_…`/`pk_live_…`): pins the issuer when [`ENV_ISSUER`] is unset.
pub const ENV_PUBLISHABLE_KEY: &str = "CLERK_PUBLISHABLE_KEY";
/// Comma-separated accepted authorized parties (origins).
pub const ENV_AUTHORIZED_PARTIES: &str = "CLERK_AUTHORIZED_PARTIES";
/// A file to keep the last known good keys in ([`FileSnapshotStore`]).
pub const ENV_JWKS_SNAPSHOT: &str = "CLERK_JWKS_SNAPSHOT";

/// Why the environment does not describe a usable auth policy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvConfigError {
    /// None of the key sources is set.
    #[error(
        "set CLERK_JWT_KEY, or CLERK_SECRET_KEY (with CLERK_API_URL for a non-default API), or CLERK_JWKS_URL"
    )]
    NoKeySource,
    /// `CLERK_JWT_KEY` is not a PEM RSA public key.
    #[error("CLERK_JWT_KEY is not a PEM-encoded RSA public key")]
    InvalidJwtKey,
    /// The Backend API client could not be built.
    #[error("cannot configure the Backend API client")]
    Api(#[source] ApiError),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Http(#[source] crate::http::TransportError),
    /// The bypass variables are invalid (the service must not start half-configured).
    #[error("invalid emergency bypass configuration")]
    Bypass(#[source] BypassConfigError),
    /// The operator variables are invalid.
    #[error("invalid operator configuration")]
    Operators(#[source] OperatorConfigError),
    /// The health token is unusable.
    #[error("invalid health token")]
    HealthToken(#[source] InvalidHealthToken),
    /// The publishable key is not `pk_test_`/`pk_live_` + base64 of a host and `$`.
    #[error(
        "CLERK_PUBLISHABLE_KEY is not a Clerk publishable key (pk_test_… or pk_live_… as shown in the Dashboard's API keys)"
    )]
    InvalidPublishableKey,
    /// `CLERK_JWKS_URL` is not `https://` (or plain `http://` to a loopback address).
    #[error(
        "CLERK_JWKS_URL={url:?} must be an https:// URL (http:// only to a loopback address such as 127.0.0.1): keys fetched in clear text can be swapped on the way"
    )]
    InsecureJwksUrl {
        /// The URL (cut to 100 characters).
        url: String,
    },
    /// `CLERK_INCIDENT_REDIS_URL` is set, but the service was built without a fleet store
    /// (fail closed: the operator expects this instance to follow the fleet's switch).
    #[error(
        "CLERK_INCIDENT_REDIS_URL is set, but this service has no fleet store: build it with \
         clerk-incident-redis and start it with AuthPolicy::from_env_with_fleet (or \
         ServiceEnv::from_env_with_fleet), or unset the variable"
    )]
    NoFleetStore,
    /// The fleet variables are invalid, or the store cannot be opened
    /// ([`AuthPolicy::from_env_with_fleet`]).
    #[error("invalid fleet configuration: {message}")]
    Fleet {
        /// What is wrong.
        message: String,
    },
}

/// The issuers a service built from these variables pins: `CLERK_ISSUER` (comma-separated),
/// else the Frontend API that `CLERK_PUBLISHABLE_KEY` names, else none. What
/// [`AuthPolicy::from_vars`] pins, for tools that must agree with it (`keys snapshot`).
///
/// # Errors
///
/// [`EnvConfigError::InvalidPublishableKey`] when the publishable key names no host.
pub fn pinned_issuers(get: impl Fn(&str) -> Option<String>) -> Result<Vec<String>, EnvConfigError> {
    let get = |name: &str| value(&get, name);
    let issuers = comma_list(get(ENV_ISSUER));
    if !issuers.is_empty() {
        return Ok(issuers);
    }
    match get(ENV_PUBLISHABLE_KEY) {
        Some(key) => Ok(vec![
            issuer_from_publishable_key(&key).ok_or(EnvConfigError::InvalidPublishableKey)?,
        ]),
        None => Ok(Vec::new()),
    }
}

/// The non-empty, trimmed items of a comma-separated value.
fn comma_list(value: Option<String>) -> Vec<String> {
    value
        .map(|value| {
            value
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `cache`, checking its keys in the background from now on when a Tokio runtime runs.
fn kept_fresh(cache: &JwksCache) {
    if !cache.keep_fresh() {
        tracing::warn!(
            "no Tokio runtime: the JWKS is fetched on the first token only and never re-checked; build the policy inside the runtime"
        );
    }
}

impl AuthPolicy {
    /// Builds the policy from the process environment:
    ///
    /// - keys, first found wins: `CLERK_JWT_KEY` (pinned PEM, no network), then
    ///   `CLERK_SECRET_KEY` (+ `CLERK_API_URL`) for the Backend API JWKS, then
    ///   `CLERK_JWKS_URL` for a Frontend API JWKS;
    /// - `CLERK_ISSUER` pins the issuer, or else `CLERK_PUBLISHABLE_KEY` does (its Frontend
    ///   API host, see [`issuer_from_publishable_key`]); `CLERK_AUTHORIZED_PARTIES`
    ///   (comma-separated) pins the authorized parties;
    /// - the bypass variables (`CLERK_EMERGENCY_BYPASS`, `…_UNTIL`) set the start mode, see
    ///   [`BypassSwitch::from_env`];
    /// - `CLERK_INCIDENT_OPERATORS`, `CLERK_INCIDENT_OPERATOR_ORG` and
    ///   `CLERK_INCIDENT_OPERATOR_ROLE` say who the operators are ([`Operators::from_vars`]);
    /// - `CLERK_INCIDENT_HEALTH_TOKEN` unlocks the health details ([`HealthToken`]);
    /// - `CLERK_INCIDENT_REDIS_URL` is refused here ([`EnvConfigError::NoFleetStore`]): a
    ///   service that is to follow the fleet's switch starts with
    ///   [`from_env_with_fleet`](Self::from_env_with_fleet).
    ///
    /// A JWKS key source starts fetching at once and re-checks its keys in the background
    /// ([`JwksCache::keep_fresh`]; call this inside the Tokio runtime), so that the staleness
    /// bound of an outage counts from the last successful check; wait for the first keys with
    /// [`wait_ready`](Self::wait_ready).
    ///
    /// `CLERK_JWKS_SNAPSHOT=<path>` keeps the last known good keys in that file
    /// ([`FileSnapshotStore`], [`JwksCache::with_snapshot`]): a service restarted while Clerk
    /// is down verifies with them.
    ///
    /// What invites mistakes is logged at `warn` once, here: no pinned issuer, no pinned
    /// authorized parties (with a production `sk_live_` key: any origin's token is accepted).
    /// The adapters' revocation routes warn when they are mounted without an operator.
    ///
    /// # Errors
    ///
    /// [`EnvConfigError`] naming what is missing or invalid.
    pub fn from_env() -> Result<Self, EnvConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any variable lookup (for tests and config files).
    ///
    /// # Errors
    ///
    /// [`EnvConfigError`] naming what is missing or invalid.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, EnvConfigError> {
        if value(&get, ENV_REDIS_URL).is_some() {
            return Err(EnvConfigError::NoFleetStore);
        }
        Self::from_vars_unchecked(&get, None)
    }

    /// [`from_vars`](Self::from_vars) without the fleet check, keeping the last known good
    /// keys in `CLERK_JWKS_SNAPSHOT`'s file when it is set, else in `shared_keys` (the fleet's).
    pub(crate) fn from_vars_unchecked(
        get: &impl Fn(&str) -> Option<String>,
        shared_keys: Option<Arc<dyn KeySnapshotStore>>,
    ) -> Result<Self, EnvConfigError> {
        let get = |name: &str| value(get, name);
        let keys = if let Some(pem) = get(ENV_JWT_KEY) {
            KeySource::pem(&pem).map_err(|_| EnvConfigError::InvalidJwtKey)?
        } else if let Some(secret) = get(ENV_SECRET_KEY) {
            // One attempt per check: the cache's background checks retry with their own
            // backoff, and log once per failure.
            let mut builder = ClerkApi::builder(SecretKey::new(secret)).retry(RetryPolicy::none());
            if let Some(url) = get(ENV_API_URL) {
                builder = builder.base_url(url);
            }
            let api = builder.build().map_err(EnvConfigError::Api)?;
            KeySource::Jwks(JwksCache::new(
                BackendApiJwks(api),
                JwksCacheConfig::default(),
            ))
        } else if let Some(url) = get(ENV_JWKS_URL) {
            if !is_secure_jwks_url(&url) {
                return Err(EnvConfigError::InsecureJwksUrl {
                    url: url.chars().take(100).collect(),
                });
            }
            let http: Arc<dyn HttpClient> =
                Arc::new(ReqwestClient::new().map_err(EnvConfigError::Http)?);
            KeySource::Jwks(JwksCache::new(
                FrontendApiJwks::new(http, url),
                JwksCacheConfig::default(),
            ))
        } else {
            return Err(EnvConfigError::NoKeySource);
        };
        let list = |name: &str| comma_list(get(name));
        let issuers = pinned_issuers(|name| get(name))?;
        if let KeySource::Jwks(cache) = &keys {
            let issuer = issuers.first().cloned();
            let cache = match (get(ENV_JWKS_SNAPSHOT), shared_keys) {
                (Some(path), _) => cache
                    .clone()
                    .with_snapshot(FileSnapshotStore::new(path), issuer),
                (None, Some(shared)) => cache.clone().with_snapshot(shared, issuer),
                (None, None) => cache.clone(),
            };
            kept_fresh(&cache);
        }
        let config = VerifierConfig::default()
            .issuers(issuers)
            .authorized_parties(list(ENV_AUTHORIZED_PARTIES));
        let switch = BypassSwitch::from_vars(|name| get(name)).map_err(EnvConfigError::Bypass)?;
        let operators =
            Operators::from_vars(|name| get(name)).map_err(EnvConfigError::Operators)?;
        let mut policy = AuthPolicy::new(Verifier::new(keys, config), switch);
        if let Some(token) = get(ENV_HEALTH_TOKEN) {
            policy = policy
                .with_health_token(HealthToken::new(token).map_err(EnvConfigError::HealthToken)?);
        }
        let policy = policy.with_operators(operators);
        let live_key = get(ENV_SECRET_KEY).is_some_and(|key| key.starts_with("sk_live_"));
        for warning in warnings(&policy, live_key) {
            tracing::warn!("{warning}");
        }
        Ok(policy)
    }
}

/// The Frontend API URL a publishable key names: `pk_test_`/`pk_live_` + base64 of the host
/// followed by `$`. The issuer is `https://<host>` (`http://` for a loopback host, such as the
/// simulated Clerk's); `None` for anything else.
///
/// ```
/// use clerk_incident_core::auth::issuer_from_publishable_key;
///
/// // base64("clerk.example.com$")
/// let key = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
/// assert_eq!(issuer_from_publishable_key(key).as_deref(), Some("https://clerk.example.com"));
/// assert_eq!(issuer_from_publishable_key("pk_live_nonsense!"), None);
/// ```
pub fn issuer_from_publishable_key(key: &str) -> Option<String> {
    const BASE64: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let encoded = key
        .strip_prefix("pk_live_")
        .or_else(|| key.strip_prefix("pk_test_"))?;
    let decoded = BASE64.decode(encoded).ok()?;
    let host = std::str::from_utf8(&decoded).ok()?.strip_suffix('$')?;
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !valid {
        return None;
    }
    let scheme = if is_loopback_host(host) {
        "http"
    } else {
        "https"
    };
    Some(format!("{scheme}://{host}"))
}

/// `https://…`, or `http://` to a loopback address.
/// True for an `https://` URL, or a plain `http://` one to a loopback address (the sim): keys
/// fetched in clear text over a network can be swapped on the way.
pub fn is_secure_jwks_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return false;
    };
    match (uri.scheme_str(), uri.host()) {
        (Some("https"), Some(_)) => true,
        (Some("http"), Some(host)) => is_loopback_host(host),
        _ => false,
    }
}

/// `localhost`, `127.x.x.x` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.split(':').next().unwrap_or(host),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// What a policy from the environment leaves open that an operator should know at start-up.
fn warnings(policy: &AuthPolicy, live_key: bool) -> Vec<String> {
    let config = policy.verifier().config();
    let mut warnings = Vec::new();
    if config.issuers.is_empty() {
        warnings.push(format!(
            "{ENV_ISSUER} (or {ENV_PUBLISHABLE_KEY}) is not set: tokens are accepted whatever their issuer; pin your Frontend API URL"
        ));
    }
    if config.authorized_parties.is_empty() {
        if live_key {
            warnings.push(format!(
                "{ENV_AUTHORIZED_PARTIES} is not set with a production key (sk_live_): a session token minted for any origin is accepted; list your app's origins"
            ));
        } else {
            warnings.push(format!(
                "{ENV_AUTHORIZED_PARTIES} is not set: tokens are accepted whatever their authorized party (azp)"
            ));
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::auth::{AuthMode, KeyStatus};

    fn policy(vars: &[(&str, &str)]) -> Result<AuthPolicy, EnvConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        AuthPolicy::from_vars(|name| vars.get(name).cloned())
    }

    fn source(policy: &AuthPolicy) -> KeyStatus {
        policy.verifier().keys().status()
    }

    #[test]
    fn a_key_source_is_required() {
        assert!(matches!(policy(&[]), Err(EnvConfigError::NoKeySource)));
        assert!(matches!(
            policy(&[(ENV_JWT_KEY, "nope")]),
            Err(EnvConfigError::InvalidJwtKey)
        ));
    }

    #[test]
    fn sources_are_chosen_in_order() {
        let secret = policy(&[
            (ENV_SECRET_KEY, "sk_test_x"),
            (ENV_JWKS_URL, "http://127.0.0.1:1/jwks"),
        ])
        .unwrap();
        assert_eq!(source(&secret).source, "backend_api");
        let jwks = policy(&[(ENV_JWKS_URL, "http://127.0.0.1:1/jwks")]).unwrap();
        assert_eq!(source(&jwks).source, "frontend_api");
    }

    #[test]
    fn the_publishable_key_pins_the_issuer_unless_the_issuer_is_set() {
        // base64("clerk.example.com$")
        let key = "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k";
        let pinned = policy(&[
            (ENV_JWKS_URL, "https://x.example/jwks"),
            (ENV_PUBLISHABLE_KEY, key),
        ])
        .unwrap();
        assert_eq!(
            pinned.verifier().config().issuers,
            vec!["https://clerk.example.com"]
        );
        let explicit = policy(&[
            (ENV_JWKS_URL, "https://x.example/jwks"),
            (ENV_PUBLISHABLE_KEY, key),
            (ENV_ISSUER, "https://clerk.other.example"),
        ])
        .unwrap();
        assert_eq!(
            explicit.verifier().config().issuers,
            vec!["https://clerk.other.example"]
        );
        for bad in [
            "pk_test_",
            "sk_test_Y2xlcmsuZXhhbXBsZS5jb20k",
            "pk_live_Y2xlcmsuZXhhbXBsZS5jb20",
            "pk_live_%%%",
        ] {
            let err = policy(&[
                (ENV_JWKS_URL, "https://x.example/jwks"),
                (ENV_PUBLISHABLE_KEY, bad),
            ]);
            assert!(
                matches!(err, Err(EnvConfigError::InvalidPublishableKey)),
                "{bad}"
            );
        }
        // base64("127.0.0.1:3917$"): the sim's Frontend API is plain HTTP on loopback.
        assert_eq!(
            issuer_from_publishable_key("pk_test_MTI3LjAuMC4xOjM5MTck").as_deref(),
            Some("http://127.0.0.1:3917")
        );
    }

    #[test]
    fn the_jwks_url_must_be_https_unless_loopback() {
        for url in [
            "http://clerk.example.com/.well-known/jwks.json",
            "ftp://x",
            "notaurl",
            "http://10.0.0.1/jwks",
        ] {
            assert!(
                matches!(
                    policy(&[(ENV_JWKS_URL, url)]),
                    Err(EnvConfigError::InsecureJwksUrl { .. })
                ),
                "{url}"
            );
        }
        for url in [
            "https://clerk.example.com/.well-known/jwks.json",
            "http://127.0.0.1:1/jwks",
            "http://localhost:3000/jwks",
            "http://[::1]:80/jwks",
        ] {
            assert!(policy(&[(ENV_JWKS_URL, url)]).is_ok(), "{url}");
        }
    }

    #[test]
    fn operators_and_health_token_are_read_and_checked() {
        let configured = policy(&[
            (ENV_JWKS_URL, "http://127.0.0.1:1/jwks"),
            ("CLERK_INCIDENT_OPERATORS", "user_a"),
            (ENV_HEALTH_TOKEN, "0123456789abcdef0123"),
        ])
        .unwrap();
        assert!(configured.operators().is_configured());
        assert!(configured.health_token().is_some());
        assert!(matches!(
            policy(&[
                (ENV_JWKS_URL, "http://127.0.0.1:1/jwks"),
                ("CLERK_INCIDENT_OPERATOR_ORG", "acme")
            ]),
            Err(EnvConfigError::Operators(_))
        ));
        assert!(matches!(
            policy(&[
                (ENV_JWKS_URL, "http://127.0.0.1:1/jwks"),
                (ENV_HEALTH_TOKEN, "short")
            ]),
            Err(EnvConfigError::HealthToken(_))
        ));
    }

    #[test]
    fn risky_configuration_is_warned_about_by_name() {
        let open = policy(&[(ENV_SECRET_KEY, "sk_live_x")]).unwrap();
        let text = warnings(&open, true).join("\n");
        assert!(text.contains("CLERK_ISSUER"), "{text}");
        assert!(
            text.contains("CLERK_AUTHORIZED_PARTIES is not set with a production key"),
            "{text}"
        );
        assert!(text.contains("any origin"), "{text}");
        let pinned = policy(&[
            (ENV_JWKS_URL, "http://127.0.0.1:1/jwks"),
            (ENV_ISSUER, "https://clerk.example.com"),
            (ENV_AUTHORIZED_PARTIES, "https://app.example.com"),
        ])
        .unwrap();
        assert!(warnings(&pinned, true).is_empty());
    }

    #[test]
    fn lists_and_bypass_are_read() {
        let until = humantime::format_rfc3339_seconds(
            std::time::SystemTime::now() + std::time::Duration::from_secs(45 * 60),
        )
        .to_string();
        let policy = policy(&[
            (ENV_JWKS_URL, "http://127.0.0.1:1/jwks"),
            (ENV_ISSUER, "https://clerk.example.com"),
            (
                ENV_AUTHORIZED_PARTIES,
                "https://a.example, https://b.example,",
            ),
            ("CLERK_EMERGENCY_BYPASS", "grace"),
            ("CLERK_EMERGENCY_BYPASS_UNTIL", &until),
        ])
        .unwrap();
        let config = policy.verifier().config();
        assert_eq!(config.issuers, vec!["https://clerk.example.com"]);
        assert_eq!(
            config.authorized_parties,
            vec!["https://a.example", "https://b.example"]
        );
        assert!(matches!(policy.switch().mode(), AuthMode::Grace { .. }));
        let bad = AuthPolicy::from_vars(|name| match name {
            ENV_JWKS_URL => Some("http://127.0.0.1:1/jwks".to_owned()),
            "CLERK_EMERGENCY_BYPASS" => Some("maybe".to_owned()),
            _ => None,
        });
        assert!(matches!(bad, Err(EnvConfigError::Bypass(_))));
    }
}
