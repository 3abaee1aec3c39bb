//! Clerk's error body, `{"errors":[{message, long_message, code, meta}], "clerk_trace_id"}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::query_params::{ParamError, ParamErrorKind};

/// An error answered in Clerk's shape.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    long_message: String,
    meta: Map<String, Value>,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
        long_message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            long_message: long_message.into(),
            meta: Map::new(),
            retry_after_secs: None,
        }
    }

    fn with_meta(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.meta.insert(name.to_owned(), value.into());
        self
    }

    /// 401 for a missing, unknown or revoked secret key, with the code Clerk's error index
    /// gives a rejected key (`clerk_key_invalid`; `authentication_invalid` is Clerk's code for
    /// a request without an active session). Never names the key.
    pub(crate) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "clerk_key_invalid",
            "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.",
            "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.",
        )
    }

    /// 404 for an unknown object or route.
    pub(crate) fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "resource_not_found",
            "not found",
            format!("{what} not found"),
        )
    }

    /// 503 of the outage fault.
    pub(crate) fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "Service unavailable",
            "Clerk is temporarily unavailable. Please try again later.",
        )
    }

    /// 500 of the error rate fault, or an internal failure of the sim.
    pub(crate) fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_clerk_error",
            "Oops, an unexpected error occurred",
            "There was an internal error on our servers. We've been notified and are working on fixing it.",
        )
    }

    /// 429 of the rate limit fault.
    pub(crate) fn rate_limited(retry_after_secs: u64) -> Self {
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Too Many Requests",
            "Too many requests, retry later",
        );
        error.retry_after_secs = Some(retry_after_secs);
        error
    }

    /// 400 for revoking a session that no longer authenticates its user. Clerk's exact answer
    /// is undocumented; the sim chooses code `session_not_active`.
    pub(crate) fn session_not_active(session_id: &str, status: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "session_not_active",
            "session is not active",
            format!("Session {session_id} is {status} and cannot be revoked."),
        )
        .with_meta("session_id", session_id)
        .with_meta("status", status)
    }
}

impl ApiError {
    /// 422 for a body that is not a JSON object.
    pub(crate) fn invalid_body(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "request_body_invalid",
            "The request body is invalid",
            detail,
        )
    }

    /// 422 for a body member the endpoint does not take.
    pub(crate) fn unknown_param(name: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_param_unknown",
            "is unknown",
            format!("{name} is not a valid parameter for this request."),
        )
        .with_meta("param_name", name)
    }

    /// 422 for a required body member that is absent or empty.
    pub(crate) fn missing_param(name: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_param_missing",
            "missing",
            format!("{name} must be included."),
        )
        .with_meta("param_name", name)
    }

    /// 422 for a body member of the wrong type or value.
    pub(crate) fn bad_param(name: &str, why: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_param_format_invalid",
            "is invalid",
            format!("{name} {why}."),
        )
        .with_meta("param_name", name)
    }

    /// 422 for an identifier (email address, username, URL...) that is already taken.
    pub(crate) fn identifier_exists(name: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_identifier_exists",
            "That identifier is taken",
            format!("That {name} is taken. Please try another."),
        )
        .with_meta("param_name", name)
    }
}

impl From<ParamError> for ApiError {
    fn from(error: ParamError) -> Self {
        let (code, message) = match error.kind {
            ParamErrorKind::Missing => ("form_param_missing", "missing"),
            ParamErrorKind::Format => ("form_param_format_invalid", "is invalid"),
            ParamErrorKind::Value => ("form_param_value_invalid", "is invalid"),
        };
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            message,
            error.detail,
        )
        .with_meta("param_name", error.param)
    }
}

#[derive(Serialize)]
struct ErrorsBody<'a> {
    errors: [ErrorEntry<'a>; 1],
    clerk_trace_id: String,
}

#[derive(Serialize)]
struct ErrorEntry<'a> {
    message: &'a str,
    long_message: &'a str,
    code: &'a str,
    meta: &'a Map<String, Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorsBody {
            errors: [ErrorEntry {
                message: &self.message,
                long_message: &self.long_message,
                code: self.code,
                meta: &self.meta,
            }],
            clerk_trace_id: format!("{:032x}", fastrand::u128(..)),
        };
        let mut response = super::json::response(self.status, &body);
        if let Some(seconds) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
