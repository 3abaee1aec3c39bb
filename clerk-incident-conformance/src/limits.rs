//! The server limits of a guarded service, checked on a real socket the same way for every
//! framework: each example service's `tests/limits.rs` starts its server on 127.0.0.1 with
//! [`short_limits`] and runs these checks against it.
//!
//! Each check panics with what it saw when the server does not behave; every wait is bounded
//! by [`GUARD`], far above the short limits, so that a hang fails instead of blocking.

use std::net::SocketAddr;
use std::time::Duration;

use clerk_incident_core::auth::{AuthMode, BypassSwitch};
use clerk_incident_core::service_limits::ServiceLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The bound on every wait of the checks.
pub const GUARD: Duration = Duration::from_secs(20);

/// The path of the webhook endpoint the body checks post to.
pub const WEBHOOK_PATH: &str = "/api/webhooks/clerk";

/// Limits short enough for tests: 300 ms to send the headers, 300 ms for the whole request,
/// 1 KiB of webhook body.
pub fn short_limits() -> ServiceLimits {
    ServiceLimits::default()
        .header_read_timeout(Duration::from_millis(300))
        .request_timeout(Duration::from_millis(300))
        .webhook_body_limit(1024)
}

/// A whole request is answered as usual; half a request head, then silence, is hung up on.
///
/// # Panics
///
/// When the server does not behave so: that is the test failing.
pub async fn check_half_a_head_is_closed(addr: SocketAddr) {
    let answer = exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "a whole request: {answer}"
    );
    let answer = exchange(addr, b"GET / HTTP/1.1\r\nHost: test\r\n").await;
    assert!(!answer.contains(" 200 "), "half a head: {answer}");
}

/// A connection that sends nothing at all is hung up on.
///
/// # Panics
///
/// When the server does not hang up.
pub async fn check_a_silent_connection_is_closed(addr: SocketAddr) {
    let answer = exchange(addr, b"").await;
    assert!(!answer.contains(" 200 "), "{answer}");
}

/// A kept-alive connection that goes quiet after its first answer is hung up on.
///
/// # Panics
///
/// When the server does not hang up.
pub async fn check_an_idle_kept_alive_connection_is_closed(addr: SocketAddr) {
    let answer = exchange(addr, b"GET / HTTP/1.1\r\nHost: test\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// A webhook `POST` that announces 1,000 bytes (under the limit) and sends one gets a 408,
/// which carries
/// `X-Auth-Bypass` during a bypass as every response does. Leaves `switch` in `Open`.
///
/// # Panics
///
/// When the answer is not such a 408.
#[allow(clippy::expect_used)]
pub async fn check_a_body_that_never_arrives_gets_a_408(addr: SocketAddr, switch: &BypassSwitch) {
    let request = format!(
        "POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\nConnection: close\r\n\r\n{{"
    );
    let answer = exchange(addr, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    switch
        .activate(
            AuthMode::Open,
            Some(Duration::from_secs(600)),
            "limits check",
        )
        .expect("Open is a valid mode");
    let answer = exchange(addr, request.as_bytes())
        .await
        .to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 408"), "{answer}");
    assert!(answer.contains("x-auth-bypass: true"), "{answer}");
}

/// A webhook body over the limit of [`short_limits`] gets a 413.
///
/// # Panics
///
/// When the answer is not a 413.
pub async fn check_a_webhook_over_the_limit_gets_a_413(addr: SocketAddr) {
    let body = "x".repeat(4096);
    let request = format!(
        "POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = exchange(addr, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

/// Sends `request` on a new connection and returns everything the server sends until it
/// closes the connection.
#[allow(clippy::expect_used)]
async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("the server listens");
    stream
        .write_all(request)
        .await
        .expect("the request is sent");
    let mut answer = Vec::new();
    tokio::time::timeout(GUARD, stream.read_to_end(&mut answer))
        .await
        .expect("the server closed the connection")
        .expect("a readable connection");
    String::from_utf8_lossy(&answer).into_owned()
}
