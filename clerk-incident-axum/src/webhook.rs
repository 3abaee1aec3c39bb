//! The [`VerifiedWebhook`] extractor: a Clerk (Svix) webhook delivery whose signature verified.

use std::fmt;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clerk_incident_core::webhooks::{
    VerifiedDelivery, WebhookError, WebhookEvent, WebhookHeaders, WebhookRejection as Rejection,
    WebhookRejectionKind, WebhookVerifier,
};

/// A webhook delivery that verified against the [`WebhookVerifier`] in the request
/// extensions, with its parsed event.
///
/// It consumes the body, so it must be the handler's last argument. On failure it answers
/// with a [`WebhookRejection`]. Dedupe with [`delivery.id`](VerifiedDelivery::id) (the
/// `svix-id`): Svix retries a delivery with the same id.
///
/// The [`WebhookVerifier`] comes from the request extensions: add it with
/// [`Extension`](axum::Extension) on the webhook route (or the whole router). The body is read
/// as raw bytes within axum's body limit ([`DefaultBodyLimit`](axum::extract::DefaultBodyLimit),
/// 2 MB unless changed) and verified as received, never re-serialised.
///
/// | Request | Answer |
/// | --- | --- |
/// | headers and signature valid, body a Clerk event | the handler runs |
/// | a header missing, stale or future timestamp, no matching signature, body not an event | 400 `{"error":"invalid_webhook",…}` |
/// | body over the limit | 413 `{"error":"payload_too_large",…}` |
/// | no `WebhookVerifier` in the extensions | 500 `{"error":"webhook_not_configured",…}` |
///
/// The 400 body is always the same: it never repeats a header, the body or why verification
/// failed. The reason ([`WebhookError`], which names no secret) is logged at warn level.
///
/// # Example
///
/// ```
/// use axum::http::StatusCode;
/// use axum::routing::post;
/// use axum::{Extension, Router};
/// use clerk_incident_axum::VerifiedWebhook;
/// use clerk_incident_axum::core::webhooks::{WebhookSecret, WebhookVerifier};
///
/// async fn clerk_webhook(webhook: VerifiedWebhook) -> StatusCode {
///     tracing::info!(id = %webhook.delivery.id, r#type = %webhook.event.event_type, "webhook");
///     StatusCode::NO_CONTENT
/// }
///
/// fn webhooks(secret: WebhookSecret) -> Router {
///     Router::new()
///         .route("/api/webhooks/clerk", post(clerk_webhook))
///         .layer(Extension(WebhookVerifier::new(secret)))
/// }
/// # let _ = webhooks;
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct VerifiedWebhook {
    /// The verified message id and timestamp.
    pub delivery: VerifiedDelivery,
    /// The event the body holds.
    pub event: WebhookEvent,
    /// The raw body, exactly as received and verified.
    pub body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for VerifiedWebhook {
    type Rejection = WebhookRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Some(verifier) = req.extensions().get::<WebhookVerifier>().cloned() else {
            return Err(Rejection::not_configured().logged().into());
        };
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state).await.map_err(|rejection| {
            let reason = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Rejection::too_large()
            } else {
                Rejection::unreadable()
            };
            WebhookRejection(reason.logged())
        })?;
        let verified = WebhookHeaders::from_header_map(&headers)
            .and_then(|signed| verifier.verify_event_at(&signed, &body, SystemTime::now()));
        match verified {
            Ok((delivery, event)) => Ok(Self {
                delivery,
                event,
                body,
            }),
            Err(error) => Err(Rejection::invalid(error).logged().into()),
        }
    }
}

/// The error of the [`VerifiedWebhook`] extractor: core's
/// [`WebhookRejection`](clerk_incident_core::webhooks::WebhookRejection), answered as a response.
///
/// Its response is one of three fixed JSON bodies (see [`VerifiedWebhook`]): nothing of
/// the request, nor the reason, is echoed. [`error`](Self::error) gives the reason to code that
/// wants it.
#[derive(Clone, Copy, Debug)]
pub struct WebhookRejection(Rejection);

impl WebhookRejection {
    /// Why the delivery was refused.
    pub fn kind(&self) -> WebhookRejectionKind {
        self.0.kind()
    }

    /// The verification or payload error, when that is why.
    pub fn error(&self) -> Option<WebhookError> {
        self.0.error()
    }

    /// The response status: 400, 413 or 500.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.kind().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<Rejection> for WebhookRejection {
    fn from(rejection: Rejection) -> Self {
        Self(rejection)
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for WebhookRejection {}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        (
            self.status(),
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            self.kind().json_body(),
        )
            .into_response()
    }
}
