//! Machines and the credentials a leaked key can mint for machine-to-machine access:
//! `GET`/`POST /v1/machines`, `DELETE /v1/machines/{id}`, `GET`/`POST /v1/api_keys`,
//! `POST /v1/api_keys/{id}/revoke`, `GET`/`POST /v1/m2m_tokens` (created with a machine's
//! secret key) and `POST /v1/m2m_tokens/{id}/revoke`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::body::Body;
use super::error::ApiError;
use super::gate::presented_key;
use super::json;
use super::list_page::{MAX_LIMIT, PageRequest, answer};
use crate::ids;
use crate::instance_objects::Kind;
use crate::query_params::{ParamError, QueryParams};
use crate::state::Shared;

/// Largest page of the API key and M2M token lists.
const MAX_CREDENTIAL_LIMIT: usize = 100;

/// `prefix_` and 32 lowercase hex digits, the id shape of API keys and M2M tokens.
fn hex_id(rng: &mut fastrand::Rng, prefix: &str) -> String {
    format!("{prefix}_{:032x}", rng.u128(..))
}

/// Whether `id` has the shape of a Clerk id with one of `prefixes` (`user_` and 27 word
/// characters, ...).
fn is_subject(id: &str, prefixes: &[&str]) -> bool {
    id.split_once('_').is_some_and(|(prefix, body)| {
        prefixes.contains(&prefix)
            && body.len() == 27
            && body.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// `GET /v1/machines`: `query`, `order_by` (`name`, `created_at`; default `-created_at`),
/// `limit`, `offset`.
pub(crate) async fn list_machines(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = QueryParams::parse(query.as_deref());
    let inner = shared.lock();
    let result = (|| -> Result<(Vec<&Value>, usize), ParamError> {
        let page = PageRequest::parse(&params, MAX_LIMIT)?;
        let mut items: Vec<&Value> = inner.objects.all(Kind::Machine).iter().collect();
        if let Some(query) = params.non_empty("query") {
            let query = query.to_lowercase();
            items.retain(|machine| {
                machine["id"] == query.as_str()
                    || machine["name"]
                        .as_str()
                        .is_some_and(|name| name.to_lowercase().contains(&query))
            });
        }
        let order_by = params.first("order_by").unwrap_or("-created_at");
        if order_by.trim_start_matches(['+', '-', ' ']) == "name" {
            items
                .sort_by_key(|machine| machine["name"].as_str().unwrap_or_default().to_lowercase());
        }
        if order_by.starts_with('-') {
            items.reverse();
        }
        Ok(page.take(items))
    })();
    answer("data", result)
}

/// `POST /v1/machines`: the answer carries the machine's secret key, once.
pub(crate) async fn create_machine(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let parsed =
        Body::parse(body, &["name", "scoped_machines", "default_token_ttl"]).and_then(|body| {
            Ok((
                body.required_string("name")?,
                body.integer("default_token_ttl", 1, 315_360_000)?
                    .unwrap_or(3600),
            ))
        });
    let (name, ttl) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return error.into_response(),
    };
    let now = shared.clock.now_ms();
    let mut inner = shared.lock();
    let id = ids::new_id(&mut inner.user_rng, "mch");
    let secret = format!(
        "ak_{:032x}{:08x}",
        inner.user_rng.u128(..),
        inner.user_rng.u32(..)
    );
    let machine = json!({
        "object": "machine",
        "id": id,
        "name": name,
        "instance_id": shared.instance_id,
        "created_at": now,
        "updated_at": now,
        "default_token_ttl": ttl,
        "scoped_machines": [],
    });
    inner.objects.insert(Kind::Machine, machine.clone());
    inner.objects.add_machine_secret(secret.clone(), id);
    let mut answer = machine;
    json::set(&mut answer, "secret_key", json!(secret));
    json::ok(&answer)
}

/// `DELETE /v1/machines/{machine_id}`.
pub(crate) async fn delete_machine(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return ApiError::not_found("Machine").into_response();
    };
    match shared.lock().objects.remove(Kind::Machine, &id) {
        Some(_) => json::ok(&json!({"object": "machine", "id": id, "deleted": true})),
        None => ApiError::not_found("Machine").into_response(),
    }
}

/// `GET /v1/api_keys?subject=…`: `subject` is required; `type`, `include_invalid`,
/// `query`, `limit` (at most 100), `offset`.
pub(crate) async fn list_api_keys(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = QueryParams::parse(query.as_deref());
    let inner = shared.lock();
    let result = (|| -> Result<(Vec<&Value>, usize), ParamError> {
        let subject = params
            .non_empty("subject")
            .ok_or_else(|| ParamError::missing("subject", "`subject` is required"))?;
        if !is_subject(subject, &["user", "org", "mch", "scim"]) {
            return Err(ParamError::format(
                "subject",
                "`subject` must be a user, organization or machine id",
            ));
        }
        let page = PageRequest::parse(&params, MAX_CREDENTIAL_LIMIT)?;
        let include_invalid = params.first("include_invalid") == Some("true");
        let kind = params.first("type").unwrap_or("api_key");
        let items: Vec<&Value> = inner
            .objects
            .all(Kind::ApiKey)
            .iter()
            .rev()
            .filter(|key| key["subject"] == subject && key["type"] == kind)
            .filter(|key| include_invalid || key["revoked"] == false)
            .collect();
        Ok(page.take(items))
    })();
    answer("data", result)
}

/// `POST /v1/api_keys`: `name` and `subject` required; the answer carries the secret, once.
pub(crate) async fn create_api_key(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    const FIELDS: &[&str] = &[
        "type",
        "name",
        "description",
        "subject",
        "claims",
        "scopes",
        "created_by",
        "seconds_until_expiration",
    ];
    let body = match Body::parse(body, FIELDS) {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    let parsed = (|| -> Result<_, ApiError> {
        let subject = body.required_string("subject")?;
        if !is_subject(&subject, &["user", "org", "mch", "scim"]) {
            return Err(ApiError::bad_param(
                "subject",
                "must be a user, organization or machine id",
            ));
        }
        let expires_in = body.integer("seconds_until_expiration", 1, i64::MAX / 1000)?;
        Ok((
            body.required_string("name")?,
            subject,
            body.string("type")?.unwrap_or_else(|| "api_key".to_owned()),
            body.string("description")?,
            body.strings("scopes")?,
            body.string("created_by")?,
            expires_in,
        ))
    })();
    let (name, subject, kind, description, scopes, created_by, expires_in) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return error.into_response(),
    };
    let now = shared.clock.now_ms();
    let mut inner = shared.lock();
    let id = hex_id(&mut inner.user_rng, "ak");
    let secret = format!("ak_{:032x}", inner.user_rng.u128(..));
    let mut key = json!({
        "object": "api_key",
        "id": id,
        "type": kind,
        "subject": subject,
        "name": name,
        "claims": body.value("claims").cloned(),
        "scopes": scopes,
        "revoked": false,
        "revocation_reason": null,
        "expired": false,
        "expiration": expires_in.map(|seconds| now + seconds * 1000),
        "created_by": created_by,
        "last_used_at": null,
        "created_at": now,
        "updated_at": now,
    });
    if let Some(description) = description {
        json::set(&mut key, "description", json!(description));
    }
    inner.objects.insert(Kind::ApiKey, key.clone());
    let mut answer = key;
    json::set(&mut answer, "secret", json!(secret));
    json::ok(&answer)
}

/// `POST /v1/api_keys/{api_key_id}/revoke` and `POST /v1/m2m_tokens/{m2m_token_id}/revoke`.
async fn revoke(
    kind: Kind,
    what: &str,
    shared: &Shared,
    id: &str,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let reason = match Body::parse(body, &["revocation_reason"])
        .and_then(|body| body.string("revocation_reason"))
    {
        Ok(reason) => reason,
        Err(error) => return error.into_response(),
    };
    let now = shared.clock.now_ms();
    let mut inner = shared.lock();
    let Some(object) = inner.objects.get_mut(kind, id) else {
        return ApiError::not_found(what).into_response();
    };
    json::set(object, "revoked", json!(true));
    json::set(object, "revocation_reason", json!(reason));
    json::set(object, "updated_at", json!(now));
    json::ok(object)
}

/// `POST /v1/api_keys/{api_key_id}/revoke`.
pub(crate) async fn revoke_api_key(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return ApiError::not_found("API key").into_response();
    };
    revoke(Kind::ApiKey, "API key", &shared, &id, body).await
}

/// `GET /v1/m2m_tokens?subject=mch_…`: `subject` required; `revoked`, `expired`, `limit`
/// (at most 100), `offset`. The list's key is `m2m_tokens`.
pub(crate) async fn list_m2m_tokens(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = QueryParams::parse(query.as_deref());
    let inner = shared.lock();
    let result = (|| -> Result<(Vec<&Value>, usize), ParamError> {
        let subject = params
            .non_empty("subject")
            .ok_or_else(|| ParamError::missing("subject", "`subject` is required"))?;
        if !is_subject(subject, &["mch"]) {
            return Err(ParamError::format(
                "subject",
                "`subject` must be a machine id",
            ));
        }
        let page = PageRequest::parse(&params, MAX_CREDENTIAL_LIMIT)?;
        let revoked = params.boolean("revoked")?.unwrap_or(false);
        let items: Vec<&Value> = inner
            .objects
            .all(Kind::M2mToken)
            .iter()
            .rev()
            .filter(|token| token["subject"] == subject)
            .filter(|token| revoked || token["revoked"] == false)
            .collect();
        Ok(page.take(items))
    })();
    answer("m2m_tokens", result)
}

/// `POST /v1/m2m_tokens`, authenticated with a machine's secret key (the gate let it
/// through): 201 with the token, once.
pub(crate) async fn create_m2m_token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    const FIELDS: &[&str] = &[
        "token_format",
        "seconds_until_expiration",
        "claims",
        "min_remaining_ttl_seconds",
    ];
    let parsed = Body::parse(body, FIELDS).and_then(|body| {
        Ok((
            body.integer("seconds_until_expiration", 1, i64::MAX / 1000)?,
            body.value("claims").cloned(),
        ))
    });
    let (expires_in, claims) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return error.into_response(),
    };
    let now = shared.clock.now_ms();
    let mut inner = shared.lock();
    let Some(machine_id) = presented_key(&headers)
        .and_then(|key| inner.objects.machine_for_secret(key))
        .map(str::to_owned)
    else {
        return ApiError::unauthorized().into_response();
    };
    let id = hex_id(&mut inner.user_rng, "mt");
    let secret = format!("mt_{:032x}", inner.user_rng.u128(..));
    let token = json!({
        "object": "machine_to_machine_token",
        "id": id,
        "subject": machine_id,
        "claims": claims,
        "scopes": [],
        "revoked": false,
        "revocation_reason": null,
        "expired": false,
        "expiration": expires_in.map(|seconds| now + seconds * 1000),
        "last_used_at": null,
        "created_at": now,
        "updated_at": now,
    });
    inner.objects.insert(Kind::M2mToken, token.clone());
    let mut answer = token;
    json::set(&mut answer, "token", json!(secret));
    json::response(StatusCode::CREATED, &answer)
}

/// `POST /v1/m2m_tokens/{m2m_token_id}/revoke`.
pub(crate) async fn revoke_m2m_token(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return ApiError::not_found("M2M token").into_response();
    };
    revoke(Kind::M2mToken, "M2M token", &shared, &id, body).await
}

#[cfg(test)]
mod tests {
    use super::{hex_id, is_subject};

    #[test]
    fn ids_have_the_spec_shapes() {
        let mut rng = fastrand::Rng::with_seed(1);
        let id = hex_id(&mut rng, "ak");
        assert_eq!(id.len(), 3 + 32);
        assert!(id[3..].chars().all(|c| c.is_ascii_hexdigit()));
        assert!(is_subject("user_123456789012345678901234567", &["user"]));
        assert!(!is_subject("user_1", &["user"]));
        assert!(!is_subject("org_123456789012345678901234567", &["mch"]));
    }
}
