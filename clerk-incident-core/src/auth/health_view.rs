//! [`AuthPolicy::health_for`]: what the public health endpoint shows to whom.
//!
//! `GET /api/clerk-health` must stay public, so that load balancers and readiness probes can
//! call it without a token. Strangers get the verdict, the mode's name and whether the service
//! is ready, nothing more. The details (the operator's reason for a bypass, key ids, counters,
//! the last key error) go to an [operator](super::Operators)'s token, or to a caller that
//! presents the [`HealthToken`](super::HealthToken) as a bearer token.

use serde::Serialize;
use serde_json::{Value, json};

use super::credentials::{Credentials, TokenPresence, extract_token};
use super::mode::AuthMode;
use super::policy::AuthPolicy;
use super::verifier::Expiry;

/// What the health endpoint answers.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct HealthView {
    /// The HTTP status: 200, or 503 while the service cannot verify tokens (no key yet, or
    /// keys too stale) and is not in the `Open` bypass: a readiness answer.
    pub status: u16,
    /// True when the body holds the details, false for the public summary.
    pub detailed: bool,
    /// The JSON body.
    pub body: Value,
}

impl HealthView {
    /// Adds `key: value` to the details, such as a service's own state (`user_table`); the
    /// public summary stays as it is.
    #[must_use]
    pub fn with_detail(mut self, key: &str, value: Value) -> Self {
        if let (true, Some(fields)) = (self.detailed, self.body.as_object_mut()) {
            fields.insert(key.to_owned(), value);
        }
        self
    }
}

impl AuthPolicy {
    /// The health endpoint's answer for a caller with `credentials`.
    ///
    /// | Caller | Body |
    /// | --- | --- |
    /// | anyone | `{"status":"ok","mode":"enforce","ready":true}`, plus `problem` when not ok |
    /// | the health token as `Authorization: Bearer …` | [`AuthPolicy::health`] in full, with `ready` |
    /// | an operator's fully valid session token | the same |
    ///
    /// `ready` is false while no verification key is usable (before the first fetch, or keys
    /// too stale); the status is then 503 (unless the `Open` bypass serves without keys), so
    /// the endpoint works as a readiness probe. Do not use it as a liveness probe: a service
    /// without keys during a Clerk outage must not be restarted in a loop.
    pub async fn health_for(&self, credentials: &Credentials<'_>) -> HealthView {
        let health = self.health();
        // A readiness answer: 503 while the service cannot serve protected routes, so that a
        // load balancer sends traffic elsewhere. The Open bypass serves without keys.
        let serves = health.ready || health.mode.mode == AuthMode::Open;
        let status = if serves { 200 } else { 503 };
        if self.may_see_details(credentials).await {
            return HealthView {
                status,
                detailed: true,
                body: serde_json::to_value(&health).unwrap_or(Value::Null),
            };
        }
        let mut body = json!({
            "status": health.status,
            "mode": health.mode.mode.name(),
            "ready": health.ready,
        });
        if let (Some(problem), Value::Object(fields)) = (health.problem, &mut body) {
            fields.insert("problem".to_owned(), Value::String(problem));
        }
        HealthView {
            status,
            detailed: false,
            body,
        }
    }

    /// True for the health token or an operator's fully valid token.
    async fn may_see_details(&self, credentials: &Credentials<'_>) -> bool {
        let TokenPresence::Present(token) = extract_token(credentials, false) else {
            return false;
        };
        if self
            .health_token()
            .is_some_and(|expected| expected.matches(token))
        {
            return true;
        }
        if !self.operators().is_configured() {
            return false;
        }
        match self
            .verifier()
            .verify_uncounted(token, Expiry::Strict)
            .await
        {
            Ok(verified) if verified.expired_for.is_none() => {
                self.operators().qualify(&verified.session).is_ok()
            }
            _ => false,
        }
    }
}
