//! What the conformance table does not cover: custom rejection responses, the bypass header
//! layer on its own, the extractors without the middleware, and the health endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::test::{self, TestRequest};
use actix_web::{App, HttpResponse, web};
use clerk_incident_actix::{
    Auth, AuthRejection, BypassHeader, ClerkAuth, HEALTH_PATH, VerifiedUser, X_AUTH_BYPASS,
    default_rejection_response, health_service,
};
use clerk_incident_conformance::{AppVariant, Fixture};
use clerk_incident_core::auth::{AuthMode, AuthPolicy, Rejection, Requirement, RouteRule};
use clerk_incident_sim::TokenRequest;
use serde_json::Value;

fn header(response: &ServiceResponse, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
}

fn get(path: &str) -> TestRequest {
    TestRequest::get().uri(path)
}

fn admin_token(fixture: &Fixture) -> String {
    let admin = fixture.sim.admin_user_id().expect("an admin");
    fixture
        .sim
        .mint_token(&TokenRequest::for_user(admin).lifetime(Duration::from_secs(600)))
        .expect("a token")
}

fn open(policy: &AuthPolicy) {
    policy
        .switch()
        .activate(AuthMode::Open, Some(Duration::from_secs(600)), "test")
        .unwrap();
}

async fn user_id(user: VerifiedUser) -> HttpResponse {
    HttpResponse::Ok().body(user.user_id.clone())
}

async fn context(auth: Auth) -> HttpResponse {
    HttpResponse::Ok().body(auth.mode.name())
}

async fn maybe(auth: Option<Auth>) -> HttpResponse {
    HttpResponse::Ok().body(if auth.is_some() { "some" } else { "none" })
}

fn teapot(rejection: &Rejection) -> HttpResponse {
    HttpResponse::ImATeapot()
        .insert_header(("x-reason", rejection.reason()))
        .finish()
}

#[actix_web::test]
async fn a_custom_rejection_handler_replaces_the_response() {
    let fixture = Fixture::start().await;
    let policy = fixture.policy(AppVariant::Standard);
    let app = test::init_service(
        App::new().service(
            web::scope("/api")
                .wrap(ClerkAuth::new(policy).rejection_handler(teapot))
                .route("/me", web::get().to(context)),
        ),
    )
    .await;

    let response = test::call_service(&app, get("/api/me").to_request()).await;
    assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(header(&response, "x-reason").as_deref(), Some("missing"));
    assert_eq!(header(&response, "www-authenticate"), None);
}

#[actix_web::test]
async fn extractors_behind_the_middleware_answer_with_its_handler() {
    let fixture = Fixture::start().await;
    let policy = fixture.policy(AppVariant::Standard);
    open(&policy);
    let app = test::init_service(
        App::new()
            .service(
                web::scope("/api/sensitive")
                    .wrap(
                        ClerkAuth::new(policy.clone())
                            .rule(RouteRule::sensitive())
                            .rejection_handler(teapot),
                    )
                    .route("/user", web::get().to(user_id)),
            )
            .service(
                web::scope("/api")
                    .wrap(ClerkAuth::new(policy.clone()).rejection_handler(teapot))
                    .route("/user", web::get().to(user_id)),
            ),
    )
    .await;
    let token = admin_token(&fixture);
    let with_token = |path| get(path).insert_header((AUTHORIZATION, format!("Bearer {token}")));

    // Open lets a request without a token through a protected route, as bypassed: the handler
    // wants a fully verified user, and refuses with the middleware's handler.
    let response = test::call_service(&app, get("/api/user").to_request()).await;
    assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(header(&response, "x-auth-bypass").as_deref(), Some("true"));

    // A valid token in Open is served as in Enforce: the user is fully verified.
    let response = test::call_service(&app, with_token("/api/user").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-auth-bypass").as_deref(), Some("true"));

    // A sensitive route verifies in full in every mode.
    let response = test::call_service(&app, with_token("/api/sensitive/user").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-auth-bypass").as_deref(), Some("true"));
    policy.switch().deactivate("test done");
}

#[actix_web::test]
async fn rejections_carry_the_bypass_header_and_never_reach_the_handler() {
    let fixture = Fixture::start().await;
    let policy = fixture.policy(AppVariant::Standard);
    open(&policy);
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let app = test::init_service(
        App::new().service(
            web::resource("/api/admin")
                .wrap(ClerkAuth::new(policy.clone()).require(Requirement::role("org:admin")))
                .route(web::get().to(move || {
                    counted.fetch_add(1, Ordering::SeqCst);
                    async { HttpResponse::Ok().finish() }
                })),
        ),
    )
    .await;

    let response = test::call_service(&app, get("/api/admin").to_request()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&response, "x-auth-bypass").as_deref(), Some("true"));
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/json")
    );
    let body: Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
    assert_eq!(body["error"], "invalid_token");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    policy.switch().deactivate("test done");
}

#[actix_web::test]
async fn the_bypass_header_is_added_only_outside_enforce_and_only_once() {
    let fixture = Fixture::start().await;
    let policy = fixture.policy(AppVariant::Standard);
    let switch = policy.switch().clone();
    let app = test::init_service(
        App::new()
            .wrap(BypassHeader::new(switch.clone()))
            .route("/", web::get().to(HttpResponse::Ok))
            .service(
                web::scope("/api")
                    .wrap(ClerkAuth::new(policy))
                    .route("/me", web::get().to(context)),
            ),
    )
    .await;

    let response = test::call_service(&app, get("/").to_request()).await;
    assert_eq!(header(&response, "x-auth-bypass"), None);

    switch
        .activate(
            AuthMode::Grace {
                max_token_age: Duration::from_secs(1800),
            },
            Some(Duration::from_secs(600)),
            "test",
        )
        .unwrap();
    let response = test::call_service(&app, get("/").to_request()).await;
    assert_eq!(header(&response, "x-auth-bypass").as_deref(), Some("grace"));

    switch
        .activate(AuthMode::Open, Some(Duration::from_secs(600)), "test")
        .unwrap();
    for path in ["/", "/api/me", "/nowhere"] {
        let response = test::call_service(&app, get(path).to_request()).await;
        let values = response.headers().get_all(X_AUTH_BYPASS).count();
        assert_eq!(values, 1, "{path}");
        assert_eq!(header(&response, "x-auth-bypass").as_deref(), Some("true"));
    }

    switch.deactivate("test done");
    let response = test::call_service(&app, get("/api/me").to_request()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&response, "x-auth-bypass"), None);
}

#[actix_web::test]
async fn extractors_without_the_middleware_fail_closed() {
    let app = test::init_service(
        App::new()
            .route("/auth", web::get().to(context))
            .route("/user", web::get().to(user_id))
            .route("/maybe", web::get().to(maybe)),
    )
    .await;

    for path in ["/auth", "/user"] {
        let response = test::call_service(&app, get(path).to_request()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            header(&response, "www-authenticate").as_deref(),
            Some(r#"Bearer error="invalid_token""#),
            "{path}"
        );
    }
    let response = test::call_service(&app, get("/maybe").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(test::read_body(response).await, "none");
}

#[actix_web::test]
async fn handlers_can_reject_with_the_default_response() {
    async fn billing(_auth: Auth) -> Result<HttpResponse, AuthRejection> {
        Err(Rejection::Forbidden.into())
    }
    let fixture = Fixture::start().await;
    let policy = fixture.policy(AppVariant::Standard);
    let app = test::init_service(
        App::new().service(
            web::scope("/api")
                .wrap(ClerkAuth::new(policy))
                .route("/billing", web::get().to(billing)),
        ),
    )
    .await;
    let token = admin_token(&fixture);
    let request = get("/api/billing").insert_header((AUTHORIZATION, format!("Bearer {token}")));
    let response = test::call_service(&app, request.to_request()).await;
    let expected = default_rejection_response(&Rejection::Forbidden);
    assert_eq!(response.status(), expected.status());
    assert_eq!(
        response.headers().get("www-authenticate"),
        expected.headers().get("www-authenticate")
    );
}

#[actix_web::test]
async fn the_health_endpoint_reports_the_policy() {
    let fixture = Fixture::start().await;
    let standard = test::init_service(
        App::new().service(health_service(fixture.policy(AppVariant::Standard))),
    )
    .await;
    let response = test::call_service(&standard, get(HEALTH_PATH).to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-store")
    );
    let body: Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"status": "ok", "mode": "enforce", "ready": true})
    );
    let with_token = get(HEALTH_PATH).insert_header((
        AUTHORIZATION,
        format!("Bearer {}", clerk_incident_conformance::HEALTH_TOKEN),
    ));
    let response = test::call_service(&standard, with_token.to_request()).await;
    let body: Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
    assert_eq!(body["mode"]["mode"], "enforce");
    assert_eq!(body["keys"]["source"], "pinned_pem");

    // Without keys, once a fetch has failed, the endpoint says so with a 503.
    let keyless = fixture.policy(AppVariant::KeysUnavailable);
    let app = test::init_service(
        App::new().service(health_service(keyless.clone())).service(
            web::scope("/api")
                .wrap(ClerkAuth::new(keyless))
                .route("/me", web::get().to(context)),
        ),
    )
    .await;
    let token = admin_token(&fixture);
    let request = get("/api/me").insert_header((AUTHORIZATION, format!("Bearer {token}")));
    let response = test::call_service(&app, request.to_request()).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let response = test::call_service(&app, get(HEALTH_PATH).to_request()).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
    assert_eq!(body["status"], "unavailable");
}

#[test]
fn the_transforms_can_be_built_outside_the_server_factory() {
    // `HttpServer::new` needs a `Send` factory: the middleware must be `Send + Sync + Clone`.
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<ClerkAuth>();
    shareable::<BypassHeader>();
}
