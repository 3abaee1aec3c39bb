//! The conformance table of `clerk-incident-conformance`, against the app its docs describe,
//! through `actix_web::test` (no socket).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::http::header::{AUTHORIZATION, COOKIE, HeaderValue};
use actix_web::test::{self, TestRequest};
use actix_web::{App, HttpResponse, web};
use clerk_incident_actix::{Auth, BypassHeader, ClerkAuth, health_service};
use clerk_incident_conformance::{
    ADMIN, Case, Fixture, ME, Observed, PUBLIC, TEAMS_MANAGE, admin_rule, handler_view,
    teams_manage_rule,
};
use clerk_incident_core::auth::AuthPolicy;

/// Every handler answers with the context it saw.
async fn view(auth: Option<Auth>) -> HttpResponse {
    HttpResponse::Ok().json(handler_view(auth.as_deref()))
}

/// The conformance app's routes: the public route and the health endpoint outside the
/// middleware, the two guarded routes as wrapped resources, `/api/me` in a wrapped scope.
fn routes(policy: AuthPolicy) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config
            .route(PUBLIC, web::get().to(view))
            .service(health_service(policy.clone()))
            .service(
                web::resource(ADMIN)
                    .wrap(ClerkAuth::new(policy.clone()).rule(admin_rule()))
                    .route(web::get().to(view)),
            )
            .service(
                web::resource(TEAMS_MANAGE)
                    .wrap(ClerkAuth::new(policy.clone()).rule(teams_manage_rule()))
                    .route(web::get().to(view)),
            )
            .service(
                web::scope("/api")
                    .wrap(ClerkAuth::new(policy))
                    .route(ME.trim_start_matches("/api"), web::get().to(view)),
            );
    }
}

async fn send(fixture: &Fixture, case: Case) -> Observed {
    let policy = fixture.policy(case.variant);
    let app = test::init_service(
        App::new()
            .wrap(BypassHeader::new(policy.switch().clone()))
            .configure(routes(policy)),
    )
    .await;
    let mut request = TestRequest::get().uri(case.path);
    // Appended, so that a case's second header of a name is sent as a second header.
    for authorization in [&case.authorization, &case.extra_authorization]
        .into_iter()
        .flatten()
    {
        let value = HeaderValue::from_bytes(authorization).expect("a header value");
        request = request.append_header((AUTHORIZATION, value));
    }
    for cookie in [&case.cookie, &case.extra_cookie].into_iter().flatten() {
        request = request.append_header((COOKIE, cookie.as_str()));
    }
    let response = test::call_service(&app, request.to_request()).await;
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
}

#[actix_web::test]
async fn the_actix_adapter_passes_the_conformance_table() {
    let fixture = Fixture::start().await;
    clerk_incident_conformance::run(&fixture, |case| send(&fixture, case)).await;
}
