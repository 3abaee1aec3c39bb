//! Replay of missed user events without Svix access (runbook step 5).

mod delivery;
mod known_ids;
mod message;
mod plan;
mod report;

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::{StreamExt as _, TryStreamExt as _, stream};
use http::Uri;

pub use self::known_ids::{KnownIds, KnownIdsError};
pub use self::message::REPLAY_MESSAGE_PREFIX;
pub use self::plan::{EventCounts, PlannedEvent, Skipped};
pub use self::report::{FailedDelivery, ReplayProgress, ReplayReport};

use self::delivery::{Outcome, Target};
use self::plan::ClerkUser;
use super::WebhookSecret;
use crate::api::{ApiError, ClerkApi, MAX_IDS_PER_FILTER, MAX_PAGE_SIZE, RetryPolicy, UserQuery};
use crate::http::HttpClient;

/// The event types a replay can send.
pub const REPLAY_TYPES: [&str; 3] = ["user.created", "user.updated", "user.deleted"];

/// The default number of deliveries in flight.
pub const DEFAULT_REPLAY_CONCURRENCY: usize = 4;

/// The default time one delivery attempt may take.
pub const DEFAULT_DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);

/// What to replay: the window, the application's known ids, the types, and how to send.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayOptions {
    since_ms: i64,
    known: Option<KnownIds>,
    types: BTreeSet<String>,
    dry_run: bool,
    concurrency: usize,
    retry: RetryPolicy,
    timeout: Duration,
}

impl ReplayOptions {
    /// Users created or updated at or after `since_ms` (Unix ms); every type; no known ids.
    pub fn since(since_ms: i64) -> Self {
        Self {
            since_ms,
            known: None,
            types: BTreeSet::new(),
            dry_run: false,
            concurrency: DEFAULT_REPLAY_CONCURRENCY,
            retry: RetryPolicy::default(),
            timeout: DEFAULT_DELIVERY_TIMEOUT,
        }
    }

    /// The ids the application holds: enables `user.deleted` and skipping unchanged users.
    #[must_use]
    pub fn known_ids(mut self, known: KnownIds) -> Self {
        self.known = Some(known);
        self
    }

    /// Sends only these types (of [`REPLAY_TYPES`]); an empty list sends all three.
    ///
    /// # Errors
    ///
    /// [`ReplayError::Config`] naming a type a replay cannot send.
    pub fn types<I, S>(mut self, types: I) -> Result<Self, ReplayError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.types.clear();
        for name in types {
            let name = name.as_ref().trim();
            if !REPLAY_TYPES.contains(&name) {
                return Err(ReplayError::Config(format!(
                    "`{name}` cannot be replayed; the types are {}",
                    REPLAY_TYPES.join(", ")
                )));
            }
            self.types.insert(name.to_owned());
        }
        Ok(self)
    }

    /// Decides and reports without sending anything.
    #[must_use]
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Deliveries in flight at once (at least 1). Each user gets one event, so order between
    /// users does not matter.
    #[must_use]
    pub fn concurrency(mut self, deliveries: usize) -> Self {
        self.concurrency = deliveries.max(1);
        self
    }

    /// How failed deliveries are retried (5xx, 408, 409, 429 and transport failures).
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The time one delivery attempt may take.
    #[must_use]
    pub fn delivery_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The start of the window, Unix ms.
    pub fn since_ms(&self) -> i64 {
        self.since_ms
    }

    /// Whether this is a dry run.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }
}

/// Why a replay could not run to the end. Single deliveries that fail do not stop it: see
/// [`ReplayReport::failed`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The options or the target are wrong.
    #[error("{0}")]
    Config(String),
    /// The Backend API failed (the instance, the user list or an existence check): nothing
    /// was sent.
    #[error("cannot read Clerk's users")]
    Api(#[source] ApiError),
}

/// Replays user events to an application's webhook endpoint.
///
/// During a Clerk outage, or while the application's webhook endpoint was down, deliveries
/// are lost and the application's users table falls behind. A [`WebhookReplayer`] repairs it
/// from the Backend API alone:
///
/// 1. it lists the users created or updated since a time
///    ([`ClerkApi::list_users_updated_since`]);
/// 2. given the ids the application holds ([`KnownIds`]), it decides `user.created` for the
///    users it lacks and `user.updated` for those it holds (skipping those whose
///    `updated_at` it already has), and checks the other known ids, 100 per request, for
///    users Clerk no longer has: `user.deleted`. Without known ids, a user created in the
///    window is `user.created`, any other `user.updated`, and deletions cannot be found;
/// 3. it delivers each event to the application's own endpoint in Clerk's envelope, signed
///    like Svix signs ([`sign`](super::sign)), with retries and backoff.
///
/// Message ids are deterministic per (type, user, update time), so a receiver that dedupes by
/// `svix-id` (see [`WebhookInbox`](super::WebhookInbox)) applies a second replay as nothing.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use clerk_incident_core::api::{ClerkApi, SecretKey};
/// use clerk_incident_core::webhooks::{KnownIds, ReplayOptions, WebhookReplayer, WebhookSecret};
///
/// let sim = clerk_incident_sim::Sim::builder().users(20).start().await?;
/// let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
///     .base_url(sim.base_url())
///     .build()?;
/// let secret = WebhookSecret::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")?;
/// let replayer = WebhookReplayer::new(api, "http://127.0.0.1:9/api/webhooks/clerk", secret)?;
///
/// // The application holds nobody: every user is missing, nothing is sent in a dry run.
/// let options = ReplayOptions::since(0).known_ids(KnownIds::new()).dry_run(true);
/// let report = replayer.run(&options, |_| {}).await?;
/// assert_eq!(report.planned.created, 20);
/// assert_eq!(report.delivered.total(), 0);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct WebhookReplayer {
    api: ClerkApi,
    target: Target,
}

impl fmt::Debug for WebhookReplayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookReplayer")
            .field("api", &self.api)
            .field("target", &self.target.url)
            .field("secret", &self.target.secret)
            .finish_non_exhaustive()
    }
}

impl WebhookReplayer {
    /// A replayer reading Clerk through `api` and delivering to `target_url` (the
    /// application's webhook endpoint, `http` or `https`), signed with `secret` (the
    /// endpoint's signing secret).
    ///
    /// # Errors
    ///
    /// [`ReplayError::Config`] when the URL is not absolute `http(s)`, or when no HTTP client
    /// is available (the `reqwest` feature is off; call [`http_client`](Self::http_client)).
    pub fn new(
        api: ClerkApi,
        target_url: &str,
        secret: WebhookSecret,
    ) -> Result<Self, ReplayError> {
        let url: Uri = target_url
            .trim()
            .parse()
            .map_err(|_| ReplayError::Config(format!("--target `{target_url}` is not a URL")))?;
        if !matches!(url.scheme_str(), Some("http" | "https")) || url.host().is_none() {
            return Err(ReplayError::Config(format!(
                "--target `{target_url}` must be an http:// or https:// URL"
            )));
        }
        let http = crate::api::default_http_client(1024 * 1024)
            .map_err(|error| ReplayError::Config(error.to_string()))?;
        Ok(Self {
            api,
            target: Target {
                http,
                url,
                secret,
                retry: RetryPolicy::default(),
                timeout: DEFAULT_DELIVERY_TIMEOUT,
            },
        })
    }

    /// Delivers through `http` instead of the default client.
    #[must_use]
    pub fn http_client(mut self, http: Arc<dyn HttpClient>) -> Self {
        self.target.http = http;
        self
    }

    /// Lists, decides and (unless a dry run) delivers; see [`WebhookReplayer`].
    ///
    /// # Errors
    ///
    /// [`ReplayError::Api`] when the instance, the user list or an existence check cannot be
    /// read (after the client's retries); nothing has been sent then.
    pub async fn run<F>(
        &self,
        options: &ReplayOptions,
        mut on_progress: F,
    ) -> Result<ReplayReport, ReplayError>
    where
        F: FnMut(ReplayProgress) + Send,
    {
        let started = tokio::time::Instant::now();
        let requests_before = self.api.counters().requests;
        let instance = self.api.instance().await.map_err(ReplayError::Api)?;

        let changed = self.changed_users(options.since_ms).await?;
        on_progress(ReplayProgress::Listed {
            changed_users: changed.len() as u64,
        });
        let gone = match &options.known {
            Some(known) => self.gone(known, &changed, &mut on_progress).await?,
            None => Vec::new(),
        };
        let changed_users = changed.len() as u64;
        let gone_count = gone.len() as u64;
        let plan = plan::plan(
            changed,
            options.known.as_ref(),
            gone,
            options.since_ms,
            &options.types,
        );
        let mut planned = EventCounts::default();
        for event in &plan.events {
            planned.add(&event.event_type);
        }
        on_progress(ReplayProgress::Planned {
            planned,
            skipped: plan.skipped,
        });

        let mut delivered = EventCounts::default();
        let mut failed = Vec::new();
        if !options.dry_run {
            let target = Target {
                retry: options.retry,
                timeout: options.timeout,
                ..self.target.clone()
            };
            let now = now_ms();
            let total = plan.events.len() as u64;
            let mut sends = stream::iter(plan.events.iter().map(|event| {
                let body = Bytes::from(message::envelope(event, &instance.id, now));
                let target = &target;
                async move { (event, target.deliver(&event.message_id, body).await) }
            }))
            .buffer_unordered(options.concurrency);
            while let Some((event, outcome)) = sends.next().await {
                match outcome {
                    Outcome::Delivered => delivered.add(&event.event_type),
                    Outcome::Failed { reason } => {
                        tracing::warn!(message_id = %event.message_id, user_id = %event.user_id, %reason, "replayed event not delivered");
                        failed.push(FailedDelivery {
                            event_type: event.event_type.clone(),
                            user_id: event.user_id.clone(),
                            message_id: event.message_id.clone(),
                            reason,
                        });
                    }
                }
                on_progress(ReplayProgress::Sent {
                    delivered: delivered.total(),
                    failed: failed.len() as u64,
                    total,
                });
            }
        }
        failed.sort_by(|a, b| a.message_id.cmp(&b.message_id));

        Ok(ReplayReport {
            since_ms: options.since_ms,
            dry_run: options.dry_run,
            target: self.target.url.to_string(),
            changed_users,
            known_ids: options.known.as_ref().map(|known| known.len() as u64),
            gone: gone_count,
            planned,
            delivered,
            skipped: plan.skipped,
            failed,
            events: plan.events,
            api_requests: self.api.counters().requests - requests_before,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }

    /// The users changed since `since_ms`, each once (its most recent version).
    async fn changed_users(&self, since_ms: i64) -> Result<Vec<ClerkUser>, ReplayError> {
        let pages: Vec<Vec<serde_json::Value>> = self
            .api
            .list_users_updated_since(since_ms, MAX_PAGE_SIZE)
            .try_collect()
            .await
            .map_err(ReplayError::Api)?;
        let mut seen = HashSet::new();
        let mut users = Vec::new();
        for json in pages.into_iter().flatten() {
            match ClerkUser::from_json(json) {
                Some(user) if seen.insert(user.id.clone()) => users.push(user),
                Some(_) => {}
                None => tracing::warn!("a user object without id or timestamps was skipped"),
            }
        }
        Ok(users)
    }

    /// The known ids, other than `changed`, that Clerk no longer has: checked
    /// [`MAX_IDS_PER_FILTER`] at a time, one request each.
    async fn gone<F>(
        &self,
        known: &KnownIds,
        changed: &[ClerkUser],
        on_progress: &mut F,
    ) -> Result<Vec<String>, ReplayError>
    where
        F: FnMut(ReplayProgress) + Send,
    {
        let listed: HashSet<&str> = changed.iter().map(|user| user.id.as_str()).collect();
        let candidates: Vec<&str> = known
            .ids()
            .into_iter()
            .filter(|id| !listed.contains(id))
            .collect();
        let mut gone = Vec::new();
        let mut checked = 0_u64;
        for batch in candidates.chunks(MAX_IDS_PER_FILTER) {
            let query = UserQuery::new()
                .user_ids(batch.iter().copied())
                .page_size(MAX_PAGE_SIZE);
            let found: HashSet<String> = self
                .api
                .list_users(query)
                .map_ok(|user| user.id)
                .try_collect()
                .await
                .map_err(ReplayError::Api)?;
            gone.extend(
                batch
                    .iter()
                    .filter(|id| !found.contains(**id))
                    .map(|id| (*id).to_owned()),
            );
            checked += batch.len() as u64;
            on_progress(ReplayProgress::Checked {
                checked,
                gone: gone.len() as u64,
            });
        }
        Ok(gone)
    }
}

/// The system clock in Unix ms.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}
