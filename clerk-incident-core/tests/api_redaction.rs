//! The secret key never shows: not in `Debug` of the key, the client or its builder, and not in
//! the `Display` or `Debug` (sources included) of any error, even when a server echoes it.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use clerk_incident_core::api::{ApiError, ClerkApi, RetryPolicy, SecretKey, UserQuery};
use clerk_incident_core::http::{HttpRequest, HttpResponse, TransportError};
use common::{
    KEY, KEY_TAIL, api, assert_no_key, builder, builder_for, clerk_call, clerk_error_response,
    clerk_errors, instance_json, ok_json, refused_port, renderings,
};
use futures::TryStreamExt;
use serde_json::json;
use wiremock::{MockServer, Request, ResponseTemplate};

fn assert_hidden(text: &str) {
    assert!(
        !text.contains(KEY) && !text.contains(KEY_TAIL),
        "the secret key leaked: {text}"
    );
}

#[test]
fn debug_of_the_key_the_client_and_the_builder_hides_the_key() {
    let key = SecretKey::new(KEY);
    assert_hidden(&format!("{key:?}"));
    assert_hidden(&format!("{key:#?}"));

    let with_default_http = builder_for("http://127.0.0.1:9");
    assert_hidden(&format!("{with_default_http:?}"));
    let api = with_default_http.build().unwrap();
    assert_hidden(&format!("{api:?}"));
    assert_hidden(&format!("{api:#?}"));

    let closure = |_request: HttpRequest| async {
        Ok::<_, TransportError>(HttpResponse::new(bytes::Bytes::new()))
    };
    let with_closure = ClerkApi::builder(SecretKey::new(KEY)).http_client(Arc::new(closure));
    assert_hidden(&format!("{with_closure:?}"));
    assert_hidden(&format!("{:?}", with_closure.build().unwrap()));
}

/// Answers 401 with Clerk's error body, quoting the request's `Authorization` header in every
/// field, as a misbehaving proxy might.
fn echo_authorization(request: &Request) -> ResponseTemplate {
    let auth = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    ResponseTemplate::new(401).set_body_json(clerk_errors(
        &format!("bad_key_{auth}"),
        &format!("Invalid key: {auth}"),
        &format!("The key {auth} is not valid for this instance"),
        &format!("trace-{auth}"),
    ))
}

#[tokio::test]
async fn an_echoed_key_is_redacted_from_clerk_errors() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/instance")
        .respond_with(echo_authorization)
        .expect(1)
        .mount(&server)
        .await;

    let err = api(&server).instance().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("[redacted"), "{text}");
    assert_no_key(&err);
    let ApiError::Api {
        errors,
        clerk_trace_id,
        ..
    } = &err
    else {
        unreachable!()
    };
    for field in [
        &errors[0].message,
        &errors[0].long_message,
        &errors[0].code,
        clerk_trace_id.as_ref().unwrap(),
    ] {
        assert!(field.contains("[redacted"), "{field}");
        assert_hidden(field);
    }
    assert_hidden(err.code().unwrap());
    assert_hidden(err.clerk_trace_id().unwrap());
}

#[tokio::test]
async fn a_decode_error_does_not_quote_an_echoed_key() {
    let server = MockServer::start().await;
    // serde's message quotes a string found where an object was expected.
    clerk_call("GET", "/v1/instance")
        .respond_with(ok_json(&json!(KEY)))
        .mount(&server)
        .await;
    clerk_call("GET", "/v1/users/count")
        .respond_with(ok_json(
            &json!({"object": "total_count", "total_count": KEY}),
        ))
        .mount(&server)
        .await;
    let api = api(&server);

    for err in [
        api.instance().await.map(drop).unwrap_err(),
        api.count_users(&UserQuery::new())
            .await
            .map(drop)
            .unwrap_err(),
    ] {
        assert!(matches!(err, ApiError::Decode { .. }), "{err:?}");
        assert!(err.to_string().contains("[redacted"), "{err}");
        assert_no_key(&err);
    }
}

/// One error of every kind the client produces.
async fn one_error_of_each_kind() -> Vec<ApiError> {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/users/user_gone")
        .respond_with(clerk_error_response(404, "resource_not_found", "t-404"))
        .mount(&server)
        .await;
    clerk_call("GET", "/v1/users/user_limited")
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "7200"))
        .mount(&server)
        .await;
    clerk_call("GET", "/v1/users/user_big")
        .respond_with(ok_json(&json!({"padding": "x".repeat(4096)})))
        .mount(&server)
        .await;
    clerk_call("GET", "/v1/users/user_slow")
        .respond_with(ok_json(&instance_json("ins_1")).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    clerk_call("GET", "/v1/users/user_odd")
        .respond_with(ok_json(&json!([1, 2, 3])))
        .mount(&server)
        .await;
    let api = builder(&server)
        .retry(RetryPolicy::none())
        .timeout(Duration::from_millis(200))
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let refused = builder_for(&format!("http://127.0.0.1:{}", refused_port()))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();

    let mut errors = Vec::new();
    for id in [
        "user_gone",
        "user_limited",
        "user_big",
        "user_slow",
        "user_odd",
    ] {
        errors.push(api.get_user(id).await.unwrap_err());
    }
    errors.push(refused.instance().await.unwrap_err());
    let too_many = UserQuery::new().user_ids((0..101).map(|n| format!("user_{n}")));
    errors.push(
        api.list_users(too_many)
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err(),
    );
    for bad_key in [format!("{KEY}\nX-Evil: 1"), format!("{KEY}\u{7f}")] {
        errors.push(
            ClerkApi::builder(SecretKey::new(bad_key))
                .build()
                .unwrap_err(),
        );
    }
    errors.push(
        ClerkApi::builder(SecretKey::new(KEY))
            .base_url("ftp://example.com")
            .build()
            .unwrap_err(),
    );
    errors
}

#[tokio::test]
async fn no_error_kind_shows_the_key() {
    let errors = one_error_of_each_kind().await;
    let kinds: Vec<&str> = errors
        .iter()
        .map(|err| match err {
            ApiError::Api { .. } => "api",
            ApiError::RateLimited { .. } => "rate limited",
            ApiError::Decode { .. } => "decode",
            ApiError::Config(_) => "config",
            ApiError::Transport {
                source: TransportError::BodyTooLarge { .. },
                ..
            } => "too large",
            ApiError::Transport {
                source: TransportError::Timeout,
                ..
            } => "timeout",
            ApiError::Transport {
                source: TransportError::Connect(_),
                ..
            } => "connect",
            other => panic!("unexpected error {other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "api",
            "rate limited",
            "too large",
            "timeout",
            "decode",
            "connect",
            "config",
            "config",
            "config",
            "config"
        ]
    );
    for err in &errors {
        assert_no_key(err);
        assert!(renderings(err).iter().all(|text| !text.is_empty()));
    }
}
