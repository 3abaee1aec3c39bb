//! `GET /v1/users`, `/v1/users/count` and `/v1/users/{user_id}`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::HashSet;

use clerk_incident_sim::endpoint;
use common::{DAY_MS, NOW, assert_clerk_error, assert_user, builder, get, get_json, ids};
use reqwest::StatusCode;

#[tokio::test]
async fn list_returns_users_newest_first_in_the_spec_shape() {
    let sim = builder().users(30).start().await.unwrap();
    let page = get_json(&sim, "/v1/users", StatusCode::OK).await;
    let users = page.as_array().unwrap();
    assert_eq!(users.len(), 10, "default limit");
    for user in users {
        assert_user(user);
    }
    let created: Vec<i64> = users
        .iter()
        .map(|u| u["created_at"].as_i64().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] > w[1]));
    let expected: Vec<String> = sim.users().iter().take(10).map(|u| u.id.clone()).collect();
    assert_eq!(ids(&page), expected);
    assert_eq!(sim.counters().get(endpoint::LIST_USERS), 1);
}

#[tokio::test]
async fn cursor_walk_sees_every_user_once_and_ends_on_a_short_page() {
    let sim = builder().users(47).start().await.unwrap();
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut path = "/v1/users?limit=10".to_owned();
    loop {
        let page = ids(&get_json(&sim, &path, StatusCode::OK).await);
        pages += 1;
        seen.extend(page.iter().cloned());
        if page.len() < 10 {
            break;
        }
        path = format!("/v1/users?limit=10&starting_after={}", page.last().unwrap());
    }
    assert_eq!(pages, 5);
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 47);
    let expected: Vec<String> = sim.users().into_iter().map(|u| u.id).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn cursor_and_ordering_rules_are_enforced() {
    let sim = builder().users(5).start().await.unwrap();
    let first = sim.users()[0].id.clone();
    for path in [
        format!("/v1/users?starting_after={first}&offset=2"),
        format!("/v1/users?starting_after={first}&order_by=-updated_at"),
        "/v1/users?starting_after=user_unknown".to_owned(),
        "/v1/users?order_by=nickname".to_owned(),
        "/v1/users?limit=0".to_owned(),
        "/v1/users?limit=501".to_owned(),
    ] {
        let body = get_json(&sim, &path, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_clerk_error(&body, "form_param_value_invalid");
    }
    let body = get_json(
        &sim,
        "/v1/users?limit=ten",
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_clerk_error(&body, "form_param_format_invalid");
    let body = get_json(
        &sim,
        "/v1/users?offset=-1",
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["meta"]["param_name"], "offset");
    // A zero offset is fine with a cursor; ascending order walks the other way.
    let page = get_json(
        &sim,
        &format!("/v1/users?starting_after={first}&offset=0&order_by=%2Bcreated_at"),
        StatusCode::OK,
    )
    .await;
    assert!(
        ids(&page).is_empty(),
        "nothing is newer than the newest user"
    );
}

#[tokio::test]
async fn user_id_filter_includes_and_excludes() {
    let sim = builder().users(20).start().await.unwrap();
    let all: Vec<String> = sim.users().into_iter().map(|u| u.id).collect();
    let path = format!(
        "/v1/users?user_id={}&user_id=%2B{}&user_id={}&user_id=-{}",
        all[0], all[1], all[2], all[2]
    );
    let page = get_json(&sim, &path, StatusCode::OK).await;
    assert_eq!(ids(&page), vec![all[0].clone(), all[1].clone()]);

    let path = format!(
        "/v1/users?limit=100&user_id=-{}&user_id=-{}",
        all[0], all[5]
    );
    let page = ids(&get_json(&sim, &path, StatusCode::OK).await);
    assert_eq!(page.len(), 18);
    assert!(!page.contains(&all[0]) && !page.contains(&all[5]));

    let too_many: String = (0..101).map(|i| format!("&user_id=user_{i}")).collect();
    let body = get_json(
        &sim,
        &format!("/v1/users?{too_many}"),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_clerk_error(&body, "form_param_value_invalid");
}

#[tokio::test]
async fn activity_and_creation_filters_use_inclusive_after_and_exclusive_before() {
    let sim = builder().users(60).start().await.unwrap();
    let users = sim.users();
    let week_ago = NOW - 7 * DAY_MS;
    let recent: Vec<String> = users
        .iter()
        .filter(|u| u.last_active_at >= week_ago)
        .map(|u| u.id.clone())
        .collect();
    assert!(!recent.is_empty() && recent.len() < users.len());
    let page = get_json(
        &sim,
        &format!("/v1/users?limit=500&last_active_at_after={week_ago}"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page), recent);

    let boundary = users[0].last_active_at;
    let page = ids(&get_json(
        &sim,
        &format!("/v1/users?limit=500&last_active_at_after={boundary}"),
        StatusCode::OK,
    )
    .await);
    assert!(page.contains(&users[0].id), "after is inclusive");
    let page = ids(&get_json(
        &sim,
        &format!("/v1/users?limit=500&last_active_at_before={boundary}"),
        StatusCode::OK,
    )
    .await);
    assert!(!page.contains(&users[0].id), "before is exclusive");

    let (from, to) = (users[30].created_at, users[10].created_at);
    let expected: Vec<String> = users
        .iter()
        .filter(|u| u.created_at >= from && u.created_at < to)
        .map(|u| u.id.clone())
        .collect();
    assert_eq!(expected.len(), 20);
    let path = format!("/v1/users?limit=500&created_at_after={from}&created_at_before={to}");
    assert_eq!(ids(&get_json(&sim, &path, StatusCode::OK).await), expected);
    let count = get_json(
        &sim,
        &format!("/v1/users/count?created_at_after={from}&created_at_before={to}"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(count["total_count"], 20);
}

#[tokio::test]
async fn organization_filter_matches_memberships() {
    let sim = builder().users(40).organizations(3).start().await.unwrap();
    let users = sim.users();
    let org = sim.organizations()[0].id.clone();
    let members: Vec<String> = users
        .iter()
        .filter(|u| {
            u.membership
                .as_ref()
                .is_some_and(|m| m.organization_id == org)
        })
        .map(|u| u.id.clone())
        .collect();
    assert!(!members.is_empty());
    let page = get_json(
        &sim,
        &format!("/v1/users?limit=500&organization_id={org}"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page), members);
    let page = ids(&get_json(
        &sim,
        &format!("/v1/users?limit=500&organization_id=-{org}"),
        StatusCode::OK,
    )
    .await);
    assert_eq!(page.len(), users.len() - members.len());
    assert!(members.iter().all(|m| !page.contains(m)));
}

#[tokio::test]
async fn count_matches_the_list() {
    let sim = builder().users(75).start().await.unwrap();
    let count = get_json(&sim, "/v1/users/count", StatusCode::OK).await;
    assert_eq!(
        count,
        serde_json::json!({"object": "total_count", "total_count": 75})
    );
    let after = NOW - 30 * DAY_MS;
    let listed = get_json(
        &sim,
        &format!("/v1/users?limit=500&last_active_at_after={after}"),
        StatusCode::OK,
    )
    .await;
    let counted = get_json(
        &sim,
        &format!("/v1/users/count?last_active_at_after={after}"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        counted["total_count"].as_u64().unwrap(),
        listed.as_array().unwrap().len() as u64
    );
    assert_eq!(sim.counters().get(endpoint::COUNT_USERS), 2);
}

#[tokio::test]
async fn get_user_returns_the_user_or_404() {
    let sim = builder().users(3).start().await.unwrap();
    let id = sim.users()[2].id.clone();
    let user = get_json(&sim, &format!("/v1/users/{id}"), StatusCode::OK).await;
    assert_user(&user);
    assert_eq!(user["id"], id.as_str());
    let body = get_json(&sim, "/v1/users/user_nobody", StatusCode::NOT_FOUND).await;
    assert_clerk_error(&body, "resource_not_found");
    let body = get_json(&sim, "/v1/users/%FF%FE", StatusCode::NOT_FOUND).await;
    assert_clerk_error(&body, "resource_not_found");
    assert_eq!(sim.counters().get(endpoint::GET_USER), 3);
    let response = get(&sim, "/v1/nothing/here").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
