//! `GET /v1/jwks` and `GET /.well-known/jwks.json`, and `GET /v1/instance`.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;

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
    json::ok(&InstanceJson::new(
        &shared.instance_id,
        shared.environment_type,
    ))
}
