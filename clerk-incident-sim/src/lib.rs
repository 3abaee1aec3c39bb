//! A stateful fake of [Clerk](https://clerk.com), served over real HTTP on `127.0.0.1`, with
//! fault injection: for tests and for rehearsing incidents offline.
//!
//! A [`Sim`] serves, on one ephemeral port:
//!
//! * the Backend API subset an incident touches, in the shapes of Clerk's OpenAPI spec
//!   (version 2026-05-12), behind `Authorization: Bearer <secret key>`:
//!   `GET /v1/users` (every filter of the spec: `user_id`, `organization_id` and
//!   `external_id` with `+`/`-`, `email_address`, `phone_number`, `username`, `query` and the
//!   `*_query` partial matches, `banned`, the `created_at`, `last_active_at` and
//!   `last_sign_in_at` bounds; every `order_by` value; `limit`/`offset`; the
//!   `starting_after` cursor), `GET /v1/users/count`, `GET /v1/users/{user_id}`,
//!   `GET /v1/sessions` (`user_id` or `client_id`, `status`, `paginated`), `GET
//!   /v1/sessions/{session_id}`, `POST /v1/sessions/{session_id}/revoke`, `GET /v1/jwks`
//!   and `GET /v1/instance`;
//! * the writes a leaked secret key can make, and their lists: users (`POST`, `PATCH`,
//!   `PATCH .../metadata`, `DELETE`), organisations and memberships (instance-wide and per
//!   organisation), invitations, redirect URLs, domains, allowlist and blocklist identifiers,
//!   JWT templates, OAuth applications, SAML connections, machines, API keys, M2M tokens
//!   (created with a machine's secret key), actor and sign-in tokens; and `GET
//!   /v1/tickets/accept?ticket=…`, standing in for the Frontend API, which turns a token's
//!   ticket into a session (with `actor` for an actor token). Every endpoint key is in
//!   [`endpoint`]; every answer is checked against Clerk's OpenAPI spec by the sim's tests;
//! * the Frontend API JWKS at `GET /.well-known/jwks.json` (no authentication);
//! * Clerk's status page (Statuspage.io shapes) at `GET /api/v2/status.json` and
//!   `GET /api/v2/summary.json`;
//! * a control API under `/_sim/`, so that drills can steer a sim over HTTP too:
//!   `GET /_sim/info`; `GET`/`PUT /_sim/faults`; `GET`/`PUT /_sim/status-page`;
//!   `POST /_sim/seed`; `POST /_sim/tokens`; `GET`/`DELETE /_sim/counters`;
//!   `POST /_sim/keys` and `/_sim/keys/revoke`; `POST /_sim/signing-key/rotate`;
//!   `GET`/`PUT /_sim/webhooks` (endpoint, secret, drops; the `GET` never shows the secret);
//!   `POST /_sim/users`, `PATCH`/`DELETE /_sim/users/{id}` (user changes that deliver
//!   webhook events);
//!   `POST /_sim/scenarios/compromise` (see below).
//!
//! Errors use Clerk's body, `{"errors":[{"message","long_message","code","meta"}],
//! "clerk_trace_id"}`: 401 `clerk_key_invalid` for a missing, unknown or revoked secret
//! key (the key presented is never echoed), 404 `resource_not_found`, 422
//! `form_param_missing`/`form_param_format_invalid`/`form_param_value_invalid` for bad query
//! parameters, and 400 `session_not_active` when revoking a session that is no longer active
//! or pending (Clerk does not document its answer; this code is the sim's choice).
//!
//! # Data
//!
//! Users, sessions and organisations are generated from a seed and a "now"
//! ([`SimBuilder::seed`], [`SimBuilder::now_unix_ms`]): the same pair always gives the same ids,
//! timestamps and statuses. The data behaves like a real instance's: `last_active_at` has day
//! precision, most users have been inactive for more than a week, and only users active within
//! the maximum session lifetime hold `active` sessions, so pruning users with
//! `last_active_at_after` never misses a session to revoke. [`Sim::admin_user_id`] is an
//! `org:admin` with an active session, ready for [`Sim::mint_token`].
//!
//! # Faults
//!
//! [`Faults`] adds latency, an outage (503 or hanging), a sliding-window rate limit (429 with
//! `Retry-After`) and a random share of 500s to the Backend API and the JWKS; revoking the
//! secret key ([`Sim::revoke_secret_key`]) turns every Backend API call into a 401.
//! [`Counters`] records what each endpoint saw.
//!
//! # The `compromise` scenario
//!
//! [`Sim::compromise`] (or `POST /_sim/scenarios/compromise`) plays a leaked secret key: a few
//! ordinary administrator actions, then, from [`Compromise::leaked_at`], an attacker using the
//! key through the Backend API: backdoor users (one with a backdated `created_at`), a role
//! written into a real user's metadata, organisations and `org:admin` memberships, an
//! impersonation through an actor token, a sign-in token, a machine with an M2M token, API
//! keys, and an invitation, redirect URL, domain, allow/blocklist entries, a JWT template, an
//! OAuth application and a SAML connection. It returns every action with the id an audit
//! must report.
//!
//! # Webhooks
//!
//! With an endpoint configured ([`SimBuilder::webhook_endpoint`], [`Sim::set_webhook_endpoint`]
//! or `PUT /_sim/webhooks`), every user change made through [`Sim::create_user`],
//! [`Sim::update_user`] and [`Sim::delete_user`] (or `/_sim/users`) is POSTed once, as
//! Clerk delivers it through Svix: the body is Clerk's envelope
//! `{data, object: "event", type: "user.created"|"user.updated"|"user.deleted", timestamp
//! (sim clock, Unix ms), instance_id, event_attributes}`, where `data` is the Backend API's
//! `User` (or `{object: "user", id, deleted: true}`), and the headers are `svix-id`
//! (`msg_...`, unique per delivery), `svix-timestamp` (the real clock, Unix seconds) and
//! `svix-signature` (`v1,<base64 HMAC-SHA256>` keyed with the `whsec_` secret,
//! [`DEFAULT_WEBHOOK_SECRET`] unless configured). There is a single attempt with a 5 s
//! timeout and no retries; the methods return the [`Delivery`] outcome once the attempt is
//! over, so tests need no sleeps. [`Sim::drop_webhooks`] drops the next deliveries (a
//! backlog), and [`Counters`] counts delivered, dropped and failed deliveries.
//!
//! # Example
//!
//! ```
//! use clerk_incident_sim::{Faults, Outage, Sim, TokenRequest};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = Sim::builder().users(20).sessions(30).start().await?;
//! let users_url = format!("{}/v1/users?limit=5", sim.base_url());
//! assert!(users_url.starts_with("http://127.0.0.1:"));
//!
//! // A session token for the seeded organisation admin, verifiable with the sim's JWKS.
//! let admin = sim.admin_user_id().ok_or("no admin")?;
//! let token = sim.mint_token(&TokenRequest::for_user(admin))?;
//! assert_eq!(token.split('.').count(), 3);
//!
//! // Clerk goes down: every Backend API call now gets a 503.
//! sim.set_faults(Faults {
//!     outage: Some(Outage::Unavailable),
//!     ..Faults::default()
//! });
//! assert_eq!(sim.faults().outage, Some(Outage::Unavailable));
//!
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod base64url;
mod builder;
mod clock;
mod compromise;
mod counters;
mod delivery;
pub mod endpoint;
mod error;
mod faults;
mod http;
mod ids;
mod instance_objects;
mod jwt;
mod model;
mod query_params;
mod rate_limit;
mod seed;
mod session_query;
mod signing_keys;
mod sim;
mod state;
mod status_page;
mod store;
mod svix;
mod token;
mod user_admin;
mod user_query;
mod webhook_delivery;
mod webhooks;

pub use builder::{DEFAULT_MAX_SESSION_LIFETIME, DEFAULT_SECRET_KEY, SimBuilder};
pub use compromise::{Compromise, SimAction};
pub use counters::Counters;
pub use delivery::Delivery;
pub use error::SimError;
pub use faults::{Faults, Outage, RateLimitFault};
pub use model::{OrgRole, SessionStatus, SimMembership, SimOrganization, SimSession, SimUser};
pub use sim::Sim;
pub use status_page::{
    Component, ComponentStatus, Impact, Incident, IncidentStatus, Indicator, StatusPage,
    StatusPageFormat,
};
pub use token::{
    ClaimsVersion, DEFAULT_AZP, DEFAULT_TOKEN_LIFETIME, SESSION_TOKEN_CATEGORY, TokenRequest,
};
pub use user_admin::{NewUser, UserPatch};
pub use webhooks::DEFAULT_WEBHOOK_SECRET;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
