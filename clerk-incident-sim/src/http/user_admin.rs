//! `POST /_sim/users`, `PATCH` and `DELETE /_sim/users/{id}`: user changes that deliver
//! webhook events.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::control::{ControlError, parse};
use super::error::ApiError;
use super::json;
use super::wire::UserJson;
use crate::state::Shared;
use crate::{Delivery, NewUser, SimError, SimUser, UserPatch};

/// Maps a [`SimError`] of the user admin methods to an answer.
fn error_response(error: &SimError) -> Response {
    match error {
        SimError::UnknownUser { .. } => ApiError::not_found("User").into_response(),
        other => ControlError::bad_request(other.to_string()).into_response(),
    }
}

/// `{"user": <User>, "webhook": <Delivery>}`.
fn user_answer(status: StatusCode, user: &SimUser, delivery: &Delivery) -> Response {
    json::response(
        status,
        &json!({ "user": UserJson::new(user), "webhook": delivery }),
    )
}

/// `POST /_sim/users`.
pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let new: NewUser = match parse(body) {
        Ok(new) => new,
        Err(error) => return error.into_response(),
    };
    match shared.create_user(new).await {
        Ok((user, delivery)) => user_answer(StatusCode::CREATED, &user, &delivery),
        Err(error) => error_response(&error),
    }
}

/// `PATCH /_sim/users/{id}`.
pub(crate) async fn update(
    State(shared): State<Arc<Shared>>,
    user_id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Ok(Path(user_id)) = user_id else {
        return ApiError::not_found("User").into_response();
    };
    let patch: UserPatch = match parse(body) {
        Ok(patch) => patch,
        Err(error) => return error.into_response(),
    };
    match shared.update_user(&user_id, patch).await {
        Ok((user, delivery)) => user_answer(StatusCode::OK, &user, &delivery),
        Err(error) => error_response(&error),
    }
}

/// `DELETE /_sim/users/{id}`.
pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    user_id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(user_id)) = user_id else {
        return ApiError::not_found("User").into_response();
    };
    match shared.delete_user(&user_id).await {
        Ok(delivery) => json::ok(&json!({ "deleted": true, "id": user_id, "webhook": delivery })),
        Err(error) => error_response(&error),
    }
}
