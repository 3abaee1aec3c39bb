//! The app: its routes, what [`ServiceOptions`] mounts, and the layers every response goes
//! through.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, Error, HttpResponse, web};
use clerk_incident_actix::core::auth::{AuthPolicy, Requirement};
use clerk_incident_actix::core::revocation::RevocationJobs;
use clerk_incident_actix::core::service_limits::ServiceLimits;
use clerk_incident_actix::{Auth, BypassHeader, ClerkAuth, health_service, revocation_routes};
use serde_json::json;

use clerk_incident_actix::core::webhooks::UserSync;

use crate::{health, request_timeout, user_sync};

/// What [`app_with`] and [`configure_with`] mount besides the auth routes.
#[derive(Clone, Debug, Default)]
pub struct ServiceOptions {
    /// The jobs behind the revocation endpoints; without them the endpoints are not mounted.
    pub revocation: Option<RevocationJobs>,
    /// The webhook state; without it the webhook endpoint is not mounted and the health JSON
    /// has no `user_table`.
    pub webhooks: Option<UserSync>,
    /// The request timeout (408) and the webhook body limit (413) the app applies; the
    /// header-read timeout and connection cap are [`serve`](crate::serve)'s.
    pub limits: ServiceLimits,
}

/// The whole app with nothing but the auth routes and the health endpoint
/// ([`ServiceOptions::default`]): [`configure`] wrapped in the bypass header layer of
/// `policy`'s switch.
pub fn app(
    policy: AuthPolicy,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    app_with(policy, ServiceOptions::default())
}

/// The whole app with the revocation endpoints when `jobs` is given (share one
/// [`RevocationJobs`] between workers), without the webhook endpoint.
pub fn app_with_revocation(
    policy: AuthPolicy,
    jobs: Option<RevocationJobs>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    app_with(
        policy,
        ServiceOptions {
            revocation: jobs,
            ..ServiceOptions::default()
        },
    )
}

/// The whole app with what `options` provides: [`configure_with`] wrapped in the bypass
/// header layer of `policy`'s switch.
pub fn app_with(
    policy: AuthPolicy,
    options: ServiceOptions,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let timeout = request_timeout::RequestTimeout {
        timeout: options.limits.request_timeout,
        switch: policy.switch().clone(),
    };
    App::new()
        .app_data(web::Data::new(timeout))
        .wrap(from_fn(request_timeout::enforce))
        .wrap(BypassHeader::new(policy.switch().clone()))
        .configure(configure_with(policy, options))
}

/// [`configure`], plus the revocation endpoints (outside `/api`) when `jobs` is given.
pub fn configure_with_revocation(
    policy: AuthPolicy,
    jobs: Option<RevocationJobs>,
) -> impl FnOnce(&mut web::ServiceConfig) {
    configure_with(
        policy,
        ServiceOptions {
            revocation: jobs,
            ..ServiceOptions::default()
        },
    )
}

/// [`configure`], plus the revocation endpoints (outside `/api`) and the webhook endpoint
/// (before the protected `/api` scope) with the health JSON's `user_table`, as `options`
/// provides.
pub fn configure_with(
    policy: AuthPolicy,
    options: ServiceOptions,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        if let Some(jobs) = options.revocation {
            config.configure(revocation_routes(policy.clone(), jobs));
        }
        routes(policy, options.webhooks, options.limits)(config);
    }
}

/// The routes. Public ones stay outside every [`ClerkAuth`]; the admin scope and the
/// protected `/api` scope are siblings, the admin one first (actix-web tries services in
/// registration order), so that each request passes exactly one `ClerkAuth`.
pub fn configure(policy: AuthPolicy) -> impl FnOnce(&mut web::ServiceConfig) {
    routes(policy, None, ServiceLimits::default())
}

/// The routes of [`configure`]; with `webhooks`, the webhook endpoint and the health endpoint
/// with the users table, both public and registered before the `/api` scopes.
fn routes(
    policy: AuthPolicy,
    webhooks: Option<UserSync>,
    limits: ServiceLimits,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config.route("/", web::get().to(hello));
        match webhooks {
            Some(sync) => {
                config
                    .service(health::health_service(policy.clone(), sync.clone()))
                    .service(user_sync::resource(&sync, limits.webhook_body_limit));
            }
            None => {
                config.service(health_service(policy.clone()));
            }
        }
        config
            .service(
                web::scope("/api/admin")
                    .wrap(ClerkAuth::new(policy.clone()).require(Requirement::role("org:admin")))
                    .route("/ping", web::get().to(admin_ping)),
            )
            .service(
                web::scope("/api")
                    .wrap(ClerkAuth::new(policy))
                    .route("/me", web::get().to(me)),
            );
    }
}

async fn hello() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "message": "hello from actix-service-example" }))
}

async fn me(auth: Auth) -> HttpResponse {
    HttpResponse::Ok().json(auth.to_json())
}

async fn admin_ping(auth: Auth) -> HttpResponse {
    let user_id = auth
        .session
        .as_ref()
        .map(|session| session.user_id.as_str());
    HttpResponse::Ok().json(json!({ "pong": true, "user_id": user_id }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::Duration;

    use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE};
    use actix_web::test::{self, TestRequest};
    use clerk_incident_actix::core::api::{ClerkApi, SecretKey};
    use clerk_incident_actix::core::auth::{
        BypassSwitch, KeySource, Operators, Verifier, VerifierConfig,
    };
    use clerk_incident_actix::core::revocation::{JobState, REVOKE_PATH};
    use clerk_incident_sim::{Sim, TokenRequest};

    use super::*;

    #[actix_web::test]
    async fn the_revocation_endpoint_is_mounted_with_jobs_only() {
        let sim = Sim::builder().users(10).sessions(20).start().await.unwrap();
        let keys = KeySource::pem(sim.public_key_pem()).unwrap();
        let policy = AuthPolicy::new(
            Verifier::new(keys, VerifierConfig::default()),
            BypassSwitch::new(),
        )
        .with_operators(Operators::none().allow_users([sim.admin_user_id().unwrap()]));
        let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
            .base_url(sim.base_url())
            .without_rate_limit()
            .build()
            .unwrap();
        let jobs = RevocationJobs::new(api);
        let admin_id = sim.admin_user_id().unwrap();
        let admin = sim
            .mint_token(&TokenRequest::for_user(&admin_id).lifetime(Duration::from_secs(600)))
            .unwrap();
        let post = || {
            TestRequest::post()
                .uri(REVOKE_PATH)
                .insert_header((AUTHORIZATION, format!("Bearer {admin}")))
                .insert_header((CONTENT_TYPE, "application/json"))
                .set_payload(r#"{"all": true, "dry_run": true}"#)
                .to_request()
        };

        let without = test::init_service(app_with_revocation(policy.clone(), None)).await;
        assert_eq!(test::call_service(&without, post()).await.status(), 404);

        let with = test::init_service(app_with_revocation(policy, Some(jobs.clone()))).await;
        assert_eq!(test::call_service(&with, post()).await.status(), 202);
        let job = jobs.running().expect("a running job");
        let status = jobs.wait(job.as_str()).await.unwrap().unwrap();
        assert_eq!(status.state, JobState::Finished, "{:?}", status.error);
        assert_eq!(status.requested_by.as_deref(), Some(admin_id.as_str()));
        assert_eq!(
            status.operator.map(|operator| operator.to_string()),
            Some(format!("{admin_id} (allow-listed)"))
        );
    }
}
