//! Text from the network, made safe to print: bounded and free of control characters.

/// At most `max` characters of `text`, control characters (terminal escapes, newlines)
/// replaced by `?`, and `…` appended when something was cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::clip;

    #[test]
    fn clips_and_neutralises() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("abcdef", 3), "abc…");
        assert_eq!(clip("red\u{1b}[31m\nline", 100), "red?[31m?line");
        assert_eq!(clip("ünï", 2), "ün…");
    }
}
