//! The embedded RSA key pairs that sign session tokens, and the JWKS built from them.
//!
//! The keys are throw-away and public on purpose (see `keys/README.md`). Key generation `g`
//! (0 at start, +1 per rotation) signs with embedded key `g % 2`; its `kid` is the instance id
//! for generation 0 and `<instance id>_<g>` after that, so every rotation yields a new `kid`.

use jsonwebtoken::EncodingKey;
use serde::Serialize;

use crate::SimError;

/// One embedded key pair.
struct EmbeddedKey {
    private_pem: &'static str,
    public_pem: &'static str,
    modulus: &'static str,
}

const KEY_ONE: EmbeddedKey = EmbeddedKey {
    private_pem: include_str!("../keys/sim-key-1.pem"),
    public_pem: include_str!("../keys/sim-key-1.pub.pem"),
    modulus: include_str!("../keys/sim-key-1.n"),
};

const KEY_TWO: EmbeddedKey = EmbeddedKey {
    private_pem: include_str!("../keys/sim-key-2.pem"),
    public_pem: include_str!("../keys/sim-key-2.pub.pem"),
    modulus: include_str!("../keys/sim-key-2.n"),
};

/// The RSA public exponent of both keys (65537), base64url.
const EXPONENT: &str = "AQAB";

fn embedded(generation: u32) -> &'static EmbeddedKey {
    if generation.is_multiple_of(2) {
        &KEY_ONE
    } else {
        &KEY_TWO
    }
}

/// Parsed signing keys of one sim.
pub(crate) struct SigningKeys {
    instance_id: String,
    one: EncodingKey,
    two: EncodingKey,
}

impl SigningKeys {
    /// Parses the embedded private keys.
    pub(crate) fn load(instance_id: &str) -> Result<Self, SimError> {
        let parse = |key: &EmbeddedKey| {
            EncodingKey::from_rsa_pem(key.private_pem.as_bytes()).map_err(|error| {
                SimError::Signing {
                    reason: format!("embedded key does not parse: {error}"),
                }
            })
        };
        Ok(Self {
            instance_id: instance_id.to_owned(),
            one: parse(&KEY_ONE)?,
            two: parse(&KEY_TWO)?,
        })
    }

    /// The key that signs in `generation`.
    pub(crate) fn encoding_key(&self, generation: u32) -> &EncodingKey {
        if generation.is_multiple_of(2) {
            &self.one
        } else {
            &self.two
        }
    }

    /// The `kid` of `generation`.
    pub(crate) fn kid(&self, generation: u32) -> String {
        if generation == 0 {
            self.instance_id.clone()
        } else {
            format!("{}_{generation}", self.instance_id)
        }
    }

    /// SPKI PEM of the public key of `generation`.
    pub(crate) fn public_pem(generation: u32) -> &'static str {
        embedded(generation).public_pem
    }

    /// The JWKS while `generation` signs: its key, then the previous one if there was a
    /// rotation.
    pub(crate) fn jwks(&self, generation: u32) -> Jwks {
        let jwk = |generation: u32| Jwk {
            use_: "sig",
            kty: "RSA",
            kid: self.kid(generation),
            alg: "RS256",
            n: embedded(generation).modulus.trim(),
            e: EXPONENT,
        };
        let mut keys = vec![jwk(generation)];
        if let Some(previous) = generation.checked_sub(1) {
            keys.push(jwk(previous));
        }
        Jwks { keys }
    }
}

/// `{"keys":[...]}`, Clerk's `JWKS` schema.
#[derive(Serialize)]
pub(crate) struct Jwks {
    keys: Vec<Jwk>,
}

/// Clerk's `JWKS.rsa.PublicKey` schema.
#[derive(Serialize)]
struct Jwk {
    #[serde(rename = "use")]
    use_: &'static str,
    kty: &'static str,
    kid: String,
    alg: &'static str,
    n: &'static str,
    e: &'static str,
}

#[cfg(test)]
mod tests {
    use super::SigningKeys;

    #[test]
    fn keys_parse_and_rotate() {
        let keys = SigningKeys::load("ins_test").unwrap();
        assert_eq!(keys.kid(0), "ins_test");
        assert_eq!(keys.kid(3), "ins_test_3");
        assert_ne!(SigningKeys::public_pem(0), SigningKeys::public_pem(1));
        assert_eq!(SigningKeys::public_pem(0), SigningKeys::public_pem(2));
        let first = serde_json::to_value(keys.jwks(0)).unwrap();
        assert_eq!(first["keys"].as_array().unwrap().len(), 1);
        let rotated = serde_json::to_value(keys.jwks(1)).unwrap();
        assert_eq!(rotated["keys"][0]["kid"], "ins_test_1");
        assert_eq!(rotated["keys"][1]["kid"], "ins_test");
        assert_eq!(rotated["keys"][0]["use"], "sig");
        assert!(!rotated["keys"][0]["n"].as_str().unwrap().contains('\n'));
    }
}
