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

/// The newest record an instance has seen, whether or not it is in force: the mark a record
/// must pass to be applied as newer. An empty store or a store that went back never lowers it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Mark {
    epoch: String,
    version: u64,
    set_at: Option<SystemTime>,
}

impl Mark {
    /// Raises the mark to `seen` when it is newer.
    pub(crate) fn raise(&mut self, seen: &DesiredMode) {
        if self.is_passed_by(seen) {
            *self = Self {
                epoch: seen.epoch.clone(),
                version: seen.version,
                set_at: Some(seen.set_at_ms),
            };
        }
    }

    /// True when `record` is newer than the mark: a later version of the same epoch, or one
    /// written later by the store's clock (a store that restarted, or was restored and written
    /// to since).
    fn is_passed_by(&self, record: &DesiredMode) -> bool {
        self.is_plainly_passed_by(record)
            || self.set_at.is_some_and(|set_at| record.set_at_ms > set_at)
    }

    /// True when `record` is in the same epoch with a later version: newer beyond doubt, even
    /// from a single message.
    fn is_plainly_passed_by(&self, record: &DesiredMode) -> bool {
        self.set_at.is_none() || (record.epoch == self.epoch && record.version > self.version)
    }
}

/// The verdict on `incoming` (`None`: the store holds no mode) for an instance that has
/// `current` in force (`None`: nothing, or an empty store) and has seen up to `mark`.
/// `confirmed` is true for a second read that agrees with the first.
pub(crate) fn verdict(
    mark: &Mark,
    current: Option<&DesiredMode>,
    incoming: Option<&DesiredMode>,
    confirmed: bool,
) -> Verdict {
    let Some(incoming) = incoming else {
        // An empty store means Enforce: never more open than before.
        return match (current, confirmed) {
            (None, _) => Verdict::Ignore,
            (Some(_), true) => Verdict::Apply,
            (Some(_), false) => Verdict::Read,
        };
    };
    if current == Some(incoming) {
        return Verdict::Ignore;
    }
    if mark.is_plainly_passed_by(incoming) {
        return Verdict::Apply;
    }
    match (confirmed, mark.is_passed_by(incoming)) {
        (false, _) => Verdict::Read,
        // A store that restarted and was written to since, or a write made after it went
        // back: later by the store's clock than anything seen.
        (true, true) => Verdict::Apply,
        // An older record: a restored snapshot, a lagging replica, a late message.
        (true, false) => Verdict::StricterOnly,
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

    fn written_at(mut desired: DesiredMode, secs: u64) -> DesiredMode {
        desired.set_at_ms = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs);
        desired
    }

    fn mark_of(records: &[&DesiredMode]) -> Mark {
        let mut mark = Mark::default();
        for record in records {
            mark.raise(record);
        }
        mark
    }

    #[test]
    fn versions_of_one_store_only_go_forward() {
        let v2 = written_at(record("a", 2, AuthMode::Open), 2);
        let v3 = written_at(record("a", 3, AuthMode::Enforce), 3);
        let mark = mark_of(&[&v2]);
        assert_eq!(verdict(&mark, Some(&v2), Some(&v3), false), Verdict::Apply);
        // A late v2 after v3: read the store; confirmed, it only ever enforces.
        let mark = mark_of(&[&v2, &v3]);
        assert_eq!(verdict(&mark, Some(&v3), Some(&v2), false), Verdict::Read);
        assert_eq!(
            verdict(&mark, Some(&v3), Some(&v2), true),
            Verdict::StricterOnly
        );
        assert_eq!(
            verdict(&mark, Some(&v3), Some(&v3.clone()), false),
            Verdict::Ignore
        );
    }

    #[test]
    fn a_store_that_restarted_is_believed_once_confirmed() {
        let old = written_at(record("a", 7, AuthMode::Enforce), 10);
        let fresh = written_at(record("b", 1, AuthMode::Open), 20);
        let mark = mark_of(&[&old]);
        assert_eq!(
            verdict(&mark, Some(&old), Some(&fresh), false),
            Verdict::Read
        );
        assert_eq!(
            verdict(&mark, Some(&old), Some(&fresh), true),
            Verdict::Apply
        );
        assert_eq!(verdict(&mark, Some(&old), None, false), Verdict::Read);
        assert_eq!(verdict(&mark, Some(&old), None, true), Verdict::Apply);
        assert_eq!(verdict(&mark, None, None, true), Verdict::Ignore);
    }

    #[test]
    fn an_older_record_never_passes_the_mark_even_after_an_empty_store() {
        let v5 = written_at(record("a", 5, AuthMode::Open), 5);
        let v6 = written_at(record("a", 6, AuthMode::Open), 6);
        let v7 = written_at(record("a", 7, AuthMode::Enforce), 7);
        let mark = mark_of(&[&v5, &v7]);
        // Restored to v5, then a lagging replica's v6: neither opens.
        assert_eq!(
            verdict(&mark, Some(&v7), Some(&v5), true),
            Verdict::StricterOnly
        );
        assert_eq!(verdict(&mark, Some(&v7), Some(&v6), false), Verdict::Read);
        assert_eq!(
            verdict(&mark, Some(&v7), Some(&v6), true),
            Verdict::StricterOnly
        );
        // Written after the mark by the store's clock (restored, then written to): newer.
        let rewritten = written_at(record("a", 6, AuthMode::Open), 9);
        assert_eq!(
            verdict(&mark, Some(&v7), Some(&rewritten), true),
            Verdict::Apply
        );
        // The store came up empty (Enforce, nothing in force), then an old backup: not newer.
        assert_eq!(verdict(&mark, None, Some(&v6), true), Verdict::StricterOnly);
        // Another epoch written before the mark: a snapshot of an older life of the store.
        let older_life = written_at(record("z", 9, AuthMode::Open), 1);
        assert_eq!(
            verdict(&mark, Some(&v7), Some(&older_life), true),
            Verdict::StricterOnly
        );
    }

    #[test]
    fn the_same_version_with_other_content_is_a_write_after_a_restore() {
        let before = written_at(record("a", 6, AuthMode::Enforce), 6);
        let after = written_at(record("a", 6, AuthMode::Open), 8);
        let mark = mark_of(&[&before]);
        assert_eq!(
            verdict(&mark, Some(&before), Some(&after), false),
            Verdict::Read
        );
        assert_eq!(
            verdict(&mark, Some(&before), Some(&after), true),
            Verdict::Apply
        );
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
