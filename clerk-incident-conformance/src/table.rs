//! The table of cases.

use crate::case::{Case, Expect, Seen};
use crate::fixture::{AppVariant, Fixture, HEALTH_TOKEN, ModeSetup};
use crate::{ADMIN, HEALTH, ME, PUBLIC, TEAMS_MANAGE};

const INVALID: Option<&str> = Some(r#"Bearer error="invalid_token""#);
const SCOPE: Option<&str> = Some(r#"Bearer error="insufficient_scope""#);

fn bearer(token: &str) -> Option<Vec<u8>> {
    Some(format!("Bearer {token}").into_bytes())
}

/// The table.
pub fn cases(fixture: &Fixture) -> Vec<Case> {
    let t = &fixture.tokens;
    let admin = |degraded, bypassed| {
        Some(Seen {
            user_id: Some(t.admin_id.clone()),
            degraded,
            bypassed,
        })
    };
    let member = Some(Seen {
        user_id: Some(t.member_id.clone()),
        degraded: false,
        bypassed: false,
    });
    let anonymous_bypass = Some(Seen {
        user_id: None,
        degraded: false,
        bypassed: true,
    });
    let ok = |seen| Expect {
        status: 200,
        www_authenticate: None,
        bypass: None,
        retry_after: false,
        seen,
    };
    let unauthorized = Expect {
        status: 401,
        www_authenticate: INVALID,
        bypass: None,
        retry_after: false,
        seen: None,
    };
    let with_bypass = |expect: Expect, value| Expect {
        bypass: Some(value),
        ..expect
    };
    let case = |name, variant, mode, path, authorization, expect| Case {
        name,
        variant,
        mode,
        path,
        authorization,
        cookie: None,
        extra_authorization: None,
        extra_cookie: None,
        expect,
        body_keys: None,
    };
    use AppVariant::{CookieEnabled, KeysUnavailable, Standard};
    use ModeSetup::{Enforce, Grace, Open};

    vec![
        case(
            "public route, no token",
            Standard,
            Enforce,
            PUBLIC,
            None,
            ok(None),
        ),
        case(
            "valid v1 token",
            Standard,
            Enforce,
            ME,
            bearer(&t.admin_v1),
            ok(admin(false, false)),
        ),
        case(
            "valid v2 token",
            Standard,
            Enforce,
            ME,
            bearer(&t.member_v2),
            ok(member),
        ),
        case(
            "token missing",
            Standard,
            Enforce,
            ME,
            None,
            unauthorized.clone(),
        ),
        case(
            "malformed token",
            Standard,
            Enforce,
            ME,
            bearer("not.a.jwt"),
            unauthorized.clone(),
        ),
        case(
            "expired token",
            Standard,
            Enforce,
            ME,
            bearer(&t.expired_recently),
            unauthorized.clone(),
        ),
        case(
            "bad signature",
            Standard,
            Enforce,
            ME,
            bearer(&t.bad_signature),
            unauthorized.clone(),
        ),
        case(
            "lowercase bearer",
            Standard,
            Enforce,
            ME,
            Some(format!("bearer {}", t.admin_v1).into_bytes()),
            ok(admin(false, false)),
        ),
        case(
            "extra spaces",
            Standard,
            Enforce,
            ME,
            Some(format!("Bearer    {}  ", t.admin_v1).into_bytes()),
            ok(admin(false, false)),
        ),
        case(
            "non-UTF-8 Authorization header",
            Standard,
            Enforce,
            ME,
            Some(vec![b'B', b'e', b'a', b'r', b'e', b'r', b' ', 0xff, 0xfe]),
            unauthorized.clone(),
        ),
        case(
            "basic scheme",
            Standard,
            Enforce,
            ME,
            Some(b"Basic dXNlcjpwYXNz".to_vec()),
            unauthorized.clone(),
        ),
        Case {
            cookie: Some(format!("theme=dark; __session={}", t.admin_v1)),
            ..case(
                "__session cookie, enabled",
                CookieEnabled,
                Enforce,
                ME,
                None,
                ok(admin(false, false)),
            )
        },
        Case {
            cookie: Some(format!("__session={}", t.admin_v1)),
            ..case(
                "__session cookie, not enabled",
                Standard,
                Enforce,
                ME,
                None,
                unauthorized.clone(),
            )
        },
        case(
            "Grace, recently expired token",
            Standard,
            Grace,
            ME,
            bearer(&t.expired_recently),
            with_bypass(ok(admin(true, false)), "grace"),
        ),
        case(
            "Grace, token expired long ago",
            Standard,
            Grace,
            ME,
            bearer(&t.expired_long_ago),
            with_bypass(unauthorized.clone(), "grace"),
        ),
        case(
            "Grace, valid token",
            Standard,
            Grace,
            ME,
            bearer(&t.admin_v1),
            with_bypass(ok(admin(false, false)), "grace"),
        ),
        case(
            "Grace, bad signature",
            Standard,
            Grace,
            ME,
            bearer(&t.bad_signature),
            with_bypass(unauthorized.clone(), "grace"),
        ),
        case(
            "Grace, a revoked session's recently expired token",
            Standard,
            Grace,
            ME,
            bearer(&t.revoked_expired),
            with_bypass(unauthorized.clone(), "grace"),
        ),
        case(
            "Enforce, a revoked session's valid token",
            Standard,
            Enforce,
            ME,
            bearer(&t.revoked_valid),
            unauthorized.clone(),
        ),
        case(
            "Open, a revoked session's token is refused, not bypassed",
            Standard,
            Open,
            ME,
            bearer(&t.revoked_expired),
            with_bypass(unauthorized.clone(), "true"),
        ),
        case(
            "Grace, sensitive route with a recently expired token",
            Standard,
            Grace,
            ADMIN,
            bearer(&t.expired_recently),
            with_bypass(unauthorized.clone(), "grace"),
        ),
        case(
            "Open, no token",
            Standard,
            Open,
            ME,
            None,
            with_bypass(ok(anonymous_bypass.clone()), "true"),
        ),
        case(
            "Open, a valid token is served as in Enforce",
            Standard,
            Open,
            ME,
            bearer(&t.admin_v1),
            with_bypass(ok(admin(false, false)), "true"),
        ),
        case(
            "Open, a recently expired token keeps its identity, bypassed",
            Standard,
            Open,
            ME,
            bearer(&t.expired_recently),
            with_bypass(ok(admin(true, true)), "true"),
        ),
        case(
            "Open, bad signature gets no identity",
            Standard,
            Open,
            ME,
            bearer(&t.bad_signature),
            with_bypass(ok(anonymous_bypass), "true"),
        ),
        case(
            "Open, sensitive route without a token",
            Standard,
            Open,
            ADMIN,
            None,
            with_bypass(unauthorized.clone(), "true"),
        ),
        case(
            "Open, sensitive route with a valid admin token",
            Standard,
            Open,
            ADMIN,
            bearer(&t.admin_v1),
            with_bypass(ok(admin(false, false)), "true"),
        ),
        case(
            "Open, public route",
            Standard,
            Open,
            PUBLIC,
            None,
            with_bypass(ok(None), "true"),
        ),
        case(
            "admin role, admin",
            Standard,
            Enforce,
            ADMIN,
            bearer(&t.admin_v1),
            ok(admin(false, false)),
        ),
        case(
            "admin role, member",
            Standard,
            Enforce,
            ADMIN,
            bearer(&t.member_v2),
            Expect {
                status: 403,
                www_authenticate: SCOPE,
                bypass: None,
                retry_after: false,
                seen: None,
            },
        ),
        case(
            "admin role, no token",
            Standard,
            Enforce,
            ADMIN,
            None,
            unauthorized.clone(),
        ),
        case(
            "permission guard, admin",
            Standard,
            Enforce,
            TEAMS_MANAGE,
            bearer(&t.admin_v1),
            ok(admin(false, false)),
        ),
        case(
            "permission guard, member",
            Standard,
            Enforce,
            TEAMS_MANAGE,
            bearer(&t.member_v2),
            Expect {
                status: 403,
                www_authenticate: SCOPE,
                bypass: None,
                retry_after: false,
                seen: None,
            },
        ),
        case(
            "keys unavailable",
            KeysUnavailable,
            Enforce,
            ME,
            bearer(&t.admin_v1),
            Expect {
                status: 503,
                www_authenticate: None,
                bypass: None,
                retry_after: true,
                seen: None,
            },
        ),
        Case {
            body_keys: Some(SUMMARY),
            ..case(
                "health endpoint, anonymous: the summary",
                Standard,
                Enforce,
                HEALTH,
                None,
                ok(None),
            )
        },
        Case {
            body_keys: Some(SUMMARY),
            ..case(
                "health endpoint, a wrong health token: the summary",
                Standard,
                Enforce,
                HEALTH,
                bearer("not-the-health-token-of-this-fleet"),
                ok(None),
            )
        },
        Case {
            body_keys: Some(SUMMARY),
            ..case(
                "health endpoint, a member's token: the summary",
                Standard,
                Enforce,
                HEALTH,
                bearer(&t.member_v2),
                ok(None),
            )
        },
        Case {
            body_keys: Some(DETAILS),
            ..case(
                "health endpoint, the health token: the details",
                Standard,
                Enforce,
                HEALTH,
                bearer(HEALTH_TOKEN),
                ok(None),
            )
        },
        Case {
            body_keys: Some(DETAILS),
            ..case(
                "health endpoint, an operator's token: the details",
                Standard,
                Enforce,
                HEALTH,
                bearer(&t.admin_v1),
                ok(None),
            )
        },
        Case {
            body_keys: Some(SUMMARY),
            ..case(
                "health endpoint, an impersonated operator: the summary",
                Standard,
                Enforce,
                HEALTH,
                bearer(&t.impersonated_admin),
                ok(None),
            )
        },
        Case {
            extra_authorization: Some(b"Basic dXNlcjpwYXNz".to_vec()),
            ..case(
                "two Authorization headers, the valid one first",
                Standard,
                Enforce,
                ME,
                bearer(&t.admin_v1),
                unauthorized.clone(),
            )
        },
        Case {
            extra_authorization: bearer(&t.admin_v1),
            ..case(
                "two Authorization headers, the valid one second",
                Standard,
                Enforce,
                ME,
                Some(b"Basic dXNlcjpwYXNz".to_vec()),
                unauthorized.clone(),
            )
        },
        Case {
            extra_authorization: bearer(&t.member_v2),
            ..case(
                "two valid Authorization headers on a guarded route",
                Standard,
                Enforce,
                ADMIN,
                bearer(&t.admin_v1),
                unauthorized.clone(),
            )
        },
        Case {
            cookie: Some("theme=dark".to_owned()),
            extra_cookie: Some(format!("__session={}", t.admin_v1)),
            ..case(
                "Cookie split over two headers is one list",
                CookieEnabled,
                Enforce,
                ME,
                None,
                ok(admin(false, false)),
            )
        },
        Case {
            cookie: Some(format!("__session={}", t.member_v2)),
            extra_cookie: Some(format!("__session={}", t.admin_v1)),
            ..case(
                "two __session cookies in two headers",
                CookieEnabled,
                Enforce,
                ME,
                None,
                unauthorized.clone(),
            )
        },
        Case {
            cookie: Some(format!(
                "__session={}; __session={}",
                t.admin_v1, t.member_v2
            )),
            ..case(
                "two __session cookies in one header",
                CookieEnabled,
                Enforce,
                ME,
                None,
                unauthorized,
            )
        },
    ]
}

/// The keys of the health summary anyone gets.
const SUMMARY: &[&str] = &["mode", "ready", "status"];

/// The keys of the health details.
const DETAILS: &[&str] = &["counters", "denylist", "keys", "mode", "ready", "status"];
