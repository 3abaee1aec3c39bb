//! Request and fault counters.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What the sim has seen since it started or since the counters were last reset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Requests per endpoint key (see [`endpoint`](crate::endpoint)), counting every request
    /// that reached the endpoint, whatever the answer (faults included).
    pub requests: BTreeMap<String, u64>,
    /// Requests answered 429 by the rate limit fault.
    pub rate_limited: u64,
    /// Requests answered 500 by the error rate fault.
    pub injected_errors: u64,
    /// Requests met by an outage: answered 503, or left hanging.
    pub unavailable: u64,
    /// Backend API requests answered 401 (missing, unknown or revoked secret key).
    pub unauthorized: u64,
    /// Sessions revoked through `POST /v1/sessions/{session_id}/revoke`.
    pub revocations: u64,
    /// Webhook events the endpoint answered with a 2xx status.
    #[serde(default)]
    pub webhooks_delivered: u64,
    /// Webhook events dropped on purpose ([`Sim::drop_webhooks`](crate::Sim::drop_webhooks)):
    /// counted, never sent.
    #[serde(default)]
    pub webhooks_dropped: u64,
    /// Webhook events the endpoint refused (non-2xx) or that failed in transit.
    #[serde(default)]
    pub webhooks_failed: u64,
}

impl Counters {
    /// Requests that reached `endpoint` (an [`endpoint`](crate::endpoint) key such as
    /// [`endpoint::LIST_USERS`](crate::endpoint::LIST_USERS)); 0 if none did.
    pub fn get(&self, endpoint: &str) -> u64 {
        self.requests.get(endpoint).copied().unwrap_or(0)
    }

    /// Requests that reached any counted endpoint.
    pub fn total(&self) -> u64 {
        self.requests
            .values()
            .fold(0_u64, |sum, count| sum.saturating_add(*count))
    }

    /// Counts one request to `endpoint`.
    pub(crate) fn record(&mut self, endpoint: &str) {
        let count = self.requests.entry(endpoint.to_owned()).or_default();
        *count = count.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::Counters;
    use crate::endpoint;

    #[test]
    fn counts_per_endpoint_and_in_total() {
        let mut counters = Counters::default();
        counters.record(endpoint::LIST_USERS);
        counters.record(endpoint::LIST_USERS);
        counters.record(endpoint::JWKS);
        assert_eq!(counters.get(endpoint::LIST_USERS), 2);
        assert_eq!(counters.get(endpoint::GET_USER), 0);
        assert_eq!(counters.total(), 3);
    }
}
