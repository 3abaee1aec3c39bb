//! Deterministic generation of the sim's users, organisations and sessions.
//!
//! The same [`SeedSpec`] always yields the same data: every id, timestamp and status comes from
//! one `fastrand::Rng` seeded with [`SeedSpec::seed`], and every timestamp is relative to
//! [`SeedSpec::now_unix_ms`].
//!
//! The data is consistent with how Clerk behaves, which is what revocation tooling relies on:
//!
//! * `created_at` is distinct per user and spread over the last two years;
//! * `last_active_at` has day precision (UTC midnight); about 15% of users were active in the
//!   last 7 days, the others 8 to 365 days ago (never before the day they were created);
//! * a session is `active` only if its user's `last_active_at` lies within the maximum session
//!   lifetime of "now", so filtering users on `last_active_at_after` never misses one; about
//!   two thirds of the sessions are active when some user qualifies, the rest are ended,
//!   revoked, removed, expired or abandoned and belong to any user; every session's
//!   `last_active_at` falls on its user's `last_active_at` day or earlier;
//! * about 80% of users belong to one organisation; the first user of the first organisation
//!   is its `org:admin` (and was active today, so that it holds an active session), everyone
//!   else is an `org:member`.

use std::collections::HashSet;

use crate::clock::MAX_UNIX_MS;
use crate::ids::new_id;
use crate::model::{OrgRole, SessionStatus, SimMembership, SimOrganization, SimSession, SimUser};

/// Most users a seed may ask for.
pub(crate) const MAX_USERS: usize = 1_000_000;
/// Most sessions a seed may ask for.
pub(crate) const MAX_SESSIONS: usize = 2_000_000;
/// Most organisations a seed may ask for.
pub(crate) const MAX_ORGANIZATIONS: usize = 10_000;

const DAY_MS: i64 = 86_400_000;
/// Users are created within this span before "now" (two years).
const CREATED_SPAN_MS: i64 = 730 * DAY_MS;
/// Share of users active within the last 7 days.
const RECENT_SHARE: f64 = 0.15;
/// Share of users in an organisation.
const IN_ORGANIZATION_SHARE: f64 = 0.8;
/// Sessions are abandoned after this much inactivity (unless they expire later).
const ABANDON_AFTER_MS: i64 = 30 * DAY_MS;

const FIRST_NAMES: [&str; 20] = [
    "Ada",
    "Alan",
    "Barbara",
    "Claude",
    "Donald",
    "Edsger",
    "Frances",
    "Grace",
    "Hedy",
    "Ivan",
    "John",
    "Katherine",
    "Leslie",
    "Margaret",
    "Niklaus",
    "Radia",
    "Shafi",
    "Tim",
    "Vint",
    "Yukihiro",
];
const LAST_NAMES: [&str; 20] = [
    "Lovelace",
    "Turing",
    "Liskov",
    "Shannon",
    "Knuth",
    "Dijkstra",
    "Allen",
    "Hopper",
    "Lamarr",
    "Sutherland",
    "McCarthy",
    "Johnson",
    "Lamport",
    "Hamilton",
    "Wirth",
    "Perlman",
    "Goldwasser",
    "Berners-Lee",
    "Cerf",
    "Matsumoto",
];
const ORGANIZATION_NAMES: [&str; 8] = [
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Soylent", "Vandelay", "Wonka",
];

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SeedSpec {
    /// Number of users.
    pub(crate) users: usize,
    /// Number of sessions (none are made when there are no users).
    pub(crate) sessions: usize,
    /// Number of organisations.
    pub(crate) organizations: usize,
    /// RNG seed.
    pub(crate) seed: u64,
    /// "Now", Unix milliseconds.
    pub(crate) now_unix_ms: i64,
    /// The instance's maximum session lifetime, milliseconds.
    pub(crate) max_session_lifetime_ms: i64,
}

impl SeedSpec {
    /// Checks the sizes against the sim's caps.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let checks = [
            ("users", self.users, MAX_USERS),
            ("sessions", self.sessions, MAX_SESSIONS),
            ("organizations", self.organizations, MAX_ORGANIZATIONS),
        ];
        for (name, value, max) in checks {
            if value > max {
                return Err(format!("{name} must be at most {max}, got {value}"));
            }
        }
        Ok(())
    }
}

/// Generated data.
#[derive(Clone, Debug, Default)]
pub(crate) struct Dataset {
    pub(crate) users: Vec<SimUser>,
    pub(crate) sessions: Vec<SimSession>,
    pub(crate) organizations: Vec<SimOrganization>,
    pub(crate) admin_user_id: Option<String>,
}

/// Generates the data described by `spec`.
pub(crate) fn generate(spec: &SeedSpec) -> Dataset {
    let mut generator = Generator {
        rng: fastrand::Rng::with_seed(spec.seed),
        now: spec.now_unix_ms.clamp(0, MAX_UNIX_MS),
        lifetime: spec.max_session_lifetime_ms.max(0),
    };
    let organizations = generator.organizations(spec.organizations);
    let users = generator.users(spec.users, &organizations);
    let sessions = generator.sessions(spec.sessions, &users);
    let admin_user_id = users
        .iter()
        .find(|user| {
            user.membership
                .as_ref()
                .is_some_and(|membership| membership.role == OrgRole::Admin)
        })
        .map(|user| user.id.clone());
    Dataset {
        users,
        sessions,
        organizations,
        admin_user_id,
    }
}

struct Generator {
    rng: fastrand::Rng,
    now: i64,
    lifetime: i64,
}

impl Generator {
    fn today(&self) -> i64 {
        self.now - self.now.rem_euclid(DAY_MS)
    }

    /// A uniform draw in `low..=high`, or `low` if the range is empty.
    fn between(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            low
        } else {
            self.rng.i64(low..=high)
        }
    }

    fn pick<'a>(&mut self, names: &[&'a str]) -> &'a str {
        names
            .get(self.rng.usize(..names.len().max(1)))
            .copied()
            .unwrap_or_default()
    }

    fn organizations(&mut self, count: usize) -> Vec<SimOrganization> {
        (0..count)
            .map(|index| {
                let (name, slug) = match ORGANIZATION_NAMES.get(index) {
                    Some(name) => ((*name).to_owned(), name.to_ascii_lowercase()),
                    None => (
                        format!("Organization {}", index + 1),
                        format!("org-{}", index + 1),
                    ),
                };
                let id = new_id(&mut self.rng, "org");
                let created_at = self.now - CREATED_SPAN_MS - self.rng.i64(0..=30 * DAY_MS);
                SimOrganization {
                    id,
                    name,
                    slug,
                    created_at,
                    updated_at: created_at,
                    created_by: None,
                }
            })
            .collect()
    }

    fn users(&mut self, count: usize, organizations: &[SimOrganization]) -> Vec<SimUser> {
        let mut seen_created = HashSet::with_capacity(count);
        let mut admin_assigned = false;
        let mut users = Vec::with_capacity(count);
        for index in 0..count {
            let mut created_at = self.now - self.rng.i64(0..CREATED_SPAN_MS);
            while !seen_created.insert(created_at) {
                created_at -= 1;
            }
            let updated_at = self.between(created_at, self.now);

            let membership = self
                .membership(index, organizations, &mut admin_assigned)
                .map(|membership| SimMembership {
                    created_at,
                    updated_at: created_at,
                    ..membership
                });
            let is_admin = membership
                .as_ref()
                .is_some_and(|membership| membership.role == OrgRole::Admin);
            let recent = self.rng.f64() < RECENT_SHARE;
            let days_ago = if is_admin {
                0
            } else if recent {
                self.rng.i64(0..=6)
            } else {
                self.rng.i64(8..=365)
            };
            let created_day = created_at - created_at.rem_euclid(DAY_MS);
            let last_active_at = (self.today() - days_ago * DAY_MS).max(created_day);

            let first_name = self.pick(&FIRST_NAMES).to_owned();
            let last_name = self.pick(&LAST_NAMES).to_owned();
            let email_address = format!(
                "{}.{}.{}@example.com",
                first_name.to_ascii_lowercase(),
                last_name.to_ascii_lowercase(),
                index + 1
            );
            let id = new_id(&mut self.rng, "user");
            let membership = membership.map(|membership| SimMembership {
                id: seeded_membership_id(&id),
                ..membership
            });
            users.push(SimUser {
                id,
                first_name,
                last_name,
                email_address,
                email_address_id: new_id(&mut self.rng, "idn"),
                created_at,
                updated_at,
                last_active_at,
                last_sign_in_at: last_active_at.max(created_at),
                banned: false,
                external_id: None,
                username: None,
                phone_number: None,
                public_metadata: serde_json::Map::new(),
                private_metadata: serde_json::Map::new(),
                unsafe_metadata: serde_json::Map::new(),
                membership,
                other_memberships: Vec::new(),
            });
        }
        users
    }

    fn membership(
        &mut self,
        index: usize,
        organizations: &[SimOrganization],
        admin_assigned: &mut bool,
    ) -> Option<SimMembership> {
        if organizations.is_empty() {
            return None;
        }
        let organization = if index == 0 {
            organizations.first()
        } else if self.rng.f64() < IN_ORGANIZATION_SHARE {
            organizations.get(self.rng.usize(..organizations.len()))
        } else {
            None
        }?;
        let first_of_first = !*admin_assigned
            && organizations
                .first()
                .is_some_and(|first| first.id == organization.id);
        *admin_assigned |= first_of_first;
        Some(SimMembership {
            id: String::new(),
            created_at: 0,
            updated_at: 0,
            organization_id: organization.id.clone(),
            organization_slug: organization.slug.clone(),
            role: if first_of_first {
                OrgRole::Admin
            } else {
                OrgRole::Member
            },
        })
    }

    /// Whether `user` may hold an active session: its last activity day lies within the
    /// maximum session lifetime of now.
    fn may_hold_active_session(&self, user: &SimUser) -> bool {
        self.lifetime > 0 && user.last_active_at >= self.now - self.lifetime
    }

    fn sessions(&mut self, count: usize, users: &[SimUser]) -> Vec<SimSession> {
        if users.is_empty() {
            return Vec::new();
        }
        let eligible: Vec<&SimUser> = users
            .iter()
            .filter(|user| self.may_hold_active_session(user))
            .collect();
        let active = if eligible.is_empty() {
            0
        } else {
            (count * 2).div_ceil(3)
        };
        let mut sessions = Vec::with_capacity(count);
        for index in 0..count {
            let session = if index < active {
                // Every eligible user gets one active session before anyone gets a second.
                let slot = if index < eligible.len() {
                    index
                } else {
                    self.rng.usize(..eligible.len())
                };
                eligible.get(slot).map(|user| self.active_session(user))
            } else {
                users
                    .get(self.rng.usize(..users.len()))
                    .map(|user| self.ended_session(user))
            };
            sessions.extend(session);
        }
        sessions
    }

    fn active_session(&mut self, user: &SimUser) -> SimSession {
        let day_end = (user.last_active_at + DAY_MS - 1).min(self.now);
        let earliest = user
            .last_active_at
            .max(self.now - self.lifetime + 1)
            .max(user.created_at);
        let last_active_at = self.between(earliest, day_end);
        let created_at = self.between(
            user.created_at.max(last_active_at - self.lifetime),
            last_active_at,
        );
        let expire_at = last_active_at + self.lifetime;
        SimSession {
            id: new_id(&mut self.rng, "sess"),
            user_id: user.id.clone(),
            client_id: new_id(&mut self.rng, "client"),
            status: SessionStatus::Active,
            created_at,
            updated_at: last_active_at,
            last_active_at,
            expire_at,
            abandon_at: expire_at.max(last_active_at + ABANDON_AFTER_MS),
            last_active_organization_id: user
                .membership
                .as_ref()
                .map(|membership| membership.organization_id.clone()),
            actor: None,
        }
    }

    fn ended_session(&mut self, user: &SimUser) -> SimSession {
        const ENDINGS: [SessionStatus; 5] = [
            SessionStatus::Ended,
            SessionStatus::Revoked,
            SessionStatus::Removed,
            SessionStatus::Expired,
            SessionStatus::Abandoned,
        ];
        let day_end = (user.last_active_at + DAY_MS - 1).min(self.now);
        let created_at = self.between(user.created_at, day_end);
        let last_active_at = self.between(created_at, day_end);
        let expire_at = last_active_at + self.lifetime;
        let abandon_at = expire_at.max(last_active_at + ABANDON_AFTER_MS);
        let drawn = ENDINGS
            .get(self.rng.usize(..ENDINGS.len()))
            .copied()
            .unwrap_or(SessionStatus::Ended);
        let (status, updated_at) = match drawn {
            SessionStatus::Expired if expire_at <= self.now => (drawn, expire_at),
            SessionStatus::Abandoned if abandon_at <= self.now => (drawn, abandon_at),
            SessionStatus::Expired | SessionStatus::Abandoned => {
                (SessionStatus::Ended, last_active_at)
            }
            SessionStatus::Ended => (drawn, last_active_at),
            _ => (drawn, self.between(last_active_at, self.now)),
        };
        SimSession {
            id: new_id(&mut self.rng, "sess"),
            user_id: user.id.clone(),
            client_id: new_id(&mut self.rng, "client"),
            status,
            created_at,
            updated_at,
            last_active_at,
            expire_at,
            abandon_at,
            last_active_organization_id: user
                .membership
                .as_ref()
                .map(|membership| membership.organization_id.clone()),
            actor: None,
        }
    }
}

/// The id of a seeded user's membership: `orgmem_` and the body of the user's id, so that it
/// stays the same whenever the store is rebuilt.
pub(crate) fn seeded_membership_id(user_id: &str) -> String {
    let body = user_id.split_once('_').map_or(user_id, |(_, body)| body);
    format!("orgmem_{body}")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::{DAY_MS, SeedSpec, generate};
    use crate::model::{OrgRole, SessionStatus};

    const NOW: i64 = 1_750_000_000_000;
    const WEEK: i64 = 7 * DAY_MS;

    fn spec(seed: u64) -> SeedSpec {
        SeedSpec {
            users: 200,
            sessions: 300,
            organizations: 3,
            seed,
            now_unix_ms: NOW,
            max_session_lifetime_ms: WEEK,
        }
    }

    #[test]
    fn same_spec_same_data() {
        let a = generate(&spec(1));
        let b = generate(&spec(1));
        assert_eq!(a.users, b.users);
        assert_eq!(a.sessions, b.sessions);
        assert_ne!(a.users, generate(&spec(2)).users);
    }

    #[test]
    fn users_are_plausible() {
        let data = generate(&spec(3));
        let created: HashSet<i64> = data.users.iter().map(|u| u.created_at).collect();
        assert_eq!(created.len(), data.users.len());
        let ids: HashSet<&str> = data.users.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids.len(), data.users.len());
        for user in &data.users {
            assert_eq!(user.last_active_at.rem_euclid(DAY_MS), 0);
            assert!(user.created_at <= user.updated_at && user.updated_at <= NOW);
            assert!(user.last_active_at <= NOW);
            assert!(user.created_at > NOW - 731 * DAY_MS);
        }
        let recent = data
            .users
            .iter()
            .filter(|u| u.last_active_at >= NOW - WEEK)
            .count();
        assert!(recent > 10 && recent < 80, "{recent} recent users");
        let admins: Vec<_> = data
            .users
            .iter()
            .filter(|u| {
                u.membership
                    .as_ref()
                    .is_some_and(|m| m.role == OrgRole::Admin)
            })
            .collect();
        assert_eq!(admins.len(), 1);
        assert_eq!(data.admin_user_id.as_deref(), Some(admins[0].id.as_str()));
    }

    #[test]
    fn active_sessions_belong_to_recent_users_only() {
        let data = generate(&spec(4));
        let active: Vec<_> = data
            .sessions
            .iter()
            .filter(|s| s.status == SessionStatus::Active)
            .collect();
        assert_eq!(active.len(), 200);
        for session in &data.sessions {
            let user = data.users.iter().find(|u| u.id == session.user_id).unwrap();
            let activity_day = session.last_active_at - session.last_active_at.rem_euclid(DAY_MS);
            assert!(activity_day <= user.last_active_at);
            assert!(session.created_at <= session.last_active_at);
            assert!(session.last_active_at <= NOW && session.updated_at <= NOW);
            if session.status == SessionStatus::Active {
                assert!(user.last_active_at >= NOW - WEEK);
                assert!(session.expire_at > NOW);
                assert_eq!(session.expire_at, session.last_active_at + WEEK);
            }
            if session.status == SessionStatus::Expired {
                assert!(session.expire_at <= NOW);
            }
        }
        let admin = data.admin_user_id.as_deref().unwrap();
        assert!(active.iter().any(|s| s.user_id == admin));
    }

    #[test]
    fn degenerate_specs_do_not_panic() {
        for (users, sessions, organizations, lifetime) in [
            (0, 10, 0, WEEK),
            (1, 0, 0, WEEK),
            (5, 5, 20, 0),
            (3, 9, 1, 1),
        ] {
            let data = generate(&SeedSpec {
                users,
                sessions,
                organizations,
                seed: 9,
                now_unix_ms: 0,
                max_session_lifetime_ms: lifetime,
            });
            assert_eq!(data.users.len(), users);
            assert!(data.sessions.len() <= sessions);
        }
    }
}
