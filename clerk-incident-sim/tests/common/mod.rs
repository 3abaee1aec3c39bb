//! Shared helpers of the sim's integration tests.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub(crate) mod spec;

use std::time::Duration;

use clerk_incident_sim::{Sim, SimBuilder};
use reqwest::StatusCode;
use serde_json::Value;

/// A fixed "now" (2025-06-15T15:06:40Z) so that seeded data is reproducible.
pub(crate) const NOW: i64 = 1_750_000_000_000;
pub(crate) const DAY_MS: i64 = 86_400_000;

/// A builder with a fixed clock.
pub(crate) fn builder() -> SimBuilder {
    Sim::builder().now_unix_ms(NOW)
}

/// A client that never uses a proxy and gives up after 10 s.
pub(crate) fn client() -> reqwest::Client {
    client_with_timeout(Duration::from_secs(10))
}

pub(crate) fn client_with_timeout(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
        .unwrap()
}

/// `GET base_url + path` with the sim's secret key.
pub(crate) async fn get(sim: &Sim, path: &str) -> reqwest::Response {
    get_with_key(sim, path, Some(sim.secret_key())).await
}

/// `GET base_url + path` with `key` as bearer token, or without `Authorization`.
pub(crate) async fn get_with_key(sim: &Sim, path: &str, key: Option<&str>) -> reqwest::Response {
    let request = client().get(format!("{}{path}", sim.base_url()));
    let request = match key {
        Some(key) => request.bearer_auth(key),
        None => request,
    };
    request.send().await.unwrap()
}

/// `GET` with the secret key, expecting `status`; returns the JSON body.
pub(crate) async fn get_json(sim: &Sim, path: &str, status: StatusCode) -> Value {
    let response = get(sim, path).await;
    assert_eq!(response.status(), status, "GET {path}");
    response.json().await.unwrap()
}

/// Ids of a JSON array of objects.
pub(crate) fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Asserts that `value` is an object holding every `required` member and nothing outside
/// `allowed` (the spec's `additionalProperties: false`).
pub(crate) fn assert_shape(value: &Value, name: &str, required: &[&str], allowed: &[&str]) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{name} is not an object: {value}"));
    for member in required {
        assert!(
            object.contains_key(*member),
            "{name} lacks required `{member}`: {value}"
        );
    }
    for member in object.keys() {
        assert!(
            allowed.contains(&member.as_str()),
            "{name} has `{member}`, which the spec does not list"
        );
    }
}

/// Clerk's `ClerkErrors` body with one error of `code`.
pub(crate) fn assert_clerk_error(body: &Value, code: &str) {
    assert_shape(
        body,
        "ClerkErrors",
        &["errors"],
        &["errors", "meta", "clerk_trace_id"],
    );
    let error = &body["errors"][0];
    assert_shape(
        error,
        "ClerkError",
        &["message", "long_message", "code"],
        &["message", "long_message", "code", "meta"],
    );
    assert_eq!(error["code"], code, "{body}");
    assert!(body["clerk_trace_id"].is_string());
}

pub(crate) const USER_REQUIRED: &[&str] = &[
    "id",
    "object",
    "username",
    "first_name",
    "last_name",
    "has_image",
    "primary_email_address_id",
    "primary_phone_number_id",
    "primary_web3_wallet_id",
    "password_enabled",
    "two_factor_enabled",
    "totp_enabled",
    "backup_code_enabled",
    "email_addresses",
    "phone_numbers",
    "web3_wallets",
    "passkeys",
    "external_accounts",
    "saml_accounts",
    "enterprise_accounts",
    "public_metadata",
    "external_id",
    "last_sign_in_at",
    "banned",
    "locked",
    "lockout_expires_in_seconds",
    "verification_attempts_remaining",
    "created_at",
    "updated_at",
    "delete_self_enabled",
    "create_organization_enabled",
    "last_active_at",
    "mfa_enabled_at",
    "mfa_disabled_at",
    "legal_accepted_at",
];

pub(crate) const USER_PROPERTIES: &[&str] = &[
    "id",
    "object",
    "external_id",
    "primary_email_address_id",
    "primary_phone_number_id",
    "primary_web3_wallet_id",
    "username",
    "first_name",
    "last_name",
    "locale",
    "profile_image_url",
    "image_url",
    "has_image",
    "public_metadata",
    "private_metadata",
    "unsafe_metadata",
    "email_addresses",
    "phone_numbers",
    "web3_wallets",
    "passkeys",
    "password_enabled",
    "two_factor_enabled",
    "totp_enabled",
    "backup_code_enabled",
    "mfa_enabled_at",
    "mfa_disabled_at",
    "password_last_updated_at",
    "external_accounts",
    "saml_accounts",
    "enterprise_accounts",
    "organization_memberships",
    "last_sign_in_at",
    "banned",
    "locked",
    "deprovisioned",
    "lockout_expires_in_seconds",
    "verification_attempts_remaining",
    "updated_at",
    "created_at",
    "delete_self_enabled",
    "create_organization_enabled",
    "create_organizations_limit",
    "last_active_at",
    "legal_accepted_at",
    "bypass_client_trust",
    "scim",
];

pub(crate) const EMAIL_REQUIRED: &[&str] = &[
    "object",
    "email_address",
    "verification",
    "linked_to",
    "reserved",
    "created_at",
    "updated_at",
];

pub(crate) const EMAIL_PROPERTIES: &[&str] = &[
    "id",
    "object",
    "email_address",
    "reserved",
    "verification",
    "linked_to",
    "matches_sso_connection",
    "created_at",
    "updated_at",
];

pub(crate) const SESSION_REQUIRED: &[&str] = &[
    "object",
    "id",
    "user_id",
    "client_id",
    "status",
    "last_active_at",
    "expire_at",
    "abandon_at",
    "updated_at",
    "created_at",
];

pub(crate) const SESSION_PROPERTIES: &[&str] = &[
    "object",
    "id",
    "user_id",
    "client_id",
    "actor",
    "status",
    "last_active_organization_id",
    "last_active_at",
    "latest_activity",
    "expire_at",
    "abandon_at",
    "updated_at",
    "created_at",
    "tasks",
];

pub(crate) const JWK_REQUIRED: &[&str] = &["kid", "alg", "use", "kty", "n", "e"];

pub(crate) const INSTANCE_REQUIRED: &[&str] = &[
    "object",
    "id",
    "environment_type",
    "allowed_origins",
    "workspace_id",
];

/// Asserts the `User` shape, its email addresses included.
pub(crate) fn assert_user(user: &Value) {
    assert_shape(user, "User", USER_REQUIRED, USER_PROPERTIES);
    assert_eq!(user["object"], "user");
    let emails = user["email_addresses"].as_array().unwrap();
    assert_eq!(emails.len(), 1);
    for email in emails {
        assert_shape(email, "EmailAddress", EMAIL_REQUIRED, EMAIL_PROPERTIES);
        assert_eq!(email["object"], "email_address");
        assert_eq!(email["id"], user["primary_email_address_id"]);
        assert_eq!(email["verification"]["status"], "verified");
    }
    assert_eq!(user["last_active_at"].as_i64().unwrap() % DAY_MS, 0);
}

/// Asserts the `Session` shape.
pub(crate) fn assert_session(session: &Value) {
    assert_shape(session, "Session", SESSION_REQUIRED, SESSION_PROPERTIES);
    assert_eq!(session["object"], "session");
}
