//! Client-side pacing, so that a client never trips Clerk's rate limit.
//!
//! Clerk limits Backend API requests per instance (production keys: 1000 requests per 10 s,
//! development keys: 100 per 10 s) and, once the limit is hit, answers 429 to *every* caller of
//! that endpoint until the window passes. So the client spaces its requests evenly, one slot
//! every `window / requests` plus a small safety margin, which keeps any window of that length
//! under the limit however Clerk counts (fixed window, sliding window or token bucket), and a
//! 429 pauses every caller of the client, not just the one that saw it.
//!
//! The pacer is written here rather than taken from a general rate-limiting crate because it
//! needs two things those do not offer together: a shared "pause everyone until T" that a 429
//! sets, and tokio's clock, so that tests can drive it with paused time.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::secret_key::{KeyKind, SecretKey};

/// A request budget: at most `requests` per `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    requests: NonZeroU32,
    window: Duration,
}

impl RateLimit {
    /// Clerk's documented limit for production instances (`sk_live_` keys).
    pub const PRODUCTION: RateLimit = RateLimit {
        requests: non_zero(1000),
        window: Duration::from_secs(10),
    };

    /// Clerk's documented limit for development instances (`sk_test_` keys).
    pub const DEVELOPMENT: RateLimit = RateLimit {
        requests: non_zero(100),
        window: Duration::from_secs(10),
    };

    /// A custom budget (for an instance with a raised limit, or a test). `None` when
    /// `requests` is zero or `window` is zero.
    pub fn new(requests: u32, window: Duration) -> Option<Self> {
        let requests = NonZeroU32::new(requests)?;
        (!window.is_zero()).then_some(Self { requests, window })
    }

    /// The documented limit for the instance the key belongs to; an unrecognised key gets the
    /// lower, development limit.
    pub fn for_key(key: &SecretKey) -> Self {
        match key.kind() {
            KeyKind::Live => Self::PRODUCTION,
            _ => Self::DEVELOPMENT,
        }
    }

    /// Requests allowed per window.
    pub fn requests(&self) -> u32 {
        self.requests.get()
    }

    /// The window length.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The spacing between two requests, with a 2% margin for latency jitter between the
    /// client's clock and Clerk's.
    pub fn interval(&self) -> Duration {
        self.window.mul_f64(1.02) / self.requests.get()
    }

    /// `share` (between 0 and 1) of this limit, at least one request per window.
    #[must_use]
    pub fn share(&self, share: f64) -> Self {
        let share = if share.is_finite() {
            share.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let scaled = (f64::from(self.requests.get()) * share).floor();
        // In 0..=u32::MAX by the clamp.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let requests = scaled as u32;
        Self {
            requests: NonZeroU32::new(requests).unwrap_or(NonZeroU32::MIN),
            window: self.window,
        }
    }
}

const fn non_zero(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    }
}

/// Hands out evenly spaced send slots and holds every caller during a 429 pause.
#[derive(Debug)]
pub(crate) struct Pacer {
    interval: Option<Duration>,
    state: Mutex<PacerState>,
}

#[derive(Debug)]
struct PacerState {
    next_slot: Option<Instant>,
    paused_until: Option<Instant>,
}

impl Pacer {
    /// A pacer for `limit`; `None` paces nothing (429 pauses still apply).
    pub(crate) fn new(limit: Option<RateLimit>) -> Self {
        Self {
            interval: limit.map(|l| l.interval()),
            state: Mutex::new(PacerState {
                next_slot: None,
                paused_until: None,
            }),
        }
    }

    /// Waits for this caller's send slot.
    pub(crate) async fn acquire(&self) {
        loop {
            let slot = {
                let mut state = self.lock();
                let now = Instant::now();
                let mut slot = state.next_slot.map_or(now, |next| next.max(now));
                if let Some(paused) = state.paused_until {
                    slot = slot.max(paused);
                }
                state.next_slot = self.interval.map(|interval| slot + interval);
                slot
            };
            tokio::time::sleep_until(slot).await;
            // A 429 seen by another caller while this one slept moves everyone back.
            let paused = self.lock().paused_until;
            if paused.is_none_or(|until| until <= Instant::now()) {
                return;
            }
        }
    }

    /// Waits while a pause holds (without taking a slot).
    pub(crate) async fn hold(&self) {
        loop {
            let paused = self.lock().paused_until;
            match paused {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => return,
            }
        }
    }

    /// Holds every caller until `until`.
    pub(crate) fn pause_until(&self, until: Instant) {
        let mut state = self.lock();
        state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
        state.next_slot = Some(state.next_slot.map_or(until, |n| n.max(until)));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PacerState> {
        // The state is two instants; a panic elsewhere cannot leave it inconsistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_limits_follow_the_key() {
        assert_eq!(
            RateLimit::for_key(&SecretKey::new("sk_live_x")),
            RateLimit::PRODUCTION
        );
        assert_eq!(
            RateLimit::for_key(&SecretKey::new("sk_test_x")),
            RateLimit::DEVELOPMENT
        );
        assert_eq!(RateLimit::new(0, Duration::from_secs(1)), None);
        assert_eq!(RateLimit::new(1, Duration::ZERO), None);
        assert_eq!(
            RateLimit::PRODUCTION.interval(),
            Duration::from_micros(10_200)
        );
        assert_eq!(RateLimit::PRODUCTION.share(0.25).requests(), 250);
        assert_eq!(RateLimit::DEVELOPMENT.share(0.001).requests(), 1);
        assert_eq!(RateLimit::DEVELOPMENT.share(f64::NAN).requests(), 1);
        assert_eq!(RateLimit::DEVELOPMENT.share(7.0).requests(), 100);
    }

    #[tokio::test(start_paused = true)]
    async fn slots_are_evenly_spaced() {
        let limit = RateLimit::new(10, Duration::from_secs(1)).unwrap();
        let pacer = Pacer::new(Some(limit));
        let start = Instant::now();
        for _ in 0..11 {
            pacer.acquire().await;
        }
        // Eleven slots: the first at once, then ten intervals.
        assert_eq!(start.elapsed(), limit.interval() * 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_caller() {
        let pacer = Pacer::new(None);
        let start = Instant::now();
        pacer.pause_until(start + Duration::from_secs(3));
        pacer.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(3));
        // Once the pause is over, an unpaced client sends at once.
        let after = Instant::now();
        pacer.acquire().await;
        assert_eq!(after.elapsed(), Duration::ZERO);
    }
}
