//! [`SimBuilder`]: configure and start a [`Sim`].

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::clock::{SimClock, system_now_ms};
use crate::seed::SeedSpec;
use crate::signing_keys::SigningKeys;
use crate::state::{Shared, SharedConfig};
use crate::svix::WebhookSecret;
use crate::webhooks::{self, DEFAULT_WEBHOOK_SECRET, Webhooks};
use crate::{Faults, Sim, SimError, StatusPage, http, ids};

/// The secret key a sim accepts unless [`SimBuilder::secret_key`] says otherwise.
pub const DEFAULT_SECRET_KEY: &str = "sk_test_clerkincidentsim0000000000000000";

/// Clerk's default maximum session lifetime: 7 days.
pub const DEFAULT_MAX_SESSION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Configures a [`Sim`]; obtained from [`Sim::builder`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), clerk_incident_sim::SimError> {
/// use clerk_incident_sim::Sim;
///
/// let sim = Sim::builder()
///     .users(500)
///     .sessions(900)
///     .seed(7)
///     .now_unix_ms(1_750_000_000_000)
///     .start()
///     .await?;
/// assert_eq!(sim.users().len(), 500);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SimBuilder {
    users: usize,
    sessions: usize,
    organizations: usize,
    seed: u64,
    now_unix_ms: Option<i64>,
    bind: SocketAddr,
    secret_key: String,
    faults: Faults,
    status_page: StatusPage,
    max_session_lifetime: Duration,
    webhook_endpoint: Option<String>,
    webhook_secret: String,
}

impl Default for SimBuilder {
    fn default() -> Self {
        Self {
            users: 50,
            sessions: 80,
            organizations: 3,
            seed: 42,
            now_unix_ms: None,
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            secret_key: DEFAULT_SECRET_KEY.to_owned(),
            faults: Faults::default(),
            status_page: StatusPage::operational(),
            max_session_lifetime: DEFAULT_MAX_SESSION_LIFETIME,
            webhook_endpoint: None,
            webhook_secret: DEFAULT_WEBHOOK_SECRET.to_owned(),
        }
    }
}

impl fmt::Debug for SimBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimBuilder")
            .field("users", &self.users)
            .field("sessions", &self.sessions)
            .field("organizations", &self.organizations)
            .field("seed", &self.seed)
            .field("now_unix_ms", &self.now_unix_ms)
            .field("bind", &self.bind)
            .field("secret_key", &"[redacted]")
            .field("faults", &self.faults)
            .field("status_page", &self.status_page)
            .field("max_session_lifetime", &self.max_session_lifetime)
            .field("webhook_endpoint", &self.webhook_endpoint)
            .field("webhook_secret", &"[redacted]")
            .finish()
    }
}

impl SimBuilder {
    /// Number of seeded users (default 50, at most 1,000,000).
    #[must_use]
    pub fn users(mut self, users: usize) -> Self {
        self.users = users;
        self
    }

    /// Number of seeded sessions (default 80, at most 2,000,000); none without users.
    #[must_use]
    pub fn sessions(mut self, sessions: usize) -> Self {
        self.sessions = sessions;
        self
    }

    /// Number of seeded organisations (default 3, at most 10,000).
    #[must_use]
    pub fn organizations(mut self, organizations: usize) -> Self {
        self.organizations = organizations;
        self
    }

    /// Seed of the data and of the error rate draws (default 42).
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The sim's "now" at start, Unix milliseconds (default: the system clock). Seeded
    /// timestamps are relative to it, so a fixed value makes the data reproducible; the sim's
    /// clock then runs on from it in real time.
    #[must_use]
    pub fn now_unix_ms(mut self, now_unix_ms: i64) -> Self {
        self.now_unix_ms = Some(now_unix_ms);
        self
    }

    /// Listening address (default `127.0.0.1:0`, an ephemeral port).
    #[must_use]
    pub fn bind(mut self, bind: SocketAddr) -> Self {
        self.bind = bind;
        self
    }

    /// The secret key the Backend API accepts (default [`DEFAULT_SECRET_KEY`]). An
    /// `sk_live_` key makes the instance a `production` one.
    #[must_use]
    pub fn secret_key(mut self, secret_key: impl Into<String>) -> Self {
        self.secret_key = secret_key.into();
        self
    }

    /// Faults injected from the start (default none).
    #[must_use]
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Status page content (default [`StatusPage::operational`]).
    #[must_use]
    pub fn status_page(mut self, status_page: StatusPage) -> Self {
        self.status_page = status_page;
        self
    }

    /// The instance's maximum session lifetime (default 7 days): active sessions expire that
    /// long after their last activity, and only users active within it hold one.
    #[must_use]
    pub fn max_session_lifetime(mut self, max_session_lifetime: Duration) -> Self {
        self.max_session_lifetime = max_session_lifetime;
        self
    }

    /// Where webhook events (`user.created`, `user.updated`, `user.deleted`) are POSTed
    /// (default: nowhere). Must be an `http` or `https` URL.
    #[must_use]
    pub fn webhook_endpoint(mut self, url: impl Into<String>) -> Self {
        self.webhook_endpoint = Some(url.into());
        self
    }

    /// The Svix signing secret of webhook deliveries, `whsec_<base64>` (default
    /// [`DEFAULT_WEBHOOK_SECRET`]).
    #[must_use]
    pub fn webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.webhook_secret = secret.into();
        self
    }

    /// Seeds the data, binds the socket and starts serving on the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// [`SimError::InvalidConfig`] for sizes above the caps, an empty secret key, a webhook
    /// endpoint that is not an http(s) URL or a webhook secret that is not base64,
    /// [`SimError::WebhookClient`] if the webhook HTTP client cannot be built,
    /// [`SimError::Bind`] if the address cannot be bound.
    pub async fn start(self) -> Result<Sim, SimError> {
        let secret_key = self.secret_key.trim().to_owned();
        if secret_key.is_empty() {
            return Err(SimError::InvalidConfig {
                reason: "the secret key must not be empty".to_owned(),
            });
        }
        let clock = SimClock::starting_at(self.now_unix_ms.unwrap_or_else(system_now_ms));
        let max_session_lifetime_ms =
            i64::try_from(self.max_session_lifetime.as_millis()).unwrap_or(i64::MAX);
        let seed_spec = SeedSpec {
            users: self.users,
            sessions: self.sessions,
            organizations: self.organizations,
            seed: self.seed,
            now_unix_ms: clock.now_ms(),
            max_session_lifetime_ms,
        };
        seed_spec
            .validate()
            .map_err(|reason| SimError::InvalidConfig { reason })?;

        let invalid = |reason| SimError::InvalidConfig { reason };
        let webhooks = Webhooks {
            endpoint: self
                .webhook_endpoint
                .as_deref()
                .map(webhooks::validate_endpoint)
                .transpose()
                .map_err(invalid)?,
            secret: WebhookSecret::parse(&self.webhook_secret).map_err(invalid)?,
            drop_next: 0,
        };
        let webhook_client =
            webhooks::client().map_err(|reason| SimError::WebhookClient { reason })?;

        let instance_id = ids::instance_id(self.seed);
        let signing = SigningKeys::load(&instance_id)?;
        let listener = TcpListener::bind(self.bind)
            .await
            .map_err(|source| SimError::Bind {
                addr: self.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: self.bind,
            source,
        })?;
        let base_url = format!("http://{addr}");
        let (shutdown, shutdown_signal) = watch::channel(false);
        let environment_type = if secret_key.starts_with("sk_live_") {
            "production"
        } else {
            "development"
        };
        let shared = Arc::new(Shared::new(SharedConfig {
            base_url,
            environment_type,
            instance_id,
            clock,
            max_session_lifetime: self.max_session_lifetime,
            signing,
            shutdown: shutdown_signal,
            seed_spec,
            secret_key: secret_key.clone(),
            faults: self.faults,
            status_page: self.status_page,
            webhooks,
            webhook_client,
        }));

        let router = http::router(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "clerk sim server stopped");
            }
        });
        tracing::info!(
            base_url = %shared.base_url,
            instance_id = %shared.instance_id,
            users = seed_spec.users,
            sessions = seed_spec.sessions,
            "clerk sim listening"
        );
        Ok(Sim::new(shared, addr, secret_key, shutdown, server))
    }
}
