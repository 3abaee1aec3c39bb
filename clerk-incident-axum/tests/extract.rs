//! The extractors: fail closed without the middleware, `Option` forms, fully verified sessions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use clerk_incident_axum::{Auth, AuthRejection, AuthRejectionKind, ClerkAuthLayer, VerifiedUser};
use clerk_incident_core::auth::{Check, RejectReason, Rejection, authorize};

use support::{Setup, get as request, send};

async fn required(auth: Auth) -> String {
    auth.mode.name().to_owned()
}

async fn optional(auth: Option<Auth>) -> String {
    auth.map_or_else(|| "none".to_owned(), |auth| auth.mode.name().to_owned())
}

async fn verified(user: VerifiedUser) -> String {
    user.user_id.clone()
}

async fn maybe_verified(user: Option<VerifiedUser>) -> String {
    user.map_or_else(|| "none".to_owned(), |user| user.user_id.clone())
}

fn routes() -> Router {
    Router::new()
        .route("/required", get(required))
        .route("/optional", get(optional))
        .route("/verified", get(verified))
        .route("/maybe-verified", get(maybe_verified))
}

#[tokio::test]
async fn required_extractors_fail_closed_without_the_middleware() {
    let setup = Setup::start().await;
    // No ClerkAuthLayer: a valid token does not help, the route is misconfigured.
    let app = routes();
    for path in ["/required", "/verified"] {
        let reply = send(app.clone(), request(path, Some(&setup.admin_token))).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            reply.header("www-authenticate"),
            Some(r#"Bearer error="invalid_token""#)
        );
        assert_eq!(reply.json()["reason"], "missing");
    }
    for path in ["/optional", "/maybe-verified"] {
        let reply = send(app.clone(), request(path, Some(&setup.admin_token))).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.body, "none");
    }
}

#[tokio::test]
async fn behind_the_middleware_the_extractors_see_the_context() {
    let setup = Setup::start().await;
    let app = routes().route_layer(ClerkAuthLayer::new(setup.policy.clone()));
    for path in ["/required", "/optional"] {
        let reply = send(app.clone(), request(path, Some(&setup.admin_token))).await;
        assert_eq!(reply.body, "enforce", "{path}");
    }
    for path in ["/verified", "/maybe-verified"] {
        let reply = send(app.clone(), request(path, Some(&setup.admin_token))).await;
        assert_eq!(reply.body, setup.admin_id, "{path}");
    }
}

#[tokio::test]
async fn a_bypassed_identity_is_not_a_verified_user() {
    let setup = Setup::start().await;
    let app = routes().route_layer(ClerkAuthLayer::new(setup.policy.clone()));
    setup.open();

    // Open lets a request without a token in, marked bypassed: no verified user.
    let reply = send(app.clone(), request("/required", None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "open");
    let reply = send(app.clone(), request("/verified", None)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.header("x-auth-bypass"), Some("true"));
    let reply = send(app.clone(), request("/maybe-verified", None)).await;
    assert_eq!(reply.body, "none");

    // A valid token in Open is served as in Enforce: the user is verified.
    let reply = send(app.clone(), request("/verified", Some(&setup.admin_token))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, setup.admin_id);
    assert_eq!(reply.header("x-auth-bypass"), Some("true"));
}

#[tokio::test]
async fn extractor_refusals_use_the_middlewares_rejection_handler() {
    let setup = Setup::start().await;
    let layer =
        ClerkAuthLayer::new(setup.policy.clone()).rejection_handler(|rejection: &Rejection| {
            (
                StatusCode::UNAUTHORIZED,
                format!("custom: {}", rejection.reason()),
            )
                .into_response()
        });
    let app = routes().route_layer(layer);
    setup.open();
    let reply = send(app, request("/verified", None)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, "custom: missing");
    assert_eq!(reply.header("x-auth-bypass"), Some("true"));
}

#[tokio::test]
async fn rejections_say_why() {
    let (mut parts, ()) = Request::new(()).into_parts();
    let missing = <Auth as FromRequestParts<()>>::from_request_parts(&mut parts, &())
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), AuthRejectionKind::NoContext);
    assert_eq!(
        missing.rejection(),
        Rejection::Unauthenticated(RejectReason::Missing)
    );
    assert_eq!(
        missing.to_string(),
        "no auth context on the request (401 missing)"
    );
    let missing = <VerifiedUser as FromRequestParts<()>>::from_request_parts(&mut parts, &())
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), AuthRejectionKind::NoContext);

    let forbidden = AuthRejection::from(Rejection::Forbidden);
    assert_eq!(forbidden.kind(), AuthRejectionKind::Refused);
    let response = forbidden.into_response();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_handler_can_refuse_with_authorize() {
    async fn billing(auth: Auth) -> Result<&'static str, AuthRejection> {
        authorize(&auth, Check::Role("org:admin"))?;
        Ok("billing")
    }
    let setup = Setup::start().await;
    let app = Router::new()
        .route("/billing", get(billing))
        .route_layer(ClerkAuthLayer::new(setup.policy.clone()));
    let admin = send(app.clone(), request("/billing", Some(&setup.admin_token))).await;
    assert_eq!(admin.status, StatusCode::OK);
    let member = send(app, request("/billing", Some(&setup.member_token))).await;
    assert_eq!(member.status, StatusCode::FORBIDDEN);
    assert_eq!(
        member.header("www-authenticate"),
        Some(r#"Bearer error="insufficient_scope""#)
    );
}
