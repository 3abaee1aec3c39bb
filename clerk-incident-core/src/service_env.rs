//! [`ServiceEnv`]: everything a service guarded by this workspace reads from its environment
//! at start-up, read once, so that every service (both example services, yours) starts the
//! same way and refuses to start on a malformed value.
//!
//! | Variable | What it sets |
//! | --- | --- |
//! | the [`AuthPolicy::from_env`] variables | keys, issuer, authorized parties, bypass, operators, health token |
//! | `CLERK_INCIDENT_REDIS_URL`, `CLERK_INCIDENT_FLEET` | the fleet, with [`ServiceEnv::from_env_with_fleet`] |
//! | `CLERK_SECRET_KEY` (+ `CLERK_API_URL`) | the Backend API client of the revocation jobs ([`RevocationJobs::from_env`]) |
//! | `CLERK_WEBHOOK_SIGNING_SECRET` | the webhook endpoint's state ([`UserSync::from_env`]) |
//! | `BIND` | the listening address (default `127.0.0.1:3000`) |
//!
//! The server limits are [`ServiceLimits::default`]. What is mounted and what is not is
//! logged at `info`, once.

use std::net::SocketAddr;

use crate::api::ApiError;
use crate::auth::{AuthPolicy, EnvConfigError};
use crate::fleet::FleetConnector;
use crate::revocation::RevocationJobs;
use crate::service_limits::ServiceLimits;
use crate::webhooks::{ENV_WEBHOOK_SIGNING_SECRET, UserSync, WebhookError};

/// The variable holding the listening address.
pub const ENV_BIND: &str = "BIND";

/// How long [`ServiceEnv::warm_up`] waits for the first keys: the first fetch's timeout (5 s)
/// and the snapshot read that follows a failed one.
pub const KEY_WARM_UP: std::time::Duration = std::time::Duration::from_secs(7);

/// The listening address when [`ENV_BIND`] is not set.
pub const DEFAULT_BIND: &str = "127.0.0.1:3000";

/// What a service reads from its environment at start-up.
#[derive(Debug)]
#[non_exhaustive]
pub struct ServiceEnv {
    /// The auth policy.
    pub policy: AuthPolicy,
    /// The revocation jobs, with a secret key; `None` without one (the routes are then not
    /// mounted).
    pub revocation: Option<RevocationJobs>,
    /// The webhook state, with a signing secret; `None` without one.
    pub webhooks: Option<UserSync>,
    /// The server's timeouts and limits.
    pub limits: ServiceLimits,
    /// Where to listen.
    pub bind: SocketAddr,
}

/// Why the environment does not describe a service that may start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceEnvError {
    /// The auth variables are invalid.
    #[error("invalid auth configuration")]
    Auth(#[source] EnvConfigError),
    /// `CLERK_WEBHOOK_SIGNING_SECRET` is not a `whsec_…` secret.
    #[error("invalid {ENV_WEBHOOK_SIGNING_SECRET}")]
    Webhooks(#[source] WebhookError),
    /// The Backend API client of the revocation jobs cannot be built.
    #[error("cannot build the Backend API client of the revocation routes")]
    Revocation(#[source] ApiError),
    /// `BIND` is not a socket address.
    #[error("{ENV_BIND}={value:?} is not a socket address such as {DEFAULT_BIND}")]
    Bind {
        /// The value (cut to 100 characters).
        value: String,
    },
}

impl ServiceEnv {
    /// Waits up to [`KEY_WARM_UP`] for the keys the policy started fetching, and says how it
    /// went: the service then starts either way. Without keys (Clerk down at start-up and no
    /// usable `CLERK_JWKS_SNAPSHOT`) its health answers 503 with the reason and protected
    /// routes answer 503 `keys_unavailable` until a background check succeeds. Returns true
    /// when the keys are there.
    pub async fn warm_up(&self) -> bool {
        let ready = self.policy.wait_ready(KEY_WARM_UP).await;
        let health = self.policy.health();
        match (ready, health.problem) {
            (true, None) => tracing::info!(keys = health.keys.key_count, "verification keys ready"),
            (true, Some(problem)) => tracing::warn!(%problem, "starting on these keys"),
            (false, problem) => tracing::warn!(
                problem = problem.as_deref().unwrap_or("no verification key"),
                "starting without verification keys: protected routes answer 503 until Clerk answers (set CLERK_JWKS_SNAPSHOT or CLERK_JWT_KEY before an outage)"
            ),
        }
        ready
    }

    /// Reads the process environment.
    ///
    /// # Errors
    ///
    /// [`ServiceEnvError`] naming the variable at fault; the service must not start.
    pub fn from_env() -> Result<Self, ServiceEnvError> {
        Self::with_policy(AuthPolicy::from_env())
    }

    /// [`from_env`](Self::from_env), joining the fleet named by `CLERK_INCIDENT_REDIS_URL`
    /// and `CLERK_INCIDENT_FLEET` through `connector`
    /// ([`AuthPolicy::from_env_with_fleet`]). Call it inside the Tokio runtime.
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    pub fn from_env_with_fleet(connector: &dyn FleetConnector) -> Result<Self, ServiceEnvError> {
        Self::with_policy(AuthPolicy::from_env_with_fleet(connector))
    }

    fn with_policy(policy: Result<AuthPolicy, EnvConfigError>) -> Result<Self, ServiceEnvError> {
        let policy = policy.map_err(ServiceEnvError::Auth)?;
        let webhooks = UserSync::from_env().map_err(ServiceEnvError::Webhooks)?;
        let revocation =
            RevocationJobs::from_env_for(&policy).map_err(ServiceEnvError::Revocation)?;
        let bind = match std::env::var(ENV_BIND) {
            Ok(value) if !value.trim().is_empty() => {
                value.trim().parse().map_err(|_| ServiceEnvError::Bind {
                    value: value.chars().take(100).collect(),
                })?
            }
            _ => DEFAULT_BIND.parse().map_err(|_| ServiceEnvError::Bind {
                value: DEFAULT_BIND.to_owned(),
            })?,
        };
        match &webhooks {
            Some(_) => tracing::info!("webhook endpoint mounted"),
            None => tracing::info!(
                "{ENV_WEBHOOK_SIGNING_SECRET} is not set: the webhook endpoint is not mounted"
            ),
        }
        if revocation.is_none() {
            tracing::info!(
                "CLERK_SECRET_KEY is not set: the session revocation endpoints are not mounted"
            );
        }
        Ok(Self {
            policy,
            revocation,
            webhooks,
            limits: ServiceLimits::default(),
            bind,
        })
    }
}
