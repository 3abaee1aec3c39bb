//! The server's timeouts and limits on a real socket, checked by the conformance crate's
//! [`limits`](clerk_incident_conformance::limits) functions that the actix example runs too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use axum_service::{ServiceOptions, UserSync, app_with, serve};
use clerk_incident_conformance::limits::{self, GUARD, short_limits};
use clerk_incident_core::auth::{AuthPolicy, BypassSwitch, KeySource, Verifier, VerifierConfig};
use clerk_incident_core::webhooks::{WebhookSecret, WebhookVerifier};
use clerk_incident_sim::Sim;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The service on 127.0.0.1 with [`short_limits`].
struct Served {
    addr: SocketAddr,
    switch: BypassSwitch,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    _sim: Sim,
}

impl Served {
    async fn start() -> Self {
        let sim = Sim::builder().users(5).sessions(5).start().await.unwrap();
        let keys = KeySource::pem(sim.public_key_pem()).unwrap();
        let switch = BypassSwitch::new();
        let policy = AuthPolicy::new(
            Verifier::new(keys, VerifierConfig::default()),
            switch.clone(),
        );
        let secret = WebhookSecret::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let options = ServiceOptions {
            webhooks: Some(UserSync::new(WebhookVerifier::new(secret))),
            limits: short_limits(),
            ..ServiceOptions::default()
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let app = app_with(policy, options);
        let task = tokio::spawn(serve(listener, app, short_limits(), async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            switch,
            stop: Some(stop),
            task,
            _sim: sim,
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(GUARD, &mut self.task)
            .await
            .expect("the server stops")
            .expect("the task ran");
    }
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    let served = Served::start().await;
    limits::check_half_a_head_is_closed(served.addr).await;
    served.stop().await;
}

#[tokio::test]
async fn a_silent_connection_is_closed() {
    let served = Served::start().await;
    limits::check_a_silent_connection_is_closed(served.addr).await;
    served.stop().await;
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let served = Served::start().await;
    limits::check_an_idle_kept_alive_connection_is_closed(served.addr).await;
    served.stop().await;
}

#[tokio::test]
async fn a_body_that_never_arrives_gets_a_408() {
    let served = Served::start().await;
    limits::check_a_body_that_never_arrives_gets_a_408(served.addr, &served.switch).await;
    served.stop().await;
}

#[tokio::test]
async fn a_webhook_body_over_the_limit_gets_a_413() {
    let served = Served::start().await;
    limits::check_a_webhook_over_the_limit_gets_a_413(served.addr).await;
    served.stop().await;
}
