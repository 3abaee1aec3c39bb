//! How a webhook endpoint refuses a delivery: the status and the fixed body, shared by the
//! adapters' `VerifiedWebhook` extractors.

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

#[cfg(test)]
mod tests {
    use super::WebhookRejectionKind;

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
