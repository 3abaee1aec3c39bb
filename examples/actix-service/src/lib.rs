//! An actix-web service protected by `clerk-incident-actix`: the app, built by [`app`] from an
//! [`AuthPolicy`](clerk_incident_actix::core::auth::AuthPolicy), so that the binary serves it and the tests drive it without a socket.
//!
//! | Route | Protection | Answer |
//! | --- | --- | --- |
//! | `GET /` | public | a JSON hello |
//! | `GET /api/me` | a valid token (degraded access while a bypass is on) | the request's auth context |
//! | `GET /api/admin/ping` | a fully valid token with the `org:admin` role, in every mode | `{"pong":true,…}` |
//! | `GET /api/clerk-health` | public | `{"status","mode","ready"}`; for an operator's token or `CLERK_INCIDENT_HEALTH_TOKEN`, the details (mode, keys, counters), plus `"user_table": {"users": N, "deliveries_seen": M}` when the webhook endpoint is mounted |
//! | `POST /api/webhooks/clerk` | a valid Svix signature ([`VerifiedWebhook`](clerk_incident_actix::VerifiedWebhook)) | 204; `user.*` events update the users table ([`UserSync`]); 400 for a bad signature |
//! | `POST /admin/clerk/sessions/revoke` | an operator's fully valid token, in every mode ([`RouteRule::operator`](clerk_incident_core::auth::RouteRule::operator): `CLERK_INCIDENT_OPERATORS`, `CLERK_INCIDENT_OPERATOR_ORG`) | 202 `{"job":…}`: a mass session revocation runs in the background |
//! | `GET /admin/clerk/sessions/revoke/{job}` | the same | the job's progress or report, naming the operator |
//! | `DELETE /admin/clerk/sessions/revoke/{job}` | the same | 200: the job is cancelled |
//!
//! Every response carries `X-Auth-Bypass` while a bypass mode is on.
//!
//! What is mounted besides the auth routes comes in [`ServiceOptions`], built once by the
//! binary from the environment (core's `ServiceEnv::from_env`) and passed in: the revocation
//! endpoints need the jobs (a Backend API client, from `CLERK_SECRET_KEY`), the webhook
//! endpoint the webhook state (from `CLERK_WEBHOOK_SIGNING_SECRET`, `whsec_…`). Each delivery
//! is verified, deduped by its `svix-id` (a [`MemoryInbox`](clerk_incident_actix::core::webhooks::MemoryInbox)
//! of [`USER_SYNC_INBOX_CAPACITY`](clerk_incident_core::webhooks::USER_SYNC_INBOX_CAPACITY) ids) and, the first time, applied to the users table, a
//! [`UserMirror`](clerk_incident_actix::core::webhooks::UserMirror) read through
//! [`UserSync::users`]. Every verified delivery gets a 204, duplicates and ignored event types
//! included, so that Svix does not retry them. [`app_with`] and [`configure_with`] take both
//! the revocation jobs and the webhook state explicitly ([`ServiceOptions`]); build the
//! options once, outside the `HttpServer` factory, so that every worker shares them.

mod app;
mod health;
mod request_timeout;
mod server;
mod user_sync;

pub use self::app::{
    ServiceOptions, app, app_with, app_with_revocation, configure, configure_with,
    configure_with_revocation,
};
pub use self::server::serve;
pub use self::user_sync::{ENV_WEBHOOK_SECRET, WEBHOOKS};
/// The webhook state the service keeps (from core).
pub use clerk_incident_actix::core::webhooks::UserSync;
