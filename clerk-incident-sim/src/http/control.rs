//! The control API under `/_sim/`: JSON in and out, no authentication, never faulted.
//!
//! | Route | Body | Answer |
//! | --- | --- | --- |
//! | `GET /_sim/info` | | `{base_url, instance_id, issuer, jwks_url, kid, admin_user_id, users, sessions}` |
//! | `GET /_sim/faults` | | [`Faults`] |
//! | `PUT /_sim/faults` | [`Faults`] (fields may be left out) | the new [`Faults`] |
//! | `GET /_sim/status-page` | | [`StatusPage`] |
//! | `PUT /_sim/status-page` | [`StatusPage`] | the new [`StatusPage`] |
//! | `POST /_sim/seed` | `{users, sessions, organizations?, seed?}` | `{users, sessions, organizations, seed, admin_user_id}` |
//! | `POST /_sim/tokens` | `{user_id? , session_id?, lifetime_secs?, version? (1 or 2), issued_at? (Unix s), azp? (string or null), extra_header?, extra_claims?}` | `{token, kid}` |
//! | `GET /_sim/counters` | | [`Counters`](crate::Counters) |
//! | `DELETE /_sim/counters` | | 204 |
//! | `POST /_sim/keys` | `{secret_key}` | 204 |
//! | `POST /_sim/keys/revoke` | `{secret_key}` | 204 |
//! | `POST /_sim/signing-key/rotate` | | `{kid}` |
//! | `GET /_sim/webhooks` | | `{endpoint, drop_next, delivered, dropped, failed}` (never the secret) |
//! | `PUT /_sim/webhooks` | `{endpoint? (URL or null), secret?, drop_next?}` | as `GET` |
//! | `POST /_sim/users` | [`NewUser`](crate::NewUser) | 201 `{user, webhook}` |
//! | `PATCH /_sim/users/{id}` | [`UserPatch`](crate::UserPatch) | `{user, webhook}` |
//! | `DELETE /_sim/users/{id}` | | `{deleted: true, id, webhook}` |
//!
//! `user` is the Backend API's `User` JSON and `webhook` a [`Delivery`](crate::Delivery);
//! unknown user ids get Clerk's 404 body.
//!
//! Invalid input gets `400 {"error": "<what is wrong>"}`.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};

use super::json;
use crate::faults::Faults;
use crate::state::Shared;
use crate::status_page::StatusPage;
use crate::token::{self, ClaimsVersion, TokenRequest};

/// A control API error: `{"error": "..."}`.
pub(crate) struct ControlError {
    status: StatusCode,
    message: String,
}

impl ControlError {
    pub(super) fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        json::response(self.status, &json!({ "error": self.message }))
    }
}

/// Decodes a JSON body.
pub(super) fn parse<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ControlError> {
    let body = body.map_err(|rejection| ControlError::bad_request(rejection.body_text()))?;
    serde_json::from_slice(&body)
        .map_err(|error| ControlError::bad_request(format!("invalid JSON body: {error}")))
}

/// `GET /_sim/info`.
pub(crate) async fn info(State(shared): State<Arc<Shared>>) -> Response {
    let kid = shared.signing_kid();
    let inner = shared.lock();
    json::ok(&json!({
        "base_url": shared.base_url,
        "instance_id": shared.instance_id,
        "issuer": shared.base_url,
        "jwks_url": format!("{}/.well-known/jwks.json", shared.base_url),
        "kid": kid,
        "admin_user_id": inner.store.admin_user_id(),
        "users": inner.store.user_count(),
        "sessions": inner.store.session_count(),
    }))
}

/// `GET /_sim/faults`.
pub(crate) async fn get_faults(State(shared): State<Arc<Shared>>) -> Response {
    json::ok(&shared.lock().faults)
}

/// `PUT /_sim/faults`.
pub(crate) async fn put_faults(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ControlError> {
    let faults: Faults = parse(body)?;
    faults.validate().map_err(ControlError::bad_request)?;
    let mut inner = shared.lock();
    inner.set_faults(faults);
    tracing::info!(faults = ?inner.faults, "clerk sim faults set");
    Ok(json::ok(&inner.faults))
}

/// `GET /_sim/status-page`.
pub(crate) async fn get_status_page(State(shared): State<Arc<Shared>>) -> Response {
    json::ok(&shared.lock().status_page)
}

/// `PUT /_sim/status-page`.
pub(crate) async fn put_status_page(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ControlError> {
    let page: StatusPage = parse(body)?;
    shared.set_status_page(page.clone());
    Ok(json::ok(&page))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedBody {
    users: usize,
    sessions: usize,
    organizations: Option<usize>,
    seed: Option<u64>,
}

/// `POST /_sim/seed`.
pub(crate) async fn seed(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ControlError> {
    let body: SeedBody = parse(body)?;
    let spec = shared
        .reseed(body.users, body.sessions, body.organizations, body.seed)
        .map_err(ControlError::bad_request)?;
    let inner = shared.lock();
    Ok(json::ok(&json!({
        "users": inner.store.user_count(),
        "sessions": inner.store.session_count(),
        "organizations": spec.organizations,
        "seed": spec.seed,
        "admin_user_id": inner.store.admin_user_id(),
    })))
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct CompromiseBody {
    at: Option<i64>,
}

/// `POST /_sim/scenarios/compromise`: runs the scenario with the key the sim started with
/// (an empty body is `{}`).
pub(crate) async fn compromise(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ControlError> {
    let body: CompromiseBody = match &body {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => CompromiseBody::default(),
        _ => parse(body)?,
    };
    let key = shared.initial_secret_key.clone();
    let compromise = shared
        .compromise(&key, body.at)
        .await
        .map_err(|error| ControlError::bad_request(error.to_string()))?;
    Ok(json::ok(&compromise))
}

/// Deserializes a present member (even `null`) as `Some`, so that an absent member stays
/// `None` under `#[serde(default)]`.
pub(super) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    user_id: Option<String>,
    session_id: Option<String>,
    lifetime_secs: Option<u64>,
    version: Option<u8>,
    issued_at: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    azp: Option<Option<String>>,
    #[serde(default)]
    extra_header: Map<String, Value>,
    #[serde(default)]
    extra_claims: Map<String, Value>,
}

#[derive(Serialize)]
struct TokenAnswer {
    token: String,
    kid: String,
}

/// `POST /_sim/tokens`.
pub(crate) async fn tokens(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ControlError> {
    let body: TokenBody = parse(body)?;
    let version = match body.version {
        None | Some(1) => ClaimsVersion::V1,
        Some(2) => ClaimsVersion::V2,
        Some(other) => {
            return Err(ControlError::bad_request(format!(
                "version must be 1 or 2, got {other}"
            )));
        }
    };
    let defaults = TokenRequest::default();
    let request = TokenRequest {
        session_id: body.session_id,
        user_id: body.user_id,
        lifetime: body
            .lifetime_secs
            .map_or(defaults.lifetime, Duration::from_secs),
        issued_at: body
            .issued_at
            .and_then(|secs| UNIX_EPOCH.checked_add(Duration::from_secs(secs)))
            .or(defaults.issued_at),
        version,
        azp: body.azp.unwrap_or(defaults.azp),
        extra_header: body.extra_header,
        extra_claims: body.extra_claims,
    };
    if body.issued_at.is_some() && request.issued_at.is_none() {
        return Err(ControlError::bad_request("issued_at is out of range"));
    }
    let kid = shared.signing_kid();
    let token = token::mint(&shared, &request).map_err(|error| {
        if matches!(error, crate::SimError::Signing { .. }) {
            ControlError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: error.to_string(),
            }
        } else {
            ControlError::bad_request(error.to_string())
        }
    })?;
    Ok(json::ok(&TokenAnswer { token, kid }))
}

/// `GET /_sim/counters`.
pub(crate) async fn get_counters(State(shared): State<Arc<Shared>>) -> Response {
    json::ok(&shared.lock().counters)
}

/// `DELETE /_sim/counters`.
pub(crate) async fn reset_counters(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.lock().counters = crate::Counters::default();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyBody {
    secret_key: String,
}

fn key_body(body: Result<Bytes, BytesRejection>) -> Result<String, ControlError> {
    let body: KeyBody = parse(body)?;
    if body.secret_key.trim().is_empty() {
        return Err(ControlError::bad_request("secret_key must not be empty"));
    }
    Ok(body.secret_key)
}

/// `POST /_sim/keys`.
pub(crate) async fn add_key(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ControlError> {
    shared.add_secret_key(&key_body(body)?);
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /_sim/keys/revoke`.
pub(crate) async fn revoke_key(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ControlError> {
    shared.revoke_secret_key(&key_body(body)?);
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /_sim/signing-key/rotate`.
pub(crate) async fn rotate_signing_key(State(shared): State<Arc<Shared>>) -> Response {
    json::ok(&json!({ "kid": shared.rotate_signing_key() }))
}
