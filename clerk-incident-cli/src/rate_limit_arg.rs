//! `REQUESTS/WINDOW` arguments such as `100/10s`: `sessions revoke --rate-limit` and the sim's
//! rate-limit fault.

use std::time::Duration;

/// Parses `REQUESTS/WINDOW`, such as `100/10s`.
pub(crate) fn parse_rate_limit(value: &str) -> Result<(u32, Duration), String> {
    let (requests, window) = value
        .split_once('/')
        .ok_or_else(|| format!("{value:?} is not REQUESTS/WINDOW, e.g. 100/10s"))?;
    let requests: u32 = requests
        .trim()
        .parse()
        .map_err(|_| format!("{requests:?} is not a whole number of requests"))?;
    let window = humantime::parse_duration(window.trim()).map_err(|err| err.to_string())?;
    if requests == 0 || window.is_zero() {
        return Err("the rate limit needs at least one request per non-zero window".into());
    }
    Ok((requests, window))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_parse() {
        assert_eq!(
            parse_rate_limit("100/10s"),
            Ok((100, Duration::from_secs(10)))
        );
        assert!(parse_rate_limit("0/1s").is_err());
        assert!(parse_rate_limit("100").is_err());
    }
}
