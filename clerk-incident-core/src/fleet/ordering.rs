//! Which fleet record an instance takes: the rules that keep a late message, a restarted
//! store, a restored snapshot or a lagging replica from opening an instance.
//!
//! A record is identified by the store's epoch (a random id the store draws when its version
//! counter starts, so again after it restarted empty) and its version (bumped by each write).

use std::time::{Duration, SystemTime};

use super::store::DesiredMode;
use crate::auth::{AuthMode, MAX_BYPASS_TTL};

/// How far a record's end may pass 24 hours from its writing, or from now, before an instance
/// refuses it: the clocks of the store and the instances may differ by this much.
pub(crate) const CLOCK_TOLERANCE: Duration = Duration::from_secs(60);

/// What an instance does with a record it received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Put it in force.
    Apply,
    /// Take it only if it enforces; never start or lengthen a bypass with it (the store went
    /// back: a restored snapshot or a lagging replica).
    StricterOnly,
    /// Nothing to do: it is the record in force.
    Ignore,
    /// Not decidable from this message: read the store (twice, to tell a write in flight from
    /// a store that went back).
    Read,
}

/// The verdict on `incoming` (`None`: the store holds no mode) for an instance that applied
/// `current` (`None`: nothing, or an empty store). `confirmed` is true for a second read that
/// agrees with the first.
pub(crate) fn verdict(
    current: Option<&DesiredMode>,
    incoming: Option<&DesiredMode>,
    confirmed: bool,
) -> Verdict {
    match (current, incoming) {
        (None, None) => Verdict::Ignore,
        // An empty store means Enforce: never more open than before.
        (Some(_), None) if confirmed => Verdict::Apply,
        (Some(_), None) => Verdict::Read,
        (None, Some(_)) => Verdict::Apply,
        (Some(current), Some(incoming)) if current == incoming => Verdict::Ignore,
        (Some(current), Some(incoming))
            if current.epoch == incoming.epoch && incoming.version > current.version =>
        {
            Verdict::Apply
        }
        _ if !confirmed => Verdict::Read,
        // A store that restarted and was written to since: its writes are the newest.
        (Some(current), Some(incoming)) if current.epoch != incoming.epoch => Verdict::Apply,
        // The same number for another record: a write made after the store went back.
        (Some(current), Some(incoming)) if current.version == incoming.version => Verdict::Apply,
        // An older version of the same store: it went back in time.
        _ => Verdict::StricterOnly,
    }
}

/// Why an instance refuses a record whatever its order: a bypass without an end, or one that
/// ends more than 24 hours after it was written or after `now` (a writer that skipped the
/// checks, or a clock far off). The instance then enforces.
pub(crate) fn refusal(desired: &DesiredMode, now: SystemTime) -> Option<&'static str> {
    if !desired.mode.is_bypass() {
        return None;
    }
    let Some(until) = desired.until_ms else {
        return Some("a bypass without an end");
    };
    let ceiling = MAX_BYPASS_TTL + CLOCK_TOLERANCE;
    let too_far = |from: SystemTime| {
        until
            .duration_since(from)
            .is_ok_and(|ahead| ahead > ceiling)
    };
    if too_far(desired.set_at_ms) || too_far(now) {
        return Some("a bypass that ends more than 24 hours ahead");
    }
    if let AuthMode::Grace { max_token_age } = desired.mode
        && max_token_age > crate::auth::MAX_GRACE_MAX_AGE
    {
        return Some("a grace window above 24 hours");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::ModeRequest;

    fn record(epoch: &str, version: u64, mode: AuthMode) -> DesiredMode {
        let until = mode
            .is_bypass()
            .then(|| SystemTime::now() + Duration::from_secs(600));
        let mut desired = ModeRequest::new(mode, until, "test", "t")
            .unwrap()
            .into_desired(version, AuthMode::Enforce);
        desired.epoch = epoch.to_owned();
        desired
    }

    #[test]
    fn versions_of_one_store_only_go_forward() {
        let v2 = record("a", 2, AuthMode::Open);
        let v3 = record("a", 3, AuthMode::Enforce);
        assert_eq!(verdict(Some(&v2), Some(&v3), false), Verdict::Apply);
        // A late v2 after v3: read the store; confirmed, it only ever enforces.
        assert_eq!(verdict(Some(&v3), Some(&v2), false), Verdict::Read);
        assert_eq!(verdict(Some(&v3), Some(&v2), true), Verdict::StricterOnly);
        assert_eq!(
            verdict(Some(&v3), Some(&v3.clone()), false),
            Verdict::Ignore
        );
    }

    #[test]
    fn a_store_that_restarted_is_believed_once_confirmed() {
        let old = record("a", 7, AuthMode::Enforce);
        let fresh = record("b", 1, AuthMode::Open);
        assert_eq!(verdict(Some(&old), Some(&fresh), false), Verdict::Read);
        assert_eq!(verdict(Some(&old), Some(&fresh), true), Verdict::Apply);
        assert_eq!(verdict(Some(&old), None, false), Verdict::Read);
        assert_eq!(verdict(Some(&old), None, true), Verdict::Apply);
        assert_eq!(verdict(None, None, true), Verdict::Ignore);
    }

    #[test]
    fn the_same_version_with_other_content_is_a_write_after_a_restore() {
        let before = record("a", 6, AuthMode::Enforce);
        let after = record("a", 6, AuthMode::Open);
        assert_eq!(verdict(Some(&before), Some(&after), false), Verdict::Read);
        assert_eq!(verdict(Some(&before), Some(&after), true), Verdict::Apply);
    }

    #[test]
    fn records_past_the_ceiling_are_refused() {
        let now = SystemTime::now();
        let mut far = record("a", 1, AuthMode::Open);
        far.until_ms = Some(now + Duration::from_secs(30 * 3600));
        assert!(refusal(&far, now).is_some());
        // Written long ago with an end within 24 h of now but not of its writing.
        let mut old = record("a", 1, AuthMode::Open);
        old.set_at_ms = now - Duration::from_secs(10 * 3600);
        old.until_ms = Some(now + Duration::from_secs(20 * 3600));
        assert!(refusal(&old, now).is_some());
        let mut endless = record("a", 1, AuthMode::Open);
        endless.until_ms = None;
        assert!(refusal(&endless, now).is_some());
        assert_eq!(refusal(&record("a", 1, AuthMode::Open), now), None);
        assert_eq!(refusal(&record("a", 1, AuthMode::Enforce), now), None);
    }
}
