//! `GET /v1/users`, `GET /v1/users/count`, `GET /v1/users/{user_id}`.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::json;
use super::wire::{TotalCountJson, UserJson};
use crate::query_params::QueryParams;
use crate::state::Shared;
use crate::user_query::{UserFilters, UserListQuery};

/// Lists users: a plain JSON array, newest first unless `order_by` says otherwise.
pub(crate) async fn list(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let params = QueryParams::parse(query.as_deref());
    let inner = shared.lock();
    match UserListQuery::parse(&params).and_then(|query| query.run(&inner.store)) {
        Ok(users) => json::ok(&users.into_iter().map(UserJson::new).collect::<Vec<_>>()),
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// Counts the users that pass the list's filters.
pub(crate) async fn count(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = QueryParams::parse(query.as_deref());
    let inner = shared.lock();
    match UserFilters::parse(&params) {
        Ok(filters) => json::ok(&TotalCountJson::new(filters.count(&inner.store))),
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// One user, or 404.
pub(crate) async fn get_one(
    State(shared): State<Arc<Shared>>,
    user_id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(user_id)) = user_id else {
        return ApiError::not_found("User").into_response();
    };
    let inner = shared.lock();
    match inner.store.user(&user_id) {
        Some(user) => json::ok(&UserJson::new(user)),
        None => ApiError::not_found("User").into_response(),
    }
}
