//! [`AuthPolicy::decide`] in every mode: `Enforce` fails closed, `Grace` accepts recently
//! expired tokens as degraded, `Open` lets protected routes through, sensitive routes always
//! need a fully valid token, a bad signature is never an identity, bypasses expire by
//! themselves, and the health document reports it all.

mod auth_common;

use std::time::Duration;

use auth_common::{
    ATTACKER_PRIVATE_PEM, SIM_PUBLIC_PEM, admin, allowed, at, decide, forge, grace, member_user_id,
    mint, pinned, pinned_pem_at, refused, start_sim,
};
use clerk_incident_core::auth::{
    AuthMode, AuthPolicy, BypassSwitch, ChangeCause, Check, Credentials, RejectReason, Rejection,
    RouteClass, VerifierConfig, authorize,
};
use clerk_incident_sim::{Sim, TokenRequest};
use serde_json::json;

const INVALID_TOKEN: &str = r#"Bearer error="invalid_token""#;

fn policy(sim: &Sim) -> AuthPolicy {
    AuthPolicy::new(pinned(sim, VerifierConfig::default()), BypassSwitch::new())
}

/// A policy whose switch is in `mode` for the next hour.
#[allow(clippy::unwrap_used)]
fn policy_in(sim: &Sim, mode: AuthMode) -> AuthPolicy {
    let policy = policy(sim);
    policy
        .switch()
        .activate(mode, Some(Duration::from_secs(3600)), "INC-7")
        .unwrap();
    policy
}

/// An admin token that expired `secs` seconds before [`auth_common::NOW`].
fn expired_for(sim: &Sim, secs: i64) -> String {
    mint(sim, &admin(sim).issued_at(at(-60 - secs)))
}

#[tokio::test]
async fn enforce_refuses_missing_and_unreadable_tokens_with_401() {
    let sim = start_sim().await;
    let policy = policy(&sim);

    for route in [RouteClass::Protected, RouteClass::Sensitive] {
        let decision = decide(&policy, None, route).await;
        let (rejection, mode) = refused(&decision);
        assert_eq!(rejection, Rejection::Unauthenticated(RejectReason::Missing));
        assert_eq!(mode, AuthMode::Enforce);
        assert_eq!(rejection.status(), 401);
        assert_eq!(rejection.www_authenticate(), Some(INVALID_TOKEN));
        assert_eq!(rejection.retry_after_secs(), None);
        assert_eq!(decision.bypass_header(), None);
    }

    let basic = Credentials::authorization(b"Basic dXNlcjpwYXNz");
    let decision = policy.decide(&basic, RouteClass::Protected).await;
    assert_eq!(
        refused(&decision).0,
        Rejection::Unauthenticated(RejectReason::Malformed)
    );

    let expired = decide(&policy, Some(&expired_for(&sim, 60)), RouteClass::Protected).await;
    let (rejection, _) = refused(&expired);
    assert_eq!(rejection, Rejection::Unauthenticated(RejectReason::Expired));
    assert_eq!(rejection.www_authenticate(), Some(INVALID_TOKEN));

    let public = allowed(decide(&policy, None, RouteClass::Public).await);
    assert!(public.session.is_none() && !public.bypassed);
    let valid = allowed(
        decide(
            &policy,
            Some(&mint(&sim, &admin(&sim))),
            RouteClass::Protected,
        )
        .await,
    );
    assert!(valid.is_fully_verified());
    assert_eq!(valid.bypass_header(), None);
}

#[tokio::test]
async fn grace_accepts_tokens_expired_within_the_window_as_degraded() {
    let sim = start_sim().await;
    let policy = policy_in(&sim, grace());

    // Expired exactly 30 min (the default window) ago: still accepted.
    let context = allowed(
        decide(
            &policy,
            Some(&expired_for(&sim, 1800)),
            RouteClass::Protected,
        )
        .await,
    );
    assert!(context.degraded);
    assert!(!context.bypassed);
    assert!(!context.is_fully_verified());
    assert_eq!(context.mode, grace());
    assert_eq!(context.bypass_header(), Some("grace"));
    assert_eq!(
        context.session.as_ref().unwrap().user_id,
        sim.admin_user_id().unwrap(),
        "the identity is kept"
    );
    assert_eq!(
        authorize(&context, Check::Role("admin")),
        Err(Rejection::Unauthenticated(RejectReason::Missing)),
        "a degraded session passes no guard"
    );
    assert_eq!(policy.health().counters.grace_allowed, 1);

    // One second more is too old.
    let decision = decide(
        &policy,
        Some(&expired_for(&sim, 1801)),
        RouteClass::Protected,
    )
    .await;
    assert_eq!(
        refused(&decision).0,
        Rejection::Unauthenticated(RejectReason::Expired)
    );
    assert_eq!(decision.bypass_header(), Some("grace"));

    // A token that has not expired is fully verified, in Grace too.
    let fresh = allowed(
        decide(
            &policy,
            Some(&mint(&sim, &admin(&sim))),
            RouteClass::Protected,
        )
        .await,
    );
    assert!(fresh.is_fully_verified());
    assert_eq!(policy.health().counters.grace_allowed, 1);
}

#[tokio::test]
async fn a_bad_signature_is_never_an_identity_in_any_mode() {
    let sim = start_sim().await;
    let token = mint(&sim, &admin(&sim));
    let fresh = forge(&token, ATTACKER_PRIVATE_PEM, |_, _| {});
    let stale = forge(&expired_for(&sim, 60), ATTACKER_PRIVATE_PEM, |_, _| {});

    for forged in [&fresh, &stale] {
        for (mode, route) in [
            (AuthMode::Enforce, RouteClass::Protected),
            (AuthMode::Enforce, RouteClass::Sensitive),
            (grace(), RouteClass::Protected),
            (grace(), RouteClass::Sensitive),
            (AuthMode::Open, RouteClass::Sensitive),
        ] {
            let decision = decide(&policy_in(&sim, mode), Some(forged), route).await;
            assert_eq!(
                refused(&decision).0,
                Rejection::Unauthenticated(RejectReason::BadSignature),
                "{mode:?} {route:?}"
            );
        }

        // Open lets the protected route through, but the forged identity is not attached.
        let context = allowed(
            decide(
                &policy_in(&sim, AuthMode::Open),
                Some(forged),
                RouteClass::Protected,
            )
            .await,
        );
        assert!(context.session.is_none());
        assert!(context.bypassed);
        assert!(!context.is_fully_verified());
    }
}

#[tokio::test]
async fn open_lets_protected_routes_through_and_counts_each_request() {
    let sim = start_sim().await;
    let policy = policy_in(&sim, AuthMode::Open);

    let anonymous = allowed(decide(&policy, None, RouteClass::Protected).await);
    assert!(anonymous.bypassed);
    assert!(anonymous.session.is_none());
    assert_eq!(anonymous.mode, AuthMode::Open);
    assert_eq!(anonymous.bypass_header(), Some("true"));
    let health = policy.health();
    assert_eq!(health.counters.bypassed, 1);
    assert_eq!(health.counters.rejected["missing"], 0);

    // A token that still verifies (expired tokens up to the Grace default) keeps its identity.
    let identified = allowed(
        decide(
            &policy,
            Some(&expired_for(&sim, 600)),
            RouteClass::Protected,
        )
        .await,
    );
    assert!(identified.bypassed);
    assert!(identified.degraded);
    assert_eq!(
        identified.session.as_ref().unwrap().user_id,
        sim.admin_user_id().unwrap()
    );
    assert_eq!(policy.health().counters.bypassed, 2);
}

#[tokio::test]
async fn sensitive_routes_need_a_fully_valid_token_in_every_bypass_mode() {
    let sim = start_sim().await;
    let recently_expired = expired_for(&sim, 60);
    let valid = mint(&sim, &admin(&sim));

    for (mode, header) in [(grace(), "grace"), (AuthMode::Open, "true")] {
        let policy = policy_in(&sim, mode);

        let missing = decide(&policy, None, RouteClass::Sensitive).await;
        let (rejection, decided_in) = refused(&missing);
        assert_eq!(rejection, Rejection::Unauthenticated(RejectReason::Missing));
        assert_eq!(rejection.status(), 401);
        assert_eq!(decided_in, mode);
        assert_eq!(missing.bypass_header(), Some(header));

        let expired = decide(&policy, Some(&recently_expired), RouteClass::Sensitive).await;
        assert_eq!(
            refused(&expired).0,
            Rejection::Unauthenticated(RejectReason::Expired),
            "{mode:?}"
        );

        let context = allowed(decide(&policy, Some(&valid), RouteClass::Sensitive).await);
        assert!(context.is_fully_verified(), "{mode:?}");
        assert_eq!(authorize(&context, Check::Role("admin")), Ok(()));
        assert_eq!(policy.health().counters.bypassed, 0);
    }
}

#[tokio::test]
async fn authorize_grants_roles_and_permissions_the_session_holds() {
    let sim = start_sim().await;
    let policy = policy(&sim);
    let admin_token = mint(&sim, &admin(&sim));
    let member_token = mint(
        &sim,
        &TokenRequest::for_user(member_user_id(&sim)).issued_at(at(0)),
    );

    let admin = allowed(decide(&policy, Some(&admin_token), RouteClass::Sensitive).await);
    assert_eq!(authorize(&admin, Check::Role("admin")), Ok(()));
    assert_eq!(
        authorize(&admin, Check::Permission("dashboard:manage")),
        Ok(())
    );

    let member = allowed(decide(&policy, Some(&member_token), RouteClass::Sensitive).await);
    let forbidden = authorize(&member, Check::Role("admin")).unwrap_err();
    assert_eq!(forbidden, Rejection::Forbidden);
    assert_eq!(forbidden.status(), 403);
    assert_eq!(
        forbidden.www_authenticate(),
        Some(r#"Bearer error="insufficient_scope""#)
    );
    assert_eq!(forbidden.reason(), "insufficient_scope");
    assert_eq!(
        authorize(&member, Check::Permission("dashboard:manage")),
        Err(Rejection::Forbidden)
    );
    assert_eq!(
        authorize(&member, Check::Permission("dashboard:read")),
        Ok(())
    );
}

#[tokio::test(start_paused = true)]
async fn open_returns_to_enforce_by_itself_when_its_ttl_ends() {
    // No sim here: paused time and sockets do not mix. The pinned key needs no network.
    let policy = AuthPolicy::new(
        pinned_pem_at(SIM_PUBLIC_PEM, VerifierConfig::default(), at(0)),
        BypassSwitch::new(),
    );
    policy
        .switch()
        .activate(AuthMode::Open, Some(Duration::from_secs(600)), "INC-9")
        .unwrap();
    assert!(allowed(decide(&policy, None, RouteClass::Protected).await).bypassed);

    tokio::time::advance(Duration::from_secs(599)).await;
    assert!(allowed(decide(&policy, None, RouteClass::Protected).await).bypassed);

    tokio::time::advance(Duration::from_secs(1)).await;
    let decision = decide(&policy, None, RouteClass::Protected).await;
    let (rejection, mode) = refused(&decision);
    assert_eq!(rejection, Rejection::Unauthenticated(RejectReason::Missing));
    assert_eq!(rejection.status(), 401);
    assert_eq!(mode, AuthMode::Enforce);
    assert_eq!(decision.bypass_header(), None);

    let causes: Vec<ChangeCause> = policy.switch().history().iter().map(|c| c.cause).collect();
    assert_eq!(causes, [ChangeCause::Activated, ChangeCause::Expired]);
    assert_eq!(policy.health().counters.bypassed, 2);
}

#[tokio::test]
async fn health_reports_mode_keys_and_rejections_by_reason() {
    let sim = start_sim().await;
    let policy = policy(&sim);
    let expired = expired_for(&sim, 60);
    let forged = forge(&mint(&sim, &admin(&sim)), ATTACKER_PRIVATE_PEM, |_, _| {});

    allowed(
        decide(
            &policy,
            Some(&mint(&sim, &admin(&sim))),
            RouteClass::Protected,
        )
        .await,
    );
    for token in [
        None,
        Some(expired.as_str()),
        Some(expired.as_str()),
        Some(forged.as_str()),
    ] {
        refused(&decide(&policy, token, RouteClass::Protected).await);
    }

    let health = serde_json::to_value(policy.health()).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["mode"]["mode"], "enforce");
    assert_eq!(health["mode"]["expires_at"], json!(null));
    assert_eq!(health["keys"]["source"], "pinned_pem");
    assert_eq!(health["keys"]["key_count"], 1);
    let counters = &health["counters"];
    assert_eq!(counters["verified"], 1);
    assert_eq!(counters["bypassed"], 0);
    let rejected = counters["rejected"].as_object().unwrap();
    assert_eq!(rejected.len(), RejectReason::ALL.len(), "{rejected:?}");
    assert_eq!(rejected["missing"], 1);
    assert_eq!(rejected["expired"], 2);
    assert_eq!(rejected["bad_signature"], 1);
    assert_eq!(rejected["malformed"], 0);

    policy
        .switch()
        .activate(AuthMode::Open, Some(Duration::from_secs(45 * 60)), "INC-42")
        .unwrap();
    let health = serde_json::to_value(policy.health()).unwrap();
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["mode"]["mode"], "open");
    assert_eq!(health["mode"]["reason"], "INC-42");
    assert!(health["mode"]["expires_at"].is_string(), "{health}");
}
