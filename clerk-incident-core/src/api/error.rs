//! [`ApiError`]: everything that can go wrong talking to the Backend API.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Deserialize;

use crate::http::TransportError;

/// One entry of Clerk's error body (`{"errors":[{message, long_message, code, meta}], …}`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ClerkErrorDetail {
    /// Short, human-readable message.
    #[serde(default)]
    pub message: String,
    /// Longer explanation.
    #[serde(default)]
    pub long_message: String,
    /// Machine-readable code, such as `resource_not_found` or `authentication_invalid`.
    #[serde(default)]
    pub code: String,
}

/// Clerk's error body, as the OpenAPI spec's `ClerkErrors` schema describes it.
#[derive(Debug, Deserialize)]
pub(crate) struct ClerkErrorBody {
    #[serde(default)]
    pub(crate) errors: Vec<ClerkErrorDetail>,
    #[serde(default)]
    pub(crate) clerk_trace_id: Option<String>,
}

/// Why a Backend API call failed.
///
/// Messages name the operation and the number of attempts; they never repeat the source error
/// (walk [`std::error::Error::source`] for it) and never contain the secret key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// Clerk could not be reached, or did not answer in time, on every attempt.
    #[error("could not reach the Clerk Backend API ({operation}) after {attempts} attempt(s)")]
    Transport {
        /// The operation, such as `list users`.
        operation: &'static str,
        /// How many attempts were made.
        attempts: u32,
        /// The last transport failure.
        #[source]
        source: TransportError,
    },
    /// Clerk answered with an error status.
    #[error(
        "Clerk answered {operation} with HTTP {status}{} after {attempts} attempt(s)",
        describe(errors, clerk_trace_id.as_deref())
    )]
    Api {
        /// The operation, such as `revoke session`.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The entries of Clerk's error body; empty when the body was not Clerk's JSON.
        errors: Vec<ClerkErrorDetail>,
        /// Clerk's trace id, to quote to Clerk support.
        clerk_trace_id: Option<String>,
        /// How many attempts were made.
        attempts: u32,
    },
    /// Clerk kept answering 429 past the retry budget.
    #[error("rate limited by Clerk ({operation}) after {attempts} attempt(s){}", retry_hint(*retry_after))]
    RateLimited {
        /// The operation.
        operation: &'static str,
        /// How many attempts were made.
        attempts: u32,
        /// The last `Retry-After` Clerk sent, if any.
        retry_after: Option<Duration>,
    },
    /// A success response whose body is not the documented shape.
    #[error("could not decode Clerk's answer to {operation} (HTTP {status}): {detail}")]
    Decode {
        /// The operation.
        operation: &'static str,
        /// The HTTP status of the response.
        status: u16,
        /// What was wrong (never a copy of the body).
        detail: String,
    },
    /// The call was not sent: the work it belongs to had to stop by then (a fleet revocation
    /// job whose lease may have passed to another instance).
    #[error(
        "{operation} was not sent: the caller's lease on the work may have passed to another instance"
    )]
    DeadlinePassed {
        /// The operation.
        operation: &'static str,
    },
    /// The client or the call was configured wrongly; nothing was sent.
    #[error("invalid configuration: {0}")]
    Config(String),
}

fn describe(errors: &[ClerkErrorDetail], trace: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(first) = errors.first() {
        if !first.code.is_empty() {
            let _ = write!(out, " ({})", first.code);
        }
        let message = if first.long_message.is_empty() {
            &first.message
        } else {
            &first.long_message
        };
        if !message.is_empty() {
            let _ = write!(out, ": {message}");
        }
    }
    if let Some(trace) = trace {
        let _ = write!(out, " [clerk_trace_id {trace}]");
    }
    out
}

fn retry_hint(retry_after: Option<Duration>) -> String {
    retry_after.map_or_else(String::new, |wait| {
        format!("; Clerk asked to wait {} s", wait.as_secs_f64().ceil())
    })
}

impl ApiError {
    /// The HTTP status Clerk answered with, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Api { status, .. } | ApiError::Decode { status, .. } => Some(*status),
            ApiError::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// The first Clerk error code, such as `resource_not_found`.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Api { errors, .. } => errors
                .first()
                .map(|e| e.code.as_str())
                .filter(|c| !c.is_empty()),
            _ => None,
        }
    }

    /// Clerk's trace id, when the error body carried one.
    pub fn clerk_trace_id(&self) -> Option<&str> {
        match self {
            ApiError::Api { clerk_trace_id, .. } => clerk_trace_id.as_deref(),
            _ => None,
        }
    }

    /// How many attempts were made before giving up (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        match self {
            ApiError::Transport { attempts, .. }
            | ApiError::Api { attempts, .. }
            | ApiError::RateLimited { attempts, .. } => *attempts,
            ApiError::Decode { .. } => 1,
            ApiError::Config(_) | ApiError::DeadlinePassed { .. } => 0,
        }
    }

    /// True when Clerk rejected the secret key (HTTP 401).
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    /// True when Clerk said the resource does not exist (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_code_trace_and_attempts() {
        let err = ApiError::Api {
            operation: "get user",
            status: 404,
            errors: vec![ClerkErrorDetail {
                message: "not found".into(),
                long_message: "Resource not found".into(),
                code: "resource_not_found".into(),
            }],
            clerk_trace_id: Some("t-1".into()),
            attempts: 1,
        };
        assert_eq!(
            err.to_string(),
            "Clerk answered get user with HTTP 404 (resource_not_found): Resource not found \
             [clerk_trace_id t-1] after 1 attempt(s)"
        );
        assert_eq!(err.code(), Some("resource_not_found"));
        assert!(err.is_not_found());
    }

    #[test]
    fn rate_limited_display_mentions_the_wait() {
        let err = ApiError::RateLimited {
            operation: "list users",
            attempts: 3,
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(
            err.to_string(),
            "rate limited by Clerk (list users) after 3 attempt(s); Clerk asked to wait 7 s"
        );
        assert_eq!(err.status(), Some(429));
    }
}
