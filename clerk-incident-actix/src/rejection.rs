//! [`AuthRejection`]: a refused request as an actix-web [`ResponseError`], and the default
//! response every refusal gets.

use std::fmt;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use clerk_incident_core::auth::{AuthRejectionKind, ExtractorRejection, Rejection};

/// The response a [`Rejection`] gets by default: its [status](Rejection::status), the
/// `WWW-Authenticate` challenge of RFC 6750 on a 401 or 403, `Retry-After` on a 503, and the
/// JSON body of [`Rejection::json_body`] (`{"error":"invalid_token","reason":"expired"}`).
///
/// A [custom rejection handler](crate::ClerkAuth::rejection_handler) can start from it and
/// change only what it needs:
///
/// ```
/// use actix_web::HttpResponse;
/// use actix_web::http::header::{HeaderName, HeaderValue};
/// use clerk_incident_actix::{ClerkAuth, default_rejection_response};
/// use clerk_incident_actix::core::auth::{AuthPolicy, Rejection};
///
/// fn with_docs_link(rejection: &Rejection) -> HttpResponse {
///     let mut response = default_rejection_response(rejection);
///     response.headers_mut().insert(
///         HeaderName::from_static("link"),
///         HeaderValue::from_static("<https://example.com/docs/auth>; rel=\"help\""),
///     );
///     response
/// }
///
/// fn guard(policy: AuthPolicy) -> ClerkAuth {
///     ClerkAuth::new(policy).rejection_handler(with_docs_link)
/// }
/// # let _ = guard;
/// ```
pub fn default_rejection_response(rejection: &Rejection) -> HttpResponse {
    let status = StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let mut response = HttpResponse::build(status);
    if let Some(challenge) = rejection
        .www_authenticate()
        .and_then(|value| HeaderValue::from_str(value).ok())
    {
        response.insert_header((header::WWW_AUTHENTICATE, challenge));
    }
    if let Some(seconds) = rejection.retry_after_secs() {
        response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
    }
    response
        .content_type(header::ContentType::json())
        .body(rejection.json_body())
}

/// A replaceable rejection response, shared by the middleware and the extractors.
#[derive(Clone)]
pub(crate) struct RejectionHandler(Arc<dyn Fn(&Rejection) -> HttpResponse + Send + Sync>);

impl RejectionHandler {
    pub(crate) fn new<F>(handler: F) -> Self
    where
        F: Fn(&Rejection) -> HttpResponse + Send + Sync + 'static,
    {
        Self(Arc::new(handler))
    }

    pub(crate) fn respond(&self, rejection: &Rejection) -> HttpResponse {
        (self.0)(rejection)
    }
}

impl fmt::Debug for RejectionHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RejectionHandler(..)")
    }
}

/// The error of the [`Auth`](crate::Auth) and [`VerifiedUser`](crate::VerifiedUser)
/// extractors: a [`Rejection`] that answers as the middleware would.
///
/// Its response is the [custom rejection handler](crate::ClerkAuth::rejection_handler) of the
/// [`ClerkAuth`](crate::ClerkAuth) the request went through, if it had one, and
/// [`default_rejection_response`] otherwise.
///
/// A handler can return it for its own checks, with core's
/// [`authorize`](clerk_incident_core::auth::authorize):
///
/// ```
/// use actix_web::HttpResponse;
/// use clerk_incident_actix::{Auth, AuthRejection};
/// use clerk_incident_actix::core::auth::{Check, authorize};
///
/// async fn billing(auth: Auth) -> Result<HttpResponse, AuthRejection> {
///     authorize(&auth, Check::Permission("org:billing:manage"))?;
///     Ok(HttpResponse::Ok().finish())
/// }
/// # let _ = billing;
/// ```
#[derive(Clone, Debug)]
pub struct AuthRejection {
    refusal: ExtractorRejection,
    handler: Option<RejectionHandler>,
}

impl AuthRejection {
    /// A 401 with reason `missing`: what an extractor fails with when there is no usable
    /// identity.
    pub(crate) fn unauthenticated(
        kind: AuthRejectionKind,
        handler: Option<RejectionHandler>,
    ) -> Self {
        Self {
            refusal: ExtractorRejection::unauthenticated(kind),
            handler,
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
    /// A refusal of the handler's own (such as
    /// [`authorize`](clerk_incident_core::auth::authorize)'s), answered with
    /// [`default_rejection_response`].
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

impl ResponseError for AuthRejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.rejection().status()).unwrap_or(StatusCode::UNAUTHORIZED)
    }

    fn error_response(&self) -> HttpResponse {
        let rejection = self.rejection();
        match &self.handler {
            Some(handler) => handler.respond(&rejection),
            None => default_rejection_response(&rejection),
        }
    }
}

#[cfg(test)]
mod tests {
    use clerk_incident_core::auth::RejectReason;

    use super::*;

    fn header(response: &HttpResponse, name: header::HeaderName) -> Option<&str> {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    }

    #[test]
    fn unauthenticated_is_a_401_challenge() {
        let response =
            default_rejection_response(&Rejection::Unauthenticated(RejectReason::Expired));
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            header(&response, header::WWW_AUTHENTICATE),
            Some(r#"Bearer error="invalid_token""#)
        );
        assert_eq!(
            header(&response, header::CONTENT_TYPE),
            Some("application/json")
        );
        assert_eq!(header(&response, header::RETRY_AFTER), None);
    }

    #[test]
    fn forbidden_is_insufficient_scope() {
        let response = default_rejection_response(&Rejection::Forbidden);
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            header(&response, header::WWW_AUTHENTICATE),
            Some(r#"Bearer error="insufficient_scope""#)
        );
    }

    #[test]
    fn keys_unavailable_is_a_503_to_retry() {
        let response =
            default_rejection_response(&Rejection::Unauthenticated(RejectReason::KeysUnavailable));
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(header(&response, header::WWW_AUTHENTICATE), None);
        assert_eq!(header(&response, header::RETRY_AFTER), Some("5"));
    }

    #[test]
    fn the_error_answers_with_the_handler_it_carries() {
        let handler = RejectionHandler::new(|_| HttpResponse::ImATeapot().finish());
        let custom = AuthRejection::unauthenticated(AuthRejectionKind::NotVerified, Some(handler));
        assert_eq!(custom.status_code(), StatusCode::UNAUTHORIZED);
        assert_eq!(custom.error_response().status(), StatusCode::IM_A_TEAPOT);
        let plain = AuthRejection::from(Rejection::Forbidden);
        assert_eq!(plain.error_response().status(), StatusCode::FORBIDDEN);
        assert_eq!(plain.kind(), AuthRejectionKind::Refused);
        assert_eq!(
            plain.to_string(),
            "request refused (403 insufficient_scope)"
        );
    }
}
