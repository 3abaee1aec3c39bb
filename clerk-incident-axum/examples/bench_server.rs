//! The axum half of the middleware-overhead benchmark (`benches/middleware.sh`, documented in
//! `docs/benchmarks.md`).
//!
//! ```text
//! cargo run --release -p clerk-incident-axum --example axum_bench_server [PORT]
//! ```
//!
//! Starts an in-process [`Sim`], mints a one-hour token for its seeded admin, and serves on
//! `127.0.0.1:PORT` (default 0: any free port) one handler under two routes:
//!
//! - `/api/me` behind [`ClerkAuthLayer`] (pinned PEM key, default verifier config, `Enforce`);
//! - `/baseline/me` without it.
//!
//! Then it prints one line, `READY <base_url> <token>`, and serves until killed. The runtime has
//! one worker thread, so that on a two-core machine the load generator gets the other core.

use std::error::Error;
use std::io::Write as _;
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use clerk_incident_axum::core::auth::{
    AuthPolicy, BypassSwitch, KeySource, Verifier, VerifierConfig,
};
use clerk_incident_axum::{Auth, ClerkAuthLayer};
use clerk_incident_sim::{Sim, TokenRequest};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The user id the handler answers with when no auth context is attached (the baseline route).
const ANONYMOUS: &str = "anonymous";

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

/// The handler of both routes: the same work whether or not the layer attached a context.
async fn me(auth: Option<Auth>) -> Json<Value> {
    let user_id = auth
        .as_ref()
        .and_then(|auth| auth.session.as_ref())
        .map_or(ANONYMOUS, |session| session.user_id.as_str());
    Json(json!({ "user_id": user_id }))
}

async fn serve(port: u16) -> Result<(), Box<dyn Error>> {
    let sim = Sim::builder().start().await?;
    let admin = sim.admin_user_id().ok_or("the sim seeded no admin user")?;
    let token =
        sim.mint_token(&TokenRequest::for_user(admin).lifetime(Duration::from_secs(3600)))?;
    let verifier = Verifier::new(
        KeySource::pem(sim.public_key_pem())?,
        VerifierConfig::default(),
    );
    let policy = AuthPolicy::new(verifier, BypassSwitch::new());

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
    // Kept alive while serving; only reached if the server stops by itself.
    drop(sim);
    Ok(())
}
