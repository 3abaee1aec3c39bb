//! Entry times: RFC 3339 in UTC with milliseconds (`2026-11-26T18:04:05.123Z`).
//!
//! `humantime` formats and parses; the wrappers here refuse the times it cannot print (before
//! 1970, after 9999) instead of letting its `Display` panic.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serializer, de, ser};

/// The first second `humantime` cannot print (year 10000).
const END_OF_YEAR_9999: u64 = 253_402_300_800;

/// `time` cut to whole milliseconds, the precision of the log, so that an entry reads back
/// equal to the one written.
pub(crate) fn to_millis(time: SystemTime) -> SystemTime {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => {
            let nanos = since.subsec_nanos() % 1_000_000;
            time.checked_sub(Duration::from_nanos(u64::from(nanos)))
                .unwrap_or(time)
        }
        Err(_) => time,
    }
}

fn printable(time: SystemTime) -> bool {
    time.duration_since(UNIX_EPOCH)
        .is_ok_and(|since| since.as_secs() < END_OF_YEAR_9999)
}

/// `2026-11-26T18:04:05.123Z`, or `None` outside 1970–9999.
pub(crate) fn format_millis(time: SystemTime) -> Option<String> {
    printable(time).then(|| humantime::format_rfc3339_millis(time).to_string())
}

/// `2026-11-26T18:04:05Z`, or `None` outside 1970–9999.
pub(crate) fn format_seconds(time: SystemTime) -> Option<String> {
    printable(time).then(|| humantime::format_rfc3339_seconds(time).to_string())
}

/// Serde `with` module for [`SystemTime`] fields.
pub(crate) mod rfc3339_millis {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        time: &SystemTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match format_millis(*time) {
            Some(text) => serializer.serialize_str(&text),
            None => Err(ser::Error::custom(
                "the entry time is outside the years 1970 to 9999",
            )),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<SystemTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_rfc3339(&text).map_err(|err| {
            de::Error::custom(format_args!(
                "`at` is not an RFC 3339 UTC time such as 2026-11-26T18:04:05.123Z ({err})"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_with_millis_and_round_trip() {
        let time = UNIX_EPOCH + Duration::from_nanos(1_795_716_245_123_456_789);
        let cut = to_millis(time);
        assert_eq!(cut, UNIX_EPOCH + Duration::from_millis(1_795_716_245_123));
        let text = format_millis(cut).unwrap();
        assert_eq!(text, "2026-11-26T18:04:05.123Z");
        assert_eq!(humantime::parse_rfc3339(&text).unwrap(), cut);
        assert_eq!(format_seconds(cut).unwrap(), "2026-11-26T18:04:05Z");
    }

    #[test]
    fn unprintable_times_are_refused_not_panicked_on() {
        assert_eq!(format_millis(UNIX_EPOCH - Duration::from_secs(1)), None);
        assert_eq!(
            format_millis(UNIX_EPOCH + Duration::from_secs(END_OF_YEAR_9999)),
            None
        );
    }
}
