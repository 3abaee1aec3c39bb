//! [`Case`]: one request, what must come back, and the comparison.

use serde_json::Value;

use crate::fixture::{AppVariant, ModeSetup};

/// What the handler should have seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The user id in the context (`None`: no identity).
    pub user_id: Option<String>,
    /// Accepted although expired (Grace).
    pub degraded: bool,
    /// Let through by the bypass (Open).
    pub bypassed: bool,
}

/// What a case expects back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expect {
    /// The status.
    pub status: u16,
    /// The `WWW-Authenticate` value, exactly (`None`: the header must be absent).
    pub www_authenticate: Option<&'static str>,
    /// The `X-Auth-Bypass` value, exactly (`None`: the header must be absent).
    pub bypass: Option<&'static str>,
    /// A `Retry-After` header must be present.
    pub retry_after: bool,
    /// The handler ran and saw this (`None`: the handler must not have run, or not checked).
    pub seen: Option<Seen>,
}

/// One request and what must come back.
#[derive(Clone, Debug)]
pub struct Case {
    /// What the case shows.
    pub name: &'static str,
    /// The app it runs against.
    pub variant: AppVariant,
    /// The mode it runs in.
    pub mode: ModeSetup,
    /// The path (always `GET`).
    pub path: &'static str,
    /// The raw `Authorization` header, if any (may be non-UTF-8).
    pub authorization: Option<Vec<u8>>,
    /// The raw `Cookie` header, if any.
    pub cookie: Option<String>,
    /// A second `Authorization` header, sent after the first.
    pub extra_authorization: Option<Vec<u8>>,
    /// A second `Cookie` header, sent after the first (as HTTP/2 clients split cookies).
    pub extra_cookie: Option<String>,
    /// The expectation.
    pub expect: Expect,
    /// The exact top-level keys of the JSON body, when they must be checked (sorted).
    pub body_keys: Option<&'static [&'static str]>,
}

/// A response as both adapters' tests can report it.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// The status.
    pub status: u16,
    /// Headers, names lowercase.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Observed {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

impl Case {
    /// Compares `observed` with the expectation.
    ///
    /// # Errors
    ///
    /// A description of every difference.
    pub fn check(&self, observed: &Observed) -> Result<(), String> {
        let expect = &self.expect;
        let mut problems = Vec::new();
        if observed.status != expect.status {
            problems.push(format!(
                "status {} (expected {})",
                observed.status, expect.status
            ));
        }
        let text = |name| {
            observed
                .header(name)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        if text("www-authenticate").as_deref() != expect.www_authenticate {
            problems.push(format!(
                "WWW-Authenticate {:?} (expected {:?})",
                text("www-authenticate"),
                expect.www_authenticate
            ));
        }
        if text("x-auth-bypass").as_deref() != expect.bypass {
            problems.push(format!(
                "X-Auth-Bypass {:?} (expected {:?})",
                text("x-auth-bypass"),
                expect.bypass
            ));
        }
        if expect.retry_after && observed.header("retry-after").is_none() {
            problems.push("no Retry-After".to_owned());
        }
        if let Some(keys) = self.body_keys {
            let view = serde_json::from_slice::<Value>(&observed.body).unwrap_or(Value::Null);
            let mut actual: Vec<&str> = view
                .as_object()
                .map(|fields| fields.keys().map(String::as_str).collect())
                .unwrap_or_default();
            actual.sort_unstable();
            if actual != keys {
                problems.push(format!("body keys {actual:?} (expected {keys:?})"));
            }
        }
        if let Some(seen) = &expect.seen {
            match serde_json::from_slice::<Value>(&observed.body) {
                Ok(view) => {
                    let user = view
                        .get("user_id")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    let flag =
                        |name: &str| view.get(name).and_then(Value::as_bool).unwrap_or(false);
                    let actual = Seen {
                        user_id: user,
                        degraded: flag("degraded"),
                        bypassed: flag("bypassed"),
                    };
                    if &actual != seen {
                        problems.push(format!("handler saw {actual:?} (expected {seen:?})"));
                    }
                }
                Err(_) => problems.push("the body is not the handler's JSON view".to_owned()),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("{}: {}", self.name, problems.join("; ")))
        }
    }
}
