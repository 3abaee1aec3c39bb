//! The webhook signing secret (`whsec_…`), held so that it cannot leak by accident.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use secrecy::{ExposeSecret, SecretSlice};

use super::WebhookError;

/// Standard base64 that accepts input with or without `=` padding.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A webhook signing secret, as shown in the Clerk Dashboard (`whsec_<base64>`).
///
/// The HMAC key is the base64-decoded part after `whsec_`; padding is optional (some copies of
/// the secret lose their trailing `=`). The decoded key lives in a [`secrecy::SecretSlice`]: it
/// is zeroed on drop, has no `Display` and no `PartialEq`, and `Debug` shows nothing of it.
///
/// ```
/// use clerk_incident_core::webhooks::WebhookSecret;
///
/// let secret = WebhookSecret::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")?;
/// assert!(!format!("{secret:?}").contains("C2FV"));
/// # Ok::<(), clerk_incident_core::webhooks::WebhookError>(())
/// ```
#[derive(Clone)]
pub struct WebhookSecret {
    key: SecretSlice<u8>,
}

impl WebhookSecret {
    /// Parses a `whsec_…` secret (the prefix is optional; surrounding whitespace is ignored).
    ///
    /// # Errors
    ///
    /// [`WebhookError::BadSecret`] when the part after the prefix is not base64 or is empty.
    /// The error never contains the secret.
    pub fn new(secret: &str) -> Result<Self, WebhookError> {
        let trimmed = secret.trim();
        let encoded = trimmed.strip_prefix("whsec_").unwrap_or(trimmed);
        let key = LENIENT_BASE64
            .decode(encoded.as_bytes())
            .map_err(|_| WebhookError::BadSecret)?;
        if key.is_empty() {
            return Err(WebhookError::BadSecret);
        }
        Ok(Self {
            key: SecretSlice::from(key),
        })
    }

    /// Reads the secret from the environment variable `name`; `Ok(None)` when unset or empty.
    ///
    /// # Errors
    ///
    /// [`WebhookError::BadSecret`] when the variable is set but is not a valid secret.
    pub fn from_env(name: &str) -> Result<Option<Self>, WebhookError> {
        match std::env::var(name) {
            Ok(value) if !value.trim().is_empty() => Self::new(&value).map(Some),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(WebhookError::BadSecret),
        }
    }

    /// The HMAC-SHA256 key.
    pub(crate) fn hmac_key(&self) -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, self.key.expose_secret())
    }
}

impl FromStr for WebhookSecret {
    type Err = WebhookError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([REDACTED])")
    }
}
