//! The fleet store contract and the fleet's semantics on a real `redis-server`, each test on
//! a server of its own (127.0.0.1, a free port, a temporary directory).

// Test helpers outside #[test] fns may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use clerk_incident_conformance::fleet_jobs::{
    check_job_store_contract, check_jobs_without_the_store, check_one_job_for_the_fleet,
    check_orphans_that_cannot_run_are_ended,
};
use clerk_incident_conformance::fleet_shared::{
    check_budget_contract, check_denylist_contract,
    check_keys_for_an_instance_started_in_an_outage, check_revoked_sessions_refused_everywhere,
};
use clerk_incident_conformance::fleet_store::{
    check_expiry_without_the_store, check_restart_empty, check_store_contract, check_switching,
    grace_for,
};
use clerk_incident_core::auth::{KeySnapshot, KeySnapshotStore, SnapshotError};
use clerk_incident_core::fleet::{FleetError, FleetStore};
use clerk_incident_core::revocation::LeaseGrant;
use clerk_incident_redis::{RedisConnector, RedisFleetStore, TestServer};

fn server() -> TestServer {
    TestServer::start().unwrap_or_else(|error| panic!("{error}"))
}

/// Restarts the Redis of a test that shares it, empty.
fn restart_empty(server: &std::sync::Mutex<TestServer>) {
    server
        .lock()
        .unwrap()
        .restart()
        .unwrap_or_else(|error| panic!("{error}"));
}

fn store(server: &TestServer, fleet: &str) -> Arc<dyn FleetStore> {
    Arc::new(RedisFleetStore::open(&server.url(), fleet).unwrap())
}

#[tokio::test]
async fn the_redis_store_keeps_the_contract() {
    let server = server();
    check_store_contract(store(&server, "contract"), store(&server, "contract")).await;
}

#[tokio::test]
async fn a_write_switches_every_member() {
    let server = server();
    check_switching(store(&server, "switching"), || store(&server, "switching")).await;
}

#[tokio::test]
async fn a_member_that_loses_redis_expires_on_time() {
    let mut server = server();
    let writer = store(&server, "lost");
    let member = store(&server, "lost");
    let killed = std::sync::Mutex::new(&mut server);
    check_expiry_without_the_store(writer, member, || {
        killed.lock().unwrap().kill();
    })
    .await;
}

#[tokio::test]
async fn redis_restarted_empty_means_enforce() {
    let mut server = server();
    let writer = store(&server, "restart");
    let member = store(&server, "restart");
    let server = &mut server;
    check_restart_empty(writer, member, async || {
        server.restart().unwrap_or_else(|error| panic!("{error}"));
    })
    .await;
}

#[tokio::test]
async fn fleets_do_not_see_each_other() {
    let server = server();
    let staging = store(&server, "staging");
    let production = store(&server, "production");
    staging
        .set_desired(grace_for(Duration::from_secs(60), "staging drill"))
        .await
        .unwrap();
    assert_eq!(production.desired().await.unwrap(), None);
    assert!(production.history(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_password_in_the_url_is_used_and_never_shown() {
    let server = TestServer::start_with_password(Some("s3cret-fleet-password"))
        .unwrap_or_else(|error| panic!("{error}"));
    let url = server.url();
    assert!(url.contains("s3cret-fleet-password"));
    let with = RedisFleetStore::open(&url, "acl").unwrap();
    assert_eq!(with.desired().await.unwrap(), None);
    for shown in [with.describe(), format!("{with:?}")] {
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains(&server.port().to_string()), "{shown}");
    }

    let wrong = url.replace("s3cret-fleet-password", "wrong-password");
    let error = RedisFleetStore::open(&wrong, "acl")
        .unwrap()
        .desired()
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, FleetError::Unavailable(_)), "{error:?}");
    assert!(
        message.contains("password") || message.contains("auth"),
        "{message}"
    );
    assert!(!message.contains("wrong-password"), "{message}");

    let without = format!("redis://127.0.0.1:{}/0", server.port());
    let error = RedisFleetStore::open(&without, "acl")
        .unwrap()
        .desired()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("auth"), "{error}");
}

#[tokio::test]
async fn an_unreachable_store_is_a_bounded_error() {
    // A port nothing listens on: the server is started and killed to free it.
    let mut server = server();
    let store = store(&server, "gone");
    server.kill();
    let error = store.desired().await.unwrap_err();
    assert!(matches!(error, FleetError::Unavailable(_)), "{error:?}");
    assert!(error.to_string().contains("cannot connect"), "{error}");
}

#[test]
fn urls_that_are_not_redis_are_refused_without_echoing_them() {
    for url in [
        "http://127.0.0.1:6379",
        "127.0.0.1:6379",
        "redis://:pw@[::1",
    ] {
        let error = RedisFleetStore::open(url, "x").unwrap_err();
        assert!(matches!(error, FleetError::Config(_)), "{url}: {error:?}");
        assert!(!error.to_string().contains("pw@"), "{error}");
    }
    assert!(RedisFleetStore::open("redis://127.0.0.1:6379", "two words").is_err());
    assert!(RedisFleetStore::open("rediss://127.0.0.1:6380", "tls").is_ok());
}

/// The ACL users docs/fleet.md gives: the service's can follow the fleet, only the operator's
/// can switch it.
#[tokio::test]
async fn the_documented_acls_let_services_follow_and_only_operators_switch() {
    let server = server();
    let admin = redis::Client::open(server.url()).unwrap();
    let mut admin = admin.get_multiplexed_async_connection().await.unwrap();
    let docs = include_str!("../../docs/fleet.md");
    let lines: Vec<&str> = docs
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("ACL SETUSER"))
        .collect();
    assert_eq!(lines.len(), 2, "the service's user and the operators'");
    for line in lines {
        let line = line
            .replace("SERVICE-PASSWORD", "service-pw")
            .replace("OPERATOR-PASSWORD", "operator-pw");
        let mut words = line.split_whitespace();
        let mut command = redis::cmd(words.next().unwrap());
        for word in words {
            command.arg(word);
        }
        let () = command.query_async(&mut admin).await.unwrap();
    }
    let url = |user: &str, password: &str| {
        format!("redis://{user}:{password}@127.0.0.1:{}/0", server.port())
    };
    let service: Arc<dyn FleetStore> = Arc::new(
        RedisFleetStore::open(&url("fleet-service", "service-pw"), "shop-production").unwrap(),
    );
    let operator: Arc<dyn FleetStore> = Arc::new(
        RedisFleetStore::open(&url("fleet-operator", "operator-pw"), "shop-production").unwrap(),
    );
    let error = service
        .set_desired(grace_for(Duration::from_secs(60), "not allowed"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("NOPERM"), "{error}");
    // Nor by hand: the service's user cannot write the mode key.
    let by_hand = redis::Client::open(url("fleet-service", "service-pw")).unwrap();
    let mut by_hand = by_hand.get_multiplexed_async_connection().await.unwrap();
    let forged: redis::RedisResult<()> = redis::cmd("SET")
        .arg("{shop-production}:mode")
        .arg(r#"{"version":99,"mode":"open"}"#)
        .query_async(&mut by_hand)
        .await;
    assert!(forged.is_err_and(|error| error.code() == Some("NOPERM")));
    // The service's user cannot publish; and a push anyone forges is a hint, never a record:
    // the member reads the key.
    let forged_push: redis::RedisResult<i64> = redis::cmd("PUBLISH")
        .arg("{shop-production}:changes")
        .arg(r#"{"version":99,"mode":"open","until_ms":4000000000000}"#)
        .query_async(&mut by_hand)
        .await;
    assert!(forged_push.is_err_and(|error| error.code() == Some("NOPERM")));
    let mut pushes = service.subscribe().await.unwrap();
    let _: i64 = redis::cmd("PUBLISH")
        .arg("{shop-production}:changes")
        .arg(r#"{"version":99,"mode":"open","until_ms":4000000000000}"#)
        .query_async(&mut admin)
        .await
        .unwrap();
    let written = operator
        .set_desired(grace_for(Duration::from_secs(60), "real"))
        .await
        .unwrap();
    let pushed = tokio::time::timeout(
        Duration::from_secs(10),
        futures::StreamExt::next(&mut pushes),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        pushed, written,
        "the forged push yields the record in the key"
    );
    // The state a service shares: its keys and the sessions its admin routes revoke.
    let saved = KeySnapshot::new(
        Some("https://clerk.example.com".into()),
        serde_json::from_value(serde_json::json!({"keys": [
            {"kid": "k1", "kty": "RSA", "alg": "RS256", "use": "sig", "n": "AQAB", "e": "AQAB"}
        ]}))
        .unwrap(),
    );
    service.save(&saved).await.unwrap();
    assert_eq!(
        operator.load().await.unwrap().map(|s| s.jwks),
        Some(saved.jwks)
    );
    let mut denial_pushes = service.subscribe_denials().await.unwrap();
    let denied = service.add_denials(&["sess_1".to_owned()]).await.unwrap();
    operator.add_denials(&["sess_2".to_owned()]).await.unwrap();
    let batches = service.denials_after(None, 10).await.unwrap();
    assert_eq!(batches.len(), 2);
    assert_eq!(batches[0], denied);
    let hint = tokio::time::timeout(
        Duration::from_secs(10),
        futures::StreamExt::next(&mut denial_pushes),
    )
    .await
    .unwrap();
    assert!(hint.is_some(), "the service's user is told of new batches");
    // And the API budget, through its script.
    assert!(service.reserve(Duration::from_millis(10)).await.is_ok());
    assert!(service.pause(Duration::from_millis(10)).await.is_ok());
    // And the revocation jobs of its admin routes: the lease, the record, the checkpoint.
    let job = format!("job_{:032x}", 7);
    let LeaseGrant::Granted(lease) = service
        .acquire_lease(&job, "replica-a", Duration::from_secs(10))
        .await
        .unwrap()
    else {
        panic!("the service's user takes the lease");
    };
    assert!(service.write_job(&lease, "{}").await.unwrap());
    assert!(
        service
            .append_checkpoint(&lease, &["{}".to_owned()])
            .await
            .unwrap()
    );
    assert_eq!(service.checkpoint(&job).await.unwrap().len(), 1);
    assert_eq!(service.request_cancel(&job, "r").await.unwrap(), "r");
    assert!(
        service
            .renew_lease(&lease, Duration::from_secs(10))
            .await
            .unwrap()
    );
    assert!(service.current_job().await.unwrap().is_some());
    assert!(service.release_lease(&lease).await.unwrap());
    assert!(operator.reserve(Duration::from_millis(10)).await.is_ok());
    // Everything a member does, on the service's user; the operator's user switches.
    check_switching(Arc::clone(&operator), || Arc::clone(&service)).await;
    let written = operator
        .set_desired(grace_for(Duration::from_secs(60), "INC-1"))
        .await
        .unwrap();
    assert_eq!(operator.history(5).await.unwrap().last(), Some(&written));
    // Another fleet's keys are out of both users' reach.
    let other =
        RedisFleetStore::open(&url("fleet-operator", "operator-pw"), "shop-staging").unwrap();
    assert!(other.desired().await.is_err());
}

/// The script refuses what a writer that skipped the client's checks (or whose clock is off)
/// would write, by the Redis server's own clock, before writing anything.
#[tokio::test]
async fn the_script_refuses_bad_records_by_the_servers_clock() {
    let server = server();
    let client = redis::Client::open(server.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let script = redis::Script::new(include_str!("../src/set_mode.lua"));
    let now_ms = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let hour = 3_600_000;
    for (record, epoch) in [
        (
            format!(r#"{{"mode":"open","until_ms":{}}}"#, now_ms - hour),
            "ab12",
        ),
        (
            format!(r#"{{"mode":"open","until_ms":{}}}"#, now_ms + 30 * hour),
            "ab12",
        ),
        (r#"{"mode":"open","until_ms":"soon"}"#.to_owned(), "ab12"),
        (
            format!(r#"{{"mode":"grace","until_ms":{}}}"#, now_ms + hour),
            "ab12",
        ),
        ("{}".to_owned(), "ab12"),
        ("[1]".to_owned(), "ab12"),
        (r#"{"mode":"enforce"}"#.to_owned(), "not-hex\"}"),
    ] {
        let result: redis::RedisResult<String> = script
            .key("{t}:mode")
            .key("{t}:version")
            .key("{t}:history")
            .key("{t}:epoch")
            .arg(&record)
            .arg("{t}:changes")
            .arg(10)
            .arg(epoch)
            .invoke_async(&mut connection)
            .await;
        let error = result.expect_err(&record);
        assert_eq!(error.code(), Some("REFUSED"), "{record}: {error}");
    }
    let untouched: Option<String> = redis::cmd("GET")
        .arg("{t}:version")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(untouched, None, "nothing is written before the checks pass");
    let store = RedisFleetStore::open(&server.url(), "t").unwrap();
    assert_eq!(store.desired().await.unwrap(), None);
}

#[tokio::test]
async fn an_instance_started_in_an_outage_verifies_with_the_fleets_keys() {
    let server = server();
    // The services name the fleet as the check does.
    let fleet = store(&server, "conformance-fleet");
    check_keys_for_an_instance_started_in_an_outage(fleet, &RedisConnector, &server.url()).await;
}

#[tokio::test]
async fn a_corrupt_or_huge_key_snapshot_in_redis_is_refused() {
    let server = server();
    let store = RedisFleetStore::open(&server.url(), "keys").unwrap();
    let mut raw = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    for planted in ["{not json".to_owned(), "x".repeat(300 * 1024)] {
        let _: () = redis::cmd("SET")
            .arg("{keys}:keys")
            .arg(&planted)
            .query_async(&mut raw)
            .await
            .unwrap();
        let error = store.load().await.unwrap_err();
        assert!(matches!(error, SnapshotError::Corrupt { .. }), "{error:?}");
        assert!(
            !error.to_string().contains("xxxx"),
            "never quotes the content"
        );
    }
}

#[tokio::test]
async fn the_redis_store_keeps_the_denylist_contract() {
    let server = server();
    check_denylist_contract(store(&server, "denylist"), store(&server, "denylist")).await;
}

#[tokio::test]
async fn a_revoked_session_is_refused_everywhere() {
    let server = std::sync::Mutex::new(server());
    let (writer, replica) = {
        let server = server.lock().unwrap();
        (store(&server, "denied"), store(&server, "denied"))
    };
    check_revoked_sessions_refused_everywhere(
        writer,
        replica,
        || server.lock().unwrap().kill(),
        async || restart_empty(&server),
    )
    .await;
}

#[tokio::test]
async fn the_redis_store_keeps_the_budget_contract() {
    let server = server();
    check_budget_contract(store(&server, "budget"), store(&server, "budget")).await;
}

/// The fleet's keys when Redis is down, or back empty: an instance started then has no key
/// (not ready, 503s), never a wrong one, and verifies once Clerk answers again.
#[tokio::test]
async fn without_the_fleets_keys_an_instance_waits_for_clerk() {
    use clerk_incident_core::auth::AuthPolicy;
    use clerk_incident_sim::{Faults, Outage, Sim};

    let mut server = server();
    let url = server.url();
    let sim = Sim::builder().users(3).sessions(3).start().await.unwrap();
    let vars = |name: &str| match name {
        "CLERK_SECRET_KEY" => Some(sim.secret_key().to_owned()),
        "CLERK_API_URL" => Some(sim.base_url().to_owned()),
        "CLERK_ISSUER" => Some(sim.issuer()),
        "CLERK_INCIDENT_REDIS_URL" => Some(url.clone()),
        "CLERK_INCIDENT_FLEET" => Some("keys-lost".to_owned()),
        _ => None,
    };
    let first = AuthPolicy::from_vars_with_fleet(vars, Some(&RedisConnector)).unwrap();
    assert!(first.wait_ready(Duration::from_secs(10)).await);
    sim.set_faults(Faults {
        outage: Some(Outage::Unavailable),
        ..Faults::default()
    });
    server.kill();
    let down = AuthPolicy::from_vars_with_fleet(vars, Some(&RedisConnector)).unwrap();
    assert!(
        !down.wait_ready(Duration::from_secs(2)).await,
        "Redis down and Clerk down: no key"
    );
    server.restart().unwrap_or_else(|error| panic!("{error}"));
    let empty = AuthPolicy::from_vars_with_fleet(vars, Some(&RedisConnector)).unwrap();
    assert!(
        !empty.wait_ready(Duration::from_secs(2)).await,
        "Redis back empty and Clerk down: no key"
    );
    assert!(
        empty
            .health()
            .problem
            .unwrap_or_default()
            .contains("no verification key"),
        "{:?}",
        empty.health().problem
    );
    sim.set_faults(Faults::default());
    assert!(
        empty.wait_ready(Duration::from_secs(30)).await,
        "Clerk back: the instance fetches its keys"
    );
}

/// The shared budget when Redis dies mid-run, and when it comes back empty: every request
/// still goes out (paced locally meanwhile), and the client returns to the fleet's budget.
#[tokio::test]
async fn a_client_on_the_fleets_budget_goes_on_without_redis() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use clerk_incident_core::api::{ClerkApi, RateLimit, SecretKey};
    use clerk_incident_core::http::{HttpRequest, HttpResponse, TransportError};

    let mut server = server();
    let store = store(&server, "budget-lost");
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    let http = move |_: HttpRequest| {
        counter.fetch_add(1, Ordering::Relaxed);
        let body = serde_json::json!({
            "object": "instance", "id": "ins_b", "environment_type": "production",
            "allowed_origins": [],
        });
        let response: HttpResponse = http::Response::builder()
            .status(200)
            .body(bytes::Bytes::from(serde_json::to_vec(&body).unwrap()))
            .unwrap();
        std::future::ready(Ok::<_, TransportError>(response))
    };
    let api = ClerkApi::builder(SecretKey::new("sk_test_budget"))
        .base_url("http://127.0.0.1:9")
        .rate_limit(RateLimit::new(100, Duration::from_secs(1)).unwrap())
        .http_client(Arc::new(http))
        .shared_budget(store)
        .build()
        .unwrap();
    for _ in 0..5 {
        api.instance().await.unwrap();
    }
    assert!(!api.budget_lost());
    server.kill();
    for _ in 0..5 {
        api.instance()
            .await
            .expect("no request is lost without Redis");
    }
    assert!(api.budget_lost(), "pacing locally, and saying so");
    server.restart().unwrap_or_else(|error| panic!("{error}"));
    tokio::time::timeout(Duration::from_secs(30), async {
        while api.budget_lost() {
            api.instance().await.unwrap();
        }
    })
    .await
    .expect("back on the fleet's budget once Redis answers");
    assert!(sent.load(Ordering::Relaxed) >= 11);
}

#[tokio::test]
async fn the_redis_store_keeps_the_job_store_contract() {
    let server = server();
    check_job_store_contract(store(&server, "jobs"), store(&server, "jobs")).await;
}

#[tokio::test]
async fn one_revocation_job_runs_for_the_fleet_and_is_cancelled_from_another_replica() {
    let server = server();
    check_one_job_for_the_fleet(store(&server, "one-job"), store(&server, "one-job")).await;
}

/// Redis killed mid-job: the holder stops, nothing starts; Redis back empty: the next job runs.
#[tokio::test]
async fn no_job_runs_without_redis_and_one_runs_once_it_is_back_empty() {
    let server = std::sync::Mutex::new(server());
    let (a, b) = {
        let server = server.lock().unwrap();
        (store(&server, "jobs-down"), store(&server, "jobs-down"))
    };
    check_jobs_without_the_store(
        a,
        b,
        || server.lock().unwrap().kill(),
        async || restart_empty(&server),
    )
    .await;
}

#[tokio::test]
async fn orphaned_jobs_that_cannot_run_are_ended_on_redis() {
    let server = server();
    check_orphans_that_cannot_run_are_ended(store(&server, "orphans")).await;
}
