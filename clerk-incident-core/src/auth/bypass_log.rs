//! [`BypassLog`]: the `Open` mode's warning for each bypassed request, rate-limited so that an
//! outage's flood of traffic does not become a flood of log lines.
//!
//! The first [`PER_SECOND`] bypassed requests of each second are logged one by one, with the
//! method, the path and the user (when the token still verified); the rest of that second are
//! counted, and the first bypassed request of a later second logs one summary line with that
//! count before its own (so the last second's count waits for the next bypassed request). The
//! exact total is always in the health counters (`bypassed`).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::credentials::Credentials;

/// Bypassed requests logged one by one in each second.
pub(crate) const PER_SECOND: u32 = 5;

/// The longest part of a path a log line repeats.
const PATH_CHARS: usize = 200;

/// The rate limiter behind the `Open` mode's per-request warning.
#[derive(Debug, Default)]
pub(crate) struct BypassLog {
    /// The second (Unix time) the counts below belong to.
    second: AtomicU64,
    /// Requests logged one by one in that second.
    logged: AtomicU32,
    /// Requests counted but not logged in that second.
    suppressed: AtomicU64,
}

/// What [`BypassLog::admit`] decided for one request.
#[derive(Debug, PartialEq, Eq)]
struct Admission {
    /// Requests of an earlier second that went unlogged, to report first.
    unlogged: Option<u64>,
    /// Whether this request gets its own line.
    log_this: bool,
}

impl BypassLog {
    /// Logs (or counts) one bypassed request.
    pub(crate) fn record(&self, credentials: &Credentials<'_>, user: Option<&str>) {
        let second = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let admission = self.admit(second);
        if let Some(unlogged) = admission.unlogged {
            tracing::warn!(
                unlogged,
                "emergency auth bypass: {unlogged} more request(s) allowed in Open mode without a \
                 valid token were not logged one by one (at most {PER_SECOND} a second); the \
                 health counters hold the exact total"
            );
        }
        if admission.log_this {
            let path: String = credentials.path().chars().take(PATH_CHARS).collect();
            tracing::warn!(
                method = credentials.method(),
                path = %path,
                user = user.unwrap_or("-"),
                "emergency auth bypass: request allowed in Open mode without a valid token"
            );
        }
    }

    /// Counts one request in `second` (Unix time).
    fn admit(&self, second: u64) -> Admission {
        let current = self.second.load(Ordering::Relaxed);
        let mut unlogged = None;
        // One caller wins the roll-over to a later second and reports the old one's count;
        // a caller whose clock reads an earlier second never moves it back.
        if second > current
            && self
                .second
                .compare_exchange(current, second, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.logged.store(0, Ordering::Relaxed);
            unlogged = Some(self.suppressed.swap(0, Ordering::Relaxed)).filter(|n| *n > 0);
        }
        let log_this = self.logged.fetch_add(1, Ordering::Relaxed) < PER_SECOND;
        if !log_this {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
        }
        Admission { unlogged, log_this }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_logged_a_few_lines_a_second_then_summarised() {
        let log = BypassLog::default();
        let first: Vec<Admission> = (0..50).map(|_| log.admit(100)).collect();
        let logged = first.iter().filter(|a| a.log_this).count();
        assert_eq!(logged, PER_SECOND as usize);
        assert!(first.iter().all(|a| a.unlogged.is_none()));
        // The next second reports the 45 unlogged ones once, and logs afresh.
        assert_eq!(
            log.admit(101),
            Admission {
                unlogged: Some(45),
                log_this: true
            }
        );
        assert_eq!(log.admit(101).unlogged, None);
        // A quiet second after a calm one reports nothing.
        assert_eq!(log.admit(102).unlogged, None);
        // A late caller still in an earlier second does not roll the window back.
        for _ in 0..10 {
            log.admit(101);
        }
        assert_eq!(log.second.load(Ordering::Relaxed), 102);
        // The real clock works too.
        log.record(&Credentials::default().request("GET", "/api/me"), None);
    }
}
