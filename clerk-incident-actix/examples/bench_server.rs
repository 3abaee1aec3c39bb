//! The actix-web half of the middleware-overhead benchmark (`benches/middleware.sh`,
//! documented in `docs/benchmarks.md`).
//!
//! ```text
//! cargo run --release -p clerk-incident-actix --example actix_bench_server [PORT]
//! ```
//!
//! Starts an in-process [`Sim`], mints a one-hour token for its seeded admin, and serves on
//! `127.0.0.1:PORT` (default 0: any free port) one handler under two scopes:
//!
//! - `/api/me` wrapped in [`ClerkAuth`] (pinned PEM key, default verifier config, `Enforce`);
//! - `/baseline/me`, a scope without it.
//!
//! Then it prints one line, `READY <base_url> <token>`, and serves until killed. The server has
//! one worker, so that on a two-core machine the load generator gets the other core.

use std::error::Error;
use std::io::Write as _;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use clerk_incident_actix::core::auth::{
    AuthPolicy, BypassSwitch, KeySource, Verifier, VerifierConfig,
};
use clerk_incident_actix::{Auth, ClerkAuth};
use clerk_incident_sim::{Sim, TokenRequest};
use serde_json::json;

/// The user id the handler answers with when no auth context is attached (the baseline route).
const ANONYMOUS: &str = "anonymous";

/// The handler of both routes: the same work whether or not the middleware attached a context.
async fn me(auth: Option<Auth>) -> HttpResponse {
    let user_id = auth
        .as_ref()
        .and_then(|auth| auth.session.as_ref())
        .map_or(ANONYMOUS, |session| session.user_id.as_str());
    HttpResponse::Ok().json(json!({ "user_id": user_id }))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let port: u16 = match std::env::args().nth(1) {
        Some(port) => port.parse()?,
        None => 0,
    };
    let sim = Sim::builder().start().await?;
    let admin = sim.admin_user_id().ok_or("the sim seeded no admin user")?;
    let token =
        sim.mint_token(&TokenRequest::for_user(admin).lifetime(Duration::from_secs(3600)))?;
    let verifier = Verifier::new(
        KeySource::pem(sim.public_key_pem())?,
        VerifierConfig::default(),
    );
    let policy = AuthPolicy::new(verifier, BypassSwitch::new());

    // Both routes sit in a scope of their own, so that they differ by the middleware only.
    let server = HttpServer::new(move || {
        App::new()
            .service(
                web::scope("/api")
                    .wrap(ClerkAuth::new(policy.clone()))
                    .route("/me", web::get().to(me)),
            )
            .service(web::scope("/baseline").route("/me", web::get().to(me)))
    })
    .workers(1)
    .bind(("127.0.0.1", port))?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or("the server is bound to no address")?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "READY http://{addr} {token}")?;
    stdout.flush()?;
    drop(stdout);

    server.run().await?;
    // Kept alive while serving; only reached if the server stops by itself.
    drop(sim);
    Ok(())
}
