//! Minted session tokens, the JWKS and signing key rotation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::time::{Duration, UNIX_EPOCH};

use clerk_incident_sim::{ClaimsVersion, SessionStatus, Sim, SimError, TokenRequest, endpoint};
use common::{INSTANCE_REQUIRED, JWK_REQUIRED, assert_shape, builder, get_json};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use reqwest::StatusCode;
use serde_json::Value;

fn validation(sim: &Sim) -> Validation {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[sim.issuer()]);
    validation.validate_aud = false;
    validation.validate_nbf = true;
    validation
}

/// Decodes `token` with the JWKS key whose `kid` matches its header.
fn decode_with_jwks(sim: &Sim, token: &str, jwks: &Value) -> Value {
    let kid = decode_header(token).unwrap().kid.unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == kid.as_str())
        .expect("the token's kid is in the JWKS");
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    decode::<Value>(token, &key, &validation(sim))
        .unwrap()
        .claims
}

#[tokio::test]
async fn jwks_and_instance_have_the_spec_shapes() {
    let sim = builder().start().await.unwrap();
    let backend = get_json(&sim, "/v1/jwks", StatusCode::OK).await;
    let frontend = get_json(&sim, "/.well-known/jwks.json", StatusCode::OK).await;
    assert_eq!(backend, frontend);
    let keys = backend["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_shape(&keys[0], "JWKS.rsa.PublicKey", JWK_REQUIRED, JWK_REQUIRED);
    assert_eq!(keys[0]["kid"], sim.signing_kid().as_str());
    assert_eq!(keys[0]["kty"], "RSA");
    assert_eq!(keys[0]["alg"], "RS256");
    assert_eq!(keys[0]["use"], "sig");
    assert_eq!(keys[0]["e"], "AQAB");

    let instance = get_json(&sim, "/v1/instance", StatusCode::OK).await;
    assert_shape(&instance, "Instance", INSTANCE_REQUIRED, INSTANCE_REQUIRED);
    assert_eq!(instance["object"], "instance");
    assert_eq!(instance["id"], sim.instance_id());
    assert_eq!(instance["environment_type"], "development");
    assert_eq!(
        instance["allowed_origins"],
        serde_json::json!(["http://localhost:3000"])
    );
    assert_eq!(instance["workspace_id"], Value::Null);
    let counters = sim.counters();
    assert_eq!(counters.get(endpoint::JWKS), 1);
    assert_eq!(counters.get(endpoint::WELL_KNOWN_JWKS), 1);
    assert_eq!(counters.get(endpoint::INSTANCE), 1);
}

#[tokio::test]
async fn v1_tokens_verify_against_the_jwks_and_the_pem() {
    let sim = builder().start().await.unwrap();
    let admin = sim.admin_user_id().unwrap();
    let token = sim
        .mint_token(&TokenRequest::for_user(&admin).header("cat", "cl_B7d4PD111AAA"))
        .unwrap();

    let header = decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(header.kid.as_deref(), Some(sim.signing_kid().as_str()));
    assert_eq!(
        header.extras.get::<String>("cat").unwrap().as_deref(),
        Some("cl_B7d4PD111AAA")
    );

    let jwks = get_json(&sim, "/.well-known/jwks.json", StatusCode::OK).await;
    let claims = decode_with_jwks(&sim, &token, &jwks);
    let pem_key = DecodingKey::from_rsa_pem(sim.public_key_pem().as_bytes()).unwrap();
    let pem_claims = decode::<Value>(&token, &pem_key, &validation(&sim))
        .unwrap()
        .claims;
    assert_eq!(claims, pem_claims);

    let newest_active = sim
        .sessions()
        .into_iter()
        .find(|s| s.user_id == admin && s.status == SessionStatus::Active)
        .unwrap();
    assert_eq!(claims["sub"], admin.as_str());
    assert_eq!(claims["sid"], newest_active.id.as_str());
    assert_eq!(claims["iss"], sim.base_url());
    assert_eq!(claims["azp"], "http://localhost:3000");
    assert_eq!(claims["sts"], "active");
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap(), iat + 60);
    assert_eq!(claims["nbf"].as_i64().unwrap(), iat - 10);
    let org = &sim.organizations()[0];
    assert_eq!(claims["org_id"], org.id.as_str());
    assert_eq!(claims["org_slug"], org.slug.as_str());
    assert_eq!(claims["org_role"], "org:admin");
    assert_eq!(
        claims["org_permissions"],
        serde_json::json!([
            "org:dashboard:manage",
            "org:dashboard:read",
            "org:teams:manage",
            "org:teams:read"
        ])
    );
    assert!(claims.get("v").is_none());
}

#[tokio::test]
async fn v2_tokens_carry_compact_org_claims() {
    let sim = builder().start().await.unwrap();
    let admin = sim.admin_user_id().unwrap();
    let token = sim
        .mint_token(
            &TokenRequest::for_user(&admin)
                .version(ClaimsVersion::V2)
                .azp(None),
        )
        .unwrap();
    let jwks = get_json(&sim, "/v1/jwks", StatusCode::OK).await;
    let claims = decode_with_jwks(&sim, &token, &jwks);
    assert_eq!(claims["v"], 2);
    assert_eq!(claims["o"]["id"], sim.organizations()[0].id.as_str());
    assert_eq!(claims["o"]["rol"], "admin");
    assert_eq!(claims["o"]["per"], "manage,read");
    assert_eq!(claims["o"]["fpm"], "3,3");
    assert_eq!(claims["fea"], "o:dashboard,o:teams");
    assert!(claims["pla"].is_string());
    assert!(claims.get("azp").is_none());
    assert!(claims.get("org_id").is_none());

    // A member gets the read bits only.
    let member = sim
        .users()
        .into_iter()
        .find(|u| {
            u.membership
                .as_ref()
                .is_some_and(|m| m.role == clerk_incident_sim::OrgRole::Member)
                && sim
                    .sessions()
                    .iter()
                    .any(|s| s.user_id == u.id && s.status == SessionStatus::Active)
        })
        .unwrap();
    let token = sim
        .mint_token(&TokenRequest::for_user(&member.id).version(ClaimsVersion::V2))
        .unwrap();
    let claims = decode_with_jwks(&sim, &token, &jwks);
    assert_eq!(claims["o"]["rol"], "member");
    assert_eq!(claims["o"]["fpm"], "2,2");
}

#[tokio::test]
async fn lifetime_issued_at_and_session_choice_are_honoured() {
    let sim = builder().start().await.unwrap();
    let session = sim
        .sessions()
        .into_iter()
        .find(|s| s.status == SessionStatus::Revoked)
        .unwrap();
    let issued_at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let token = sim
        .mint_token(
            &TokenRequest::for_session(&session.id)
                .issued_at(issued_at)
                .lifetime(Duration::from_secs(3600)),
        )
        .unwrap();
    let mut validation = validation(&sim);
    validation.validate_exp = false;
    let key = DecodingKey::from_rsa_pem(sim.public_key_pem().as_bytes()).unwrap();
    let claims = decode::<Value>(&token, &key, &validation).unwrap().claims;
    assert_eq!(claims["sid"], session.id.as_str());
    assert_eq!(claims["sub"], session.user_id.as_str());
    assert_eq!(claims["iat"], 1_700_000_000);
    assert_eq!(claims["exp"], 1_700_003_600);
    // Expired by now, so a strict verifier refuses it.
    assert!(decode::<Value>(&token, &key, &validation_strict(&sim)).is_err());

    let idle = sim
        .users()
        .into_iter()
        .find(|u| {
            !sim.sessions()
                .iter()
                .any(|s| s.user_id == u.id && s.status == SessionStatus::Active)
        })
        .unwrap();
    assert!(matches!(
        sim.mint_token(&TokenRequest::for_user(&idle.id)),
        Err(SimError::NoActiveSession { .. })
    ));
    assert!(matches!(
        sim.mint_token(&TokenRequest::for_user("user_nobody")),
        Err(SimError::UnknownUser { .. })
    ));
    assert!(matches!(
        sim.mint_token(&TokenRequest::default()),
        Err(SimError::InvalidTokenRequest { .. })
    ));
    let stranger = sim
        .users()
        .into_iter()
        .find(|u| u.id != session.user_id)
        .unwrap();
    let mismatched = TokenRequest {
        user_id: Some(stranger.id),
        ..TokenRequest::for_session(&session.id)
    };
    assert!(matches!(
        sim.mint_token(&mismatched),
        Err(SimError::InvalidTokenRequest { .. })
    ));
    let before_epoch =
        TokenRequest::for_session(&session.id).issued_at(UNIX_EPOCH - Duration::from_secs(1));
    assert!(matches!(
        sim.mint_token(&before_epoch),
        Err(SimError::InvalidTokenRequest { .. })
    ));
}

fn validation_strict(sim: &Sim) -> Validation {
    let mut validation = validation(sim);
    validation.leeway = 0;
    validation
}

#[tokio::test]
async fn rotation_changes_the_kid_and_the_jwks_serves_both_keys() {
    let sim = builder().start().await.unwrap();
    let admin = sim.admin_user_id().unwrap();
    let old_kid = sim.signing_kid();
    let old_pem = sim.public_key_pem();
    let old_token = sim.mint_token(&TokenRequest::for_user(&admin)).unwrap();

    sim.rotate_signing_key();
    let new_kid = sim.signing_kid();
    assert_ne!(new_kid, old_kid);
    assert_ne!(sim.public_key_pem(), old_pem);

    let jwks = get_json(&sim, "/.well-known/jwks.json", StatusCode::OK).await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [new_kid.as_str(), old_kid.as_str()]);

    let new_token = sim.mint_token(&TokenRequest::for_user(&admin)).unwrap();
    assert_eq!(
        decode_header(&new_token).unwrap().kid.as_deref(),
        Some(new_kid.as_str())
    );
    decode_with_jwks(&sim, &new_token, &jwks);
    decode_with_jwks(&sim, &old_token, &jwks);
    let old_key = DecodingKey::from_rsa_pem(old_pem.as_bytes()).unwrap();
    assert!(decode::<Value>(&new_token, &old_key, &validation(&sim)).is_err());

    sim.rotate_signing_key();
    let jwks = get_json(&sim, "/v1/jwks", StatusCode::OK).await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[1], new_kid.as_str());
    assert!(!kids.contains(&old_kid.as_str()));
}
