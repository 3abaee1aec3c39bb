//! The sim's data with the indexes the endpoints need.

use std::cmp::Reverse;
use std::collections::HashMap;

use crate::model::{SessionStatus, SimOrganization, SimSession, SimUser};
use crate::seed::Dataset;

/// Users, sessions and organisations, indexed by id.
#[derive(Debug, Default)]
pub(crate) struct Store {
    users: Vec<SimUser>,
    sessions: Vec<SimSession>,
    organizations: Vec<SimOrganization>,
    admin_user_id: Option<String>,
    user_index: HashMap<String, usize>,
    session_index: HashMap<String, usize>,
    /// Session positions per user id, newest first.
    sessions_by_user: HashMap<String, Vec<usize>>,
    /// Session positions per client id, newest first.
    sessions_by_client: HashMap<String, Vec<usize>>,
    /// User positions, newest `created_at` first.
    users_newest_first: Vec<usize>,
    /// Session positions, newest `created_at` first.
    sessions_newest_first: Vec<usize>,
}

impl Store {
    /// Indexes `dataset`.
    pub(crate) fn new(dataset: Dataset) -> Self {
        let Dataset {
            users,
            sessions,
            organizations,
            admin_user_id,
        } = dataset;

        let mut users_newest_first: Vec<usize> = (0..users.len()).collect();
        users_newest_first.sort_by_key(|&position| {
            users
                .get(position)
                .map(|user| (Reverse(user.created_at), user.id.as_str()))
        });
        let mut sessions_newest_first: Vec<usize> = (0..sessions.len()).collect();
        sessions_newest_first.sort_by_key(|&position| {
            sessions
                .get(position)
                .map(|session| (Reverse(session.created_at), session.id.as_str()))
        });

        let mut sessions_by_user: HashMap<String, Vec<usize>> = HashMap::new();
        let mut sessions_by_client: HashMap<String, Vec<usize>> = HashMap::new();
        for &position in &sessions_newest_first {
            if let Some(session) = sessions.get(position) {
                sessions_by_user
                    .entry(session.user_id.clone())
                    .or_default()
                    .push(position);
                sessions_by_client
                    .entry(session.client_id.clone())
                    .or_default()
                    .push(position);
            }
        }

        Self {
            user_index: users
                .iter()
                .enumerate()
                .map(|(position, user)| (user.id.clone(), position))
                .collect(),
            session_index: sessions
                .iter()
                .enumerate()
                .map(|(position, session)| (session.id.clone(), position))
                .collect(),
            users,
            sessions,
            organizations,
            admin_user_id,
            sessions_by_user,
            sessions_by_client,
            users_newest_first,
            sessions_newest_first,
        }
    }

    /// The user with this id.
    pub(crate) fn user(&self, id: &str) -> Option<&SimUser> {
        self.user_index
            .get(id)
            .and_then(|&position| self.users.get(position))
    }

    /// The user with this id, for an update (`id` and `created_at`, which the indexes use,
    /// must not change).
    pub(crate) fn user_mut(&mut self, id: &str) -> Option<&mut SimUser> {
        let position = *self.user_index.get(id)?;
        self.users.get_mut(position)
    }

    /// Adds a user whose id is not in the store yet.
    pub(crate) fn insert_user(&mut self, user: SimUser) {
        let key = (Reverse(user.created_at), user.id.as_str());
        let at = self.users_newest_first.partition_point(|&position| {
            self.users
                .get(position)
                .is_some_and(|other| (Reverse(other.created_at), other.id.as_str()) < key)
        });
        let position = self.users.len();
        self.user_index.insert(user.id.clone(), position);
        self.users.push(user);
        self.users_newest_first.insert(at, position);
    }

    /// Removes a user and their sessions (and the admin designation if it was theirs);
    /// `None` if no user has this id. Rebuilds the indexes.
    pub(crate) fn remove_user(&mut self, id: &str) -> Option<SimUser> {
        if !self.user_index.contains_key(id) {
            return None;
        }
        let mut removed = None;
        self.rebuild(|dataset| {
            let (gone, users): (Vec<SimUser>, Vec<SimUser>) = std::mem::take(&mut dataset.users)
                .into_iter()
                .partition(|user| user.id == id);
            dataset.users = users;
            dataset.sessions.retain(|session| session.user_id != id);
            dataset.admin_user_id = dataset.admin_user_id.take().filter(|admin| admin != id);
            removed = gone.into_iter().next();
        });
        removed
    }

    /// Adds a session whose id is not in the store yet. Rebuilds the indexes.
    pub(crate) fn insert_session(&mut self, session: SimSession) {
        self.rebuild(|dataset| dataset.sessions.push(session));
    }

    /// Adds an organisation whose id is not in the store yet.
    pub(crate) fn insert_organization(&mut self, organization: SimOrganization) {
        self.organizations.push(organization);
    }

    /// The organisation with this id.
    pub(crate) fn organization(&self, id: &str) -> Option<&SimOrganization> {
        self.organizations.iter().find(|org| org.id == id)
    }

    /// Renames an organisation (its members' memberships follow a new slug); `updated_at`
    /// becomes `now`, or 1 ms past its previous value. `None` if no organisation has this id.
    pub(crate) fn update_organization(
        &mut self,
        id: &str,
        name: Option<String>,
        slug: Option<String>,
        now: i64,
    ) -> Option<SimOrganization> {
        let organization = self.organizations.iter_mut().find(|org| org.id == id)?;
        if let Some(name) = name {
            organization.name = name;
        }
        if let Some(slug) = slug {
            organization.slug = slug.clone();
            for user in &mut self.users {
                for membership in user
                    .membership
                    .iter_mut()
                    .chain(&mut user.other_memberships)
                {
                    if membership.organization_id == id {
                        membership.organization_slug = slug.clone();
                    }
                }
            }
        }
        organization.updated_at = now.max(organization.updated_at.saturating_add(1));
        Some(organization.clone())
    }

    /// Removes an organisation and every membership in it; `None` if no organisation has
    /// this id.
    pub(crate) fn remove_organization(&mut self, id: &str) -> Option<SimOrganization> {
        let position = self.organizations.iter().position(|org| org.id == id)?;
        let removed = self.organizations.remove(position);
        for user in &mut self.users {
            if user
                .membership
                .as_ref()
                .is_some_and(|membership| membership.organization_id == id)
            {
                user.membership = None;
            }
        }
        Some(removed)
    }

    /// Takes the data apart, lets `change` edit it, and indexes it again.
    fn rebuild(&mut self, change: impl FnOnce(&mut Dataset)) {
        let Self {
            users,
            sessions,
            organizations,
            admin_user_id,
            ..
        } = std::mem::take(self);
        let mut dataset = Dataset {
            users,
            sessions,
            organizations,
            admin_user_id,
        };
        change(&mut dataset);
        *self = Self::new(dataset);
    }

    /// The session with this id.
    pub(crate) fn session(&self, id: &str) -> Option<&SimSession> {
        self.session_index
            .get(id)
            .and_then(|&position| self.sessions.get(position))
    }

    /// The session with this id, for an update (ids and timestamps used by the indexes must
    /// not change).
    pub(crate) fn session_mut(&mut self, id: &str) -> Option<&mut SimSession> {
        let position = *self.session_index.get(id)?;
        self.sessions.get_mut(position)
    }

    /// Every user, newest `created_at` first.
    pub(crate) fn users_newest_first(&self) -> impl DoubleEndedIterator<Item = &SimUser> {
        self.users_newest_first
            .iter()
            .filter_map(|&position| self.users.get(position))
    }

    /// Every session, newest `created_at` first.
    pub(crate) fn sessions_newest_first(&self) -> impl Iterator<Item = &SimSession> {
        self.sessions_newest_first
            .iter()
            .filter_map(|&position| self.sessions.get(position))
    }

    /// The sessions of a user, newest first.
    pub(crate) fn sessions_of_user(&self, user_id: &str) -> impl Iterator<Item = &SimSession> {
        self.positions(self.sessions_by_user.get(user_id))
    }

    /// The sessions of a client, newest first.
    pub(crate) fn sessions_of_client(&self, client_id: &str) -> impl Iterator<Item = &SimSession> {
        self.positions(self.sessions_by_client.get(client_id))
    }

    fn positions<'a>(
        &'a self,
        positions: Option<&'a Vec<usize>>,
    ) -> impl Iterator<Item = &'a SimSession> {
        positions
            .into_iter()
            .flatten()
            .filter_map(|&position| self.sessions.get(position))
    }

    /// The user's newest session with status `active`.
    pub(crate) fn newest_active_session(&self, user_id: &str) -> Option<&SimSession> {
        self.sessions_of_user(user_id)
            .find(|session| session.status == SessionStatus::Active)
    }

    /// Every organisation, in creation order.
    pub(crate) fn organizations(&self) -> &[SimOrganization] {
        &self.organizations
    }

    /// The seeded `org:admin` of the first organisation.
    pub(crate) fn admin_user_id(&self) -> Option<&str> {
        self.admin_user_id.as_deref()
    }

    /// Number of users.
    pub(crate) fn user_count(&self) -> usize {
        self.users.len()
    }

    /// Number of sessions.
    pub(crate) fn session_count(&self) -> usize {
        self.sessions.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Store;
    use crate::model::SessionStatus;
    use crate::seed::{SeedSpec, generate};

    #[test]
    fn indexes_agree_with_the_data() {
        let store = Store::new(generate(&SeedSpec {
            users: 30,
            sessions: 60,
            organizations: 2,
            seed: 5,
            now_unix_ms: 1_750_000_000_000,
            max_session_lifetime_ms: 7 * 86_400_000,
        }));
        let users: Vec<_> = store.users_newest_first().collect();
        assert_eq!(users.len(), 30);
        assert!(users.windows(2).all(|w| w[0].created_at > w[1].created_at));
        let admin = store.admin_user_id().unwrap().to_owned();
        let newest = store.newest_active_session(&admin).unwrap();
        assert_eq!(newest.status, SessionStatus::Active);
        assert_eq!(store.session(&newest.id).unwrap().user_id, admin);
        let of_client: Vec<_> = store.sessions_of_client(&newest.client_id).collect();
        assert_eq!(of_client.len(), 1);
        assert!(store.user("user_missing").is_none());
        assert_eq!(store.sessions_newest_first().count(), 60);
    }

    #[test]
    fn users_can_be_added_and_removed() {
        let mut store = Store::new(generate(&SeedSpec {
            users: 10,
            sessions: 20,
            organizations: 1,
            seed: 3,
            now_unix_ms: 1_750_000_000_000,
            max_session_lifetime_ms: 7 * 86_400_000,
        }));
        let mut user = store.users_newest_first().nth(3).unwrap().clone();
        user.id = "user_new".to_owned();
        user.created_at += 1;
        store.insert_user(user);
        let ids: Vec<_> = store.users_newest_first().map(|u| u.id.clone()).collect();
        assert_eq!(ids[3], "user_new");
        assert_eq!(store.user_count(), 11);

        let admin = store.admin_user_id().unwrap().to_owned();
        assert!(store.sessions_of_user(&admin).count() > 0);
        assert_eq!(store.remove_user(&admin).unwrap().id, admin);
        assert!(store.user(&admin).is_none());
        assert!(store.admin_user_id().is_none());
        assert_eq!(store.sessions_of_user(&admin).count(), 0);
        assert!(store.sessions_newest_first().all(|s| s.user_id != admin));
        assert_eq!(store.user_count(), 10);
        assert!(store.user("user_new").is_some());
        assert!(store.remove_user(&admin).is_none());
    }
}
