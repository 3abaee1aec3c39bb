//! Time arguments: RFC 3339 or a duration ago (`--created-before`, `--since`), and back.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A time in Unix ms as RFC 3339 to the second (`2026-05-12T08:30:00Z`).
pub(crate) fn rfc3339(unix_ms: i64) -> String {
    u64::try_from(unix_ms).map_or_else(
        |_| unix_ms.to_string(),
        |ms| humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms)).to_string(),
    )
}

/// A time argument (`--created-before`, `--since`): RFC 3339 (UTC `Z` or a `±HH:MM` offset)
/// or a duration ago, in Unix ms.
pub(crate) fn parse_instant(value: &str) -> Result<i64, String> {
    parse_instant_at(value, SystemTime::now())
}

/// [`parse_instant`] for the start of a window (`--since`): not in the future, where the
/// window would be empty and the command would quietly do nothing.
pub(crate) fn parse_past_instant(value: &str) -> Result<i64, String> {
    let now = SystemTime::now();
    let at = parse_instant_at(value, now)?;
    if at > unix_ms(now)? {
        return Err(format!(
            "{} is in the future: the window would hold nothing; give a time before the incident began",
            rfc3339(at)
        ));
    }
    Ok(at)
}

fn parse_instant_at(value: &str, now: SystemTime) -> Result<i64, String> {
    let value = value.trim();
    if let Ok(ago) = humantime::parse_duration(value) {
        let at = now
            .checked_sub(ago)
            .ok_or_else(|| format!("{value} ago is out of range"))?;
        return unix_ms(at);
    }
    rfc3339_ms(value).map_err(|_| {
        format!("{value:?} is neither an RFC 3339 time (2026-05-12T08:30:00Z) nor a duration (2h)")
    })
}

/// An end time (`bypass --until`): RFC 3339 only (UTC `Z` or a `±HH:MM` offset), since a
/// bare duration would be ambiguous there (`--ttl` takes one).
pub(crate) fn parse_until(value: &str) -> Result<SystemTime, String> {
    let ms = rfc3339_ms(value.trim()).map_err(|_| {
        format!("{value:?} is not an RFC 3339 time such as 2026-05-12T08:30:00Z (use --ttl for a duration)")
    })?;
    let ms = u64::try_from(ms).map_err(|_| "times before 1970 are not supported".to_owned())?;
    Ok(UNIX_EPOCH + Duration::from_millis(ms))
}

/// An RFC 3339 time in Unix ms.
fn rfc3339_ms(value: &str) -> Result<i64, String> {
    let (local, offset_secs) = split_offset(value);
    let local = humantime::parse_rfc3339_weak(local).map_err(|err| err.to_string())?;
    let utc = if offset_secs >= 0 {
        local.checked_sub(Duration::from_secs(offset_secs.unsigned_abs()))
    } else {
        local.checked_add(Duration::from_secs(offset_secs.unsigned_abs()))
    }
    .ok_or_else(|| format!("{value} is out of range"))?;
    unix_ms(utc)
}

/// Splits a trailing `±HH:MM` offset off an RFC 3339 time: the local part and the offset in
/// seconds (0 when there is none).
fn split_offset(value: &str) -> (&str, i64) {
    let Some(split) = value.len().checked_sub(6) else {
        return (value, 0);
    };
    let (Some(local), Some(offset)) = (value.get(..split), value.get(split..)) else {
        return (value, 0);
    };
    let bytes = offset.as_bytes();
    let sign = match bytes.first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return (value, 0),
    };
    let (Some(hours), Some(b':'), Some(minutes)) = (
        offset.get(1..3).and_then(|h| h.parse::<i64>().ok()),
        bytes.get(3),
        offset.get(4..6).and_then(|m| m.parse::<i64>().ok()),
    ) else {
        return (value, 0);
    };
    if !local.contains('T') && !local.contains(' ') {
        return (value, 0);
    }
    (local, sign * (hours * 3600 + minutes * 60))
}

/// Now, in Unix ms (0 if the system clock is before 1970).
pub(crate) fn now_ms() -> i64 {
    unix_ms(SystemTime::now()).unwrap_or_default()
}

fn unix_ms(at: SystemTime) -> Result<i64, String> {
    let since = at
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "times before 1970 are not supported".to_owned())?;
    i64::try_from(since.as_millis()).map_err(|_| "the time is out of range".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_parse_as_rfc3339_or_durations_ago() {
        let now = UNIX_EPOCH + Duration::from_secs(1_750_000_000);
        assert_eq!(
            parse_instant_at("2h", now),
            Ok(1_750_000_000_000 - 7_200_000)
        );
        assert_eq!(
            parse_instant_at("2025-06-15T15:06:40Z", now),
            Ok(1_750_000_000_000)
        );
        assert_eq!(
            parse_instant_at("2025-06-15T17:06:40+02:00", now),
            Ok(1_750_000_000_000)
        );
        assert_eq!(
            parse_instant_at("2025-06-15T10:06:40.5-05:00", now),
            Ok(1_750_000_000_500)
        );
        assert!(parse_instant_at("yesterday", now).is_err());
        assert!(parse_instant_at("2025-13-01T00:00:00Z", now).is_err());
    }
}
