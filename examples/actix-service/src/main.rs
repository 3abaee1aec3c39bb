//! `actix-service-example`: serves the example app on `BIND` (default `127.0.0.1:3000`), with the
//! auth policy from the environment (`CLERK_JWT_KEY`, `CLERK_SECRET_KEY` or `CLERK_JWKS_URL`,
//! and the `CLERK_EMERGENCY_BYPASS*` variables; see `AuthPolicy::from_env`).
//! `CLERK_WEBHOOK_SIGNING_SECRET` (`whsec_…`) mounts `POST /api/webhooks/clerk`.
//!
//! Logs go to stderr (`RUST_LOG` filters them, `info` by default). SIGINT and SIGTERM stop the
//! server gracefully: it stops accepting, then lets requests in flight finish.
//!
//! The server runs with `ServiceLimits::default()`: a connection that has not sent its
//! headers within 10 s gets a 408 and is closed, a request not answered within 10 s (its body
//! included) gets a 408, at most 10,000 connections are open at once, and a webhook body
//! above 1 MiB gets a 413.
//!
//! Exit status: 0 after a clean shutdown, 1 when the server cannot run, 2 for a bad
//! configuration.

use std::error::Error;
use std::fmt::Write as _;
use std::process::ExitCode;

use actix_service_example::{ENV_WEBHOOK_SECRET, ServiceOptions, UserSync, WEBHOOKS};
use clerk_incident_actix::core::auth::AuthPolicy;
use clerk_incident_actix::core::service_limits::ServiceLimits;
use tracing_subscriber::EnvFilter;

/// The address served when `BIND` is not set.
const DEFAULT_BIND: &str = "127.0.0.1:3000";

#[actix_web::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    // Inside the runtime: a bypass set from the environment arms its expiry timer here.
    let policy = match AuthPolicy::from_env() {
        Ok(policy) => policy,
        Err(error) => {
            tracing::error!("invalid configuration: {}", chain(&error));
            return ExitCode::from(2);
        }
    };
    let webhooks = match UserSync::from_env() {
        Ok(Some(sync)) => {
            tracing::info!("webhook endpoint mounted at POST {WEBHOOKS}");
            Some(sync)
        }
        Ok(None) => {
            tracing::info!("{ENV_WEBHOOK_SECRET} is not set: the webhook endpoint is not mounted");
            None
        }
        Err(error) => {
            tracing::error!("invalid {ENV_WEBHOOK_SECRET}: {error}");
            return ExitCode::from(2);
        }
    };
    // Built once, outside the factory: every worker shares the jobs and the users table.
    let options = ServiceOptions {
        revocation: actix_service_example::revocation_jobs_from_env(),
        webhooks,
        limits: ServiceLimits::default(),
    };
    let bind = std::env::var("BIND").unwrap_or_else(|_| DEFAULT_BIND.to_owned());
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let server = std::net::TcpListener::bind(bind.as_str()).and_then(|listener| {
        actix_service_example::serve(listener, policy.clone(), options, workers)
    });
    let server = match server {
        Ok(server) => server,
        Err(error) => {
            tracing::error!(bind, "cannot listen: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(bind, mode = %policy.switch().mode(), "actix-service-example listening");
    match server.await {
        Ok(()) => {
            tracing::info!("actix-service-example stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!("server failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `error` and its sources, `: `-separated.
fn chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}
