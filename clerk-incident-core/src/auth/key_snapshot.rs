//! [`KeySnapshotStore`]: the last known good signing keys, kept where a restarted service
//! finds them when Clerk is down.
//!
//! A [`JwksCache`](super::JwksCache) given a store ([`with_snapshot`]) saves every key set it
//! fetches, off the request path, and loads the snapshot when it holds no key and a fetch
//! fails: a service restarted during an outage then verifies with the keys it had. Only the
//! public keys are kept. What a store hands back is checked before it is trusted
//! ([`KeySnapshot::check`]): the issuer it was taken for, RSA keys of a sane size, and an age
//! within the cache's staleness bound.
//!
//! The seam is small and object safe so that a fleet can share one snapshot (a Redis store in
//! its own crate); [`FileSnapshotStore`](super::FileSnapshotStore) keeps it in a file.
//!
//! [`with_snapshot`]: super::JwksCache::with_snapshot

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::api::Jwks;

/// The most keys a snapshot may hold (Clerk serves one or two).
pub const MAX_SNAPSHOT_KEYS: usize = 20;

/// The longest RSA modulus a snapshot may hold, in base64url characters (8192 bits).
const MAX_MODULUS_CHARS: usize = 1366;

/// The `format` of a snapshot's JSON, in a file or a fleet store.
const FORMAT: &str = "clerk-incident.jwks-snapshot.v1";

/// The largest encoded snapshot read (a JWKS of [`MAX_SNAPSHOT_KEYS`] 8192-bit keys is far
/// smaller).
pub const MAX_SNAPSHOT_BYTES: usize = 256 * 1024;

/// A saved copy of an instance's public signing keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KeySnapshot {
    /// The issuer (Frontend API URL) the keys sign for, when the service pins one.
    pub issuer: Option<String>,
    /// When the keys were fetched from Clerk.
    #[serde(with = "humantime_serde_rfc3339")]
    pub fetched_at: SystemTime,
    /// The keys, as Clerk served them.
    pub jwks: Jwks,
}

/// Why a snapshot was not used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The store could not be read or written.
    #[error("the key snapshot at {location} could not be {action}")]
    Io {
        /// Where ([`KeySnapshotStore::location`]).
        location: String,
        /// `read` or `written`.
        action: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// What the store holds is not a snapshot (truncated, edited, or too large).
    #[error("the key snapshot at {location} is not a valid snapshot: {detail}")]
    Corrupt {
        /// Where.
        location: String,
        /// What is wrong (never a copy of the content).
        detail: String,
    },
    /// The snapshot is of another instance, holds keys it must not, or is too old.
    #[error("the key snapshot at {location} is refused: {reason}")]
    Refused {
        /// Where.
        location: String,
        /// Why.
        reason: String,
    },
}

/// Where a [`JwksCache`](super::JwksCache) keeps its last known good keys.
#[async_trait]
pub trait KeySnapshotStore: Send + Sync + 'static {
    /// The snapshot saved last, or `None` when there is none.
    ///
    /// # Errors
    ///
    /// [`SnapshotError`] when it cannot be read or is not a snapshot.
    async fn load(&self) -> Result<Option<KeySnapshot>, SnapshotError>;

    /// Replaces the snapshot, atomically: a reader sees the old one or the new one, never a
    /// mix.
    ///
    /// # Errors
    ///
    /// [`SnapshotError`] when it cannot be written.
    async fn save(&self, snapshot: &KeySnapshot) -> Result<(), SnapshotError>;

    /// Where the snapshot lives, for logs and health (a path, a key name; never a secret).
    fn location(&self) -> String;
}

/// A snapshot as stores keep it: `{"format": "clerk-incident.jwks-snapshot.v1", "issuer": …,
/// "fetched_at": …, "jwks": …}`.
#[derive(Serialize, Deserialize)]
struct Encoded {
    format: String,
    #[serde(flatten)]
    snapshot: KeySnapshot,
}

/// Every store shares a key snapshot this way: an `Arc` of one is one too.
#[async_trait]
impl<T: KeySnapshotStore + ?Sized> KeySnapshotStore for std::sync::Arc<T> {
    async fn load(&self) -> Result<Option<KeySnapshot>, SnapshotError> {
        (**self).load().await
    }

    async fn save(&self, snapshot: &KeySnapshot) -> Result<(), SnapshotError> {
        (**self).save(snapshot).await
    }

    fn location(&self) -> String {
        (**self).location()
    }
}

impl KeySnapshot {
    /// The snapshot as JSON, the form every store keeps it in (a file, a fleet store).
    pub fn to_json(&self) -> Vec<u8> {
        let encoded = Encoded {
            format: FORMAT.to_owned(),
            snapshot: self.clone(),
        };
        // A struct of strings, times and keys always encodes.
        serde_json::to_vec_pretty(&encoded).unwrap_or_default()
    }

    /// Reads what [`to_json`](Self::to_json) wrote. Not trusted yet: [`check`](Self::check)
    /// it.
    ///
    /// # Errors
    ///
    /// What is wrong, never quoting the content: larger than [`MAX_SNAPSHOT_BYTES`], not
    /// JSON, truncated, another format.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() > MAX_SNAPSHOT_BYTES {
            return Err(format!("larger than {} KiB", MAX_SNAPSHOT_BYTES / 1024));
        }
        let encoded: Encoded = serde_json::from_slice(bytes)
            .map_err(|err| format!("not a snapshot ({})", classify(&err)))?;
        if encoded.format != FORMAT {
            return Err(format!("format {:?}, not {FORMAT:?}", encoded.format));
        }
        Ok(encoded.snapshot)
    }

    /// [`from_json`](Self::from_json) of what the store at `location` holds, its errors as a
    /// store reports them.
    ///
    /// # Errors
    ///
    /// [`SnapshotError::Corrupt`] naming `location` and what is wrong.
    pub fn from_stored(bytes: &[u8], location: String) -> Result<Self, SnapshotError> {
        Self::from_json(bytes).map_err(|detail| SnapshotError::Corrupt { location, detail })
    }

    /// A snapshot of `jwks`, fetched now.
    pub fn new(issuer: Option<String>, jwks: Jwks) -> Self {
        Self {
            issuer,
            fetched_at: SystemTime::now(),
            jwks,
        }
    }

    /// Checks the snapshot may be trusted by a service that pins `issuer` and lets keys
    /// verify for `max_age` after their fetch: the same issuer (a service that pins one
    /// refuses a snapshot that names none), at least
    /// one key, at most [`MAX_SNAPSHOT_KEYS`], RSA only, of a sane size, and not older than
    /// `max_age` (nor fetched in the future).
    ///
    /// # Errors
    ///
    /// The reason it is refused.
    pub fn check(&self, issuer: Option<&str>, max_age: Option<Duration>) -> Result<(), String> {
        match (issuer, self.issuer.as_deref()) {
            (Some(wanted), Some(found))
                if wanted.trim_end_matches('/') != found.trim_end_matches('/') =>
            {
                return Err(format!(
                    "it holds the keys of {found:?}, not of this service's issuer {wanted:?}"
                ));
            }
            (Some(wanted), None) => {
                return Err(format!(
                    "it names no issuer, and this service pins {wanted:?} (take it with --issuer)"
                ));
            }
            _ => {}
        }
        if self.jwks.keys.is_empty() {
            return Err("it holds no key".to_owned());
        }
        if self.jwks.keys.len() > MAX_SNAPSHOT_KEYS {
            return Err(format!(
                "it holds {} keys, more than {MAX_SNAPSHOT_KEYS}",
                self.jwks.keys.len()
            ));
        }
        for key in &self.jwks.keys {
            if key.kty != "RSA" {
                return Err(format!("key {:?} is not an RSA key", key.kid));
            }
            if key.n.as_deref().map_or(0, str::len) > MAX_MODULUS_CHARS {
                return Err(format!("key {:?} is larger than 8192 bits", key.kid));
            }
        }
        let age = SystemTime::now()
            .duration_since(self.fetched_at)
            .map_err(|_| "it was taken in the future (check the clocks)".to_owned())?;
        if let Some(max) = max_age
            && age > max
        {
            return Err(format!(
                "it was taken {} ago, past the {} staleness bound",
                humantime::format_duration(Duration::from_secs(age.as_secs())),
                humantime::format_duration(max)
            ));
        }
        Ok(())
    }
}

/// A short name for a JSON error's kind, never quoting the content.
fn classify(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "fields missing or of the wrong type",
        serde_json::error::Category::Eof => "truncated",
    }
}

/// `SystemTime` as RFC 3339 in the snapshot's JSON.
mod humantime_serde_rfc3339 {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(at: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_rfc3339_seconds(*at).to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwks(json: serde_json::Value) -> Jwks {
        serde_json::from_value(json).unwrap()
    }

    fn snapshot(keys: &serde_json::Value) -> KeySnapshot {
        let jwks = jwks(serde_json::json!({ "keys": keys }));
        KeySnapshot::new(Some("https://clerk.example.com".into()), jwks)
    }

    #[test]
    fn only_a_sane_snapshot_of_this_issuer_is_trusted() {
        let rsa = serde_json::json!([{"kid": "k1", "kty": "RSA", "n": "AQAB", "e": "AQAB"}]);
        let day = Some(Duration::from_secs(86_400));
        assert_eq!(
            snapshot(&rsa).check(Some("https://clerk.example.com/"), day),
            Ok(())
        );
        assert!(snapshot(&rsa).check(None, None).is_ok());
        let foreign = snapshot(&rsa).check(Some("https://other.example.com"), day);
        assert!(
            foreign
                .unwrap_err()
                .contains("not of this service's issuer")
        );
        let ec = serde_json::json!([{"kid": "k1", "kty": "EC"}]);
        assert!(
            snapshot(&ec)
                .check(None, day)
                .unwrap_err()
                .contains("not an RSA key")
        );
        let huge =
            serde_json::json!([{"kid": "k1", "kty": "RSA", "n": "A".repeat(5000), "e": "AQAB"}]);
        assert!(
            snapshot(&huge)
                .check(None, day)
                .unwrap_err()
                .contains("8192")
        );
        assert!(snapshot(&serde_json::json!([])).check(None, day).is_err());
        let mut old = snapshot(&rsa);
        old.fetched_at = SystemTime::now() - Duration::from_secs(2 * 86_400);
        assert!(
            old.check(None, day)
                .unwrap_err()
                .contains("staleness bound")
        );
        let mut future = snapshot(&rsa);
        future.fetched_at = SystemTime::now() + Duration::from_secs(3600);
        assert!(future.check(None, day).unwrap_err().contains("future"));
    }

    #[test]
    fn round_trips_as_json_with_an_rfc3339_time() {
        let snapshot =
            snapshot(&serde_json::json!([{"kid": "k1", "kty": "RSA", "n": "AQAB", "e": "AQAB"}]));
        let json = serde_json::to_value(&snapshot).unwrap();
        assert!(humantime::parse_rfc3339(json["fetched_at"].as_str().unwrap()).is_ok());
        let back: KeySnapshot = serde_json::from_value(json).unwrap();
        assert_eq!(back.jwks, snapshot.jwks);
    }
}
