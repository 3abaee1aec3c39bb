//! The sim's error type.

use std::net::SocketAddr;

/// Errors from starting a sim, minting tokens or changing users.
///
/// Messages name the ids involved but never a secret key or a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The listening socket could not be bound.
    #[error("cannot bind the sim to {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The builder or a reseed request asked for something the sim cannot do.
    #[error("invalid sim configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
    /// The HTTP client of webhook deliveries could not be built.
    #[error("cannot start the sim: {reason}")]
    WebhookClient {
        /// What failed.
        reason: String,
    },
    /// No user has this id.
    #[error("unknown user `{user_id}`")]
    UnknownUser {
        /// The id asked for.
        user_id: String,
    },
    /// A user to create or update is invalid (a malformed email address, ...).
    #[error("invalid user: {reason}")]
    InvalidUser {
        /// What is wrong.
        reason: String,
    },
    /// No session has this id.
    #[error("unknown session `{session_id}`")]
    UnknownSession {
        /// The id asked for.
        session_id: String,
    },
    /// The user has no active session to mint a token for.
    #[error("user `{user_id}` has no active session")]
    NoActiveSession {
        /// The user asked for.
        user_id: String,
    },
    /// The token request is inconsistent (no subject, a session of another user, a time
    /// before 1970, ...).
    #[error("invalid token request: {reason}")]
    InvalidTokenRequest {
        /// What is wrong.
        reason: String,
    },
    /// A step of a scenario was refused (a fault, a revoked key, ...).
    #[error("the scenario stopped at {step}: {reason}")]
    Scenario {
        /// The request that failed.
        step: String,
        /// Why.
        reason: String,
    },
    /// Signing the token failed.
    #[error("cannot sign the session token: {reason}")]
    Signing {
        /// The signer's explanation.
        reason: String,
    },
}
