//! The Backend API a leaked secret key reaches: every create, change and list the sim serves
//! for it, each answer judged by Clerk's own OpenAPI spec.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use clerk_incident_sim::{Sim, endpoint};
use serde_json::{Value, json};

use common::spec::assert_conforms;

/// Sends `method path` with `key` (the sim's secret key unless given) and a JSON body.
async fn send(
    sim: &Sim,
    method: &str,
    path: &str,
    body: Option<Value>,
    key: Option<&str>,
) -> (u16, Value) {
    let url = format!("{}{path}", sim.base_url());
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = common::client()
        .request(method, url)
        .bearer_auth(key.unwrap_or(sim.secret_key()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Sends and checks the status and the answer against the spec's operation `spec_path`.
async fn judged(
    sim: &Sim,
    method: &str,
    spec_path: &str,
    path: &str,
    body: Option<Value>,
    status: u16,
) -> Value {
    let (got, value) = send(sim, method, path, body, None).await;
    assert_eq!(got, status, "{method} {path}: {value}");
    assert_conforms(method, spec_path, status, &value);
    value
}

#[tokio::test]
async fn users_are_created_changed_and_found_by_every_filter() {
    let sim = common::builder()
        .users(20)
        .sessions(10)
        .start()
        .await
        .unwrap();
    let user = judged(
        &sim,
        "POST",
        "/users",
        "/v1/users",
        Some(json!({
            "email_address": ["mallory@evil.example"],
            "phone_number": ["+15550100"],
            "username": "mallory",
            "external_id": "ext-666",
            "first_name": "Mallory",
            "last_name": "Evil",
            "public_metadata": {"role": "admin"},
            "private_metadata": {"plan": "free"},
            "password": "correct horse battery staple",
            "skip_password_checks": true,
            "created_at": "2020-01-01T00:00:00Z",
        })),
        200,
    )
    .await;
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(
        user["created_at"], 1_577_836_800_000_i64,
        "created_at can be backdated"
    );
    assert!(
        user["updated_at"].as_i64().unwrap() >= common::NOW,
        "updated_at is the call's time"
    );
    assert_eq!(user["phone_numbers"][0]["phone_number"], "+15550100");
    assert_eq!(
        user["primary_phone_number_id"],
        user["phone_numbers"][0]["id"]
    );

    let (status, body) = send(
        &sim,
        "POST",
        "/v1/users",
        Some(json!({"email_address": ["mallory@evil.example"]})),
        None,
    )
    .await;
    assert_eq!(status, 422);
    common::assert_clerk_error(&body, "form_identifier_exists");
    let (status, body) = send(
        &sim,
        "POST",
        "/v1/users",
        Some(json!({"nickname": "x"})),
        None,
    )
    .await;
    assert_eq!(status, 422, "the spec forbids unknown members");
    common::assert_clerk_error(&body, "form_param_unknown");

    let updated = judged(
        &sim,
        "PATCH",
        "/users/{user_id}/metadata",
        &format!("/v1/users/{id}/metadata"),
        Some(json!({"private_metadata": {"role": "superadmin", "plan": null}})),
        200,
    )
    .await;
    assert_eq!(updated["private_metadata"], json!({"role": "superadmin"}));
    assert_eq!(updated["public_metadata"], json!({"role": "admin"}));
    assert!(updated["updated_at"].as_i64() > user["updated_at"].as_i64());
    let renamed = judged(
        &sim,
        "PATCH",
        "/users/{user_id}",
        &format!("/v1/users/{id}"),
        Some(json!({"first_name": "Mal", "username": null})),
        200,
    )
    .await;
    assert_eq!(renamed["first_name"], "Mal");
    assert!(renamed["username"].is_null());

    for (query, expect) in [
        ("email_address=MALLORY@evil.example", 1),
        ("phone_number=%2B15550100", 1),
        ("external_id=ext-666", 1),
        ("external_id=-ext-666", 20),
        ("query=mallory", 1),
        ("query=evil", 1),
        ("name_query=mal", 1),
        ("email_address_query=evil.example", 1),
        ("phone_number_query=555", 1),
        ("banned=false", 21),
        ("banned=true", 0),
        ("web3_wallet=0xabc", 0),
        ("username=mallory", 0),
        ("last_sign_in_at_before=1577836800001", 1),
    ] {
        let list = common::get_json(
            &sim,
            &format!("/v1/users?limit=500&{query}"),
            reqwest::StatusCode::OK,
        )
        .await;
        assert_eq!(list.as_array().unwrap().len(), expect, "{query}");
        let count = common::get_json(
            &sim,
            &format!("/v1/users/count?{query}"),
            reqwest::StatusCode::OK,
        )
        .await;
        assert_eq!(count["total_count"], expect, "count {query}");
    }
    let list = common::get_json(&sim, "/v1/users?limit=500", reqwest::StatusCode::OK).await;
    assert_conforms("GET", "/users", 200, &list);

    for field in [
        "created_at",
        "updated_at",
        "email_address",
        "web3wallet",
        "first_name",
        "last_name",
        "phone_number",
        "username",
        "last_active_at",
        "last_sign_in_at",
    ] {
        for sign in ["-", "%2B"] {
            let list = common::get_json(
                &sim,
                &format!("/v1/users?limit=500&order_by={sign}{field}"),
                reqwest::StatusCode::OK,
            )
            .await;
            let users = list.as_array().unwrap();
            assert_eq!(users.len(), 21, "{field}");
            let key = |user: &Value| -> Value {
                match field {
                    "email_address" => json!(
                        user["email_addresses"][0]["email_address"]
                            .as_str()
                            .unwrap()
                            .to_lowercase()
                    ),
                    "first_name" | "last_name" => {
                        json!(user[field].as_str().unwrap().to_lowercase())
                    }
                    "phone_number" => json!(user["phone_numbers"][0]["phone_number"]),
                    "web3wallet" => json!(null),
                    other => user[other].clone(),
                }
            };
            let keys: Vec<Value> = users.iter().map(key).collect();
            let ordered = keys.windows(2).all(|pair| {
                let (a, b) = (&pair[0], &pair[1]);
                if a.is_null() || b.is_null() {
                    return b.is_null();
                }
                let cmp = match (a.as_i64(), b.as_i64()) {
                    (Some(a), Some(b)) => a.cmp(&b),
                    _ => a.as_str().cmp(&b.as_str()),
                };
                if sign == "-" {
                    cmp.is_ge()
                } else {
                    cmp.is_le()
                }
            });
            assert!(ordered, "order_by={sign}{field}: {keys:?}");
        }
    }

    let deleted = judged(
        &sim,
        "DELETE",
        "/users/{user_id}",
        &format!("/v1/users/{id}"),
        None,
        200,
    )
    .await;
    assert_eq!(deleted["deleted"], true);
    let counters = sim.counters();
    assert_eq!(counters.get(endpoint::CREATE_USER), 3);
    assert_eq!(counters.get(endpoint::DELETE_USER), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn organisations_and_memberships_follow_the_spec() {
    let sim = common::builder()
        .users(10)
        .sessions(5)
        .start()
        .await
        .unwrap();
    let users = sim.users();
    let loner = users
        .iter()
        .find(|u| u.membership.is_none())
        .unwrap_or(&users[1])
        .id
        .clone();
    let org = judged(
        &sim,
        "POST",
        "/organizations",
        "/v1/organizations",
        Some(json!({"name": "Shadow Ops", "created_by": loner})),
        200,
    )
    .await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    assert_eq!(org["slug"], "shadow-ops");
    let list = judged(
        &sim,
        "GET",
        "/organizations",
        "/v1/organizations?limit=500",
        None,
        200,
    )
    .await;
    assert_eq!(list["data"][0]["id"], org_id, "newest first");
    assert_eq!(list["total_count"], list["data"].as_array().unwrap().len());

    let member = users.iter().find(|u| u.id != loner).unwrap().id.clone();
    let created = judged(
        &sim,
        "POST",
        "/organizations/{organization_id}/memberships",
        &format!("/v1/organizations/{org_id}/memberships"),
        Some(json!({"user_id": member, "role": "org:member"})),
        200,
    )
    .await;
    assert_eq!(created["role"], "org:member");
    let promoted = judged(
        &sim,
        "PATCH",
        "/organizations/{organization_id}/memberships/{user_id}",
        &format!("/v1/organizations/{org_id}/memberships/{member}"),
        Some(json!({"role": "org:admin"})),
        200,
    )
    .await;
    assert_eq!(promoted["role"], "org:admin");
    assert!(promoted["updated_at"].as_i64() > promoted["created_at"].as_i64());
    let admins = judged(
        &sim,
        "GET",
        "/organizations/{organization_id}/memberships",
        &format!("/v1/organizations/{org_id}/memberships?role=org:admin"),
        None,
        200,
    )
    .await;
    assert_eq!(
        admins["total_count"], 2,
        "the creator and the promoted member"
    );
    let all = judged(
        &sim,
        "GET",
        "/organization_memberships",
        "/v1/organization_memberships?limit=500&order_by=-created_at",
        None,
        200,
    )
    .await;
    let in_org: Vec<&Value> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["organization"]["id"] == org_id.as_str())
        .collect();
    assert_eq!(in_org.len(), 2);
    let (status, body) = send(
        &sim,
        "POST",
        &format!("/v1/organizations/{org_id}/memberships"),
        Some(json!({"user_id": member, "role": "org:member"})),
        None,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    judged(
        &sim,
        "DELETE",
        "/organizations/{organization_id}/memberships/{user_id}",
        &format!("/v1/organizations/{org_id}/memberships/{member}"),
        None,
        200,
    )
    .await;
    let renamed = judged(
        &sim,
        "PATCH",
        "/organizations/{organization_id}",
        &format!("/v1/organizations/{org_id}"),
        Some(json!({"name": "Shadow", "slug": "shadow", "admin_delete_enabled": false})),
        200,
    )
    .await;
    assert_eq!(renamed["slug"], "shadow");
    assert!(renamed["updated_at"].as_i64() > org["updated_at"].as_i64());
    let (status, _) = send(
        &sim,
        "PATCH",
        "/v1/instance",
        Some(json!({"allowed_origins": ["https://evil.example"]})),
        None,
    )
    .await;
    assert_eq!(status, 204, "the spec answers 204");
    let instance = judged(&sim, "GET", "/instance", "/v1/instance", None, 200).await;
    assert_eq!(instance["allowed_origins"], json!(["https://evil.example"]));
    judged(
        &sim,
        "DELETE",
        "/organizations/{organization_id}",
        &format!("/v1/organizations/{org_id}"),
        None,
        200,
    )
    .await;
    let (status, _) = send(
        &sim,
        "DELETE",
        &format!("/v1/organizations/{org_id}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn instance_objects_are_created_listed_and_removed() {
    let sim = common::builder()
        .users(5)
        .sessions(5)
        .start()
        .await
        .unwrap();
    let cases = [
        (
            "/invitations",
            json!({"email_address": "eve@evil.example", "public_metadata": {"role": "admin"}}),
            true,
        ),
        (
            "/redirect_urls",
            json!({"url": "https://evil.example/callback"}),
            true,
        ),
        (
            "/domains",
            json!({"name": "evil.example", "is_satellite": true}),
            true,
        ),
        (
            "/allowlist_identifiers",
            json!({"identifier": "eve@evil.example"}),
            true,
        ),
        (
            "/blocklist_identifiers",
            json!({"identifier": "admin@example.com"}),
            true,
        ),
        (
            "/jwt_templates",
            json!({"name": "backdoor", "claims": {"role": "admin"}}),
            true,
        ),
        (
            "/oauth_applications",
            json!({"name": "Exfiltrator", "redirect_uris": ["https://evil.example/cb"]}),
            true,
        ),
        (
            "/saml_connections",
            json!({"name": "Evil IdP", "provider": "saml_custom", "domains": ["evil.example"]}),
            true,
        ),
    ];
    for (path, body, _) in &cases {
        let created = judged(
            &sim,
            "POST",
            path,
            &format!("/v1{path}"),
            Some(body.clone()),
            200,
        )
        .await;
        let id = created["id"].as_str().unwrap().to_owned();
        let list = judged(&sim, "GET", path, &format!("/v1{path}"), None, 200).await;
        let items = list.get("data").unwrap_or(&list);
        assert!(
            items
                .as_array()
                .unwrap()
                .iter()
                .any(|item| item["id"] == id.as_str()),
            "{path}: {list}"
        );
        assert!(
            items
                .as_array()
                .unwrap()
                .iter()
                .all(|item| item.get("client_secret").is_none()),
            "secrets only in the create answer"
        );
        if path != &"/invitations" {
            let delete_path = spec_delete_path(path);
            let (status, _) = send(
                &sim,
                "POST",
                &format!("/v1{path}"),
                Some(body.clone()),
                None,
            )
            .await;
            if !matches!(*path, "/oauth_applications" | "/saml_connections") {
                assert_eq!(status, 422, "{path}: duplicates are refused");
            }
            judged(
                &sim,
                "DELETE",
                &delete_path,
                &format!("/v1{path}/{id}"),
                None,
                200,
            )
            .await;
        }
    }
    let invitations = common::get_json(
        &sim,
        "/v1/invitations?status=pending",
        reqwest::StatusCode::OK,
    )
    .await;
    let id = invitations[0]["id"].as_str().unwrap().to_owned();
    let revoked = judged(
        &sim,
        "POST",
        "/invitations/{invitation_id}/revoke",
        &format!("/v1/invitations/{id}/revoke"),
        None,
        200,
    )
    .await;
    assert_eq!(revoked["status"], "revoked");
    let template = judged(
        &sim,
        "POST",
        "/jwt_templates",
        "/v1/jwt_templates",
        Some(json!({"name": "t2", "claims": {}})),
        200,
    )
    .await;
    let tid = template["id"].as_str().unwrap();
    let changed = judged(
        &sim,
        "PATCH",
        "/jwt_templates/{template_id}",
        &format!("/v1/jwt_templates/{tid}"),
        Some(json!({"name": "t2", "claims": {"admin": true}})),
        200,
    )
    .await;
    assert_eq!(changed["claims"], json!({"admin": true}));
    assert_eq!(changed["created_at"], template["created_at"]);
    sim.shutdown().await;
}

fn spec_delete_path(path: &str) -> String {
    let parameter = match path {
        "/redirect_urls" => "id",
        "/domains" => "domain_id",
        "/allowlist_identifiers" | "/blocklist_identifiers" => "identifier_id",
        "/jwt_templates" => "template_id",
        "/oauth_applications" => "oauth_application_id",
        "/saml_connections" => "saml_connection_id",
        other => panic!("no delete for {other}"),
    };
    format!("{path}/{{{parameter}}}")
}

#[tokio::test]
async fn machines_api_keys_and_m2m_tokens() {
    let sim = common::builder()
        .users(5)
        .sessions(5)
        .start()
        .await
        .unwrap();
    let machine = judged(
        &sim,
        "POST",
        "/machines",
        "/v1/machines",
        Some(json!({"name": "miner"})),
        200,
    )
    .await;
    let machine_id = machine["id"].as_str().unwrap().to_owned();
    let machine_key = machine["secret_key"].as_str().unwrap().to_owned();
    let list = judged(&sim, "GET", "/machines", "/v1/machines", None, 200).await;
    assert_eq!(list["data"][0]["id"], machine_id.as_str());
    assert!(list["data"][0].get("secret_key").is_none());

    let (status, body) = send(&sim, "POST", "/v1/m2m_tokens", Some(json!({})), None).await;
    assert_eq!(
        status, 401,
        "M2M tokens need a machine's secret key: {body}"
    );
    let (status, token) = send(
        &sim,
        "POST",
        "/v1/m2m_tokens",
        Some(json!({"seconds_until_expiration": 3600})),
        Some(&machine_key),
    )
    .await;
    assert_eq!(status, 201, "{token}");
    assert_conforms("POST", "/m2m_tokens", 201, &token);
    let tokens = judged(
        &sim,
        "GET",
        "/m2m_tokens",
        &format!("/v1/m2m_tokens?subject={machine_id}"),
        None,
        200,
    )
    .await;
    assert_eq!(tokens["total_count"], 1);
    let token_id = token["id"].as_str().unwrap();
    judged(
        &sim,
        "POST",
        "/m2m_tokens/{m2m_token_id}/revoke",
        &format!("/v1/m2m_tokens/{token_id}/revoke"),
        Some(json!({})),
        200,
    )
    .await;

    let user = sim.users()[0].id.clone();
    let key = judged(
        &sim,
        "POST",
        "/api_keys",
        "/v1/api_keys",
        Some(json!({"name": "ci-backdoor", "subject": user})),
        200,
    )
    .await;
    assert!(key["secret"].is_string());
    let keys = judged(
        &sim,
        "GET",
        "/api_keys",
        &format!("/v1/api_keys?subject={user}"),
        None,
        200,
    )
    .await;
    assert_eq!(keys["total_count"], 1);
    let (status, _) = send(&sim, "GET", "/v1/api_keys", None, None).await;
    assert_eq!(status, 422, "subject is required");
    let key_id = key["id"].as_str().unwrap();
    judged(
        &sim,
        "POST",
        "/api_keys/{apiKeyID}/revoke",
        &format!("/v1/api_keys/{key_id}/revoke"),
        Some(json!({"revocation_reason": "leak"})),
        200,
    )
    .await;
    let keys = common::get_json(
        &sim,
        &format!("/v1/api_keys?subject={user}"),
        reqwest::StatusCode::OK,
    )
    .await;
    assert_eq!(
        keys["total_count"], 0,
        "revoked keys are left out by default"
    );
    judged(
        &sim,
        "DELETE",
        "/machines/{machine_id}",
        &format!("/v1/machines/{machine_id}"),
        None,
        200,
    )
    .await;
    sim.shutdown().await;
}

#[tokio::test]
async fn actor_and_sign_in_tokens_leave_sessions_behind() {
    let sim = common::builder()
        .users(5)
        .sessions(5)
        .start()
        .await
        .unwrap();
    let victim = sim.users()[2].id.clone();
    let attacker = sim.users()[3].id.clone();
    let token = judged(
        &sim,
        "POST",
        "/actor_tokens",
        "/v1/actor_tokens",
        Some(json!({"user_id": victim, "actor": {"sub": attacker}})),
        200,
    )
    .await;
    assert_eq!(token["status"], "pending");
    let url = token["url"].as_str().unwrap().to_owned();
    let accepted: Value = common::client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = &accepted["session"];
    assert_eq!(session["actor"], json!({"sub": attacker}));
    assert_conforms("GET", "/sessions/{session_id}", 200, session);
    let again = common::client().get(&url).send().await.unwrap();
    assert_eq!(again.status(), 422, "a ticket is used once");
    let sessions = judged(
        &sim,
        "GET",
        "/sessions",
        &format!("/v1/sessions?user_id={victim}"),
        None,
        200,
    )
    .await;
    let impersonated: Vec<&Value> = sessions
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["actor"].is_null())
        .collect();
    assert_eq!(impersonated.len(), 1);

    let sign_in = judged(
        &sim,
        "POST",
        "/sign_in_tokens",
        "/v1/sign_in_tokens",
        Some(json!({"user_id": victim})),
        200,
    )
    .await;
    let id = sign_in["id"].as_str().unwrap();
    let revoked = judged(
        &sim,
        "POST",
        "/sign_in_tokens/{sign_in_token_id}/revoke",
        &format!("/v1/sign_in_tokens/{id}/revoke"),
        None,
        200,
    )
    .await;
    assert_eq!(revoked["status"], "revoked");
    let refused = common::client()
        .get(sign_in["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422, "a revoked token signs nobody in");
    let actor_id = token["id"].as_str().unwrap();
    let revoked = judged(
        &sim,
        "POST",
        "/actor_tokens/{actor_token_id}/revoke",
        &format!("/v1/actor_tokens/{actor_id}/revoke"),
        None,
        200,
    )
    .await;
    assert_eq!(
        revoked["status"], "accepted",
        "an accepted token stays accepted"
    );
    sim.shutdown().await;
}

#[test]
fn the_judge_catches_wrong_shapes() {
    use common::spec::{response_schema, violations};
    let schema = response_schema("POST", "/redirect_urls", 200);
    let wrong = json!({"object": "redirect_url", "id": "ru_1", "created_at": "yesterday", "updated_at": 1, "extra": true});
    let problems = violations(schema, &wrong);
    assert!(
        problems.iter().any(|p| p.contains("`url` is missing")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`extra` is not in the spec")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("created_at")),
        "{problems:?}"
    );
    let schema = response_schema("GET", "/m2m_tokens", 200);
    let wrapped_wrongly = json!({"data": [], "total_count": 0});
    assert!(
        !violations(schema, &wrapped_wrongly).is_empty(),
        "the list key is m2m_tokens"
    );
    let schema = response_schema("POST", "/saml_connections", 200);
    let problems = violations(schema, &json!({"object": "saml_connection"}));
    assert!(problems.iter().any(|p| p.contains("anyOf")), "{problems:?}");
    let schema = response_schema("GET", "/sessions/{session_id}", 200);
    let problems = violations(schema, &json!({"object": "session", "status": "sleeping"}));
    assert!(
        problems.iter().any(|p| p.contains("sleeping")),
        "{problems:?}"
    );
}
