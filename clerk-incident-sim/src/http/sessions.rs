//! `GET /v1/sessions`, `GET /v1/sessions/{session_id}`,
//! `POST /v1/sessions/{session_id}/revoke`.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::json;
use super::wire::{PaginatedJson, SessionJson};
use crate::model::SessionStatus;
use crate::query_params::QueryParams;
use crate::session_query::SessionListQuery;
use crate::state::Shared;

/// Lists a user's or a client's sessions, newest first.
pub(crate) async fn list(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let params = QueryParams::parse(query.as_deref());
    let query = match SessionListQuery::parse(&params) {
        Ok(query) => query,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let inner = shared.lock();
    let page = query.run(&inner.store);
    let data: Vec<SessionJson<'_>> = page.data.into_iter().map(SessionJson::new).collect();
    if query.paginated {
        json::ok(&PaginatedJson {
            data,
            total_count: page.total_count,
        })
    } else {
        json::ok(&data)
    }
}

/// One session, or 404.
pub(crate) async fn get_one(
    State(shared): State<Arc<Shared>>,
    session_id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(session_id)) = session_id else {
        return ApiError::not_found("Session").into_response();
    };
    let inner = shared.lock();
    match inner.store.session(&session_id) {
        Some(session) => json::ok(&SessionJson::new(session)),
        None => ApiError::not_found("Session").into_response(),
    }
}

/// Revokes an active or pending session and returns it; 400 `session_not_active` if it no
/// longer authenticates its user, 404 if unknown.
pub(crate) async fn revoke(
    State(shared): State<Arc<Shared>>,
    session_id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(session_id)) = session_id else {
        return ApiError::not_found("Session").into_response();
    };
    let now = shared.clock.now_ms();
    let mut inner = shared.lock();
    let Some(session) = inner.store.session_mut(&session_id) else {
        return ApiError::not_found("Session").into_response();
    };
    if !session.status.is_signed_in() {
        return ApiError::session_not_active(&session.id, session.status.as_str()).into_response();
    }
    session.status = SessionStatus::Revoked;
    session.updated_at = now.max(session.updated_at);
    let response = json::ok(&SessionJson::new(session));
    inner.counters.revocations += 1;
    tracing::debug!(session_id, "session revoked");
    response
}
