//! [`AuthPolicy::from_env_with_fleet`]: a policy from the environment that joins the fleet
//! named by `CLERK_INCIDENT_REDIS_URL` and `CLERK_INCIDENT_FLEET`.

use std::sync::Arc;

use super::FleetConfig;
use super::name::{ENV_FLEET, FleetConnector, fleet_name};
use super::store::FleetError;
use crate::auth::{
    AuthPolicy, ENV_REDIS_URL, EnvConfigError, KeySnapshotStore, env_var_value as value,
    pinned_issuers,
};

/// The variable setting how long an instance's lease on a fleet revocation job lasts, in
/// whole seconds (1 to 300; default 15): a crashed holder's job is resumed elsewhere this long
/// after its last renewal.
pub const ENV_JOB_LEASE_SECS: &str = "CLERK_INCIDENT_JOB_LEASE_SECS";

/// The fleet configuration the environment asks for.
fn config_from(get: &impl Fn(&str) -> Option<String>) -> Result<FleetConfig, EnvConfigError> {
    let mut config = FleetConfig::default();
    if let Some(secs) = value(get, ENV_JOB_LEASE_SECS) {
        let secs = secs
            .parse::<u64>()
            .ok()
            .filter(|secs| (1..=300).contains(secs))
            .ok_or_else(|| EnvConfigError::Fleet {
                message: format!("{ENV_JOB_LEASE_SECS} must be a whole number of seconds from 1 to 300, not {secs:?}"),
            })?;
        config.job_lease_ttl = std::time::Duration::from_secs(secs);
    }
    Ok(config)
}

fn fleet_error(error: &FleetError) -> EnvConfigError {
    EnvConfigError::Fleet {
        message: error.to_string(),
    }
}

impl AuthPolicy {
    /// [`from_env`](Self::from_env), joining the fleet when `CLERK_INCIDENT_REDIS_URL` is set:
    /// `connector` (such as `clerk_incident_redis::RedisConnector`) opens the store, and
    /// `CLERK_INCIDENT_FLEET` names the fleet (by default derived from the pinned issuer, see
    /// [`fleet_name`](crate::fleet::fleet_name)). Call it inside the Tokio runtime.
    ///
    /// A bypass set from the environment holds until the fleet store first answers; from then
    /// on the fleet's mode is the one in force (an empty store: `Enforce`).
    ///
    /// The last known good keys are the fleet's (unless `CLERK_JWKS_SNAPSHOT` names a file):
    /// every instance that fetches keys saves them in the store, and one that starts while
    /// Clerk is down verifies with them, once they pass the same checks as a file's (the
    /// pinned issuer, the staleness bound, RSA keys of a sane size).
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env), and [`EnvConfigError::Fleet`] when the fleet cannot be
    /// named or its URL cannot be used.
    pub fn from_env_with_fleet(connector: &dyn FleetConnector) -> Result<Self, EnvConfigError> {
        Self::from_vars_with_fleet(|name| std::env::var(name).ok(), Some(connector))
    }

    /// [`from_env_with_fleet`](Self::from_env_with_fleet) over any variable lookup; without a
    /// connector, `CLERK_INCIDENT_REDIS_URL` is refused ([`EnvConfigError::NoFleetStore`]).
    ///
    /// # Errors
    ///
    /// As [`from_env_with_fleet`](Self::from_env_with_fleet).
    pub fn from_vars_with_fleet(
        get: impl Fn(&str) -> Option<String>,
        connector: Option<&dyn FleetConnector>,
    ) -> Result<Self, EnvConfigError> {
        let Some(url) = value(&get, ENV_REDIS_URL) else {
            return Self::from_vars(get);
        };
        let Some(connector) = connector else {
            return Err(EnvConfigError::NoFleetStore);
        };
        let config = config_from(&get)?;
        let issuers = pinned_issuers(&get)?;
        let name = fleet_name(
            value(&get, ENV_FLEET).as_deref(),
            issuers.first().map(String::as_str),
        )
        .map_err(|error| fleet_error(&error))?;
        let store = connector
            .open(&url, &name)
            .map_err(|error| fleet_error(&error))?;
        // The fleet's keys, unless the service keeps its own file.
        let shared_keys = Arc::clone(&store) as Arc<dyn KeySnapshotStore>;
        let policy = Self::from_vars_unchecked(&get, Some(shared_keys))?;
        if policy.switch().mode().is_bypass() {
            tracing::warn!(
                "the bypass from the environment holds until the fleet store answers; from then on the fleet's mode is in force (switch it with clerk-incident bypass)"
            );
        }
        policy
            .join_fleet(store, config)
            .map_err(|error| fleet_error(&error))
    }
}
