//! A closure as the [`HttpClient`](clerk_incident_core::http::HttpClient): no socket at all, so
//! these tests run on tokio's paused clock and prove the timeout, retry and pause logic in
//! virtual time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use clerk_incident_core::api::{ApiError, ClerkApi, ClerkApiBuilder, UserQuery};
use clerk_incident_core::http::{HttpRequest, HttpResponse, TransportError};
use common::{
    API_VERSION, KEY, assert_counters, builder_for, fast_retry, instance_json, jwks_json,
    rate_limited_failure, transport_failure,
};
use futures::TryStreamExt;
use tokio::time::Instant;

/// Requests a scripted client has seen.
type Seen = Arc<Mutex<Vec<HttpRequest>>>;

/// A builder whose HTTP client is a closure: the `n`-th request (from 0) gets `answer(n)`.
/// The base URL is never connected to.
fn scripted<F>(answer: F) -> (ClerkApiBuilder, Seen)
where
    F: Fn(usize, &HttpRequest) -> Result<HttpResponse, TransportError> + Send + Sync + 'static,
{
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let client = move |request: HttpRequest| {
        let mut log = log.lock().unwrap();
        let result = answer(log.len(), &request);
        log.push(request);
        std::future::ready(result)
    };
    let builder = builder_for("http://127.0.0.1:9").http_client(Arc::new(client));
    (builder, seen)
}

fn response(status: u16, body: impl Into<Bytes>) -> HttpResponse {
    http::Response::builder()
        .status(status)
        .body(body.into())
        .unwrap()
}

fn json_response(body: &serde_json::Value) -> HttpResponse {
    response(200, serde_json::to_vec(body).unwrap())
}

#[tokio::test(start_paused = true)]
async fn a_closure_client_carries_every_request() {
    let (builder, seen) = scripted(|_, request| {
        Ok(match request.uri().path() {
            "/v1/instance" => json_response(&instance_json("ins_closure")),
            _ => json_response(&serde_json::json!([])),
        })
    });
    let api = builder.build().unwrap();

    assert_eq!(api.instance().await.unwrap().id, "ins_closure");
    let users: Vec<_> = api
        .list_users(UserQuery::new().user_ids(["user_a"]).page_size(10))
        .try_collect()
        .await
        .unwrap();
    assert!(users.is_empty());

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    let first = &seen[0];
    assert_eq!(first.method(), http::Method::GET);
    assert_eq!(first.uri().to_string(), "http://127.0.0.1:9/v1/instance");
    let authorization = first.headers().get("authorization").unwrap();
    assert_eq!(authorization, format!("Bearer {KEY}").as_str());
    assert!(authorization.is_sensitive());
    assert_eq!(
        first.headers().get("clerk-api-version").unwrap(),
        API_VERSION
    );
    assert_eq!(
        seen[1].uri().query(),
        Some("user_id=user_a&limit=10&order_by=-created_at")
    );
}

#[tokio::test(start_paused = true)]
async fn the_timeout_wraps_a_closure_that_never_answers() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let hang = move |_request: HttpRequest| {
        counter.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<Result<HttpResponse, TransportError>>()
    };
    let api = builder_for("http://127.0.0.1:9")
        .http_client(Arc::new(hang))
        .retry(fast_retry(2))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();

    let started = Instant::now();
    let err = api.jwks().await.unwrap_err();
    let (attempts, source) = transport_failure(&err);
    assert_eq!(attempts, 2);
    assert!(matches!(source, TransportError::Timeout), "{source:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert!(started.elapsed() >= Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn a_429_holds_every_caller_for_the_whole_retry_after() {
    let saw_429 = Arc::new(tokio::sync::Notify::new());
    let signal = Arc::clone(&saw_429);
    let (builder, seen) = scripted(move |n, _| {
        Ok(if n == 0 {
            signal.notify_one();
            rate_limited("20")
        } else {
            json_response(&jwks_json("ins_1"))
        })
    });
    let api = builder.build().unwrap();
    let started = Instant::now();

    // On this single-threaded runtime the first call runs on, from its 429 to pausing the
    // client, before the second caller wakes up.
    let first = tokio::spawn({
        let api = api.clone();
        async move { api.jwks().await.map(|_| Instant::now()) }
    });
    saw_429.notified().await;
    let second = api.jwks().await.map(|_| Instant::now()).unwrap();
    let first = first.await.unwrap().unwrap();

    assert!(first - started >= Duration::from_secs(20));
    assert!(second - started >= Duration::from_secs(20));
    assert_eq!(seen.lock().unwrap().len(), 3);
    assert_counters(&api, 3, 1, 1);
}

fn rate_limited(retry_after: &'static str) -> HttpResponse {
    let mut limited = response(429, "");
    limited
        .headers_mut()
        .insert("retry-after", http::HeaderValue::from_static(retry_after));
    limited
}

#[tokio::test(start_paused = true)]
async fn an_enormous_retry_after_late_in_a_call_does_not_overflow() {
    // After a first 2 s wait, a `Retry-After` of u64::MAX seconds.
    let (builder, seen) = scripted(|n, _| {
        Ok(rate_limited(if n == 0 {
            "2"
        } else {
            "18446744073709551615"
        }))
    });
    let api = builder.build().unwrap();

    let err = api.instance().await.unwrap_err();
    assert_eq!(
        rate_limited_failure(&err),
        (2, Some(Duration::from_secs(u64::MAX)))
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn backoff_waits_grow_between_attempts() {
    let (builder, _seen) = scripted(|_, _| Ok(response(503, "unavailable")));
    let api = builder
        .retry(clerk_incident_core::api::RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_elapsed: Duration::from_secs(600),
        })
        .build()
        .unwrap();

    let started = Instant::now();
    let err = api.instance().await.unwrap_err();
    assert_eq!(err.attempts(), 4);
    // At least 1 s + 2 s + 4 s of backoff.
    assert!(
        started.elapsed() >= Duration::from_secs(7),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_body_over_the_cap_is_refused_even_from_a_custom_client() {
    let (builder, _seen) = scripted(|_, _| Ok(response(200, vec![b' '; 4096])));
    let api = builder.max_response_bytes(1024).build().unwrap();

    let err = api.instance().await.unwrap_err();
    let (attempts, source) = transport_failure(&err);
    assert_eq!(attempts, 1);
    assert!(
        matches!(source, TransportError::BodyTooLarge { limit: 1024 }),
        "{source:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn transient_transport_errors_are_retried_and_invalid_requests_are_not() {
    let (builder, _seen) = scripted(|n, _| {
        if n == 0 {
            Err(TransportError::Other("connection reset".into()))
        } else {
            Ok(json_response(&instance_json("ins_1")))
        }
    });
    let api = builder.build().unwrap();
    assert_eq!(api.instance().await.unwrap().id, "ins_1");
    assert_counters(&api, 2, 1, 0);

    let (builder, seen) = scripted(|_, _| Err(TransportError::InvalidRequest("bad uri".into())));
    let api = builder.build().unwrap();
    let err = api.instance().await.unwrap_err();
    let (attempts, source) = transport_failure(&err);
    assert_eq!(attempts, 1);
    assert!(
        matches!(source, TransportError::InvalidRequest(_)),
        "{source:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn a_client_without_a_usable_configuration_is_refused() {
    let (builder, _seen) = scripted(|_, _| Ok(response(200, "")));
    let err = builder.timeout(Duration::ZERO).build().unwrap_err();
    assert!(matches!(err, ApiError::Config(_)), "{err:?}");
    let err = ClerkApi::builder(clerk_incident_core::api::SecretKey::new(KEY))
        .retry(clerk_incident_core::api::RetryPolicy {
            max_attempts: 0,
            ..fast_retry(1)
        })
        .build()
        .unwrap_err();
    assert!(matches!(err, ApiError::Config(_)), "{err:?}");
}
