//! `BypassHeaderLayer`: the header on every response outside `Enforce`, never twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::Router;
use axum::routing::get;
use clerk_incident_axum::{BypassHeaderLayer, ClerkAuthLayer};

use support::{Setup, get as request, send};

#[tokio::test]
async fn the_header_is_added_only_outside_enforce() {
    let setup = Setup::start().await;
    let app = Router::new()
        .route("/public", get(|| async { "hello" }))
        .layer(BypassHeaderLayer::new(setup.switch().clone()));

    let enforce = send(app.clone(), request("/public", None)).await;
    assert_eq!(enforce.header("x-auth-bypass"), None);

    setup.grace();
    let grace = send(app.clone(), request("/public", None)).await;
    assert_eq!(grace.header("x-auth-bypass"), Some("grace"));

    setup.open();
    let open = send(app.clone(), request("/public", None)).await;
    assert_eq!(open.header("x-auth-bypass"), Some("true"));
    // Unknown paths too: the header is on every response.
    let missing = send(app.clone(), request("/nowhere", None)).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("x-auth-bypass"), Some("true"));

    setup.switch().deactivate("test over");
    let back = send(app, request("/public", None)).await;
    assert_eq!(back.header("x-auth-bypass"), None);
}

#[tokio::test]
async fn the_header_is_never_repeated() {
    let setup = Setup::start().await;
    let app = Router::new()
        .route("/me", get(|| async { "me" }))
        .route_layer(ClerkAuthLayer::new(setup.policy.clone()))
        .layer(BypassHeaderLayer::new(setup.switch().clone()));
    setup.open();
    for token in [None, Some(setup.admin_token.as_str())] {
        let reply = send(app.clone(), request("/me", token)).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header_count("x-auth-bypass"), 1);
        assert_eq!(reply.header("x-auth-bypass"), Some("true"));
    }
}
