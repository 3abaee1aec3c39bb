//! The extractors handlers read the request's identity with: [`Auth`], `Option<Auth>`,
//! [`VerifiedUser`] and `Option<VerifiedUser>`.

use std::convert::Infallible;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use clerk_incident_core::auth::{
    AuthContext, AuthRejectionKind, ExtractorRejection, Rejection, VerifiedSession,
};

use crate::rejection::{RejectionHandler, respond};

/// The [`AuthContext`] that [`ClerkAuthLayer`](crate::ClerkAuthLayer) attached to the
/// request: the verified session, if any, and whether it was let through degraded (`Grace`)
/// or bypassed (`Open`).
///
/// As a required extractor it fails closed: on a route that no `ClerkAuthLayer` guards, it
/// refuses the request with a 401 ([`AuthRejection`]). `Option<Auth>` is `None` there
/// instead, for routes that serve everyone and personalise for the signed-in.
///
/// A handler can check more with core's [`authorize`](clerk_incident_core::auth::authorize):
///
/// ```
/// use axum::http::StatusCode;
/// use clerk_incident_axum::core::auth::{Check, authorize};
/// use clerk_incident_axum::{Auth, AuthRejection};
///
/// async fn billing(auth: Auth) -> Result<StatusCode, AuthRejection> {
///     authorize(&auth, Check::Permission("org:billing:manage"))?;
///     Ok(StatusCode::NO_CONTENT)
/// }
/// # let _ = billing;
/// ```
#[derive(Clone, Debug)]
pub struct Auth(pub AuthContext);

impl Auth {
    /// The context.
    pub fn into_inner(self) -> AuthContext {
        self.0
    }
}

impl Deref for Auth {
    type Target = AuthContext;

    fn deref(&self) -> &AuthContext {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<AuthContext>() {
            Some(context) => Ok(Auth(context.clone())),
            None => {
                tracing::debug!("no auth context: the route is not behind a ClerkAuthLayer");
                Err(AuthRejection::new(AuthRejectionKind::NoContext, parts))
            }
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Auth {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<AuthContext>().cloned().map(Auth))
    }
}

/// A fully verified session: a valid token, not accepted expired (`Grace`) nor let through
/// without one (`Open`). Anything less is refused with a 401 ([`AuthRejection`]);
/// `Option<VerifiedUser>` is `None` instead.
///
/// For handlers that must never run on a degraded or bypassed identity, even on routes whose
/// [`ClerkAuthLayer`](crate::ClerkAuthLayer) lets those through.
///
/// ```
/// use clerk_incident_axum::VerifiedUser;
///
/// async fn whoami(user: VerifiedUser) -> String {
///     user.user_id.clone()
/// }
/// # let _ = whoami;
/// ```
#[derive(Clone, Debug)]
pub struct VerifiedUser(pub Arc<VerifiedSession>);

impl VerifiedUser {
    /// The session.
    pub fn into_inner(self) -> Arc<VerifiedSession> {
        self.0
    }

    fn from_parts(parts: &Parts) -> Result<Self, AuthRejectionKind> {
        let context = parts
            .extensions
            .get::<AuthContext>()
            .ok_or(AuthRejectionKind::NoContext)?;
        match &context.session {
            Some(session) if context.is_fully_verified() => Ok(VerifiedUser(Arc::clone(session))),
            _ => Err(AuthRejectionKind::NotVerified),
        }
    }
}

impl Deref for VerifiedUser {
    type Target = VerifiedSession;

    fn deref(&self) -> &VerifiedSession {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for VerifiedUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        VerifiedUser::from_parts(parts).map_err(|kind| AuthRejection::new(kind, parts))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for VerifiedUser {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(VerifiedUser::from_parts(parts).ok())
    }
}

/// The error of the [`Auth`] and [`VerifiedUser`] extractors: a [`Rejection`] that answers as
/// the middleware would.
///
/// Its response is the [custom rejection handler](crate::ClerkAuthLayer::rejection_handler)
/// of the [`ClerkAuthLayer`](crate::ClerkAuthLayer) the request went through, if it had one,
/// and [`default_rejection_response`](crate::default_rejection_response) otherwise.
#[derive(Clone, Debug)]
pub struct AuthRejection {
    refusal: ExtractorRejection,
    handler: Option<RejectionHandler>,
}

impl AuthRejection {
    /// A 401 with reason `missing`, answered with the request's rejection handler.
    fn new(kind: AuthRejectionKind, parts: &Parts) -> Self {
        Self {
            refusal: ExtractorRejection::unauthenticated(kind),
            handler: parts.extensions.get::<RejectionHandler>().cloned(),
        }
    }

    /// Why the request was refused.
    pub fn kind(&self) -> AuthRejectionKind {
        self.refusal.kind()
    }

    /// The core rejection: status, challenge and reason.
    pub fn rejection(&self) -> Rejection {
        self.refusal.rejection()
    }
}

impl From<Rejection> for AuthRejection {
    /// A refusal of the handler's own (such as [`authorize`]'s), answered with
    /// [`default_rejection_response`](crate::default_rejection_response).
    ///
    /// [`authorize`]: clerk_incident_core::auth::authorize
    fn from(rejection: Rejection) -> Self {
        Self {
            refusal: rejection.into(),
            handler: None,
        }
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.refusal.fmt(f)
    }
}

impl std::error::Error for AuthRejection {}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        respond(self.handler.as_ref(), &self.refusal.rejection())
    }
}
