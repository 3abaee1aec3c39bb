//! The mass session revocation endpoints: `POST /admin/clerk/sessions/revoke` starts a
//! background job, `GET /admin/clerk/sessions/revoke/{job}` reads its progress or report.
//!
//! Core's [`RevocationJobs`] decides every answer; this module only translates its
//! [`EndpointResponse`]. The routes sit behind their own [`ClerkAuthLayer`] with
//! [`RouteRule::operator`]: a fully valid token, in every mode, of an
//! [operator](clerk_incident_core::auth::Operators) (allow-listed, or holding the operator role
//! in the pinned organisation). An `org:admin` of any other organisation is not one.
//!
//! | Request | Answer |
//! | --- | --- |
//! | `POST` with a [`RevokeRequest`] JSON body | 202 `{"job": id}` + `Location`; 400 bad body; 409 `{"job": running}`; 415 not JSON |
//! | `GET …/{job}` | 200 [`JobStatus`](clerk_incident_core::revocation::JobStatus) (naming the operator); 404 unknown |
//! | `DELETE …/{job}` | 200 the status, now `cancelled`; 409 `job_ended`; 404 unknown |
//! | no token, bypassed or degraded | 401 |
//! | not an operator, impersonated | 403 `not_an_operator`, `impersonated_session` |
//! | no operator configured | 403 `no_operator_configured` |
//!
//! # Example
//!
//! ```
//! use axum::Router;
//! use clerk_incident_axum::core::api::ClerkApi;
//! use clerk_incident_axum::core::auth::AuthPolicy;
//! use clerk_incident_axum::core::revocation::RevocationJobs;
//! use clerk_incident_axum::revocation_router;
//!
//! fn with_revocation(app: Router, policy: &AuthPolicy, api: ClerkApi) -> Router {
//!     app.merge(revocation_router(policy.clone(), RevocationJobs::new(api)))
//! }
//! # let _ = with_revocation;
//! ```
//!
//! [`RevokeRequest`]: clerk_incident_core::revocation::RevokeRequest

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::http::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use clerk_incident_core::auth::{AuthPolicy, RouteRule};
use clerk_incident_core::revocation::{EndpointResponse, REVOKE_PATH, RevocationJobs};

use crate::{Auth, ClerkAuthLayer};

/// The revocation endpoints at [`REVOKE_PATH`], for the operators of `policy`
/// ([`AuthPolicy::with_operators`]); with none configured they refuse every request. The
/// sessions a job revokes go to the policy's [`session_denier`](AuthPolicy::session_denier):
/// this service (or, in a fleet, every instance) refuses their tokens even in Grace.
pub fn revocation_router<S>(policy: AuthPolicy, jobs: RevocationJobs) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    if let Some(warning) = policy.operators().unconfigured_warning() {
        tracing::warn!("{warning}");
    }
    // What the jobs revoke, this service (or its fleet) refuses, even in Grace; in a fleet,
    // one job runs at a time for every replica.
    let jobs = jobs.for_service(&policy);
    let start_jobs = jobs.clone();
    let start = move |auth: Auth, headers: HeaderMap, body: Bytes| {
        let jobs = start_jobs.clone();
        async move {
            let content_type = headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes);
            endpoint_response(jobs.handle_start(&auth, content_type, &body).await)
        }
    };
    let status_jobs = jobs.clone();
    let status = move |auth: Auth, Path(job): Path<String>| {
        let jobs = status_jobs.clone();
        async move { endpoint_response(jobs.handle_status(&auth, &job).await) }
    };
    let cancel = move |auth: Auth, Path(job): Path<String>| {
        let jobs = jobs.clone();
        async move { endpoint_response(jobs.handle_cancel(&auth, &job).await) }
    };
    Router::new()
        .route(REVOKE_PATH, post(start))
        .route(
            &format!("{REVOKE_PATH}/{{job}}"),
            get(status).delete(cancel),
        )
        .route_layer(ClerkAuthLayer::new(policy).rule(RouteRule::operator()))
}

/// Core's answer as an axum response.
fn endpoint_response(answer: EndpointResponse) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Body::from(answer.body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(EndpointResponse::CONTENT_TYPE),
    );
    if let Some(location) = answer
        .location
        .and_then(|location| HeaderValue::try_from(location).ok())
    {
        headers.insert(LOCATION, location);
    }
    if let Some(challenge) = answer.www_authenticate {
        headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    }
    if let Some(seconds) = answer.retry_after_secs {
        headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}
