//! Session-token verification and the emergency bypass modes: the framework-free heart of
//! both middleware crates.
//!
//! - [`Verifier`] checks a Clerk session token (RS256 only, signature before claims, time
//!   claims with leeway, issuer, authorized parties, token category, pending sessions, size)
//!   and returns the [`VerifiedSession`], v1 and v2 claims normalised into one model with
//!   Clerk's [`has`](VerifiedSession::has) semantics; or a typed [`RejectReason`].
//! - Keys come from a pinned PEM ([`KeySource::pem`]) or a [`JwksCache`] over the Backend API
//!   ([`BackendApiJwks`]) or the Frontend API ([`FrontendApiJwks`]).
//! - [`BypassSwitch`] holds the [`AuthMode`] (`Enforce`, `Grace`, `Open`), switched by
//!   operators only, always with an expiry.
//! - [`AuthPolicy::decide`] is the single decision: credentials and a [`RouteClass`] in,
//!   [`Decision`] out; [`AuthPolicy::decide_rule`] adds guards and, on
//!   [`RouteRule::operator`] routes, the [`Operators`] check for instance-wide actions.
//! - [`AuthPolicy::health_for`] is what the health endpoint serves: a summary to anyone, the
//!   details of [`AuthPolicy::health`] to operators and [`HealthToken`] holders.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use clerk_incident_core::auth::{
//!     AuthPolicy, BypassSwitch, Credentials, Decision, KeySource, RouteClass, Verifier,
//!     VerifierConfig,
//! };
//! use clerk_incident_sim::{Sim, TokenRequest};
//!
//! let sim = Sim::builder().start().await?;
//! let verifier = Verifier::new(KeySource::pem(sim.public_key_pem())?, VerifierConfig::default());
//! let policy = AuthPolicy::new(verifier, BypassSwitch::new());
//!
//! let token = sim.mint_token(&TokenRequest::for_user(sim.admin_user_id().ok_or("no admin")?))?;
//! let header = format!("Bearer {token}");
//! let credentials = Credentials::authorization(header.as_bytes());
//! assert!(matches!(policy.decide(&credentials, RouteClass::Protected).await, Decision::Allow(_)));
//!
//! let anonymous = Credentials::default();
//! match policy.decide(&anonymous, RouteClass::Protected).await {
//!     Decision::Reject { rejection, .. } => assert_eq!(rejection.status(), 401),
//!     Decision::Allow(_) => unreachable!("fail closed"),
//! }
//! # Ok(())
//! # }
//! ```

mod bypass_log;
mod claims;
mod credentials;
#[cfg(feature = "reqwest")]
mod env_config;
mod env_value;
mod extractor_rejection;
mod fleet_membership;
mod health;
mod health_token;
mod health_view;
mod jwk_pem;
mod jwks_cache;
mod key_snapshot;
mod key_snapshot_file;
mod keys;
mod mode;
mod operator;
mod policy;
mod reject;
mod session;
mod session_denylist;
mod token_cache;
mod verifier;

pub use self::credentials::{Credentials, TokenPresence, extract_token};
#[cfg(feature = "reqwest")]
pub use self::env_config::{
    ENV_API_URL, ENV_AUTHORIZED_PARTIES, ENV_ISSUER, ENV_JWKS_SNAPSHOT, ENV_JWKS_URL, ENV_JWT_KEY,
    ENV_PUBLISHABLE_KEY, ENV_SECRET_KEY, EnvConfigError, is_secure_jwks_url,
    issuer_from_publishable_key, pinned_issuers,
};
pub(crate) use self::env_value::value as env_var_value;
pub use self::extractor_rejection::{AuthRejectionKind, ExtractorRejection};
pub use self::fleet_membership::{ENV_REDIS_URL, FleetHealth, FleetMembership};
pub use self::health::{AuthCounters, AuthHealth, HealthStatus};
pub use self::health_token::{
    ENV_HEALTH_TOKEN, HealthToken, InvalidHealthToken, MIN_HEALTH_TOKEN_LEN,
};
pub use self::health_view::HealthView;
pub use self::jwk_pem::{NotAnRsaKey, jwk_to_pem};
pub use self::jwks_cache::{
    BackendApiJwks, FrontendApiJwks, JwksCache, JwksCacheConfig, JwksSource, KeyFetchError,
    KeyStatus,
};
pub use self::key_snapshot::{
    KeySnapshot, KeySnapshotStore, MAX_SNAPSHOT_BYTES, MAX_SNAPSHOT_KEYS, SnapshotError,
};
pub use self::key_snapshot_file::FileSnapshotStore;
pub use self::keys::{InvalidPemKey, KeySet};
pub use self::mode::{
    AuthMode, BypassConfigError, BypassSwitch, ChangeCause, DEFAULT_BYPASS_TTL,
    DEFAULT_GRACE_MAX_AGE, ENV_BYPASS, ENV_BYPASS_GRACE_MAX_AGE, ENV_BYPASS_TTL, ENV_BYPASS_UNTIL,
    MAX_BYPASS_TTL, MAX_GRACE_MAX_AGE, ModeChange, ModeError, ModeState,
};
pub(crate) use self::mode::{Rfc3339, rfc3339_opt};
pub use self::operator::{
    DEFAULT_OPERATOR_ROLE, ENV_OPERATOR_ORG, ENV_OPERATOR_ROLE, ENV_OPERATORS, Operator,
    OperatorConfigError, OperatorRefusal, Operators, Qualification,
};
pub use self::policy::{
    AuthContext, AuthPolicy, Decision, Rejection, Requirement, RouteClass, RouteRule, authorize,
};
pub use self::reject::RejectReason;
pub use self::session::{
    Check, FactorVerificationAge, Organization, SessionClaimStatus, VerifiedSession,
};
pub use self::session_denylist::{
    DEFAULT_DENYLIST_CAPACITY, DENIAL_TTL, DenyError, DenylistHealth, SessionDenier,
    SessionDenylist,
};
pub use self::verifier::{KeySource, SESSION_TOKEN_CATEGORY, Verifier, VerifierConfig};
