//! The response futures of [`ClerkAuth`](crate::ClerkAuth) and
//! [`BypassHeader`](crate::BypassHeader).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::BoxError;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::OriginalUri;
use axum::http::{Request, Response};
use clerk_incident_core::auth::{Credentials, Decision};
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::layer_config::LayerConfig;
use crate::rejection::{respond, set_bypass_header};

/// The policy's decision, with the request handed back for the inner service.
type Deciding<B> = Pin<Box<dyn Future<Output = (Decision, Request<B>)> + Send>>;

pin_project! {
    /// The response future of [`ClerkAuth`](crate::ClerkAuth): the policy's decision, then
    /// the inner service's response, or the rejection without calling it.
    pub struct ResponseFuture<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S, ReqBody>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        Deciding {
            decision: Deciding<ReqBody>,
            // The instance that `poll_ready` drove to readiness; taken when it is called.
            inner: Option<S>,
            shared: Arc<LayerConfig>,
        },
        Serving {
            #[pin]
            future: S::Future,
            bypass: Option<&'static str>,
        },
        Done,
    }
}

impl<S, ReqBody> ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>>,
    ReqBody: Send + 'static,
{
    pub(crate) fn new(shared: Arc<LayerConfig>, request: Request<ReqBody>, inner: S) -> Self {
        let policy = Arc::clone(&shared);
        let decision: Deciding<ReqBody> = Box::pin(async move {
            // Split the request so that only the headers (which are `Sync`) are borrowed
            // across the await, whatever the body type.
            let (parts, body) = request.into_parts();
            // The whole path, also behind `Router::nest` (which strips its prefix from `uri`).
            let path = parts
                .extensions
                .get::<OriginalUri>()
                .map_or_else(|| parts.uri.path(), |original| original.0.path());
            let credentials =
                Credentials::from_headers(&parts.headers).request(parts.method.as_str(), path);
            let decision = policy.policy.decide_rule(&credentials, &policy.rule).await;
            (decision, Request::from_parts(parts, body))
        });
        Self {
            state: State::Deciding {
                decision,
                inner: Some(inner),
                shared,
            },
        }
    }
}

impl<S, ReqBody, ResBody> Future for ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: HttpBody<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Output = Result<Response<Body>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Deciding {
                    decision,
                    inner,
                    shared,
                } => {
                    let (decision, mut request) = ready!(decision.as_mut().poll(cx));
                    let bypass = decision.bypass_header();
                    match decision.into_result() {
                        Ok(context) => {
                            let Some(mut service) = inner.take() else {
                                // Unreachable: the service is taken only here, on the way
                                // out of this state.
                                state.set(State::Done);
                                return Poll::Pending;
                            };
                            let extensions = request.extensions_mut();
                            extensions.insert(context);
                            if let Some(handler) = &shared.handler {
                                extensions.insert(handler.clone());
                            }
                            let future = service.call(request);
                            state.set(State::Serving { future, bypass });
                        }
                        Err(rejection) => {
                            tracing::debug!(
                                status = rejection.status(),
                                reason = rejection.reason(),
                                "request refused"
                            );
                            let mut response = respond(shared.handler.as_ref(), &rejection);
                            set_bypass_header(response.headers_mut(), bypass);
                            state.set(State::Done);
                            return Poll::Ready(Ok(response));
                        }
                    }
                }
                StateProj::Serving { future, bypass } => {
                    let result = ready!(future.poll(cx));
                    let bypass = *bypass;
                    state.set(State::Done);
                    let mut response = result?.map(Body::new);
                    set_bypass_header(response.headers_mut(), bypass);
                    return Poll::Ready(Ok(response));
                }
                // Polled after completion: the `Future` contract allows anything but
                // undefined behaviour; never completing is the quietest choice.
                StateProj::Done => return Poll::Pending,
            }
        }
    }
}

impl<S, ReqBody> fmt::Debug for ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Deciding { .. } => "deciding",
            State::Serving { .. } => "serving",
            State::Done => "done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

pin_project! {
    /// The response future of [`BypassHeader`](crate::BypassHeader): the inner response, with
    /// `X-Auth-Bypass` added when the mode set one.
    pub struct BypassHeaderFuture<F> {
        #[pin]
        inner: F,
        value: Option<&'static str>,
    }
}

impl<F> BypassHeaderFuture<F> {
    pub(crate) fn new(inner: F, value: Option<&'static str>) -> Self {
        Self { inner, value }
    }
}

impl<F, B, E> Future for BypassHeaderFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        // The auth middleware's value, set from the mode its decision was made in, wins.
        if !response.headers().contains_key(crate::X_AUTH_BYPASS) {
            set_bypass_header(response.headers_mut(), *this.value);
        }
        Poll::Ready(Ok(response))
    }
}

impl<F> fmt::Debug for BypassHeaderFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BypassHeaderFuture")
            .field("value", &self.value)
            .finish_non_exhaustive()
    }
}
