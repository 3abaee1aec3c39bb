//! The lists the audit reads besides users, organisations, memberships, sessions, machines,
//! API keys and M2M tokens: each with its shape in the spec, whether its objects carry
//! timestamps, why a new one matters and what removes it.

use serde_json::Value;

use super::finding::ObjectKind;
use crate::api::ListShape;

/// A list of one kind of object.
pub(crate) struct Collection {
    /// The check's name, as the report shows it.
    pub(crate) check: &'static str,
    /// The path under `/v1`, and the baseline's key.
    pub(crate) path: &'static str,
    pub(crate) object: ObjectKind,
    pub(crate) shape: ListShape,
    /// Whether the list takes `limit`/`offset` (otherwise it answers everything at once).
    pub(crate) paged: bool,
    /// Why a new one matters.
    pub(crate) why: &'static str,
    /// The method and path template (`{id}`) that removes one, and the JSON body it takes.
    pub(crate) undo: (&'static str, &'static str, Option<&'static str>),
    /// The members that say what one is, for people.
    pub(crate) describe: &'static [&'static str],
}

/// Every such list.
pub(crate) const COLLECTIONS: [Collection; 8] = [
    Collection {
        check: "invitations",
        path: "invitations",
        object: ObjectKind::Invitation,
        shape: ListShape::Array,
        paged: true,
        why: "an invitation lets its addressee sign up, with the public metadata it carries (roles included)",
        undo: ("POST", "/v1/invitations/{id}/revoke", None),
        describe: &["email_address", "status"],
    },
    Collection {
        check: "redirect URLs",
        path: "redirect_urls",
        object: ObjectKind::RedirectUrl,
        shape: ListShape::Array,
        paged: true,
        why: "an allowed redirect URL can send users, and their sign-in, to the attacker's site",
        undo: ("DELETE", "/v1/redirect_urls/{id}", None),
        describe: &["url"],
    },
    Collection {
        check: "domains",
        path: "domains",
        object: ObjectKind::Domain,
        shape: ListShape::Wrapped("data"),
        paged: false,
        why: "a satellite domain shares the instance's sessions with a site the attacker may run",
        undo: ("DELETE", "/v1/domains/{id}", None),
        describe: &["name", "proxy_url"],
    },
    Collection {
        check: "allowlist",
        path: "allowlist_identifiers",
        object: ObjectKind::AllowlistIdentifier,
        shape: ListShape::Array,
        paged: true,
        why: "an allowlisted identifier may sign up even where sign-ups are restricted",
        undo: ("DELETE", "/v1/allowlist_identifiers/{id}", None),
        describe: &["identifier"],
    },
    Collection {
        check: "blocklist",
        path: "blocklist_identifiers",
        object: ObjectKind::BlocklistIdentifier,
        shape: ListShape::Wrapped("data"),
        paged: false,
        why: "a blocklisted identifier can no longer sign in: the attacker may have locked out your responders",
        undo: ("DELETE", "/v1/blocklist_identifiers/{id}", None),
        describe: &["identifier"],
    },
    Collection {
        check: "JWT templates",
        path: "jwt_templates",
        object: ObjectKind::JwtTemplate,
        shape: ListShape::Array,
        paged: true,
        why: "a JWT template decides the claims (roles) of the tokens your services trust",
        undo: ("DELETE", "/v1/jwt_templates/{id}", None),
        describe: &["name", "lifetime"],
    },
    Collection {
        check: "OAuth applications",
        path: "oauth_applications",
        object: ObjectKind::OauthApplication,
        shape: ListShape::Wrapped("data"),
        paged: true,
        why: "an OAuth application can ask your users for access to their accounts",
        undo: ("DELETE", "/v1/oauth_applications/{id}", None),
        describe: &["name", "redirect_uris"],
    },
    Collection {
        check: "SAML connections",
        path: "saml_connections",
        object: ObjectKind::SamlConnection,
        shape: ListShape::Wrapped("data"),
        paged: true,
        why: "a SAML connection lets an identity provider the attacker controls sign people in",
        undo: ("DELETE", "/v1/saml_connections/{id}", None),
        describe: &["name", "domains", "provider"],
    },
];

/// `curl` with the secret key from the environment, as an on-call engineer pastes it.
pub(crate) fn curl(base_url: &str, method: &str, path: &str, body: Option<&str>) -> String {
    let mut command = format!(
        "curl -X {method} \"{base_url}{path}\" -H \"Authorization: Bearer $CLERK_SECRET_KEY\""
    );
    if let Some(body) = body {
        command.push_str(&format!(
            " -H \"Content-Type: application/json\" -d '{body}'"
        ));
    }
    command
}

/// `name=value` pairs of an object's descriptive members, for people.
pub(crate) fn describe(object: &Value, members: &[&str]) -> String {
    members
        .iter()
        .filter_map(|member| {
            let value = object.get(*member)?;
            let text = match value {
                Value::Null => return None,
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            Some(format!("{member} {text}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{COLLECTIONS, curl, describe};

    #[test]
    fn undo_commands_are_pasteable() {
        let command = curl("https://api.clerk.com", "DELETE", "/v1/domains/dmn_1", None);
        assert_eq!(
            command,
            "curl -X DELETE \"https://api.clerk.com/v1/domains/dmn_1\" -H \"Authorization: Bearer $CLERK_SECRET_KEY\""
        );
        let command = curl("http://x", "POST", "/v1/p", Some("{\"a\":1}"));
        assert!(command.ends_with("-d '{\"a\":1}'"));
        assert!(COLLECTIONS.iter().all(|c| c.undo.1.contains("{id}")));
        let text = describe(
            &json!({"name": "x", "domains": ["a"], "proxy_url": null}),
            &["name", "domains", "proxy_url"],
        );
        assert_eq!(text, "name x, domains [\"a\"]");
    }
}
