//! Svix webhook signatures: the `whsec_` secret and the `v1,` HMAC-SHA256 signature.

use std::fmt;

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use secrecy::{ExposeSecret, SecretSlice, SecretString};

/// Standard base64 that decodes with or without padding.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A webhook signing secret (`whsec_<base64>`), with its decoded HMAC key.
///
/// `Debug` never shows it.
#[derive(Clone)]
pub(crate) struct WebhookSecret {
    text: SecretString,
    key: SecretSlice<u8>,
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

impl WebhookSecret {
    /// Parses `whsec_<base64>` or bare base64 (padded or not). The error never quotes the
    /// secret.
    pub(crate) fn parse(secret: &str) -> Result<Self, String> {
        let trimmed = secret.trim();
        let encoded = trimmed.strip_prefix("whsec_").unwrap_or(trimmed);
        let key = LENIENT
            .decode(encoded)
            .map_err(|_| "the webhook secret is not base64 after the optional `whsec_` prefix")?;
        if key.is_empty() {
            return Err("the webhook secret must not be empty".to_owned());
        }
        Ok(Self {
            text: SecretString::from(trimmed.to_owned()),
            key: SecretSlice::from(key),
        })
    }

    /// The secret as configured.
    pub(crate) fn expose(&self) -> &str {
        self.text.expose_secret()
    }

    /// `v1,<base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
    pub(crate) fn sign(&self, msg_id: &str, timestamp_secs: u64, body: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.key.expose_secret());
        let mut context = hmac::Context::with_key(&key);
        context.update(msg_id.as_bytes());
        context.update(b".");
        context.update(timestamp_secs.to_string().as_bytes());
        context.update(b".");
        context.update(body);
        format!("v1,{}", STANDARD.encode(context.sign().as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::WebhookSecret;

    #[test]
    fn matches_the_svix_test_vectors() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            secret.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let secret = WebhookSecret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        assert_eq!(
            secret.sign(
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1_649_367_553,
                br#"{"email":"test@example.com","username":"test_user"}"#
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn accepts_padding_or_not_and_rejects_garbage_without_echoing_it() {
        assert!(WebhookSecret::parse("whsec_YWJj").is_ok());
        assert!(WebhookSecret::parse("whsec_YWI=").is_ok());
        assert!(WebhookSecret::parse("whsec_YWI").is_ok());
        assert!(WebhookSecret::parse("whsec_").is_err());
        let error = WebhookSecret::parse("whsec_not*base64!").unwrap_err();
        assert!(!error.contains("not*base64"));
        let secret = WebhookSecret::parse(crate::DEFAULT_WEBHOOK_SECRET).unwrap();
        assert!(!format!("{secret:?}").contains("whsec_"));
    }
}
