//! The server's timeouts and limits on a real socket, checked by the conformance crate's
//! [`limits`](clerk_incident_conformance::limits) functions that the axum example runs too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use actix_service_example::{ServiceOptions, UserSync, serve};
use actix_web::dev::ServerHandle;
use clerk_incident_actix::core::auth::{AuthPolicy, BypassSwitch, ENV_JWT_KEY};
use clerk_incident_actix::core::webhooks::{WebhookSecret, WebhookVerifier};
use clerk_incident_conformance::limits::{self, short_limits};
use clerk_incident_sim::Sim;

/// The service on 127.0.0.1 with [`short_limits`], one worker.
struct Served {
    addr: SocketAddr,
    switch: BypassSwitch,
    handle: ServerHandle,
    _sim: Sim,
}

impl Served {
    async fn start() -> Self {
        let sim = Sim::builder().users(5).sessions(5).start().await.unwrap();
        let pem = sim.public_key_pem().to_owned();
        let policy =
            AuthPolicy::from_vars(|name| (name == ENV_JWT_KEY).then(|| pem.clone())).unwrap();
        let switch = policy.switch().clone();
        let secret = WebhookSecret::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let options = ServiceOptions {
            webhooks: Some(UserSync::new(WebhookVerifier::new(secret))),
            limits: short_limits(),
            ..ServiceOptions::default()
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = serve(listener, policy, options, 1).unwrap();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            addr,
            switch,
            handle,
            _sim: sim,
        }
    }
}

#[actix_web::test]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    let served = Served::start().await;
    limits::check_half_a_head_is_closed(served.addr).await;
    served.handle.stop(true).await;
}

#[actix_web::test]
async fn a_silent_connection_is_closed() {
    let served = Served::start().await;
    limits::check_a_silent_connection_is_closed(served.addr).await;
    served.handle.stop(true).await;
}

#[actix_web::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let served = Served::start().await;
    limits::check_an_idle_kept_alive_connection_is_closed(served.addr).await;
    served.handle.stop(true).await;
}

#[actix_web::test]
async fn a_body_that_never_arrives_gets_a_408() {
    let served = Served::start().await;
    limits::check_a_body_that_never_arrives_gets_a_408(served.addr, &served.switch).await;
    served.handle.stop(true).await;
}

#[actix_web::test]
async fn a_webhook_body_over_the_limit_gets_a_413() {
    let served = Served::start().await;
    limits::check_a_webhook_over_the_limit_gets_a_413(served.addr).await;
    served.handle.stop(true).await;
}
