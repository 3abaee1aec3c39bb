//! Retries and 429 handling: `Retry-After` in seconds and as a date, the pause shared by every
//! caller of a client, backoff on 5xx/408/transport failures, the attempt and time budgets,
//! and the 4xx that must not be retried.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use clerk_incident_core::api::{ApiError, RetryPolicy};
use clerk_incident_core::http::{HttpRequest, ReqwestClient, TransportError};
use common::{
    api, assert_counters, builder, builder_for, clerk_call, clerk_error_response, fast_retry,
    instance_json, jwks_json, ok_json, rate_limited_failure, refused_port, transport_failure,
};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

/// Mounts `GET /v1/instance` answering `first` once, then `then` once.
async fn instance_after(
    server: &MockServer,
    first: impl Respond + 'static,
    then: impl Respond + 'static,
) {
    clerk_call("GET", "/v1/instance")
        .respond_with(first)
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(server)
        .await;
    clerk_call("GET", "/v1/instance")
        .respond_with(then)
        .with_priority(2)
        .expect(1)
        .mount(server)
        .await;
}

fn instance_ok() -> ResponseTemplate {
    ok_json(&instance_json("ins_1"))
}

fn too_many_requests(retry_after: &str) -> ResponseTemplate {
    clerk_error_response(429, "too_many_requests", "t-429")
        .insert_header("Retry-After", retry_after)
}

#[tokio::test]
async fn retry_after_in_seconds_is_waited_out() {
    let server = MockServer::start().await;
    instance_after(&server, too_many_requests("1"), instance_ok()).await;
    let api = api(&server);

    let started = Instant::now();
    let instance = api.instance().await.unwrap();
    let waited = started.elapsed();

    assert_eq!(instance.id, "ins_1");
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    assert_counters(&api, 2, 1, 1);
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_waited_out() {
    let server = MockServer::start().await;
    let started = Instant::now();
    let now = SystemTime::now();
    // The date has whole seconds: it names a moment between 1 s and 2 s from `now`.
    let date = httpdate::fmt_http_date(now + Duration::from_secs(2));
    instance_after(&server, too_many_requests(&date), instance_ok()).await;
    let api = api(&server);

    api.instance().await.unwrap();
    let waited = started.elapsed();

    // Wait until the named date; 50 ms of slack for comparing the wall clock with the
    // monotonic one.
    let until_date = httpdate::parse_http_date(&date)
        .unwrap()
        .duration_since(now)
        .unwrap();
    assert!(until_date > Duration::from_secs(1));
    assert!(
        waited + Duration::from_millis(50) >= until_date,
        "waited {waited:?}, the date was {until_date:?} away"
    );
    assert_eq!(api.counters().rate_limited, 1);
}

/// Records when each request arrived, then answers with the inner template.
struct Stamped {
    arrivals: Arc<Mutex<Vec<(String, Instant)>>>,
    answer: ResponseTemplate,
}

impl Respond for Stamped {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut arrivals = self.arrivals.lock().unwrap();
        arrivals.push((request.url.path().to_owned(), Instant::now()));
        self.answer.clone()
    }
}

// A current-thread runtime (the default), so that the task that saw the 429 runs on, without
// yielding, from receiving it to pausing the client, before the second caller can start.
#[tokio::test]
async fn a_429_pauses_every_caller_of_the_client() {
    let server = MockServer::start().await;
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let stamped = |answer: ResponseTemplate| Stamped {
        arrivals: Arc::clone(&arrivals),
        answer,
    };
    instance_after(
        &server,
        stamped(too_many_requests("1")),
        stamped(instance_ok()),
    )
    .await;
    clerk_call("GET", "/v1/jwks")
        .respond_with(stamped(ok_json(&jwks_json("ins_1"))))
        .expect(1)
        .mount(&server)
        .await;

    // Tell the test when the first 429 has reached the client.
    let saw_429 = Arc::new(tokio::sync::Notify::new());
    let reqwest = ReqwestClient::new().unwrap();
    let signal = Arc::clone(&saw_429);
    let http = move |request: HttpRequest| {
        let reqwest = reqwest.clone();
        let signal = Arc::clone(&signal);
        async move {
            use clerk_incident_core::http::HttpClient as _;
            let response = reqwest.send(request).await?;
            if response.status() == 429 {
                signal.notify_one();
            }
            Ok::<_, TransportError>(response)
        }
    };
    let api = builder(&server)
        .http_client(Arc::new(http))
        .build()
        .unwrap();

    let first = tokio::spawn({
        let api = api.clone();
        async move { api.instance().await }
    });
    saw_429.notified().await;
    let jwks = api.jwks().await.unwrap();
    first.await.unwrap().unwrap();
    assert_eq!(jwks.keys.len(), 1);

    let arrivals = arrivals.lock().unwrap().clone();
    let at = |path: &str, nth: usize| {
        arrivals
            .iter()
            .filter(|(p, _)| p == path)
            .nth(nth)
            .map(|(_, t)| *t)
            .unwrap()
    };
    let rate_limited_at = at("/v1/instance", 0);
    let other_caller_at = at("/v1/jwks", 0);
    assert!(
        other_caller_at.duration_since(rate_limited_at) >= Duration::from_secs(1),
        "the other caller was sent {:?} after the 429, inside the Retry-After window",
        other_caller_at.duration_since(rate_limited_at)
    );
    assert!(at("/v1/instance", 1).duration_since(rate_limited_at) >= Duration::from_secs(1));
    assert_eq!(api.counters().rate_limited, 1);
}

#[tokio::test]
async fn server_errors_are_retried_up_to_the_attempt_cap() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/instance")
        .respond_with(clerk_error_response(500, "internal_clerk_error", "t-500"))
        .expect(4)
        .mount(&server)
        .await;
    let api = builder(&server).retry(fast_retry(4)).build().unwrap();

    let err = api.instance().await.unwrap_err();
    assert!(matches!(err, ApiError::Api { status: 500, .. }), "{err:?}");
    assert_eq!(err.attempts(), 4);
    assert_eq!(err.code(), Some("internal_clerk_error"));
    assert!(err.to_string().contains("after 4 attempt(s)"), "{err}");
    assert_counters(&api, 4, 3, 0);
}

#[tokio::test]
async fn a_503_then_a_200_succeeds_after_one_retry() {
    let server = MockServer::start().await;
    instance_after(&server, ResponseTemplate::new(503), instance_ok()).await;
    let api = api(&server);

    assert_eq!(api.instance().await.unwrap().id, "ins_1");
    assert_counters(&api, 2, 1, 0);
}

#[tokio::test]
async fn a_408_is_retried() {
    let server = MockServer::start().await;
    instance_after(&server, ResponseTemplate::new(408), instance_ok()).await;
    let api = api(&server);

    api.instance().await.unwrap();
    assert_eq!(api.counters().retries, 1);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = MockServer::start().await;
    for status in [400_u16, 401, 403, 404, 422] {
        clerk_call("GET", &format!("/v1/users/user_{status}"))
            .respond_with(clerk_error_response(status, "some_code", "t"))
            .expect(1)
            .mount(&server)
            .await;
    }
    let api = builder(&server).retry(fast_retry(5)).build().unwrap();

    for status in [400_u16, 401, 403, 404, 422] {
        let err = api.get_user(&format!("user_{status}")).await.unwrap_err();
        assert_eq!(err.status(), Some(status), "{err:?}");
        assert_eq!(err.attempts(), 1, "{status} must not be retried");
    }
    assert_eq!(api.counters().retries, 0);
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error_after_every_attempt() {
    let port = refused_port();
    let api = builder_for(&format!("http://127.0.0.1:{port}"))
        .retry(fast_retry(3))
        .build()
        .unwrap();

    let err = api.instance().await.unwrap_err();
    let (attempts, source) = transport_failure(&err);
    assert_eq!(attempts, 3);
    assert!(matches!(source, TransportError::Connect(_)), "{source:?}");
    assert!(err.to_string().contains("after 3 attempt(s)"), "{err}");
    assert_counters(&api, 3, 2, 0);
}

#[tokio::test]
async fn an_attempt_slower_than_the_timeout_times_out_and_is_retried() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/instance")
        .respond_with(instance_ok().set_delay(Duration::from_secs(3)))
        // The client side counts attempts exactly; the server is only asked to have seen one.
        .expect(1..=2)
        .mount(&server)
        .await;
    let api = builder(&server)
        .retry(fast_retry(2))
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();

    let started = Instant::now();
    let err = api.instance().await.unwrap_err();
    let (attempts, source) = transport_failure(&err);
    assert_eq!(attempts, 2);
    assert!(matches!(source, TransportError::Timeout), "{source:?}");
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_counters(&api, 2, 1, 0);
}

#[tokio::test]
async fn max_elapsed_stops_retrying_before_the_attempt_cap() {
    let server = MockServer::start().await;
    // Waits of at least 50, 100, 200, 400 ms… cannot all fit in 300 ms, so the call must give
    // up before its tenth attempt.
    clerk_call("GET", "/v1/instance")
        .respond_with(ResponseTemplate::new(503))
        .expect(1..=9)
        .mount(&server)
        .await;
    let policy = RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_secs(5),
        max_elapsed: Duration::from_millis(300),
    };
    let api = builder(&server).retry(policy).build().unwrap();

    let err = api.instance().await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert!(err.attempts() < 10, "{err:?}");
    assert_eq!(u64::from(err.attempts()), api.counters().requests);
}

#[tokio::test]
async fn a_429_without_retry_after_backs_off_then_reports_rate_limited() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/instance")
        .respond_with(clerk_error_response(429, "too_many_requests", "t"))
        .expect(3)
        .mount(&server)
        .await;
    let api = api(&server);

    let err = api.instance().await.unwrap_err();
    assert_eq!(rate_limited_failure(&err), (3, None));
    assert_eq!(err.status(), Some(429));
    assert_counters(&api, 3, 2, 3);
}

#[tokio::test]
async fn a_retry_after_beyond_the_time_budget_gives_up_at_once() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/instance")
        .respond_with(too_many_requests("3600"))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);

    let err = api.instance().await.unwrap_err();
    assert_eq!(
        rate_limited_failure(&err),
        (1, Some(Duration::from_secs(3600)))
    );
    assert!(err.to_string().contains("3600 s"), "{err}");
}
