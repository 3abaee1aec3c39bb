//! The state shared by the [`Sim`](crate::Sim) handle and the HTTP handlers.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use crate::clock::SimClock;
use crate::counters::Counters;
use crate::faults::Faults;
use crate::instance_objects::InstanceObjects;
use crate::rate_limit::SlidingWindow;
use crate::seed::{self, SeedSpec};
use crate::signing_keys::SigningKeys;
use crate::status_page::StatusPage;
use crate::store::Store;
use crate::webhooks::Webhooks;

/// Everything the sim knows. Immutable parts live here; mutable ones behind [`Shared::lock`].
pub(crate) struct Shared {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base_url: String,
    /// `ins_...`.
    pub(crate) instance_id: String,
    /// The sim's notion of now.
    pub(crate) clock: SimClock,
    /// The instance's maximum session lifetime.
    pub(crate) max_session_lifetime: Duration,
    /// `production` for an `sk_live_` secret key, `development` otherwise.
    pub(crate) environment_type: &'static str,
    /// Token signing keys.
    pub(crate) signing: SigningKeys,
    /// Becomes `true` when the sim shuts down; hung requests wait on it.
    pub(crate) shutdown: watch::Receiver<bool>,
    /// The HTTP client of webhook deliveries and scenarios (one per sim, reused).
    pub(crate) webhook_client: reqwest::Client,
    /// The secret key the sim started with: the one the `compromise` scenario leaks.
    pub(crate) initial_secret_key: String,
    inner: Mutex<Inner>,
}

/// The mutable part of the state. The lock is never held across an `.await`.
pub(crate) struct Inner {
    /// Users, sessions, organisations.
    pub(crate) store: Store,
    /// The spec of the last seeding.
    pub(crate) seed_spec: SeedSpec,
    /// Injected faults.
    pub(crate) faults: Faults,
    /// Draws for `Faults::error_rate`, seeded for reproducible runs.
    pub(crate) fault_rng: fastrand::Rng,
    /// Accepted requests of the rate limit fault.
    pub(crate) rate_window: SlidingWindow,
    /// Secret keys that authenticate Backend API requests.
    pub(crate) secret_keys: HashSet<String>,
    /// Signing key generation (0, then +1 per rotation).
    pub(crate) signing_generation: u32,
    /// Status page content.
    pub(crate) status_page: StatusPage,
    /// When the status page content last changed, Unix ms.
    pub(crate) status_page_updated_at: i64,
    /// Request and fault counters.
    pub(crate) counters: Counters,
    /// Webhook endpoint, secret and drops.
    pub(crate) webhooks: Webhooks,
    /// Ids of users created through the admin API, seeded for reproducible runs.
    pub(crate) user_rng: fastrand::Rng,
    /// Invitations, redirect URLs, domains, machines, API keys and the other objects the
    /// Backend API creates.
    pub(crate) objects: InstanceObjects,
    /// Origins allowed to use the Frontend API (`PATCH /v1/instance` changes them).
    pub(crate) allowed_origins: Vec<String>,
}

/// What [`Shared::new`] needs.
pub(crate) struct SharedConfig {
    pub(crate) base_url: String,
    pub(crate) environment_type: &'static str,
    pub(crate) instance_id: String,
    pub(crate) clock: SimClock,
    pub(crate) max_session_lifetime: Duration,
    pub(crate) signing: SigningKeys,
    pub(crate) shutdown: watch::Receiver<bool>,
    pub(crate) seed_spec: SeedSpec,
    pub(crate) secret_key: String,
    pub(crate) faults: Faults,
    pub(crate) status_page: StatusPage,
    pub(crate) webhooks: Webhooks,
    pub(crate) webhook_client: reqwest::Client,
}

impl Shared {
    /// Seeds the data and assembles the state.
    pub(crate) fn new(config: SharedConfig) -> Self {
        let inner = Inner {
            store: Store::new(seed::generate(&config.seed_spec)),
            fault_rng: fastrand::Rng::with_seed(config.seed_spec.seed),
            seed_spec: config.seed_spec,
            faults: config.faults.normalized(),
            rate_window: SlidingWindow::default(),
            secret_keys: HashSet::from([config.secret_key.clone()]),
            signing_generation: 0,
            status_page: config.status_page,
            status_page_updated_at: config.clock.now_ms(),
            counters: Counters::default(),
            webhooks: config.webhooks,
            user_rng: fastrand::Rng::with_seed(config.seed_spec.seed ^ 0x6164_6d69_6e5f_7573),
            objects: InstanceObjects::default(),
            allowed_origins: vec![crate::token::DEFAULT_AZP.to_owned()],
        };
        Self {
            base_url: config.base_url,
            instance_id: config.instance_id,
            clock: config.clock,
            max_session_lifetime: config.max_session_lifetime,
            environment_type: config.environment_type,
            signing: config.signing,
            shutdown: config.shutdown,
            webhook_client: config.webhook_client,
            initial_secret_key: config.secret_key,
            inner: Mutex::new(inner),
        }
    }

    /// Locks the mutable state. A poisoned lock is recovered: every update keeps the state
    /// consistent before anything that could panic.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The maximum session lifetime in milliseconds.
    pub(crate) fn max_session_lifetime_ms(&self) -> i64 {
        i64::try_from(self.max_session_lifetime.as_millis()).unwrap_or(i64::MAX)
    }

    /// Replaces the data with a fresh seeding at the sim's current time; `None` keeps the
    /// organisation count and the seed of the last seeding.
    pub(crate) fn reseed(
        &self,
        users: usize,
        sessions: usize,
        organizations: Option<usize>,
        seed: Option<u64>,
    ) -> Result<SeedSpec, String> {
        let now_unix_ms = self.clock.now_ms();
        let mut inner = self.lock();
        let spec = SeedSpec {
            users,
            sessions,
            organizations: organizations.unwrap_or(inner.seed_spec.organizations),
            seed: seed.unwrap_or(inner.seed_spec.seed),
            now_unix_ms,
            max_session_lifetime_ms: self.max_session_lifetime_ms(),
        };
        spec.validate()?;
        inner.reseed(spec);
        tracing::info!(users, sessions, seed = spec.seed, "clerk sim reseeded");
        Ok(spec)
    }

    /// Makes the next key sign; returns its `kid`.
    pub(crate) fn rotate_signing_key(&self) -> String {
        let mut inner = self.lock();
        inner.signing_generation = inner.signing_generation.saturating_add(1);
        let kid = self.signing.kid(inner.signing_generation);
        tracing::info!(kid, "clerk sim signing key rotated");
        kid
    }

    /// The `kid` of the current signing key.
    pub(crate) fn signing_kid(&self) -> String {
        self.signing.kid(self.lock().signing_generation)
    }

    /// Replaces the status page content.
    pub(crate) fn set_status_page(&self, page: StatusPage) {
        let now = self.clock.now_ms();
        let mut inner = self.lock();
        inner.status_page = page;
        inner.status_page_updated_at = now;
    }

    /// Accepts another secret key.
    pub(crate) fn add_secret_key(&self, key: &str) {
        self.lock().secret_keys.insert(key.trim().to_owned());
    }

    /// Rejects a secret key from now on.
    pub(crate) fn revoke_secret_key(&self, key: &str) {
        self.lock().secret_keys.remove(key.trim());
    }
}

impl Inner {
    /// Replaces the faults; a changed rate limit starts with an empty window.
    pub(crate) fn set_faults(&mut self, faults: Faults) {
        let faults = faults.normalized();
        if faults.rate_limit != self.faults.rate_limit {
            self.rate_window.clear();
        }
        self.faults = faults;
    }

    /// Replaces the data with a fresh seeding.
    pub(crate) fn reseed(&mut self, spec: SeedSpec) {
        self.store = Store::new(seed::generate(&spec));
        self.objects = InstanceObjects::default();
        self.seed_spec = spec;
    }
}
