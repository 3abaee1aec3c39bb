//! Reading a bypass from the environment at start-up, for
//! [`BypassSwitch::from_env`](super::BypassSwitch::from_env).
//!
//! Anything not understood is an error, never a guess: a typo in the bypass variable must not
//! open the service, nor silently leave it closed when the operator meant to open it.
//!
//! A restart must never extend a bypass: a crash loop, a redeploy or an autoscaled replica
//! reads the same variables again. So the end of a bypass set from the environment is an
//! absolute time (`CLERK_EMERGENCY_BYPASS_UNTIL`); a relative TTL, which every process would
//! count anew from its own start, is refused with the `_UNTIL` value to use instead, and so is
//! a bypass with no end at all. An end time already past starts the service in `Enforce`.

use std::time::{Duration, SystemTime};

use super::super::env_value::{shown, value};
use super::{
    AuthMode, DEFAULT_BYPASS_TTL, DEFAULT_GRACE_MAX_AGE, MAX_BYPASS_TTL, MAX_GRACE_MAX_AGE, Rfc3339,
};

/// The variable that switches a bypass on at start-up: `true` or `open`, `grace`, or `false`,
/// `0`, `off`, `enforce`, empty or unset for none.
pub const ENV_BYPASS: &str = "CLERK_EMERGENCY_BYPASS";

/// Refused from the environment (a restart would count it anew): the error names the
/// [`ENV_BYPASS_UNTIL`] value to set instead.
pub const ENV_BYPASS_TTL: &str = "CLERK_EMERGENCY_BYPASS_TTL";

/// When the start-up bypass ends, as an RFC 3339 time such as `2026-11-26T20:00:00Z`; required
/// with [`ENV_BYPASS`], at most 24 hours ahead.
pub const ENV_BYPASS_UNTIL: &str = "CLERK_EMERGENCY_BYPASS_UNTIL";

/// In grace mode, how long past `exp` a token is accepted, as a duration (default `30m`, at
/// most `24h`).
pub const ENV_BYPASS_GRACE_MAX_AGE: &str = "CLERK_EMERGENCY_BYPASS_GRACE_MAX_AGE";

/// Why the bypass environment variables were rejected.
///
/// Each message names the variable, repeats its value (cut to 64 characters) and says what is
/// accepted; no other variable's value appears.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BypassConfigError {
    /// The bypass variable holds a value that is not a mode.
    #[error(
        "{variable}={value:?} is not a bypass mode; use true or open (emergency bypass), grace \
         (accept recently expired tokens), or false, 0, off, enforce or nothing (no bypass)"
    )]
    InvalidMode {
        /// The variable ([`ENV_BYPASS`]).
        variable: &'static str,
        /// Its value.
        value: String,
    },
    /// A duration variable does not hold a positive duration.
    #[error("{variable}={value:?} is not a usable duration ({detail}); use e.g. 45m, 2h or 1h30m")]
    InvalidDuration {
        /// The variable ([`ENV_BYPASS_TTL`] or [`ENV_BYPASS_GRACE_MAX_AGE`]).
        variable: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The end-time variable does not hold an RFC 3339 time.
    #[error(
        "{variable}={value:?} is not an RFC 3339 time ({detail}); use e.g. \
         2026-11-26T20:00:00Z or 2026-11-26T21:00:00+01:00"
    )]
    InvalidTime {
        /// The variable ([`ENV_BYPASS_UNTIL`]).
        variable: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A relative TTL from the environment: every restart would count it anew.
    #[error(
        "CLERK_EMERGENCY_BYPASS_TTL={value:?} is not accepted from the environment: every \
         restart, crash or new replica would count it anew and extend the bypass. Set an absolute \
         end instead: CLERK_EMERGENCY_BYPASS_UNTIL={until} (that TTL from now)"
    )]
    TtlNotAccepted {
        /// The TTL's value.
        value: String,
        /// The `_UNTIL` value the TTL means now, RFC 3339.
        until: String,
    },
    /// A bypass with no end time.
    #[error(
        "CLERK_EMERGENCY_BYPASS={mode} needs an absolute end, so that a restart cannot extend \
         it: set CLERK_EMERGENCY_BYPASS_UNTIL, for example CLERK_EMERGENCY_BYPASS_UNTIL={until} \
         (one hour from now, at most 24 hours ahead)"
    )]
    MissingUntil {
        /// The mode asked for.
        mode: &'static str,
        /// A suggested end, one hour from now, RFC 3339.
        until: String,
    },
    /// The end time is further ahead than a bypass may last.
    #[error(
        "CLERK_EMERGENCY_BYPASS_UNTIL={value:?} is more than 24 hours ahead; a bypass lasts at \
         most 24 hours: give a time no later than {latest}"
    )]
    UntilTooFar {
        /// Its value.
        value: String,
        /// The latest accepted end, RFC 3339.
        latest: String,
    },
    /// The grace window is longer than its ceiling.
    #[error(
        "CLERK_EMERGENCY_BYPASS_GRACE_MAX_AGE={value:?} is longer than the grace window's \
         ceiling of 24h: a token expired for longer than a day is never accepted"
    )]
    GraceTooLong {
        /// Its value.
        value: String,
    },
}

impl BypassConfigError {
    /// The variable at fault.
    pub fn variable(&self) -> &'static str {
        match self {
            BypassConfigError::InvalidMode { variable, .. }
            | BypassConfigError::InvalidDuration { variable, .. }
            | BypassConfigError::InvalidTime { variable, .. } => variable,
            BypassConfigError::TtlNotAccepted { .. } => ENV_BYPASS_TTL,
            BypassConfigError::MissingUntil { .. } | BypassConfigError::UntilTooFar { .. } => {
                ENV_BYPASS_UNTIL
            }
            BypassConfigError::GraceTooLong { .. } => ENV_BYPASS_GRACE_MAX_AGE,
        }
    }
}

/// A bypass the environment asks for.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Request {
    pub(super) mode: AuthMode,
    /// When it ends (absolute).
    pub(super) until: SystemTime,
    /// How long from `now` that is.
    pub(super) ttl: Duration,
    pub(super) reason: String,
}

/// Reads the bypass variables through `get`; `None` when no bypass is asked for, or its end
/// has passed (logged). `now` is the wall-clock time an end time is measured from.
pub(super) fn read(
    get: &impl Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Result<Option<Request>, BypassConfigError> {
    let Some(raw) = value(get, ENV_BYPASS) else {
        return Ok(None);
    };
    let word = raw.to_ascii_lowercase();
    let mode = match word.as_str() {
        "false" | "0" | "off" | "enforce" => return Ok(None),
        "true" | "open" => AuthMode::Open,
        "grace" => AuthMode::Grace {
            max_token_age: match value(get, ENV_BYPASS_GRACE_MAX_AGE) {
                Some(text) => {
                    let age = duration(ENV_BYPASS_GRACE_MAX_AGE, &text)?;
                    if age > MAX_GRACE_MAX_AGE {
                        return Err(BypassConfigError::GraceTooLong {
                            value: shown(&text),
                        });
                    }
                    age
                }
                None => DEFAULT_GRACE_MAX_AGE,
            },
        },
        _ => {
            return Err(BypassConfigError::InvalidMode {
                variable: ENV_BYPASS,
                value: shown(&raw),
            });
        }
    };
    // Whole seconds, rounded up: the suggestion is meant to be pasted.
    let later = |by: Duration| {
        let at = now
            .checked_add(by + Duration::from_millis(999))
            .unwrap_or(now);
        humantime::format_rfc3339_seconds(at).to_string()
    };
    if let Some(text) = value(get, ENV_BYPASS_TTL) {
        let ttl = duration(ENV_BYPASS_TTL, &text)?;
        return Err(BypassConfigError::TtlNotAccepted {
            value: shown(&text),
            until: later(ttl.min(MAX_BYPASS_TTL)),
        });
    }
    let Some(text) = value(get, ENV_BYPASS_UNTIL) else {
        return Err(BypassConfigError::MissingUntil {
            mode: mode.name(),
            until: later(DEFAULT_BYPASS_TTL),
        });
    };
    let until = parse_rfc3339(&text).map_err(|detail| BypassConfigError::InvalidTime {
        variable: ENV_BYPASS_UNTIL,
        value: shown(&text),
        detail,
    })?;
    let Some(ttl) = until.duration_since(now).ok().filter(|ttl| !ttl.is_zero()) else {
        tracing::warn!(
            "{ENV_BYPASS}={word} ended at {ENV_BYPASS_UNTIL}={}: starting in enforce mode",
            shown(&text)
        );
        return Ok(None);
    };
    if ttl > MAX_BYPASS_TTL {
        return Err(BypassConfigError::UntilTooFar {
            value: shown(&text),
            latest: later(MAX_BYPASS_TTL),
        });
    }
    Ok(Some(Request {
        mode,
        until,
        ttl,
        reason: format!("{ENV_BYPASS}={word} until {}", Rfc3339(until)),
    }))
}

fn duration(variable: &'static str, text: &str) -> Result<Duration, BypassConfigError> {
    let invalid = |detail: String| BypassConfigError::InvalidDuration {
        variable,
        value: shown(text),
        detail,
    };
    match humantime::parse_duration(text) {
        Ok(duration) if duration.is_zero() => Err(invalid("it must be more than zero".into())),
        Ok(duration) => Ok(duration),
        Err(err) => Err(invalid(err.to_string())),
    }
}

/// Parses an RFC 3339 time: `Z` or a numeric offset, any fraction of a second.
fn parse_rfc3339(text: &str) -> Result<SystemTime, String> {
    // RFC 3339 allows a lower-case `t` and `z`.
    let text = text.to_ascii_uppercase();
    let Some((local, sign, offset)) = split_offset(&text) else {
        return humantime::parse_rfc3339(&text).map_err(|err| err.to_string());
    };
    let local = humantime::parse_rfc3339(&format!("{local}Z")).map_err(|err| err.to_string())?;
    let utc = if sign == b'-' {
        local.checked_add(offset)
    } else {
        local.checked_sub(offset)
    };
    utc.ok_or_else(|| "time out of range".to_owned())
}

/// Splits `…±HH:MM` into the local time, the sign and the offset.
fn split_offset(text: &str) -> Option<(&str, u8, Duration)> {
    let split = text.len().checked_sub(6)?;
    let local = text.get(..split)?;
    let &[sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] = text.get(split..)?.as_bytes() else {
        return None;
    };
    let digits = [h1, h2, m1, m2];
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let [h1, h2, m1, m2] = digits.map(|d| u64::from(d - b'0'));
    let (hours, minutes) = (h1 * 10 + h2, m1 * 10 + m2);
    // Out-of-range offsets are left to the parser, which rejects the whole string.
    (hours <= 23 && minutes <= 59).then(|| {
        (
            local,
            sign,
            Duration::from_secs(hours * 3600 + minutes * 60),
        )
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::{BypassSwitch, ModeState};
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        move |name| map.get(name).map(|value| (*value).to_owned())
    }

    fn switch(pairs: &[(&str, &str)]) -> Result<BypassSwitch, BypassConfigError> {
        BypassSwitch::from_vars(vars(pairs))
    }

    fn in_an_hour() -> String {
        humantime::format_rfc3339_seconds(SystemTime::now() + 60 * MINUTE).to_string()
    }

    /// The state for `pairs` plus an `_UNTIL` an hour ahead.
    fn state(pairs: &[(&str, &str)]) -> ModeState {
        let until = in_an_hour();
        let mut all = pairs.to_vec();
        all.push((ENV_BYPASS_UNTIL, &until));
        switch(&all).unwrap().current()
    }

    #[test]
    fn modes() {
        for value in ["true", "TRUE", " open ", "Open"] {
            let state = state(&[(ENV_BYPASS, value)]);
            assert_eq!(state.mode, AuthMode::Open, "{value}");
            assert!(state.reason.contains("CLERK_EMERGENCY_BYPASS="));
        }
        assert_eq!(
            state(&[(ENV_BYPASS, "grace")]).mode,
            AuthMode::Grace {
                max_token_age: DEFAULT_GRACE_MAX_AGE
            }
        );
        for value in ["false", "0", "off", "OFF", "enforce", "", "  "] {
            let switch = switch(&[(ENV_BYPASS, value)]).unwrap();
            assert_eq!(switch.mode(), AuthMode::Enforce, "{value:?}");
            assert!(switch.history().is_empty());
        }
        assert_eq!(switch(&[]).unwrap().mode(), AuthMode::Enforce);
    }

    #[test]
    fn anything_else_fails_closed() {
        for value in ["1", "yes", "on", "ture", "open please"] {
            let err = switch(&[(ENV_BYPASS, value)]).unwrap_err();
            assert!(
                matches!(&err, BypassConfigError::InvalidMode { value: v, .. } if v == value),
                "{err:?}"
            );
            let message = err.to_string();
            assert!(
                message.starts_with(&format!("CLERK_EMERGENCY_BYPASS={value:?} ")),
                "{message}"
            );
            assert!(message.contains("true or open"), "{message}");
        }
    }

    #[test]
    fn errors_never_show_other_variables() {
        let err = switch(&[
            (ENV_BYPASS, "grace"),
            (ENV_BYPASS_GRACE_MAX_AGE, "soon"),
            ("CLERK_SECRET_KEY", "sk_live_secret"),
        ])
        .unwrap_err();
        assert_eq!(err.variable(), ENV_BYPASS_GRACE_MAX_AGE);
        let message = err.to_string();
        assert!(!message.contains("sk_live_secret"), "{message}");
        assert!(message.contains("CLERK_EMERGENCY_BYPASS_GRACE_MAX_AGE=\"soon\""));

        let long = "x".repeat(1000);
        let err = switch(&[(ENV_BYPASS, &long)]).unwrap_err();
        assert!(err.to_string().len() < 300, "{err}");
    }

    #[test]
    fn a_ttl_is_refused_with_the_until_to_use() {
        let before = SystemTime::now();
        let err = switch(&[(ENV_BYPASS, "open"), (ENV_BYPASS_TTL, "5m")]).unwrap_err();
        let BypassConfigError::TtlNotAccepted { until, .. } = &err else {
            panic!("expected TtlNotAccepted, got {err:?}");
        };
        // The suggestion is the TTL from now, and works as it is.
        let at = parse_rfc3339(until).unwrap();
        // Whole seconds, rounded up.
        let rounding = Duration::from_secs(1);
        assert!(
            at + rounding >= before + 5 * MINUTE && at <= SystemTime::now() + 5 * MINUTE + rounding,
            "{until}"
        );
        assert!(
            err.to_string()
                .contains(&format!("CLERK_EMERGENCY_BYPASS_UNTIL={until}")),
            "{err}"
        );
        assert_eq!(err.variable(), ENV_BYPASS_TTL);
        let suggested = switch(&[(ENV_BYPASS, "open"), (ENV_BYPASS_UNTIL, until)]).unwrap();
        assert_eq!(suggested.mode(), AuthMode::Open);
        // With an _UNTIL beside it, the TTL is still refused.
        assert!(matches!(
            switch(&[
                (ENV_BYPASS, "open"),
                (ENV_BYPASS_TTL, "5m"),
                (ENV_BYPASS_UNTIL, until)
            ]),
            Err(BypassConfigError::TtlNotAccepted { .. })
        ));
    }

    #[test]
    fn a_bypass_without_an_end_is_refused() {
        for mode in ["open", "grace"] {
            let err = switch(&[(ENV_BYPASS, mode)]).unwrap_err();
            assert!(
                matches!(err, BypassConfigError::MissingUntil { .. }),
                "{err:?}"
            );
            assert!(
                err.to_string().contains("CLERK_EMERGENCY_BYPASS_UNTIL="),
                "{err}"
            );
        }
    }

    #[test]
    fn a_restart_never_extends_the_bypass() {
        // Two processes started ten minutes apart with the same variables end at one instant.
        let until = SystemTime::now() + 30 * MINUTE;
        let text = humantime::format_rfc3339(until).to_string();
        let first = read(
            &vars(&[(ENV_BYPASS, "open"), (ENV_BYPASS_UNTIL, &text)]),
            SystemTime::now(),
        )
        .unwrap()
        .unwrap();
        let restarted = read(
            &vars(&[(ENV_BYPASS, "open"), (ENV_BYPASS_UNTIL, &text)]),
            SystemTime::now() + 10 * MINUTE,
        )
        .unwrap()
        .unwrap();
        assert_eq!(first.until, until);
        assert_eq!(restarted.until, until);
        assert!(restarted.ttl < first.ttl);
        // Restarted after the end: enforce.
        let late = read(
            &vars(&[(ENV_BYPASS, "open"), (ENV_BYPASS_UNTIL, &text)]),
            until + MINUTE,
        )
        .unwrap();
        assert_eq!(late, None);
    }

    #[test]
    fn bad_durations() {
        for (variable, text) in [
            (ENV_BYPASS_TTL, "45"),
            (ENV_BYPASS_TTL, "45 minuets"),
            (ENV_BYPASS_TTL, "-5m"),
            (ENV_BYPASS_TTL, "0"),
            (ENV_BYPASS_TTL, "0s"),
            (ENV_BYPASS_GRACE_MAX_AGE, "half an hour"),
        ] {
            let err = switch(&[(ENV_BYPASS, "grace"), (variable, text)]).unwrap_err();
            assert!(
                matches!(&err, BypassConfigError::InvalidDuration { variable: v, .. } if *v == variable),
                "{text}: {err:?}"
            );
            assert!(err.to_string().contains("use e.g. 45m"), "{err}");
        }
    }

    #[test]
    fn grace_max_age() {
        let state = state(&[(ENV_BYPASS, "grace"), (ENV_BYPASS_GRACE_MAX_AGE, "10m")]);
        assert_eq!(
            state.mode,
            AuthMode::Grace {
                max_token_age: 10 * MINUTE
            }
        );
        // Read for grace only.
        assert_eq!(
            self::state(&[(ENV_BYPASS, "open"), (ENV_BYPASS_GRACE_MAX_AGE, "nonsense")]).mode,
            AuthMode::Open
        );
        // The ceiling is 24 hours: above it the service does not start.
        let until = in_an_hour();
        assert!(
            switch(&[
                (ENV_BYPASS, "grace"),
                (ENV_BYPASS_GRACE_MAX_AGE, "24h"),
                (ENV_BYPASS_UNTIL, &until)
            ])
            .is_ok()
        );
        let err = switch(&[
            (ENV_BYPASS, "grace"),
            (ENV_BYPASS_GRACE_MAX_AGE, "25h"),
            (ENV_BYPASS_UNTIL, &until),
        ])
        .unwrap_err();
        assert!(
            matches!(err, BypassConfigError::GraceTooLong { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("ceiling of 24h"), "{err}");
    }

    #[test]
    fn until() {
        let at = SystemTime::now() + 2 * 60 * MINUTE;
        let text = humantime::format_rfc3339(at).to_string();
        let state = switch(&[(ENV_BYPASS, "open"), (ENV_BYPASS_UNTIL, &text)])
            .unwrap()
            .current();
        assert_eq!(state.mode, AuthMode::Open);
        assert_eq!(state.expires_at, Some(at));

        // Beyond the maximum: refused, naming the latest accepted time (a clamp would count
        // from each start and so extend the bypass at every restart).
        let far = humantime::format_rfc3339(SystemTime::now() + 48 * 60 * MINUTE).to_string();
        let err = switch(&[(ENV_BYPASS, "open"), (ENV_BYPASS_UNTIL, &far)]).unwrap_err();
        assert!(
            matches!(err, BypassConfigError::UntilTooFar { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("at most 24 hours"), "{err}");
    }

    #[test]
    fn until_in_the_past_starts_enforcing_and_malformed_is_refused() {
        let switch_past = switch(&[
            (ENV_BYPASS, "open"),
            (ENV_BYPASS_UNTIL, "2020-01-01T00:00:00Z"),
        ])
        .unwrap();
        assert_eq!(switch_past.mode(), AuthMode::Enforce);
        assert!(switch_past.history().is_empty());

        for text in [
            "tomorrow",
            "2026-11-26 20:00",
            "2026-11-26T20:00:00",
            "2026-13-01T00:00:00Z",
            "2026-11-26T20:00:00+25:00",
            "2026-11-26T20:00:00é00:00",
        ] {
            let err = switch(&[(ENV_BYPASS, "open"), (ENV_BYPASS_UNTIL, text)]).unwrap_err();
            assert!(
                matches!(err, BypassConfigError::InvalidTime { .. }),
                "{text}: {err:?}"
            );
        }
    }

    #[test]
    fn rfc3339_offsets() {
        let utc = parse_rfc3339("2026-11-26T20:00:00Z").unwrap();
        for text in [
            "2026-11-26t20:00:00z",
            "2026-11-26T21:00:00+01:00",
            "2026-11-26T14:30:00-05:30",
            "2026-11-26T20:00:00+00:00",
            "2026-11-26T20:00:00-00:00",
        ] {
            assert_eq!(parse_rfc3339(text), Ok(utc), "{text}");
        }
        assert_eq!(
            parse_rfc3339("2026-11-26T21:00:00.250+01:00"),
            Ok(utc + Duration::from_millis(250))
        );
    }

    #[test]
    fn expiry_variables_are_ignored_without_a_bypass() {
        let switch = switch(&[
            (ENV_BYPASS, "false"),
            (ENV_BYPASS_TTL, "garbage"),
            (ENV_BYPASS_UNTIL, "2020-01-01T00:00:00Z"),
        ])
        .unwrap();
        assert_eq!(switch.mode(), AuthMode::Enforce);
    }

    #[test]
    fn reads_the_process_environment() {
        // Nothing in the test environment sets the variable; the real reader must agree.
        if std::env::var_os(ENV_BYPASS).is_none() {
            assert_eq!(BypassSwitch::from_env().unwrap().mode(), AuthMode::Enforce);
        }
    }
}
