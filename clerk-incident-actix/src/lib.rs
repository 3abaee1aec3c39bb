//! Clerk session-token middleware for [actix-web], with audited emergency bypass modes.
//!
//! # Getting started
//!
//! ```toml
//! [dependencies]
//! actix-web = "4"
//! clerk-incident-actix = "0.1"
//! clerk-incident-core = "0.1"
//! ```
//!
//! Build the policy once, outside the `HttpServer` factory, with [`AuthPolicy::from_env`]:
//! `CLERK_SECRET_KEY` (or `CLERK_JWT_KEY`, a pinned PEM key), `CLERK_PUBLISHABLE_KEY` or
//! `CLERK_ISSUER`, `CLERK_AUTHORIZED_PARTIES`, and for the admin routes
//! `CLERK_INCIDENT_OPERATORS` or `CLERK_INCIDENT_OPERATOR_ORG`. Wrap the scopes it protects in
//! [`ClerkAuth`], read the identity with the [`Auth`] extractor, and register the
//! [`health_service`]; the example below shows the whole app. `examples/actix-service` in the
//! repository is a complete service (revocation routes, webhooks, timeouts and limits).
//!
//! [`AuthPolicy::from_env`]: clerk_incident_core::auth::AuthPolicy::from_env
//!
//! Every decision is made by [`clerk_incident_core`]'s [`AuthPolicy`]: this crate only
//! translates it into actix-web terms.
//!
//! | Item | What it does |
//! | --- | --- |
//! | [`ClerkAuth`] | the middleware (`Transform`) for a protected scope; [`require`](ClerkAuth::require) makes a role, permission, feature or plan guard |
//! | [`BypassHeader`] | `X-Auth-Bypass` on every response while a bypass mode is on |
//! | [`Auth`], `Option<Auth>` | the request's [`AuthContext`] in handlers |
//! | [`VerifiedUser`] | a fully verified session only, in every mode |
//! | [`health_service`], [`health`] | `GET /api/clerk-health`: status, mode and readiness to anyone; keys and counters to operators and health-token holders |
//! | [`revocation_routes`] | `POST /admin/clerk/sessions/revoke` and `GET …/revoke/{job}`: mass session revocation in the background, [operators](clerk_incident_core::auth::Operators) only |
//! | [`AuthRejection`], [`default_rejection_response`] | what refused requests get (401, 403, 503) |
//! | [`VerifiedWebhook`] | a Clerk webhook delivery whose Svix signature verified against the `web::Data<`[`WebhookVerifier`](clerk_incident_core::webhooks::WebhookVerifier)`>` in the app data; otherwise a fixed 400 ([`WebhookRejection`]) |
//!
//! # Modes
//!
//! The policy's [`BypassSwitch`] holds the mode; operators change it, never requests.
//!
//! - `Enforce` (the default) fails closed: no or bad token on a protected route is a 401 with
//!   `WWW-Authenticate: Bearer error="invalid_token"`; no usable verification key is a 503
//!   with `Retry-After`, never an allow.
//! - `Grace` accepts tokens that verify but expired recently (Clerk is down, clients cannot
//!   refresh); the context is [`degraded`](clerk_incident_core::auth::AuthContext::degraded) and responses carry
//!   `X-Auth-Bypass: grace`.
//! - `Open` lets protected routes through without a valid token (keeping the identity when a
//!   token still verifies); the context is [`bypassed`](clerk_incident_core::auth::AuthContext::bypassed), each request is
//!   logged at warn level and counted, and responses carry `X-Auth-Bypass: true`.
//!
//! Routes guarded by a requirement (and [`RouteRule::sensitive`] ones) need a fully valid
//! token in every mode.
//!
//! # Example
//!
//! A public route, a protected scope, an admin-only scope and the health endpoint:
//!
//! ```
//! use actix_web::{App, HttpResponse, web};
//! use clerk_incident_actix::{Auth, BypassHeader, ClerkAuth, health_service};
//! use clerk_incident_actix::core::auth::{AuthPolicy, Requirement};
//!
//! async fn hello(auth: Option<Auth>) -> HttpResponse {
//!     let signed_in = auth.is_some_and(|auth| auth.session.is_some());
//!     HttpResponse::Ok().json(serde_json::json!({ "hello": "world", "signed_in": signed_in }))
//! }
//!
//! async fn me(auth: Auth) -> HttpResponse {
//!     let user_id = auth.session.as_ref().map(|session| session.user_id.as_str());
//!     HttpResponse::Ok().json(serde_json::json!({ "user_id": user_id, "mode": auth.mode.name() }))
//! }
//!
//! async fn ping() -> HttpResponse {
//!     HttpResponse::Ok().body("pong")
//! }
//!
//! /// Public routes stay outside every `ClerkAuth`; each protected scope is wrapped once.
//! fn configure(policy: AuthPolicy) -> impl FnOnce(&mut web::ServiceConfig) {
//!     move |config| {
//!         config
//!             .route("/", web::get().to(hello))
//!             // Before the `/api` scope: actix-web tries services in registration order.
//!             .service(health_service(policy.clone()))
//!             .service(
//!                 web::scope("/api/admin")
//!                     .wrap(ClerkAuth::new(policy.clone()).require(Requirement::role("org:admin")))
//!                     .route("/ping", web::get().to(ping)),
//!             )
//!             .service(
//!                 web::scope("/api")
//!                     .wrap(ClerkAuth::new(policy))
//!                     .route("/me", web::get().to(me)),
//!             );
//!     }
//! }
//!
//! # #[actix_web::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use clerk_incident_actix::core::auth::{BypassSwitch, KeySource, Verifier, VerifierConfig};
//! use actix_web::test::{self, TestRequest};
//!
//! let sim = clerk_incident_sim::Sim::builder().start().await?;
//! let verifier = Verifier::new(KeySource::pem(sim.public_key_pem())?, VerifierConfig::default());
//! let policy = AuthPolicy::new(verifier, BypassSwitch::new());
//!
//! let app = test::init_service(
//!     App::new()
//!         .wrap(BypassHeader::new(policy.switch().clone()))
//!         .configure(configure(policy)),
//! )
//! .await;
//! let response = test::call_service(&app, TestRequest::get().uri("/").to_request()).await;
//! assert_eq!(response.status(), 200);
//! let response = test::call_service(&app, TestRequest::get().uri("/api/me").to_request()).await;
//! assert_eq!(response.status(), 401);
//! let challenge = response.headers().get("www-authenticate");
//! assert_eq!(challenge.and_then(|value| value.to_str().ok()), Some(r#"Bearer error="invalid_token""#));
//! # Ok(())
//! # }
//! ```
//!
//! # Why there is no list of public paths
//!
//! Which routes are public is expressed by the app's structure: public routes are registered
//! outside every [`ClerkAuth`], protected ones inside a wrapped scope or resource. actix-web's
//! router then decides what a request reaches, and the middleware protects exactly that. A
//! list of path patterns checked by a middleware would be a second router that must agree
//! with the first on every spelling of a path (`//api/me`, `/api/./me`, `/API/me`,
//! percent-encoding, trailing slashes): each disagreement is an authentication bypass. A route
//! added to a protected scope is protected without anyone remembering to update a list.
//!
//! [actix-web]: https://docs.rs/actix-web
//! [`AuthPolicy`]: clerk_incident_core::auth::AuthPolicy
//! [`AuthContext`]: clerk_incident_core::auth::AuthContext
//! [`BypassSwitch`]: clerk_incident_core::auth::BypassSwitch
//! [`RouteRule::sensitive`]: clerk_incident_core::auth::RouteRule::sensitive

mod bypass_header;
mod extract;
mod health;
mod middleware;
mod rejection;
mod revocation;
mod webhook;

use actix_web::http::header::HeaderName;

pub use self::bypass_header::{BypassHeader, BypassHeaderFuture, BypassHeaderMiddleware};
pub use self::extract::{Auth, VerifiedUser};
pub use self::health::{HEALTH_PATH, health, health_response, health_service, health_view};
pub use self::middleware::{ClerkAuth, ClerkAuthFuture, ClerkAuthMiddleware};
pub use self::rejection::{AuthRejection, default_rejection_response};
pub use self::revocation::revocation_routes;
pub use self::webhook::{VerifiedWebhook, WebhookRejection};
pub use clerk_incident_core as core;
/// Why [`AuthRejection`] refused a request (core's, so both adapters say alike).
pub use clerk_incident_core::auth::AuthRejectionKind;
/// Why [`VerifiedWebhook`] refused a delivery (core's, so both adapters answer alike).
pub use clerk_incident_core::webhooks::WebhookRejectionKind;

/// The `X-Auth-Bypass` response header: `true` in `Open` mode, `grace` in `Grace` mode, absent
/// in `Enforce`.
pub const X_AUTH_BYPASS: HeaderName = HeaderName::from_static("x-auth-bypass");

/// This crate's README code blocks, compiled as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
