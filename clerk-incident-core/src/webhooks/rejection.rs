//! How a webhook endpoint refuses a delivery: the status and the fixed body, shared by the
//! adapters' `VerifiedWebhook` extractors.

use std::fmt;

use super::WebhookError;

/// Why a webhook extractor refused a delivery.
///
/// Each kind has one status and one fixed JSON body: nothing of the request, nor the exact
/// reason, is ever echoed (the reason is logged instead).
///
/// ```
/// use clerk_incident_core::webhooks::WebhookRejectionKind;
///
/// let kind = WebhookRejectionKind::Invalid;
/// assert_eq!(kind.status(), 400);
/// assert_eq!(
///     kind.json_body(),
///     r#"{"error":"invalid_webhook","message":"webhook signature verification failed"}"#
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WebhookRejectionKind {
    /// No verifier is configured for the endpoint: a misconfiguration (500, fail closed).
    NotConfigured,
    /// The delivery did not verify, or its body is not a Clerk event (400).
    Invalid,
    /// The body is over the endpoint's body limit (413).
    TooLarge,
}

impl WebhookRejectionKind {
    /// The HTTP status: 500, 400 or 413.
    pub fn status(self) -> u16 {
        match self {
            WebhookRejectionKind::NotConfigured => 500,
            WebhookRejectionKind::Invalid => 400,
            WebhookRejectionKind::TooLarge => 413,
        }
    }

    /// The `error` code of the body.
    pub fn code(self) -> &'static str {
        match self {
            WebhookRejectionKind::NotConfigured => "webhook_not_configured",
            WebhookRejectionKind::Invalid => "invalid_webhook",
            WebhookRejectionKind::TooLarge => "payload_too_large",
        }
    }

    /// The `message` of the body.
    pub fn message(self) -> &'static str {
        match self {
            WebhookRejectionKind::NotConfigured => "webhook verification is not configured",
            WebhookRejectionKind::Invalid => "webhook signature verification failed",
            WebhookRejectionKind::TooLarge => "webhook body is too large",
        }
    }

    /// The response body, `{"error":…,"message":…}`: the same bytes for every request.
    pub fn json_body(self) -> &'static str {
        match self {
            WebhookRejectionKind::NotConfigured => {
                r#"{"error":"webhook_not_configured","message":"webhook verification is not configured"}"#
            }
            WebhookRejectionKind::Invalid => {
                r#"{"error":"invalid_webhook","message":"webhook signature verification failed"}"#
            }
            WebhookRejectionKind::TooLarge => {
                r#"{"error":"payload_too_large","message":"webhook body is too large"}"#
            }
        }
    }
}

/// Why a webhook extractor refused a delivery: the [kind](WebhookRejectionKind) (which fixes
/// the answer) and, for an invalid delivery, the [`WebhookError`] (which only the log sees).
///
/// The adapters wrap it in their own error type, which answers
/// [`status`](WebhookRejectionKind::status) with [`json_body`](WebhookRejectionKind::json_body).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookRejection {
    kind: WebhookRejectionKind,
    error: Option<WebhookError>,
}

impl WebhookRejection {
    /// No verifier is configured for the endpoint.
    pub fn not_configured() -> Self {
        Self::of(WebhookRejectionKind::NotConfigured, None)
    }

    /// The body is over the endpoint's limit.
    pub fn too_large() -> Self {
        Self::of(WebhookRejectionKind::TooLarge, None)
    }

    /// The body could not be read.
    pub fn unreadable() -> Self {
        Self::of(WebhookRejectionKind::Invalid, None)
    }

    /// The delivery did not verify, or its body is not a Clerk event.
    pub fn invalid(error: WebhookError) -> Self {
        Self::of(WebhookRejectionKind::Invalid, Some(error))
    }

    fn of(kind: WebhookRejectionKind, error: Option<WebhookError>) -> Self {
        Self { kind, error }
    }

    /// Which of the fixed answers it gets.
    pub fn kind(&self) -> WebhookRejectionKind {
        self.kind
    }

    /// The verification or payload error, when that is why.
    pub fn error(&self) -> Option<WebhookError> {
        self.error
    }

    /// Logs the reason (an error for a missing verifier, a warning otherwise) and returns
    /// the rejection: the one place the adapters' extractors report a refusal.
    #[must_use]
    pub fn logged(self) -> Self {
        match self.kind {
            WebhookRejectionKind::NotConfigured => tracing::error!(
                "webhook delivery refused: no WebhookVerifier is configured for this route"
            ),
            WebhookRejectionKind::TooLarge | WebhookRejectionKind::Invalid => {
                tracing::warn!("{self}");
            }
        }
        self
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.error, self.kind) {
            (Some(error), _) => write!(f, "webhook delivery rejected: {error}"),
            (None, WebhookRejectionKind::Invalid) => {
                f.write_str("webhook delivery rejected: the body could not be read")
            }
            (None, kind) => write!(f, "webhook delivery rejected: {}", kind.message()),
        }
    }
}

impl std::error::Error for WebhookRejection {}

#[cfg(test)]
mod tests {
    use super::{WebhookError, WebhookRejection, WebhookRejectionKind};

    #[test]
    fn rejections_keep_their_kind_and_reason() {
        let invalid = WebhookRejection::invalid(WebhookError::TooOld);
        assert_eq!(invalid.kind(), WebhookRejectionKind::Invalid);
        assert_eq!(invalid.error(), Some(WebhookError::TooOld));
        assert!(invalid.to_string().contains("too old"));
        assert_eq!(WebhookRejection::too_large().kind().status(), 413);
        assert_eq!(WebhookRejection::not_configured().kind().status(), 500);
        assert_eq!(WebhookRejection::unreadable().error(), None);
    }

    #[test]
    fn bodies_are_json_of_the_code_and_message() {
        for kind in [
            WebhookRejectionKind::NotConfigured,
            WebhookRejectionKind::Invalid,
            WebhookRejectionKind::TooLarge,
        ] {
            let body: serde_json::Value = serde_json::from_str(kind.json_body()).unwrap();
            assert_eq!(body["error"], kind.code());
            assert_eq!(body["message"], kind.message());
        }
    }
}
