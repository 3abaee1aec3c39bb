//! Finding the session token in a request: `Authorization: Bearer` first, then the
//! `__session` cookie when enabled.

/// The raw request headers a token can come from, as bytes so that every framework (and
/// every `http` version) can supply them and non-UTF-8 values are handled here, once.
#[derive(Clone, Copy, Debug, Default)]
pub struct Credentials<'a> {
    /// The `Authorization` header value.
    pub authorization: Option<&'a [u8]>,
    /// The `Cookie` header value.
    pub cookie: Option<&'a [u8]>,
}

impl<'a> Credentials<'a> {
    /// Reads both headers from an [`http::HeaderMap`].
    pub fn from_headers(headers: &'a http::HeaderMap) -> Self {
        Self {
            authorization: headers
                .get(http::header::AUTHORIZATION)
                .map(http::HeaderValue::as_bytes),
            cookie: headers
                .get(http::header::COOKIE)
                .map(http::HeaderValue::as_bytes),
        }
    }
}

/// What the request carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenPresence<'a> {
    /// No token at all.
    Missing,
    /// A token to verify.
    Present(&'a str),
    /// An `Authorization` header that is not a readable `Bearer` credential.
    Malformed,
}

/// The token of `credentials`. The `Bearer` scheme is case-insensitive and surrounding
/// whitespace is ignored; a present `Authorization` header wins over the cookie, so a bad
/// header is never silently replaced by a cookie.
pub fn extract_token<'a>(credentials: &Credentials<'a>, cookie_enabled: bool) -> TokenPresence<'a> {
    if let Some(value) = credentials.authorization {
        let Ok(value) = std::str::from_utf8(value) else {
            return TokenPresence::Malformed;
        };
        let value = value.trim();
        let Some((scheme, token)) = value.split_once(|c: char| c.is_ascii_whitespace()) else {
            return TokenPresence::Malformed;
        };
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer")
            || token.is_empty()
            || token
                .bytes()
                .fold(false, |found, byte| found | byte.is_ascii_whitespace())
        {
            return TokenPresence::Malformed;
        }
        return TokenPresence::Present(token);
    }
    let cookie_token = credentials
        .cookie
        .filter(|_| cookie_enabled)
        .and_then(|cookie| std::str::from_utf8(cookie).ok())
        .and_then(session_cookie);
    if let Some(token) = cookie_token {
        return TokenPresence::Present(token);
    }
    TokenPresence::Missing
}

/// The value of the `__session` cookie in a `Cookie` header.
fn session_cookie(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == "__session")
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extract(
        authorization: Option<&'static [u8]>,
        cookie: Option<&'static [u8]>,
        cookie_enabled: bool,
    ) -> TokenPresence<'static> {
        extract_token(
            &Credentials {
                authorization,
                cookie,
            },
            cookie_enabled,
        )
    }

    fn header(value: &'static str) -> Option<&'static [u8]> {
        Some(value.as_bytes())
    }

    #[test]
    fn bearer_is_case_insensitive_and_trimmed() {
        for value in ["Bearer a.b.c", "bearer   a.b.c  ", "BEARER\ta.b.c"] {
            assert_eq!(
                extract(header(value), None, false),
                TokenPresence::Present("a.b.c")
            );
        }
    }

    #[test]
    fn unreadable_authorization_is_malformed() {
        for value in ["Basic dXNlcg==", "Bearer", "Bearer a b", ""] {
            assert_eq!(
                extract(header(value), None, false),
                TokenPresence::Malformed,
                "{value:?}"
            );
        }
        let not_utf8: &'static [u8] = &[b'B', 0xff, 0xfe, b' ', b'x'];
        assert_eq!(
            extract(Some(not_utf8), None, false),
            TokenPresence::Malformed
        );
    }

    #[test]
    fn the_cookie_is_read_only_when_enabled_and_without_a_header() {
        let cookie = header("theme=dark; __session=c.o.k; other=1");
        assert_eq!(extract(None, cookie, true), TokenPresence::Present("c.o.k"));
        assert_eq!(extract(None, cookie, false), TokenPresence::Missing);
        assert_eq!(
            extract(header("Bearer h.d.r"), cookie, true),
            TokenPresence::Present("h.d.r")
        );
        assert_eq!(
            extract(None, header("__session="), true),
            TokenPresence::Missing
        );
        let not_utf8: &'static [u8] = &[0xff];
        assert_eq!(extract(None, Some(not_utf8), true), TokenPresence::Missing);
        assert_eq!(extract(None, None, true), TokenPresence::Missing);
    }
}
