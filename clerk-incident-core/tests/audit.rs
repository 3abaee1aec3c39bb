//! The key-compromise audit against the sim's `compromise` scenario: every attacker action
//! found and nothing from before the leak, with and without a baseline; a failing list named;
//! pages walked; an empty window; and no more requests than the lists need.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::sync::Arc;

use clerk_incident_core::api::{ClerkApi, RetryPolicy, SecretKey};
use clerk_incident_core::audit::{self, AuditOutcome, AuditReport, AuditWindow, Baseline};
use clerk_incident_core::http::{
    HttpClient, HttpRequest, HttpResponse, ReqwestClient, TransportError,
};
use clerk_incident_sim::{Sim, endpoint};

fn api(sim: &Sim) -> ClerkApi {
    ClerkApi::builder(SecretKey::new(sim.secret_key()))
        .base_url(sim.base_url())
        .without_rate_limit()
        .build()
        .unwrap()
}

fn now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(now.as_millis()).unwrap()
}

fn since(at: i64) -> AuditWindow {
    AuditWindow {
        since_ms: at,
        until_ms: i64::MAX,
    }
}

async fn run(api: &ClerkApi, window: AuditWindow, baseline: Option<&Baseline>) -> AuditReport {
    audit::audit(api, window, baseline, &mut |_| {}).await
}

fn found(report: &AuditReport) -> BTreeSet<(String, String)> {
    report
        .findings
        .iter()
        .map(|f| (f.kind.to_string(), f.id.clone()))
        .collect()
}

#[tokio::test]
async fn with_a_baseline_every_attacker_action_is_found_and_nothing_before_the_leak() {
    let sim = Sim::builder().users(40).sessions(60).start().await.unwrap();
    let api = api(&sim);
    let baseline = audit::snapshot(&api, now_ms()).await.unwrap();
    assert_eq!(baseline.users.len(), 40);
    let compromise = sim.compromise(None).await.unwrap();

    let report = run(&api, since(compromise.leaked_at), Some(&baseline)).await;
    assert!(report.is_complete(), "{:?}", report.not_checked);
    let expected: BTreeSet<(String, String)> = compromise
        .attacker
        .iter()
        .map(|a| (a.kind.clone(), a.id.clone()))
        .collect();
    assert_eq!(found(&report), expected, "exactly the attacker's actions");
    let before: BTreeSet<&str> = compromise.before.iter().map(|a| a.id.as_str()).collect();
    assert!(
        report
            .findings
            .iter()
            .all(|f| !before.contains(f.id.as_str()))
    );
    assert_eq!(report.outcome(), AuditOutcome::Findings);

    let backdoor = &compromise.attacker[0];
    let finding = report
        .findings
        .iter()
        .find(|f| f.id == backdoor.id)
        .unwrap();
    assert!(finding.what.contains("backdated"), "{}", finding.what);
    assert!(
        finding.what.contains("role = \"admin\""),
        "{}",
        finding.what
    );
    assert!(finding.undo.contains(&format!(
        "DELETE \"{}/v1/users/{}\"",
        sim.base_url(),
        backdoor.id
    )));
    let victim = compromise
        .attacker
        .iter()
        .find(|a| a.kind == "user.updated")
        .unwrap();
    let finding = report.findings.iter().find(|f| f.id == victim.id).unwrap();
    assert!(
        finding
            .what
            .contains("changed since the baseline: private_metadata"),
        "{}",
        finding.what
    );
    assert!(finding.undo.contains("/metadata"), "{}", finding.undo);
    let domain = report
        .findings
        .iter()
        .find(|f| f.kind.to_string() == "domain.created")
        .unwrap();
    assert_eq!(
        domain.at_ms, None,
        "domains keep no time: the baseline found it"
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| !f.undo.contains(sim.secret_key()))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn without_a_baseline_timestamps_still_find_almost_everything_and_say_what_is_missing() {
    let sim = Sim::builder().users(30).sessions(40).start().await.unwrap();
    let api = api(&sim);
    let compromise = sim.compromise(None).await.unwrap();
    let report = run(&api, since(compromise.leaked_at), None).await;
    let found = found(&report);
    for action in &compromise.attacker {
        let kind = if action.kind == "user.created" && action.id == compromise.attacker[0].id {
            "user.updated".to_owned() // backdated: without a baseline it only looks changed
        } else {
            action.kind.clone()
        };
        if kind == "domain.created" || kind == "instance.updated" {
            assert!(
                !found.iter().any(|(_, id)| *id == action.id),
                "no timestamps, no baseline"
            );
            continue;
        }
        assert!(
            found.contains(&(kind.clone(), action.id.clone())),
            "{kind} {} not found",
            action.id
        );
    }
    assert!(
        report
            .blind_spots
            .iter()
            .any(|spot| spot.contains("Without a baseline"))
    );
    assert!(
        report
            .blind_spots
            .iter()
            .any(|spot| spot.contains("Sign-in and actor tokens"))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_window_with_nothing_in_it_is_clean() {
    let sim = Sim::builder().users(20).sessions(20).start().await.unwrap();
    let api = api(&sim);
    let compromise = sim.compromise(None).await.unwrap();
    let after_the_attack = since(compromise.attacker.last().unwrap().at + 1);
    let report = run(&api, after_the_attack, None).await;
    assert_eq!(
        report.outcome(),
        AuditOutcome::Clean,
        "{:?}",
        report.findings
    );
    assert!(report.is_complete());
    assert!(report.checked.len() > 10, "every list was still read");
    let before_the_attack = AuditWindow {
        since_ms: compromise.before[0].at - 3_600_000,
        until_ms: compromise.before[0].at - 1_800_000,
    };
    let report = run(&api, before_the_attack, None).await;
    let victim = compromise
        .attacker
        .iter()
        .find(|a| a.kind == "user.updated")
        .unwrap();
    let late = report.findings.iter().find(|f| f.id == victim.id).unwrap();
    assert!(
        late.what.contains("last changed after the window"),
        "a later change may hide one in the window: {}",
        late.what
    );
    sim.shutdown().await;
}

/// Forwards to the sim, but answers 500 for one path.
struct FailingPath {
    inner: ReqwestClient,
    path: &'static str,
}

#[async_trait::async_trait]
impl HttpClient for FailingPath {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        if request.uri().path() == self.path {
            return Ok(http::Response::builder()
                .status(500)
                .body(bytes::Bytes::from_static(br#"{"errors":[{"message":"boom","long_message":"boom","code":"internal_clerk_error"}]}"#))
                .unwrap());
        }
        self.inner.send(request).await
    }
}

#[tokio::test]
async fn a_list_that_fails_is_named_and_the_audit_is_incomplete() {
    let sim = Sim::builder().users(20).sessions(20).start().await.unwrap();
    let compromise = sim.compromise(None).await.unwrap();
    let http = FailingPath {
        inner: ReqwestClient::new().unwrap(),
        path: "/v1/saml_connections",
    };
    let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
        .base_url(sim.base_url())
        .without_rate_limit()
        .retry(RetryPolicy::none())
        .http_client(Arc::new(http))
        .build()
        .unwrap();
    let report = run(&api, since(compromise.leaked_at), None).await;
    assert_eq!(report.outcome(), AuditOutcome::Incomplete);
    assert_eq!(report.not_checked.len(), 1);
    assert_eq!(report.not_checked[0].check, "SAML connections");
    assert!(
        report.not_checked[0].error.contains("500"),
        "{}",
        report.not_checked[0].error
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.kind.to_string() == "jwt_template.created"),
        "the other lists still ran"
    );
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.kind.to_string() == "saml_connection.created")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn long_lists_are_walked_page_by_page() {
    let sim = Sim::builder()
        .users(1_200)
        .sessions(100)
        .organizations(3)
        .start()
        .await
        .unwrap();
    let api = api(&sim);
    sim.reset_counters();
    let report = run(&api, since(0), None).await;
    assert!(report.is_complete());
    let created = report
        .findings
        .iter()
        .filter(|f| f.kind.to_string() == "user.created")
        .count();
    assert_eq!(created, 1_200, "every page of users read");
    let users_check = report
        .checked
        .iter()
        .find(|c| c.check == "users created")
        .unwrap();
    assert_eq!(users_check.items, 1_200);
    assert_eq!(
        users_check.calls,
        1 + 3,
        "one count, then ceil(1200 / 500) pages"
    );
    let memberships = report
        .checked
        .iter()
        .find(|c| c.check == "admin memberships")
        .unwrap();
    let members = sim
        .users()
        .iter()
        .filter(|u| u.membership.is_some())
        .count() as u64;
    assert_eq!(memberships.items, members);
    assert_eq!(
        memberships.calls,
        members.div_ceil(500) + u64::from(members.is_multiple_of(500))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_audit_spends_no_more_requests_than_the_lists_need() {
    let sim = Sim::builder().users(30).sessions(40).start().await.unwrap();
    let api = api(&sim);
    let compromise = sim.compromise(None).await.unwrap();
    sim.reset_counters();
    let report = run(&api, since(compromise.leaked_at), None).await;
    let counters = sim.counters();
    let window_start = compromise.leaked_at - 86_400_000;
    let active = sim
        .users()
        .iter()
        .filter(|u| u.last_active_at >= window_start)
        .count() as u64;
    let machines = 1;
    let organizations = sim.organizations().len() as u64;
    let flagged_users: BTreeSet<&str> = compromise
        .attacker
        .iter()
        .filter(|a| a.kind.starts_with("user."))
        .map(|a| a.id.as_str())
        .collect();
    let expected = [
        (endpoint::COUNT_USERS, 2),
        (endpoint::LIST_USERS, 3),
        (endpoint::LIST_ORGANIZATIONS, 1),
        (endpoint::LIST_MEMBERSHIPS, 1),
        (endpoint::LIST_SESSIONS, active),
        (endpoint::LIST_MACHINES, 1),
        (endpoint::LIST_M2M_TOKENS, machines),
        (
            endpoint::LIST_API_KEYS,
            organizations + machines + flagged_users.len() as u64,
        ),
        (endpoint::LIST_INVITATIONS, 1),
        (endpoint::LIST_REDIRECT_URLS, 1),
        (endpoint::LIST_DOMAINS, 1),
        (endpoint::LIST_ALLOWLIST, 1),
        (endpoint::LIST_BLOCKLIST, 1),
        (endpoint::LIST_JWT_TEMPLATES, 1),
        (endpoint::LIST_OAUTH_APPLICATIONS, 1),
        (endpoint::LIST_SAML_CONNECTIONS, 1),
    ];
    for (endpoint, calls) in expected {
        assert_eq!(counters.get(endpoint), calls, "{endpoint}");
    }
    let total: u64 = expected.iter().map(|(_, calls)| calls).sum();
    assert_eq!(report.calls, total, "nothing else was sent");
    assert_eq!(counters.requests.values().sum::<u64>(), total);
    sim.shutdown().await;
}

#[tokio::test]
async fn removals_and_deletions_since_the_baseline_are_findings() {
    let sim = Sim::builder().users(20).sessions(20).start().await.unwrap();
    let api = api(&sim);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let body = client
        .post(format!("{}/v1/blocklist_identifiers", sim.base_url()))
        .bearer_auth(sim.secret_key())
        .header("content-type", "application/json")
        .body(r#"{"identifier": "spammer@example.com"}"#)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let created: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let blocked = created["id"].as_str().unwrap().to_owned();
    let body = client
        .post(format!("{}/v1/machines", sim.base_url()))
        .bearer_auth(sim.secret_key())
        .header("content-type", "application/json")
        .body(r#"{"name": "billing-worker"}"#)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let machine: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let machine = machine["id"].as_str().unwrap().to_owned();
    let baseline = audit::snapshot(&api, now_ms()).await.unwrap();
    let leaked_at = sim.compromise(None).await.unwrap().leaked_at;
    let deleted_org = sim.organizations()[1].id.clone();
    for path in [
        format!("/v1/machines/{machine}"),
        format!("/v1/organizations/{deleted_org}"),
    ] {
        let deleted = client
            .delete(format!("{}{path}", sim.base_url()))
            .bearer_auth(sim.secret_key())
            .send()
            .await
            .unwrap();
        assert!(deleted.status().is_success(), "{path}");
    }
    let gone = client
        .delete(format!(
            "{}/v1/blocklist_identifiers/{blocked}",
            sim.base_url()
        ))
        .bearer_auth(sim.secret_key())
        .send()
        .await
        .unwrap();
    assert!(gone.status().is_success());
    let admin = sim.admin_user_id().unwrap();
    let victim = baseline
        .users
        .keys()
        .find(|id| **id != admin)
        .unwrap()
        .clone();
    sim.delete_user(&victim).await.unwrap();
    let org = sim.organizations()[0].id.clone();
    let demoted = client
        .patch(format!(
            "{}/v1/organizations/{org}/memberships/{admin}",
            sim.base_url()
        ))
        .bearer_auth(sim.secret_key())
        .header("content-type", "application/json")
        .body(r#"{"role": "org:member"}"#)
        .send()
        .await
        .unwrap();
    assert!(demoted.status().is_success());

    let report = run(&api, since(leaked_at), Some(&baseline)).await;
    let found = found(&report);
    assert!(
        found.contains(&("blocklist_identifier.deleted".to_owned(), blocked)),
        "{found:?}"
    );
    let deleted = report
        .findings
        .iter()
        .find(|f| f.kind.to_string() == "users.deleted")
        .unwrap_or_else(|| {
            panic!(
                "{:#?}",
                report
                    .findings
                    .iter()
                    .map(|f| (f.kind.to_string(), f.what.clone()))
                    .collect::<Vec<_>>()
            )
        });
    let lockout = report
        .findings
        .iter()
        .find(|f| f.kind.to_string() == "organization_membership.deleted")
        .unwrap();
    assert!(lockout.what.contains(&admin), "{}", lockout.what);
    assert!(
        lockout.undo.contains("\"role\":\"org:admin\""),
        "{}",
        lockout.undo
    );
    assert_eq!(deleted.id, "1 user(s)");
    assert!(
        found.contains(&("machine.deleted".to_owned(), machine)),
        "{found:?}"
    );
    assert!(
        found.contains(&("organization.deleted".to_owned(), deleted_org)),
        "{found:?}"
    );

    let other = Sim::builder().seed(7).start().await.unwrap();
    let text = baseline.to_json();
    assert_eq!(Baseline::from_json(&text).unwrap(), baseline);
    let other_api = ClerkApi::builder(SecretKey::new(other.secret_key()))
        .base_url(other.base_url())
        .build()
        .unwrap();
    assert_ne!(
        baseline.instance_id,
        other_api.instance().await.unwrap().id,
        "a baseline names its instance"
    );
    other.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn objects_changed_in_the_window_are_updates() {
    let sim = Sim::builder().users(20).sessions(20).start().await.unwrap();
    let api = api(&sim);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let send = |method: reqwest::Method, path: String, body: &'static str| {
        client
            .request(method, format!("{}{path}", sim.base_url()))
            .bearer_auth(sim.secret_key())
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let template = send(
        reqwest::Method::POST,
        "/v1/jwt_templates".into(),
        r#"{"name":"app","claims":{"role":"user"}}"#,
    )
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap();
    let template: serde_json::Value = serde_json::from_slice(&template).unwrap();
    let template_id = template["id"].as_str().unwrap().to_owned();
    let org = sim.organizations()[0].id.clone();
    let leaked_at = sim.compromise(None).await.unwrap().leaked_at;
    let leaked_at = leaked_at.max(template["created_at"].as_i64().unwrap() + 1);
    let path = format!("/v1/jwt_templates/{template_id}");
    assert!(
        send(
            reqwest::Method::PATCH,
            path,
            r#"{"name":"app","claims":{"role":"admin"}}"#
        )
        .await
        .unwrap()
        .status()
        .is_success()
    );
    assert!(
        send(
            reqwest::Method::PATCH,
            format!("/v1/organizations/{org}"),
            r#"{"name":"Acme Support"}"#
        )
        .await
        .unwrap()
        .status()
        .is_success()
    );

    let report = run(&api, since(leaked_at), None).await;
    let found = found(&report);
    assert!(
        found.contains(&("jwt_template.updated".to_owned(), template_id)),
        "{found:?}"
    );
    assert!(
        found.contains(&("organization.updated".to_owned(), org)),
        "{found:?}"
    );
    sim.shutdown().await;
}
