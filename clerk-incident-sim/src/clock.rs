//! The sim's wall clock: a fixed start time plus the real time elapsed since the sim started.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Latest Unix millisecond the sim accepts as "now" (the end of year 9999), so that no
/// timestamp arithmetic on seeded data can overflow.
pub(crate) const MAX_UNIX_MS: i64 = 253_402_300_799_999;

/// Unix milliseconds of the sim's "now": the start time given to the builder plus the real
/// time elapsed since the sim started, plus however far it was moved forward.
#[derive(Clone, Debug)]
pub(crate) struct SimClock {
    start_unix_ms: i64,
    started: Instant,
    /// Milliseconds added by [`SimClock::advance_to`]; only ever grows.
    ahead_ms: Arc<AtomicI64>,
}

impl SimClock {
    /// A clock that reads `start_unix_ms` right now (clamped into `0..=MAX_UNIX_MS`).
    pub(crate) fn starting_at(start_unix_ms: i64) -> Self {
        Self {
            start_unix_ms: start_unix_ms.clamp(0, MAX_UNIX_MS),
            started: Instant::now(),
            ahead_ms: Arc::new(AtomicI64::new(0)),
        }
    }

    /// The current sim time, Unix milliseconds.
    pub(crate) fn now_ms(&self) -> i64 {
        let elapsed = i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.start_unix_ms
            .saturating_add(elapsed)
            .saturating_add(self.ahead_ms.load(Ordering::Relaxed))
            .min(MAX_UNIX_MS)
    }

    /// Moves the clock forward so that it reads at least `unix_ms` (never backwards); returns
    /// the time it reads then.
    pub(crate) fn advance_to(&self, unix_ms: i64) -> i64 {
        let behind = unix_ms.min(MAX_UNIX_MS).saturating_sub(self.now_ms());
        if behind > 0 {
            self.ahead_ms.fetch_add(behind, Ordering::Relaxed);
        }
        self.now_ms()
    }
}

/// The system clock in Unix milliseconds (0 if the system clock is before 1970).
pub(crate) fn system_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_millis()).unwrap_or(MAX_UNIX_MS))
        .unwrap_or(0)
}

/// Converts Unix milliseconds (clamped at 0) to a [`SystemTime`].
pub(crate) fn system_time_from_ms(unix_ms: i64) -> SystemTime {
    let millis = u64::try_from(unix_ms).unwrap_or(0);
    UNIX_EPOCH + std::time::Duration::from_millis(millis)
}

#[cfg(test)]
mod tests {
    use super::{MAX_UNIX_MS, SimClock};

    #[test]
    fn reads_the_start_time_and_clamps_it() {
        let clock = SimClock::starting_at(1_700_000_000_000);
        let now = clock.now_ms();
        assert!((1_700_000_000_000..1_700_000_060_000).contains(&now));
        assert_eq!(SimClock::starting_at(-5).now_ms().min(1), 0);
        assert!(SimClock::starting_at(i64::MAX).now_ms() <= MAX_UNIX_MS);
    }

    #[test]
    fn moves_forward_only() {
        let clock = SimClock::starting_at(1_700_000_000_000);
        let handler_copy = clock.clone();
        let later = handler_copy.advance_to(1_800_000_000_000);
        assert!(later >= 1_800_000_000_000);
        assert!(clock.now_ms() >= later, "copies share how far it moved");
        assert!(
            clock.advance_to(1_700_000_000_000) >= later,
            "never backwards"
        );
    }
}
