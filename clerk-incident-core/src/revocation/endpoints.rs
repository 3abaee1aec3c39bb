//! The admin endpoints of [`RevocationJobs`]: `POST {REVOKE_PATH}` starts a job,
//! `GET {REVOKE_PATH}/{job}` reads it, `DELETE {REVOKE_PATH}/{job}` cancels it.
//!
//! Everything the endpoints decide lives here, framework-free: parsing the body
//! ([`RevokeRequest`]), the checks on the caller, and the status code and JSON of every answer
//! ([`EndpointResponse`]). The `clerk-incident-axum` and `clerk-incident-actix` adapters only
//! translate an [`EndpointResponse`] into their response type, so that both behave
//! identically.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::job_status::CancelOutcome;
use super::jobs::{JobError, RevocationJobs};
use super::plan::{RevocationPlan, RevocationTarget};
use crate::auth::{AuthContext, OperatorRefusal, Rejection};

/// Where the admin endpoints are served: `POST` starts a job, `GET {REVOKE_PATH}/{job}` reads
/// it, `DELETE {REVOKE_PATH}/{job}` cancels it.
pub const REVOKE_PATH: &str = "/admin/clerk/sessions/revoke";

impl RevocationJobs {
    /// The `POST` endpoint: checks the caller and the body, starts a job.
    ///
    /// | Answer | When |
    /// | --- | --- |
    /// | 202 `{"job": id}` with `Location` | started |
    /// | 400 `{"error":"invalid_request","reason":…}` | the body is not a valid [`RevokeRequest`] |
    /// | 401 | the context is not fully verified (bypassed, degraded, anonymous) |
    /// | 403 | the context names no [`Operator`](crate::auth::Operator) (the route's guard is not [`RouteRule::operator`](crate::auth::RouteRule::operator)) |
    /// | 409 `{"error":"job_running","job": id}` | a job runs |
    /// | 415 | the content type is not `application/json` (so that no browser form can post it) |
    /// | 503 `{"error":"temporarily_unavailable","reason":…}` | no runtime (never inside a served app), or, in a fleet, the fleet store is unreachable: no job starts where one at a time cannot be ensured |
    pub async fn handle_start(
        &self,
        context: &AuthContext,
        content_type: Option<&[u8]>,
        body: &[u8],
    ) -> EndpointResponse {
        if let Some(refusal) = refuse_unverified(context) {
            return refusal;
        }
        let Some(operator) = &context.operator else {
            return not_an_operator();
        };
        if !is_json(content_type) {
            return EndpointResponse::json(
                415,
                &json!({ "error": "unsupported_media_type", "reason": "the body must be application/json" }),
            );
        }
        let plan = match RevokeRequest::parse(body).and_then(RevokeRequest::into_plan) {
            Ok(plan) => plan,
            Err(reason) => {
                return EndpointResponse::json(
                    400,
                    &json!({ "error": "invalid_request", "reason": reason }),
                );
            }
        };
        match self.start(plan, Some(operator)).await {
            Ok(job) => {
                let mut response = EndpointResponse::json(202, &json!({ "job": job }));
                response.location = Some(format!("{REVOKE_PATH}/{job}"));
                response
            }
            Err(JobError::AlreadyRunning { job }) => {
                EndpointResponse::json(409, &json!({ "error": "job_running", "job": job }))
            }
            Err(JobError::InvalidPlan(reason)) => EndpointResponse::json(
                400,
                &json!({ "error": "invalid_request", "reason": reason }),
            ),
            Err(JobError::NoRuntime) => unavailable("no_runtime"),
            Err(JobError::Store(err)) => {
                tracing::error!(error = %err, "cannot start a fleet revocation job: the fleet store is unreachable");
                unavailable("fleet_store_unreachable")
            }
        }
    }

    /// The `DELETE` endpoint: cancels the job ([`cancel`](Self::cancel)) and answers 200 with
    /// its status; 409 `{"error":"job_ended","state":…}` for a job that has already ended, 404
    /// for an unknown job, 401 for a context that is not fully verified, 403 without an
    /// operator, 503 when a fleet's store is unreachable.
    pub async fn handle_cancel(&self, context: &AuthContext, job: &str) -> EndpointResponse {
        if let Some(refusal) = refuse_unverified(context) {
            return refusal;
        }
        let Some(operator) = &context.operator else {
            return not_an_operator();
        };
        match self.cancel(job, Some(operator)).await {
            Ok(CancelOutcome::Cancelled(status)) => EndpointResponse::json(200, &status),
            Ok(CancelOutcome::AlreadyEnded(status)) => EndpointResponse::json(
                409,
                &json!({ "error": "job_ended", "state": status.state, "job": status.id }),
            ),
            Ok(CancelOutcome::Unknown) => not_found(),
            Err(err) => {
                tracing::error!(error = %err, job, "cannot cancel a fleet revocation job: the fleet store is unreachable");
                unavailable("fleet_store_unreachable")
            }
        }
    }

    /// The `GET` endpoint: 200 with the [`JobStatus`](super::JobStatus), 404 for an unknown job, 401 for a
    /// context that is not fully verified, 503 when a fleet's store is unreachable and the job
    /// does not run here.
    pub async fn handle_status(&self, context: &AuthContext, job: &str) -> EndpointResponse {
        if let Some(refusal) = refuse_unverified(context) {
            return refusal;
        }
        if context.operator.is_none() {
            return not_an_operator();
        }
        match self.status(job).await {
            Ok(Some(status)) => EndpointResponse::json(200, &status),
            Ok(None) => not_found(),
            Err(err) => {
                tracing::error!(error = %err, job, "cannot read a fleet revocation job: the fleet store is unreachable");
                unavailable("fleet_store_unreachable")
            }
        }
    }
}

/// The body of `POST /admin/clerk/sessions/revoke`: exactly one target (`all`, `user_ids` or
/// `organization_id`), the users to spare, the creation-time cutoff, and dry run.
///
/// ```
/// use clerk_incident_core::revocation::RevokeRequest;
///
/// let request = RevokeRequest::parse(br#"{"all": true, "exclude_user_ids": ["user_oncall"], "dry_run": true}"#)?;
/// let plan = request.into_plan()?;
/// assert!(plan.is_dry_run());
/// assert!(RevokeRequest::parse(b"{}").and_then(RevokeRequest::into_plan).is_err());
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RevokeRequest {
    /// Every user of the instance.
    pub all: bool,
    /// These users.
    pub user_ids: Vec<String>,
    /// The members of this organisation.
    pub organization_id: Option<String>,
    /// Users left signed in (such as the on-call admins).
    pub exclude_user_ids: Vec<String>,
    /// Only sessions created before this moment, Unix ms.
    pub created_before: Option<i64>,
    /// Count, revoke nothing.
    pub dry_run: bool,
}

impl RevokeRequest {
    /// Reads a JSON body.
    ///
    /// # Errors
    ///
    /// What is wrong with it, for a 400.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(body).map_err(|err| format!("invalid body: {err}"))
    }

    /// The plan the request describes.
    ///
    /// # Errors
    ///
    /// When it names no target or more than one, or an empty id.
    pub fn into_plan(self) -> Result<RevocationPlan, String> {
        let mut targets = Vec::new();
        if self.all {
            targets.push(RevocationTarget::AllUsers);
        }
        if !self.user_ids.is_empty() {
            targets.push(RevocationTarget::Users(self.user_ids));
        }
        if let Some(organization) = self.organization_id {
            targets.push(RevocationTarget::Organization(organization));
        }
        let target = match targets.len() {
            1 => targets.pop(),
            _ => None,
        }
        .ok_or_else(|| {
            "name exactly one target: `all`, `user_ids` or `organization_id`".to_owned()
        })?;
        if self.exclude_user_ids.iter().any(|id| id.trim().is_empty()) {
            return Err("an excluded user id is empty".to_owned());
        }
        let mut plan = RevocationPlan::new(target)
            .exclude_users(self.exclude_user_ids)
            .dry_run(self.dry_run);
        if let Some(cutoff) = self.created_before {
            plan = plan.sessions_created_before(cutoff);
        }
        plan.validate().map_err(|err| err.to_string())?;
        Ok(plan)
    }
}

/// A framework-free answer of the admin endpoints, which the adapters translate as is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointResponse {
    /// The HTTP status.
    pub status: u16,
    /// The `Location` header (202 only).
    pub location: Option<String>,
    /// The `WWW-Authenticate` header (401 only).
    pub www_authenticate: Option<&'static str>,
    /// The `Retry-After` header, seconds (503 only).
    pub retry_after_secs: Option<u32>,
    /// The JSON body.
    pub body: String,
}

impl EndpointResponse {
    /// The content type of [`body`](Self::body).
    pub const CONTENT_TYPE: &'static str = "application/json";

    pub(crate) fn json(status: u16, body: &impl Serialize) -> Self {
        Self {
            status,
            location: None,
            www_authenticate: None,
            retry_after_secs: None,
            body: serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned()),
        }
    }
}

/// A 401 unless the context verified in full: guards normally refuse earlier, this holds even
/// under a lenient rule.
fn refuse_unverified(context: &AuthContext) -> Option<EndpointResponse> {
    if context.is_fully_verified() {
        return None;
    }
    let mut response = EndpointResponse::json(
        401,
        &json!({ "error": "invalid_token", "reason": "not_fully_verified" }),
    );
    response.www_authenticate = Some(r#"Bearer error="invalid_token""#);
    Some(response)
}

/// A 403 for a context without an operator (the route was mounted without the operator
/// guard), with the guard's own body.
fn not_an_operator() -> EndpointResponse {
    let rejection = Rejection::NotOperator(OperatorRefusal::NotAnOperator);
    EndpointResponse {
        status: rejection.status(),
        location: None,
        www_authenticate: rejection.www_authenticate(),
        retry_after_secs: None,
        body: rejection.json_body(),
    }
}

fn not_found() -> EndpointResponse {
    EndpointResponse::json(
        404,
        &json!({ "error": "not_found", "reason": "no such revocation job" }),
    )
}

/// A 503 with `Retry-After: 5`.
fn unavailable(reason: &str) -> EndpointResponse {
    let mut response = EndpointResponse::json(
        503,
        &json!({ "error": "temporarily_unavailable", "reason": reason }),
    );
    response.retry_after_secs = Some(5);
    response
}

/// `application/json`, with or without parameters.
fn is_json(content_type: Option<&[u8]>) -> bool {
    let Some(value) = content_type.and_then(|value| std::str::from_utf8(value).ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_name_exactly_one_target() {
        let plan =
            |body: &str| RevokeRequest::parse(body.as_bytes()).and_then(RevokeRequest::into_plan);
        assert!(plan(r#"{"all":true}"#).is_ok());
        assert!(plan(r#"{"user_ids":["user_a"],"created_before":5}"#).is_ok());
        assert!(plan(r#"{"organization_id":"org_a","dry_run":true}"#).is_ok());
        for bad in [
            "{}",
            "not json",
            r#"{"all":true,"user_ids":["user_a"]}"#,
            r#"{"all":true,"surprise":1}"#,
            r#"{"organization_id":""}"#,
            r#"{"all":true,"exclude_user_ids":[""]}"#,
            r#"{"all":"yes"}"#,
        ] {
            assert!(plan(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn content_types() {
        assert!(is_json(Some(b"application/json")));
        assert!(is_json(Some(b"Application/JSON; charset=utf-8")));
        assert!(!is_json(Some(b"text/plain")));
        assert!(!is_json(None));
    }
}
