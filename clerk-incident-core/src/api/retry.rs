//! When to try a Backend API call again, and how long to wait first.

use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use http::{HeaderMap, StatusCode};

/// How failed calls are retried.
///
/// - 429: wait what `Retry-After` says (seconds or an HTTP date), pausing every caller of the
///   client; without the header, wait the next backoff delay.
/// - 5xx, 408, 409 and transport failures (timeouts, refused connections): jittered
///   exponential backoff.
/// - Any other 4xx: no retry; the request itself is wrong.
///
/// A call gives up after [`max_attempts`](Self::max_attempts) attempts, or when the next wait
/// would take it past [`max_elapsed`](Self::max_elapsed) since its first attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included (≥ 1). Default 5.
    pub max_attempts: u32,
    /// The first backoff delay; each later one doubles, plus up to as much again of jitter.
    /// Default 250 ms.
    pub base_delay: Duration,
    /// The longest single backoff delay. Default 10 s.
    pub max_delay: Duration,
    /// The longest a call may spend, waits included. Default 60 s.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The backoff delays for one call, in order.
    pub(crate) fn delays(&self) -> impl Iterator<Item = Duration> + Send + use<> {
        ExponentialBuilder::new()
            .with_jitter()
            .with_min_delay(self.base_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
            .build()
    }
}

/// Statuses worth another attempt, 429 aside.
pub(crate) fn is_retryable(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::CONFLICT
}

/// The wait a `Retry-After` header asks for, in delta-seconds or as an HTTP date; `None` when
/// absent or unreadable. A date in the past means "now".
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(http::header::RETRY_AFTER, value.parse().unwrap());
        map
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after(&headers("7"), now),
            Some(Duration::from_secs(7))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            retry_after(&headers(&later), now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(retry_after(&headers(&earlier), now), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn only_transient_statuses_are_retryable() {
        for code in [500, 502, 503, 504, 408, 409] {
            assert!(is_retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [400, 401, 403, 404, 422, 429] {
            assert!(!is_retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }

    #[test]
    fn delays_grow_are_capped_and_stop() {
        let policy = RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
            max_elapsed: Duration::from_secs(60),
        };
        let delays: Vec<_> = policy.delays().collect();
        assert_eq!(delays.len(), 5, "one delay between each pair of attempts");
        assert!(delays[0] >= Duration::from_millis(100));
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(1000)));
        assert!(RetryPolicy::none().delays().next().is_none());
    }
}
