//! Walking lists: users by `starting_after` cursor, sessions by offset with `paginated=true`,
//! and the 100-id filter cap.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use clerk_incident_core::api::{
    ApiError, ClerkApi, MAX_IDS_PER_FILTER, Session, SessionStatus, User, UserQuery,
};
use common::{
    api, clerk_call, clerk_error_response, ok_json, query_values, session_json, sessions_json,
    users_json,
};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use wiremock::matchers::{any, query_param, query_param_is_missing};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

/// A `GET /v1/users` mock for the page after `cursor` (`None`: the first page), which also
/// requires the page size and the filters of [`filtered_query`].
fn users_page(cursor: Option<&str>) -> MockBuilder {
    let base = clerk_call("GET", "/v1/users")
        .and(query_param("limit", "2"))
        .and(query_param("order_by", "-created_at"))
        .and(query_param("last_active_at_after", "1699000000000"))
        .and(query_values("organization_id", vec!["org_1".into()]))
        .and(query_param_is_missing("offset"));
    match cursor {
        Some(cursor) => base.and(query_param("starting_after", cursor)),
        None => base.and(query_param_is_missing("starting_after")),
    }
}

fn filtered_query() -> UserQuery {
    UserQuery::new()
        .page_size(2)
        .last_active_at_after(1_699_000_000_000)
        .organization_ids(["org_1"])
}

fn ids(users: &[User]) -> Vec<&str> {
    users.iter().map(|u| u.id.as_str()).collect()
}

async fn mount_users_page(server: &MockServer, cursor: Option<&str>, body: &Value) {
    users_page(cursor)
        .respond_with(ok_json(body))
        .expect(1)
        .mount(server)
        .await;
}

/// The ids of every user [`filtered_query`] lists.
async fn listed_ids(api: &ClerkApi) -> Vec<String> {
    api.list_users(filtered_query())
        .map_ok(|user| user.id)
        .try_collect()
        .await
        .unwrap()
}

/// Users 1 to 5 in three pages: after no cursor, after `user_2`, after `user_4` (short).
async fn mount_five_users_in_pages_of_two(server: &MockServer) {
    mount_users_page(server, None, &users_json(1, 2)).await;
    mount_users_page(server, Some("user_2"), &users_json(3, 2)).await;
    mount_users_page(server, Some("user_4"), &users_json(5, 1)).await;
}

#[tokio::test]
async fn list_users_follows_the_cursor_and_stops_on_a_short_page() {
    let server = MockServer::start().await;
    mount_five_users_in_pages_of_two(&server).await;
    // Nothing may be asked after the short page.
    Mock::given(query_param("starting_after", "user_5"))
        .respond_with(ok_json(&json!([])))
        .expect(0)
        .mount(&server)
        .await;

    let api = api(&server);
    assert_eq!(
        listed_ids(&api).await,
        ["user_1", "user_2", "user_3", "user_4", "user_5"]
    );
    assert_eq!(api.counters().requests, 3);
}

/// The stream owns what it needs: it outlives the client handle that made it.
fn users_stream(
    server: &MockServer,
) -> impl futures::Stream<Item = Result<User, ApiError>> + 'static {
    api(server).list_users(filtered_query())
}

#[tokio::test]
async fn the_user_stream_outlives_the_client_handle() {
    let server = MockServer::start().await;
    mount_users_page(&server, None, &users_json(1, 1)).await;

    let stream = users_stream(&server);
    let users: Vec<_> = tokio::spawn(stream.try_collect::<Vec<_>>())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ids(&users), ["user_1"]);
}

#[tokio::test]
async fn list_user_pages_yields_one_item_per_page() {
    let server = MockServer::start().await;
    mount_five_users_in_pages_of_two(&server).await;

    let sizes: Vec<usize> = api(&server)
        .list_user_pages(filtered_query())
        .map_ok(|page| page.len())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sizes, [2, 2, 1]);
}

#[tokio::test]
async fn an_exact_multiple_of_the_page_size_ends_on_an_empty_page() {
    let server = MockServer::start().await;
    mount_users_page(&server, None, &users_json(1, 2)).await;
    mount_users_page(&server, Some("user_2"), &users_json(3, 2)).await;
    mount_users_page(&server, Some("user_4"), &json!([])).await;

    let api = api(&server);
    assert_eq!(
        listed_ids(&api).await,
        ["user_1", "user_2", "user_3", "user_4"]
    );
    assert_eq!(api.counters().requests, 3);
}

#[tokio::test]
async fn an_error_mid_walk_ends_the_stream_after_the_pages_already_read() {
    let server = MockServer::start().await;
    mount_users_page(&server, None, &users_json(1, 2)).await;
    users_page(Some("user_2"))
        .respond_with(clerk_error_response(401, "authentication_invalid", "t"))
        .expect(1)
        .mount(&server)
        .await;

    let items: Vec<_> = api(&server).list_users(filtered_query()).collect().await;
    assert_eq!(items.len(), 3, "two users, then the error, then the end");
    assert!(items[0].is_ok() && items[1].is_ok());
    let err = items[2].as_ref().unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
}

/// Mounts the `paginated=true` page of `user_1`'s active sessions at `offset`: `count`
/// sessions out of `total`, asked for once.
async fn mount_sessions_page(server: &MockServer, offset: usize, count: usize, total: usize) {
    clerk_call("GET", "/v1/sessions")
        .and(query_param("user_id", "user_1"))
        .and(query_param("status", "active"))
        .and(query_param("paginated", "true"))
        .and(query_param("limit", "500"))
        .and(query_param("offset", offset.to_string()))
        .respond_with(ok_json(&json!({
            "data": sessions_json("user_1", offset, count),
            "total_count": total
        })))
        .expect(1)
        .mount(server)
        .await;
}

async fn active_sessions_of_user_1(api: &ClerkApi) -> Vec<Session> {
    api.list_sessions("user_1", Some(SessionStatus::Active))
        .await
        .unwrap()
}

#[tokio::test]
async fn list_sessions_walks_offset_pages_until_total_count() {
    let server = MockServer::start().await;
    mount_sessions_page(&server, 0, 500, 1000).await;
    mount_sessions_page(&server, 500, 500, 1000).await;
    // Both pages were full, but total_count says there is nothing after them.
    Mock::given(query_param("offset", "1000"))
        .respond_with(ok_json(&json!({"data": [], "total_count": 1000})))
        .expect(0)
        .mount(&server)
        .await;

    let api = api(&server);
    let sessions = active_sessions_of_user_1(&api).await;
    assert_eq!(sessions.len(), 1000);
    let unique: HashSet<_> = sessions.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(unique.len(), 1000);
    assert_eq!(sessions[0].id, "sess_0");
    assert_eq!(sessions[999].id, "sess_999");
    assert_eq!(api.counters().requests, 2);
}

#[tokio::test]
async fn list_sessions_stops_on_a_short_page() {
    let server = MockServer::start().await;
    // total_count claims more than there is: the short page still ends the walk.
    mount_sessions_page(&server, 0, 500, 600).await;
    mount_sessions_page(&server, 500, 3, 600).await;

    let api = api(&server);
    assert_eq!(active_sessions_of_user_1(&api).await.len(), 503);
    assert_eq!(api.counters().requests, 2);
}

#[tokio::test]
async fn a_plain_array_of_sessions_is_accepted() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/sessions")
        .and(query_param("user_id", "user_1"))
        .respond_with(ok_json(&json!([
            session_json("sess_a", "user_1", "active"),
            session_json("sess_b", "user_1", "ended"),
            session_json("sess_c", "user_1", "a_status_from_the_future"),
        ])))
        .expect(1)
        .mount(&server)
        .await;

    let sessions = api(&server).list_sessions("user_1", None).await.unwrap();
    let statuses: Vec<_> = sessions.iter().map(|s| s.status.clone()).collect();
    assert_eq!(
        statuses,
        [
            SessionStatus::Active,
            SessionStatus::Ended,
            SessionStatus::Unknown("a_status_from_the_future".into())
        ]
    );
}

fn many_ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}_{i}")).collect()
}

#[tokio::test]
async fn more_than_100_ids_is_a_config_error_and_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let api = api(&server);

    let too_many_users = UserQuery::new().user_ids(many_ids("user", MAX_IDS_PER_FILTER + 1));
    let too_many_orgs = UserQuery::new().organization_ids(many_ids("org", 101));

    let listed: Vec<_> = api.list_users(too_many_users.clone()).collect().await;
    assert_eq!(listed.len(), 1);
    let err = listed[0].as_ref().unwrap_err();
    assert!(matches!(err, ApiError::Config(_)), "{err:?}");
    assert!(err.to_string().contains("101"), "{err}");
    assert_eq!(err.attempts(), 0);

    for query in [&too_many_users, &too_many_orgs] {
        let err = api.count_users(query).await.unwrap_err();
        assert!(matches!(err, ApiError::Config(_)), "{err:?}");
    }
    assert_eq!(api.counters().requests, 0);
}

#[tokio::test]
async fn exactly_100_ids_are_sent_as_repeated_parameters() {
    let server = MockServer::start().await;
    let ids = many_ids("user", MAX_IDS_PER_FILTER);
    clerk_call("GET", "/v1/users/count")
        .and(query_values("user_id", ids.clone()))
        .respond_with(ok_json(
            &json!({"object": "total_count", "total_count": 100}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let count = api(&server)
        .count_users(&UserQuery::new().user_ids(ids))
        .await
        .unwrap();
    assert_eq!(count, 100);
}
