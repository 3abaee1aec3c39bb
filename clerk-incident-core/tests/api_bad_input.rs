//! Hostile or broken answers never panic and always come back as typed errors: bodies that are
//! not JSON, not UTF-8, empty, too deep or too large; HTML error pages; unreadable or absurd
//! `Retry-After` headers; ids that try to leave their path segment.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use clerk_incident_core::api::ApiError;
use clerk_incident_core::http::TransportError;
use common::{
    api, assert_counters, builder, clerk_call, instance_json, ok_json, rate_limited_failure,
    transport_failure,
};
use http::HeaderValue;
use wiremock::matchers::{any, method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Mounts `GET /v1/instance` answering `answer` every time.
async fn instance_answers(server: &MockServer, answer: ResponseTemplate) {
    clerk_call("GET", "/v1/instance")
        .respond_with(answer)
        .mount(server)
        .await;
}

/// What `instance()` makes of a 200 answer whose body is `body`.
async fn instance_error_for_200_body(body: impl Into<Vec<u8>>) -> ApiError {
    let server = MockServer::start().await;
    instance_answers(
        &server,
        ResponseTemplate::new(200).set_body_raw(body.into(), "application/json"),
    )
    .await;
    api(&server).instance().await.unwrap_err()
}

fn assert_decode_error(err: &ApiError) {
    assert!(
        matches!(err, ApiError::Decode { status: 200, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let err = instance_error_for_200_body(r#"{"object":"instance","id":"ins_1","#).await;
    assert_decode_error(&err);
}

#[tokio::test]
async fn an_empty_200_body_is_a_decode_error() {
    assert_decode_error(&instance_error_for_200_body("").await);
}

#[tokio::test]
async fn non_utf8_bytes_are_a_decode_error() {
    let body = b"{\"object\":\"instance\",\"id\":\"ins_\xff\xfe\x81\"}".to_vec();
    assert_decode_error(&instance_error_for_200_body(body).await);
}

#[tokio::test]
async fn deeply_nested_json_is_a_decode_error_not_a_stack_overflow() {
    assert_decode_error(&instance_error_for_200_body("[".repeat(100_000)).await);
}

#[tokio::test]
async fn an_html_502_page_ends_as_an_api_error_without_clerk_details() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/instance")
        .respond_with(ResponseTemplate::new(502).set_body_raw(
            "<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>",
            "text/html",
        ))
        .expect(3)
        .mount(&server)
        .await;

    let err = api(&server).instance().await.unwrap_err();
    let ApiError::Api {
        status,
        errors,
        clerk_trace_id,
        attempts,
        ..
    } = &err
    else {
        unreachable!("expected an API error, got {err:?}")
    };
    assert_eq!((*status, *attempts), (502, 3));
    assert!(errors.is_empty());
    assert_eq!(*clerk_trace_id, None);
    assert_eq!(err.code(), None);
    assert!(!err.to_string().contains("<html>"), "{err}");
}

#[tokio::test]
async fn error_bodies_of_the_wrong_shape_keep_only_the_status() {
    let server = MockServer::start().await;
    let bodies: [&[u8]; 4] = [
        br#"{"errors":"nope","clerk_trace_id":42}"#,
        br#"{"errors":[{"code":7}]}"#,
        b"\xff\xfe not utf-8",
        b"",
    ];
    for (n, body) in bodies.iter().enumerate() {
        clerk_call("GET", &format!("/v1/users/user_{n}"))
            .respond_with(
                ResponseTemplate::new(404).set_body_raw(body.to_vec(), "application/json"),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    let api = api(&server);

    for n in 0..bodies.len() {
        let err = api.get_user(&format!("user_{n}")).await.unwrap_err();
        assert!(matches!(err, ApiError::Api { status: 404, .. }), "{err:?}");
        assert_eq!(err.code(), None);
        assert_eq!(err.clerk_trace_id(), None);
    }
}

#[tokio::test]
async fn an_oversized_body_is_refused_and_not_retried() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/users")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(format!("[{}]", " ".repeat(4094)), "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let api = builder(&server).max_response_bytes(1024).build().unwrap();

    let err = futures::TryStreamExt::try_collect::<Vec<_>>(
        api.list_users(clerk_incident_core::api::UserQuery::new()),
    )
    .await
    .unwrap_err();
    let (attempts, source) = transport_failure(&err);
    assert_eq!(attempts, 1);
    assert!(
        matches!(source, TransportError::BodyTooLarge { limit: 1024 }),
        "{source:?}"
    );
}

/// A 429 with the given raw `Retry-After` value, every time.
async fn rate_limited_with(server: &MockServer, retry_after: HeaderValue) {
    instance_answers(
        server,
        ResponseTemplate::new(429).insert_header("Retry-After", retry_after),
    )
    .await;
}

#[tokio::test]
async fn an_enormous_retry_after_gives_up_without_panicking() {
    for value in [
        "18446744073709551615",
        "9223372036854775807",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ] {
        let server = MockServer::start().await;
        rate_limited_with(&server, HeaderValue::from_static(value)).await;
        let api = api(&server);

        let err = api.instance().await.unwrap_err();
        let (attempts, retry_after) = rate_limited_failure(&err);
        assert_eq!(attempts, 1, "{value}: a wait past the budget is not waited");
        assert!(
            retry_after.is_some_and(|wait| wait > Duration::from_secs(86_400)),
            "{value}: {retry_after:?}"
        );
        assert!(!err.to_string().is_empty());
    }
}

#[tokio::test]
async fn an_unreadable_retry_after_falls_back_to_backoff() {
    for value in [
        HeaderValue::from_static("soon"),
        HeaderValue::from_static("-5"),
        HeaderValue::from_static("1.5"),
        HeaderValue::from_static("99999999999999999999999999"),
        HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
    ] {
        let server = MockServer::start().await;
        rate_limited_with(&server, value.clone()).await;
        let api = api(&server);

        let err = api.instance().await.unwrap_err();
        assert_eq!(rate_limited_failure(&err), (3, None), "{value:?}");
        assert_counters(&api, 3, 2, 3);
    }
}

#[tokio::test]
async fn a_retry_after_date_in_the_past_retries_at_once() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/instance")
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "Thu, 01 Jan 1970 00:00:00 GMT"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    instance_answers(&server, ok_json(&instance_json("ins_1"))).await;

    let api = api(&server);
    assert_eq!(api.instance().await.unwrap().id, "ins_1");
    assert_eq!(api.counters().rate_limited, 1);
}

#[tokio::test]
async fn ids_cannot_leave_their_path_segment() {
    let server = MockServer::start().await;
    // Only the session endpoints themselves may be reached, whatever the id.
    Mock::given(method("GET"))
        .and(path_regex(r"^/v1/sessions/[^/]+$"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/v1/sessions/[^/]+/revoke$"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/v1/users/[^/]+$"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .expect(0)
        .named("a request outside the endpoint")
        .mount(&server)
        .await;
    let api = api(&server);

    for id in [
        "..",
        ".",
        "",
        "../users",
        "sess_1/../../users",
        "a?b=c",
        "a#b",
        "%2E%2E",
    ] {
        for result in [
            api.get_session(id).await.map(drop),
            api.revoke_session(id).await.map(drop),
            api.get_user(id).await.map(drop),
        ] {
            let err = result.unwrap_err();
            let expected_config = matches!(id, "" | "." | "..");
            assert!(
                matches!(
                    (&err, expected_config),
                    (ApiError::Api { status: 404, .. }, false) | (ApiError::Config(_), true)
                ),
                "{id:?}: {err:?}"
            );
        }
    }
}
