//! `GET /v1/jwks` and `GET /.well-known/jwks.json`, and `GET`/`PATCH /v1/instance`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::body::Body;
use super::json;
use super::wire::InstanceJson;
use crate::state::Shared;

/// The JWKS: the current signing key, then the previous one after a rotation.
pub(crate) async fn jwks(State(shared): State<Arc<Shared>>) -> Response {
    let generation = shared.lock().signing_generation;
    json::ok(&shared.signing.jwks(generation))
}

/// The instance.
pub(crate) async fn instance(State(shared): State<Arc<Shared>>) -> Response {
    let inner = shared.lock();
    json::ok(&InstanceJson::new(
        &shared.instance_id,
        shared.environment_type,
        &inner.allowed_origins,
    ))
}

/// The members of `UpdateInstance`; only `allowed_origins` shows in `GET /v1/instance`.
const UPDATE_FIELDS: &[&str] = &[
    "test_mode",
    "hibp",
    "support_email",
    "clerk_js_version",
    "development_origin",
    "allowed_origins",
    "cookieless_dev",
    "url_based_session_syncing",
    "preferred_sign_in_strategy_when_password_required",
];

/// `PATCH /v1/instance`: 204, as the spec says.
pub(crate) async fn update_instance(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let origins = match Body::parse(body, UPDATE_FIELDS).and_then(|body| {
        body.has("allowed_origins")
            .then(|| body.strings("allowed_origins"))
            .transpose()
    }) {
        Ok(origins) => origins,
        Err(error) => return error.into_response(),
    };
    if let Some(origins) = origins {
        shared.lock().allowed_origins = origins;
    }
    StatusCode::NO_CONTENT.into_response()
}
