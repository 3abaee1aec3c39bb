//! The revocation endpoints' table of `clerk-incident-conformance`, through `actix_web::test`
//! (no socket).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::App;
use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use actix_web::test::{self, TestRequest};
use clerk_incident_actix::revocation_routes;
use clerk_incident_conformance::{
    AppVariant, Fixture, Observed, RequestMethod, RevocationApp, RevocationRequest,
    revocation_jobs, run_revocation,
};

#[actix_web::test]
async fn the_actix_adapter_passes_the_revocation_table() {
    let fixture = Fixture::start().await;
    let jobs = revocation_jobs(&fixture);
    let app = test::init_service(App::new().configure(revocation_routes(
        fixture.policy(AppVariant::Standard),
        jobs.clone(),
    )))
    .await;
    let no_operators = test::init_service(App::new().configure(revocation_routes(
        fixture.policy_without_operators(),
        revocation_jobs(&fixture),
    )))
    .await;
    let (app, no_operators) = (&app, &no_operators);
    run_revocation(&fixture, &jobs, |request: RevocationRequest| async move {
        let mut builder = match request.method {
            RequestMethod::Get => TestRequest::get(),
            RequestMethod::Post => TestRequest::post(),
            RequestMethod::Delete => TestRequest::delete(),
        }
        .uri(&request.path);
        if let Some(authorization) = &request.authorization {
            let value = HeaderValue::from_bytes(authorization).expect("a header value");
            builder = builder.insert_header((AUTHORIZATION, value));
        }
        if let Some(content_type) = request.content_type {
            builder = builder.insert_header((CONTENT_TYPE, content_type));
        }
        let request_app = match request.app {
            RevocationApp::Operators => app,
            RevocationApp::NoOperators => no_operators,
        };
        let response =
            test::call_service(request_app, builder.set_payload(request.body).to_request()).await;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
            .collect();
        let body = test::read_body(response).await.to_vec();
        Observed {
            status,
            headers,
            body,
        }
    })
    .await;
}
