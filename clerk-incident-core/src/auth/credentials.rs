//! Finding the session token in a request: `Authorization: Bearer` first, then the
//! `__session` cookie when enabled. A request that names its token twice is refused, never
//! guessed at: two `Authorization` headers, or two `__session` cookies.

use std::fmt;

/// The parts of a request a token can come from, as bytes so that every framework (and every
/// `http` version) can supply them and non-UTF-8 values are handled here, once.
///
/// Build it with [`from_headers`](Self::from_headers) (an [`http::HeaderMap`]) or
/// [`from_values`](Self::from_values) (every value of each header, in order), and add the
/// request's method and path with [`request`](Self::request) for the logs. `Debug` never shows
/// a header's value.
///
/// ```
/// use clerk_incident_core::auth::{Credentials, TokenPresence, extract_token};
///
/// let one = Credentials::from_values([b"Bearer a.b.c".as_slice()], []);
/// assert_eq!(extract_token(&one, false), TokenPresence::Present("a.b.c"));
///
/// // Two `Authorization` headers, whatever their order: ambiguous, refused.
/// let two = Credentials::from_values([b"Bearer a.b.c".as_slice(), b"Bearer x.y.z"], []);
/// assert_eq!(extract_token(&two, false), TokenPresence::Ambiguous);
///
/// // `Cookie` split over several headers (HTTP/2) is one list.
/// let split = Credentials::from_values([], [b"theme=dark".as_slice(), b"__session=c.o.k"]);
/// assert_eq!(extract_token(&split, true), TokenPresence::Present("c.o.k"));
/// ```
#[derive(Clone, Copy, Default)]
pub struct Credentials<'a> {
    authorization: Option<&'a [u8]>,
    repeated_authorization: bool,
    cookie: SessionCookie<'a>,
    method: &'a str,
    path: &'a str,
}

/// The `__session` cookie of a request, found over every `Cookie` header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum SessionCookie<'a> {
    #[default]
    Absent,
    One(&'a str),
    /// One `__session`, empty or not UTF-8: no token.
    Unreadable,
    /// Two `__session` cookies: which one the browser meant cannot be told.
    Repeated,
}

impl<'a> Credentials<'a> {
    /// Credentials from every value of the `Authorization` header and every value of the
    /// `Cookie` header, in the order the request carried them.
    ///
    /// The cookies are read only when there is no `Authorization` header (a present header
    /// wins, so a cookie is never consulted beside one).
    pub fn from_values(
        authorization: impl IntoIterator<Item = &'a [u8]>,
        cookies: impl IntoIterator<Item = &'a [u8]>,
    ) -> Self {
        let mut values = authorization.into_iter();
        let first = values.next();
        let repeated_authorization = first.is_some() && values.next().is_some();
        let mut credentials = Self {
            authorization: first,
            repeated_authorization,
            ..Self::default()
        };
        if first.is_none() {
            for header in cookies {
                credentials.cookie = session_cookie(credentials.cookie, header);
                if credentials.cookie == SessionCookie::Repeated {
                    break;
                }
            }
        }
        credentials
    }

    /// Reads the `Authorization` and `Cookie` headers of an [`http::HeaderMap`].
    pub fn from_headers(headers: &'a http::HeaderMap) -> Self {
        Self::from_values(
            headers
                .get_all(http::header::AUTHORIZATION)
                .iter()
                .map(http::HeaderValue::as_bytes),
            headers
                .get_all(http::header::COOKIE)
                .iter()
                .map(http::HeaderValue::as_bytes),
        )
    }

    /// Credentials with only an `Authorization` header value.
    pub fn authorization(value: &'a [u8]) -> Self {
        Self::from_values([value], [])
    }

    /// Adds the request's method and path (without the query, which may carry secrets), which
    /// the `Open` mode's bypass log names.
    #[must_use]
    pub fn request(mut self, method: &'a str, path: &'a str) -> Self {
        self.method = method;
        self.path = path;
        self
    }

    /// The request's method, or `""` when not given.
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The request's path, or `""` when not given.
    pub fn path(&self) -> &'a str {
        self.path
    }
}

impl fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("authorization", &self.authorization.map(|_| "[redacted]"))
            .field("repeated_authorization", &self.repeated_authorization)
            .field(
                "session_cookie",
                &match self.cookie {
                    SessionCookie::Absent => "absent",
                    SessionCookie::One(_) => "[redacted]",
                    SessionCookie::Unreadable => "unreadable",
                    SessionCookie::Repeated => "repeated",
                },
            )
            .field("method", &self.method)
            .field("path", &self.path)
            .finish()
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
    /// Two `Authorization` headers, or two `__session` cookies: which one counts cannot be
    /// told, so neither does.
    Ambiguous,
}

/// The token of `credentials`. The `Bearer` scheme is case-insensitive and surrounding
/// whitespace is ignored; a present `Authorization` header wins over the cookie, so a bad
/// header is never silently replaced by a cookie.
pub fn extract_token<'a>(credentials: &Credentials<'a>, cookie_enabled: bool) -> TokenPresence<'a> {
    if credentials.repeated_authorization {
        return TokenPresence::Ambiguous;
    }
    if let Some(value) = credentials.authorization {
        return bearer(value);
    }
    match credentials.cookie {
        _ if !cookie_enabled => TokenPresence::Missing,
        SessionCookie::Absent | SessionCookie::Unreadable => TokenPresence::Missing,
        SessionCookie::One(token) => TokenPresence::Present(token),
        SessionCookie::Repeated => TokenPresence::Ambiguous,
    }
}

/// The token of an `Authorization: Bearer` value.
fn bearer(value: &[u8]) -> TokenPresence<'_> {
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
    TokenPresence::Present(token)
}

/// `found` updated with the `__session` cookies of one `Cookie` header, read as bytes so that
/// a header that is not UTF-8 cannot hide one. Every `__session` counts, whatever its value:
/// a second one is ambiguous even when either is empty. Only a non-empty UTF-8 value of the one
/// `__session` is a token.
fn session_cookie<'a>(found: SessionCookie<'a>, header: &'a [u8]) -> SessionCookie<'a> {
    let mut found = found;
    for pair in header.split(|&byte| byte == b';') {
        let Some(equals) = pair.iter().position(|&byte| byte == b'=') else {
            continue;
        };
        let (name, value) = pair.split_at(equals);
        if name.trim_ascii() != b"__session" {
            continue;
        }
        let value = value.get(1..).unwrap_or_default().trim_ascii();
        let value = value
            .strip_prefix(b"\"")
            .and_then(|inner| inner.strip_suffix(b"\""))
            .unwrap_or(value);
        found = match found {
            SessionCookie::Absent => match std::str::from_utf8(value) {
                Ok(token) if !token.is_empty() => SessionCookie::One(token),
                _ => SessionCookie::Unreadable,
            },
            _ => return SessionCookie::Repeated,
        };
    }
    found
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
            &Credentials::from_values(authorization, cookie),
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

    #[test]
    fn two_authorization_headers_are_ambiguous_in_either_order() {
        let good: &[u8] = b"Bearer a.b.c";
        let bad: &[u8] = b"Basic dXNlcg==";
        for pair in [[good, bad], [bad, good], [good, good]] {
            let credentials = Credentials::from_values(pair, []);
            assert_eq!(
                extract_token(&credentials, true),
                TokenPresence::Ambiguous,
                "{pair:?}"
            );
        }
    }

    #[test]
    fn split_cookie_headers_are_one_list() {
        let split: [&[u8]; 3] = [b"a=1", b"b=2; __session=s.p.l", b"c=3"];
        let credentials = Credentials::from_values([], split);
        assert_eq!(
            extract_token(&credentials, true),
            TokenPresence::Present("s.p.l")
        );
    }

    #[test]
    fn two_session_cookies_are_ambiguous() {
        let in_one = Credentials::from_values([], [b"__session=a.b.c; __session=x.y.z".as_slice()]);
        assert_eq!(extract_token(&in_one, true), TokenPresence::Ambiguous);
        let split: [&[u8]; 2] = [b"__session=a.b.c", b"theme=dark; __session=x.y.z"];
        let in_two = Credentials::from_values([], split);
        assert_eq!(extract_token(&in_two, true), TokenPresence::Ambiguous);
        // Disabled cookies are never read, so nothing is ambiguous.
        assert_eq!(extract_token(&in_two, false), TokenPresence::Missing);
        // Every `__session` counts, whatever its value or the header's encoding.
        for pair in [
            b"__session=; __session=a.b.c".as_slice(),
            b"__session=a.b.c; __session=",
            b"__session=\xff; __session=a.b.c",
        ] {
            let credentials = Credentials::from_values([], [pair]);
            assert_eq!(
                extract_token(&credentials, true),
                TokenPresence::Ambiguous,
                "{pair:?}"
            );
        }
        let hidden: [&[u8]; 2] = [b"x=\xff; __session=a.b.c", b"__session=x.y.z"];
        assert_eq!(
            extract_token(&Credentials::from_values([], hidden), true),
            TokenPresence::Ambiguous
        );
        // Other names are other cookies.
        let other = Credentials::from_values([], [b"__session_abc=x; __session=a.b.c".as_slice()]);
        assert_eq!(extract_token(&other, true), TokenPresence::Present("a.b.c"));
    }

    #[test]
    fn debug_never_shows_a_token() {
        let credentials = Credentials::from_values(
            [b"Bearer secret.token.value".as_slice()],
            [b"__session=cookie.token.value".as_slice()],
        )
        .request("GET", "/api/me");
        let shown = format!("{credentials:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("cookie.token"),
            "{shown}"
        );
        assert!(shown.contains("/api/me"));
    }
}
