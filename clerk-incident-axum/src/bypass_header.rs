//! [`BypassHeaderLayer`]: `X-Auth-Bypass` on every response while a bypass mode is on,
//! public routes included.

use std::task::{Context, Poll};

use axum::http::{Request, Response};
use clerk_incident_core::auth::BypassSwitch;
use tower_layer::Layer;
use tower_service::Service;

use crate::future::BypassHeaderFuture;

/// A [`Layer`] that adds `X-Auth-Bypass: true` (`Open`) or `X-Auth-Bypass: grace` (`Grace`)
/// to every response while the [`BypassSwitch`] is not in `Enforce`, so that clients and
/// monitoring see the bypass on public routes too, outside any [`ClerkAuthLayer`].
///
/// The mode is read when the request arrives. A response that already carries the header
/// (set by [`ClerkAuthLayer`] from the mode its decision was made in) keeps it: the header is
/// never repeated.
///
/// Wrap the whole app with it, using [`Router::layer`](axum::Router::layer):
///
/// ```
/// use axum::Router;
/// use clerk_incident_axum::BypassHeaderLayer;
/// use clerk_incident_axum::core::auth::AuthPolicy;
///
/// fn with_bypass_header(app: Router, policy: &AuthPolicy) -> Router {
///     app.layer(BypassHeaderLayer::new(policy.switch().clone()))
/// }
/// # let _ = with_bypass_header;
/// ```
///
/// [`ClerkAuthLayer`]: crate::ClerkAuthLayer
#[derive(Clone, Debug)]
pub struct BypassHeaderLayer {
    switch: BypassSwitch,
}

impl BypassHeaderLayer {
    /// A layer following `switch` (the one of the service's
    /// [`AuthPolicy`](clerk_incident_core::auth::AuthPolicy::switch)).
    pub fn new(switch: BypassSwitch) -> Self {
        Self { switch }
    }
}

impl<S> Layer<S> for BypassHeaderLayer {
    type Service = BypassHeader<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BypassHeader {
            inner,
            switch: self.switch.clone(),
        }
    }
}

/// The middleware service of [`BypassHeaderLayer`].
#[derive(Clone, Debug)]
pub struct BypassHeader<S> {
    inner: S,
    switch: BypassSwitch,
}

impl<S> BypassHeader<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, consuming the middleware.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for BypassHeader<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BypassHeaderFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let value = self.switch.mode().bypass_header_value();
        BypassHeaderFuture::new(self.inner.call(request), value)
    }
}
