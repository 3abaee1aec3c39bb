//! The JWKS cache against the sim over real HTTP: single-flight refresh on a new `kid`, riding
//! out an outage or a hung endpoint on cached keys, whole-set replacement on refresh, the
//! Backend API source, and fail-closed 503s when no key was ever fetched. The cooldown, the
//! staleness bound and the fetch timeout are timed on paused tokio time, with networkless
//! sources.

// Test helpers outside #[test] fns may fail loudly too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod auth_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use auth_common::{
    SIM_MODULUS, admin, cooldown, decide, frontend_jwks, frontend_source, hand_made_token,
    jwks_json, mint, over_jwks, over_source, refused, start_sim, uncached,
};
use clerk_incident_core::api::{ClerkApi, Jwks, SecretKey};
use clerk_incident_core::auth::{
    AuthMode, AuthPolicy, BackendApiJwks, BypassSwitch, Credentials, FrontendApiJwks, HealthStatus,
    JwksCache, JwksCacheConfig, JwksSource, KeyFetchError, RejectReason, Rejection, RouteClass,
    VerifierConfig,
};
use clerk_incident_sim::{Faults, Outage, Sim, endpoint};
use tokio::sync::{Barrier, mpsc};

fn outage(sim: &Sim, outage: Outage) {
    sim.set_faults(Faults {
        outage: Some(outage),
        ..Faults::default()
    });
}

fn well_known_fetches(sim: &Sim) -> u64 {
    sim.counters().get(endpoint::WELL_KNOWN_JWKS)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_kid_seen_by_100_requests_at_once_costs_one_fetch() {
    let sim = start_sim().await;
    // No cooldown: the only thing keeping the 100 misses to one fetch is the single flight.
    let cache = frontend_jwks(&sim, cooldown(Duration::ZERO));
    let verifier = over_jwks(&cache, uncached());
    cache.refresh().await.unwrap();
    assert_eq!(well_known_fetches(&sim), 1);

    sim.rotate_signing_key();
    let token = Arc::new(mint(&sim, &admin(&sim)));
    let start = Arc::new(Barrier::new(100));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (verifier, token, start) =
                (verifier.clone(), Arc::clone(&token), Arc::clone(&start));
            tokio::spawn(async move {
                start.wait().await;
                verifier.verify(&token).await
            })
        })
        .collect();

    for task in tasks {
        let session = task.await.unwrap().unwrap();
        assert_eq!(session.user_id, sim.admin_user_id().unwrap());
    }
    assert_eq!(well_known_fetches(&sim), 2, "exactly one extra fetch");
    assert_eq!(cache.status().kids.len(), 2);
}

#[tokio::test]
async fn cached_keys_keep_verifying_while_the_jwks_is_down() {
    let sim = start_sim().await;
    let cache = frontend_jwks(&sim, JwksCacheConfig::default());
    let policy = AuthPolicy::new(
        over_jwks(&cache, VerifierConfig::default()),
        BypassSwitch::new(),
    );
    let token = mint(&sim, &admin(&sim));
    cache.refresh().await.unwrap();
    assert_eq!(policy.health().status, HealthStatus::Ok);

    outage(&sim, Outage::Unavailable);
    let failed = cache.refresh().await.unwrap_err();
    assert!(matches!(failed, KeyFetchError::Status(503)), "{failed:?}");

    let session = policy.verifier().verify(&token).await.unwrap();
    assert_eq!(session.user_id, sim.admin_user_id().unwrap());
    let keys = cache.status();
    assert_eq!((keys.fetches, keys.failures, keys.key_count), (2, 1, 1));
    assert!(
        keys.last_error.as_deref().unwrap().contains("503"),
        "{keys:?}"
    );
    assert!(keys.last_refresh.is_some());
    assert!(keys.staleness_secs.is_some(), "staleness is reported");
    assert!(!keys.too_stale);
    let health = policy.health();
    assert_eq!(health.status, HealthStatus::Degraded);
    assert_eq!(health.keys, keys);
}

/// A source that announces each fetch before making it.
struct Announcing {
    inner: FrontendApiJwks,
    started: mpsc::UnboundedSender<()>,
}

#[async_trait]
impl JwksSource for Announcing {
    async fn fetch(&self) -> Result<Jwks, KeyFetchError> {
        // The receiver lives as long as the test; a send error would only mean it ended.
        let _ = self.started.send(());
        self.inner.fetch().await
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}

#[tokio::test]
async fn a_hung_jwks_fetch_never_blocks_verification_with_cached_keys() {
    let sim = start_sim().await;
    let (started, mut fetches) = mpsc::unbounded_channel();
    let mut config = cooldown(Duration::ZERO);
    config.fetch_timeout = Duration::from_secs(3600);
    let cache = JwksCache::new(
        Announcing {
            inner: frontend_source(&sim),
            started,
        },
        config,
    );
    let verifier = over_jwks(&cache, uncached());
    let token = mint(&sim, &admin(&sim));
    cache.refresh().await.unwrap();
    fetches.recv().await.unwrap();

    outage(&sim, Outage::Hang);
    let hung = tokio::spawn({
        let cache = cache.clone();
        async move { cache.refresh().await }
    });
    fetches.recv().await.unwrap();

    let verified = tokio::time::timeout(Duration::from_secs(10), verifier.verify(&token))
        .await
        .expect("verification with a cached kid must not wait for the hung fetch");
    assert_eq!(verified.unwrap().user_id, sim.admin_user_id().unwrap());
    assert!(!hung.is_finished(), "the refresh is still pending");
    assert_eq!(
        cache.status().fetches,
        1,
        "the hung fetch has not completed"
    );
    hung.abort();
}

#[tokio::test]
async fn a_refresh_replaces_the_whole_key_set() {
    let sim = start_sim().await;
    let (verifier, cache) = over_source(frontend_source(&sim));
    let first_kid = sim.signing_kid();
    let old_token = mint(&sim, &admin(&sim));
    verifier.verify(&old_token).await.unwrap();

    // Two rotations: the JWKS now serves the two newer keys and no longer the first.
    sim.rotate_signing_key();
    sim.rotate_signing_key();
    cache.refresh().await.unwrap();
    let kids = cache.status().kids;
    assert_eq!(kids.len(), 2);
    assert!(!kids.contains(&first_kid), "{kids:?}");
    assert!(kids.contains(&sim.signing_kid()), "{kids:?}");

    assert_eq!(
        verifier.verify(&old_token).await.unwrap_err(),
        RejectReason::UnknownKey,
        "a dropped key no longer verifies, even for a token verified (and cached) before"
    );
    assert!(verifier.verify(&mint(&sim, &admin(&sim))).await.is_ok());
    assert_eq!(well_known_fetches(&sim), 2);
}

fn backend_api(sim: &Sim, key: &str) -> ClerkApi {
    ClerkApi::builder(SecretKey::new(key))
        .base_url(sim.base_url())
        .without_rate_limit()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_backend_api_jwks_verifies_through_clerk_api() {
    let sim = start_sim().await;
    let (verifier, cache) = over_source(BackendApiJwks(backend_api(&sim, sim.secret_key())));

    let session = verifier.verify(&mint(&sim, &admin(&sim))).await.unwrap();

    assert_eq!(session.user_id, sim.admin_user_id().unwrap());
    assert_eq!(sim.counters().get(endpoint::JWKS), 1);
    assert_eq!(well_known_fetches(&sim), 0);
    let keys = cache.status();
    assert_eq!(keys.source, "backend_api");
    assert_eq!(keys.kids, [sim.signing_kid()]);
}

#[tokio::test]
async fn a_revoked_secret_key_leaves_the_backend_api_jwks_unavailable() {
    let sim = start_sim().await;
    sim.revoke_secret_key(sim.secret_key());
    let (verifier, cache) = over_source(BackendApiJwks(backend_api(&sim, sim.secret_key())));

    assert_eq!(
        verifier
            .verify(&mint(&sim, &admin(&sim)))
            .await
            .unwrap_err(),
        RejectReason::KeysUnavailable
    );
    let keys = cache.status();
    assert_eq!((keys.fetches, keys.failures, keys.key_count), (1, 1, 0));
    assert!(keys.last_error.is_some());
    let error = keys.last_error.unwrap_or_default();
    assert!(!error.contains(sim.secret_key()), "{error}");
}

#[tokio::test]
async fn a_jwks_never_reached_fails_closed_with_503() {
    let sim = Sim::builder()
        .faults(Faults {
            outage: Some(Outage::Unavailable),
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let (verifier, _cache) = over_source(frontend_source(&sim));
    let policy = AuthPolicy::new(verifier, BypassSwitch::new());
    let token = mint(&sim, &admin(&sim));

    for route in [RouteClass::Protected, RouteClass::Sensitive] {
        let decision = decide(&policy, Some(&token), route).await;
        let (rejection, _) = refused(&decision);
        assert_eq!(
            rejection,
            Rejection::Unauthenticated(RejectReason::KeysUnavailable)
        );
        assert_eq!(rejection.status(), 503);
        assert_eq!(
            rejection.retry_after_secs(),
            Some(Rejection::RETRY_AFTER_SECS)
        );
        assert_eq!(rejection.www_authenticate(), None);
        assert_eq!(decision.bypass_header(), None);
    }
    let health = policy.health();
    assert_eq!(health.status, HealthStatus::Unavailable);
    assert_eq!(health.counters.rejected["keys_unavailable"], 2);
    assert_eq!(
        well_known_fetches(&sim),
        1,
        "the second miss falls within the cooldown"
    );
}

/// A networkless JWKS serving the sim's first key under `kid`, or a 503 while `down`; counts
/// its fetches.
#[derive(Clone)]
struct Scripted {
    kid: &'static str,
    down: Arc<AtomicBool>,
    fetches: Arc<AtomicU64>,
}

impl Scripted {
    fn new(kid: &'static str) -> Self {
        Self {
            kid,
            down: Arc::default(),
            fetches: Arc::default(),
        }
    }

    fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::SeqCst)
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
}

#[async_trait]
impl JwksSource for Scripted {
    async fn fetch(&self) -> Result<Jwks, KeyFetchError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(KeyFetchError::Status(503));
        }
        serde_json::from_value(jwks_json(self.kid, SIM_MODULUS)).map_err(|_| KeyFetchError::Decode)
    }

    fn name(&self) -> &'static str {
        "scripted"
    }
}

/// A JWKS that never answers.
struct Hanging;

#[async_trait]
impl JwksSource for Hanging {
    async fn fetch(&self) -> Result<Jwks, KeyFetchError> {
        std::future::pending().await
    }

    fn name(&self) -> &'static str {
        "hanging"
    }
}

#[tokio::test(start_paused = true)]
async fn unknown_kids_cost_one_fetch_per_cooldown_window() {
    let source = Scripted::new("kid-1");
    let cache = JwksCache::new(source.clone(), cooldown(Duration::from_secs(30)));
    let verifier = over_jwks(&cache, uncached());
    let forged = |i: u32| hand_made_token(&format!("forged-{i}"));

    for i in 0..20 {
        assert_eq!(
            verifier.verify(&forged(i)).await.unwrap_err(),
            RejectReason::UnknownKey
        );
    }
    assert_eq!(source.fetches(), 1);

    tokio::time::advance(Duration::from_secs(29)).await;
    assert_eq!(
        verifier.verify(&forged(20)).await.unwrap_err(),
        RejectReason::UnknownKey
    );
    assert_eq!(source.fetches(), 1, "still cooling down");

    tokio::time::advance(Duration::from_secs(1)).await;
    for i in 21..40 {
        assert_eq!(
            verifier.verify(&forged(i)).await.unwrap_err(),
            RejectReason::UnknownKey
        );
    }
    assert_eq!(source.fetches(), 2, "one more fetch for the next window");
    assert!(verifier.verify(&hand_made_token("kid-1")).await.is_ok());
    assert_eq!(source.fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn keys_past_the_staleness_bound_stop_verifying_until_a_refresh_succeeds() {
    let source = Scripted::new("kid-1");
    let mut config = JwksCacheConfig::default();
    config.max_staleness = Some(Duration::from_secs(3600));
    let cache = JwksCache::new(source.clone(), config);
    let policy = AuthPolicy::new(over_jwks(&cache, uncached()), BypassSwitch::new());
    let verifier = policy.verifier();
    let token = hand_made_token("kid-1");
    cache.refresh().await.unwrap();
    source.set_down(true);

    tokio::time::advance(Duration::from_secs(3600)).await;
    assert!(verifier.verify(&token).await.is_ok(), "at the bound");
    let keys = cache.status();
    assert_eq!((keys.staleness_secs, keys.too_stale), (Some(3600), false));
    assert_eq!(source.fetches(), 1);

    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        RejectReason::KeysUnavailable
    );
    let keys = cache.status();
    assert!(keys.too_stale);
    assert!(keys.last_error.is_some());
    assert_eq!(source.fetches(), 2, "the stale set was refetched once");
    assert_eq!(policy.health().status, HealthStatus::Unavailable);

    // Clerk is back, but the failed attempt started a cooldown.
    source.set_down(false);
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        RejectReason::KeysUnavailable
    );
    tokio::time::advance(JwksCacheConfig::default().refresh_cooldown).await;
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(source.fetches(), 3);
    let keys = cache.status();
    assert_eq!((keys.too_stale, keys.last_error), (false, None));
    assert_eq!(policy.health().status, HealthStatus::Ok);
}

#[tokio::test(start_paused = true)]
async fn a_first_fetch_that_hangs_times_out_and_fails_closed() {
    let cache = JwksCache::new(Hanging, JwksCacheConfig::default());
    let verifier = over_jwks(&cache, uncached());
    let started = tokio::time::Instant::now();

    assert_eq!(
        verifier
            .verify(&hand_made_token("kid-1"))
            .await
            .unwrap_err(),
        RejectReason::KeysUnavailable
    );
    assert_eq!(started.elapsed(), JwksCacheConfig::default().fetch_timeout);
    let keys = cache.status();
    assert_eq!((keys.fetches, keys.failures, keys.key_count), (1, 1, 0));
    assert!(keys.last_error.unwrap().contains("timed out"));
}

/// Lets paused time run for `total`, `step` at a time, so that background tasks wake as they
/// would.
async fn run_for(total: Duration, step: Duration) {
    let mut ran = Duration::ZERO;
    while ran < total {
        tokio::time::advance(step).await;
        tokio::task::yield_now().await;
        ran += step;
    }
}

/// The reproduced failure: a service that ran a day without a key miss. With the keys checked
/// in the background, the staleness bound counts from the last successful check, so the
/// service rides out an outage that starts a day (or a week) after it did.
#[tokio::test(start_paused = true)]
async fn background_checks_keep_a_long_running_service_fresh_for_an_outage() {
    let source = Scripted::new("kid-1");
    let cache = JwksCache::new(source.clone(), JwksCacheConfig::default());
    let verifier = over_jwks(&cache, uncached());
    let token = hand_made_token("kid-1");
    assert!(cache.keep_fresh());
    assert!(cache.keep_fresh(), "a second call starts nothing more");
    assert!(cache.wait_for_keys(Duration::from_secs(1)).await);
    assert!(verifier.verify(&token).await.is_ok());

    // 25 hours of uptime, no token with an unknown kid.
    run_for(Duration::from_secs(25 * 3600), Duration::from_secs(30)).await;
    let checks = source.fetches();
    assert!(
        checks >= 25 * 60 / 6,
        "checked every 5 min ± 10 %: {checks}"
    );
    let keys = cache.status();
    assert!(
        !keys.too_stale && keys.staleness_secs < Some(6 * 60),
        "{keys:?}"
    );

    // Then Clerk goes down for 23 hours: cached keys keep verifying all along.
    source.set_down(true);
    run_for(Duration::from_secs(23 * 3600), Duration::from_secs(30)).await;
    assert!(
        verifier.verify(&token).await.is_ok(),
        "23 h into the outage"
    );
    assert!(cache.status().last_error.is_some());
}

/// A service started during an outage holds no key; within the retry backoff of Clerk's
/// return (seconds, not the miss cooldown) it verifies again.
#[tokio::test(start_paused = true)]
async fn a_service_started_during_an_outage_recovers_within_the_backoff() {
    let source = Scripted::new("kid-1");
    source.set_down(true);
    let cache = JwksCache::new(source.clone(), JwksCacheConfig::default());
    let policy = AuthPolicy::new(over_jwks(&cache, uncached()), BypassSwitch::new());
    let token = hand_made_token("kid-1");
    cache.keep_fresh();
    assert!(
        !policy.wait_ready(Duration::from_secs(2)).await,
        "no key while Clerk is down"
    );
    assert_eq!(
        policy.verifier().verify(&token).await.unwrap_err(),
        RejectReason::KeysUnavailable
    );
    let health = policy.health();
    assert!(!health.ready);
    assert!(
        health.problem.unwrap().contains("503"),
        "the reason is named"
    );
    // Not ready: a readiness probe takes the service out of rotation...
    let summary = policy.health_for(&Credentials::default()).await;
    assert_eq!(summary.status, 503);
    // ...unless the Open bypass serves without keys.
    policy
        .switch()
        .activate(
            AuthMode::Open,
            Some(Duration::from_secs(60)),
            "keys unavailable",
        )
        .unwrap();
    assert_eq!(policy.health_for(&Credentials::default()).await.status, 200);
    policy.switch().deactivate("back to enforce");

    // Down for ten minutes: retries back off to every 5 s, no more often.
    run_for(Duration::from_secs(600), Duration::from_secs(1)).await;
    let during = source.fetches();
    assert!((100..=130).contains(&during), "{during} checks in 10 min");

    source.set_down(false);
    let back = tokio::time::Instant::now();
    assert!(policy.wait_ready(Duration::from_secs(60)).await);
    assert!(
        back.elapsed() <= JwksCacheConfig::default().retry_max,
        "verifying {:?} after Clerk's return",
        back.elapsed()
    );
    assert!(policy.verifier().verify(&token).await.is_ok());
    assert!(policy.health().ready);
}

#[tokio::test(start_paused = true)]
async fn the_background_task_ends_with_the_cache() {
    let source = Scripted::new("kid-1");
    let cache = JwksCache::new(source.clone(), JwksCacheConfig::default());
    cache.keep_fresh();
    assert!(cache.wait_for_keys(Duration::from_secs(1)).await);
    drop(cache);
    run_for(Duration::from_secs(600), Duration::from_secs(10)).await;
    let after = source.fetches();
    run_for(Duration::from_secs(3600), Duration::from_secs(10)).await;
    assert_eq!(source.fetches(), after, "no check once the cache is gone");
}

#[test]
fn outside_a_runtime_nothing_is_started() {
    let cache = JwksCache::new(Scripted::new("kid-1"), JwksCacheConfig::default());
    assert!(!cache.keep_fresh());
}

/// The PEM made from the JWKS is the key the sim signs with: a pinned `CLERK_JWT_KEY` made by
/// `keys snapshot --pem` verifies the sim's tokens with no network.
#[tokio::test]
async fn the_pem_of_a_jwk_verifies_the_tokens_it_signs() {
    let sim = start_sim().await;
    let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
        .base_url(sim.base_url())
        .build()
        .unwrap();
    let jwks = api.jwks().await.unwrap();
    let pem = clerk_incident_core::auth::jwk_to_pem(&jwks.keys[0]).unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    let verifier = clerk_incident_core::auth::Verifier::new(
        clerk_incident_core::auth::KeySource::pem(&pem).unwrap(),
        VerifierConfig::default(),
    );
    let now = clerk_incident_sim::TokenRequest::for_user(sim.admin_user_id().unwrap());
    let session = verifier.verify(&mint(&sim, &now)).await.unwrap();
    assert_eq!(session.user_id, sim.admin_user_id().unwrap());
}

/// A policy built from the environment fetches its keys at once, with no request, and a
/// service can wait for them: the reproduced "never refreshes on its own" is gone.
#[tokio::test]
async fn a_policy_from_the_environment_fetches_its_keys_without_a_request() {
    let sim = start_sim().await;
    let (url, issuer) = (sim.jwks_url(), sim.issuer());
    let policy = AuthPolicy::from_vars(|name| match name {
        "CLERK_JWKS_URL" => Some(url.clone()),
        "CLERK_ISSUER" => Some(issuer.clone()),
        _ => None,
    })
    .unwrap();
    assert!(policy.wait_ready(Duration::from_secs(5)).await);
    assert_eq!(well_known_fetches(&sim), 1, "one fetch, no token needed");
    let health = policy.health();
    assert!(health.ready && health.problem.is_none(), "{health:?}");
}
