//! Token verification cost: [`Verifier::verify`] with the token cache off (`cold`: header
//! checks, key lookup, RS256 signature check, claim checks, session normalisation) and on
//! (`cached`: the same token verified again and again), against a bare
//! `jsonwebtoken::decode` of the same token with the same key (`raw_jsonwebtoken_decode`).
//! `jwks_cold` and `jwks_cached` do the same over a JWKS cache that checks its keys in the
//! background and saves them to a snapshot file, as a service built from the environment
//! does: the request path must not pay for either.
//!
//! Run with `cargo bench -p clerk-incident-core --bench verify`; the figures and the machine
//! they were taken on are in `docs/benchmarks.md`.

// A benchmark's setup has nothing to recover from: a failure should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use async_trait::async_trait;
use clerk_incident_core::api::{ClerkApi, Jwks, SecretKey};
use clerk_incident_core::auth::{
    FileSnapshotStore, JwksCache, JwksCacheConfig, JwksSource, KeyFetchError, KeySource, Verifier,
    VerifierConfig,
};
use clerk_incident_sim::{Sim, TokenRequest};
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// What the raw decode deserialises: the claims our verifier checks itself.
#[derive(Debug, Deserialize)]
#[allow(dead_code)] // Read by serde only; the fields make the deserialisation comparable.
struct Claims {
    sub: String,
    sid: String,
    iss: String,
    exp: i64,
    iat: i64,
    #[serde(default)]
    nbf: Option<i64>,
}

/// The sim's key set, served with no network.
struct Fixed(Jwks);

#[async_trait]
impl JwksSource for Fixed {
    async fn fetch(&self) -> Result<Jwks, KeyFetchError> {
        Ok(self.0.clone())
    }

    fn name(&self) -> &'static str {
        "fixed"
    }
}

/// A session token for the sim's admin, valid for an hour, with the sim's issuer, PEM and
/// key set.
fn fixture(rt: &tokio::runtime::Runtime) -> (String, String, &'static str, Jwks) {
    rt.block_on(async {
        let sim = Sim::builder().start().await.expect("sim starts");
        let admin = sim.admin_user_id().expect("the sim seeds an admin");
        let token = sim
            .mint_token(&TokenRequest::for_user(admin).lifetime(Duration::from_secs(3600)))
            .expect("token minted");
        let issuer = sim.issuer();
        let pem = sim.public_key_pem();
        let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
            .base_url(sim.base_url())
            .build()
            .expect("API client");
        let jwks = api.jwks().await.expect("the sim's JWKS");
        sim.shutdown().await;
        (token, issuer, pem, jwks)
    })
}

/// A verifier over a JWKS cache kept fresh in the background, saving to a snapshot file.
fn jwks_verifier(
    rt: &tokio::runtime::Runtime,
    jwks: &Jwks,
    issuer: &str,
    cache_capacity: usize,
    snapshot: &std::path::Path,
) -> Verifier {
    let cache = JwksCache::new(Fixed(jwks.clone()), JwksCacheConfig::default())
        .with_snapshot(FileSnapshotStore::new(snapshot), Some(issuer.to_owned()));
    rt.block_on(async {
        assert!(cache.keep_fresh(), "inside the runtime");
        assert!(cache.wait_for_keys(Duration::from_secs(5)).await);
    });
    let mut config = VerifierConfig::default();
    config.issuers = vec![issuer.to_owned()];
    config.cache_capacity = cache_capacity;
    Verifier::new(KeySource::Jwks(cache), config)
}

fn verifier(pem: &str, issuer: &str, cache_capacity: usize) -> Verifier {
    let mut config = VerifierConfig::default();
    config.issuers = vec![issuer.to_owned()];
    config.cache_capacity = cache_capacity;
    Verifier::new(KeySource::pem(pem).expect("sim PEM is an RSA key"), config)
}

fn verify(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (token, issuer, pem, jwks) = fixture(&rt);

    // The baseline: signature and exp/nbf/iss checks with the same leeway, nothing else.
    let key = DecodingKey::from_rsa_pem(pem.as_bytes()).expect("sim PEM is an RSA key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = 5;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.set_issuer(&[&issuer]);
    jsonwebtoken::decode::<Claims>(&token, &key, &validation)
        .expect("raw decode accepts the token");

    let cold = verifier(pem, &issuer, 0);
    let cached = verifier(pem, &issuer, 10_000);
    rt.block_on(cold.verify(&token))
        .expect("cold verification accepts the token");
    rt.block_on(cached.verify(&token))
        .expect("cached verification accepts the token");
    assert_eq!(
        cold.cached_tokens(),
        0,
        "cache_capacity 0 turns the cache off"
    );
    assert_eq!(
        cached.cached_tokens(),
        1,
        "the warm-up verification is cached"
    );

    let dir = std::env::temp_dir().join(format!("verify-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let jwks_cold = jwks_verifier(&rt, &jwks, &issuer, 0, &dir.join("cold.json"));
    let jwks_cached = jwks_verifier(&rt, &jwks, &issuer, 10_000, &dir.join("cached.json"));
    rt.block_on(jwks_cold.verify(&token))
        .expect("JWKS verification accepts the token");
    rt.block_on(jwks_cached.verify(&token))
        .expect("JWKS verification accepts the token");

    let mut group = c.benchmark_group("verify");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("raw_jsonwebtoken_decode", |b| {
        b.iter(|| jsonwebtoken::decode::<Claims>(black_box(&token), &key, &validation));
    });
    group.bench_function("cold", |b| {
        b.iter(|| rt.block_on(cold.verify(black_box(&token))));
    });
    group.bench_function("cached", |b| {
        b.iter(|| rt.block_on(cached.verify(black_box(&token))));
    });
    group.bench_function("jwks_cold", |b| {
        b.iter(|| rt.block_on(jwks_cold.verify(black_box(&token))));
    });
    group.bench_function("jwks_cached", |b| {
        b.iter(|| rt.block_on(jwks_cached.verify(black_box(&token))));
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, verify);
criterion_main!(benches);
