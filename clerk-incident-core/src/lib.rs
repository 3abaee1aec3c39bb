//! Clerk's incident runbook as typed, tested operations.
//!
//! `clerk-incident-core` is the framework-free heart of [clerk-incident]: everything the
//! `clerk-incident` binary and the axum and actix-web middleware do is here, over a pluggable
//! HTTP seam.
//!
//! | Module | Runbook step |
//! | --- | --- |
//! | [`http`] | the [`HttpClient`](http::HttpClient) seam every request goes through |
//! | [`api`] | a paced, retrying, typed Backend API client ([`ClerkApi`](api::ClerkApi)) |
//! | [`triage`] | 1. what is wrong: status page, Backend API, JWKS and app-health probes, and the rules that classify them ([`triage::run`]) |
//! | [`auth`] | 2. session-token verification, the JWKS cache, and the `Enforce`/`Grace`/`Open` modes ([`AuthPolicy`](auth::AuthPolicy)) |
//! | [`rotation`] | 3. secret-key rotation checks: the new key fits, the old key is dead ([`rotation::verify_new`]) |
//! | [`audit`] | 3. what a leaked secret key changed, from the leak to the rotation ([`audit::audit`]) |
//! | [`revocation`] | 4. mass session revocation ([`SessionRevoker`](revocation::SessionRevoker)) |
//! | [`webhooks`] | 5. webhook signature verification, the event envelope and the dedupe inbox ([`WebhookVerifier`](webhooks::WebhookVerifier)) |
//! | [`incident`] | 6. the incident's timeline log and the post-incident review ([`report`](incident::report)) |
//! | [`fleet`] | 2. one bypass switch for every instance of a service ([`FleetMember`](fleet::FleetMember)) |
//! | [`private_file`] | the files above, created readable by their owner only |
//! | [`service_limits`] | the timeouts and limits a guarded service's HTTP server should run with |
//! | `service_env` (feature `reqwest`) | everything a guarded service reads from its environment at start-up |
//! | [`error_chain`] | an error and its sources on one line |
//!
//! # Example
//!
//! Count the users active in the last week, against the built-in simulated Clerk:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use clerk_incident_core::api::{ClerkApi, SecretKey, UserQuery};
//!
//! let sim = clerk_incident_sim::Sim::builder().users(200).start().await?;
//! let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
//!     .base_url(sim.base_url())
//!     .build()?;
//! let week_ago = std::time::SystemTime::now()
//!     .duration_since(std::time::UNIX_EPOCH)?
//!     .as_millis() as i64
//!     - 8 * 86_400_000;
//! let active = api.count_users(&UserQuery::new().last_active_at_after(week_ago)).await?;
//! assert!(active < 200, "most seeded users have been away for more than a week");
//! # Ok(())
//! # }
//! ```
//!
//! # Dependencies
//!
//! Beyond `http`, `bytes`, `serde` and `tokio`: `async-trait` keeps [`http::HttpClient`]
//! object safe; `secrecy` holds the secret key; `backon` computes the jittered exponential
//! retry delays; `fastrand` spreads the background key checks of a fleet's replicas;
//! `httpdate` reads `Retry-After` dates; `form_urlencoded` and
//! `percent-encoding` build query strings and path segments; `reqwest` (feature `reqwest`, default) is the ready-made HTTP client, with rustls
//! on aws-lc-rs, the one crypto backend of the workspace.
//! `aws-lc-rs` (already in the tree through `jsonwebtoken` and rustls, same version) computes
//! the HMAC-SHA256 of Svix webhook signatures and compares them in constant time, and the
//! SHA-256 digests of the audit baseline, so the workspace keeps one crypto backend.
//!
//! [clerk-incident]: https://github.com/clerk-incident/clerk-incident

pub mod api;
pub mod audit;
pub mod auth;
pub mod error_chain;
pub mod fleet;
pub mod http;
pub mod incident;
pub mod log_colour;
pub mod private_file;
pub mod revocation;
pub mod rotation;
#[cfg(feature = "reqwest")]
pub mod service_env;
pub mod service_limits;
pub mod triage;
pub mod webhooks;

/// The code blocks of docs/bypass.md, compiled as doctests.
#[doc = include_str!("../../docs/bypass.md")]
#[cfg(doctest)]
pub struct BypassDocDoctests;

/// This crate's README code blocks, compiled as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
