//! Which fleet a service or the CLI belongs to, and the variables that say it.

use std::sync::Arc;

use super::store::{FleetError, FleetStore};

/// The variable naming the fleet (the prefix of its keys in the store); by default it is
/// derived from the pinned issuer, so that staging cannot switch production.
pub const ENV_FLEET: &str = "CLERK_INCIDENT_FLEET";

/// The longest fleet name.
const MAX_NAME_LEN: usize = 100;

/// The fleet's name: `explicit` ([`ENV_FLEET`]) when given, else `clerk-incident:<host of the
/// issuer>`.
///
/// ```
/// use clerk_incident_core::fleet::fleet_name;
///
/// assert_eq!(
///     fleet_name(None, Some("https://clerk.example.com")).unwrap(),
///     "clerk-incident:clerk.example.com"
/// );
/// assert_eq!(fleet_name(Some("shop-staging"), None).unwrap(), "shop-staging");
/// assert!(fleet_name(None, None).is_err());
/// assert!(fleet_name(Some("two words"), None).is_err());
/// ```
///
/// # Errors
///
/// [`FleetError::Config`] when neither is given (which Clerk instance the fleet serves must be
/// known, so that one fleet cannot switch another), or the name holds other characters than
/// letters, digits and `.:_-`.
pub fn fleet_name(explicit: Option<&str>, issuer: Option<&str>) -> Result<String, FleetError> {
    let name = match (explicit.map(str::trim), issuer) {
        (Some(name), _) if !name.is_empty() => name.to_owned(),
        (_, Some(issuer)) => {
            let host = issuer
                .split_once("://")
                .map_or(issuer, |(_, rest)| rest)
                .trim_end_matches('/');
            format!("clerk-incident:{host}")
        }
        _ => {
            return Err(FleetError::Config(format!(
                "which fleet? set {ENV_FLEET} (for example shop-production), or pin the Clerk \
                 instance with CLERK_ISSUER or CLERK_PUBLISHABLE_KEY to derive it"
            )));
        }
    };
    let valid = name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".:_-".contains(&b));
    if valid {
        Ok(name)
    } else {
        Err(FleetError::Config(format!(
            "{ENV_FLEET}={:?} is not a fleet name: letters, digits and .:_- only, at most 100",
            name.chars().take(MAX_NAME_LEN).collect::<String>()
        )))
    }
}

/// Opens a fleet store from a URL: what a store crate gives
/// `AuthPolicy::from_env_with_fleet`, so that core reads the variables without depending on
/// any store.
pub trait FleetConnector {
    /// Opens the store at `url` for the fleet `name`. Connecting may be lazy: the first call
    /// reaches the store, and until it answers the instance stays in the mode it has.
    ///
    /// # Errors
    ///
    /// [`FleetError::Config`] for a URL this connector cannot use.
    fn open(&self, url: &str, name: &str) -> Result<Arc<dyn FleetStore>, FleetError>;
}
