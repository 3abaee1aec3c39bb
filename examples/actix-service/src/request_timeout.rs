//! A 408 for a request not answered within [`ServiceLimits::request_timeout`], its body
//! included: actix-web's `client_request_timeout` bounds only the request head, so a `POST`
//! that announces a body and sends nothing would otherwise hold its worker.
//!
//! [`ServiceLimits::request_timeout`]: clerk_incident_actix::core::service_limits::ServiceLimits::request_timeout

use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};

/// The timeout, as app data for [`enforce`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestTimeout(pub(crate) Duration);

/// The middleware function (`middleware::from_fn(request_timeout::enforce)`): runs the rest of
/// the chain, or answers 408 once the timeout has passed.
pub(crate) async fn enforce(
    timeout: web::Data<RequestTimeout>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let request = req.request().clone();
    match tokio::time::timeout(timeout.0, next.call(req)).await {
        Ok(response) => response.map(ServiceResponse::map_into_left_body),
        Err(_) => {
            tracing::debug!(path = request.path(), "request timed out");
            let response = HttpResponse::RequestTimeout().finish();
            Ok(ServiceResponse::new(request, response).map_into_right_body())
        }
    }
}
