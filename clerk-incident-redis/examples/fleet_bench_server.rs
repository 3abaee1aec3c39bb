//! The fleet-on server of the middleware-overhead benchmark (`FLEET=1 bash
//! benches/middleware.sh`, documented in `docs/benchmarks.md`).
//!
//! ```text
//! BENCH_REDIS_URL=redis://127.0.0.1:6379/0 cargo run --release -p clerk-incident-redis --example fleet_bench_server [PORT]
//! ```
//!
//! The axum bench server (`clerk-incident-axum/examples/bench_server.rs`) with its policy in
//! a fleet on Redis: the same routes (`/api/me` behind the layer, `/baseline/me` without), the
//! same token, and a `FleetMember` heartbeating and listening for pushes in the background.
//! Prints `READY <base_url> <token>` and serves until killed, on one worker thread.

#![allow(clippy::print_stdout)]

use std::error::Error;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use clerk_incident_axum::core::auth::{
    AuthPolicy, BypassSwitch, KeySource, Verifier, VerifierConfig,
};
use clerk_incident_axum::core::fleet::{FleetConfig, FleetStore};
use clerk_incident_axum::{Auth, ClerkAuthLayer};
use clerk_incident_redis::RedisFleetStore;
use clerk_incident_sim::{Sim, TokenRequest};
use serde_json::{Value, json};
use tokio::net::TcpListener;

fn main() -> Result<(), Box<dyn Error>> {
    let port: u16 = match std::env::args().nth(1) {
        Some(port) => port.parse()?,
        None => 0,
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?
        .block_on(serve(port))
}

async fn me(auth: Option<Auth>) -> Json<Value> {
    let user_id = auth
        .as_ref()
        .and_then(|auth| auth.session.as_ref())
        .map_or("anonymous", |session| session.user_id.as_str());
    Json(json!({ "user_id": user_id }))
}

async fn serve(port: u16) -> Result<(), Box<dyn Error>> {
    let url = std::env::var("BENCH_REDIS_URL").map_err(|_| "set BENCH_REDIS_URL")?;
    let sim = Sim::builder().start().await?;
    let admin = sim.admin_user_id().ok_or("the sim seeded no admin user")?;
    let token =
        sim.mint_token(&TokenRequest::for_user(admin).lifetime(Duration::from_secs(3600)))?;
    let verifier = Verifier::new(
        KeySource::pem(sim.public_key_pem())?,
        VerifierConfig::default(),
    );
    let store = Arc::new(RedisFleetStore::open(&url, "bench-middleware")?);
    let policy = AuthPolicy::new(verifier, BypassSwitch::new())
        .join_fleet(store.clone(), FleetConfig::default())?;
    while store.instances().await?.is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let app = Router::new()
        .route("/api/me", get(me))
        .route_layer(ClerkAuthLayer::new(policy))
        .route("/baseline/me", get(me));

    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "READY http://{addr} {token}")?;
    stdout.flush()?;
    drop(stdout);

    axum::serve(listener, app).await?;
    drop(sim);
    Ok(())
}
