//! [`AuthPolicy::from_env`]: the whole auth policy from the environment, the way the example
//! services and most deployments configure it.

use std::sync::Arc;

use super::jwks_cache::{BackendApiJwks, FrontendApiJwks, JwksCache, JwksCacheConfig};
use super::mode::{BypassConfigError, BypassSwitch};
use super::policy::AuthPolicy;
use super::verifier::{KeySource, Verifier, VerifierConfig};
use crate::api::{ApiError, ClerkApi, SecretKey};
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
/// Comma-separated accepted authorized parties (origins).
pub const ENV_AUTHORIZED_PARTIES: &str = "CLERK_AUTHORIZED_PARTIES";

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
}

impl AuthPolicy {
    /// Builds the policy from the process environment:
    ///
    /// - keys, first found wins: `CLERK_JWT_KEY` (pinned PEM, no network), then
    ///   `CLERK_SECRET_KEY` (+ `CLERK_API_URL`) for the Backend API JWKS, then
    ///   `CLERK_JWKS_URL` for a Frontend API JWKS;
    /// - `CLERK_ISSUER` pins the issuer; `CLERK_AUTHORIZED_PARTIES` (comma-separated) the
    ///   authorized parties;
    /// - the bypass variables (`CLERK_EMERGENCY_BYPASS`, `…_TTL`, `…_UNTIL`) set the start
    ///   mode, see [`BypassSwitch::from_env`].
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
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let keys = if let Some(pem) = get(ENV_JWT_KEY) {
            KeySource::pem(&pem).map_err(|_| EnvConfigError::InvalidJwtKey)?
        } else if let Some(secret) = get(ENV_SECRET_KEY) {
            let mut builder = ClerkApi::builder(SecretKey::new(secret));
            if let Some(url) = get(ENV_API_URL) {
                builder = builder.base_url(url);
            }
            let api = builder.build().map_err(EnvConfigError::Api)?;
            KeySource::Jwks(JwksCache::new(
                BackendApiJwks(api),
                JwksCacheConfig::default(),
            ))
        } else if let Some(url) = get(ENV_JWKS_URL) {
            let http: Arc<dyn HttpClient> =
                Arc::new(ReqwestClient::new().map_err(EnvConfigError::Http)?);
            KeySource::Jwks(JwksCache::new(
                FrontendApiJwks::new(http, url),
                JwksCacheConfig::default(),
            ))
        } else {
            return Err(EnvConfigError::NoKeySource);
        };
        let list = |name: &str| -> Vec<String> {
            get(name)
                .map(|value| {
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let config = VerifierConfig::default()
            .issuers(list(ENV_ISSUER))
            .authorized_parties(list(ENV_AUTHORIZED_PARTIES));
        let switch = BypassSwitch::from_vars(|name| get(name)).map_err(EnvConfigError::Bypass)?;
        Ok(AuthPolicy::new(Verifier::new(keys, config), switch))
    }
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
    fn lists_and_bypass_are_read() {
        let policy = policy(&[
            (ENV_JWKS_URL, "http://127.0.0.1:1/jwks"),
            (ENV_ISSUER, "https://clerk.example.com"),
            (
                ENV_AUTHORIZED_PARTIES,
                "https://a.example, https://b.example,",
            ),
            ("CLERK_EMERGENCY_BYPASS", "grace"),
            ("CLERK_EMERGENCY_BYPASS_TTL", "45m"),
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
