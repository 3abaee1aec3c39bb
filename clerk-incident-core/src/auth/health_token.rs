//! [`HealthToken`]: the bearer token that shows the health endpoint's details to a caller who
//! is not an operator (a monitoring system, `clerk-incident triage`).

use std::fmt;

use aws_lc_rs::{constant_time, digest};
use secrecy::{ExposeSecret, SecretString};

/// The variable that holds the health token.
pub const ENV_HEALTH_TOKEN: &str = "CLERK_INCIDENT_HEALTH_TOKEN";

/// The shortest token accepted: long enough not to be guessed.
pub const MIN_HEALTH_TOKEN_LEN: usize = 16;

/// A shared secret that unlocks the health details, compared in constant time. `Debug` never
/// shows it.
///
/// ```
/// use clerk_incident_core::auth::HealthToken;
///
/// let token = HealthToken::new("s3cret-health-token-of-the-fleet")?;
/// assert!(token.matches("s3cret-health-token-of-the-fleet"));
/// assert!(!token.matches("guess"));
/// assert!(!format!("{token:?}").contains("s3cret"));
/// assert!(HealthToken::new("short").is_err());
/// # Ok::<(), clerk_incident_core::auth::InvalidHealthToken>(())
/// ```
#[derive(Clone)]
pub struct HealthToken(SecretString);

/// The health token is unusable.
#[derive(Debug, thiserror::Error)]
#[error(
    "{ENV_HEALTH_TOKEN} must be at least {MIN_HEALTH_TOKEN_LEN} printable characters without spaces \
     (for example the output of `openssl rand -hex 24`)"
)]
pub struct InvalidHealthToken;

impl HealthToken {
    /// Wraps `token`.
    ///
    /// # Errors
    ///
    /// [`InvalidHealthToken`] when it is shorter than [`MIN_HEALTH_TOKEN_LEN`] or holds a space
    /// or a control or non-ASCII character.
    pub fn new(token: impl Into<String>) -> Result<Self, InvalidHealthToken> {
        let token = token.into();
        if token.len() < MIN_HEALTH_TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidHealthToken);
        }
        Ok(Self(SecretString::from(token)))
    }

    /// True when `candidate` is the token. The SHA-256 digests of both are compared in
    /// constant time, so that the time taken tells neither the token's content nor its length.
    pub fn matches(&self, candidate: &str) -> bool {
        let expected = digest::digest(&digest::SHA256, self.0.expose_secret().as_bytes());
        let given = digest::digest(&digest::SHA256, candidate.as_bytes());
        constant_time::verify_slices_are_equal(expected.as_ref(), given.as_ref()).is_ok()
    }
}

impl HealthToken {
    /// `Bearer <token>` as a header value, marked sensitive (kept out of HTTP/2 header
    /// compression tables and `Debug` output).
    pub(crate) fn bearer_header(&self) -> http::HeaderValue {
        let mut value = http::HeaderValue::from_str(&format!("Bearer {}", self.0.expose_secret()))
            .unwrap_or_else(|_| http::HeaderValue::from_static(""));
        value.set_sensitive(true);
        value
    }
}

impl fmt::Debug for HealthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HealthToken([redacted])")
    }
}
