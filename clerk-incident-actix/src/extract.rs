//! The extractors handlers read the request's identity with: [`Auth`] and [`VerifiedUser`].

use std::future::{Ready, ready};
use std::ops::Deref;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use clerk_incident_core::auth::{AuthContext, VerifiedSession};

use clerk_incident_core::auth::AuthRejectionKind;

use crate::rejection::{AuthRejection, RejectionHandler};

/// The [`AuthContext`] that [`ClerkAuth`](crate::ClerkAuth) attached to the request: the
/// verified session if any, the mode, and whether the identity is degraded (`Grace`) or the
/// request was let through by the bypass (`Open`).
///
/// Without the middleware there is no context and the extractor fails closed with a 401
/// ([`AuthRejection`]). `Option<Auth>` is `None` instead, for routes that serve everyone and
/// personalise for signed-in users.
///
/// In `Open` mode a request may pass with no session at all: check
/// [`session`](AuthContext::session), or take [`VerifiedUser`] where only a fully verified
/// identity will do.
///
/// ```
/// use actix_web::{HttpResponse, web};
/// use clerk_incident_actix::Auth;
///
/// async fn me(auth: Auth) -> HttpResponse {
///     match &auth.session {
///         Some(session) => HttpResponse::Ok().body(session.user_id.clone()),
///         None => HttpResponse::Ok().body("anonymous (emergency bypass)"),
///     }
/// }
///
/// async fn home(auth: Option<Auth>) -> HttpResponse {
///     let signed_in = auth.is_some_and(|auth| auth.session.is_some());
///     HttpResponse::Ok().body(if signed_in { "welcome back" } else { "hello" })
/// }
/// # let _ = (web::get().to(me), web::get().to(home));
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

impl FromRequest for Auth {
    type Error = AuthRejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let extensions = req.extensions();
        ready(match extensions.get::<AuthContext>() {
            Some(context) => Ok(Auth(context.clone())),
            None => Err(AuthRejection::unauthenticated(
                AuthRejectionKind::NoContext,
                extensions.get::<RejectionHandler>().cloned(),
            )),
        })
    }
}

/// A session that verified in full: not accepted as expired (`Grace`), not let through by the
/// bypass (`Open`). Anything less is refused with a 401 ([`AuthRejection`]), in every mode,
/// and so is a request the middleware did not see.
///
/// Take it in handlers that must act for a proven user. Mind the mode: on a protected route
/// every request is [bypassed](AuthContext::bypassed) in `Open` mode, even one with a valid
/// token, so this extractor refuses them all there; on a
/// [sensitive](clerk_incident_core::auth::RouteRule::sensitive) route (or one with a
/// [requirement](crate::ClerkAuth::require)) the middleware verifies in full in every mode and
/// this extractor never refuses what the middleware let through.
///
/// ```
/// use actix_web::HttpResponse;
/// use clerk_incident_actix::VerifiedUser;
///
/// async fn delete_account(user: VerifiedUser) -> HttpResponse {
///     HttpResponse::Accepted().body(format!("deleting {}", user.user_id))
/// }
/// # let _ = actix_web::web::delete().to(delete_account);
/// ```
#[derive(Clone, Debug)]
pub struct VerifiedUser(pub Arc<VerifiedSession>);

impl VerifiedUser {
    /// The session.
    pub fn into_inner(self) -> Arc<VerifiedSession> {
        self.0
    }
}

impl Deref for VerifiedUser {
    type Target = VerifiedSession;

    fn deref(&self) -> &VerifiedSession {
        &self.0
    }
}

impl FromRequest for VerifiedUser {
    type Error = AuthRejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let extensions = req.extensions();
        let handler = || extensions.get::<RejectionHandler>().cloned();
        ready(match extensions.get::<AuthContext>() {
            Some(context) => match &context.session {
                Some(session) if context.is_fully_verified() => {
                    Ok(VerifiedUser(Arc::clone(session)))
                }
                _ => Err(AuthRejection::unauthenticated(
                    AuthRejectionKind::NotVerified,
                    handler(),
                )),
            },
            None => Err(AuthRejection::unauthenticated(
                AuthRejectionKind::NoContext,
                handler(),
            )),
        })
    }
}
