//! [`BypassHeader`]: `X-Auth-Bypass` on every response while a bypass mode is on.

use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::Error;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::HeaderValue;
use clerk_incident_core::auth::BypassSwitch;

use crate::X_AUTH_BYPASS;

/// The future of [`BypassHeaderMiddleware`].
pub type BypassHeaderFuture<B> = Pin<Box<dyn Future<Output = Result<ServiceResponse<B>, Error>>>>;

/// Marks every response with `X-Auth-Bypass: grace` or `X-Auth-Bypass: true` while the switch
/// is in `Grace` or `Open`, so that clients and proxies can tell degraded answers apart, on
/// public routes too. In `Enforce` it adds nothing.
///
/// Wrap the whole app with it. The mode is read when the request arrives; a response that
/// already carries the header (set by [`ClerkAuth`](crate::ClerkAuth) from the decision it
/// made) keeps its value, so the header is never duplicated.
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use clerk_incident_actix::BypassHeader;
/// use clerk_incident_actix::core::auth::{AuthMode, BypassSwitch};
///
/// # #[actix_web::main]
/// # async fn main() {
/// use actix_web::test;
///
/// let switch = BypassSwitch::new();
/// let app = test::init_service(
///     App::new()
///         .wrap(BypassHeader::new(switch.clone()))
///         .route("/", web::get().to(HttpResponse::Ok)),
/// )
/// .await;
///
/// let response = test::call_service(&app, test::TestRequest::get().to_request()).await;
/// assert!(!response.headers().contains_key("x-auth-bypass"));
///
/// switch.activate(AuthMode::Open, None, "INC-42: Clerk is down").expect("a valid mode");
/// let response = test::call_service(&app, test::TestRequest::get().to_request()).await;
/// let bypass = response.headers().get("x-auth-bypass");
/// assert_eq!(bypass.and_then(|value| value.to_str().ok()), Some("true"));
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct BypassHeader {
    switch: BypassSwitch,
}

impl BypassHeader {
    /// Marks responses according to `switch` (usually `policy.switch().clone()`).
    pub fn new(switch: BypassSwitch) -> Self {
        Self { switch }
    }
}

impl<S, B> Transform<S, ServiceRequest> for BypassHeader
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = BypassHeaderMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(BypassHeaderMiddleware {
            service,
            switch: self.switch.clone(),
        }))
    }
}

/// The service [`BypassHeader`] wraps around an app's service.
pub struct BypassHeaderMiddleware<S> {
    service: S,
    switch: BypassSwitch,
}

impl<S> fmt::Debug for BypassHeaderMiddleware<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BypassHeaderMiddleware")
            .field("switch", &self.switch)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for BypassHeaderMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = BypassHeaderFuture<B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let value = self
            .switch
            .mode()
            .bypass_header_value()
            .and_then(|value| HeaderValue::from_str(value).ok());
        let response = self.service.call(req);
        Box::pin(async move {
            let mut response = response.await?;
            if let Some(value) = value {
                let headers = response.headers_mut();
                if !headers.contains_key(X_AUTH_BYPASS) {
                    headers.insert(X_AUTH_BYPASS, value);
                }
            }
            Ok(response)
        })
    }
}
