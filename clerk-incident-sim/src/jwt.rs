//! Compact JWS serialization of session tokens.
//!
//! The header is assembled by hand (rather than through `jsonwebtoken::Header`) so that callers
//! can put any member in it, including ones that contradict the signature, for negative tests.

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value};

use crate::SimError;
use crate::base64url;

/// Signs `header.claims` with RS256 and returns the compact token.
pub(crate) fn sign_rs256(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    key: &EncodingKey,
) -> Result<String, SimError> {
    let to_segment = |value: &Map<String, Value>| {
        serde_json::to_vec(value)
            .map(|bytes| base64url::encode(&bytes))
            .map_err(|error| SimError::Signing {
                reason: error.to_string(),
            })
    };
    let message = format!("{}.{}", to_segment(header)?, to_segment(claims)?);
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), key, Algorithm::RS256).map_err(|error| {
            SimError::Signing {
                reason: error.to_string(),
            }
        })?;
    Ok(format!("{message}.{signature}"))
}
