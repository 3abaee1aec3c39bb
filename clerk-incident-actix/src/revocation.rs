//! The mass session revocation endpoints: `POST /admin/clerk/sessions/revoke` starts a
//! background job, `GET /admin/clerk/sessions/revoke/{job}` reads its progress or report.
//!
//! Core's [`RevocationJobs`] decides every answer; this module only translates its
//! [`EndpointResponse`]. Both resources are wrapped in their own [`ClerkAuth`], with the
//! `org:admin` role by default ([`default_admin_rule`]); any rule given is made
//! [sensitive](clerk_incident_core::auth::RouteClass::Sensitive), so a bypassed or degraded
//! request is always refused.
//!
//! | Request | Answer |
//! | --- | --- |
//! | `POST` with a [`RevokeRequest`] JSON body | 202 `{"job": id}` + `Location`; 400 bad body; 409 `{"job": running}`; 415 not JSON |
//! | `GET …/{job}` | 200 [`JobStatus`](clerk_incident_core::revocation::JobStatus); 404 unknown |
//! | no token, bypassed or degraded | 401 |
//! | without the role | 403 |
//!
//! # Example
//!
//! ```
//! use actix_web::App;
//! use clerk_incident_actix::core::auth::AuthPolicy;
//! use clerk_incident_actix::core::revocation::RevocationJobs;
//! use clerk_incident_actix::revocation_routes;
//!
//! fn app(policy: AuthPolicy, jobs: RevocationJobs) {
//!     // Build `jobs` once, outside the `HttpServer` factory: every worker must share it.
//!     let _app = App::new().configure(revocation_routes(policy, jobs));
//! }
//! # let _ = app;
//! ```
//!
//! [`default_admin_rule`]: clerk_incident_core::revocation::default_admin_rule
//! [`RevokeRequest`]: clerk_incident_core::revocation::RevokeRequest

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, web};
use clerk_incident_core::auth::{AuthPolicy, RouteRule};
use clerk_incident_core::revocation::{
    EndpointResponse, REVOKE_PATH, RevocationJobs, default_admin_rule, sensitive_rule,
};

use crate::{Auth, ClerkAuth};

/// The revocation endpoints at [`REVOKE_PATH`], guarded by `policy` with the `org:admin`
/// role, for [`App::configure`](actix_web::App::configure).
pub fn revocation_routes(
    policy: AuthPolicy,
    jobs: RevocationJobs,
) -> impl FnOnce(&mut web::ServiceConfig) {
    revocation_routes_with_rule(policy, jobs, &default_admin_rule())
}

/// The revocation endpoints guarded by `rule` instead of the `org:admin` role (made
/// sensitive: a fully valid token in every mode).
pub fn revocation_routes_with_rule(
    policy: AuthPolicy,
    jobs: RevocationJobs,
    rule: &RouteRule,
) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    let guard = ClerkAuth::new(policy).rule(sensitive_rule(rule));
    let jobs = web::Data::new(jobs);
    move |config| {
        config
            .service(
                web::resource(REVOKE_PATH)
                    .app_data(jobs.clone())
                    .wrap(guard.clone())
                    .route(web::post().to(start)),
            )
            .service(
                web::resource(format!("{REVOKE_PATH}/{{job}}"))
                    .app_data(jobs)
                    .wrap(guard)
                    .route(web::get().to(status)),
            );
    }
}

async fn start(
    jobs: web::Data<RevocationJobs>,
    auth: Auth,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .map(|value| value.as_bytes());
    endpoint_response(jobs.handle_start(&auth, content_type, &body))
}

async fn status(
    jobs: web::Data<RevocationJobs>,
    auth: Auth,
    job: web::Path<String>,
) -> HttpResponse {
    endpoint_response(jobs.handle_status(&auth, &job))
}

/// Core's answer as an actix response.
fn endpoint_response(answer: EndpointResponse) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    response.insert_header((CONTENT_TYPE, EndpointResponse::CONTENT_TYPE));
    if let Some(location) = answer.location {
        response.insert_header((LOCATION, location));
    }
    if let Some(challenge) = answer.www_authenticate {
        response.insert_header((WWW_AUTHENTICATE, challenge));
    }
    if let Some(seconds) = answer.retry_after_secs {
        response.insert_header((RETRY_AFTER, seconds.to_string()));
    }
    response.body(answer.body)
}
