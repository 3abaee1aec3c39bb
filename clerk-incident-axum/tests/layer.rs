//! The middleware: what reaches the inner service, what comes back, and the tower contract.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::header::{AUTHORIZATION, COOKIE, WWW_AUTHENTICATE};
use axum::http::{Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use clerk_incident_axum::{ClerkAuthLayer, X_AUTH_BYPASS};
use clerk_incident_core::auth::{
    AuthContext, Rejection, Requirement, RouteClass, RouteRule, VerifierConfig,
};
use tower::buffer::Buffer;
use tower::{Layer, ServiceBuilder, ServiceExt};

use support::{Setup, get as request, into_reply, send};

/// An inner service answering with the user id of the context it was handed (or `-`),
/// counting its calls.
fn echo_user(
    calls: Arc<AtomicUsize>,
) -> impl tower::Service<
    Request<Body>,
    Response = Response<Body>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Body>, Infallible>> + Send,
> + Clone
+ Send
+ 'static {
    tower::service_fn(move |request: Request<Body>| {
        calls.fetch_add(1, Ordering::SeqCst);
        let user = request
            .extensions()
            .get::<AuthContext>()
            .and_then(|context| context.session.as_ref())
            .map_or_else(|| "-".to_owned(), |session| session.user_id.clone());
        async move { Ok::<_, Infallible>(Response::new(Body::from(user))) }
    })
}

#[tokio::test]
async fn an_allowed_request_hands_its_context_to_the_inner_service() {
    let setup = Setup::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let service = ClerkAuthLayer::new(setup.policy.clone()).layer(echo_user(calls.clone()));

    let reply = send(service, request("/", Some(&setup.admin_token))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, setup.admin_id.as_bytes());
    assert_eq!(reply.header("x-auth-bypass"), None);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_refused_request_never_reaches_the_inner_service() {
    let setup = Setup::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let service = ClerkAuthLayer::new(setup.policy.clone()).layer(echo_user(calls.clone()));

    for token in [None, Some("not.a.jwt")] {
        let reply = send(service.clone(), request("/", token)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            reply.header("www-authenticate"),
            Some(r#"Bearer error="invalid_token""#)
        );
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.json()["error"], "invalid_token");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_custom_rejection_handler_answers_refusals() {
    let setup = Setup::start().await;
    let layer = ClerkAuthLayer::new(setup.policy.clone())
        .rule(RouteRule::sensitive())
        .rejection_handler(|rejection: &Rejection| {
            let status =
                StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            (status, format!("custom: {}", rejection.reason())).into_response()
        });
    let app = Router::new()
        .route("/sensitive", get(|| async { "served" }))
        .route_layer(layer);

    let reply = send(app.clone(), request("/sensitive", None)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, "custom: missing");
    assert_eq!(reply.header("www-authenticate"), None);
    assert_eq!(reply.header("x-auth-bypass"), None);

    // Outside Enforce the custom response still says the bypass is on.
    setup.open();
    let reply = send(app.clone(), request("/sensitive", None)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, "custom: missing");
    assert_eq!(reply.header("x-auth-bypass"), Some("true"));

    let reply = send(app, request("/sensitive", Some(&setup.admin_token))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("x-auth-bypass"), Some("true"));
}

#[tokio::test]
async fn a_requirement_makes_a_guard() {
    let setup = Setup::start().await;
    let layer = ClerkAuthLayer::new(setup.policy.clone()).require(Requirement::role("org:admin"));
    assert_eq!(layer.route_rule().class(), RouteClass::Sensitive);
    assert_eq!(
        layer.route_rule().requirements(),
        [Requirement::role("org:admin")]
    );
    let app = Router::new()
        .route("/admin", get(|| async { "pong" }))
        .route_layer(layer);

    let admin = send(app.clone(), request("/admin", Some(&setup.admin_token))).await;
    assert_eq!(admin.status, StatusCode::OK);
    let member = send(app.clone(), request("/admin", Some(&setup.member_token))).await;
    assert_eq!(member.status, StatusCode::FORBIDDEN);
    assert_eq!(
        member.header("www-authenticate"),
        Some(r#"Bearer error="insufficient_scope""#)
    );
    // Open mode does not open a guarded route.
    setup.open();
    let anonymous = send(app, request("/admin", None)).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.header("x-auth-bypass"), Some("true"));
}

#[tokio::test]
async fn grace_marks_the_response() {
    let setup = Setup::start().await;
    setup.grace();
    let app = Router::new()
        .route("/me", get(|| async { "me" }))
        .route_layer(ClerkAuthLayer::new(setup.policy.clone()));
    let ok = send(app.clone(), request("/me", Some(&setup.admin_token))).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.header("x-auth-bypass"), Some("grace"));
    let refused = send(app, request("/me", None)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.header("x-auth-bypass"), Some("grace"));
    assert_eq!(refused.header_count(X_AUTH_BYPASS.as_str()), 1);
}

#[tokio::test]
async fn non_utf8_credentials_are_refused_without_panicking() {
    let setup = Setup::with_config(VerifierConfig::default().cookie(true)).await;
    let app = Router::new()
        .route("/me", get(|| async { "me" }))
        .route_layer(ClerkAuthLayer::new(setup.policy.clone()));
    let garbage: &[u8] = &[0xff, 0xfe, b' ', 0x80, b'=', 0xc3];
    let cookie: &[u8] = b"__session=\xff\xfe; theme=\xc3";
    let requests = [
        Request::get("/me").header(AUTHORIZATION, garbage),
        Request::get("/me").header(COOKIE, cookie),
        Request::get("/me")
            .header(AUTHORIZATION, garbage)
            .header(COOKIE, cookie),
    ];
    for builder in requests {
        let reply = send(app.clone(), builder.body(Body::empty()).unwrap()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(reply.headers.contains_key(WWW_AUTHENTICATE));
    }
}

/// The inner service is called from the response future, after the decision: the instance
/// `poll_ready` reserved a slot on must be the one called. `ConcurrencyLimit` panics when a
/// clone that was not driven to readiness is called.
#[tokio::test]
async fn the_future_calls_the_instance_that_was_ready() {
    let setup = Setup::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let service = ServiceBuilder::new()
        .layer(ClerkAuthLayer::new(setup.policy.clone()))
        .concurrency_limit(1)
        .service(echo_user(calls.clone()));

    let (first, second) = tokio::join!(
        service
            .clone()
            .oneshot(request("/", Some(&setup.admin_token))),
        service
            .clone()
            .oneshot(request("/", Some(&setup.member_token))),
    );
    for reply in [first, second] {
        let reply = into_reply(reply.unwrap()).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// The same behind a `Buffer`, whose worker polls readiness and calls from another task.
#[tokio::test]
async fn the_middleware_works_behind_a_buffer() {
    let setup = Setup::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let service = ServiceBuilder::new()
        .layer(ClerkAuthLayer::new(setup.policy.clone()))
        .concurrency_limit(1)
        .service(echo_user(calls.clone()));
    let buffered = Buffer::new(service, 4);

    let replies = join_all(
        (0..4)
            .map(|i| {
                let token = if i % 2 == 0 {
                    Some(setup.admin_token.as_str())
                } else {
                    None
                };
                buffered.clone().oneshot(request("/", token))
            })
            .collect(),
    )
    .await;
    let statuses: Vec<StatusCode> = replies
        .into_iter()
        .map(|reply| reply.unwrap().status())
        .collect();
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::UNAUTHORIZED,
            StatusCode::OK,
            StatusCode::UNAUTHORIZED
        ]
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// Awaits every future concurrently, in order.
async fn join_all<F>(futures: Vec<F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}
