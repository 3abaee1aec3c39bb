//! Fault injection settings.

use serde::{Deserialize, Serialize};

/// The faults the sim injects, applied in this order to the Backend API (`/v1/*`) and to
/// the Frontend API JWKS (`/.well-known/jwks.json`):
///
/// 1. [`latency_ms`](Self::latency_ms): every answer is delayed;
/// 2. [`outage`](Self::outage): 503 or no answer at all;
/// 3. [`rate_limit`](Self::rate_limit) (Backend API only): 429 with `Retry-After`;
/// 4. secret key check (Backend API only): 401;
/// 5. [`failing_endpoints`](Self::failing_endpoints) (Backend API only): 500 on those
///    endpoints;
/// 6. [`error_rate`](Self::error_rate): 500 with Clerk's error body.
///
/// The status page and the `/_sim/` control API are never faulted. The default injects
/// nothing. Serialized as in `GET /_sim/faults`:
/// `{"outage":null,"latency_ms":0,"error_rate":0.0,"rate_limit":null,"failing_endpoints":[]}`;
/// every field may be left out when deserializing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// A full outage, if any.
    pub outage: Option<Outage>,
    /// Delay added before every faulted endpoint answers, in milliseconds.
    pub latency_ms: u64,
    /// Share of requests (0.0..=1.0) answered with a 500 and Clerk's error body. Draws come
    /// from an RNG seeded with the sim's seed, so a run is reproducible.
    pub error_rate: f64,
    /// A sliding-window rate limit over all Backend API requests, if any.
    pub rate_limit: Option<RateLimitFault>,
    /// Endpoint keys ([`endpoint`](crate::endpoint), such as `GET /v1/saml_connections`)
    /// that answer every request with a 500: one list broken while the rest works.
    pub failing_endpoints: Vec<String>,
}

impl Faults {
    /// Checks the values a client sent: `error_rate` must be a number in `0.0..=1.0`.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if (0.0..=1.0).contains(&self.error_rate) {
            Ok(())
        } else {
            Err(format!(
                "error_rate must be between 0.0 and 1.0, got {}",
                self.error_rate
            ))
        }
    }

    /// The faults with `error_rate` clamped into `0.0..=1.0` (NaN becomes 0.0).
    pub(crate) fn normalized(mut self) -> Self {
        self.error_rate = if self.error_rate.is_nan() {
            0.0
        } else {
            self.error_rate.clamp(0.0, 1.0)
        };
        self
    }
}

/// How the sim is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outage {
    /// Every faulted request gets `503 Service Unavailable` with Clerk's error body.
    Unavailable,
    /// Faulted requests never get an answer until the sim shuts down; clients must time out.
    Hang,
}

/// A sliding-window rate limit: once `requests` requests were accepted within the last
/// `window_ms`, further Backend API requests get `429 Too Many Requests` (code
/// `too_many_requests`) with `Retry-After` set to the whole seconds (rounded up, at least 1)
/// until the oldest of them leaves the window.
///
/// The window starts empty whenever the limit is set or changed. `requests: 0` rejects
/// everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitFault {
    /// Requests accepted per window.
    pub requests: u32,
    /// Window length in milliseconds.
    pub window_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::{Faults, Outage};

    #[test]
    fn error_rate_is_validated_and_clamped() {
        let mut faults = Faults {
            error_rate: 1.5,
            ..Faults::default()
        };
        assert!(faults.validate().is_err());
        assert!((faults.clone().normalized().error_rate - 1.0).abs() < f64::EPSILON);
        faults.error_rate = f64::NAN;
        assert!(faults.validate().is_err());
        assert!(faults.normalized().error_rate.abs() < f64::EPSILON);
    }

    #[test]
    fn partial_json_fills_defaults() {
        let faults: Faults = serde_json::from_str(r#"{"outage":"hang"}"#).unwrap();
        assert_eq!(faults.outage, Some(Outage::Hang));
        assert_eq!(faults.latency_ms, 0);
        assert!(serde_json::from_str::<Faults>(r#"{"outage":"down"}"#).is_err());
        assert!(serde_json::from_str::<Faults>(r#"{"latency":5}"#).is_err());
    }
}
