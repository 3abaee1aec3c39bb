//! The sliding window behind [`RateLimitFault`].

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::RateLimitFault;

/// Accepted request times within the current window, oldest first.
#[derive(Debug, Default)]
pub(crate) struct SlidingWindow {
    accepted: VecDeque<Instant>,
}

impl SlidingWindow {
    /// Forgets every accepted request.
    pub(crate) fn clear(&mut self) {
        self.accepted.clear();
    }

    /// Accepts a request at `now`, or says how long until a slot frees up.
    pub(crate) fn try_acquire(
        &mut self,
        limit: RateLimitFault,
        now: Instant,
    ) -> Result<(), Duration> {
        let window = Duration::from_millis(limit.window_ms);
        while self
            .accepted
            .front()
            .is_some_and(|&accepted| now.saturating_duration_since(accepted) >= window)
        {
            self.accepted.pop_front();
        }
        let capacity = usize::try_from(limit.requests).unwrap_or(usize::MAX);
        if self.accepted.len() < capacity {
            self.accepted.push_back(now);
            return Ok(());
        }
        let wait = match self.accepted.front() {
            Some(&oldest) => window.saturating_sub(now.saturating_duration_since(oldest)),
            None => window,
        };
        Err(wait)
    }
}

/// `Retry-After` seconds for a wait: rounded up, at least 1.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let millis = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
    millis.div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{SlidingWindow, retry_after_secs};
    use crate::RateLimitFault;

    #[test]
    fn slides_rather_than_resetting() {
        let limit = RateLimitFault {
            requests: 2,
            window_ms: 10_000,
        };
        let start = Instant::now();
        let mut window = SlidingWindow::default();
        assert!(window.try_acquire(limit, start).is_ok());
        assert!(
            window
                .try_acquire(limit, start + Duration::from_secs(4))
                .is_ok()
        );
        let wait = window
            .try_acquire(limit, start + Duration::from_secs(5))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(5));
        // The first request leaves the window at 10 s; the second still holds its slot.
        assert!(
            window
                .try_acquire(limit, start + Duration::from_secs(10))
                .is_ok()
        );
        assert!(
            window
                .try_acquire(limit, start + Duration::from_secs(11))
                .is_err()
        );
    }

    #[test]
    fn zero_requests_rejects_everything() {
        let limit = RateLimitFault {
            requests: 0,
            window_ms: 1_500,
        };
        let mut window = SlidingWindow::default();
        let wait = window.try_acquire(limit, Instant::now()).unwrap_err();
        assert_eq!(retry_after_secs(wait), 2);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1_001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
    }
}
