//! `POST /v1/users`, `PATCH /v1/users/{user_id}`, `PATCH /v1/users/{user_id}/metadata` and
//! `DELETE /v1/users/{user_id}`: the Backend API's user changes, each delivering its
//! `user.*` webhook like the `/_sim/users` ones.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::body::Body;
use super::error::ApiError;
use super::json;
use super::wire::UserJson;
use crate::SimError;
use crate::state::Shared;
use crate::user_admin::UserDraft;

/// The members of the spec's `CreateUser` body.
const CREATE_FIELDS: &[&str] = &[
    "external_id",
    "first_name",
    "last_name",
    "locale",
    "email_address",
    "phone_number",
    "web3_wallet",
    "username",
    "password",
    "password_digest",
    "password_hasher",
    "skip_password_checks",
    "skip_password_requirement",
    "totp_secret",
    "backup_codes",
    "public_metadata",
    "private_metadata",
    "unsafe_metadata",
    "delete_self_enabled",
    "legal_accepted_at",
    "skip_legal_checks",
    "skip_user_requirement",
    "create_organization_enabled",
    "create_organizations_limit",
    "created_at",
    "bypass_client_trust",
    "email_address_identification_status",
    "phone_number_identification_status",
    "banned",
    "locked",
];

/// The members of the spec's `UpdateUser` body.
const UPDATE_FIELDS: &[&str] = &[
    "external_id",
    "first_name",
    "last_name",
    "locale",
    "primary_email_address_id",
    "notify_primary_email_address_changed",
    "primary_phone_number_id",
    "primary_web3_wallet_id",
    "username",
    "profile_image_id",
    "password",
    "password_digest",
    "password_hasher",
    "skip_password_checks",
    "sign_out_of_other_sessions",
    "totp_secret",
    "backup_codes",
    "delete_self_enabled",
    "create_organization_enabled",
    "legal_accepted_at",
    "skip_legal_checks",
    "create_organizations_limit",
    "created_at",
    "bypass_client_trust",
];

/// The members of `UpdateUserMetadata`.
const METADATA_FIELDS: &[&str] = &["public_metadata", "private_metadata", "unsafe_metadata"];

/// An RFC 3339 time as Unix ms.
fn rfc3339_ms(body: &Body, name: &str) -> Result<Option<i64>, ApiError> {
    body.string(name)?
        .map(|text| {
            humantime::parse_rfc3339_weak(&text)
                .ok()
                .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
                .and_then(|since| i64::try_from(since.as_millis()).ok())
                .ok_or_else(|| ApiError::bad_param(name, "must be an RFC 3339 time"))
        })
        .transpose()
}

fn sim_error(error: &SimError) -> Response {
    match error {
        SimError::UnknownUser { .. } => ApiError::not_found("User").into_response(),
        other => ApiError::bad_param("email_address", &other.to_string()).into_response(),
    }
}

/// Whether another user already has this email address, username or external id.
fn taken(
    shared: &Shared,
    except: Option<&str>,
    email: Option<&str>,
    username: Option<&str>,
) -> Option<&'static str> {
    let inner = shared.lock();
    let others = || {
        inner
            .store
            .users_newest_first()
            .filter(move |user| Some(user.id.as_str()) != except)
    };
    if let Some(email) = email
        && others().any(|user| user.email_address.eq_ignore_ascii_case(email))
    {
        return Some("email_address");
    }
    if let Some(username) = username.map(str::to_lowercase)
        && others()
            .any(|user| user.username.as_deref().map(str::to_lowercase) == Some(username.clone()))
    {
        return Some("username");
    }
    None
}

/// `POST /v1/users`.
pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let draft = match draft(body) {
        Ok(draft) => draft,
        Err(error) => return error.into_response(),
    };
    let email = (!draft.email_address.is_empty()).then_some(draft.email_address.as_str());
    if let Some(field) = taken(&shared, None, email, draft.username.as_deref()) {
        return ApiError::identifier_exists(field).into_response();
    }
    match shared.create_user_from(draft).await {
        Ok((user, _delivery)) => json::ok(&UserJson::new(&user)),
        Err(error) => sim_error(&error),
    }
}

fn draft(body: Result<Bytes, BytesRejection>) -> Result<UserDraft, ApiError> {
    let body = Body::parse(body, CREATE_FIELDS)?;
    Ok(UserDraft {
        first_name: body.string("first_name")?.unwrap_or_default(),
        last_name: body.string("last_name")?.unwrap_or_default(),
        email_address: body
            .strings("email_address")?
            .into_iter()
            .next()
            .unwrap_or_default(),
        external_id: body.string("external_id")?,
        username: body.string("username")?,
        phone_number: body.strings("phone_number")?.into_iter().next(),
        public_metadata: body.object("public_metadata")?.unwrap_or_default(),
        private_metadata: body.object("private_metadata")?.unwrap_or_default(),
        unsafe_metadata: body.object("unsafe_metadata")?.unwrap_or_default(),
        created_at: rfc3339_ms(&body, "created_at")?,
    })
}

/// `PATCH /v1/users/{user_id}`: names, username and external id change; the other members
/// of the spec are accepted (and still count as an update).
pub(crate) async fn update(
    State(shared): State<Arc<Shared>>,
    user_id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Ok(Path(user_id)) = user_id else {
        return ApiError::not_found("User").into_response();
    };
    let body = match Body::parse(body, UPDATE_FIELDS) {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    let fields = (|| -> Result<_, ApiError> {
        Ok((
            body.string("first_name")?,
            body.string("last_name")?,
            body.string("username")?,
            body.string("external_id")?,
        ))
    })();
    let (first_name, last_name, username, external_id) = match fields {
        Ok(fields) => fields,
        Err(error) => return error.into_response(),
    };
    if let Some(field) = taken(&shared, Some(&user_id), None, username.as_deref()) {
        return ApiError::identifier_exists(field).into_response();
    }
    let clears = |name: &str| body.has(name) && body.value(name).is_none();
    let (clear_username, clear_external_id) = (clears("username"), clears("external_id"));
    let changed = shared
        .change_user(&user_id, |user| {
            if let Some(first_name) = first_name {
                user.first_name = first_name;
            }
            if let Some(last_name) = last_name {
                user.last_name = last_name;
            }
            if username.is_some() || clear_username {
                user.username = username;
            }
            if external_id.is_some() || clear_external_id {
                user.external_id = external_id;
            }
        })
        .await;
    match changed {
        Ok((user, _delivery)) => json::ok(&UserJson::new(&user)),
        Err(error) => sim_error(&error),
    }
}

/// Merges `patch` into `target` as Clerk does: objects merge key by key, deeply; `null`
/// removes a key; anything else replaces.
fn merge(target: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (key, value) in patch {
        match value {
            Value::Null => {
                target.remove(&key);
            }
            Value::Object(inner) => match target.get_mut(&key) {
                Some(Value::Object(existing)) => merge(existing, inner),
                _ => {
                    let mut fresh = Map::new();
                    merge(&mut fresh, inner);
                    target.insert(key, Value::Object(fresh));
                }
            },
            other => {
                target.insert(key, other);
            }
        }
    }
}

/// `PATCH /v1/users/{user_id}/metadata`: a deep merge of each kind of metadata.
pub(crate) async fn update_metadata(
    State(shared): State<Arc<Shared>>,
    user_id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Ok(Path(user_id)) = user_id else {
        return ApiError::not_found("User").into_response();
    };
    let patches = Body::parse(body, METADATA_FIELDS).and_then(|body| {
        Ok((
            body.object("public_metadata")?,
            body.object("private_metadata")?,
            body.object("unsafe_metadata")?,
        ))
    });
    let (public, private, unsafe_) = match patches {
        Ok(patches) => patches,
        Err(error) => return error.into_response(),
    };
    let changed = shared
        .change_user(&user_id, |user| {
            for (target, patch) in [
                (&mut user.public_metadata, public),
                (&mut user.private_metadata, private),
                (&mut user.unsafe_metadata, unsafe_),
            ] {
                if let Some(patch) = patch {
                    merge(target, patch);
                }
            }
        })
        .await;
    match changed {
        Ok((user, _delivery)) => json::ok(&UserJson::new(&user)),
        Err(error) => sim_error(&error),
    }
}

/// `DELETE /v1/users/{user_id}`: Clerk's `DeletedObject`.
pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    user_id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(user_id)) = user_id else {
        return ApiError::not_found("User").into_response();
    };
    match shared.delete_user(&user_id).await {
        Ok(_delivery) => json::ok(&json!({ "object": "user", "id": user_id, "deleted": true })),
        Err(error) => sim_error(&error),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::merge;

    #[test]
    fn metadata_merges_deeply_and_null_removes() {
        let mut target =
            json!({"role": "member", "prefs": {"theme": "dark", "lang": "en"}, "x": 1})
                .as_object()
                .cloned()
                .unwrap();
        let patch = json!({"role": "admin", "prefs": {"lang": null, "tz": "UTC"}, "x": null})
            .as_object()
            .cloned()
            .unwrap();
        merge(&mut target, patch);
        assert_eq!(
            serde_json::Value::Object(target),
            json!({"role": "admin", "prefs": {"theme": "dark", "tz": "UTC"}})
        );
    }
}
