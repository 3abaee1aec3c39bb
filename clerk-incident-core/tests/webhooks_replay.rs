//! Webhook replay against the sim's Backend API, delivering to an in-process receiver (a
//! closure `HttpClient` that verifies, dedupes and applies, as an application would).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use clerk_incident_core::api::{ClerkApi, RetryPolicy, SecretKey};
use clerk_incident_core::http::{HttpRequest, HttpResponse, TransportError};
use clerk_incident_core::webhooks::{
    InboxOutcome, KnownIds, MemoryInbox, ReplayOptions, ReplayProgress, UserMirror, WebhookEvent,
    WebhookReplayer, WebhookSecret, WebhookVerifier,
};
use clerk_incident_sim::{Sim, endpoint};
use futures::TryStreamExt;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const TARGET: &str = "http://127.0.0.1:9/api/webhooks/clerk";

/// The application side: verification, a dedupe inbox and the users table.
#[derive(Clone)]
struct App {
    verifier: WebhookVerifier,
    inbox: Arc<MemoryInbox>,
    users: UserMirror,
    applied: Arc<AtomicUsize>,
    duplicates: Arc<AtomicUsize>,
    /// Statuses to answer before accepting, consumed one per request.
    script: Arc<Mutex<Vec<u16>>>,
    requests: Arc<AtomicUsize>,
}

impl App {
    fn new() -> Self {
        Self {
            verifier: WebhookVerifier::new(WebhookSecret::new(SECRET).unwrap()),
            inbox: Arc::new(MemoryInbox::new(100_000)),
            users: UserMirror::new(),
            applied: Arc::default(),
            duplicates: Arc::default(),
            script: Arc::default(),
            requests: Arc::default(),
        }
    }

    fn receive(&self, request: &HttpRequest) -> u16 {
        self.requests.fetch_add(1, Ordering::SeqCst);
        if let Some(status) = self.script.lock().unwrap().pop() {
            return status;
        }
        let Ok(delivery) = self.verifier.verify(request.headers(), request.body()) else {
            return 400;
        };
        let event = WebhookEvent::from_slice(request.body()).unwrap();
        if self.inbox.record_now(&delivery.id) == InboxOutcome::Duplicate {
            self.duplicates.fetch_add(1, Ordering::SeqCst);
            return 204;
        }
        self.users.apply(&event);
        self.applied.fetch_add(1, Ordering::SeqCst);
        204
    }

    fn replayer(&self, sim: &Sim) -> WebhookReplayer {
        let app = self.clone();
        let http = move |request: HttpRequest| {
            let status = app.receive(&request);
            async move {
                Ok::<HttpResponse, TransportError>(
                    http::Response::builder()
                        .status(status)
                        .body(Bytes::new())
                        .unwrap(),
                )
            }
        };
        WebhookReplayer::new(api(sim), TARGET, WebhookSecret::new(SECRET).unwrap())
            .unwrap()
            .http_client(Arc::new(http))
    }
}

fn api(sim: &Sim) -> ClerkApi {
    ClerkApi::builder(SecretKey::new(sim.secret_key()))
        .base_url(sim.base_url())
        .without_rate_limit()
        .build()
        .unwrap()
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_elapsed: Duration::from_secs(30),
    }
}

fn sim_ids(sim: &Sim) -> Vec<String> {
    let mut ids: Vec<String> = sim.users().into_iter().map(|u| u.id).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn known_ids_repair_created_updated_and_deleted_and_a_second_replay_changes_nothing() {
    let sim = Sim::builder().users(40).start().await.unwrap();
    let users = sim.users();
    let app = App::new();
    // The application holds 25 of the 40 users, at an outdated version, plus three users
    // that Clerk deleted while its endpoint was down.
    let mut known = KnownIds::new();
    for user in users.iter().take(25) {
        known.insert(user.id.clone(), Some(user.updated_at - 1));
    }
    for gone in ["user_gone_1", "user_gone_2", "user_gone_3"] {
        known.insert(gone, None);
        app.users.apply(
            &WebhookEvent::from_slice(
                format!(r#"{{"object":"event","type":"user.created","timestamp":1,"data":{{"object":"user","id":"{gone}","updated_at":1}}}}"#)
                    .as_bytes(),
            )
            .unwrap(),
        );
    }

    let options = ReplayOptions::since(0).known_ids(known).retry(fast());
    let mut events = Vec::new();
    let report = app
        .replayer(&sim)
        .run(&options, |event| events.push(event))
        .await
        .unwrap();

    assert_eq!(report.changed_users, 40);
    assert_eq!(report.planned.created, 15);
    assert_eq!(report.planned.updated, 25);
    assert_eq!(report.planned.deleted, 3);
    assert_eq!(report.delivered, report.planned);
    assert!(report.is_complete(), "{:?}", report.failed);
    assert_eq!(app.users.ids(), sim_ids(&sim), "the table is Clerk's again");
    let user = &users[0];
    let mirrored = app.users.get(&user.id).unwrap();
    assert_eq!(
        mirrored["updated_at"], user.updated_at,
        "Clerk's whole object"
    );
    assert_eq!(mirrored["first_name"], user.first_name.as_str());
    assert!(matches!(
        events.first(),
        Some(ReplayProgress::Listed { changed_users: 40 })
    ));
    assert!(matches!(
        events.last(),
        Some(ReplayProgress::Sent {
            delivered: 43,
            failed: 0,
            total: 43
        })
    ));

    // Again, with the same (now stale) file: the same message ids, all deduplicated.
    let applied = app.applied.load(Ordering::SeqCst);
    let again = app.replayer(&sim).run(&options, |_| {}).await.unwrap();
    assert_eq!(again.delivered, report.delivered);
    assert_eq!(
        app.applied.load(Ordering::SeqCst),
        applied,
        "nothing applied twice"
    );
    assert_eq!(app.duplicates.load(Ordering::SeqCst), 43);
    let ids = |r: &clerk_incident_core::webhooks::ReplayReport| {
        r.events
            .iter()
            .map(|e| e.message_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&again), ids(&report));
    assert_eq!(app.users.ids(), sim_ids(&sim));
}

#[tokio::test]
async fn unchanged_users_are_skipped_when_the_file_has_their_updated_at() {
    let sim = Sim::builder().users(10).start().await.unwrap();
    let app = App::new();
    let known: KnownIds = sim
        .users()
        .iter()
        .map(|u| format!("{},{}", u.id, u.updated_at))
        .collect::<Vec<_>>()
        .join("\n")
        .parse::<String>()
        .map(|text| KnownIds::parse(&text).unwrap())
        .unwrap();
    let report = app
        .replayer(&sim)
        .run(&ReplayOptions::since(0).known_ids(known), |_| {})
        .await
        .unwrap();
    assert_eq!(report.skipped.unchanged, 10);
    assert_eq!(report.planned.total(), 0);
    assert_eq!(app.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn without_known_ids_the_window_decides_and_nothing_is_deleted() {
    let sim = Sim::builder().users(60).start().await.unwrap();
    let users = sim.users();
    let mut times: Vec<i64> = users.iter().map(|u| u.updated_at).collect();
    times.sort_unstable();
    let since = times[30];
    let expected: BTreeSet<String> = users
        .iter()
        .filter(|u| u.updated_at >= since)
        .map(|u| u.id.clone())
        .collect();
    let created = users
        .iter()
        .filter(|u| u.updated_at >= since && u.created_at >= since)
        .count() as u64;

    let app = App::new();
    let report = app
        .replayer(&sim)
        .run(&ReplayOptions::since(since).dry_run(true), |_| {})
        .await
        .unwrap();
    assert_eq!(report.changed_users, expected.len() as u64);
    let planned: BTreeSet<String> = report.events.iter().map(|e| e.user_id.clone()).collect();
    assert_eq!(planned, expected);
    assert_eq!(report.planned.created, created);
    assert_eq!(report.planned.deleted, 0);
    assert_eq!(report.delivered.total(), 0, "a dry run sends nothing");
    assert_eq!(app.requests.load(Ordering::SeqCst), 0);
    assert!(report.summary().starts_with("dry run: would deliver"));
}

#[tokio::test]
async fn known_ids_are_checked_one_hundred_per_request() {
    let sim = Sim::builder().users(5).start().await.unwrap();
    let mut known: KnownIds = (0..250).map(|i| format!("user_gone_{i:03}")).collect();
    for user in sim.users() {
        known.insert(user.id, None);
    }
    let options = ReplayOptions::since(i64::MAX)
        .known_ids(known)
        .types(["user.deleted"])
        .unwrap()
        .dry_run(true);
    sim.reset_counters();
    let report = App::new()
        .replayer(&sim)
        .run(&options, |_| {})
        .await
        .unwrap();
    assert_eq!(report.gone, 250);
    assert_eq!(report.planned.deleted, 250);
    // One page of changed users (empty) plus ceil(255 / 100) = 3 existence checks.
    assert_eq!(sim.counters().get(endpoint::LIST_USERS), 1 + 3);
}

#[tokio::test]
async fn the_types_filter_sends_only_those_types() {
    let sim = Sim::builder().users(8).start().await.unwrap();
    let app = App::new();
    let known: KnownIds = sim.users().into_iter().take(3).map(|u| u.id).collect();
    let options = ReplayOptions::since(0)
        .known_ids(known)
        .types(["user.created"])
        .unwrap();
    let report = app.replayer(&sim).run(&options, |_| {}).await.unwrap();
    assert_eq!(report.delivered.created, 5);
    assert_eq!(report.delivered.updated, 0);
    assert_eq!(report.skipped.filtered, 3);
    assert!(ReplayOptions::since(0).types(["session.created"]).is_err());
}

#[tokio::test]
async fn server_errors_are_retried_and_rejections_are_reported_with_a_hint() {
    let sim = Sim::builder().users(1).start().await.unwrap();
    let app = App::new();
    *app.script.lock().unwrap() = vec![503, 503];
    let options = ReplayOptions::since(0).retry(fast()).concurrency(1);
    let report = app.replayer(&sim).run(&options, |_| {}).await.unwrap();
    assert_eq!(report.delivered.total(), 1);
    assert_eq!(app.requests.load(Ordering::SeqCst), 3);

    let app = App::new();
    *app.script.lock().unwrap() = vec![400];
    let report = app.replayer(&sim).run(&options, |_| {}).await.unwrap();
    assert_eq!(
        app.requests.load(Ordering::SeqCst),
        1,
        "a 400 is not retried"
    );
    assert_eq!(report.failed.len(), 1);
    assert!(
        report.failed[0]
            .reason
            .contains("CLERK_WEBHOOK_SIGNING_SECRET")
    );
    assert!(!report.is_complete());

    let app = App::new();
    *app.script.lock().unwrap() = vec![500, 500, 500];
    let report = app.replayer(&sim).run(&options, |_| {}).await.unwrap();
    assert_eq!(app.requests.load(Ordering::SeqCst), 3);
    assert!(
        report.failed[0].reason.contains("after 3 attempts"),
        "{}",
        report.failed[0].reason
    );
}

#[tokio::test]
async fn an_api_failure_stops_before_anything_is_sent() {
    let sim = Sim::builder().users(3).start().await.unwrap();
    sim.revoke_secret_key(sim.secret_key());
    let app = App::new();
    let error = app
        .replayer(&sim)
        .run(&ReplayOptions::since(0), |_| {})
        .await
        .unwrap_err();
    assert!(error.to_string().contains("cannot read Clerk's users"));
    assert_eq!(app.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn bad_targets_are_refused_and_debug_shows_no_secret() {
    let sim = Sim::builder().users(1).start().await.unwrap();
    let secret = || WebhookSecret::new(SECRET).unwrap();
    for target in ["", "not a url", "ftp://x/y", "/relative"] {
        assert!(
            WebhookReplayer::new(api(&sim), target, secret()).is_err(),
            "{target}"
        );
    }
    let replayer = WebhookReplayer::new(api(&sim), TARGET, secret()).unwrap();
    let debug = format!("{replayer:?}");
    assert!(!debug.contains("MfKQ9r8"), "{debug}");
    assert!(!debug.contains(sim.secret_key()), "{debug}");
}

#[tokio::test]
async fn users_updated_since_stops_at_the_first_older_page() {
    let sim = Sim::builder().users(1200).start().await.unwrap();
    let mut times: Vec<i64> = sim.users().iter().map(|u| u.updated_at).collect();
    times.sort_unstable_by(|a, b| b.cmp(a));
    let since = times[649];
    let expected = times.iter().filter(|t| **t >= since).count();
    sim.reset_counters();
    let pages: Vec<Vec<serde_json::Value>> = api(&sim)
        .list_users_updated_since(since, 500)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.iter().map(Vec::len).sum::<usize>(), expected);
    assert_eq!(
        sim.counters().get(endpoint::LIST_USERS),
        2,
        "pages 1 and 2, not 3"
    );
}
