//! [`jwk_to_pem`]: an RSA JSON Web Key as the PEM `CLERK_JWT_KEY` takes, for verification
//! that needs no network at all.
//!
//! The PEM is a `SubjectPublicKeyInfo` (`-----BEGIN PUBLIC KEY-----`), DER-encoded here: the
//! structure is three nested sequences, small enough that a DER library would only add a
//! dependency.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::api::Jwk;

/// Why a key has no PEM.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("key {kid:?} has no RSA PEM: {reason}")]
pub struct NotAnRsaKey {
    kid: String,
    reason: &'static str,
}

/// The PEM of an RSA key (`kty` `RSA`, with `n` and `e`).
///
/// # Errors
///
/// [`NotAnRsaKey`] for another key type, or `n` or `e` missing or not base64url.
pub fn jwk_to_pem(jwk: &Jwk) -> Result<String, NotAnRsaKey> {
    let refuse = |reason| NotAnRsaKey {
        kid: jwk.kid.clone(),
        reason,
    };
    if jwk.kty != "RSA" {
        return Err(refuse("not an RSA key"));
    }
    let decode = |part: &Option<String>| {
        part.as_deref()
            .and_then(|text| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok())
            .filter(|bytes| !bytes.is_empty())
    };
    let n = decode(&jwk.n).ok_or_else(|| refuse("n is missing or not base64url"))?;
    let e = decode(&jwk.e).ok_or_else(|| refuse("e is missing or not base64url"))?;
    let rsa_key = tlv(0x30, &[integer(&n), integer(&e)].concat());
    // AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }.
    let algorithm: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let bit_string = tlv(0x03, &[&[0x00][..], &rsa_key].concat());
    let spki = tlv(0x30, &[algorithm, &bit_string].concat());
    let body = STANDARD.encode(spki);
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    Ok(pem)
}

/// A DER INTEGER of the unsigned big-endian `bytes`.
fn integer(bytes: &[u8]) -> Vec<u8> {
    // Without leading zeros, but one zero stays a zero.
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(&trimmed);
    tlv(0x02, &content)
}

/// Tag, DER length, content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match u8::try_from(content.len()) {
        Ok(short) if short < 0x80 => out.push(short),
        _ => {
            let length: Vec<u8> = content
                .len()
                .to_be_bytes()
                .into_iter()
                .skip_while(|b| *b == 0)
                .collect();
            // At most 8 bytes of length: the count fits the low bits.
            out.push(0x80 | u8::try_from(length.len()).unwrap_or(8));
            out.extend_from_slice(&length);
        }
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_integers_are_der() {
        assert_eq!(tlv(0x02, &[1]), [0x02, 1, 1]);
        assert_eq!(tlv(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(tlv(0x04, &[0; 300])[..4], [0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(integer(&[0x00, 0x00, 0x7f]), [0x02, 1, 0x7f]);
        assert_eq!(integer(&[0x80]), [0x02, 2, 0x00, 0x80]);
        assert_eq!(integer(&[0x00]), [0x02, 1, 0x00]);
    }

    #[test]
    fn other_keys_are_refused() {
        let jwk: Jwk =
            serde_json::from_value(serde_json::json!({"kid": "k", "kty": "EC"})).unwrap();
        assert!(jwk_to_pem(&jwk).is_err());
        let jwk: Jwk =
            serde_json::from_value(serde_json::json!({"kid": "k", "kty": "RSA", "e": "AQAB"}))
                .unwrap();
        assert!(
            jwk_to_pem(&jwk)
                .unwrap_err()
                .to_string()
                .contains("n is missing")
        );
    }
}
