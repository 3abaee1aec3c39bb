//! The one table of auth-middleware behaviour that `clerk-incident-axum` and
//! `clerk-incident-actix` must both pass, so that the two adapters cannot drift apart.
//!
//! Each adapter's test builds the same small app for each [`AppVariant`] (its
//! [`AuthPolicy`](clerk_incident_core::auth::AuthPolicy) from [`Fixture::policy`]):
//!
//! | Route | Protection | Handler answers |
//! | --- | --- | --- |
//! | `GET /public` | none (outside the middleware) | [`handler_view`]`(None)` |
//! | `GET /api/me` | [`RouteRule::protected`] | [`handler_view`] of the context |
//! | `GET /api/admin/ping` | protected + [`Requirement::role`]`("org:admin")` | [`handler_view`] |
//! | `GET /api/teams/manage` | protected + [`Requirement::permission`]`("org:teams:manage")` | [`handler_view`] |
//! | `GET /api/clerk-health` | none | the adapter's health handler |
//!
//! with the whole app wrapped in the adapter's bypass-header layer (so that public routes carry
//! `X-Auth-Bypass` too outside `Enforce`), the handlers reading the context with the adapter's
//! optional extractor. It then sends every [`Case`] of [`cases`] through it and hands what came back to
//! [`Case::check`]; [`run`] does the bookkeeping and fails with every mismatch at once.
//!
//! The mass session revocation endpoints have their own table, [`revocation_cases`] plus a
//! job's life (202, 409 while it runs, status until done), which both adapters run with
//! [`run_revocation`]. The `VerifiedWebhook` extractor has one too, [`webhook_cases`]: signed,
//! tampered and incomplete deliveries with the status each gets, run by [`run_webhooks`].
//! The fleet store contract and the fleet's semantics are in [`fleet_store`], the shared keys,
//! denylist and budget in [`fleet_shared`], and one mass revocation at a time in
//! [`fleet_jobs`], each run on the in-memory store here and on Redis by
//! `clerk-incident-redis`.
//! The example services' server limits (header-read and request timeouts, the webhook body
//! limit) are checked on a real socket by the functions of [`limits`].

mod case;
mod fixture;
pub mod fleet_jobs;
pub mod fleet_shared;
pub mod fleet_store;
pub mod limits;
mod revocation;
mod table;
mod webhook;

use std::future::Future;

use clerk_incident_core::auth::AuthContext;
use serde_json::{Value, json};

pub use self::case::{Case, Expect, Observed, Seen};
pub use self::fixture::{AppVariant, Fixture, HEALTH_TOKEN, ModeSetup};
pub use self::revocation::{
    RequestMethod, RevocationApp, RevocationCase, RevocationRequest, Token, revocation_cases,
    revocation_jobs, run_revocation,
};
pub use self::table::cases;
pub use self::webhook::{
    OTHER_WEBHOOK_SECRET, WEBHOOK_BODY, WEBHOOK_ID, WEBHOOK_SECRET, WebhookCase, WebhookDelivery,
    run_webhooks, webhook_cases, webhook_view,
};
pub use clerk_incident_core::auth::{Requirement, RouteRule};

/// The path of the protected route.
pub const ME: &str = "/api/me";
/// The path of the route guarded by the `org:admin` role.
pub const ADMIN: &str = "/api/admin/ping";
/// The path of the route guarded by the `org:teams:manage` permission.
pub const TEAMS_MANAGE: &str = "/api/teams/manage";
/// The path of the public route.
pub const PUBLIC: &str = "/public";
/// The path of the health endpoint.
pub const HEALTH: &str = "/api/clerk-health";

/// The rule of the admin route.
pub fn admin_rule() -> RouteRule {
    RouteRule::protected().require(Requirement::role("org:admin"))
}

/// The rule of the permission-guarded route.
pub fn teams_manage_rule() -> RouteRule {
    RouteRule::protected().require(Requirement::permission("org:teams:manage"))
}

/// What a test handler answers: the context it saw, as JSON.
pub fn handler_view(context: Option<&AuthContext>) -> Value {
    context.map_or_else(|| json!({ "authenticated": false }), AuthContext::to_json)
}

/// Runs every case through `send` and panics listing every failure.
///
/// # Panics
///
/// When any case fails: that is the test failing.
#[allow(clippy::panic)]
pub async fn run<F, Fut>(fixture: &Fixture, mut send: F)
where
    F: FnMut(Case) -> Fut,
    Fut: Future<Output = Observed>,
{
    let cases = cases(fixture);
    let total = cases.len();
    let mut failures = Vec::new();
    for case in cases {
        fixture.set_mode(case.mode);
        let observed = send(case.clone()).await;
        if let Err(problem) = case.check(&observed) {
            failures.push(problem);
        }
    }
    fixture.switch.deactivate("conformance run finished");
    assert!(
        failures.is_empty(),
        "{} of {total} conformance cases failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
