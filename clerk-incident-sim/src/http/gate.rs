//! The middleware in front of every counted endpoint: counts the request, then applies the
//! faults in order (latency, outage, rate limit, secret key, error rate).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::faults::Outage;
use crate::rate_limit::retry_after_secs;
use crate::state::Shared;

/// Which faults apply to an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Policy {
    /// `/v1/*`: every fault, and the secret key check.
    BackendApi,
    /// `POST /v1/m2m_tokens`: like [`Policy::BackendApi`], with a machine's secret key
    /// instead of the instance's.
    MachineKey,
    /// `/.well-known/jwks.json`: latency, outage and error rate; no key, no rate limit.
    FrontendApi,
    /// The status page: counted, never faulted.
    CountOnly,
}

/// State of one endpoint's gate.
#[derive(Clone)]
pub(crate) struct Gate {
    pub(crate) shared: Arc<Shared>,
    pub(crate) endpoint: &'static str,
    pub(crate) policy: Policy,
}

/// Counts the request and applies the faults of the gate's policy.
pub(crate) async fn gate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let faults = {
        let mut inner = gate.shared.lock();
        inner.counters.record(gate.endpoint);
        inner.faults.clone()
    };
    if gate.policy == Policy::CountOnly {
        return next.run(request).await;
    }

    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }

    if let Some(outage) = faults.outage {
        gate.shared.lock().counters.unavailable += 1;
        if outage == Outage::Hang {
            tracing::debug!(endpoint = gate.endpoint, "outage fault: hanging");
            let mut shutdown = gate.shared.shutdown.clone();
            // Returns once the sim shuts down (or its handle is gone).
            let _stopped = shutdown.wait_for(|stopped| *stopped).await;
        }
        tracing::debug!(endpoint = gate.endpoint, "outage fault: 503");
        return ApiError::unavailable().into_response();
    }

    if matches!(gate.policy, Policy::BackendApi | Policy::MachineKey) {
        if let Some(limit) = faults.rate_limit {
            let mut inner = gate.shared.lock();
            if let Err(wait) = inner.rate_window.try_acquire(limit, Instant::now()) {
                inner.counters.rate_limited += 1;
                drop(inner);
                tracing::debug!(endpoint = gate.endpoint, "rate limit fault: 429");
                return ApiError::rate_limited(retry_after_secs(wait)).into_response();
            }
        }
        let mut inner = gate.shared.lock();
        let authorized = presented_key(request.headers()).is_some_and(|key| {
            if gate.policy == Policy::MachineKey {
                inner.objects.machine_for_secret(key).is_some()
            } else {
                inner.secret_keys.contains(key)
            }
        });
        if !authorized {
            inner.counters.unauthorized += 1;
            drop(inner);
            tracing::debug!(endpoint = gate.endpoint, "secret key rejected: 401");
            return ApiError::unauthorized().into_response();
        }
    }

    if gate.policy != Policy::FrontendApi
        && faults
            .failing_endpoints
            .iter()
            .any(|failing| failing == gate.endpoint)
    {
        gate.shared.lock().counters.injected_errors += 1;
        tracing::debug!(endpoint = gate.endpoint, "failing endpoint fault: 500");
        return ApiError::internal().into_response();
    }

    if faults.error_rate > 0.0 {
        let mut inner = gate.shared.lock();
        if inner.fault_rng.f64() < faults.error_rate {
            inner.counters.injected_errors += 1;
            drop(inner);
            tracing::debug!(endpoint = gate.endpoint, "error rate fault: 500");
            return ApiError::internal().into_response();
        }
    }

    next.run(request).await
}

/// The token of `Authorization: Bearer <token>`, if well formed.
pub(super) fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
        .filter(|credentials| !credentials.is_empty())
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::presented_key;

    #[test]
    fn reads_bearer_credentials_only() {
        let mut headers = HeaderMap::new();
        assert_eq!(presented_key(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer sk_test_x"),
        );
        assert_eq!(presented_key(&headers), Some("sk_test_x"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic sk_test_x"),
        );
        assert_eq!(presented_key(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(presented_key(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_bytes(b"Bearer \xff").unwrap(),
        );
        assert_eq!(presented_key(&headers), None);
    }
}
