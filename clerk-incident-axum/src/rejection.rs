//! The response a refused request gets: [`default_rejection_response`], or the handler given
//! to [`ClerkAuthLayer::rejection_handler`](crate::ClerkAuthLayer::rejection_handler).

use std::fmt;
use std::sync::Arc;

use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use clerk_incident_core::auth::Rejection;

/// The `X-Auth-Bypass` response header: `true` in `Open` mode, `grace` in `Grace` mode, absent
/// in `Enforce`.
pub const X_AUTH_BYPASS: HeaderName = HeaderName::from_static("x-auth-bypass");

/// The response a [`Rejection`] gets by default: its [status](Rejection::status), the
/// `WWW-Authenticate` challenge of RFC 6750 on a 401 or 403, `Retry-After` on a 503, and the
/// JSON body of [`Rejection::json_body`] (`{"error":"invalid_token","reason":"expired"}`).
///
/// A [custom rejection handler](crate::ClerkAuthLayer::rejection_handler) can start from it
/// and change only what it needs:
///
/// ```
/// use axum::http::HeaderValue;
/// use axum::http::header::LINK;
/// use axum::response::Response;
/// use clerk_incident_axum::core::auth::{AuthPolicy, Rejection};
/// use clerk_incident_axum::{ClerkAuthLayer, default_rejection_response};
///
/// fn with_docs_link(rejection: &Rejection) -> Response {
///     let mut response = default_rejection_response(rejection);
///     response.headers_mut().insert(
///         LINK,
///         HeaderValue::from_static("<https://example.com/docs/auth>; rel=\"help\""),
///     );
///     response
/// }
///
/// fn guard(policy: AuthPolicy) -> ClerkAuthLayer {
///     ClerkAuthLayer::new(policy).rejection_handler(with_docs_link)
/// }
/// # let _ = guard;
/// ```
pub fn default_rejection_response(rejection: &Rejection) -> Response {
    let status = StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let mut response = Response::new(Body::from(rejection.json_body()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(challenge) = rejection
        .www_authenticate()
        .and_then(|value| HeaderValue::from_str(value).ok())
    {
        headers.insert(WWW_AUTHENTICATE, challenge);
    }
    if let Some(seconds) = rejection.retry_after_secs() {
        headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// Sets `X-Auth-Bypass` to `value` (replacing any earlier value, so the header is never
/// repeated).
pub(crate) fn set_bypass_header(headers: &mut HeaderMap, value: Option<&'static str>) {
    if let Some(value) = value.and_then(|value| HeaderValue::from_str(value).ok()) {
        headers.insert(X_AUTH_BYPASS, value);
    }
}

/// A replaceable rejection response, shared by the middleware and, through the request
/// extensions, by the extractors of the routes behind it.
#[derive(Clone)]
pub(crate) struct RejectionHandler(Arc<dyn Fn(&Rejection) -> Response + Send + Sync>);

impl RejectionHandler {
    pub(crate) fn new<F>(handler: F) -> Self
    where
        F: Fn(&Rejection) -> Response + Send + Sync + 'static,
    {
        Self(Arc::new(handler))
    }

    pub(crate) fn respond(&self, rejection: &Rejection) -> Response {
        (self.0)(rejection)
    }
}

impl fmt::Debug for RejectionHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RejectionHandler(..)")
    }
}

/// The response of `rejection`: the custom handler's if there is one, the default otherwise.
pub(crate) fn respond(handler: Option<&RejectionHandler>, rejection: &Rejection) -> Response {
    match handler {
        Some(handler) => handler.respond(rejection),
        None => default_rejection_response(rejection),
    }
}

#[cfg(test)]
mod tests {
    use clerk_incident_core::auth::RejectReason;

    use super::*;

    fn header(response: &Response, name: HeaderName) -> Option<&str> {
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
            header(&response, WWW_AUTHENTICATE),
            Some(r#"Bearer error="invalid_token""#)
        );
        assert_eq!(header(&response, CONTENT_TYPE), Some("application/json"));
        assert_eq!(header(&response, RETRY_AFTER), None);
    }

    #[test]
    fn forbidden_is_insufficient_scope() {
        let response = default_rejection_response(&Rejection::Forbidden);
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            header(&response, WWW_AUTHENTICATE),
            Some(r#"Bearer error="insufficient_scope""#)
        );
    }

    #[test]
    fn keys_unavailable_is_a_503_to_retry() {
        let response =
            default_rejection_response(&Rejection::Unauthenticated(RejectReason::KeysUnavailable));
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(header(&response, WWW_AUTHENTICATE), None);
        assert_eq!(header(&response, RETRY_AFTER), Some("5"));
    }

    #[test]
    fn the_bypass_header_is_set_once() {
        let mut headers = HeaderMap::new();
        set_bypass_header(&mut headers, Some("true"));
        set_bypass_header(&mut headers, Some("grace"));
        set_bypass_header(&mut headers, None);
        assert_eq!(headers.get_all(X_AUTH_BYPASS).iter().count(), 1);
        assert_eq!(
            headers.get(X_AUTH_BYPASS),
            Some(&HeaderValue::from_static("grace"))
        );
    }
}
