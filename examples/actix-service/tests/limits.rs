//! The server's timeouts and limits on a real socket: a connection that never finishes its
//! headers is closed, a body that never arrives gets a 408, an oversized webhook a 413.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use actix_service_example::{ServiceOptions, UserSync, serve};
use actix_web::dev::ServerHandle;
use clerk_incident_actix::core::auth::{AuthMode, AuthPolicy, BypassSwitch, ENV_JWT_KEY};
use clerk_incident_actix::core::service_limits::ServiceLimits;
use clerk_incident_actix::core::webhooks::{WebhookSecret, WebhookVerifier};
use clerk_incident_sim::Sim;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A bound on every wait below: far above the configured timeouts, it only turns a hang into
/// a failure.
const GUARD: Duration = Duration::from_secs(20);

struct Served {
    addr: SocketAddr,
    switch: BypassSwitch,
    handle: ServerHandle,
    _sim: Sim,
}

async fn start(limits: ServiceLimits) -> Served {
    let sim = Sim::builder().users(5).sessions(5).start().await.unwrap();
    let pem = sim.public_key_pem().to_owned();
    let policy = AuthPolicy::from_vars(|name| (name == ENV_JWT_KEY).then(|| pem.clone())).unwrap();
    let policy_switch = policy.switch().clone();
    let secret = WebhookSecret::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
    let options = ServiceOptions {
        webhooks: Some(UserSync::new(WebhookVerifier::new(secret))),
        limits,
        ..ServiceOptions::default()
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = serve(listener, policy, options, 1).unwrap();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Served {
        addr,
        switch: policy_switch,
        handle,
        _sim: sim,
    }
}

/// Everything the server sends until it closes the connection.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    tokio::time::timeout(GUARD, stream.read_to_end(&mut answer))
        .await
        .expect("the server closed the connection")
        .expect("a readable connection");
    String::from_utf8_lossy(&answer).into_owned()
}

#[actix_web::test]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    let served =
        start(ServiceLimits::default().header_read_timeout(Duration::from_millis(300))).await;

    // A whole request is served as usual.
    let mut healthy = TcpStream::connect(served.addr).await.unwrap();
    healthy
        .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut healthy).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // Half a request head, then silence: a 408, and the server hangs up.
    let mut slow = TcpStream::connect(served.addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut slow).await;
    assert!(!answer.contains("200 OK"), "{answer}");

    served.handle.stop(true).await;
}

#[actix_web::test]
async fn a_silent_connection_is_closed() {
    let served =
        start(ServiceLimits::default().header_read_timeout(Duration::from_millis(300))).await;
    let mut silent = TcpStream::connect(served.addr).await.unwrap();
    let answer = read_to_close(&mut silent).await;
    assert!(!answer.contains("200 OK"), "{answer}");
    served.handle.stop(true).await;
}

#[actix_web::test]
async fn a_body_that_never_arrives_gets_a_408() {
    let served = start(ServiceLimits::default().request_timeout(Duration::from_millis(300))).await;
    let mut stream = TcpStream::connect(served.addr).await.unwrap();
    stream
        .write_all(
            b"POST /api/webhooks/clerk HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
              Content-Length: 100000\r\nConnection: close\r\n\r\n{\"partial\":",
        )
        .await
        .unwrap();
    let answer = read_to_close(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    // During a bypass the 408 says so, as every response does.
    served
        .switch
        .activate(AuthMode::Open, Some(Duration::from_secs(600)), "test")
        .unwrap();
    let mut stream = TcpStream::connect(served.addr).await.unwrap();
    stream
        .write_all(
            b"POST /api/webhooks/clerk HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\
              Connection: close\r\n\r\n{",
        )
        .await
        .unwrap();
    let answer = read_to_close(&mut stream).await.to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 408"), "{answer}");
    assert!(answer.contains("x-auth-bypass: true"), "{answer}");
    served.handle.stop(true).await;
}

#[actix_web::test]
async fn a_webhook_body_over_the_limit_gets_a_413() {
    let served = start(ServiceLimits::default().webhook_body_limit(1024)).await;
    let body = vec![b'x'; 4096];
    let mut stream = TcpStream::connect(served.addr).await.unwrap();
    let head = format!(
        "POST /api/webhooks/clerk HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let answer = read_to_close(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    served.handle.stop(true).await;
}
