//! Clerk session-token middleware for [axum], with audited emergency bypass modes.
//!
//! # Getting started
//!
//! ```toml
//! [dependencies]
//! axum = "0.8"
//! clerk-incident-axum = "0.1"
//! clerk-incident-core = "0.1"
//! ```
//!
//! Build the policy once with [`AuthPolicy::from_env`]: `CLERK_SECRET_KEY` (or
//! `CLERK_JWT_KEY`, a pinned PEM key), `CLERK_PUBLISHABLE_KEY` or `CLERK_ISSUER`,
//! `CLERK_AUTHORIZED_PARTIES`, and for the admin routes `CLERK_INCIDENT_OPERATORS` or
//! `CLERK_INCIDENT_OPERATOR_ORG`. Put a [`ClerkAuthLayer`] on the routes it protects (with
//! `route_layer`), read the identity with the [`Auth`] extractor, and merge the
//! [`health_router`]; the example below shows the whole app. `examples/axum-service` in the
//! repository is a complete service (revocation routes, webhooks, timeouts and limits).
//!
//! [`AuthPolicy::from_env`]: clerk_incident_core::auth::AuthPolicy::from_env
//!
//! Every decision is made by [`clerk_incident_core`]'s [`AuthPolicy`]: this crate only
//! carries a request's credentials to it and turns its answer into a response, so that this
//! adapter and `clerk-incident-actix` behave identically (both pass the same conformance
//! table).
//!
//! - [`ClerkAuthLayer`] guards routes: a [`RouteRule`] (protected by default; sensitive, or
//!   with role, permission, feature or plan [`Requirement`]s), the [`AuthContext`] handed to
//!   handlers on success, the rejection response (401, 403 or 503 with `WWW-Authenticate` and
//!   `Retry-After`, replaceable) otherwise.
//! - [`BypassHeaderLayer`] adds `X-Auth-Bypass` to every response, public routes included,
//!   while a bypass mode is on.
//! - [`Auth`], `Option<Auth>`, [`VerifiedUser`] and `Option<VerifiedUser>` read the identity in
//!   handlers; the required forms fail closed.
//! - [`health_router`] serves `GET /api/clerk-health`: a summary to anyone, the details to
//!   operators and health-token holders ([`AuthPolicy::health_for`]).
//! - [`revocation_router`] serves the mass session revocation endpoints
//!   (`POST /admin/clerk/sessions/revoke`, `GET …/revoke/{job}`), for operators only
//!   ([`RouteRule::operator`](clerk_incident_core::auth::RouteRule::operator)).
//! - [`VerifiedWebhook`] reads a Clerk webhook delivery whose Svix signature verified against
//!   the [`WebhookVerifier`](clerk_incident_core::webhooks::WebhookVerifier) in the request
//!   extensions; anything else is a fixed 400 ([`WebhookRejection`]).
//!
//! # Modes
//!
//! The [`BypassSwitch`](clerk_incident_core::auth::BypassSwitch) of the policy decides how
//! protected routes behave; nothing in a request can change it.
//!
//! | Mode | Protected route | Sensitive route (guards) | `X-Auth-Bypass` |
//! | --- | --- | --- | --- |
//! | `Enforce` | valid token, else 401 (503 without keys) | same, 403 without the role | none |
//! | `Grace` | valid token, or one expired for at most the grace window (degraded) | valid token | `grace` |
//! | `Open` | everyone; the identity is kept when the token still verifies | valid token | `true` |
//!
//! # Example
//!
//! A public route outside the middleware, protected routes under it, an admin route with its
//! own guard, the health endpoint, and the bypass header on everything:
//!
//! ```
//! use axum::routing::get;
//! use axum::{Json, Router};
//! use clerk_incident_axum::core::auth::{AuthPolicy, Requirement};
//! use clerk_incident_axum::{Auth, BypassHeaderLayer, ClerkAuthLayer, VerifiedUser, health_router};
//! use serde_json::{Value, json};
//!
//! async fn hello() -> &'static str {
//!     "hello"
//! }
//!
//! async fn me(auth: Auth) -> Json<Value> {
//!     Json(json!({
//!         "user_id": auth.session.as_ref().map(|session| session.user_id.clone()),
//!         "bypassed": auth.bypassed,
//!     }))
//! }
//!
//! async fn ping(admin: VerifiedUser) -> String {
//!     format!("pong, {}", admin.user_id)
//! }
//!
//! pub fn app(policy: AuthPolicy) -> Router {
//!     let bypass_header = BypassHeaderLayer::new(policy.switch().clone());
//!     let protected = Router::new()
//!         .route("/api/me", get(me))
//!         .route_layer(ClerkAuthLayer::new(policy.clone()));
//!     let admin = Router::new()
//!         .route("/api/admin/ping", get(ping))
//!         .route_layer(ClerkAuthLayer::new(policy.clone()).require(Requirement::role("org:admin")));
//!     Router::new()
//!         .route("/", get(hello))
//!         .merge(protected)
//!         .merge(admin)
//!         .merge(health_router(policy))
//!         .layer(bypass_header)
//! }
//! # let _ = app;
//! ```
//!
//! Testing such an app needs no socket: send requests with `tower::ServiceExt::oneshot`.
//!
//! # Why there is no list of public paths
//!
//! Some auth middleware takes a list of path patterns to leave public. This one does not: the
//! router already says which handlers are public and which are protected, by which routes sit
//! under a [`ClerkAuthLayer`] (use [`Router::route_layer`](axum::Router::route_layer), so that
//! unknown paths stay 404). A second description of the same thing, as strings, drifts from
//! the first, and matching request paths against it invites normalisation bypasses: `//api/me`,
//! `/api/./me`, `/API/me`, `/api/me/`, `%2F` and `;`-parameters may match no pattern yet reach
//! a protected handler. Putting the middleware on the routes themselves means that whatever
//! path reaches a protected handler went through the check.
//!
//! [axum]: https://docs.rs/axum
//! [`AuthPolicy`]: clerk_incident_core::auth::AuthPolicy
//! [`AuthPolicy::health_for`]: clerk_incident_core::auth::AuthPolicy::health_for
//! [`AuthContext`]: clerk_incident_core::auth::AuthContext
//! [`RouteRule`]: clerk_incident_core::auth::RouteRule
//! [`Requirement`]: clerk_incident_core::auth::Requirement

mod bypass_header;
mod extract;
pub mod future;
mod health;
mod layer;
mod layer_config;
mod rejection;
mod revocation;
mod webhook;

pub use clerk_incident_core as core;

pub use self::bypass_header::{BypassHeader, BypassHeaderLayer};
pub use self::extract::{Auth, AuthRejection, VerifiedUser};
pub use self::health::{HEALTH_PATH, health_response, health_router, health_view};
pub use self::layer::{ClerkAuth, ClerkAuthLayer};
pub use self::rejection::{X_AUTH_BYPASS, default_rejection_response};
pub use self::revocation::revocation_router;
pub use self::webhook::{VerifiedWebhook, WebhookRejection};
/// Why [`AuthRejection`] refused a request (core's, so both adapters say alike).
pub use clerk_incident_core::auth::AuthRejectionKind;
/// Why [`VerifiedWebhook`] refused a delivery (core's, so both adapters answer alike).
pub use clerk_incident_core::webhooks::WebhookRejectionKind;

/// The workspace README's code blocks, compiled as doctests (this crate's dev-dependencies
/// cover every crate they use).
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// This crate's README code blocks, compiled as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct CrateReadmeDoctests;
