//! [`ClerkAuthLayer`]: the middleware that asks core's [`AuthPolicy`] about each request and
//! translates its [`Decision`](clerk_incident_core::auth::Decision) into a response.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Bytes, HttpBody};
use axum::http::{Request, Response};
use axum::{BoxError, body::Body};
use clerk_incident_core::auth::{AuthPolicy, Rejection, Requirement, RouteRule};
use tower_layer::Layer;
use tower_service::Service;

use crate::future::ResponseFuture;
use crate::layer_config::LayerConfig;
use crate::rejection::RejectionHandler;

/// A [`Layer`] that puts [`ClerkAuth`] in front of routes: every request is decided by
/// [`AuthPolicy::decide_rule`] against the layer's [`RouteRule`].
///
/// - **Allowed:** the [`AuthContext`](clerk_incident_core::auth::AuthContext) goes into the
///   request extensions (read it with [`Auth`](crate::Auth),
///   `Option<Auth>` or [`VerifiedUser`](crate::VerifiedUser)), the inner service runs, and the
///   response gets `X-Auth-Bypass` when the mode sets one.
/// - **Refused:** the inner service does not run; the response is
///   [`default_rejection_response`](crate::default_rejection_response) (or the
///   [custom one](Self::rejection_handler)), with `X-Auth-Bypass` too outside `Enforce`.
///
/// Apply it with [`Router::route_layer`](axum::Router::route_layer), so that a path no route
/// matches stays a 404, and give each group of routes with its own guard its own layer:
///
/// ```
/// use axum::Router;
/// use axum::routing::get;
/// use clerk_incident_axum::core::auth::{AuthPolicy, Requirement};
/// use clerk_incident_axum::{Auth, ClerkAuthLayer, VerifiedUser};
///
/// async fn me(auth: Auth) -> String {
///     format!("bypassed: {}", auth.bypassed)
/// }
///
/// async fn ping(user: VerifiedUser) -> String {
///     format!("pong, {}", user.user_id)
/// }
///
/// fn api(policy: &AuthPolicy) -> Router {
///     let admin = Router::new()
///         .route("/api/admin/ping", get(ping))
///         .route_layer(ClerkAuthLayer::new(policy.clone()).require(Requirement::role("org:admin")));
///     Router::new()
///         .route("/api/me", get(me))
///         .route_layer(ClerkAuthLayer::new(policy.clone()))
///         .merge(admin)
/// }
/// # let _ = api;
/// ```
#[derive(Clone, Debug)]
pub struct ClerkAuthLayer {
    shared: Arc<LayerConfig>,
}

impl ClerkAuthLayer {
    /// A layer enforcing `policy` with [`RouteRule::protected`]: a valid token in `Enforce`,
    /// degraded access in `Grace` and `Open`.
    pub fn new(policy: AuthPolicy) -> Self {
        Self {
            shared: Arc::new(LayerConfig {
                policy,
                rule: RouteRule::protected(),
                handler: None,
            }),
        }
    }

    /// Replaces the rule, for example with [`RouteRule::sensitive`] for routes that need a
    /// fully valid token in every mode.
    #[must_use]
    pub fn rule(mut self, rule: RouteRule) -> Self {
        Arc::make_mut(&mut self.shared).rule = rule;
        self
    }

    /// Adds a requirement (a role, permission, feature or plan; all must hold). The routes
    /// become sensitive: they need a fully valid token in every mode, and a valid token
    /// without the requirement is a 403.
    #[must_use]
    pub fn require(mut self, requirement: Requirement) -> Self {
        let shared = Arc::make_mut(&mut self.shared);
        shared.rule = std::mem::take(&mut shared.rule).require(requirement);
        self
    }

    /// Answers refused requests with `handler` instead of
    /// [`default_rejection_response`](crate::default_rejection_response). The
    /// [extractors](crate::Auth) of the routes behind this layer use it too. `X-Auth-Bypass` is
    /// added to its response outside `Enforce`.
    ///
    /// ```
    /// use axum::http::StatusCode;
    /// use axum::response::{IntoResponse, Response};
    /// use clerk_incident_axum::ClerkAuthLayer;
    /// use clerk_incident_axum::core::auth::{AuthPolicy, Rejection};
    ///
    /// fn plain_text(policy: AuthPolicy) -> ClerkAuthLayer {
    ///     ClerkAuthLayer::new(policy).rejection_handler(|rejection: &Rejection| -> Response {
    ///         let status = StatusCode::from_u16(rejection.status())
    ///             .unwrap_or(StatusCode::UNAUTHORIZED);
    ///         (status, "please sign in again").into_response()
    ///     })
    /// }
    /// # let _ = plain_text;
    /// ```
    #[must_use]
    pub fn rejection_handler<F>(mut self, handler: F) -> Self
    where
        F: Fn(&Rejection) -> axum::response::Response + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.shared).handler = Some(RejectionHandler::new(handler));
        self
    }

    /// The policy.
    pub fn policy(&self) -> &AuthPolicy {
        &self.shared.policy
    }

    /// The rule of the routes behind this layer.
    pub fn route_rule(&self) -> &RouteRule {
        &self.shared.rule
    }
}

impl<S> Layer<S> for ClerkAuthLayer {
    type Service = ClerkAuth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClerkAuth {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The middleware service of [`ClerkAuthLayer`].
#[derive(Clone)]
pub struct ClerkAuth<S> {
    inner: S,
    shared: Arc<LayerConfig>,
}

impl<S> ClerkAuth<S> {
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

impl<S: fmt::Debug> fmt::Debug for ClerkAuth<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClerkAuth")
            .field("inner", &self.inner)
            .field("rule", &self.shared.rule)
            .field("policy", &self.shared.policy)
            .field("handler", &self.shared.handler)
            .finish()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ClerkAuth<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ReqBody: Send + 'static,
    ResBody: HttpBody<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The inner service is called from the future, after the decision: take the instance
        // `poll_ready` drove to readiness, and leave a fresh clone for the next request.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::new(Arc::clone(&self.shared), request, inner)
    }
}
