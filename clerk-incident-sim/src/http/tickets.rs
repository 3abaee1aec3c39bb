//! Actor (impersonation) and sign-in tokens: `POST /v1/actor_tokens`, `POST
//! /v1/sign_in_tokens`, their `/revoke`, and `GET /v1/tickets/accept?ticket=…`, the sim's
//! stand-in for the Frontend API signing someone in with a token's ticket. Accepting starts
//! a session for the token's user, carrying `actor` for an actor token; that session is
//! all a token leaves behind in the Backend API (neither kind of token can be listed).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::body::Body;
use super::error::ApiError;
use super::json;
use super::wire::SessionJson;
use crate::ids;
use crate::instance_objects::Kind;
use crate::model::{SessionStatus, SimSession};
use crate::query_params::QueryParams;
use crate::state::Shared;

const DAY_MS: i64 = 86_400_000;

/// `POST /v1/actor_tokens`: `user_id` and `actor` (with `sub`) required.
pub(crate) async fn create_actor_token(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    const FIELDS: &[&str] = &[
        "user_id",
        "actor",
        "expires_in_seconds",
        "session_max_duration_in_seconds",
    ];
    let parsed = Body::parse(body, FIELDS).and_then(|body| {
        let actor = body
            .object("actor")?
            .ok_or_else(|| ApiError::missing_param("actor"))?;
        if !actor.get("sub").is_some_and(Value::is_string) {
            return Err(ApiError::missing_param("actor.sub"));
        }
        Ok((
            body.required_string("user_id")?,
            Value::Object(actor),
            body.integer("expires_in_seconds", 1, 315_360_000)?
                .unwrap_or(3600),
        ))
    });
    let (user_id, actor, expires_in) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return error.into_response(),
    };
    create(&shared, Kind::ActorToken, &user_id, Some(actor), expires_in)
}

/// `POST /v1/sign_in_tokens`: `user_id` required.
pub(crate) async fn create_sign_in_token(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let parsed = Body::parse(body, &["user_id", "org_id", "expires_in_seconds"]).and_then(|body| {
        Ok((
            body.required_string("user_id")?,
            body.integer("expires_in_seconds", 1, 315_360_000)?
                .unwrap_or(30 * 86_400),
        ))
    });
    let (user_id, expires_in) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return error.into_response(),
    };
    create(&shared, Kind::SignInToken, &user_id, None, expires_in)
}

fn create(
    shared: &Shared,
    kind: Kind,
    user_id: &str,
    actor: Option<Value>,
    expires_in_seconds: i64,
) -> Response {
    let now = shared.clock.now_ms();
    let mut inner = shared.lock();
    if inner.store.user(user_id).is_none() {
        return ApiError::not_found("User").into_response();
    }
    let (prefix, object) = match kind {
        Kind::ActorToken => ("act", "actor_token"),
        _ => ("sit", "sign_in_token"),
    };
    let id = ids::new_id(&mut inner.user_rng, prefix);
    let ticket = ids::new_id(&mut inner.user_rng, "tkt");
    let mut token = json!({
        "object": object,
        "id": id,
        "status": "pending",
        "user_id": user_id,
        "token": ticket,
        "url": format!("{}/v1/tickets/accept?ticket={ticket}", shared.base_url),
        "created_at": now,
        "updated_at": now,
    });
    if let Some(actor) = actor {
        json::set(&mut token, "actor", actor);
    }
    // Kept to check tickets against; these tokens have no list endpoint.
    let mut stored = token.clone();
    json::set(
        &mut stored,
        "expires_at",
        json!(now.saturating_add(expires_in_seconds.saturating_mul(1000))),
    );
    inner.objects.insert(kind, stored);
    inner.objects.add_ticket(ticket, kind, id);
    json::ok(&token)
}

/// `POST /v1/actor_tokens/{id}/revoke` and `POST /v1/sign_in_tokens/{id}/revoke`.
fn revoke(shared: &Shared, kind: Kind, id: &str) -> Response {
    let now = shared.clock.now_ms();
    let mut inner = shared.lock();
    let Some(token) = inner.objects.get_mut(kind, id) else {
        return ApiError::not_found("Token").into_response();
    };
    if token["status"] == "pending" {
        json::set(token, "status", json!("revoked"));
        json::set(token, "updated_at", json!(now));
    }
    let mut answer = token.clone();
    if let Some(answer) = answer.as_object_mut() {
        answer.remove("expires_at");
    }
    json::ok(&answer)
}

/// `POST /v1/actor_tokens/{actor_token_id}/revoke`.
pub(crate) async fn revoke_actor_token(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    match id {
        Ok(Path(id)) => revoke(&shared, Kind::ActorToken, &id),
        Err(_) => ApiError::not_found("Token").into_response(),
    }
}

/// `POST /v1/sign_in_tokens/{sign_in_token_id}/revoke`.
pub(crate) async fn revoke_sign_in_token(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    match id {
        Ok(Path(id)) => revoke(&shared, Kind::SignInToken, &id),
        Err(_) => ApiError::not_found("Token").into_response(),
    }
}

/// `GET /v1/tickets/accept?ticket=…`: a pending, unexpired ticket becomes a session
/// (`{"object": "ticket_accepted", "session": <Session>}`); the token is then `accepted`.
pub(crate) async fn accept(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = QueryParams::parse(query.as_deref());
    let Some(ticket) = params.non_empty("ticket").map(str::to_owned) else {
        return ApiError::missing_param("ticket").into_response();
    };
    let now = shared.clock.now_ms();
    let lifetime = shared.max_session_lifetime_ms();
    let mut inner = shared.lock();
    let Some((kind, token_id)) = inner
        .objects
        .ticket(&ticket)
        .map(|(kind, id)| (kind, id.to_owned()))
    else {
        return ApiError::not_found("Ticket").into_response();
    };
    let Some(token) = inner.objects.get_mut(kind, &token_id) else {
        return ApiError::not_found("Ticket").into_response();
    };
    let expired = token["expires_at"].as_i64().is_some_and(|at| at <= now);
    if token["status"] != "pending" || expired {
        return ApiError::bad_param("ticket", "is no longer valid").into_response();
    }
    json::set(token, "status", json!("accepted"));
    json::set(token, "updated_at", json!(now));
    let user_id = token["user_id"].as_str().unwrap_or_default().to_owned();
    let actor = token
        .get("actor")
        .and_then(|actor| actor.get("sub"))
        .map(|sub| json!({ "sub": sub }));
    let session_id = ids::new_id(&mut inner.user_rng, "sess");
    let client_id = ids::new_id(&mut inner.user_rng, "client");
    let Some(user) = inner.store.user_mut(&user_id) else {
        return ApiError::not_found("User").into_response();
    };
    user.last_active_at = now - now.rem_euclid(DAY_MS);
    if actor.is_none() {
        user.last_sign_in_at = now;
    }
    let session = SimSession {
        id: session_id,
        user_id,
        client_id,
        status: SessionStatus::Active,
        created_at: now,
        updated_at: now,
        last_active_at: now,
        expire_at: now + lifetime,
        abandon_at: now + lifetime.max(30 * DAY_MS),
        last_active_organization_id: user
            .membership
            .as_ref()
            .map(|membership| membership.organization_id.clone()),
        actor,
    };
    inner.store.insert_session(session.clone());
    tracing::info!(session_id = %session.id, "clerk sim ticket accepted");
    json::ok(&json!({ "object": "ticket_accepted", "session": SessionJson::new(&session) }))
}
