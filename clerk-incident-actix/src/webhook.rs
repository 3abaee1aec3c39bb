//! The [`VerifiedWebhook`] extractor: a Clerk (Svix) webhook delivery whose signature verified.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};
use clerk_incident_core::webhooks::{
    VerifiedDelivery, WebhookError, WebhookEvent, WebhookHeaders, WebhookRejection as Rejection,
    WebhookRejectionKind, WebhookVerifier,
};

/// A webhook delivery that verified against the `web::Data<`[`WebhookVerifier`]`>` in the
/// app data, with its parsed event.
///
/// On failure the request is answered with a [`WebhookRejection`]. Dedupe with
/// [`delivery.id`](VerifiedDelivery::id) (the `svix-id`): Svix retries a delivery with the
/// same id.
///
/// The [`WebhookVerifier`] comes from the app data: register it as
/// `web::Data<WebhookVerifier>` on the app, scope or resource. The body is read as raw bytes
/// within actix-web's payload limit ([`web::PayloadConfig`], 256 KiB unless changed) and
/// verified as received, never re-serialised.
///
/// | Request | Answer |
/// | --- | --- |
/// | headers and signature valid, body a Clerk event | the handler runs |
/// | a header missing, stale or future timestamp, no matching signature, body not an event | 400 `{"error":"invalid_webhook",…}` |
/// | body over the limit | 413 `{"error":"payload_too_large",…}` |
/// | no `web::Data<WebhookVerifier>` | 500 `{"error":"webhook_not_configured",…}` |
///
/// The 400 body is always the same: it never repeats a header, the body or why verification
/// failed. The reason ([`WebhookError`], which names no secret) is logged at warn level.
///
/// # Example
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use clerk_incident_actix::VerifiedWebhook;
/// use clerk_incident_actix::core::webhooks::{WebhookSecret, WebhookVerifier};
///
/// async fn clerk_webhook(webhook: VerifiedWebhook) -> HttpResponse {
///     tracing::info!(id = %webhook.delivery.id, r#type = %webhook.event.event_type, "webhook");
///     HttpResponse::NoContent().finish()
/// }
///
/// fn app(secret: WebhookSecret) {
///     let _app = App::new().service(
///         web::resource("/api/webhooks/clerk")
///             .app_data(web::Data::new(WebhookVerifier::new(secret)))
///             .route(web::post().to(clerk_webhook)),
///     );
/// }
/// # let _ = app;
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

impl FromRequest for VerifiedWebhook {
    type Error = WebhookRejection;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = Bytes::from_request(&req, payload);
        Box::pin(async move {
            let Some(verifier) = req.app_data::<web::Data<WebhookVerifier>>() else {
                return Err(Rejection::not_configured().logged().into());
            };
            let body = body.await.map_err(|error| {
                let reason =
                    if error.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                        Rejection::too_large()
                    } else {
                        Rejection::unreadable()
                    };
                WebhookRejection(reason.logged())
            })?;
            let verified = WebhookHeaders::from_lookup(|name| {
                req.headers().get(name).map(|value| value.as_bytes())
            })
            .and_then(|signed| verifier.verify_event_at(&signed, &body, SystemTime::now()));
            match verified {
                Ok((delivery, event)) => Ok(Self {
                    delivery,
                    event,
                    body,
                }),
                Err(error) => Err(Rejection::invalid(error).logged().into()),
            }
        })
    }
}

/// The error of the [`VerifiedWebhook`] extractor, a [`ResponseError`]: core's
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

impl ResponseError for WebhookRejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.kind().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .insert_header(ContentType::json())
            .body(self.kind().json_body())
    }
}
