//! [`Sim`]: the handle to a running simulated Clerk.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::signing_keys::SigningKeys;
use crate::state::Shared;
use crate::svix::WebhookSecret;
use crate::webhooks::validate_endpoint;
use crate::{
    Counters, Delivery, Faults, NewUser, SimBuilder, SimError, SimOrganization, SimSession,
    SimUser, StatusPage, TokenRequest, UserPatch, token,
};

/// A running simulated Clerk, served over HTTP on its own port.
///
/// Dropping the handle stops the server: it stops accepting connections and every request
/// left hanging by [`Outage::Hang`](crate::Outage::Hang) is answered 503. Every method takes
/// `&self` and is cheap; the state is shared with the server behind a mutex.
///
/// See the [crate documentation](crate) for the HTTP surface.
pub struct Sim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    secret_key: String,
    shutdown: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

impl fmt::Debug for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim")
            .field("base_url", &self.shared.base_url)
            .field("instance_id", &self.shared.instance_id)
            .field("secret_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// A builder with the defaults: 50 users, 80 sessions, 3 organisations, seed 42, now,
    /// `127.0.0.1:0`, [`DEFAULT_SECRET_KEY`](crate::DEFAULT_SECRET_KEY), no faults, an
    /// operational status page, 7-day sessions.
    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }

    pub(crate) fn new(
        shared: Arc<Shared>,
        addr: SocketAddr,
        secret_key: String,
        shutdown: watch::Sender<bool>,
        server: JoinHandle<()>,
    ) -> Self {
        Self {
            shared,
            addr,
            secret_key,
            shutdown,
            server: Some(server),
        }
    }

    /// Runs the `compromise` scenario (see [`Compromise`](crate::Compromise)): a few ordinary
    /// administrator actions, then the key leaks and an attacker uses it through the Backend
    /// API at `at` (Unix ms on the sim's clock, which moves forward to it if needed; by default
    /// right after the ordinary actions, so that the sim's clock stays with the real one). Returns what was done, with the ids an audit must report.
    ///
    /// Also `POST /_sim/scenarios/compromise` with an optional `{"at": <ms>}`.
    ///
    /// # Errors
    ///
    /// [`SimError::Scenario`] when a request is refused (a fault, the key revoked);
    /// [`SimError::InvalidConfig`] when the seed has no organisation or fewer than 3 users.
    pub async fn compromise(&self, at: Option<i64>) -> Result<crate::Compromise, SimError> {
        self.shared.compromise(&self.secret_key, at).await
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash. The Backend API lives under
    /// `/v1`, the status page under `/api/v2`, the control API under `/_sim`.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The secret key the sim was started with (valid until
    /// [`revoke_secret_key`](Self::revoke_secret_key)).
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// The instance id (`ins_...`), derived from the builder's seed.
    pub fn instance_id(&self) -> &str {
        &self.shared.instance_id
    }

    /// The Frontend API URL, which is also the tokens' `iss`: the [`base_url`](Self::base_url).
    pub fn issuer(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The Frontend API JWKS URL: `base_url` + `/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.shared.base_url)
    }

    /// SPKI PEM of the current signing key: what `CLERK_JWT_KEY` would hold.
    pub fn public_key_pem(&self) -> &'static str {
        SigningKeys::public_pem(self.shared.lock().signing_generation)
    }

    /// `kid` of the current signing key (the instance id until the first rotation).
    pub fn signing_kid(&self) -> String {
        self.shared.signing_kid()
    }

    /// Signs with the next key from now on, under a new `kid`; the JWKS then serves the new
    /// key and the previous one. The sim holds two key pairs and alternates between them.
    pub fn rotate_signing_key(&self) {
        self.shared.rotate_signing_key();
    }

    /// The injected faults.
    pub fn faults(&self) -> Faults {
        self.shared.lock().faults.clone()
    }

    /// Replaces the injected faults (`error_rate` is clamped into `0.0..=1.0`). A changed rate
    /// limit starts with an empty window.
    pub fn set_faults(&self, faults: Faults) {
        tracing::info!(?faults, "clerk sim faults set");
        self.shared.lock().set_faults(faults);
    }

    /// Replaces the status page content.
    pub fn set_status_page(&self, page: StatusPage) {
        self.shared.set_status_page(page);
    }

    /// Accepts another secret key on the Backend API (for rotation drills).
    pub fn add_secret_key(&self, key: &str) {
        self.shared.add_secret_key(key);
    }

    /// Rejects a secret key with 401 from now on (the sim's own key included).
    pub fn revoke_secret_key(&self, key: &str) {
        self.shared.revoke_secret_key(key);
    }

    /// The counters.
    pub fn counters(&self) -> Counters {
        self.shared.lock().counters.clone()
    }

    /// Zeroes the counters.
    pub fn reset_counters(&self) {
        self.shared.lock().counters = Counters::default();
    }

    /// Every user, newest `created_at` first.
    pub fn users(&self) -> Vec<SimUser> {
        self.shared
            .lock()
            .store
            .users_newest_first()
            .cloned()
            .collect()
    }

    /// Every session, newest `created_at` first, with current statuses.
    pub fn sessions(&self) -> Vec<SimSession> {
        self.shared
            .lock()
            .store
            .sessions_newest_first()
            .cloned()
            .collect()
    }

    /// Every organisation, in creation order.
    pub fn organizations(&self) -> Vec<SimOrganization> {
        self.shared.lock().store.organizations().to_vec()
    }

    /// The seeded user who is `org:admin` of the first organisation; active today with an
    /// active session whenever sessions were seeded. `None` without organisations.
    pub fn admin_user_id(&self) -> Option<String> {
        self.shared.lock().store.admin_user_id().map(str::to_owned)
    }

    /// Replaces the data with a fresh seeding at the sim's current time; `None` keeps the
    /// organisation count and the seed of the previous seeding. The instance, keys, faults
    /// and counters stay.
    ///
    /// # Errors
    ///
    /// [`SimError::InvalidConfig`] for sizes above the caps.
    pub fn reseed(
        &self,
        users: usize,
        sessions: usize,
        organizations: Option<usize>,
        seed: Option<u64>,
    ) -> Result<(), SimError> {
        self.shared
            .reseed(users, sessions, organizations, seed)
            .map(|_| ())
            .map_err(|reason| SimError::InvalidConfig { reason })
    }

    /// Mints a session token; see [`TokenRequest`] for its header and claims.
    ///
    /// # Errors
    ///
    /// [`SimError::UnknownUser`], [`SimError::UnknownSession`],
    /// [`SimError::NoActiveSession`], [`SimError::InvalidTokenRequest`] or
    /// [`SimError::Signing`].
    pub fn mint_token(&self, request: &TokenRequest) -> Result<String, SimError> {
        token::mint(&self.shared, request)
    }

    /// The webhook endpoint, if one is configured.
    pub fn webhook_endpoint(&self) -> Option<String> {
        self.shared.lock().webhooks.endpoint.clone()
    }

    /// Sets (or, with `None`, removes) the endpoint webhook events are POSTed to.
    ///
    /// # Errors
    ///
    /// [`SimError::InvalidConfig`] if the endpoint is not an http(s) URL.
    pub fn set_webhook_endpoint(&self, endpoint: Option<String>) -> Result<(), SimError> {
        let endpoint = endpoint
            .map(|endpoint| validate_endpoint(&endpoint))
            .transpose()
            .map_err(|reason| SimError::InvalidConfig { reason })?;
        self.shared.lock().webhooks.endpoint = endpoint;
        Ok(())
    }

    /// A publishable key for this sim, shaped as Clerk's: `pk_test_` and the base64 of its
    /// Frontend API host (`127.0.0.1:PORT`) followed by `$`, so that tools and SDKs that
    /// derive the Frontend API from a publishable key find the sim.
    pub fn publishable_key(&self) -> String {
        use base64::Engine as _;
        let host = self
            .base_url()
            .split_once("://")
            .map_or(self.base_url(), |(_, host)| host)
            .trim_end_matches('/');
        format!(
            "pk_test_{}",
            base64::engine::general_purpose::STANDARD.encode(format!("{host}$"))
        )
    }

    /// The webhook signing secret (`whsec_...`), for receivers that verify deliveries.
    pub fn webhook_secret(&self) -> String {
        self.shared.lock().webhooks.secret.expose().to_owned()
    }

    /// Replaces the webhook signing secret (`whsec_<base64>`, padded or not).
    ///
    /// # Errors
    ///
    /// [`SimError::InvalidConfig`] if it is not base64 after the optional `whsec_` (the
    /// message does not quote it).
    pub fn set_webhook_secret(&self, secret: &str) -> Result<(), SimError> {
        let secret =
            WebhookSecret::parse(secret).map_err(|reason| SimError::InvalidConfig { reason })?;
        self.shared.lock().webhooks.secret = secret;
        Ok(())
    }

    /// Drops the next `n` webhook deliveries (replacing any drops still pending): they are
    /// counted in [`Counters::webhooks_dropped`] but never sent, as when a receiver builds a
    /// backlog. Without an endpoint nothing is delivered, so nothing is dropped either.
    pub fn drop_webhooks(&self, n: u64) {
        self.shared.lock().webhooks.drop_next = n;
    }

    /// Creates a user (fresh ids, `created_at = updated_at =` the sim's now, no sessions) and
    /// delivers `user.created`; returns once the delivery attempt is over.
    ///
    /// # Errors
    ///
    /// [`SimError::InvalidUser`] for a malformed email address.
    pub async fn create_user(&self, new: NewUser) -> Result<(SimUser, Delivery), SimError> {
        self.shared.create_user(new).await
    }

    /// Updates a user, moves its `updated_at` to the sim's now (strictly later than before)
    /// and delivers `user.updated`; returns once the delivery attempt is over.
    ///
    /// # Errors
    ///
    /// [`SimError::UnknownUser`], or [`SimError::InvalidUser`] for a malformed email
    /// address.
    pub async fn update_user(
        &self,
        id: &str,
        patch: UserPatch,
    ) -> Result<(SimUser, Delivery), SimError> {
        self.shared.update_user(id, patch).await
    }

    /// Deletes a user and their sessions and delivers `user.deleted`; returns once the
    /// delivery attempt is over. The Backend API then answers 404 for the user.
    ///
    /// # Errors
    ///
    /// [`SimError::UnknownUser`].
    pub async fn delete_user(&self, id: &str) -> Result<Delivery, SimError> {
        self.shared.delete_user(id).await
    }

    /// Stops the server and waits for its task to end. Hung requests are answered 503.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        if let Some(server) = self.server.take() {
            server.abort();
            // The task was just aborted: a cancellation error is the expected outcome.
            let _ended = server.await;
        }
        tracing::info!(base_url = %self.shared.base_url, "clerk sim stopped");
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Sim;

    #[test]
    fn handles_can_be_shared_across_tasks() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Sim>();
    }
}
