//! `GET` and `PUT /_sim/webhooks`: the webhook endpoint, secret and drops.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::control::{ControlError, parse, present};
use super::json;
use crate::state::Shared;
use crate::svix::WebhookSecret;
use crate::webhooks::validate_endpoint;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhooksBody {
    #[serde(default, deserialize_with = "present")]
    endpoint: Option<Option<String>>,
    secret: Option<String>,
    drop_next: Option<u64>,
}

/// The configuration without the secret.
fn view(shared: &Shared) -> Response {
    let inner = shared.lock();
    json::ok(&json!({
        "endpoint": inner.webhooks.endpoint,
        "drop_next": inner.webhooks.drop_next,
        "delivered": inner.counters.webhooks_delivered,
        "dropped": inner.counters.webhooks_dropped,
        "failed": inner.counters.webhooks_failed,
    }))
}

/// `GET /_sim/webhooks`.
pub(crate) async fn get(State(shared): State<Arc<Shared>>) -> Response {
    view(&shared)
}

/// `PUT /_sim/webhooks`: members left out stay as they are; `"endpoint": null` removes the
/// endpoint.
pub(crate) async fn put(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ControlError> {
    let body: WebhooksBody = parse(body)?;
    let endpoint = match body.endpoint {
        Some(Some(endpoint)) => Some(Some(
            validate_endpoint(&endpoint).map_err(ControlError::bad_request)?,
        )),
        Some(None) => Some(None),
        None => None,
    };
    let secret = body
        .secret
        .as_deref()
        .map(WebhookSecret::parse)
        .transpose()
        .map_err(ControlError::bad_request)?;
    {
        let mut inner = shared.lock();
        if let Some(endpoint) = endpoint {
            inner.webhooks.endpoint = endpoint;
        }
        if let Some(secret) = secret {
            inner.webhooks.secret = secret;
        }
        if let Some(drop_next) = body.drop_next {
            inner.webhooks.drop_next = drop_next;
        }
    }
    tracing::info!("clerk sim webhooks configured");
    Ok(view(&shared))
}
