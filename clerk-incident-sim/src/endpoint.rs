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

/// `PATCH /v1/instance`: change the instance's settings (`allowed_origins`, ...).
pub const UPDATE_INSTANCE: &str = "PATCH /v1/instance";
/// `PATCH /v1/organizations/{organization_id}`: change an organisation.
pub const UPDATE_ORGANIZATION: &str = "PATCH /v1/organizations/{organization_id}";
/// `POST /v1/users`: create a user (`created_at` may be backdated).
pub const CREATE_USER: &str = "POST /v1/users";
/// `PATCH /v1/users/{user_id}`: update a user.
pub const UPDATE_USER: &str = "PATCH /v1/users/{user_id}";
/// `PATCH /v1/users/{user_id}/metadata`: merge into a user's metadata.
pub const UPDATE_USER_METADATA: &str = "PATCH /v1/users/{user_id}/metadata";
/// `DELETE /v1/users/{user_id}`: delete a user.
pub const DELETE_USER: &str = "DELETE /v1/users/{user_id}";
/// `GET /v1/organizations`: list organisations.
pub const LIST_ORGANIZATIONS: &str = "GET /v1/organizations";
/// `POST /v1/organizations`: create an organisation (its creator becomes `org:admin`).
pub const CREATE_ORGANIZATION: &str = "POST /v1/organizations";
/// `DELETE /v1/organizations/{organization_id}`: delete an organisation.
pub const DELETE_ORGANIZATION: &str = "DELETE /v1/organizations/{organization_id}";
/// `GET /v1/organization_memberships`: every organisation membership of the instance.
pub const LIST_MEMBERSHIPS: &str = "GET /v1/organization_memberships";
/// `GET /v1/organizations/{organization_id}/memberships`: the memberships of one organisation.
pub const LIST_ORGANIZATION_MEMBERSHIPS: &str =
    "GET /v1/organizations/{organization_id}/memberships";
/// `POST /v1/organizations/{organization_id}/memberships`: add a member.
pub const CREATE_MEMBERSHIP: &str = "POST /v1/organizations/{organization_id}/memberships";
/// `PATCH /v1/organizations/{organization_id}/memberships/{user_id}`: change a member's role.
pub const UPDATE_MEMBERSHIP: &str =
    "PATCH /v1/organizations/{organization_id}/memberships/{user_id}";
/// `DELETE /v1/organizations/{organization_id}/memberships/{user_id}`: remove a member.
pub const DELETE_MEMBERSHIP: &str =
    "DELETE /v1/organizations/{organization_id}/memberships/{user_id}";
/// `GET /v1/invitations`: list invitations.
pub const LIST_INVITATIONS: &str = "GET /v1/invitations";
/// `POST /v1/invitations`: invite someone.
pub const CREATE_INVITATION: &str = "POST /v1/invitations";
/// `POST /v1/invitations/{invitation_id}/revoke`: revoke an invitation.
pub const REVOKE_INVITATION: &str = "POST /v1/invitations/{invitation_id}/revoke";
/// `GET /v1/redirect_urls`: list redirect URLs.
pub const LIST_REDIRECT_URLS: &str = "GET /v1/redirect_urls";
/// `POST /v1/redirect_urls`: allow a redirect URL.
pub const CREATE_REDIRECT_URL: &str = "POST /v1/redirect_urls";
/// `DELETE /v1/redirect_urls/{id}`: remove a redirect URL.
pub const DELETE_REDIRECT_URL: &str = "DELETE /v1/redirect_urls/{id}";
/// `GET /v1/domains`: list domains.
pub const LIST_DOMAINS: &str = "GET /v1/domains";
/// `POST /v1/domains`: add a satellite domain.
pub const CREATE_DOMAIN: &str = "POST /v1/domains";
/// `DELETE /v1/domains/{domain_id}`: remove a domain.
pub const DELETE_DOMAIN: &str = "DELETE /v1/domains/{domain_id}";
/// `GET /v1/allowlist_identifiers`: list allowlist identifiers.
pub const LIST_ALLOWLIST: &str = "GET /v1/allowlist_identifiers";
/// `POST /v1/allowlist_identifiers`: allow an identifier.
pub const CREATE_ALLOWLIST: &str = "POST /v1/allowlist_identifiers";
/// `DELETE /v1/allowlist_identifiers/{identifier_id}`: remove an allowlist identifier.
pub const DELETE_ALLOWLIST: &str = "DELETE /v1/allowlist_identifiers/{identifier_id}";
/// `GET /v1/blocklist_identifiers`: list blocklist identifiers.
pub const LIST_BLOCKLIST: &str = "GET /v1/blocklist_identifiers";
/// `POST /v1/blocklist_identifiers`: block an identifier.
pub const CREATE_BLOCKLIST: &str = "POST /v1/blocklist_identifiers";
/// `DELETE /v1/blocklist_identifiers/{identifier_id}`: remove a blocklist identifier.
pub const DELETE_BLOCKLIST: &str = "DELETE /v1/blocklist_identifiers/{identifier_id}";
/// `GET /v1/jwt_templates`: list JWT templates.
pub const LIST_JWT_TEMPLATES: &str = "GET /v1/jwt_templates";
/// `POST /v1/jwt_templates`: create a JWT template.
pub const CREATE_JWT_TEMPLATE: &str = "POST /v1/jwt_templates";
/// `PATCH /v1/jwt_templates/{template_id}`: change a JWT template.
pub const UPDATE_JWT_TEMPLATE: &str = "PATCH /v1/jwt_templates/{template_id}";
/// `DELETE /v1/jwt_templates/{template_id}`: delete a JWT template.
pub const DELETE_JWT_TEMPLATE: &str = "DELETE /v1/jwt_templates/{template_id}";
/// `GET /v1/oauth_applications`: list OAuth applications.
pub const LIST_OAUTH_APPLICATIONS: &str = "GET /v1/oauth_applications";
/// `POST /v1/oauth_applications`: create an OAuth application.
pub const CREATE_OAUTH_APPLICATION: &str = "POST /v1/oauth_applications";
/// `DELETE /v1/oauth_applications/{oauth_application_id}`: delete an OAuth application.
pub const DELETE_OAUTH_APPLICATION: &str = "DELETE /v1/oauth_applications/{oauth_application_id}";
/// `GET /v1/saml_connections`: list SAML connections.
pub const LIST_SAML_CONNECTIONS: &str = "GET /v1/saml_connections";
/// `POST /v1/saml_connections`: create a SAML connection.
pub const CREATE_SAML_CONNECTION: &str = "POST /v1/saml_connections";
/// `DELETE /v1/saml_connections/{saml_connection_id}`: delete a SAML connection.
pub const DELETE_SAML_CONNECTION: &str = "DELETE /v1/saml_connections/{saml_connection_id}";
/// `GET /v1/machines`: list machines.
pub const LIST_MACHINES: &str = "GET /v1/machines";
/// `POST /v1/machines`: create a machine (the answer carries its secret key).
pub const CREATE_MACHINE: &str = "POST /v1/machines";
/// `DELETE /v1/machines/{machine_id}`: delete a machine.
pub const DELETE_MACHINE: &str = "DELETE /v1/machines/{machine_id}";
/// `GET /v1/api_keys`: list a subject's API keys.
pub const LIST_API_KEYS: &str = "GET /v1/api_keys";
/// `POST /v1/api_keys`: create an API key (the answer carries its secret).
pub const CREATE_API_KEY: &str = "POST /v1/api_keys";
/// `POST /v1/api_keys/{api_key_id}/revoke`: revoke an API key.
pub const REVOKE_API_KEY: &str = "POST /v1/api_keys/{api_key_id}/revoke";
/// `GET /v1/m2m_tokens`: list a machine's M2M tokens.
pub const LIST_M2M_TOKENS: &str = "GET /v1/m2m_tokens";
/// `POST /v1/m2m_tokens`: create an M2M token, with a machine's secret key.
pub const CREATE_M2M_TOKEN: &str = "POST /v1/m2m_tokens";
/// `POST /v1/m2m_tokens/{m2m_token_id}/revoke`: revoke an M2M token.
pub const REVOKE_M2M_TOKEN: &str = "POST /v1/m2m_tokens/{m2m_token_id}/revoke";
/// `POST /v1/actor_tokens`: create an actor (impersonation) token.
pub const CREATE_ACTOR_TOKEN: &str = "POST /v1/actor_tokens";
/// `POST /v1/actor_tokens/{actor_token_id}/revoke`: revoke an actor token.
pub const REVOKE_ACTOR_TOKEN: &str = "POST /v1/actor_tokens/{actor_token_id}/revoke";
/// `POST /v1/sign_in_tokens`: create a sign-in token.
pub const CREATE_SIGN_IN_TOKEN: &str = "POST /v1/sign_in_tokens";
/// `POST /v1/sign_in_tokens/{sign_in_token_id}/revoke`: revoke a sign-in token.
pub const REVOKE_SIGN_IN_TOKEN: &str = "POST /v1/sign_in_tokens/{sign_in_token_id}/revoke";
/// `GET /v1/tickets/accept`: sign in with an actor or sign-in token's ticket (the Frontend API's side of those tokens; no secret key).
pub const ACCEPT_TICKET: &str = "GET /v1/tickets/accept";

/// Every endpoint key, in the order above.
pub const ALL: [&str; 65] = [
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
    UPDATE_INSTANCE,
    UPDATE_ORGANIZATION,
    CREATE_USER,
    UPDATE_USER,
    UPDATE_USER_METADATA,
    DELETE_USER,
    LIST_ORGANIZATIONS,
    CREATE_ORGANIZATION,
    DELETE_ORGANIZATION,
    LIST_MEMBERSHIPS,
    LIST_ORGANIZATION_MEMBERSHIPS,
    CREATE_MEMBERSHIP,
    UPDATE_MEMBERSHIP,
    DELETE_MEMBERSHIP,
    LIST_INVITATIONS,
    CREATE_INVITATION,
    REVOKE_INVITATION,
    LIST_REDIRECT_URLS,
    CREATE_REDIRECT_URL,
    DELETE_REDIRECT_URL,
    LIST_DOMAINS,
    CREATE_DOMAIN,
    DELETE_DOMAIN,
    LIST_ALLOWLIST,
    CREATE_ALLOWLIST,
    DELETE_ALLOWLIST,
    LIST_BLOCKLIST,
    CREATE_BLOCKLIST,
    DELETE_BLOCKLIST,
    LIST_JWT_TEMPLATES,
    CREATE_JWT_TEMPLATE,
    UPDATE_JWT_TEMPLATE,
    DELETE_JWT_TEMPLATE,
    LIST_OAUTH_APPLICATIONS,
    CREATE_OAUTH_APPLICATION,
    DELETE_OAUTH_APPLICATION,
    LIST_SAML_CONNECTIONS,
    CREATE_SAML_CONNECTION,
    DELETE_SAML_CONNECTION,
    LIST_MACHINES,
    CREATE_MACHINE,
    DELETE_MACHINE,
    LIST_API_KEYS,
    CREATE_API_KEY,
    REVOKE_API_KEY,
    LIST_M2M_TOKENS,
    CREATE_M2M_TOKEN,
    REVOKE_M2M_TOKEN,
    CREATE_ACTOR_TOKEN,
    REVOKE_ACTOR_TOKEN,
    CREATE_SIGN_IN_TOKEN,
    REVOKE_SIGN_IN_TOKEN,
    ACCEPT_TICKET,
];

/// Splits an endpoint key into its method and its route pattern.
pub(crate) fn split(key: &'static str) -> (&'static str, &'static str) {
    key.split_once(' ').unwrap_or(("GET", key))
}
