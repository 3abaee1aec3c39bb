//! One Backend API budget for several clients (processes of a fleet): on tokio's paused clock,
//! with closure HTTP clients that record when each request is sent, so that the spacing is
//! proven exactly, with no timing luck.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use clerk_incident_core::api::{ClerkApi, RateLimit, RetryPolicy, SecretKey, SharedBudget};
use clerk_incident_core::fleet::MemoryFleetStore;
use clerk_incident_core::http::{HttpRequest, HttpResponse, TransportError};
use tokio::time::Instant;

/// When each request was sent, by every client sharing it.
type Sent = Arc<Mutex<Vec<Instant>>>;

/// Ten requests a second: the spacing of a development key's documented limit (100 per 10 s).
fn limit() -> RateLimit {
    RateLimit::new(10, Duration::from_secs(1)).unwrap()
}

fn ok() -> HttpResponse {
    let body = serde_json::json!({
        "object": "instance", "id": "ins_budget", "environment_type": "production",
        "allowed_origins": [],
    });
    http::Response::builder()
        .status(200)
        .body(Bytes::from(serde_json::to_vec(&body).unwrap()))
        .unwrap()
}

fn too_many(retry_after_secs: u64) -> HttpResponse {
    http::Response::builder()
        .status(429)
        .header("Retry-After", retry_after_secs.to_string())
        .body(Bytes::from_static(
            br#"{"errors":[{"code":"too_many_requests","message":"Too many requests"}]}"#,
        ))
        .unwrap()
}

/// A client whose every request is recorded in `sent`; `answer(n)` answers its own `n`-th.
fn client(
    sent: &Sent,
    budget: Option<Arc<dyn SharedBudget>>,
    answer: impl Fn(usize) -> HttpResponse + Send + Sync + 'static,
) -> ClerkApi {
    let sent = Arc::clone(sent);
    let own = Arc::new(Mutex::new(0_usize));
    let http = move |_: HttpRequest| {
        sent.lock().unwrap().push(Instant::now());
        let mut n = own.lock().unwrap();
        let response = answer(*n);
        *n += 1;
        std::future::ready(Ok::<_, TransportError>(response))
    };
    let mut builder = ClerkApi::builder(SecretKey::new("sk_test_budget"))
        .base_url("http://127.0.0.1:9")
        .rate_limit(limit())
        .retry(RetryPolicy::default())
        .http_client(Arc::new(http));
    if let Some(budget) = budget {
        builder = builder.shared_budget(budget);
    }
    builder.build().unwrap()
}

/// The smallest gap between two consecutive sends.
fn smallest_gap(sent: &Sent) -> Duration {
    let mut times = sent.lock().unwrap().clone();
    times.sort();
    times
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .min()
        .unwrap()
}

async fn send_all(clients: &[ClerkApi], each: usize) {
    let calls = clients
        .iter()
        .flat_map(|client| (0..each).map(move |_| async move { client.instance().await.unwrap() }));
    futures::future::join_all(calls).await;
}

#[tokio::test(start_paused = true)]
async fn clients_sharing_a_budget_pace_as_one() {
    let store = MemoryFleetStore::new();
    let sent: Sent = Arc::default();
    let clients: Vec<ClerkApi> = (0..3)
        .map(|_| client(&sent, Some(Arc::new(store.connection())), |_| ok()))
        .collect();
    let start = Instant::now();
    send_all(&clients, 10).await;
    assert_eq!(sent.lock().unwrap().len(), 30);
    assert!(
        smallest_gap(&sent) >= limit().interval(),
        "every send a full interval after the one before, whichever client sent it"
    );
    // Thirty slots: the first at once, then 29 intervals, at 98 % of the limit.
    assert_eq!(start.elapsed(), limit().interval() * 29);
}

#[tokio::test(start_paused = true)]
async fn clients_each_on_their_own_budget_together_exceed_it() {
    let sent: Sent = Arc::default();
    let clients: Vec<ClerkApi> = (0..3).map(|_| client(&sent, None, |_| ok())).collect();
    send_all(&clients, 10).await;
    assert!(
        smallest_gap(&sent) < limit().interval(),
        "three local pacers send three requests per interval: what trips Clerk's limit"
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_seen_by_one_client_holds_them_all() {
    let store = MemoryFleetStore::new();
    let sent: Sent = Arc::default();
    let first = client(&sent, Some(Arc::new(store.connection())), |n| {
        if n == 0 { too_many(3) } else { ok() }
    });
    let second = client(&sent, Some(Arc::new(store.connection())), |_| ok());
    // The second client asks 100 ms after the first saw the 429: on its own budget it would
    // send then.
    let start = Instant::now();
    let (a, b) = tokio::join!(first.instance(), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        second.instance().await
    });
    a.unwrap();
    b.unwrap();
    let after_429 = sent.lock().unwrap()[0];
    assert_eq!(after_429, start, "the first request is the 429");
    let times = sent.lock().unwrap().clone();
    assert_eq!(
        times.len(),
        3,
        "the 429, its retry, the other client's request"
    );
    assert!(
        times[1..]
            .iter()
            .all(|at| *at >= after_429 + Duration::from_secs(3)),
        "no client sends before the Retry-After has passed: {times:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_lost_budget_falls_back_to_a_share_of_the_limit_and_returns() {
    let store = MemoryFleetStore::new();
    let link = store.connection();
    let sent: Sent = Arc::default();
    let api = client(&sent, Some(Arc::new(link.clone())), |_| ok());
    link.set_reachable(false);
    for _ in 0..4 {
        api.instance()
            .await
            .expect("no request is lost with the budget");
    }
    assert!(api.budget_lost());
    assert!(
        smallest_gap(&sent) >= limit().share(0.25).interval(),
        "a quarter of the limit while the budget is lost"
    );
    link.set_reachable(true);
    // A failed budget is not asked again for a moment.
    tokio::time::sleep(Duration::from_secs(3)).await;
    api.instance().await.unwrap();
    assert!(!api.budget_lost(), "back on the shared budget");
}

#[tokio::test(start_paused = true)]
async fn a_client_paced_below_the_limit_slows_only_itself() {
    let store = MemoryFleetStore::new();
    let (slow_sent, fast_sent): (Sent, Sent) = (Arc::default(), Arc::default());
    let slow = ClerkApi::builder(SecretKey::new("sk_test_budget"))
        .base_url("http://127.0.0.1:9")
        .rate_limit(RateLimit::new(1, Duration::from_secs(1)).unwrap())
        .http_client(Arc::new({
            let sent = Arc::clone(&slow_sent);
            move |_: HttpRequest| {
                sent.lock().unwrap().push(Instant::now());
                std::future::ready(Ok::<_, TransportError>(ok()))
            }
        }))
        .shared_budget(Arc::new(store.connection()))
        .build()
        .unwrap();
    let fast = client(&fast_sent, Some(Arc::new(store.connection())), |_| ok());
    let start = Instant::now();
    let (_, _) = tokio::join!(
        send_all(std::slice::from_ref(&slow), 3),
        send_all(std::slice::from_ref(&fast), 10)
    );
    let fast_done = fast_sent.lock().unwrap().iter().max().copied().unwrap();
    assert!(
        fast_done - start < Duration::from_secs(2),
        "the fast client is not held behind the slow one's spacing: {:?}",
        fast_done - start
    );
    assert!(smallest_gap(&slow_sent) >= Duration::from_secs(1));
}
