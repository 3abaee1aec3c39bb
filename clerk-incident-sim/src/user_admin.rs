//! Creating, updating and deleting users: the changes that produce `user.*` webhook events.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::SimError;
use crate::delivery::Delivery;
use crate::http::wire::UserJson;
use crate::ids;
use crate::model::SimUser;
use crate::state::{Inner, Shared};
use crate::webhooks::{DeletedUserJson, UserEvent};

/// One day in milliseconds: `last_active_at` has day precision.
const DAY_MS: i64 = 86_400_000;

/// A user to create with [`Sim::create_user`](crate::Sim::create_user) or
/// `POST /_sim/users`.
///
/// An empty `email_address` is replaced by `<user id, lowercased>@example.com`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewUser {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// The user's primary email address.
    pub email_address: String,
}

/// Changes to a user for [`Sim::update_user`](crate::Sim::update_user) or
/// `PATCH /_sim/users/{id}`; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserPatch {
    /// New given name.
    pub first_name: Option<String>,
    /// New family name.
    pub last_name: Option<String>,
    /// New primary email address (the email address keeps its id).
    pub email_address: Option<String>,
}

/// Checks that an email address looks like one.
fn validate_email(email: &str) -> Result<(), SimError> {
    let valid = email.len() <= 320
        && !email.chars().any(char::is_whitespace)
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
    if valid {
        Ok(())
    } else {
        Err(SimError::InvalidUser {
            reason: "email_address must be an email address".to_owned(),
        })
    }
}

/// Everything a new user can be given: what [`NewUser`] gives, and what the Backend API's
/// `POST /v1/users` can set besides (identifiers, metadata, a backdated `created_at`).
#[derive(Clone, Debug, Default)]
pub(crate) struct UserDraft {
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    /// Empty: `<user id, lowercased>@example.com`.
    pub(crate) email_address: String,
    pub(crate) external_id: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) phone_number: Option<String>,
    pub(crate) public_metadata: Map<String, Value>,
    pub(crate) private_metadata: Map<String, Value>,
    pub(crate) unsafe_metadata: Map<String, Value>,
    /// A creation time in the past, as the Backend API accepts for imports; `updated_at` is
    /// still the time of the call.
    pub(crate) created_at: Option<i64>,
}

impl From<NewUser> for UserDraft {
    fn from(new: NewUser) -> Self {
        Self {
            first_name: new.first_name,
            last_name: new.last_name,
            email_address: new.email_address,
            ..Self::default()
        }
    }
}

impl Inner {
    /// Adds a user created at `now` (moved 1 ms past the newest user if needed, so that
    /// creation times stay distinct), or at the draft's earlier `created_at` (moved back
    /// 1 ms at a time until distinct).
    fn create_user(&mut self, new: UserDraft, now: i64) -> SimUser {
        let mut id = ids::new_id(&mut self.user_rng, "user");
        while self.store.user(&id).is_some() {
            id = ids::new_id(&mut self.user_rng, "user");
        }
        let newest = self
            .store
            .users_newest_first()
            .next()
            .map_or(i64::MIN, |user| user.created_at);
        let created_at = match new.created_at.filter(|&at| at < now) {
            Some(mut at) => {
                while self
                    .store
                    .users_newest_first()
                    .any(|user| user.created_at == at)
                {
                    at -= 1;
                }
                at
            }
            None => now.max(newest.saturating_add(1)),
        };
        let email_address = if new.email_address.is_empty() {
            format!("{}@example.com", id.to_ascii_lowercase())
        } else {
            new.email_address
        };
        let user = SimUser {
            email_address_id: ids::new_id(&mut self.user_rng, "idn"),
            id,
            first_name: new.first_name,
            last_name: new.last_name,
            email_address,
            created_at,
            updated_at: created_at.max(now),
            last_active_at: created_at - created_at.rem_euclid(DAY_MS),
            last_sign_in_at: created_at,
            banned: false,
            external_id: new.external_id,
            username: new.username,
            phone_number: new.phone_number,
            public_metadata: new.public_metadata,
            private_metadata: new.private_metadata,
            unsafe_metadata: new.unsafe_metadata,
            membership: None,
            other_memberships: Vec::new(),
        };
        self.store.insert_user(user.clone());
        user
    }

    /// Applies `change`; `updated_at` becomes `now`, or 1 ms past its previous value.
    fn change_user(
        &mut self,
        id: &str,
        now: i64,
        change: impl FnOnce(&mut SimUser),
    ) -> Result<SimUser, SimError> {
        let user = self
            .store
            .user_mut(id)
            .ok_or_else(|| SimError::UnknownUser {
                user_id: id.to_owned(),
            })?;
        change(user);
        user.updated_at = now.max(user.updated_at.saturating_add(1));
        Ok(user.clone())
    }
}

impl UserPatch {
    fn apply(self, user: &mut SimUser) {
        if let Some(first_name) = self.first_name {
            user.first_name = first_name;
        }
        if let Some(last_name) = self.last_name {
            user.last_name = last_name;
        }
        if let Some(email_address) = self.email_address {
            user.email_address = email_address;
        }
    }
}

impl Shared {
    /// Creates a user and delivers `user.created`.
    pub(crate) async fn create_user(&self, new: NewUser) -> Result<(SimUser, Delivery), SimError> {
        self.create_user_from(new.into()).await
    }

    /// Creates a user from a full draft and delivers `user.created`.
    pub(crate) async fn create_user_from(
        &self,
        new: UserDraft,
    ) -> Result<(SimUser, Delivery), SimError> {
        if !new.email_address.is_empty() {
            validate_email(&new.email_address)?;
        }
        let now = self.clock.now_ms();
        let user = self.lock().create_user(new, now);
        tracing::info!(user_id = %user.id, "clerk sim user created");
        let body = self.event_body(UserEvent::Created, now, UserJson::new(&user));
        let delivery = self.deliver(UserEvent::Created, body).await;
        Ok((user, delivery))
    }

    /// Updates a user and delivers `user.updated`.
    pub(crate) async fn update_user(
        &self,
        id: &str,
        patch: UserPatch,
    ) -> Result<(SimUser, Delivery), SimError> {
        if let Some(email) = &patch.email_address {
            validate_email(email)?;
        }
        self.change_user(id, |user| patch.apply(user)).await
    }

    /// Changes a user with `change` and delivers `user.updated`.
    pub(crate) async fn change_user(
        &self,
        id: &str,
        change: impl FnOnce(&mut SimUser),
    ) -> Result<(SimUser, Delivery), SimError> {
        let now = self.clock.now_ms();
        let user = self.lock().change_user(id, now, change)?;
        tracing::info!(user_id = %user.id, "clerk sim user updated");
        let body = self.event_body(UserEvent::Updated, now, UserJson::new(&user));
        let delivery = self.deliver(UserEvent::Updated, body).await;
        Ok((user, delivery))
    }

    /// Deletes a user and their sessions, and delivers `user.deleted`.
    pub(crate) async fn delete_user(&self, id: &str) -> Result<Delivery, SimError> {
        let now = self.clock.now_ms();
        let removed = self.lock().store.remove_user(id);
        if removed.is_none() {
            return Err(SimError::UnknownUser {
                user_id: id.to_owned(),
            });
        }
        tracing::info!(user_id = %id, "clerk sim user deleted");
        let body = self.event_body(UserEvent::Deleted, now, DeletedUserJson::new(id));
        Ok(self.deliver(UserEvent::Deleted, body).await)
    }
}

#[cfg(test)]
mod tests {
    use super::validate_email;

    #[test]
    fn emails_need_a_local_part_and_a_domain() {
        assert!(validate_email("a@b.example").is_ok());
        assert!(validate_email("ab.example").is_err());
        assert!(validate_email("@b.example").is_err());
        assert!(validate_email("a@").is_err());
        assert!(validate_email("a b@c.example").is_err());
    }
}
