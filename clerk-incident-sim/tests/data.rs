//! Seeded data: determinism and consistency.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::HashMap;

use clerk_incident_sim::{OrgRole, SessionStatus, Sim};
use common::{DAY_MS, NOW, builder, get_json};
use reqwest::StatusCode;
use serde_json::Value;

async fn snapshot(sim: &Sim) -> (Value, Vec<Value>) {
    let users = get_json(sim, "/v1/users?limit=500", StatusCode::OK).await;
    let mut sessions = Vec::new();
    for user in users.as_array().unwrap() {
        let id = user["id"].as_str().unwrap();
        sessions.push(
            get_json(
                sim,
                &format!("/v1/sessions?user_id={id}&limit=500"),
                StatusCode::OK,
            )
            .await,
        );
    }
    (users, sessions)
}

#[tokio::test]
async fn same_seed_and_now_give_identical_data() {
    let a = builder()
        .users(40)
        .sessions(70)
        .seed(9)
        .start()
        .await
        .unwrap();
    let b = builder()
        .users(40)
        .sessions(70)
        .seed(9)
        .start()
        .await
        .unwrap();
    let c = builder()
        .users(40)
        .sessions(70)
        .seed(10)
        .start()
        .await
        .unwrap();
    let snapshot_a = snapshot(&a).await;
    assert_eq!(snapshot_a, snapshot(&b).await);
    assert_ne!(snapshot_a.0, snapshot(&c).await.0);
    assert_eq!(a.users(), b.users());
    assert_eq!(a.sessions(), b.sessions());
    assert_eq!(a.instance_id(), b.instance_id());
    assert_ne!(a.instance_id(), c.instance_id());
}

#[tokio::test]
async fn active_sessions_belong_only_to_recently_active_users() {
    let sim = builder().users(200).sessions(300).start().await.unwrap();
    let users: HashMap<String, _> = sim.users().into_iter().map(|u| (u.id.clone(), u)).collect();
    let sessions = sim.sessions();
    let week_ago = NOW - 7 * DAY_MS;
    let active: Vec<_> = sessions
        .iter()
        .filter(|s| s.status == SessionStatus::Active)
        .collect();
    assert!(
        active.len() * 3 >= sessions.len() * 2 - 3,
        "about two thirds are active"
    );
    for session in &active {
        let user = &users[&session.user_id];
        assert!(
            user.last_active_at >= week_ago,
            "{} active on an idle user",
            session.id
        );
        assert!(session.expire_at > NOW);
    }
    let stale = users
        .values()
        .filter(|u| u.last_active_at < week_ago)
        .count();
    assert!(
        stale * 2 > users.len(),
        "most users are inactive for more than a week"
    );
    for user in users.values() {
        assert_eq!(user.last_active_at % DAY_MS, 0);
        assert!(user.last_active_at >= NOW - 366 * DAY_MS);
    }

    // Pruning by last_active_at loses no active session.
    let recent = get_json(
        &sim,
        &format!("/v1/users?limit=500&last_active_at_after={week_ago}"),
        StatusCode::OK,
    )
    .await;
    let recent: Vec<&str> = recent
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert!(active.iter().all(|s| recent.contains(&s.user_id.as_str())));
}

#[tokio::test]
async fn the_admin_is_an_org_admin_with_an_active_session() {
    let sim = builder().start().await.unwrap();
    let admin_id = sim.admin_user_id().unwrap();
    let admin = sim.users().into_iter().find(|u| u.id == admin_id).unwrap();
    let membership = admin.membership.unwrap();
    assert_eq!(membership.role, OrgRole::Admin);
    assert_eq!(membership.organization_id, sim.organizations()[0].id);
    assert!(
        sim.sessions()
            .iter()
            .any(|s| s.user_id == admin_id && s.status == SessionStatus::Active)
    );
    let others = sim
        .users()
        .into_iter()
        .filter(|u| {
            u.membership
                .as_ref()
                .is_some_and(|m| m.role == OrgRole::Admin)
        })
        .count();
    assert_eq!(others, 1);
    let without_org = sim
        .users()
        .into_iter()
        .filter(|u| u.membership.is_none())
        .count();
    assert!(without_org > 0);

    let none = builder().organizations(0).start().await.unwrap();
    assert_eq!(none.admin_user_id(), None);
}

#[tokio::test]
async fn ids_look_like_clerk_ids() {
    let sim = builder().users(5).sessions(5).start().await.unwrap();
    let check = |id: &str, prefix: &str| {
        let body = id.strip_prefix(prefix).unwrap();
        assert_eq!(body.len(), 27, "{id}");
        assert!(body.chars().all(|c| c.is_ascii_alphanumeric()));
    };
    check(sim.instance_id(), "ins_");
    for user in sim.users() {
        check(&user.id, "user_");
    }
    for session in sim.sessions() {
        check(&session.id, "sess_");
        check(&session.client_id, "client_");
    }
    for org in sim.organizations() {
        check(&org.id, "org_");
    }
}

#[tokio::test]
async fn oversized_seeds_are_refused() {
    let error = builder().users(5_000_000).start().await.unwrap_err();
    assert!(
        matches!(error, clerk_incident_sim::SimError::InvalidConfig { .. }),
        "{error}"
    );
    let error = builder().secret_key("  ").start().await.unwrap_err();
    assert!(error.to_string().contains("secret key"));
}
