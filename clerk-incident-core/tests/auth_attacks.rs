//! Forged, tampered and out-of-policy session tokens against the [`Verifier`]: each is refused
//! with its own [`RejectReason`], none is accepted, none panics, and none makes the verifier
//! fetch anything it should not.

mod auth_common;

use auth_common::{
    ATTACKER_MODULUS, ATTACKER_PRIVATE_PEM, SIM_PRIVATE_PEM, admin, at, base64url, decide, decode,
    forge, frontend_source, grace, jwks_json, mint, over_source, pinned, refused, resign_claims,
    rsa_key, segment, sign, start_sim, unix,
};
use clerk_incident_core::auth::{
    AuthPolicy, BypassSwitch, RejectReason, Rejection, RouteClass, SESSION_TOKEN_CATEGORY,
    SessionClaimStatus, VerifierConfig,
};
use clerk_incident_sim::{DEFAULT_AZP, endpoint};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn alg_none_in_every_casing_is_a_disallowed_algorithm() {
    let sim = start_sim().await;
    let verifier = pinned(&sim, VerifierConfig::default());
    let token = mint(&sim, &admin(&sim));
    assert!(
        verifier.verify(&token).await.is_ok(),
        "the genuine token verifies"
    );

    for alg in ["none", "None", "NONE", "nOnE"] {
        let (mut header, claims) = decode(&token);
        header["alg"] = json!(alg);
        let unsigned = format!("{}.{}.", segment(&header), segment(&claims));
        assert_eq!(
            verifier.verify(&unsigned).await.unwrap_err(),
            RejectReason::DisallowedAlgorithm,
            "alg {alg:?}"
        );
    }
}

#[tokio::test]
async fn hs256_keyed_with_the_public_key_pem_is_a_disallowed_algorithm() {
    let sim = start_sim().await;
    let verifier = pinned(&sim, VerifierConfig::default());
    let (mut header, claims) = decode(&mint(&sim, &admin(&sim)));
    header["alg"] = json!("HS256");
    let secret = EncodingKey::from_secret(sim.public_key_pem().as_bytes());
    let confused = sign(&header, &claims, &secret, Algorithm::HS256);

    assert_eq!(
        verifier.verify(&confused).await.unwrap_err(),
        RejectReason::DisallowedAlgorithm
    );
}

#[tokio::test]
async fn a_stripped_signature_is_a_bad_signature() {
    let sim = start_sim().await;
    let verifier = pinned(&sim, VerifierConfig::default());
    let token = mint(&sim, &admin(&sim));
    let (unsigned, _signature) = token.rsplit_once('.').unwrap();
    let stripped = format!("{unsigned}.");

    assert_eq!(
        verifier.verify(&stripped).await.unwrap_err(),
        RejectReason::BadSignature
    );
}

#[tokio::test]
async fn a_signature_by_another_key_under_the_same_kid_is_a_bad_signature() {
    let sim = start_sim().await;
    let token = mint(&sim, &admin(&sim));
    let forged = forge(&token, ATTACKER_PRIVATE_PEM, |header, claims| {
        assert_eq!(header["kid"], json!(sim.signing_kid()));
        claims["sub"] = json!("user_attacker");
    });

    let pinned = pinned(&sim, VerifierConfig::default());
    assert_eq!(
        pinned.verify(&forged).await.unwrap_err(),
        RejectReason::BadSignature
    );
    let (jwks, _cache) = over_source(frontend_source(&sim));
    assert_eq!(
        jwks.verify(&forged).await.unwrap_err(),
        RejectReason::BadSignature
    );
    assert!(
        jwks.verify(&token).await.is_ok(),
        "the genuine token verifies"
    );
}

#[tokio::test]
async fn keys_carried_in_the_header_are_never_trusted() {
    let sim = start_sim().await;
    let verifier = pinned(&sim, VerifierConfig::default());
    let token = mint(&sim, &admin(&sim));
    let attacker_jwk = jwks_json("attacker", ATTACKER_MODULUS)["keys"][0].clone();

    for (name, value) in [
        ("jwk", attacker_jwk),
        ("x5u", json!("http://127.0.0.1:9/attacker.pem")),
        (
            "x5c",
            json!(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]),
        ),
    ] {
        let forged = forge(&token, ATTACKER_PRIVATE_PEM, |header, _| {
            header[name] = value;
        });
        assert_eq!(
            verifier.verify(&forged).await.unwrap_err(),
            RejectReason::EmbeddedKey,
            "header {name}"
        );
    }
}

#[tokio::test]
async fn a_jku_header_is_refused_without_fetching_it() {
    let sim = start_sim().await;
    let attacker = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200).set_body_json(jwks_json("attacker", ATTACKER_MODULUS)),
        )
        .expect(0)
        .mount(&attacker)
        .await;
    let (verifier, _cache) = over_source(frontend_source(&sim));
    let forged = forge(
        &mint(&sim, &admin(&sim)),
        ATTACKER_PRIVATE_PEM,
        |header, _| {
            header["kid"] = json!("attacker");
            header["jku"] = json!(format!("{}/.well-known/jwks.json", attacker.uri()));
        },
    );

    assert_eq!(
        verifier.verify(&forged).await.unwrap_err(),
        RejectReason::EmbeddedKey
    );
    attacker.verify().await;
    assert_eq!(
        sim.counters().get(endpoint::WELL_KNOWN_JWKS),
        0,
        "refused before any key lookup"
    );
}

#[tokio::test]
async fn path_and_sql_shaped_kids_are_unknown_keys() {
    let sim = start_sim().await;
    let (verifier, _cache) = over_source(frontend_source(&sim));

    for kid in [
        "../../etc/passwd",
        "' OR 1=1 --",
        "/dev/zero",
        "%00\u{0}",
        "",
    ] {
        let token = mint(&sim, &admin(&sim).header("kid", kid));
        assert_eq!(
            verifier.verify(&token).await.unwrap_err(),
            RejectReason::UnknownKey,
            "kid {kid:?}"
        );
    }
    let long_kid = "k".repeat(4000);
    let token = mint(&sim, &admin(&sim).header("kid", long_kid));
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        RejectReason::UnknownKey
    );
    assert_eq!(sim.counters().get(endpoint::WELL_KNOWN_JWKS), 1);
}

#[tokio::test]
async fn a_flood_of_unknown_kids_costs_one_fetch_per_cooldown() {
    let sim = start_sim().await;
    let (verifier, cache) = over_source(frontend_source(&sim));
    let forged: Vec<String> = (0..200_u64)
        .map(|i| {
            let kid = format!("ins_{:016x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            mint(&sim, &admin(&sim).header("kid", kid))
        })
        .collect();

    let outcomes =
        futures::future::join_all(forged.iter().map(|token| verifier.verify(token))).await;

    assert_eq!(outcomes.len(), 200);
    for outcome in outcomes {
        assert_eq!(outcome.unwrap_err(), RejectReason::UnknownKey);
    }
    assert_eq!(sim.counters().get(endpoint::WELL_KNOWN_JWKS), 1);
    assert_eq!(cache.status().fetches, 1);
    // The genuine kid was in that one fetch.
    assert!(verifier.verify(&mint(&sim, &admin(&sim))).await.is_ok());
    assert_eq!(sim.counters().get(endpoint::WELL_KNOWN_JWKS), 1);
}

#[tokio::test]
async fn time_claims_outside_the_leeway_are_refused() {
    let sim = start_sim().await;
    let verifier = pinned(&sim, VerifierConfig::default());

    // Issued 2 min ago for 60 s: expired a minute ago, far beyond the 5 s leeway.
    let expired = mint(&sim, &admin(&sim).issued_at(at(-120)));
    assert_eq!(
        verifier.verify(&expired).await.unwrap_err(),
        RejectReason::Expired
    );

    // Issued now, usable only in a minute (the sim always sets nbf before iat).
    let not_yet = resign_claims(&mint(&sim, &admin(&sim)), |claims| {
        claims["nbf"] = json!(unix(60));
    });
    assert_eq!(
        verifier.verify(&not_yet).await.unwrap_err(),
        RejectReason::NotYetValid
    );

    let from_the_future = mint(&sim, &admin(&sim).issued_at(at(60)));
    assert_eq!(
        verifier.verify(&from_the_future).await.unwrap_err(),
        RejectReason::IssuedInFuture
    );
}

#[tokio::test]
async fn a_pinned_issuer_refuses_other_issuers() {
    let sim = start_sim().await;
    let token = mint(&sim, &admin(&sim));

    let elsewhere = VerifierConfig::default().issuers(["https://clerk.example.com"]);
    assert_eq!(
        pinned(&sim, elsewhere).verify(&token).await.unwrap_err(),
        RejectReason::WrongIssuer
    );

    let ours =
        VerifierConfig::default().issuers(["https://clerk.example.com".to_owned(), sim.issuer()]);
    assert!(pinned(&sim, ours).verify(&token).await.is_ok());
}

#[tokio::test]
async fn authorized_parties_need_a_listed_azp() {
    let sim = start_sim().await;
    let config =
        VerifierConfig::default().authorized_parties([DEFAULT_AZP, "https://app.example.com"]);
    let verifier = pinned(&sim, config);

    let without = mint(&sim, &admin(&sim).azp(None));
    assert_eq!(
        verifier.verify(&without).await.unwrap_err(),
        RejectReason::MissingAuthorizedParty
    );
    let empty = mint(&sim, &admin(&sim).azp(Some(String::new())));
    assert_eq!(
        verifier.verify(&empty).await.unwrap_err(),
        RejectReason::MissingAuthorizedParty
    );
    let evil = mint(
        &sim,
        &admin(&sim).azp(Some("https://evil.example".to_owned())),
    );
    assert_eq!(
        verifier.verify(&evil).await.unwrap_err(),
        RejectReason::WrongAuthorizedParty
    );
    let listed = mint(&sim, &admin(&sim));
    assert!(verifier.verify(&listed).await.is_ok());

    // Without an allow-list, a token without azp is fine.
    assert!(
        pinned(&sim, VerifierConfig::default())
            .verify(&without)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn claims_of_the_wrong_type_are_malformed() {
    let sim = start_sim().await;
    let verifier = pinned(&sim, VerifierConfig::default());
    let token = mint(&sim, &admin(&sim));

    for (claim, value) in [
        ("exp", json!(unix(60).to_string())),
        ("nbf", json!(unix(-10).to_string())),
        ("iat", json!(unix(0).to_string())),
        ("exp", json!(1.5e300)),
        ("sub", json!(42)),
        ("sts", json!(true)),
    ] {
        let mistyped = resign_claims(&token, |claims| claims[claim] = value.clone());
        assert_eq!(
            verifier.verify(&mistyped).await.unwrap_err(),
            RejectReason::Malformed,
            "{claim}: {value}"
        );
    }
}

#[tokio::test]
async fn a_machine_token_category_is_the_wrong_category() {
    let sim = start_sim().await;
    let verifier = pinned(&sim, VerifierConfig::default());

    let machine = mint(&sim, &admin(&sim).header("cat", "cl_mt_M2MTokenCategory"));
    assert_eq!(
        verifier.verify(&machine).await.unwrap_err(),
        RejectReason::WrongCategory
    );
    let session = mint(&sim, &admin(&sim).header("cat", SESSION_TOKEN_CATEGORY));
    assert!(verifier.verify(&session).await.is_ok());
}

#[tokio::test]
async fn a_token_over_the_size_cap_is_too_large() {
    let sim = start_sim().await;
    let padded = mint(&sim, &admin(&sim).header("pad", "x".repeat(9000)));
    assert!(padded.len() > VerifierConfig::default().max_token_bytes);
    assert_eq!(
        pinned(&sim, VerifierConfig::default())
            .verify(&padded)
            .await
            .unwrap_err(),
        RejectReason::TooLarge
    );

    // The cap is inclusive.
    let token = mint(&sim, &admin(&sim));
    let exact = VerifierConfig::default().max_token_bytes(token.len());
    assert!(pinned(&sim, exact).verify(&token).await.is_ok());
    let one_short = VerifierConfig::default().max_token_bytes(token.len() - 1);
    assert_eq!(
        pinned(&sim, one_short).verify(&token).await.unwrap_err(),
        RejectReason::TooLarge
    );
}

#[tokio::test]
async fn garbage_is_malformed() {
    let sim = start_sim().await;
    let verifier = pinned(&sim, VerifierConfig::default());
    let token = mint(&sim, &admin(&sim));
    let (header, claims) = decode(&token);
    let (_, signature) = token.rsplit_once('.').unwrap();

    // A payload that is not base64, under a genuine signature.
    let message = format!("{}.%%%not-base64%%%", segment(&header));
    let bad_payload_signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &rsa_key(SIM_PRIVATE_PEM),
        Algorithm::RS256,
    )
    .unwrap();
    let bad_payload = format!("{message}.{bad_payload_signature}");

    let four_segments = format!("{token}.{signature}");
    let not_json_header = format!(
        "{}.{}.{signature}",
        base64url(b"not json"),
        segment(&claims)
    );
    let array_header = format!(
        "{}.{}.{signature}",
        segment(&json!(["RS256"])),
        segment(&claims)
    );
    let no_alg_header = format!(
        "{}.{}.{signature}",
        segment(&json!({"kid": sim.signing_kid()})),
        segment(&claims)
    );
    let cases = [
        "",
        ".",
        "..",
        "...",
        "a.b",
        "!!!.@@@.###",
        "eyJhbGciOiJSUzI1NiJ9",
        bad_payload.as_str(),
        four_segments.as_str(),
        not_json_header.as_str(),
        array_header.as_str(),
        no_alg_header.as_str(),
    ];
    for case in cases {
        assert_eq!(
            verifier.verify(case).await.unwrap_err(),
            RejectReason::Malformed,
            "{case:?}"
        );
    }
}

#[tokio::test]
async fn a_pending_session_is_refused_unless_allowed() {
    let sim = start_sim().await;
    let pending = resign_claims(&mint(&sim, &admin(&sim)), |claims| {
        claims["sts"] = json!("pending");
    });

    assert_eq!(
        pinned(&sim, VerifierConfig::default())
            .verify(&pending)
            .await
            .unwrap_err(),
        RejectReason::Pending
    );
    let lenient = VerifierConfig::default().reject_pending(false);
    let session = pinned(&sim, lenient).verify(&pending).await.unwrap();
    assert_eq!(session.status, SessionClaimStatus::Pending);
}

#[tokio::test]
async fn extreme_time_claims_never_overflow() {
    let sim = start_sim().await;
    let verifier = pinned(&sim, VerifierConfig::default());
    let token = mint(&sim, &admin(&sim));
    let with = |claim: &str, value: serde_json::Value| {
        resign_claims(&token, |claims| claims[claim] = value)
    };

    for (claim, value, expected) in [
        ("exp", json!(i64::MIN), Err(RejectReason::Expired)),
        ("exp", json!(-1), Err(RejectReason::Expired)),
        ("exp", json!(u64::MAX), Err(RejectReason::Malformed)),
        ("exp", json!(i64::MAX), Ok(())),
        ("nbf", json!(i64::MAX), Err(RejectReason::NotYetValid)),
        ("nbf", json!(i64::MIN), Ok(())),
        ("iat", json!(i64::MAX), Err(RejectReason::IssuedInFuture)),
        ("iat", json!(i64::MIN), Ok(())),
    ] {
        let outcome = verifier
            .verify(&with(claim, value.clone()))
            .await
            .map(|_| ());
        assert_eq!(outcome, expected, "{claim}: {value}");
    }

    // Grace judges the age past exp: one at the dawn of time is simply too old.
    let policy = AuthPolicy::new(verifier, BypassSwitch::new());
    policy
        .switch()
        .activate(grace(), None, "overflow drill")
        .unwrap();
    let ancient = with("exp", json!(i64::MIN));
    let decision = decide(&policy, Some(&ancient), RouteClass::Protected).await;
    assert_eq!(
        refused(&decision).0,
        Rejection::Unauthenticated(RejectReason::Expired)
    );
}
