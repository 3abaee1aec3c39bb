//! A safety net: text that looks like a secret is cut out before it reaches the log.
//!
//! Entries are free text an operator typed or summaries our commands wrote, and commands must
//! never put secrets in them. Should one slip through anyway (a key pasted into a note), what
//! looks like a Clerk secret key (`sk_live_…`, `sk_test_…`), a webhook signing secret
//! (`whsec_…`) or a JWT (`eyJ….….…`) is replaced, keeping only the prefix that says what it was.
//! A secret is caught wherever it starts: glued to the word before it (`xxsk_test_…`), after a
//! URL-encoded `=` (`%3Dsk_live_…`), with URL-encoded characters inside (`%2B`).

use std::borrow::Cow;

/// Secrets recognised by their prefix: the prefix, what replaces the whole secret, and how many
/// characters must follow the prefix for it to count (so that "the sk_live_ key" stays).
const PREFIXED: [(&str, &str, usize); 3] = [
    ("sk_live_", "sk_live_[redacted]", 8),
    ("sk_test_", "sk_test_[redacted]", 8),
    ("whsec_", "whsec_[redacted]", 8),
];

/// What replaces a JWT.
const TOKEN: &str = "[redacted token]";

/// `text` with every secret-looking run replaced (Clerk secret keys, webhook signing
/// secrets, JWTs), keeping the prefix that says what it was; borrowed when there is none. What
/// the incident log applies to every entry, for any text that may carry a pasted secret.
///
/// ```
/// use clerk_incident_core::incident::redact;
///
/// assert_eq!(redact("key sk_live_0123456789abcdef"), "key sk_live_[redacted]");
/// assert_eq!(redact("nothing secret"), "nothing secret");
/// ```
pub fn redact(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut found = false;
    let mut at = 0;
    while at < bytes.len() {
        match secret_at(bytes, at) {
            Some((end, replacement)) => {
                // Secrets are ASCII, so `at` and `end` are character boundaries.
                out.push_str(text.get(copied..at).unwrap_or_default());
                out.push_str(replacement);
                copied = end;
                at = end;
                found = true;
            }
            None => at += 1,
        }
    }
    if found {
        out.push_str(text.get(copied..).unwrap_or_default());
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// The end of the secret starting at `at` and its replacement, if one starts there.
fn secret_at(bytes: &[u8], at: usize) -> Option<(usize, &'static str)> {
    let rest = bytes.get(at..)?;
    for (prefix, replacement, min_tail) in PREFIXED {
        if let Some(tail) = rest.strip_prefix(prefix.as_bytes()) {
            let len = run(tail, |b| {
                b.is_ascii_alphanumeric() || b"_-+/=%".contains(&b)
            });
            return (len >= min_tail).then_some((at + prefix.len() + len, replacement));
        }
    }
    if rest.starts_with(b"eyJ") {
        let mut len = run(rest, |b| b.is_ascii_alphanumeric() || b"_-=.%".contains(&b));
        while len > 0 && rest.get(len - 1) == Some(&b'.') {
            len -= 1;
        }
        let dots = rest.get(..len)?.iter().filter(|&&b| b == b'.').count();
        return (dots >= 2 && len >= 20).then_some((at + len, TOKEN));
    }
    None
}

fn run(bytes: &[u8], keep: impl Fn(u8) -> bool) -> usize {
    bytes.iter().take_while(|&&b| keep(b)).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced() {
        assert_eq!(
            redact("rotated sk_live_AbCdEf1234567890 (old: sk_test_zyx987654321)."),
            "rotated sk_live_[redacted] (old: sk_test_[redacted])."
        );
        assert_eq!(
            redact("secret=whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"),
            "secret=whsec_[redacted]"
        );
        assert_eq!(
            redact("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2lnbmF0dXJl. Done"),
            "token [redacted token]. Done"
        );
    }

    #[test]
    fn secrets_glued_to_what_precedes_them_are_caught() {
        assert_eq!(
            redact("xxsk_test_zyx987654321 leaked"),
            "xxsk_test_[redacted] leaked"
        );
        assert_eq!(
            redact("https://x.example/?key%3Dsk_live_AbCdEf12%2B34567890&y=1"),
            "https://x.example/?key%3Dsk_live_[redacted]&y=1"
        );
        assert_eq!(
            redact("secret:whsec_C2FVsBQIhrscChlQ"),
            "secret:whsec_[redacted]"
        );
        assert_eq!(
            redact("bearer=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2lnbmF0dXJl"),
            "bearer=[redacted token]"
        );
        assert_eq!(
            redact("Authorization:Bearer%20eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2ln"),
            "Authorization:Bearer%20[redacted token]"
        );
    }

    #[test]
    fn ordinary_text_is_kept() {
        for text in [
            "the sk_live_ key leaked",
            "ask_live_short is a word",
            "eyJ alone, or eyJabc.def",
            "Ünïcödé — 18:04 ✓",
            "",
        ] {
            assert!(
                matches!(redact(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }
}
