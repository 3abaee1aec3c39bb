//! The Backend API's simple collections: invitations, redirect URLs, domains, allowlist and
//! blocklist identifiers, JWT templates, OAuth applications and SAML connections. Each is
//! listed, created and removed the same way; what differs (the spec's list shape, the members
//! a create takes, the object it renders) is in its [`Collection`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::body::Body;
use super::error::ApiError;
use super::json;
use super::list_page::{MAX_LIMIT, PageRequest, wrapped};
use crate::ids;
use crate::instance_objects::Kind;
use crate::query_params::{ParamError, QueryParams};
use crate::state::Shared;

/// How a list answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A bare array (`paginated=true`: `{"data", "total_count"}`), paged by `limit`/`offset`.
    Array,
    /// `{"data": [...], "total_count": N}`, paged by `limit`/`offset`.
    Data,
    /// `{"data": [...], "total_count": N}`, everything at once (the spec gives no paging).
    All,
}

/// What a new object is made from.
pub(crate) struct NewObject<'a> {
    pub(crate) id: String,
    pub(crate) now: i64,
    pub(crate) shared: &'a Shared,
    /// Random characters for client ids, secrets and tickets.
    pub(crate) random: String,
}

/// Renders a new object: the stored object, and the create answer when it shows more (a
/// secret).
pub(crate) type Render = fn(&Body, &NewObject<'_>) -> Result<(Value, Option<Value>), ApiError>;

/// A collection's answers.
pub(crate) struct Collection {
    pub(crate) kind: Kind,
    /// The object's name in a 404.
    pub(crate) what: &'static str,
    pub(crate) id_prefix: &'static str,
    pub(crate) shape: Shape,
    /// Newest first by default (`-created_at`) rather than oldest first.
    pub(crate) newest_first: bool,
    /// The members a create takes.
    pub(crate) fields: &'static [&'static str],
    /// The stored object, and the create answer when it shows more (a secret).
    pub(crate) render: Render,
    /// The `object` of the `DeletedObject` a delete answers.
    pub(crate) deleted_object: &'static str,
}

/// `GET` of a collection.
pub(crate) async fn list(
    collection: &'static Collection,
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = QueryParams::parse(query.as_deref());
    let inner = shared.lock();
    let result = (|| -> Result<Response, ParamError> {
        let mut items: Vec<&Value> = inner.objects.all(collection.kind).iter().collect();
        if collection.kind == Kind::Invitation {
            if let Some(status) = params.first("status") {
                items.retain(|item| item["status"] == status);
            }
            if let Some(query) = params.non_empty("query") {
                items.retain(|item| item["id"] == query || item["email_address"] == query);
            }
        }
        let searchable = matches!(
            collection.kind,
            Kind::OauthApplication | Kind::SamlConnection
        );
        if let Some(query) = params
            .non_empty("name_query")
            .or(params.non_empty("query"))
            .filter(|_| searchable)
        {
            let query = query.to_lowercase();
            items.retain(|item| {
                item["client_id"] == query.as_str()
                    || item["name"]
                        .as_str()
                        .is_some_and(|name| name.to_lowercase().contains(&query))
            });
        }
        let descending = match params.first("order_by") {
            Some(order) => order.starts_with('-'),
            None => collection.newest_first,
        };
        if descending {
            items.reverse();
        }
        if collection.shape == Shape::All {
            let total = items.len();
            return Ok(wrapped("data", &items, total));
        }
        let page = PageRequest::parse(&params, MAX_LIMIT)?;
        let (page, total) = page.take(items);
        let paginated = params.boolean("paginated")?.unwrap_or(false);
        Ok(match collection.shape {
            Shape::Array if !paginated => json::ok(&page),
            _ => wrapped("data", &page, total),
        })
    })();
    result.unwrap_or_else(|error| ApiError::from(error).into_response())
}

/// `POST` of a collection.
pub(crate) async fn create(
    collection: &'static Collection,
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match Body::parse(body, collection.fields) {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    let now = shared.clock.now_ms();
    let (id, random) = {
        let mut inner = shared.lock();
        let rng = &mut inner.user_rng;
        (
            ids::new_id(rng, collection.id_prefix),
            ids::new_id(rng, "x").split_off(2),
        )
    };
    let new = NewObject {
        id,
        now,
        shared: &shared,
        random,
    };
    let (stored, answer) = match (collection.render)(&body, &new) {
        Ok(rendered) => rendered,
        Err(error) => return error.into_response(),
    };
    let mut inner = shared.lock();
    if let Some(field) = duplicate(inner.objects.all(collection.kind), &stored) {
        return ApiError::identifier_exists(field).into_response();
    }
    inner.objects.insert(collection.kind, stored.clone());
    tracing::info!(id = %new.id, kind = collection.what, "clerk sim object created");
    json::ok(&answer.unwrap_or(stored))
}

/// The member that makes `new` a duplicate of an existing object, if any: Clerk keeps one
/// redirect URL per URL, one identifier per list entry, one domain or JWT template per name.
fn duplicate(existing: &[Value], new: &Value) -> Option<&'static str> {
    let unique: &[&'static str] = match new["object"].as_str() {
        Some("redirect_url") => &["url"],
        Some("allowlist_identifier" | "blocklist_identifier") => &["identifier"],
        Some("domain" | "jwt_template") => &["name"],
        _ => &[],
    };
    unique.iter().copied().find(|field| {
        new.get(*field).is_some_and(|value| {
            existing
                .iter()
                .any(|object| object.get(*field) == Some(value))
        })
    })
}

/// `DELETE` of one object: Clerk's `DeletedObject`.
pub(crate) async fn delete(
    collection: &'static Collection,
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return ApiError::not_found(collection.what).into_response();
    };
    let removed = shared.lock().objects.remove(collection.kind, &id);
    match removed {
        Some(_) => json::ok(&json!({
            "object": collection.deleted_object,
            "id": id,
            "deleted": true,
        })),
        None => ApiError::not_found(collection.what).into_response(),
    }
}

/// `PATCH /v1/jwt_templates/{template_id}`: the create's members replace the template's.
pub(crate) async fn update_jwt_template(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return ApiError::not_found("JWT template").into_response();
    };
    let body = match Body::parse(body, JWT_TEMPLATES.fields) {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    let now = shared.clock.now_ms();
    let new = NewObject {
        id: id.clone(),
        now,
        shared: &shared,
        random: String::new(),
    };
    let (rendered, _) = match jwt_template(&body, &new) {
        Ok(rendered) => rendered,
        Err(error) => return error.into_response(),
    };
    let mut inner = shared.lock();
    let Some(template) = inner.objects.get_mut(Kind::JwtTemplate, &id) else {
        return ApiError::not_found("JWT template").into_response();
    };
    let created_at = template["created_at"].clone();
    *template = rendered;
    json::set(template, "created_at", created_at);
    json::ok(template)
}

/// `POST /v1/invitations/{invitation_id}/revoke`.
pub(crate) async fn revoke_invitation(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return ApiError::not_found("Invitation").into_response();
    };
    let now = shared.clock.now_ms();
    let mut inner = shared.lock();
    let Some(invitation) = inner.objects.get_mut(Kind::Invitation, &id) else {
        return ApiError::not_found("Invitation").into_response();
    };
    json::set(invitation, "status", json!("revoked"));
    json::set(invitation, "revoked", json!(true));
    json::set(invitation, "updated_at", json!(now));
    json::ok(invitation)
}

const DAY_MS: i64 = 86_400_000;

fn invitation(body: &Body, new: &NewObject<'_>) -> Result<(Value, Option<Value>), ApiError> {
    let email = body.required_string("email_address")?;
    if !email.contains('@') {
        return Err(ApiError::bad_param(
            "email_address",
            "must be an email address",
        ));
    }
    let days = body.integer("expires_in_days", 1, 365)?.unwrap_or(30);
    let json = json!({
        "object": "invitation",
        "id": new.id,
        "email_address": email,
        "public_metadata": body.object("public_metadata")?.unwrap_or_default(),
        "revoked": false,
        "status": "pending",
        "url": format!("{}/v1/tickets/accept?ticket={}", new.shared.base_url, new.random),
        "expires_at": new.now + days * DAY_MS,
        "created_at": new.now,
        "updated_at": new.now,
    });
    Ok((json, None))
}

fn redirect_url(body: &Body, new: &NewObject<'_>) -> Result<(Value, Option<Value>), ApiError> {
    let url = body.required_string("url")?;
    let json = json!({
        "object": "redirect_url",
        "id": new.id,
        "url": url,
        "created_at": new.now,
        "updated_at": new.now,
    });
    Ok((json, None))
}

fn domain(body: &Body, new: &NewObject<'_>) -> Result<(Value, Option<Value>), ApiError> {
    let name = body.required_string("name")?;
    if body.boolean("is_satellite")? != Some(true) {
        return Err(ApiError::bad_param(
            "is_satellite",
            "must be true: only satellite domains can be added",
        ));
    }
    let json = json!({
        "object": "domain",
        "id": new.id,
        "name": name,
        "is_satellite": true,
        "frontend_api_url": format!("https://clerk.{name}"),
        "accounts_portal_url": null,
        "proxy_url": body.string("proxy_url")?,
        "development_origin": "",
        "cname_targets": null,
    });
    Ok((json, None))
}

/// The `identifier_type` of an identifier.
fn identifier_type(identifier: &str) -> &'static str {
    if identifier.starts_with("0x") {
        "web3_wallet"
    } else if identifier.starts_with('+') {
        "phone_number"
    } else {
        "email_address"
    }
}

/// An allowlist or blocklist entry (`object` says which): the two share their shape.
fn list_identifier(
    object: &'static str,
    body: &Body,
    new: &NewObject<'_>,
) -> Result<(Value, Option<Value>), ApiError> {
    let identifier = body.required_string("identifier")?;
    let json = json!({
        "object": object,
        "id": new.id,
        "identifier": identifier,
        "identifier_type": identifier_type(&identifier),
        "instance_id": new.shared.instance_id,
        "created_at": new.now,
        "updated_at": new.now,
    });
    Ok((json, None))
}

fn allowlist_identifier(
    body: &Body,
    new: &NewObject<'_>,
) -> Result<(Value, Option<Value>), ApiError> {
    list_identifier("allowlist_identifier", body, new)
}

fn blocklist_identifier(
    body: &Body,
    new: &NewObject<'_>,
) -> Result<(Value, Option<Value>), ApiError> {
    list_identifier("blocklist_identifier", body, new)
}

fn jwt_template(body: &Body, new: &NewObject<'_>) -> Result<(Value, Option<Value>), ApiError> {
    let name = body.required_string("name")?;
    let claims = body
        .object("claims")?
        .ok_or_else(|| ApiError::missing_param("claims"))?;
    let json = json!({
        "object": "jwt_template",
        "id": new.id,
        "name": name,
        "claims": claims,
        "lifetime": body.integer("lifetime", 30, 315_360_000)?.unwrap_or(60),
        "allowed_clock_skew": body.integer("allowed_clock_skew", 0, 300)?.unwrap_or(5),
        "custom_signing_key": body.boolean("custom_signing_key")?.unwrap_or(false),
        "signing_algorithm": body.string("signing_algorithm")?.unwrap_or_else(|| "RS256".to_owned()),
        "created_at": new.now,
        "updated_at": new.now,
    });
    Ok((json, None))
}

fn oauth_application(body: &Body, new: &NewObject<'_>) -> Result<(Value, Option<Value>), ApiError> {
    let name = body.required_string("name")?;
    let redirect_uris = body.strings("redirect_uris")?;
    let callback_url = body
        .string("callback_url")?
        .or_else(|| redirect_uris.first().cloned())
        .unwrap_or_default();
    let base = &new.shared.base_url;
    let public = body.boolean("public")?.unwrap_or(false);
    let json = json!({
        "object": "oauth_application",
        "id": new.id,
        "instance_id": new.shared.instance_id,
        "name": name,
        "client_id": new.random.get(..16).unwrap_or(&new.random),
        "client_uri": null,
        "client_image_url": null,
        "dynamically_registered": false,
        "consent_screen_enabled": body.boolean("consent_screen_enabled")?.unwrap_or(true),
        "pkce_required": body.boolean("pkce_required")?.unwrap_or(false),
        "public": public,
        "scopes": body.string("scopes")?.unwrap_or_else(|| "profile email".to_owned()),
        "redirect_uris": redirect_uris,
        "callback_url": callback_url,
        "authorize_url": format!("{base}/oauth/authorize"),
        "token_fetch_url": format!("{base}/oauth/token"),
        "user_info_url": format!("{base}/oauth/userinfo"),
        "discovery_url": format!("{base}/.well-known/openid-configuration"),
        "token_introspection_url": format!("{base}/oauth/token_info"),
        "created_at": new.now,
        "updated_at": new.now,
    });
    let mut answer = json.clone();
    if !public {
        json::set(&mut answer, "client_secret", json!(new.random));
    }
    Ok((json, Some(answer)))
}

fn saml_connection(body: &Body, new: &NewObject<'_>) -> Result<(Value, Option<Value>), ApiError> {
    let name = body.required_string("name")?;
    let provider = body.required_string("provider")?;
    if !["saml_custom", "saml_okta", "saml_google", "saml_microsoft"].contains(&provider.as_str()) {
        return Err(ApiError::bad_param(
            "provider",
            "must be one of saml_custom, saml_okta, saml_google, saml_microsoft",
        ));
    }
    let mut domains = body.strings("domains")?;
    if let Some(domain) = body.string("domain")? {
        domains.insert(0, domain);
    }
    let Some(domain) = domains.first().cloned() else {
        return Err(ApiError::missing_param("domains"));
    };
    let base = &new.shared.base_url;
    let id = &new.id;
    let json = json!({
        "object": "saml_connection",
        "id": id,
        "name": name,
        "domain": domain,
        "domains": domains,
        "idp_entity_id": body.string("idp_entity_id")?,
        "idp_sso_url": body.string("idp_sso_url")?,
        "idp_certificate": body.string("idp_certificate")?,
        "idp_certificate_issued_at": null,
        "idp_certificate_expires_at": null,
        "idp_metadata_url": body.string("idp_metadata_url")?,
        "idp_metadata": body.string("idp_metadata")?,
        "acs_url": format!("{base}/v1/saml/acs/{id}"),
        "sp_entity_id": format!("{base}/saml/{id}"),
        "sp_metadata_url": format!("{base}/v1/saml/metadata/{id}"),
        "organization_id": body.string("organization_id")?,
        "active": true,
        "provider": provider,
        "user_count": 0,
        "sync_user_attributes": true,
        "allow_subdomains": false,
        "allow_idp_initiated": false,
        "disable_additional_identifications": false,
        "allow_organization_account_linking": false,
        "force_authn": body.boolean("force_authn")?.unwrap_or(false),
        "login_hint": {"mode": "off"},
        "enterprise_connection_id": null,
        "authenticatable": true,
        "disable_jit_provisioning": false,
        "created_at": new.now,
        "updated_at": new.now,
    });
    Ok((json, None))
}

/// `/v1/invitations`.
pub(crate) static INVITATIONS: Collection = Collection {
    kind: Kind::Invitation,
    what: "Invitation",
    id_prefix: "inv",
    shape: Shape::Array,
    newest_first: true,
    fields: &[
        "email_address",
        "public_metadata",
        "redirect_url",
        "notify",
        "ignore_existing",
        "expires_in_days",
        "template_slug",
    ],
    render: invitation,
    deleted_object: "invitation",
};

/// `/v1/redirect_urls`.
pub(crate) static REDIRECT_URLS: Collection = Collection {
    kind: Kind::RedirectUrl,
    what: "Redirect URL",
    id_prefix: "ru",
    shape: Shape::Array,
    newest_first: false,
    fields: &["url"],
    render: redirect_url,
    deleted_object: "redirect_url",
};

/// `/v1/domains`.
pub(crate) static DOMAINS: Collection = Collection {
    kind: Kind::Domain,
    what: "Domain",
    id_prefix: "dmn",
    shape: Shape::All,
    newest_first: false,
    fields: &["name", "is_satellite", "proxy_url"],
    render: domain,
    deleted_object: "domain",
};

/// `/v1/allowlist_identifiers`.
pub(crate) static ALLOWLIST: Collection = Collection {
    kind: Kind::AllowlistIdentifier,
    what: "Allowlist identifier",
    id_prefix: "alid",
    shape: Shape::Array,
    newest_first: false,
    fields: &["identifier", "notify"],
    render: allowlist_identifier,
    deleted_object: "allowlist_identifier",
};

/// `/v1/blocklist_identifiers`.
pub(crate) static BLOCKLIST: Collection = Collection {
    kind: Kind::BlocklistIdentifier,
    what: "Blocklist identifier",
    id_prefix: "blid",
    shape: Shape::All,
    newest_first: false,
    fields: &["identifier"],
    render: blocklist_identifier,
    deleted_object: "blocklist_identifier",
};

/// `/v1/jwt_templates`.
pub(crate) static JWT_TEMPLATES: Collection = Collection {
    kind: Kind::JwtTemplate,
    what: "JWT template",
    id_prefix: "jtmp",
    shape: Shape::Array,
    newest_first: false,
    fields: &[
        "name",
        "claims",
        "lifetime",
        "allowed_clock_skew",
        "custom_signing_key",
        "signing_algorithm",
        "signing_key",
    ],
    render: jwt_template,
    deleted_object: "jwt_template",
};

/// `/v1/oauth_applications`.
pub(crate) static OAUTH_APPLICATIONS: Collection = Collection {
    kind: Kind::OauthApplication,
    what: "OAuth application",
    id_prefix: "oa",
    shape: Shape::Data,
    newest_first: false,
    fields: &[
        "name",
        "redirect_uris",
        "callback_url",
        "scopes",
        "consent_screen_enabled",
        "pkce_required",
        "public",
    ],
    render: oauth_application,
    deleted_object: "oauth_application",
};

/// `/v1/saml_connections`.
pub(crate) static SAML_CONNECTIONS: Collection = Collection {
    kind: Kind::SamlConnection,
    what: "SAML connection",
    id_prefix: "samlc",
    shape: Shape::Data,
    newest_first: true,
    fields: &[
        "name",
        "domain",
        "domains",
        "provider",
        "idp_entity_id",
        "idp_sso_url",
        "idp_certificate",
        "idp_metadata_url",
        "idp_metadata",
        "organization_id",
        "attribute_mapping",
        "force_authn",
        "login_hint",
    ],
    render: saml_connection,
    deleted_object: "saml_connection",
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{duplicate, identifier_type};

    #[test]
    fn identifiers_are_typed_and_duplicates_found() {
        assert_eq!(identifier_type("a@b.example"), "email_address");
        assert_eq!(identifier_type("+15551234567"), "phone_number");
        assert_eq!(identifier_type("0xabc"), "web3_wallet");
        let existing = [json!({"object": "redirect_url", "url": "https://a.example"})];
        let again = json!({"object": "redirect_url", "url": "https://a.example"});
        assert_eq!(duplicate(&existing, &again), Some("url"));
        let other = json!({"object": "redirect_url", "url": "https://b.example"});
        assert_eq!(duplicate(&existing, &other), None);
        let apps = [json!({"object": "oauth_application", "name": "x"})];
        assert_eq!(
            duplicate(&apps, &json!({"object": "oauth_application", "name": "x"})),
            None
        );
    }
}
