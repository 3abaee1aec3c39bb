//! The mass session revocation endpoints: `POST /admin/clerk/sessions/revoke` starts a
//! background job, `GET /admin/clerk/sessions/revoke/{job}` reads its progress or report.
//!
//! Core's [`RevocationJobs`] decides every answer; this module only translates its
//! [`EndpointResponse`]. Both resources are wrapped in their own [`ClerkAuth`] with
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
//! [`RevokeRequest`]: clerk_incident_core::revocation::RevokeRequest

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, web};
use clerk_incident_core::auth::{AuthPolicy, RouteRule};
use clerk_incident_core::revocation::{EndpointResponse, REVOKE_PATH, RevocationJobs};

use crate::{Auth, ClerkAuth};

/// The revocation endpoints at [`REVOKE_PATH`], for the operators of `policy`
/// ([`AuthPolicy::with_operators`]; with none configured they refuse every request), for
/// [`App::configure`](actix_web::App::configure).
pub fn revocation_routes(
    policy: AuthPolicy,
    jobs: RevocationJobs,
) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    if let Some(warning) = policy.operators().unconfigured_warning() {
        // Once per process: actix-web builds the routes once per worker.
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| tracing::warn!("{warning}"));
    }
    // What the jobs revoke, this service (or its fleet) refuses, even in Grace; in a fleet,
    // one job runs at a time for every replica.
    let jobs = web::Data::new(jobs.for_service(&policy));
    let guard = ClerkAuth::new(policy).rule(RouteRule::operator());
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
                    .route(web::get().to(status))
                    .route(web::delete().to(cancel)),
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
    endpoint_response(jobs.handle_start(&auth, content_type, &body).await)
}

async fn status(
    jobs: web::Data<RevocationJobs>,
    auth: Auth,
    job: web::Path<String>,
) -> HttpResponse {
    endpoint_response(jobs.handle_status(&auth, &job).await)
}

async fn cancel(
    jobs: web::Data<RevocationJobs>,
    auth: Auth,
    job: web::Path<String>,
) -> HttpResponse {
    endpoint_response(jobs.handle_cancel(&auth, &job).await)
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
