//! [`ClerkAuth`]: the middleware that decides every request of a scope with core's
//! [`AuthPolicy`] and answers rejections itself.

use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{Error, HttpMessage, HttpResponse};
use clerk_incident_core::auth::{
    AuthPolicy, Credentials, Decision, Rejection, Requirement, RouteRule,
};

use crate::X_AUTH_BYPASS;
use crate::rejection::{RejectionHandler, default_rejection_response};

/// The future of [`ClerkAuthMiddleware`]: the policy's decision is async and borrows the
/// request's headers, so it is boxed.
pub type ClerkAuthFuture<B> =
    Pin<Box<dyn Future<Output = Result<ServiceResponse<EitherBody<B>>, Error>>>>;

/// The auth middleware: wrap a scope (or a resource) with it to protect every route inside.
///
/// Each request is decided by [`AuthPolicy::decide_rule`] with this middleware's
/// [`RouteRule`], in the mode the policy's [`BypassSwitch`] holds at that moment:
///
/// - **allowed**: the [`AuthContext`] goes into the request extensions, where the
///   [`Auth`](crate::Auth) and [`VerifiedUser`](crate::VerifiedUser) extractors (or
///   `req.extensions().get::<AuthContext>()`) find it, and the inner service runs. Outside
///   `Enforce` the response carries `X-Auth-Bypass` (`grace` or `true`).
/// - **rejected**: the middleware answers at once, without calling the inner service: 401
///   with `WWW-Authenticate: Bearer error="invalid_token"`, 403 with `insufficient_scope`, or
///   503 with `Retry-After` when no verification key is available (see
///   [`default_rejection_response`], replaceable with
///   [`rejection_handler`](Self::rejection_handler)). Rejections carry `X-Auth-Bypass` too
///   outside `Enforce`.
///
/// The middleware never reads anything but the `Authorization` and `Cookie` headers, and
/// nothing in a request can change the mode.
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use clerk_incident_actix::{Auth, ClerkAuth};
/// use clerk_incident_actix::core::auth::{AuthPolicy, Requirement};
///
/// async fn handler(auth: Auth) -> HttpResponse {
///     HttpResponse::Ok().body(auth.mode.name())
/// }
///
/// fn routes(policy: AuthPolicy) -> impl FnOnce(&mut web::ServiceConfig) {
///     move |config| {
///         config
///             // Sensitive: a fully valid admin token, in every mode.
///             .service(
///                 web::scope("/api/admin")
///                     .wrap(ClerkAuth::new(policy.clone()).require(Requirement::role("org:admin")))
///                     .route("/ping", web::get().to(handler)),
///             )
///             // Protected: a valid token, or degraded access while a bypass is on.
///             .service(
///                 web::scope("/api")
///                     .wrap(ClerkAuth::new(policy))
///                     .route("/me", web::get().to(handler)),
///             );
///     }
/// }
/// # let _ = |policy| App::new().configure(routes(policy));
/// ```
///
/// Give each request exactly one `ClerkAuth`: put guarded scopes beside the protected one (and
/// before it, since actix-web tries scopes in registration order), not inside it. A nested
/// `ClerkAuth` decides again, which is correct but counts and logs the request twice.
///
/// [`BypassSwitch`]: clerk_incident_core::auth::BypassSwitch
/// [`AuthContext`]: clerk_incident_core::auth::AuthContext
/// [`default_rejection_response`]: crate::default_rejection_response
#[derive(Clone, Debug)]
pub struct ClerkAuth {
    config: Arc<Config>,
}

#[derive(Clone, Debug)]
struct Config {
    policy: AuthPolicy,
    rule: RouteRule,
    handler: Option<RejectionHandler>,
}

impl ClerkAuth {
    /// Protects routes with `policy` and the rule [`RouteRule::protected`]: a valid token in
    /// `Enforce`, degraded access in `Grace` and `Open`.
    pub fn new(policy: AuthPolicy) -> Self {
        Self {
            config: Arc::new(Config {
                policy,
                rule: RouteRule::protected(),
                handler: None,
            }),
        }
    }

    /// Replaces the rule, for example with [`RouteRule::sensitive`]: a fully valid token in
    /// every mode.
    #[must_use]
    pub fn rule(mut self, rule: RouteRule) -> Self {
        self.config_mut().rule = rule;
        self
    }

    /// Adds a requirement (a role, permission, feature or plan; all must hold) and makes the
    /// rule sensitive: a guarded route never runs on a bypassed or degraded identity, and a
    /// valid token without the requirement gets a 403.
    #[must_use]
    pub fn require(mut self, requirement: Requirement) -> Self {
        let config = self.config_mut();
        config.rule = std::mem::take(&mut config.rule).require(requirement);
        self
    }

    /// Answers rejections with `handler` instead of [`default_rejection_response`]. The
    /// [`Auth`](crate::Auth) and [`VerifiedUser`](crate::VerifiedUser) extractors behind this
    /// middleware use it too. `X-Auth-Bypass` is added to whatever it returns outside
    /// `Enforce`.
    ///
    /// [`default_rejection_response`]: crate::default_rejection_response
    #[must_use]
    pub fn rejection_handler<F>(mut self, handler: F) -> Self
    where
        F: Fn(&Rejection) -> HttpResponse + Send + Sync + 'static,
    {
        self.config_mut().handler = Some(RejectionHandler::new(handler));
        self
    }

    /// The policy.
    pub fn policy(&self) -> &AuthPolicy {
        &self.config.policy
    }

    /// The rule of the routes behind this middleware.
    pub fn route_rule(&self) -> &RouteRule {
        &self.config.rule
    }

    /// The configuration, cloned first if a clone of this middleware shares it.
    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }
}

impl<S, B> Transform<S, ServiceRequest> for ClerkAuth
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = ClerkAuthMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ClerkAuthMiddleware {
            service: Rc::new(service),
            config: Arc::clone(&self.config),
        }))
    }
}

/// The service [`ClerkAuth`] wraps around a scope's service.
pub struct ClerkAuthMiddleware<S> {
    service: Rc<S>,
    config: Arc<Config>,
}

impl<S> fmt::Debug for ClerkAuthMiddleware<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClerkAuthMiddleware")
            .field("rule", &self.config.rule)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for ClerkAuthMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = ClerkAuthFuture<B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let config = Arc::clone(&self.config);
        Box::pin(async move {
            let decision = config
                .policy
                .decide_rule(&credentials(&req), &config.rule)
                .await;
            let bypass = decision
                .bypass_header()
                .and_then(|value| HeaderValue::from_str(value).ok());
            let mut response = match decision {
                Decision::Allow(context) => {
                    {
                        let mut extensions = req.extensions_mut();
                        extensions.insert(context);
                        if let Some(handler) = &config.handler {
                            extensions.insert(handler.clone());
                        }
                    }
                    service.call(req).await?.map_into_left_body()
                }
                Decision::Reject { rejection, .. } => {
                    reject(req, &config, &rejection).map_into_right_body()
                }
            };
            if let Some(value) = bypass {
                response.headers_mut().insert(X_AUTH_BYPASS, value);
            }
            Ok(response)
        })
    }
}

/// The two headers a token can come from, every value of each (a repeated `Authorization` is
/// refused by core, split `Cookie` headers are one list), and the method and path for the
/// bypass log. Values stay bytes: core handles non-UTF-8.
fn credentials(req: &ServiceRequest) -> Credentials<'_> {
    let headers: &HeaderMap = req.headers();
    Credentials::from_values(
        headers
            .get_all(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes),
        headers.get_all(header::COOKIE).map(HeaderValue::as_bytes),
    )
    .request(req.method().as_str(), req.path())
}

/// Answers `req` with the rejection response, without calling the inner service.
fn reject(req: ServiceRequest, config: &Config, rejection: &Rejection) -> ServiceResponse {
    tracing::debug!(
        status = rejection.status(),
        reason = rejection.reason(),
        path = req.path(),
        "request rejected"
    );
    let response = match &config.handler {
        Some(handler) => handler.respond(rejection),
        None => default_rejection_response(rejection),
    };
    req.into_response(response.map_into_boxed_body())
}
