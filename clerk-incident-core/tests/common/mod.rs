//! Fixtures shared by the Backend API client tests: the test key, clients pointed at a wiremock
//! server, Clerk-shaped JSON bodies (after the 2026-05-12 OpenAPI spec), and matchers.
//!
//! Every test binary uses a different subset, hence the `dead_code` allowance.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::error::Error as _;
use std::time::Duration;

use clerk_incident_core::api::{
    ApiError, ClerkApi, ClerkApiBuilder, RateLimit, RetryPolicy, SecretKey,
};
use clerk_incident_core::http::TransportError;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockBuilder, MockServer, Request, ResponseTemplate};

/// The secret key every test client uses. Long and distinctive, so a leak cannot hide.
pub(crate) const KEY: &str = "sk_test_Zq8v1LeakCanary0123456789abcdefXYZ";

/// The random-looking tail of [`KEY`]: no output may contain even this part.
pub(crate) const KEY_TAIL: &str = "LeakCanary0123456789abcdefXYZ";

/// The pinned API version every request must carry.
pub(crate) const API_VERSION: &str = "2026-05-12";

/// A fast retry policy: 10 ms base delay, 50 ms cap, `max_attempts` attempts.
pub(crate) fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_elapsed: Duration::from_secs(30),
    }
}

/// A pacing budget loose enough that it never slows a test down.
pub(crate) fn loose_rate_limit() -> RateLimit {
    RateLimit::new(1000, Duration::from_secs(1)).unwrap()
}

/// A builder aimed at `base_url`, loosely paced, with [`fast_retry`]`(3)` and a 5 s timeout.
pub(crate) fn builder_for(base_url: &str) -> ClerkApiBuilder {
    ClerkApi::builder(SecretKey::new(KEY))
        .base_url(base_url)
        .rate_limit(loose_rate_limit())
        .retry(fast_retry(3))
        .timeout(Duration::from_secs(5))
}

/// [`builder_for`] the wiremock server.
pub(crate) fn builder(server: &MockServer) -> ClerkApiBuilder {
    builder_for(&server.uri())
}

/// A built client for the wiremock server, with the defaults of [`builder`].
pub(crate) fn api(server: &MockServer) -> ClerkApi {
    builder(server).build().unwrap()
}

/// A mock for `verb path` that also requires the bearer key and the pinned API version.
pub(crate) fn clerk_call(verb: &str, route: &str) -> MockBuilder {
    Mock::given(method(verb))
        .and(path(route))
        .and(header("Authorization", format!("Bearer {KEY}").as_str()))
        .and(header("Clerk-API-Version", API_VERSION))
}

/// Matches when the query parameter `name` appears exactly with `values`, in order.
pub(crate) fn query_values(name: &'static str, values: Vec<String>) -> impl Match {
    move |request: &Request| {
        let seen: Vec<String> = request
            .url
            .query_pairs()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .collect();
        seen == values
    }
}

/// A 200 answer with a JSON body.
pub(crate) fn ok_json(body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// A user as `GET /v1/users/{id}` returns it, with every field of the spec's `User` schema
/// (most of which the client ignores).
pub(crate) fn user_json(id: &str, created_at: i64) -> Value {
    let email_id = format!("idn_{id}");
    let mut user = json!({
        "id": id,
        "object": "user",
        "external_id": null,
        "primary_email_address_id": email_id,
        "primary_phone_number_id": null,
        "primary_web3_wallet_id": null,
        "username": null,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "locale": "en-GB",
        "profile_image_url": "https://www.gravatar.com/avatar?d=mp",
        "image_url": "https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9",
        "has_image": false,
        "public_metadata": {"plan": "team"},
        "private_metadata": {},
        "unsafe_metadata": {},
        "email_addresses": [{
            "id": email_id,
            "object": "email_address",
            "email_address": format!("{id}@example.com"),
            "reserved": false,
            "verification": {
                "object": "verification_otp",
                "status": "verified",
                "strategy": "email_code",
                "attempts": 1,
                "expire_at": created_at + 600_000
            },
            "linked_to": [],
            "matches_sso_connection": false,
            "created_at": created_at,
            "updated_at": created_at
        }],
        "phone_numbers": [],
        "web3_wallets": [],
        "passkeys": [],
        "password_enabled": true,
        "two_factor_enabled": false,
        "totp_enabled": false,
        "backup_code_enabled": false
    });
    let rest = json!({
        "mfa_enabled_at": null,
        "mfa_disabled_at": null,
        "password_last_updated_at": created_at,
        "external_accounts": [],
        "saml_accounts": [],
        "enterprise_accounts": [],
        "organization_memberships": [],
        "last_sign_in_at": created_at + 3_600_000,
        "banned": false,
        "locked": false,
        "deprovisioned": false,
        "lockout_expires_in_seconds": null,
        "verification_attempts_remaining": 100,
        "updated_at": created_at + 7_200_000,
        "created_at": created_at,
        "delete_self_enabled": true,
        "create_organization_enabled": true,
        "create_organizations_limit": null,
        "last_active_at": 1_700_690_400_000_i64,
        "legal_accepted_at": null,
        "bypass_client_trust": false,
        "scim": null
    });
    merge(&mut user, rest);
    user
}

/// `count` users `user_{first}` … with decreasing `created_at` (newest first).
pub(crate) fn users_json(first: usize, count: usize) -> Value {
    Value::Array(
        (first..first + count)
            .map(|n| user_json(&format!("user_{n}"), 1_700_000_000_000 - n as i64))
            .collect(),
    )
}

/// A session with every field of the spec's `Session` schema.
pub(crate) fn session_json(id: &str, user_id: &str, status: &str) -> Value {
    json!({
        "object": "session",
        "id": id,
        "user_id": user_id,
        "client_id": "client_2xbhaSNAPwxvZ8lBsQY1vwnBcUD",
        "actor": null,
        "status": status,
        "last_active_organization_id": "org_2xbhb7mm9d3hBbwKC56cU8U6r3G",
        "last_active_at": 1_700_690_400_000_i64,
        "latest_activity": {
            "object": "session_activity",
            "id": "sess_activity_2xbhc",
            "device_type": "Macintosh",
            "is_mobile": false,
            "browser_name": "Chrome",
            "browser_version": "124.0.0.0",
            "ip_address": "203.0.113.7",
            "city": "Lisbon",
            "country": "PT"
        },
        "expire_at": 1_701_295_200_000_i64,
        "abandon_at": 1_703_282_400_000_i64,
        "updated_at": 1_700_690_400_000_i64,
        "created_at": 1_700_600_000_000_i64,
        "tasks": null
    })
}

/// `count` active sessions `sess_{first}` … of `user_id`.
pub(crate) fn sessions_json(user_id: &str, first: usize, count: usize) -> Vec<Value> {
    (first..first + count)
        .map(|n| session_json(&format!("sess_{n}"), user_id, "active"))
        .collect()
}

/// A `JWKS` body with one RSA session key and, as Clerk may add, an extra field per key.
pub(crate) fn jwks_json(kid: &str) -> Value {
    json!({
        "keys": [{
            "use": "sig",
            "kty": "RSA",
            "kid": kid,
            "alg": "RS256",
            "n": "yVlWHiMOGdKY0Z0Sg7qzl0VaGbkAlpoeAdIz1UjRnsHuSlC2l5MSnr2kl0AxDfEzi3Of8P2crbIZp5_yjOHfj2kHE_HOdyBwCbSxbZcCxvHuv3o56TNw5Y8rWJ3XhCH4d2tAwUCw9ybT6UYn5tV8Ua4mo9mPg7tBy1v8iz5h8oYCHp6w1dmDQlYmT8dL4LSXDPrB3mlRoZ0OvuoXP3M4HcWaPdt16tqkrdlRj0rKZfECKaHkTRnEl1wLwoY8QsnWu8tZ4Sb7dGj2UdPwm7aMDyBmADfHBKQKK1F8LZb_PmsmjJ1VZV3ro-lP-HzyL5ugu2UwFbmX1LMu9GnUjjrZMw",
            "e": "AQAB",
            "x5t#S256": "tyRyj1mMMxBmJSmMNRLT2mpVntOuz5gQ8Ktn4vVVnUg"
        }]
    })
}

/// An `Instance` body, `workspace_id` included.
pub(crate) fn instance_json(id: &str) -> Value {
    json!({
        "object": "instance",
        "id": id,
        "environment_type": "production",
        "allowed_origins": ["https://app.example.com", "http://localhost:3000"],
        "workspace_id": "org_2abc123def456"
    })
}

/// Clerk's `ClerkErrors` body with one error.
pub(crate) fn clerk_errors(code: &str, message: &str, long_message: &str, trace: &str) -> Value {
    json!({
        "errors": [{
            "message": message,
            "long_message": long_message,
            "code": code,
            "meta": {"param_name": "user_id"}
        }],
        "meta": {},
        "clerk_trace_id": trace
    })
}

/// An answer with `status` and Clerk's error body.
pub(crate) fn clerk_error_response(status: u16, code: &str, trace: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(clerk_errors(
        code,
        "something went wrong",
        "Something went wrong with this request",
        trace,
    ))
}

/// A loopback port that nothing listens on (bound, then released).
pub(crate) fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Every rendering of an error a user could see or log: `Display`, `Debug`, and the same for
/// each source in the chain.
pub(crate) fn renderings(err: &ApiError) -> Vec<String> {
    let mut out = vec![err.to_string(), format!("{err:?}")];
    let mut source = err.source();
    while let Some(inner) = source {
        out.push(inner.to_string());
        out.push(format!("{inner:?}"));
        source = inner.source();
    }
    out
}

/// Panics if any rendering of `err` contains the key or its tail.
pub(crate) fn assert_no_key(err: &ApiError) {
    for text in renderings(err) {
        assert!(
            !text.contains(KEY) && !text.contains(KEY_TAIL),
            "the secret key leaked: {text}"
        );
    }
}

fn merge(target: &mut Value, extra: Value) {
    if let (Value::Object(target), Value::Object(extra)) = (target, extra) {
        target.extend(extra);
    }
}

/// Panics unless `api`'s counters are exactly (requests, retries, rate_limited).
pub(crate) fn assert_counters(api: &ClerkApi, requests: u64, retries: u64, rate_limited: u64) {
    let counters = api.counters();
    assert_eq!(
        (counters.requests, counters.retries, counters.rate_limited),
        (requests, retries, rate_limited),
        "(requests, retries, rate_limited)"
    );
}

/// The attempts and the last failure of an [`ApiError::Transport`]; panics on any other kind.
pub(crate) fn transport_failure(err: &ApiError) -> (u32, &TransportError) {
    match err {
        ApiError::Transport {
            attempts, source, ..
        } => (*attempts, source),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

/// The attempts and the last `Retry-After` of an [`ApiError::RateLimited`]; panics on any
/// other kind.
pub(crate) fn rate_limited_failure(err: &ApiError) -> (u32, Option<Duration>) {
    match err {
        ApiError::RateLimited {
            attempts,
            retry_after,
            ..
        } => (*attempts, *retry_after),
        other => panic!("expected a rate-limit error, got {other:?}"),
    }
}
