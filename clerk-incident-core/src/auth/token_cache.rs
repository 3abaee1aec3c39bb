//! A bounded cache of tokens already verified, so that a repeated token skips the RSA work.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::session::VerifiedSession;

/// One verified token: its session, its `exp`, and the key generation that verified it.
#[derive(Clone, Debug)]
pub(crate) struct CachedToken {
    pub(crate) session: Arc<VerifiedSession>,
    pub(crate) key_generation: u64,
}

/// Verified tokens keyed by the whole token. Bounded: when full, expired entries are dropped,
/// and if that is not enough, everything is (the next requests re-verify, which is correct,
/// just slower).
#[derive(Debug)]
pub(crate) struct TokenCache {
    capacity: usize,
    entries: RwLock<HashMap<Box<str>, CachedToken>>,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: RwLock::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, token: &str) -> Option<CachedToken> {
        if self.capacity == 0 {
            return None;
        }
        self.entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(token)
            .cloned()
    }

    /// Stores a verified token; `now` (Unix seconds) decides what has expired when full.
    pub(crate) fn insert(&self, token: &str, entry: CachedToken, now: i64) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= self.capacity {
            entries.retain(|_, cached| cached.session.expires_at >= now);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(token.into(), entry);
    }

    pub(crate) fn remove(&self, token: &str) {
        self.entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(token);
    }

    pub(crate) fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}
