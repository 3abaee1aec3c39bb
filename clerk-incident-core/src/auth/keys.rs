//! Verification keys: a set of RSA public keys by `kid`, from a JWKS or a pinned PEM.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use jsonwebtoken::DecodingKey;

use crate::api::{Jwk, Jwks};

/// A set of RS256 verification keys, looked up by `kid`.
///
/// A set built from a pinned PEM (`CLERK_JWT_KEY`) has a single key that verifies tokens
/// whatever their `kid`, as Clerk's networkless verification does. A set built from a JWKS
/// keeps only the keys usable for RS256 signatures (`kty: "RSA"`, `alg` absent or `RS256`,
/// `use` absent or `sig`); the others are counted in [`skipped`](Self::skipped).
#[derive(Clone, Default)]
pub struct KeySet {
    by_kid: HashMap<String, Arc<DecodingKey>>,
    pinned: Option<Arc<DecodingKey>>,
    skipped: usize,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kids: Vec<&str> = self.by_kid.keys().map(String::as_str).collect();
        kids.sort_unstable();
        f.debug_struct("KeySet")
            .field("kids", &kids)
            .field("pinned", &self.pinned.is_some())
            .field("skipped", &self.skipped)
            .finish()
    }
}

/// Why a pinned PEM key could not be used.
#[derive(Debug, thiserror::Error)]
#[error("CLERK_JWT_KEY is not a PEM-encoded RSA public key")]
pub struct InvalidPemKey;

impl KeySet {
    /// The usable keys of a JWKS.
    pub fn from_jwks(jwks: &Jwks) -> Self {
        let mut set = Self::default();
        for jwk in &jwks.keys {
            match rs256_key(jwk) {
                Some(key) => {
                    set.by_kid.insert(jwk.kid.clone(), Arc::new(key));
                }
                None => set.skipped += 1,
            }
        }
        set
    }

    /// A single pinned key from a PEM (`-----BEGIN PUBLIC KEY-----`, any RSA size). Clerk's
    /// Dashboard shows it with the line breaks sometimes escaped as `\n`; both forms work.
    ///
    /// # Errors
    ///
    /// [`InvalidPemKey`] when the text is not an RSA public key in PEM.
    pub fn from_pem(pem: &str) -> Result<Self, InvalidPemKey> {
        let pem = pem.trim().replace("\\n", "\n");
        let key = DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| InvalidPemKey)?;
        Ok(Self {
            pinned: Some(Arc::new(key)),
            ..Self::default()
        })
    }

    /// The key for `kid`: the pinned key when there is one, else the JWKS key of that id.
    pub(crate) fn get(&self, kid: Option<&str>) -> Option<&Arc<DecodingKey>> {
        self.pinned
            .as_ref()
            .or_else(|| kid.and_then(|kid| self.by_kid.get(kid)))
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.by_kid.len() + usize::from(self.pinned.is_some())
    }

    /// True when the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key ids of the set, sorted (empty for a pinned key).
    pub fn kids(&self) -> Vec<String> {
        let mut kids: Vec<String> = self.by_kid.keys().cloned().collect();
        kids.sort_unstable();
        kids
    }

    /// How many keys of the JWKS were not usable for RS256 and were left out.
    pub fn skipped(&self) -> usize {
        self.skipped
    }
}

fn rs256_key(jwk: &Jwk) -> Option<DecodingKey> {
    let usable = jwk.kty == "RSA"
        && jwk.alg.as_deref().is_none_or(|alg| alg == "RS256")
        && jwk.use_.as_deref().is_none_or(|use_| use_ == "sig");
    if !usable {
        return None;
    }
    DecodingKey::from_rsa_components(jwk.n.as_deref()?, jwk.e.as_deref()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(kid: &str, kty: &str, alg: Option<&str>) -> Jwk {
        serde_json::from_value(serde_json::json!({
            "kid": kid, "kty": kty, "alg": alg, "use": "sig",
            "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw",
            "e": "AQAB"
        }))
        .unwrap()
    }

    #[test]
    fn only_rs256_signature_keys_are_kept() {
        let jwks = Jwks {
            keys: vec![
                jwk("ok", "RSA", Some("RS256")),
                jwk("no-alg", "RSA", None),
                jwk("hs", "RSA", Some("HS256")),
                jwk("ec", "EC", Some("ES256")),
            ],
        };
        let set = KeySet::from_jwks(&jwks);
        assert_eq!(set.kids(), vec!["no-alg".to_owned(), "ok".to_owned()]);
        assert_eq!(set.skipped(), 2);
        assert!(set.get(Some("ok")).is_some());
        assert!(set.get(Some("hs")).is_none());
        assert!(set.get(None).is_none());
    }

    #[test]
    fn a_bad_pem_is_an_error() {
        assert!(KeySet::from_pem("not a key").is_err());
    }
}
