//! A typed client for Clerk's Backend API, built for incidents.
//!
//! [`ClerkApi`] sends every request with the secret key and a pinned `Clerk-API-Version`,
//! paces itself under the instance's rate limit ([`RateLimit`]), honours `Retry-After` on 429
//! by pausing every caller, retries transient failures with jittered exponential backoff
//! ([`RetryPolicy`]), and puts a timeout and a size cap on every response. Errors
//! ([`ApiError`]) carry Clerk's error code and trace id, the number of attempts, and never the
//! key.
//!
//! The operations the runbook needs:
//!
//! | Operation | Endpoint |
//! | --- | --- |
//! | [`ClerkApi::list_users`], [`ClerkApi::list_user_pages`] | `GET /v1/users` (cursor pages) |
//! | [`ClerkApi::count_users`] | `GET /v1/users/count` |
//! | [`ClerkApi::get_user`] | `GET /v1/users/{id}` |
//! | [`ClerkApi::list_sessions`] | `GET /v1/sessions?user_id=…&paginated=true` |
//! | [`ClerkApi::get_session`] | `GET /v1/sessions/{id}` |
//! | [`ClerkApi::revoke_session`] | `POST /v1/sessions/{id}/revoke` |
//! | [`ClerkApi::jwks`] | `GET /v1/jwks` |
//! | [`ClerkApi::instance`] | `GET /v1/instance` |

//! Every retry is logged at `WARN` under the target [`RETRY_LOG_TARGET`], with a `cause`
//! field (`5xx`, `unreachable` or `429`), the `operation`, the `attempt` and the `wait`, so
//! that a tool can count repeats instead of printing each.

mod client;
mod counters;
mod error;
mod instance;
mod lists;
mod models;
mod pacing;
mod retry;
mod secret_key;
mod send_deadline;
mod sessions;
mod shared_budget;
mod users;

pub use self::client::{
    ClerkApi, ClerkApiBuilder, DEFAULT_API_VERSION, DEFAULT_BASE_URL, DEFAULT_TIMEOUT,
};
pub use self::counters::ApiCounters;

/// The `tracing` target of the retry warnings (one per retried request), whatever module sends
/// them: filter or count them by this name.
pub const RETRY_LOG_TARGET: &str = "clerk_incident_core::api::retry";
pub use self::error::{ApiError, ClerkErrorDetail};
pub use self::models::{
    EmailAddress, EnvironmentType, Instance, Jwk, Jwks, Session, SessionStatus, User,
};
pub use self::pacing::RateLimit;
pub use self::retry::RetryPolicy;
pub use self::secret_key::{KeyKind, SecretKey};
pub use self::sessions::RevokeOutcome;
pub use self::shared_budget::{BUDGET_TIMEOUT, BudgetError, DEFAULT_FALLBACK_SHARE, SharedBudget};
pub use self::users::{MAX_IDS_PER_FILTER, MAX_PAGE_SIZE, UserOrder, UserQuery};

pub(crate) use self::client::default_http_client;
pub(crate) use self::lists::{ListCall, ListShape};
pub(crate) use self::retry::{is_retryable, retry_after};
pub(crate) use self::send_deadline::{SendDeadline, sending_until};
