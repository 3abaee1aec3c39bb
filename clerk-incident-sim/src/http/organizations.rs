//! Organisations and their memberships: `GET`/`POST /v1/organizations`, `DELETE
//! /v1/organizations/{id}`, the instance-wide `GET /v1/organization_memberships`, and
//! `GET`/`POST /v1/organizations/{id}/memberships` with `PATCH`/`DELETE
//! .../memberships/{user_id}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::body::Body;
use super::error::ApiError;
use super::json;
use super::list_page::{MAX_LIMIT, PageRequest, answer};
use crate::ids;
use crate::model::{OrgRole, SimMembership, SimOrganization, SimUser};
use crate::query_params::{ParamError, QueryParams};
use crate::state::Shared;
use crate::store::Store;

/// Clerk's default image.
const DEFAULT_IMAGE_URL: &str = "https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9";

/// Clerk's `Organization`.
pub(crate) fn organization_json(organization: &SimOrganization) -> Value {
    let mut rendered = json!({
        "object": "organization",
        "id": organization.id,
        "name": organization.name,
        "slug": organization.slug,
        "image_url": DEFAULT_IMAGE_URL,
        "has_image": false,
        "max_allowed_memberships": 0,
        "admin_delete_enabled": true,
        "public_metadata": {},
        "private_metadata": {},
        "created_at": organization.created_at,
        "updated_at": organization.updated_at.max(organization.created_at),
    });
    if let Some(created_by) = &organization.created_by {
        json::set(&mut rendered, "created_by", json!(created_by));
    }
    rendered
}

/// Clerk's `OrganizationMembership` of `user` in `membership`'s organisation.
pub(crate) fn membership_json(store: &Store, user: &SimUser, membership: &SimMembership) -> Value {
    let organization = store.organization(&membership.organization_id).map_or_else(
        || {
            organization_json(&SimOrganization {
                id: membership.organization_id.clone(),
                name: membership.organization_slug.clone(),
                slug: membership.organization_slug.clone(),
                created_at: membership.created_at,
                updated_at: membership.created_at,
                created_by: None,
            })
        },
        organization_json,
    );
    json!({
        "id": membership.id,
        "object": "organization_membership",
        "role": membership.role.as_str(),
        "role_name": match membership.role {
            OrgRole::Admin => "Admin",
            OrgRole::Member => "Member",
        },
        "permissions": membership.role.permissions(),
        "public_metadata": {},
        "private_metadata": {},
        "organization": organization,
        "public_user_data": {
            "user_id": user.id,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "profile_image_url": DEFAULT_IMAGE_URL,
            "image_url": DEFAULT_IMAGE_URL,
            "has_image": false,
            "identifier": user.email_address,
            "username": user.username,
        },
        "created_at": membership.created_at,
        "updated_at": membership.updated_at.max(membership.created_at),
    })
}

/// Every membership of the store, with its user.
fn memberships(store: &Store) -> Vec<(&SimUser, &SimMembership)> {
    store
        .users_newest_first()
        .flat_map(|user| {
            user.membership
                .iter()
                .chain(&user.other_memberships)
                .map(move |membership| (user, membership))
        })
        .collect()
}

/// A page of memberships in Clerk's shape, and the total.
fn rendered(
    store: &Store,
    (page, total): (Vec<(&SimUser, &SimMembership)>, usize),
) -> (Vec<Value>, usize) {
    let page = page
        .into_iter()
        .map(|(user, membership)| membership_json(store, user, membership))
        .collect();
    (page, total)
}

/// Sorts memberships by `order_by` (`created_at`, `first_name`, `last_name`,
/// `email_address`, `username`, `phone_number`, `+`/`-`); newest first without one.
fn sort_memberships(
    items: &mut [(&SimUser, &SimMembership)],
    order_by: Option<&str>,
) -> Result<(), ParamError> {
    let Some(order_by) = order_by else {
        items.sort_by(|a, b| (b.1.created_at, &b.1.id).cmp(&(a.1.created_at, &a.1.id)));
        return Ok(());
    };
    let (descending, name) = match order_by.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, order_by.strip_prefix(['+', ' ']).unwrap_or(order_by)),
    };
    let key = |(user, membership): &(&SimUser, &SimMembership)| -> (String, i64, String) {
        let text = match name {
            "first_name" => user.first_name.to_lowercase(),
            "last_name" => user.last_name.to_lowercase(),
            "email_address" => user.email_address.to_lowercase(),
            "username" => user.username.clone().unwrap_or_default(),
            "phone_number" => user.phone_number.clone().unwrap_or_default(),
            _ => String::new(),
        };
        (text, membership.created_at, membership.id.clone())
    };
    if !matches!(
        name,
        "created_at" | "first_name" | "last_name" | "email_address" | "username" | "phone_number"
    ) {
        return Err(ParamError::value(
            "order_by",
            format!(
                "`order_by` must be one of created_at, first_name, last_name, email_address, username, phone_number with an optional +/- prefix, got `{order_by}`"
            ),
        ));
    }
    items.sort_by_key(key);
    if descending {
        items.reverse();
    }
    Ok(())
}

/// `GET /v1/organizations`: `query`, `user_id`/`organization_id` (`+`/`-`), `order_by`
/// (`name`, `created_at`, `members_count`; default `-created_at`), `limit`, `offset`.
pub(crate) async fn list(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let params = QueryParams::parse(query.as_deref());
    let inner = shared.lock();
    let store = &inner.store;
    let result = (|| -> Result<(Vec<Value>, usize), ParamError> {
        let page = PageRequest::parse(&params, MAX_LIMIT)?;
        let query = params.non_empty("query").map(str::to_lowercase);
        let members = memberships(store);
        let count = |org: &SimOrganization| {
            members
                .iter()
                .filter(|(_, m)| m.organization_id == org.id)
                .count()
        };
        let (include_ids, exclude_ids) = split_ids(&params, "organization_id");
        let (include_users, exclude_users) = split_ids(&params, "user_id");
        let member_of = |org: &SimOrganization, users: &[String]| {
            members
                .iter()
                .any(|(user, m)| m.organization_id == org.id && users.contains(&user.id))
        };
        let mut organizations: Vec<&SimOrganization> = store
            .organizations()
            .iter()
            .filter(|org| {
                query.as_deref().is_none_or(|query| {
                    org.id == query
                        || org.name.to_lowercase().contains(query)
                        || org.slug.contains(query)
                })
            })
            .filter(|org| include_ids.is_empty() || include_ids.contains(&org.id))
            .filter(|org| !exclude_ids.contains(&org.id))
            .filter(|org| include_users.is_empty() || member_of(org, &include_users))
            .filter(|org| exclude_users.is_empty() || !member_of(org, &exclude_users))
            .collect();
        let order_by = params.first("order_by").unwrap_or("-created_at");
        let (descending, name) = match order_by.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, order_by.strip_prefix(['+', ' ']).unwrap_or(order_by)),
        };
        match name {
            "created_at" => organizations.sort_by_key(|org| (org.created_at, org.id.clone())),
            "name" => organizations.sort_by_key(|org| (org.name.to_lowercase(), org.id.clone())),
            "members_count" => organizations.sort_by_key(|org| (count(org), org.id.clone())),
            _ => {
                return Err(ParamError::value(
                    "order_by",
                    format!(
                        "`order_by` must be one of name, created_at, members_count with an optional +/- prefix, got `{order_by}`"
                    ),
                ));
            }
        }
        if descending {
            organizations.reverse();
        }
        let (page, total) = page.take(organizations);
        Ok((page.into_iter().map(organization_json).collect(), total))
    })();
    answer("data", result)
}

/// The `+`/`-` values of a repeatable id parameter.
fn split_ids(params: &QueryParams, name: &str) -> (Vec<String>, Vec<String>) {
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for raw in params.all(name) {
        match raw.strip_prefix('-') {
            Some(id) => exclude.push(id.to_owned()),
            None => include.push(raw.strip_prefix(['+', ' ']).unwrap_or(raw).to_owned()),
        }
    }
    (include, exclude)
}

/// A URL slug from a name.
fn slugify(name: &str) -> String {
    let slug: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    slug.split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// `POST /v1/organizations`: `name` (required), `slug`, `created_by` (who becomes its
/// `org:admin`), and the other members of the spec (accepted).
pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    const FIELDS: &[&str] = &[
        "name",
        "created_by",
        "private_metadata",
        "public_metadata",
        "slug",
        "max_allowed_memberships",
        "created_at",
        "role_set_key",
    ];
    let parsed = Body::parse(body, FIELDS).and_then(|body| {
        Ok((
            body.required_string("name")?,
            body.string("slug")?,
            body.string("created_by")?,
        ))
    });
    let (name, slug, created_by) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return error.into_response(),
    };
    let now = shared.clock.now_ms();
    let mut inner = shared.lock();
    let slug = slug.unwrap_or_else(|| slugify(&name));
    if inner
        .store
        .organizations()
        .iter()
        .any(|org| org.slug == slug)
    {
        return ApiError::identifier_exists("slug").into_response();
    }
    if let Some(creator) = &created_by
        && inner.store.user(creator).is_none()
    {
        return ApiError::not_found("User").into_response();
    }
    let organization = SimOrganization {
        id: ids::new_id(&mut inner.user_rng, "org"),
        name,
        slug,
        created_at: now,
        updated_at: now,
        created_by: created_by.clone(),
    };
    inner.store.insert_organization(organization.clone());
    if let Some(creator) = created_by {
        let membership = SimMembership {
            id: ids::new_id(&mut inner.user_rng, "orgmem"),
            organization_id: organization.id.clone(),
            organization_slug: organization.slug.clone(),
            role: OrgRole::Admin,
            created_at: now,
            updated_at: now,
        };
        add_membership(&mut inner.store, &creator, membership);
    }
    tracing::info!(organization_id = %organization.id, "clerk sim organization created");
    json::ok(&organization_json(&organization))
}

/// `PATCH /v1/organizations/{organization_id}`: `name` and `slug` change (memberships carry
/// the new slug); the other members of the spec are accepted.
pub(crate) async fn update(
    State(shared): State<Arc<Shared>>,
    organization_id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    const FIELDS: &[&str] = &[
        "name",
        "slug",
        "max_allowed_memberships",
        "admin_delete_enabled",
        "created_at",
        "role_set_key",
    ];
    let Ok(Path(organization_id)) = organization_id else {
        return ApiError::not_found("Organization").into_response();
    };
    let parsed =
        Body::parse(body, FIELDS).and_then(|body| Ok((body.string("name")?, body.string("slug")?)));
    let (name, slug) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return error.into_response(),
    };
    let now = shared.clock.now_ms();
    let mut inner = shared.lock();
    let taken = slug.as_ref().is_some_and(|slug| {
        inner
            .store
            .organizations()
            .iter()
            .any(|org| org.slug == *slug && org.id != organization_id)
    });
    if taken {
        return ApiError::identifier_exists("slug").into_response();
    }
    match inner
        .store
        .update_organization(&organization_id, name, slug, now)
    {
        Some(organization) => json::ok(&organization_json(&organization)),
        None => ApiError::not_found("Organization").into_response(),
    }
}

/// Gives `user_id` a membership: the one their tokens carry if they have none yet.
fn add_membership(store: &mut Store, user_id: &str, membership: SimMembership) {
    if let Some(user) = store.user_mut(user_id) {
        if user.membership.is_none() {
            user.membership = Some(membership);
        } else {
            user.other_memberships.push(membership);
        }
    }
}

/// `DELETE /v1/organizations/{organization_id}`.
pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    organization_id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(organization_id)) = organization_id else {
        return ApiError::not_found("Organization").into_response();
    };
    let mut inner = shared.lock();
    match inner.store.remove_organization(&organization_id) {
        Some(_) => json::ok(&json!({
            "object": "organization",
            "id": organization_id,
            "deleted": true,
        })),
        None => ApiError::not_found("Organization").into_response(),
    }
}

/// `GET /v1/organization_memberships`: every membership of the instance (`order_by`,
/// `limit`, `offset`).
pub(crate) async fn list_all_memberships(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = QueryParams::parse(query.as_deref());
    let inner = shared.lock();
    let result = (|| {
        let page = PageRequest::parse(&params, MAX_LIMIT)?;
        let mut items = memberships(&inner.store);
        sort_memberships(&mut items, params.first("order_by"))?;
        Ok::<_, ParamError>(rendered(&inner.store, page.take(items)))
    })();
    answer("data", result)
}

/// `GET /v1/organizations/{organization_id}/memberships`: `user_id` (`+`/`-`), `role`,
/// `created_at_after/before`, `order_by`, `limit`, `offset`.
pub(crate) async fn list_memberships(
    State(shared): State<Arc<Shared>>,
    organization_id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(Path(organization_id)) = organization_id else {
        return ApiError::not_found("Organization").into_response();
    };
    let params = QueryParams::parse(query.as_deref());
    let inner = shared.lock();
    if inner.store.organization(&organization_id).is_none() {
        return ApiError::not_found("Organization").into_response();
    }
    let result = (|| {
        let page = PageRequest::parse(&params, MAX_LIMIT)?;
        let roles: Vec<&str> = params.all("role").collect();
        let (include, exclude) = split_ids(&params, "user_id");
        let after = params.integer("created_at_after")?;
        let before = params.integer("created_at_before")?;
        let mut items: Vec<_> = memberships(&inner.store)
            .into_iter()
            .filter(|(_, m)| m.organization_id == organization_id)
            .filter(|(_, m)| roles.is_empty() || roles.contains(&m.role.as_str()))
            .filter(|(user, _)| include.is_empty() || include.contains(&user.id))
            .filter(|(user, _)| !exclude.contains(&user.id))
            .filter(|(_, m)| after.is_none_or(|after| m.created_at >= after))
            .filter(|(_, m)| before.is_none_or(|before| m.created_at < before))
            .collect();
        sort_memberships(&mut items, params.first("order_by"))?;
        Ok::<_, ParamError>(rendered(&inner.store, page.take(items)))
    })();
    answer("data", result)
}

/// A role key the sim knows (`org:admin`, `org:member`).
fn role(body: &Body) -> Result<OrgRole, ApiError> {
    match body.required_string("role")?.as_str() {
        "org:admin" => Ok(OrgRole::Admin),
        "org:member" => Ok(OrgRole::Member),
        _ => Err(ApiError::bad_param(
            "role",
            "must be a role of the instance (the sim has org:admin and org:member)",
        )),
    }
}

/// The membership of `user_id` in `organization_id`, for a change.
fn membership_mut<'a>(
    user: &'a mut SimUser,
    organization_id: &str,
) -> Option<&'a mut SimMembership> {
    user.membership
        .iter_mut()
        .chain(user.other_memberships.iter_mut())
        .find(|m| m.organization_id == organization_id)
}

/// `POST /v1/organizations/{organization_id}/memberships`: `user_id` and `role`.
pub(crate) async fn create_membership(
    State(shared): State<Arc<Shared>>,
    organization_id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Ok(Path(organization_id)) = organization_id else {
        return ApiError::not_found("Organization").into_response();
    };
    let parsed = Body::parse(
        body,
        &["user_id", "role", "public_metadata", "private_metadata"],
    )
    .and_then(|body| Ok((body.required_string("user_id")?, role(&body)?)));
    let (user_id, role) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return error.into_response(),
    };
    let now = shared.clock.now_ms();
    let mut inner = shared.lock();
    let Some(slug) = inner
        .store
        .organization(&organization_id)
        .map(|org| org.slug.clone())
    else {
        return ApiError::not_found("Organization").into_response();
    };
    let Some(user) = inner.store.user_mut(&user_id) else {
        return ApiError::not_found("User").into_response();
    };
    if membership_mut(user, &organization_id).is_some() {
        return ApiError::identifier_exists("user_id").into_response();
    }
    let membership = SimMembership {
        id: ids::new_id(&mut inner.user_rng, "orgmem"),
        organization_id,
        organization_slug: slug,
        role,
        created_at: now,
        updated_at: now,
    };
    add_membership(&mut inner.store, &user_id, membership.clone());
    answer_membership(&inner.store, &user_id, &membership)
}

fn answer_membership(store: &Store, user_id: &str, membership: &SimMembership) -> Response {
    match store.user(user_id) {
        Some(user) => json::ok(&membership_json(store, user, membership)),
        None => ApiError::not_found("User").into_response(),
    }
}

/// `PATCH /v1/organizations/{organization_id}/memberships/{user_id}`: a new `role`.
pub(crate) async fn update_membership(
    State(shared): State<Arc<Shared>>,
    ids: Result<Path<(String, String)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Ok(Path((organization_id, user_id))) = ids else {
        return ApiError::not_found("Organization membership").into_response();
    };
    let role = match Body::parse(body, &["role"]).and_then(|body| role(&body)) {
        Ok(role) => role,
        Err(error) => return error.into_response(),
    };
    let now = shared.clock.now_ms();
    let mut inner = shared.lock();
    let changed = inner
        .store
        .user_mut(&user_id)
        .and_then(|user| membership_mut(user, &organization_id))
        .map(|membership| {
            membership.role = role;
            membership.updated_at = now.max(membership.updated_at.saturating_add(1));
            membership.clone()
        });
    match changed {
        Some(membership) => answer_membership(&inner.store, &user_id, &membership),
        None => ApiError::not_found("Organization membership").into_response(),
    }
}

/// `DELETE /v1/organizations/{organization_id}/memberships/{user_id}`: answers the removed
/// membership, as the spec says.
pub(crate) async fn delete_membership(
    State(shared): State<Arc<Shared>>,
    ids: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let Ok(Path((organization_id, user_id))) = ids else {
        return ApiError::not_found("Organization membership").into_response();
    };
    let mut inner = shared.lock();
    let Some(user) = inner.store.user_mut(&user_id) else {
        return ApiError::not_found("Organization membership").into_response();
    };
    let removed = if user
        .membership
        .as_ref()
        .is_some_and(|m| m.organization_id == organization_id)
    {
        let removed = user.membership.take();
        if !user.other_memberships.is_empty() {
            user.membership = Some(user.other_memberships.remove(0));
        }
        removed
    } else {
        let position = user
            .other_memberships
            .iter()
            .position(|m| m.organization_id == organization_id);
        position.map(|position| user.other_memberships.remove(position))
    };
    let Some(removed) = removed else {
        return ApiError::not_found("Organization membership").into_response();
    };
    let Some(user) = inner.store.user(&user_id) else {
        return ApiError::not_found("User").into_response();
    };
    json::ok(&membership_json(&inner.store, user, &removed))
}
