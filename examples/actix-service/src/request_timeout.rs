//! A 408 for a request not answered within [`ServiceLimits::request_timeout`], its body
//! included: actix-web's `client_request_timeout` bounds only the request head, so a `POST`
//! that announces a body and sends nothing would otherwise hold its worker.
//!
//! [`ServiceLimits::request_timeout`]: clerk_incident_actix::core::service_limits::ServiceLimits::request_timeout

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use clerk_incident_actix::X_AUTH_BYPASS;
use clerk_incident_actix::core::auth::BypassSwitch;

/// The timeout and the switch whose mode the 408 reports, as app data for [`enforce`].
#[derive(Clone, Debug)]
pub(crate) struct RequestTimeout {
    pub(crate) timeout: Duration,
    pub(crate) switch: BypassSwitch,
}

/// The middleware function (`middleware::from_fn(request_timeout::enforce)`): runs the rest of
/// the chain, or answers 408 once the timeout has passed.
///
/// The 408 is an error that carries its own response (with `X-Auth-Bypass` outside
/// `Enforce`, as every response has): by then the request has moved into the chain, and
/// actix-web cannot build a response without it.
pub(crate) async fn enforce(
    limit: web::Data<RequestTimeout>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let path = req.path().to_owned();
    match tokio::time::timeout(limit.timeout, next.call(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::debug!(path, "request timed out");
            let mut response = HttpResponse::RequestTimeout();
            if let Some(value) = limit.switch.mode().bypass_header_value() {
                response.insert_header((X_AUTH_BYPASS, value));
            }
            Err(InternalError::from_response("request timed out", response.finish()).into())
        }
    }
}
