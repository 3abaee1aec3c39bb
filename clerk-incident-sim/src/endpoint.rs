//! Endpoint keys of [`Counters::requests`](crate::Counters::requests): the HTTP method and the
//! route pattern, as in `"GET /v1/users/{user_id}"`.

/// `GET /v1/users`: list users.
pub const LIST_USERS: &str = "GET /v1/users";
/// `GET /v1/users/count`: count users.
pub const COUNT_USERS: &str = "GET /v1/users/count";
/// `GET /v1/users/{user_id}`: one user.
pub const GET_USER: &str = "GET /v1/users/{user_id}";
/// `GET /v1/sessions`: list a user's or a client's sessions.
pub const LIST_SESSIONS: &str = "GET /v1/sessions";
/// `GET /v1/sessions/{session_id}`: one session.
pub const GET_SESSION: &str = "GET /v1/sessions/{session_id}";
/// `POST /v1/sessions/{session_id}/revoke`: revoke a session.
pub const REVOKE_SESSION: &str = "POST /v1/sessions/{session_id}/revoke";
/// `GET /v1/jwks`: the Backend API JWKS (needs the secret key).
pub const JWKS: &str = "GET /v1/jwks";
/// `GET /v1/instance`: the instance.
pub const INSTANCE: &str = "GET /v1/instance";
/// `GET /.well-known/jwks.json`: the Frontend API JWKS (no authentication).
pub const WELL_KNOWN_JWKS: &str = "GET /.well-known/jwks.json";
/// `GET /api/v2/status.json`: the status page's overall status.
pub const STATUS: &str = "GET /api/v2/status.json";
/// `GET /api/v2/summary.json`: the status page's components and open incidents.
pub const SUMMARY: &str = "GET /api/v2/summary.json";

/// `GET /proxy/{host}`: the status page in incident.io's widget shape (what status.clerk.com
/// serves).
pub const STATUS_WIDGET: &str = "GET /proxy/{host}";

/// Every endpoint key, in the order above.
pub const ALL: [&str; 12] = [
    LIST_USERS,
    COUNT_USERS,
    GET_USER,
    LIST_SESSIONS,
    GET_SESSION,
    REVOKE_SESSION,
    JWKS,
    INSTANCE,
    WELL_KNOWN_JWKS,
    STATUS,
    SUMMARY,
    STATUS_WIDGET,
];

/// Splits an endpoint key into its method and its route pattern.
pub(crate) fn split(key: &'static str) -> (&'static str, &'static str) {
    key.split_once(' ').unwrap_or(("GET", key))
}
