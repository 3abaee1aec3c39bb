//! The shared conformance table, run against the app the conformance crate describes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::{Body, to_bytes};
use axum::http::Request;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::routing::get;
use axum::{Json, Router};
use clerk_incident_axum::{Auth, BypassHeaderLayer, ClerkAuthLayer, health_router};
use clerk_incident_conformance::{
    ADMIN, AppVariant, Case, Fixture, ME, Observed, PUBLIC, TEAMS_MANAGE, admin_rule, handler_view,
    teams_manage_rule,
};
use clerk_incident_core::auth::AuthPolicy;
use serde_json::Value;
use tower::ServiceExt;

async fn view(auth: Option<Auth>) -> Json<Value> {
    Json(handler_view(auth.as_deref()))
}

/// The conformance app: public route and health outside the middleware, one layer per guard,
/// the bypass header on everything.
fn app(policy: &AuthPolicy) -> Router {
    let me = Router::new()
        .route(ME, get(view))
        .route_layer(ClerkAuthLayer::new(policy.clone()));
    let admin = Router::new()
        .route(ADMIN, get(view))
        .route_layer(ClerkAuthLayer::new(policy.clone()).rule(admin_rule()));
    let teams = Router::new()
        .route(TEAMS_MANAGE, get(view))
        .route_layer(ClerkAuthLayer::new(policy.clone()).rule(teams_manage_rule()));
    Router::new()
        .route(PUBLIC, get(view))
        .merge(me)
        .merge(admin)
        .merge(teams)
        .merge(health_router(policy.clone()))
        .layer(BypassHeaderLayer::new(policy.switch().clone()))
}

fn request(case: &Case) -> Request<Body> {
    // `header` appends, so that a case's second header of a name is sent as a second header.
    let mut builder = Request::get(case.path);
    for authorization in [&case.authorization, &case.extra_authorization]
        .into_iter()
        .flatten()
    {
        builder = builder.header(AUTHORIZATION, authorization.as_slice());
    }
    for cookie in [&case.cookie, &case.extra_cookie].into_iter().flatten() {
        builder = builder.header(COOKIE, cookie.as_str());
    }
    builder.body(Body::empty()).expect("a valid request")
}

async fn send(app: Router, case: &Case) -> Observed {
    let response = app.oneshot(request(case)).await.expect("infallible");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    let body = to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a readable body")
        .to_vec();
    Observed {
        status,
        headers,
        body,
    }
}

#[tokio::test]
async fn the_conformance_table_passes() {
    let fixture = Fixture::start().await;
    let standard = app(&fixture.policy(AppVariant::Standard));
    let cookie = app(&fixture.policy(AppVariant::CookieEnabled));
    let keyless = app(&fixture.policy(AppVariant::KeysUnavailable));
    clerk_incident_conformance::run(&fixture, |case| {
        let app = match case.variant {
            AppVariant::Standard => standard.clone(),
            AppVariant::CookieEnabled => cookie.clone(),
            AppVariant::KeysUnavailable => keyless.clone(),
        };
        async move { send(app, &case).await }
    })
    .await;
}
