//! The Clerk secret key, held so that it cannot leak by accident.

use std::fmt;

use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

/// Which kind of Clerk instance a secret key belongs to, read from its prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// `sk_live_…`: a production instance.
    Live,
    /// `sk_test_…`: a development instance.
    Test,
    /// Any other shape; treated like a development key where limits matter.
    Unknown,
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyKind::Live => "live",
            KeyKind::Test => "test",
            KeyKind::Unknown => "unknown",
        })
    }
}

/// A Clerk Backend API secret key (`sk_live_…` or `sk_test_…`).
///
/// The key lives in a [`secrecy::SecretString`]: it is zeroed on drop, has no `Display`, no
/// `PartialEq` (no timing oracle), and its `Debug` shows only its [`KeyKind`]. The only way out is
/// the crate-private `Authorization` header, which is marked sensitive.
///
/// ```
/// use clerk_incident_core::api::{KeyKind, SecretKey};
///
/// let key = SecretKey::new("sk_live_abcdef");
/// assert_eq!(key.kind(), KeyKind::Live);
/// assert!(!format!("{key:?}").contains("abcdef"));
/// ```
#[derive(Clone)]
pub struct SecretKey {
    secret: SecretString,
    kind: KeyKind,
}

impl SecretKey {
    /// Wraps a secret key.
    pub fn new(key: impl Into<String>) -> Self {
        let key: String = key.into();
        let key = key.trim().to_owned();
        let kind = if key.starts_with("sk_live_") {
            KeyKind::Live
        } else if key.starts_with("sk_test_") {
            KeyKind::Test
        } else {
            KeyKind::Unknown
        };
        Self {
            secret: SecretString::from(key),
            kind,
        }
    }

    /// Reads the key from the environment variable `name`; `None` when unset or empty.
    pub fn from_env(name: &str) -> Option<Self> {
        let value = std::env::var(name).ok()?;
        if value.trim().is_empty() {
            None
        } else {
            Some(Self::new(value))
        }
    }

    /// The instance kind the prefix names.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The `Authorization: Bearer …` header value, flagged sensitive so that `http` and
    /// `hyper` never print it.
    pub(crate) fn bearer_header(&self) -> Option<HeaderValue> {
        let mut value =
            HeaderValue::from_str(&format!("Bearer {}", self.secret.expose_secret())).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    /// Replaces every occurrence of the key in `text`, for messages built from what a server
    /// sent back (a misbehaving proxy may echo the request).
    pub(crate) fn redact(&self, text: &str) -> String {
        let key = self.secret.expose_secret();
        if key.len() >= 8 && text.contains(key) {
            text.replace(key, "[redacted secret key]")
        } else {
            text.to_owned()
        }
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_follows_the_prefix() {
        assert_eq!(SecretKey::new("sk_live_x").kind(), KeyKind::Live);
        assert_eq!(SecretKey::new(" sk_test_x\n").kind(), KeyKind::Test);
        assert_eq!(SecretKey::new("pk_test_x").kind(), KeyKind::Unknown);
    }

    #[test]
    fn redact_removes_the_key() {
        let key = SecretKey::new("sk_test_0123456789");
        assert_eq!(
            key.redact("bad key sk_test_0123456789!"),
            "bad key [redacted secret key]!"
        );
        assert!(key.bearer_header().is_some_and(|h| h.is_sensitive()));
    }
}
