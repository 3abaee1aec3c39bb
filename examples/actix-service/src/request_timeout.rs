//! A 408 for a request not answered within [`ServiceLimits::request_timeout`], its body
//! included: actix-web's `client_request_timeout` bounds only the request head, so a `POST`
//! that announces a body and sends nothing would otherwise hold its worker.
//!
//! [`ServiceLimits::request_timeout`]: clerk_incident_actix::core::service_limits::ServiceLimits::request_timeout

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::ErrorRequestTimeout;
use actix_web::middleware::Next;
use actix_web::{Error, web};

/// The timeout, as app data for [`enforce`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestTimeout(pub(crate) Duration);

/// The middleware function (`middleware::from_fn(request_timeout::enforce)`): runs the rest of
/// the chain, or answers 408 once the timeout has passed (as an error, which actix-web turns
/// into the response: the request itself has moved into the chain by then).
pub(crate) async fn enforce(
    timeout: web::Data<RequestTimeout>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let path = req.path().to_owned();
    match tokio::time::timeout(timeout.0, next.call(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::debug!(path, "request timed out");
            Err(ErrorRequestTimeout("the request was not complete in time"))
        }
    }
}
