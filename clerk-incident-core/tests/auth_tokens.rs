//! Genuine session tokens minted by the sim: v1 and v2 claims normalised into the right
//! [`VerifiedSession`], the exact edges of the time-claim leeway on a fixed clock, and the
//! verified-token cache (hits counted, expiry still judged, key changes honoured).

// Test helpers outside #[test] fns may fail loudly too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod auth_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use auth_common::{
    admin, at, frontend_jwks, member_user_id, mint, over_jwks, pinned, pinned_at, resign_claims,
    start_sim, unix,
};
use clerk_incident_core::auth::{
    AuthPolicy, BypassSwitch, Check, JwksCacheConfig, KeySource, RejectReason, SessionClaimStatus,
    VerifiedSession, Verifier, VerifierConfig,
};
use clerk_incident_sim::{ClaimsVersion, DEFAULT_AZP, OrgRole, Sim, SimUser, TokenRequest};
use serde_json::json;

fn user(sim: &Sim, id: &str) -> SimUser {
    sim.users().into_iter().find(|user| user.id == id).unwrap()
}

fn sorted(mut permissions: Vec<String>) -> Vec<String> {
    permissions.sort();
    permissions
}

/// The fields every token for `user` minted at [`auth_common::NOW`] shares.
fn assert_identity(session: &VerifiedSession, sim: &Sim, user: &SimUser, lifetime_secs: i64) {
    assert_eq!(session.user_id, user.id);
    assert!(
        sim.sessions()
            .iter()
            .any(|s| s.id == session.session_id && s.user_id == user.id),
        "{} is a session of {}",
        session.session_id,
        user.id
    );
    assert_eq!(session.issuer, sim.issuer());
    assert_eq!(session.authorized_party.as_deref(), Some(DEFAULT_AZP));
    assert_eq!(session.status, SessionClaimStatus::Active);
    assert_eq!(session.issued_at, unix(0));
    assert_eq!(session.expires_at, unix(lifetime_secs));
    assert!(!session.is_impersonated());
    let membership = user.membership.as_ref().unwrap();
    let organization = session.organization.as_ref().unwrap();
    assert_eq!(organization.id, membership.organization_id);
    assert_eq!(
        organization.slug.as_deref(),
        Some(membership.organization_slug.as_str())
    );
    assert_eq!(organization.role, membership.role.as_str());
}

#[tokio::test]
async fn a_v1_admin_token_verifies_into_its_session() {
    let sim = start_sim().await;
    let admin_id = sim.admin_user_id().unwrap();
    let session = pinned(&sim, VerifierConfig::default())
        .verify(&mint(&sim, &admin(&sim)))
        .await
        .unwrap();

    assert_identity(&session, &sim, &user(&sim, &admin_id), 60);
    assert_eq!(session.claims_version, 1);
    let organization = session.organization.as_ref().unwrap();
    assert_eq!(organization.role, "org:admin");
    assert_eq!(
        sorted(organization.permissions.clone()),
        sorted(
            OrgRole::Admin
                .permissions()
                .iter()
                .map(|p| (*p).to_owned())
                .collect()
        )
    );
    assert!(session.features.is_empty());
    assert_eq!(session.plan, None);
    assert!(session.has(Check::Role("admin")));
    assert!(session.has(Check::Role("org:admin")));
    assert!(session.has(Check::Permission("dashboard:manage")));
}

#[tokio::test]
async fn a_v2_admin_token_verifies_into_the_same_shape() {
    let sim = start_sim().await;
    let admin_id = sim.admin_user_id().unwrap();
    let request = admin(&sim)
        .version(ClaimsVersion::V2)
        .lifetime(Duration::from_secs(300));
    let session = pinned(&sim, VerifierConfig::default())
        .verify(&mint(&sim, &request))
        .await
        .unwrap();

    assert_identity(&session, &sim, &user(&sim, &admin_id), 300);
    assert_eq!(session.claims_version, 2);
    let organization = session.organization.as_ref().unwrap();
    assert_eq!(organization.role, "org:admin", "rol gets the org: prefix");
    assert_eq!(
        sorted(organization.permissions.clone()),
        [
            "org:dashboard:manage",
            "org:dashboard:read",
            "org:teams:manage",
            "org:teams:read"
        ]
    );
    assert_eq!(session.features, ["o:dashboard", "o:teams"]);
    assert_eq!(session.plan.as_deref(), Some("o:free_org"));
    assert!(session.has(Check::Role("admin")));
    assert!(session.has(Check::Permission("org:teams:manage")));
    assert!(session.has(Check::Feature("dashboard")));
    assert!(session.has(Check::Plan("org:free_org")));
}

#[tokio::test]
async fn a_v2_member_token_reads_but_does_not_manage() {
    let sim = start_sim().await;
    let member_id = member_user_id(&sim);
    let request = TokenRequest::for_user(member_id.clone())
        .issued_at(at(0))
        .version(ClaimsVersion::V2);
    let session = pinned(&sim, VerifierConfig::default())
        .verify(&mint(&sim, &request))
        .await
        .unwrap();

    assert_identity(&session, &sim, &user(&sim, &member_id), 60);
    let organization = session.organization.as_ref().unwrap();
    assert_eq!(organization.role, "org:member");
    assert_eq!(
        sorted(organization.permissions.clone()),
        ["org:dashboard:read", "org:teams:read"]
    );
    assert!(!session.has(Check::Role("admin")));
    assert!(!session.has(Check::Permission("dashboard:manage")));
    assert!(session.has(Check::Permission("dashboard:read")));
}

#[tokio::test]
async fn exp_is_accepted_up_to_the_leeway_and_not_a_second_more() {
    let sim = start_sim().await;
    // exp = NOW + 60; default leeway 5 s.
    let token = mint(&sim, &admin(&sim));
    let at_clock = |offset| pinned_at(&sim, VerifierConfig::default(), at(offset));

    assert!(at_clock(60).verify(&token).await.is_ok(), "at exp");
    assert!(at_clock(65).verify(&token).await.is_ok(), "exp + leeway");
    assert_eq!(
        at_clock(66).verify(&token).await.unwrap_err(),
        RejectReason::Expired,
        "exp + leeway + 1"
    );

    let strict = VerifierConfig::default().leeway(Duration::ZERO);
    assert!(
        pinned_at(&sim, strict.clone(), at(60))
            .verify(&token)
            .await
            .is_ok()
    );
    assert_eq!(
        pinned_at(&sim, strict, at(61))
            .verify(&token)
            .await
            .unwrap_err(),
        RejectReason::Expired
    );
}

#[tokio::test]
async fn nbf_is_accepted_from_the_leeway_before_and_not_a_second_earlier() {
    let sim = start_sim().await;
    // iat = NOW, nbf = NOW + 30, exp = NOW + 90: only nbf decides between NOW + 24 and + 25.
    let token = resign_claims(&mint(&sim, &admin(&sim)), |claims| {
        claims["nbf"] = json!(unix(30));
        claims["exp"] = json!(unix(90));
    });
    let at_clock = |offset| pinned_at(&sim, VerifierConfig::default(), at(offset));

    assert!(at_clock(30).verify(&token).await.is_ok(), "at nbf");
    assert!(at_clock(25).verify(&token).await.is_ok(), "nbf - leeway");
    assert_eq!(
        at_clock(24).verify(&token).await.unwrap_err(),
        RejectReason::NotYetValid,
        "nbf - leeway - 1"
    );
}

#[tokio::test]
async fn iat_may_be_ahead_by_the_leeway_and_not_a_second_more() {
    let sim = start_sim().await;
    let verifier = pinned(&sim, VerifierConfig::default());

    let ahead = mint(&sim, &admin(&sim).issued_at(at(5)));
    assert!(verifier.verify(&ahead).await.is_ok());
    let too_far = mint(&sim, &admin(&sim).issued_at(at(6)));
    assert_eq!(
        verifier.verify(&too_far).await.unwrap_err(),
        RejectReason::IssuedInFuture
    );
}

#[tokio::test]
async fn a_repeated_token_is_answered_from_the_cache() {
    let sim = start_sim().await;
    let policy = AuthPolicy::new(pinned(&sim, VerifierConfig::default()), BypassSwitch::new());
    let token = mint(&sim, &admin(&sim));

    let first = policy.verifier().verify(&token).await.unwrap();
    let second = policy.verifier().verify(&token).await.unwrap();

    assert_eq!(first, second);
    assert_eq!(policy.verifier().cached_tokens(), 1);
    let counters = policy.health().counters;
    assert_eq!((counters.verified, counters.cache_hits), (2, 1));
}

#[tokio::test]
async fn a_cached_token_still_expires() {
    let sim = start_sim().await;
    let clock = Arc::new(AtomicI64::new(0));
    let offset = Arc::clone(&clock);
    let verifier = Verifier::with_clock(
        KeySource::pem(sim.public_key_pem()).unwrap(),
        VerifierConfig::default(),
        move || at(offset.load(Ordering::SeqCst)),
    );
    let token = mint(&sim, &admin(&sim));
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(verifier.cached_tokens(), 1);

    clock.store(65, Ordering::SeqCst);
    assert!(verifier.verify(&token).await.is_ok());
    clock.store(66, Ordering::SeqCst);
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        RejectReason::Expired
    );
    let policy = AuthPolicy::new(verifier, BypassSwitch::new());
    assert_eq!(policy.health().counters.cache_hits, 2);
}

#[tokio::test]
async fn a_cached_token_is_verified_again_after_the_keys_are_refreshed() {
    let sim = start_sim().await;
    let cache = frontend_jwks(&sim, JwksCacheConfig::default());
    let policy = AuthPolicy::new(
        over_jwks(&cache, VerifierConfig::default()),
        BypassSwitch::new(),
    );
    let token = mint(&sim, &admin(&sim));
    policy.verifier().verify(&token).await.unwrap();
    policy.verifier().verify(&token).await.unwrap();
    assert_eq!(policy.health().counters.cache_hits, 1);

    // The sim rotates; its JWKS now serves the new key and still the old one.
    sim.rotate_signing_key();
    cache.refresh().await.unwrap();
    assert_eq!(cache.status().key_count, 2);

    let again = policy.verifier().verify(&token).await.unwrap();
    assert_eq!(again.user_id, sim.admin_user_id().unwrap());
    let counters = policy.health().counters;
    assert_eq!(
        (counters.verified, counters.cache_hits),
        (3, 1),
        "verified with the new key set, not from the cache"
    );
    policy.verifier().verify(&token).await.unwrap();
    assert_eq!(policy.health().counters.cache_hits, 2, "and cached again");
}
