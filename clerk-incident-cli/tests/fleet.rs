//! `clerk-incident bypass` and `clerk-incident fleet` on a real `redis-server` (each test on its
//! own, 127.0.0.1, a free port, a temporary directory): in-process members, then five example
//! services (three axum, two actix-web) as separate processes on one Redis.

// Test helpers outside #[test] fns may fail loudly too.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use clerk_incident_core::auth::{AuthMode, BypassSwitch};
use clerk_incident_core::fleet::{FleetConfig, FleetMember, FleetStore, Heartbeat};
use clerk_incident_core::http::{HttpClient, ReqwestClient};
use clerk_incident_core::incident::IncidentLog;
use clerk_incident_redis::{RedisFleetStore, TestServer};
use clerk_incident_sim::{Sim, TokenRequest};

const FLEET: &str = "cli-test";

fn redis() -> TestServer {
    TestServer::start().unwrap_or_else(|error| panic!("{error}"))
}

/// Runs the binary on a blocking thread, so that the in-process members keep running.
async fn cli_async(redis: Option<&TestServer>, args: &[&str]) -> Output {
    let url = redis.map(TestServer::url);
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        command(url.as_deref(), &args).output().unwrap()
    })
    .await
    .unwrap()
}

fn cli(redis: Option<&TestServer>, args: &[&str]) -> Output {
    command(redis.map(TestServer::url).as_deref(), args)
        .output()
        .unwrap()
}

/// The binary with `args`, in fleet `FLEET`, on the Redis at `url` when given.
fn command(url: Option<&str>, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clerk-incident"));
    command
        .args(args)
        .env_remove("CLERK_INCIDENT_REDIS_URL")
        .env_remove("CLERK_ISSUER")
        .env_remove("CLERK_PUBLISHABLE_KEY")
        .env("CLERK_INCIDENT_FLEET", FLEET)
        .env("USER", "oncall")
        .stdin(Stdio::null());
    if let Some(url) = url {
        command.env("CLERK_INCIDENT_REDIS_URL", url);
    }
    command
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

fn member(redis: &TestServer, id: &str) -> (BypassSwitch, FleetMember) {
    let switch = BypassSwitch::new();
    let store = Arc::new(RedisFleetStore::open(&redis.url(), FLEET).unwrap());
    let config = FleetConfig::default()
        .with_instance_id(id)
        .with_periods(Duration::from_millis(100), Duration::from_millis(200));
    let member = FleetMember::join(store, switch.clone(), None, config).unwrap();
    (switch, member)
}

async fn until_live(store: &dyn FleetStore, count: usize) {
    tokio::time::timeout(Duration::from_secs(30), async {
        while store.instances().await.map_or(0, |live| live.len()) < count {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{count} instances never joined the fleet"));
}

#[tokio::test]
async fn bypass_switches_the_members_and_records_it() {
    let redis = redis();
    let store = RedisFleetStore::open(&redis.url(), FLEET).unwrap();
    let (a, _ma) = member(&redis, "web-a");
    let (b, _mb) = member(&redis, "web-b");
    until_live(&store, 2).await;

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("inc.jsonl");
    let log_arg = log.to_str().unwrap();
    let started = cli(
        None,
        &[
            "incident",
            "start",
            "--incident",
            log_arg,
            "--title",
            "Clerk down",
        ],
    );
    assert!(started.status.success(), "{}", text(&started));

    let switched = cli_async(
        Some(&redis),
        &[
            "bypass",
            "grace",
            "--ttl",
            "45m",
            "--reason",
            "INC-42: Clerk API 503",
            "--incident",
            log_arg,
        ],
    )
    .await;
    let said = text(&switched);
    assert_eq!(switched.status.code(), Some(0), "{said}");
    assert!(said.contains("2 of 2 instances acknowledged v1"), "{said}");
    assert!(said.contains("ok       web-a"), "{said}");
    assert!(said.contains("by oncall@"), "{said}");
    for switch in [&a, &b] {
        assert!(matches!(switch.mode(), AuthMode::Grace { .. }));
        let lasts = switch
            .current()
            .expires_at
            .unwrap()
            .duration_since(SystemTime::now());
        let lasts = lasts.unwrap();
        assert!(lasts > Duration::from_secs(44 * 60) && lasts <= Duration::from_secs(45 * 60));
    }

    let timeline = IncidentLog::open(&log).unwrap().read().unwrap();
    let entries: Vec<serde_json::Value> = timeline
        .entries
        .iter()
        .map(|entry| serde_json::to_value(entry).unwrap())
        .collect();
    let change = entries
        .iter()
        .find(|entry| entry["type"] == "mode_change")
        .expect("the change is recorded");
    assert_eq!(change["from"], "enforce");
    assert_eq!(change["to"], "grace");
    let reason = change["reason"].as_str().unwrap();
    assert!(
        reason.contains("INC-42") && reason.contains("oncall@"),
        "{reason}"
    );
    let outcome = entries.last().unwrap()["outcome"].as_str().unwrap();
    assert!(
        outcome.contains("2 of 2 instances acknowledged"),
        "{outcome}"
    );

    let status = cli_async(Some(&redis), &["fleet", "status", "--json"]).await;
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json["desired"]["version"], 1);
    assert_eq!(json["instances"].as_array().unwrap().len(), 2);
    assert_eq!(json["laggards"].as_array().unwrap().len(), 0);

    // Enforce brings them back; the history shows both changes, oldest first.
    let back = cli_async(
        Some(&redis),
        &["bypass", "enforce", "--reason", "Clerk recovered"],
    )
    .await;
    assert_eq!(back.status.code(), Some(0), "{}", text(&back));
    assert_eq!(a.mode(), AuthMode::Enforce);
    assert_eq!(b.mode(), AuthMode::Enforce);
    let history = cli(Some(&redis), &["fleet", "history"]);
    let said = text(&history);
    assert!(history.status.success(), "{said}");
    let first = said.find("v1 grace").expect(&said);
    let second = said.find("v2 enforce").expect(&said);
    assert!(first < second, "{said}");
    assert!(said.contains("(was grace)"), "{said}");
}

#[tokio::test]
async fn an_instance_that_does_not_acknowledge_fails_the_command() {
    let redis = redis();
    let store = RedisFleetStore::open(&redis.url(), FLEET).unwrap();
    // A live heartbeat that never applies anything: an instance cut off from pushes.
    let stuck: Heartbeat = serde_json::from_value(serde_json::json!({
        "id": "stuck-1", "host": "h", "version": "0", "mode": "enforce", "mode_until_ms": null,
        "applied_version": 0, "key_count": 1, "key_age_secs": 1, "store_contact_ms": null,
        "at_ms": 1_800_000_000_000_u64,
    }))
    .unwrap();
    store
        .heartbeat(&stuck, Duration::from_secs(60))
        .await
        .unwrap();
    let (_a, _ma) = member(&redis, "web-a");
    until_live(&store, 2).await;

    let output = cli_async(
        Some(&redis),
        &[
            "bypass", "open", "--ttl", "10m", "--reason", "drill", "--wait", "1s",
        ],
    )
    .await;
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("ok       web-a"), "{said}");
    assert!(said.contains("MISSING  stuck-1"), "{said}");
    assert!(
        said.contains("1 of 2 instances did not acknowledge v1"),
        "{said}"
    );
    let status = cli(Some(&redis), &["fleet", "status"]);
    assert_eq!(status.status.code(), Some(1), "{}", text(&status));
    assert!(
        text(&status).contains("LAGGING  stuck-1"),
        "{}",
        text(&status)
    );
}

#[test]
fn the_store_and_the_rules_are_checked_first() {
    let no_store = cli(None, &["bypass", "grace", "--ttl", "45m", "--reason", "x"]);
    assert_eq!(no_store.status.code(), Some(2));
    let said = text(&no_store);
    assert!(said.contains("CLERK_INCIDENT_REDIS_URL"), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");

    let redis = redis();
    for (args, expected) in [
        (&["bypass", "open", "--reason", "x"][..], "needs an end"),
        (
            &["bypass", "open", "--ttl", "25h", "--reason", "x"][..],
            "at most 24h",
        ),
        (
            &["bypass", "open", "--ttl", "1h", "--reason", " "][..],
            "reason is required",
        ),
        (
            &["bypass", "enforce", "--ttl", "1h", "--reason", "x"][..],
            "enforce has no end",
        ),
        (
            &[
                "bypass",
                "open",
                "--ttl",
                "1h",
                "--until",
                "2030-01-01T00:00:00Z",
                "--reason",
                "x",
            ][..],
            "cannot be used with",
        ),
    ] {
        let output = cli(Some(&redis), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(
            text(&output).contains(expected),
            "{args:?}: {}",
            text(&output)
        );
    }

    let none_live = cli(
        Some(&redis),
        &[
            "bypass", "open", "--ttl", "1m", "--reason", "x", "--wait", "200ms",
        ],
    );
    assert_eq!(none_live.status.code(), Some(1));
    assert!(
        text(&none_live).contains("no live instance in fleet cli-test"),
        "{}",
        text(&none_live)
    );

    let mut gone = redis;
    gone.kill();
    let unreachable = cli(Some(&gone), &["fleet", "status"]);
    assert_eq!(unreachable.status.code(), Some(1));
    let said = text(&unreachable);
    assert!(
        said.contains("unreachable") && said.lines().count() == 1,
        "{said}"
    );
}

/// A running example service.
struct Service {
    child: Child,
    port: u16,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An example binary built beside this one (`cargo test --workspace` builds them all).
fn example(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_clerk-incident")).with_file_name(name);
    assert!(
        path.is_file(),
        "{} is not built: run the tests with scripts/test (cargo test --workspace), or cargo build -p axum-service -p actix-service-example first",
        path.display()
    );
    path
}

fn start_service(binary: &Path, sim: &Sim, redis: &TestServer) -> Service {
    start_service_with(binary, sim, redis, &[])
}

/// [`start_service`] with more variables.
fn start_service_with(
    binary: &Path,
    sim: &Sim,
    redis: &TestServer,
    vars: &[(&str, &str)],
) -> Service {
    let port = free_port();
    let child = Command::new(binary)
        .env_clear()
        .envs(vars.iter().copied())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("CLERK_SECRET_KEY", sim.secret_key())
        .env("CLERK_API_URL", sim.base_url())
        .env("CLERK_ISSUER", sim.issuer())
        .env("CLERK_INCIDENT_REDIS_URL", redis.url())
        .env("CLERK_INCIDENT_FLEET", FLEET)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Service { child, port }
}

/// The status and `X-Auth-Bypass` of `GET /api/me` with `token`.
async fn me(http: &ReqwestClient, port: u16, token: &str) -> (u16, Option<String>) {
    let request = http::Request::get(format!("http://127.0.0.1:{port}/api/me"))
        .header("authorization", format!("Bearer {token}"))
        .body(Bytes::new())
        .unwrap();
    let response = http.send(request).await.unwrap();
    let header = response
        .headers()
        .get("x-auth-bypass")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    (response.status().as_u16(), header)
}

async fn all_answer(
    http: &ReqwestClient,
    services: &[Service],
    token: &str,
    expected: (u16, Option<&str>),
) -> bool {
    for service in services {
        let (status, header) = me(http, service.port, token).await;
        if (status, header.as_deref()) != expected {
            return false;
        }
    }
    true
}

/// Waits until the service answers its health route (it joins the fleet before it listens).
async fn until_listening(http: &ReqwestClient, port: u16) {
    let health = || {
        http::Request::get(format!("http://127.0.0.1:{port}/api/clerk-health"))
            .body(Bytes::new())
            .unwrap()
    };
    tokio::time::timeout(Duration::from_secs(30), async {
        while http.send(health()).await.is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the service on port {port} never listened"));
}

fn bypass(redis: &TestServer, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clerk-incident"))
        .arg("bypass")
        .args(args)
        .env("CLERK_INCIDENT_REDIS_URL", redis.url())
        .env("CLERK_INCIDENT_FLEET", FLEET)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_services_follow_one_switch_and_expire_without_redis() {
    let mut redis = redis();
    let sim = Sim::builder().users(5).start().await.unwrap();
    let (axum, actix) = (example("axum-service"), example("actix-service-example"));
    let services: Vec<Service> = [&axum, &axum, &axum, &actix, &actix]
        .into_iter()
        .map(|binary| start_service(binary, &sim, &redis))
        .collect();
    let store = RedisFleetStore::open(&redis.url(), FLEET).unwrap();
    until_live(&store, 5).await;
    let http = ReqwestClient::new().unwrap();
    for service in &services {
        until_listening(&http, service.port).await;
    }

    // A token that expired five minutes ago: refused in Enforce, accepted in Grace.
    let admin = sim.admin_user_id().unwrap();
    let expired = sim
        .mint_token(
            &TokenRequest::for_user(admin)
                .issued_at(SystemTime::now() - Duration::from_secs(360))
                .lifetime(Duration::from_secs(60)),
        )
        .unwrap();
    assert!(all_answer(&http, &services, &expired, (401, None)).await);

    let output = tokio::task::block_in_place(|| {
        bypass(&redis, &["grace", "--ttl", "45m", "--reason", "INC-9"])
    });
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        text(&output).contains("5 of 5 instances acknowledged"),
        "{}",
        text(&output)
    );
    assert!(all_answer(&http, &services, &expired, (200, Some("grace"))).await);

    let output = tokio::task::block_in_place(|| bypass(&redis, &["enforce", "--reason", "back"]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(all_answer(&http, &services, &expired, (401, None)).await);

    // A short bypass, then Redis dies: every instance still returns to Enforce at the end.
    // Long enough for a slow machine to switch all five and kill Redis before it ends.
    let until = SystemTime::now() + Duration::from_secs(12);
    let until_text = humantime::format_rfc3339_seconds(until + Duration::from_secs(1)).to_string();
    let output = tokio::task::block_in_place(|| {
        bypass(
            &redis,
            &["grace", "--until", &until_text, "--reason", "short"],
        )
    });
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(all_answer(&http, &services, &expired, (200, Some("grace"))).await);
    redis.kill();
    assert!(
        all_answer(&http, &services, &expired, (200, Some("grace"))).await,
        "a lost store keeps the mode until its end"
    );
    let end = humantime::parse_rfc3339(&until_text).unwrap();
    tokio::time::sleep(end.duration_since(SystemTime::now()).unwrap_or_default()).await;
    assert!(
        all_answer(&http, &services, &expired, (401, None)).await,
        "every instance enforces at the end, Redis or no Redis"
    );
}

#[tokio::test]
async fn the_drill_switches_a_fleet_on_redis() {
    let redis = redis();
    let url = redis.url();
    // The drill reads --redis only, never CLERK_INCIDENT_REDIS_URL (which `cli_async(None, …)`
    // removes).
    let output = cli_async(
        None,
        &[
            "drill",
            "--json",
            "--users",
            "20",
            "--sessions",
            "30",
            "--redis",
            &url,
        ],
    )
    .await;
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{}", text(&output)));
    let steps = report["steps"].as_array().unwrap();
    let fleet: Vec<&serde_json::Value> =
        steps.iter().filter(|s| s["phase"] == "Phase 11").collect();
    assert!(fleet.len() >= 5, "{fleet:?}");
    assert!(fleet.iter().all(|s| s["passed"] == true), "{fleet:?}");
    assert!(
        fleet[0]["observed"]
            .as_str()
            .unwrap()
            .contains(&format!("127.0.0.1:{}", redis.port())),
        "{fleet:?}"
    );
    // The drill's fleet has a name of its own: a real fleet's keys are never touched.
    let real = RedisFleetStore::open(&redis.url(), FLEET).unwrap();
    assert_eq!(real.history(10).await.unwrap(), []);
}

/// `sessions revoke` with the fleet's store, as the operator runs it.
fn revoke(redis: &TestServer, sim: &Sim, user: &str) -> Output {
    command(
        Some(&redis.url()),
        &["sessions", "revoke", "--user", user, "--yes"],
    )
    .args(["--rate-limit", "1000/1s"])
    .env("CLERK_API_URL", sim.base_url())
    .env("CLERK_SECRET_KEY", sim.secret_key())
    .env_remove("RUST_LOG")
    .output()
    .unwrap()
}

/// A user other than the admin with a live session, and that session.
fn member_session(sim: &Sim) -> (String, String) {
    let admin = sim.admin_user_id().unwrap();
    sim.sessions()
        .into_iter()
        .find(|s| s.status.is_signed_in() && s.user_id != admin)
        .map(|s| (s.user_id, s.id))
        .expect("a member with a live session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_revoked_through_the_cli_is_refused_in_grace_on_every_service() {
    let mut redis = redis();
    let sim = Sim::builder().users(40).sessions(80).start().await.unwrap();
    let (axum, actix) = (example("axum-service"), example("actix-service-example"));
    let services: Vec<Service> = [&axum, &actix]
        .into_iter()
        .map(|binary| start_service(binary, &sim, &redis))
        .collect();
    let store = RedisFleetStore::open(&redis.url(), FLEET).unwrap();
    until_live(&store, 2).await;
    let http = ReqwestClient::new().unwrap();
    for service in &services {
        until_listening(&http, service.port).await;
    }
    let output = tokio::task::block_in_place(|| {
        bypass(&redis, &["grace", "--ttl", "45m", "--reason", "INC-12"])
    });
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));

    let expired = |session: &str| {
        sim.mint_token(
            &TokenRequest::for_session(session)
                .issued_at(SystemTime::now() - Duration::from_secs(300)),
        )
        .unwrap()
    };
    let (user, session) = member_session(&sim);
    let token = expired(&session);
    assert!(
        all_answer(&http, &services, &token, (200, Some("grace"))).await,
        "before the revocation, Grace accepts the expired token"
    );

    let output = tokio::task::block_in_place(|| revoke(&redis, &sim, &user));
    let revoked_at = std::time::Instant::now();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        text(&output).contains("denied in the fleet"),
        "{}",
        text(&output)
    );
    tokio::time::timeout(Duration::from_secs(1), async {
        while !all_answer(&http, &services, &token, (401, Some("grace"))).await {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("not refused everywhere within a second"));
    let took = revoked_at.elapsed();
    assert!(took < Duration::from_secs(1));

    // Redis is gone: the revocation still happens, and says the denial did not.
    let (user, session) = member_session(&sim);
    redis.kill();
    let output = tokio::task::block_in_place(|| revoke(&redis, &sim, &user));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains("could not be added to the fleet's denylist"),
        "{}",
        text(&output)
    );
    assert!(
        !text(&output).contains("refused by every instance"),
        "never claims a denial that failed: {}",
        text(&output)
    );
    let still_live = sim
        .sessions()
        .into_iter()
        .any(|s| s.id == session && s.status.is_signed_in());
    assert!(!still_live, "the session is revoked at Clerk all the same");
}

/// The operator's live session, and a fresh token for it.
fn operator_token(sim: &Sim) -> String {
    let admin = sim.admin_user_id().unwrap();
    let session = sim
        .sessions()
        .into_iter()
        .find(|s| s.status.is_signed_in() && s.user_id == admin)
        .expect("the admin has a live session");
    sim.mint_token(&TokenRequest::for_session(session.id))
        .unwrap()
}

/// One call of the revocation endpoints on `port`, as the operator: the status and the JSON.
async fn admin_call(
    http: &ReqwestClient,
    sim: &Sim,
    port: u16,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:{port}{path}"))
        .header("authorization", format!("Bearer {}", operator_token(sim)));
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let body = body.map_or_else(Bytes::new, |body| Bytes::from(body.to_string()));
    let response = http.send(request.body(body).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let json = serde_json::from_slice(response.body()).unwrap_or(serde_json::Value::Null);
    (status, json)
}

const REVOKE: &str = "/admin/clerk/sessions/revoke";

/// Reads job `job` on `port` until `done` says so (within 60 s).
async fn until_job(
    http: &ReqwestClient,
    sim: &Sim,
    port: u16,
    job: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let last = std::sync::Mutex::new((0, serde_json::Value::Null));
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let (status, view) =
                admin_call(http, sim, port, "GET", &format!("{REVOKE}/{job}"), None).await;
            if status == 200 && done(&view) {
                return view;
            }
            *last.lock().unwrap() = (status, view);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        let (status, view) = &*last.lock().unwrap();
        panic!("job {job} on port {port}: not as expected within 60 s; last {status} {view}")
    })
}

fn users_processed(view: &serde_json::Value) -> u64 {
    view.pointer("/progress/users_processed")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0)
}

/// Two replicas (axum, actix) behind one Redis: a mass revocation started on one is refused a
/// twin, watched and cancelled on the other; the next one, its holder killed mid-job, is
/// resumed by the other from the checkpoint in Redis, with exact counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_mass_revocation_for_the_fleet_watched_cancelled_and_resumed_across_replicas() {
    let redis = redis();
    // A development key: Clerk's 100 requests per 10 s, shared by both replicas, keeps each
    // job running for seconds.
    let sim = Sim::builder()
        .users(200)
        .sessions(300)
        .start()
        .await
        .unwrap();
    let admin = sim.admin_user_id().unwrap();
    let vars = [
        ("CLERK_INCIDENT_OPERATORS", admin.as_str()),
        ("CLERK_INCIDENT_JOB_LEASE_SECS", "1"),
    ];
    let start = |binary: &Path| start_service_with(binary, &sim, &redis, &vars);
    let mut holder = start(&example("axum-service"));
    let other = start(&example("actix-service-example"));
    let http = ReqwestClient::new().unwrap();
    until_listening(&http, holder.port).await;
    until_listening(&http, other.port).await;
    let everyone_but_the_operator = serde_json::json!({ "all": true, "exclude_user_ids": [admin] });

    let start_on = |port| {
        admin_call(
            &http,
            &sim,
            port,
            "POST",
            REVOKE,
            Some(everyone_but_the_operator.clone()),
        )
    };
    let (status, started) = start_on(holder.port).await;
    assert_eq!(status, 202, "{started}");
    let job = started["job"].as_str().unwrap().to_owned();
    let (status, refused) = start_on(other.port).await;
    assert_eq!(status, 409, "a second job on the other replica: {refused}");
    assert_eq!(refused["job"], job.as_str());
    let watched = until_job(&http, &sim, other.port, &job, |view| {
        users_processed(view) >= 2
    })
    .await;
    assert_eq!(watched["state"], "running", "{watched}");
    let (status, cancelled) = admin_call(
        &http,
        &sim,
        other.port,
        "DELETE",
        &format!("{REVOKE}/{job}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(cancelled["cancelled_by"]["user_id"], admin.as_str());
    let stopped = until_job(&http, &sim, holder.port, &job, |view| {
        view["state"] == "cancelled"
    })
    .await;
    let candidates = stopped
        .pointer("/preview/candidate_users")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or_else(|| panic!("{stopped}"));
    assert!(
        users_processed(&stopped) < candidates,
        "stopped early: {stopped}"
    );

    // The next job, started on the same replica once the slot is free; its holder is
    // killed mid-job.
    let live_others = || {
        sim.sessions()
            .iter()
            .filter(|s| s.status.is_signed_in() && s.user_id != admin)
            .count() as u64
    };
    let before = live_others();
    assert!(before > 10, "the cancelled job left sessions to revoke");
    let next = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let (status, view) = start_on(holder.port).await;
            match status {
                202 => return view["job"].as_str().unwrap().to_owned(),
                409 => tokio::time::sleep(Duration::from_millis(50)).await,
                other => panic!("{other} {view}"),
            }
        }
    })
    .await
    .unwrap();
    until_job(&http, &sim, other.port, &next, |view| {
        users_processed(view) >= 3
    })
    .await;
    holder.child.kill().unwrap();
    holder.child.wait().unwrap();

    let resumed = until_job(&http, &sim, other.port, &next, |view| {
        view["state"] != "running"
    })
    .await;
    assert_eq!(resumed["state"], "finished", "{resumed}");
    assert_eq!(resumed["resumes"], 1, "{resumed}");
    let report = &resumed["report"];
    assert!(
        report["users_from_checkpoint"].as_u64().unwrap() > 0,
        "{report}"
    );
    assert_eq!(report["sessions_found"], before, "{report}");
    assert_eq!(
        report["revoked"], before,
        "each session counted once: {report}"
    );
    assert_eq!(report["already_inactive"], 0, "{report}");
    assert_eq!(report["failed"], serde_json::json!([]), "{report}");
    assert_eq!(live_others(), 0, "nothing missed");
}
