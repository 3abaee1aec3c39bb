//! Each Backend API operation: the request it sends (method, path, query, headers) and how it
//! reads Clerk's answers (success bodies shaped like the OpenAPI spec, Clerk's error body, a
//! body of the wrong shape).

mod common;

use clerk_incident_core::api::{
    ApiError, EnvironmentType, RevokeOutcome, SessionStatus, UserOrder, UserQuery,
};
use common::{
    api, clerk_call, clerk_error_response, instance_json, jwks_json, ok_json, query_values,
    session_json, user_json, users_json,
};
use futures::TryStreamExt;
use serde_json::json;
use wiremock::matchers::{query_param, query_param_is_missing};
use wiremock::{MockServer, ResponseTemplate};

#[tokio::test]
async fn list_users_sends_every_filter_and_decodes_full_users() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/users")
        .and(query_param("limit", "50"))
        .and(query_param("order_by", "+created_at"))
        .and(query_values(
            "user_id",
            vec!["user_a".into(), "user_b".into()],
        ))
        .and(query_values("organization_id", vec!["org_1".into()]))
        .and(query_param("created_at_after", "1690000000000"))
        .and(query_param("created_at_before", "1700000000000"))
        .and(query_param("last_active_at_after", "1699000000000"))
        .and(query_param_is_missing("starting_after"))
        .and(query_param_is_missing("offset"))
        .respond_with(ok_json(&users_json(1, 2)))
        .expect(1)
        .mount(&server)
        .await;

    let query = UserQuery::new()
        .user_ids(["user_a", "user_b"])
        .organization_ids(["org_1"])
        .created_at_after(1_690_000_000_000)
        .created_at_before(1_700_000_000_000)
        .last_active_at_after(1_699_000_000_000)
        .order(UserOrder::OldestFirst)
        .page_size(50);
    let users: Vec<_> = api(&server).list_users(query).try_collect().await.unwrap();

    assert_eq!(users.len(), 2);
    let first = &users[0];
    assert_eq!(first.id, "user_1");
    assert_eq!(first.first_name.as_deref(), Some("Ada"));
    assert_eq!(first.primary_email(), Some("user_1@example.com"));
    assert_eq!(first.created_at, 1_699_999_999_999);
    assert_eq!(first.last_active_at, Some(1_700_690_400_000));
    assert_eq!(first.last_sign_in_at, Some(1_700_003_599_999));
    assert!(!first.banned && !first.locked);
    assert_eq!(users[1].id, "user_2");
}

#[tokio::test]
async fn list_users_defaults_to_500_newest_first() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/users")
        .and(query_param("limit", "500"))
        .and(query_param("order_by", "-created_at"))
        .and(query_param_is_missing("user_id"))
        .and(query_param_is_missing("organization_id"))
        .and(query_param_is_missing("last_active_at_after"))
        .respond_with(ok_json(&json!([])))
        .expect(1)
        .mount(&server)
        .await;

    let users: Vec<_> = api(&server)
        .list_users(UserQuery::new())
        .try_collect()
        .await
        .unwrap();
    assert!(users.is_empty());
}

#[tokio::test]
async fn count_users_sends_filters_only_and_reads_total_count() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/users/count")
        .and(query_values(
            "organization_id",
            vec!["org_1".into(), "org_2".into()],
        ))
        .and(query_param("last_active_at_after", "1699000000000"))
        .and(query_param_is_missing("limit"))
        .and(query_param_is_missing("order_by"))
        .respond_with(ok_json(
            &json!({"object": "total_count", "total_count": 4321}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let query = UserQuery::new()
        .organization_ids(["org_1", "org_2"])
        .last_active_at_after(1_699_000_000_000);
    assert_eq!(api(&server).count_users(&query).await.unwrap(), 4321);
}

#[tokio::test]
async fn get_user_reads_one_user() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/users/user_2abc")
        .respond_with(ok_json(&user_json("user_2abc", 1_650_000_000_000)))
        .expect(1)
        .mount(&server)
        .await;

    let user = api(&server).get_user("user_2abc").await.unwrap();
    assert_eq!(user.id, "user_2abc");
    assert_eq!(user.last_name.as_deref(), Some("Lovelace"));
    assert_eq!(user.external_id, None);
    assert_eq!(user.email_addresses.len(), 1);
    assert_eq!(user.updated_at, 1_650_007_200_000);
}

#[tokio::test]
async fn list_sessions_asks_for_paginated_active_sessions_of_one_user() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/sessions")
        .and(query_param("user_id", "user_2abc"))
        .and(query_param("status", "active"))
        .and(query_param("paginated", "true"))
        .and(query_param("limit", "500"))
        .and(query_param("offset", "0"))
        .and(query_param_is_missing("client_id"))
        .respond_with(ok_json(&json!({
            "data": [
                session_json("sess_1", "user_2abc", "active"),
                session_json("sess_2", "user_2abc", "pending"),
            ],
            "total_count": 2
        })))
        .expect(1)
        .mount(&server)
        .await;

    let sessions = api(&server)
        .list_sessions("user_2abc", Some(SessionStatus::Active))
        .await
        .unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0].id, "sess_1");
    assert_eq!(sessions[0].user_id, "user_2abc");
    assert_eq!(sessions[0].client_id, "client_2xbhaSNAPwxvZ8lBsQY1vwnBcUD");
    assert_eq!(sessions[0].status, SessionStatus::Active);
    assert_eq!(sessions[0].expire_at, 1_701_295_200_000);
    assert_eq!(
        sessions[0].last_active_organization_id.as_deref(),
        Some("org_2xbhb7mm9d3hBbwKC56cU8U6r3G")
    );
    assert_eq!(sessions[1].status, SessionStatus::Pending);
}

#[tokio::test]
async fn list_sessions_without_a_status_sends_no_status() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/sessions")
        .and(query_param("user_id", "user_2abc"))
        .and(query_param("paginated", "true"))
        .and(query_param_is_missing("status"))
        .respond_with(ok_json(&json!({"data": [], "total_count": 0})))
        .expect(1)
        .mount(&server)
        .await;

    let sessions = api(&server).list_sessions("user_2abc", None).await.unwrap();
    assert!(sessions.is_empty());
}

#[tokio::test]
async fn get_session_reads_one_session() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/sessions/sess_9")
        .respond_with(ok_json(&session_json("sess_9", "user_1", "expired")))
        .expect(1)
        .mount(&server)
        .await;

    let session = api(&server).get_session("sess_9").await.unwrap();
    assert_eq!(session.id, "sess_9");
    assert_eq!(session.status, SessionStatus::Expired);
    assert!(!session.status.is_live());
}

#[tokio::test]
async fn revoke_session_posts_and_returns_the_revoked_session() {
    let server = MockServer::start().await;
    clerk_call("POST", "/v1/sessions/sess_9/revoke")
        .respond_with(ok_json(&session_json("sess_9", "user_1", "revoked")))
        .expect(1)
        .mount(&server)
        .await;

    let outcome = api(&server).revoke_session("sess_9").await.unwrap();
    let RevokeOutcome::Revoked(session) = outcome else {
        panic!("expected Revoked, got {outcome:?}");
    };
    assert_eq!(session.status, SessionStatus::Revoked);
}

#[tokio::test]
async fn jwks_reads_the_rsa_keys() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/jwks")
        .respond_with(ok_json(&jwks_json("ins_2xbh")))
        .expect(1)
        .mount(&server)
        .await;

    let jwks = api(&server).jwks().await.unwrap();
    let key = jwks.find("ins_2xbh").unwrap();
    assert_eq!(key.kty, "RSA");
    assert_eq!(key.alg.as_deref(), Some("RS256"));
    assert_eq!(key.use_.as_deref(), Some("sig"));
    assert_eq!(key.e.as_deref(), Some("AQAB"));
    assert!(key.n.as_deref().is_some_and(|n| n.len() > 300));
    assert!(jwks.find("ins_other").is_none());
}

#[tokio::test]
async fn instance_reads_id_environment_and_origins() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/instance")
        .respond_with(ok_json(&instance_json("ins_2xbh")))
        .expect(1)
        .mount(&server)
        .await;

    let instance = api(&server).instance().await.unwrap();
    assert_eq!(instance.id, "ins_2xbh");
    assert_eq!(instance.environment_type, EnvironmentType::Production);
    assert_eq!(
        instance.allowed_origins,
        Some(vec![
            "https://app.example.com".to_owned(),
            "http://localhost:3000".to_owned()
        ])
    );
}

#[tokio::test]
async fn a_base_url_ending_in_v1_is_not_doubled() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/instance")
        .respond_with(ok_json(&instance_json("ins_1")))
        .expect(1)
        .mount(&server)
        .await;

    let api = common::builder_for(&format!("{}/v1/", server.uri()))
        .build()
        .unwrap();
    assert_eq!(api.base_url(), server.uri());
    assert_eq!(api.instance().await.unwrap().id, "ins_1");
}

#[tokio::test]
async fn a_404_is_an_api_error_with_code_and_trace_id() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/users/user_gone")
        .respond_with(clerk_error_response(404, "resource_not_found", "trace-404"))
        .expect(1)
        .mount(&server)
        .await;

    let err = api(&server).get_user("user_gone").await.unwrap_err();
    assert!(matches!(err, ApiError::Api { status: 404, .. }), "{err:?}");
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.code(), Some("resource_not_found"));
    assert_eq!(err.clerk_trace_id(), Some("trace-404"));
    assert_eq!(err.attempts(), 1);
    assert!(err.is_not_found());
    let ApiError::Api { errors, .. } = &err else {
        unreachable!()
    };
    assert_eq!(errors[0].message, "something went wrong");
    assert_eq!(
        errors[0].long_message,
        "Something went wrong with this request"
    );
    let text = err.to_string();
    assert!(text.contains("get user") && text.contains("404"), "{text}");
    assert!(
        text.contains("resource_not_found") && text.contains("trace-404"),
        "{text}"
    );
}

#[tokio::test]
async fn a_422_is_an_api_error_with_code_and_trace_id() {
    let server = MockServer::start().await;
    clerk_call("GET", "/v1/sessions")
        .respond_with(clerk_error_response(
            422,
            "form_param_value_invalid",
            "trace-422",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = api(&server).list_sessions("", None).await.unwrap_err();
    assert!(matches!(err, ApiError::Api { status: 422, .. }), "{err:?}");
    assert_eq!(err.code(), Some("form_param_value_invalid"));
    assert_eq!(err.clerk_trace_id(), Some("trace-422"));
    assert!(!err.is_not_found() && !err.is_unauthorized());
}

/// A 401 is a rejected key whatever its code: Clerk's `clerk_key_invalid`, the
/// `authentication_invalid` older answers used, or a code this version has never seen.
#[tokio::test]
async fn a_401_says_the_key_is_unauthorized_whatever_its_code() {
    for code in [
        "clerk_key_invalid",
        "authentication_invalid",
        "some_future_code",
    ] {
        let server = MockServer::start().await;
        clerk_call("GET", "/v1/instance")
            .respond_with(clerk_error_response(401, code, "t-401"))
            .expect(1)
            .mount(&server)
            .await;

        let err = api(&server).instance().await.unwrap_err();
        assert!(err.is_unauthorized(), "{code}: {err:?}");
        assert_eq!(err.code(), Some(code));
    }
}

#[tokio::test]
async fn a_success_body_of_the_wrong_shape_is_a_decode_error() {
    let server = MockServer::start().await;
    // An instance without its id, users as an object, a count as a string, a session
    // without its required timestamps.
    clerk_call("GET", "/v1/instance")
        .respond_with(ok_json(
            &json!({"object": "instance", "environment_type": "production"}),
        ))
        .mount(&server)
        .await;
    clerk_call("GET", "/v1/users")
        .respond_with(ok_json(&json!({"data": [], "total_count": 0})))
        .mount(&server)
        .await;
    clerk_call("GET", "/v1/users/count")
        .respond_with(ok_json(
            &json!({"object": "total_count", "total_count": "many"}),
        ))
        .mount(&server)
        .await;
    clerk_call("GET", "/v1/sessions/sess_1")
        .respond_with(ok_json(&json!({"object": "session", "id": "sess_1"})))
        .mount(&server)
        .await;
    let api = api(&server);

    let errors = [
        api.instance().await.map(drop).unwrap_err(),
        api.list_users(UserQuery::new())
            .try_collect::<Vec<_>>()
            .await
            .map(drop)
            .unwrap_err(),
        api.count_users(&UserQuery::new())
            .await
            .map(drop)
            .unwrap_err(),
        api.get_session("sess_1").await.map(drop).unwrap_err(),
    ];
    for err in errors {
        assert!(
            matches!(err, ApiError::Decode { status: 200, .. }),
            "{err:?}"
        );
        assert_eq!(err.status(), Some(200));
        assert!(err.to_string().contains("could not decode"), "{err}");
    }
    assert_eq!(api.counters().requests, 4, "a decode error is not retried");
}

#[tokio::test]
async fn a_custom_api_version_is_sent() {
    let server = MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::header(
        "Clerk-API-Version",
        "2025-11-10",
    ))
    .respond_with(ResponseTemplate::new(200).set_body_json(instance_json("ins_1")))
    .expect(1)
    .mount(&server)
    .await;

    let api = common::builder(&server)
        .api_version("2025-11-10")
        .build()
        .unwrap();
    api.instance().await.unwrap();
}
