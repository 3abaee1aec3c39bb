//! Request counters of a [`ClerkApi`](super::ClerkApi), for progress displays, reports and
//! benchmarks.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a client's counters since it was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct ApiCounters {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Attempts that were retries of an earlier one.
    pub retries: u64,
    /// 429 answers seen.
    pub rate_limited: u64,
}

#[derive(Debug, Default)]
pub(crate) struct AtomicCounters {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
}

impl AtomicCounters {
    pub(crate) fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> ApiCounters {
        ApiCounters {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
        }
    }
}
