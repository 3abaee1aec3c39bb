//! [`ServiceLimits`]: the timeouts and limits a service guarded by this workspace should run
//! with, whatever its framework, so that half-open connections and slow bodies cannot make it
//! unreachable during an incident (an attack review had 20,000 half-open connections take an
//! unprotected service down).
//!
//! The example services apply them with each framework's own settings (hyper's
//! `header_read_timeout` and tower-http's layers for axum, `HttpServer`'s settings and a
//! timeout middleware for actix-web); `examples/README.md` shows what to copy.
//!
//! ```
//! use std::time::Duration;
//! use clerk_incident_core::service_limits::ServiceLimits;
//!
//! let limits = ServiceLimits::default();
//! assert_eq!(limits.header_read_timeout, Duration::from_secs(10));
//! assert_eq!(limits.webhook_body_limit, 1024 * 1024);
//! ```

use std::time::Duration;

/// Timeouts and limits for a service's HTTP server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceLimits {
    /// A connection that has not sent a whole request head within this time is closed
    /// (default 10 s).
    pub header_read_timeout: Duration,
    /// A request not answered within this time, its body included, gets a 408 (default 10 s):
    /// a `POST` that announces a body and sends nothing cannot hold a worker.
    pub request_timeout: Duration,
    /// Open connections at most; further ones wait in the listen backlog (default 10,000).
    pub max_connections: usize,
    /// The largest webhook body accepted; a larger one gets a 413 (default 1 MiB; Clerk's
    /// events are a few kilobytes).
    pub webhook_body_limit: usize,
}

impl Default for ServiceLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
            max_connections: 10_000,
            webhook_body_limit: 1024 * 1024,
        }
    }
}

impl ServiceLimits {
    /// Sets [`header_read_timeout`](Self::header_read_timeout).
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`request_timeout`](Self::request_timeout).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`max_connections`](Self::max_connections) (at least 1).
    #[must_use]
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Sets [`webhook_body_limit`](Self::webhook_body_limit).
    #[must_use]
    pub fn webhook_body_limit(mut self, bytes: usize) -> Self {
        self.webhook_body_limit = bytes;
        self
    }
}
