//! The instance's objects beyond users, sessions and organisations that a secret key can
//! create: invitations, redirect URLs, domains, allowlist and blocklist identifiers, JWT
//! templates, OAuth applications, SAML connections, machines, API keys, M2M tokens, actor
//! tokens and sign-in tokens. Each is kept as the Backend API renders it (the spec's shape,
//! without the secrets only a create answer carries).

use std::collections::HashMap;

use serde_json::Value;

/// A kind of instance object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Invitation,
    RedirectUrl,
    Domain,
    AllowlistIdentifier,
    BlocklistIdentifier,
    JwtTemplate,
    OauthApplication,
    SamlConnection,
    Machine,
    ApiKey,
    M2mToken,
    ActorToken,
    SignInToken,
}

/// The objects of every kind, each list in creation order.
#[derive(Debug, Default)]
pub(crate) struct InstanceObjects {
    objects: HashMap<Kind, Vec<Value>>,
    /// Machine secret key → machine id: what `POST /v1/m2m_tokens` authenticates with.
    machine_secrets: HashMap<String, String>,
    /// Actor and sign-in token tickets → the token's kind and id.
    tickets: HashMap<String, (Kind, String)>,
}

/// The `id` member of a rendered object.
pub(crate) fn id_of(object: &Value) -> Option<&str> {
    object.get("id").and_then(Value::as_str)
}

impl InstanceObjects {
    /// Every object of `kind`, oldest first.
    pub(crate) fn all(&self, kind: Kind) -> &[Value] {
        self.objects.get(&kind).map_or(&[], Vec::as_slice)
    }

    /// Adds an object.
    pub(crate) fn insert(&mut self, kind: Kind, object: Value) {
        self.objects.entry(kind).or_default().push(object);
    }

    /// The object of `kind` with this id, for a change.
    pub(crate) fn get_mut(&mut self, kind: Kind, id: &str) -> Option<&mut Value> {
        self.objects
            .get_mut(&kind)?
            .iter_mut()
            .find(|object| id_of(object) == Some(id))
    }

    /// Removes and returns the object of `kind` with this id.
    pub(crate) fn remove(&mut self, kind: Kind, id: &str) -> Option<Value> {
        let list = self.objects.get_mut(&kind)?;
        let position = list.iter().position(|object| id_of(object) == Some(id))?;
        if kind == Kind::Machine {
            self.machine_secrets.retain(|_, machine| machine != id);
        }
        Some(list.remove(position))
    }

    /// Lets `secret` authenticate as machine `machine_id`.
    pub(crate) fn add_machine_secret(&mut self, secret: String, machine_id: String) {
        self.machine_secrets.insert(secret, machine_id);
    }

    /// The machine a secret key belongs to.
    pub(crate) fn machine_for_secret(&self, secret: &str) -> Option<&str> {
        self.machine_secrets.get(secret).map(String::as_str)
    }

    /// Records the ticket of an actor or sign-in token.
    pub(crate) fn add_ticket(&mut self, ticket: String, kind: Kind, id: String) {
        self.tickets.insert(ticket, (kind, id));
    }

    /// The token a ticket belongs to.
    pub(crate) fn ticket(&self, ticket: &str) -> Option<(Kind, &str)> {
        self.tickets
            .get(ticket)
            .map(|(kind, id)| (*kind, id.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{InstanceObjects, Kind};

    #[test]
    fn objects_are_found_changed_and_removed_by_id() {
        let mut objects = InstanceObjects::default();
        objects.insert(Kind::Machine, json!({"id": "mch_1", "name": "a"}));
        objects.insert(Kind::Machine, json!({"id": "mch_2", "name": "b"}));
        objects.add_machine_secret("ak_secret".to_owned(), "mch_1".to_owned());
        assert_eq!(objects.machine_for_secret("ak_secret"), Some("mch_1"));
        if let Some(machine) = objects.get_mut(Kind::Machine, "mch_2") {
            machine["name"] = json!("c");
        }
        assert_eq!(objects.all(Kind::Machine)[1]["name"], "c");
        assert!(objects.remove(Kind::Machine, "mch_1").is_some());
        assert_eq!(objects.machine_for_secret("ak_secret"), None);
        assert_eq!(objects.all(Kind::Machine).len(), 1);
        assert!(objects.all(Kind::Domain).is_empty());
        objects.add_ticket("t".to_owned(), Kind::ActorToken, "act_1".to_owned());
        assert_eq!(objects.ticket("t"), Some((Kind::ActorToken, "act_1")));
    }
}
