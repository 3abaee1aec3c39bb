//! Token verification cost: [`Verifier::verify`] with the token cache off (`cold`: header
//! checks, key lookup, RS256 signature check, claim checks, session normalisation) and on
//! (`cached`: the same token verified again and again), against a bare
//! `jsonwebtoken::decode` of the same token with the same key (`raw_jsonwebtoken_decode`).
//!
//! Run with `cargo bench -p clerk-incident-core --bench verify`; the figures and the machine
//! they were taken on are in `docs/benchmarks.md`.

// A benchmark's setup has nothing to recover from: a failure should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use clerk_incident_core::auth::{KeySource, Verifier, VerifierConfig};
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

/// A session token for the sim's admin, valid for an hour, with the sim's issuer and PEM.
fn fixture(rt: &tokio::runtime::Runtime) -> (String, String, &'static str) {
    rt.block_on(async {
        let sim = Sim::builder().start().await.expect("sim starts");
        let admin = sim.admin_user_id().expect("the sim seeds an admin");
        let token = sim
            .mint_token(&TokenRequest::for_user(admin).lifetime(Duration::from_secs(3600)))
            .expect("token minted");
        let issuer = sim.issuer();
        let pem = sim.public_key_pem();
        sim.shutdown().await;
        (token, issuer, pem)
    })
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
    let (token, issuer, pem) = fixture(&rt);

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
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
