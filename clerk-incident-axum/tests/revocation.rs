//! The revocation endpoints' table of `clerk-incident-conformance`, through `oneshot` (no
//! socket).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::Request;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use clerk_incident_axum::revocation_router;
use clerk_incident_conformance::{
    AppVariant, Fixture, Observed, RequestMethod, RevocationApp, RevocationRequest,
    revocation_jobs, run_revocation,
};
use tower::ServiceExt;

async fn send(app: Router, request: RevocationRequest) -> Observed {
    let mut builder = match request.method {
        RequestMethod::Get => Request::get(request.path.as_str()),
        RequestMethod::Post => Request::post(request.path.as_str()),
        RequestMethod::Delete => Request::delete(request.path.as_str()),
    };
    if let Some(authorization) = &request.authorization {
        builder = builder.header(AUTHORIZATION, authorization.as_slice());
    }
    if let Some(content_type) = request.content_type {
        builder = builder.header(CONTENT_TYPE, content_type);
    }
    let response = app
        .oneshot(
            builder
                .body(Body::from(request.body))
                .expect("a valid request"),
        )
        .await
        .expect("infallible");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_revocation_table_passes() {
    let fixture = Fixture::start().await;
    let jobs = revocation_jobs(&fixture);
    let app: Router = revocation_router(fixture.policy(AppVariant::Standard), jobs.clone());
    let no_operators: Router = revocation_router(
        fixture.policy_without_operators(),
        revocation_jobs(&fixture),
    );
    run_revocation(&fixture, &jobs, |request| {
        let app = match request.app {
            RevocationApp::Operators => app.clone(),
            RevocationApp::NoOperators => no_operators.clone(),
        };
        send(app, request)
    })
    .await;
}
