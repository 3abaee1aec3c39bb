//! `axum-service`: the example service, configured from the environment.
//!
//! ```text
//! CLERK_JWT_KEY="$(cat key.pem)" BIND=127.0.0.1:3000 cargo run -p axum-service
//! ```
//!
//! Keys and bypass come from the variables of [`AuthPolicy::from_env`];
//! `CLERK_WEBHOOK_SIGNING_SECRET` (`whsec_…`) mounts `POST /api/webhooks/clerk`; `BIND` is the
//! listening address (default `127.0.0.1:3000`); `RUST_LOG` filters the logs (default
//! `info`). A configuration error exits with status 2; Ctrl-C (or SIGTERM) stops the service
//! after the requests in flight.
//!
//! The server runs with [`ServiceLimits::default`]: a connection that has not sent its
//! headers within 10 s is closed, a request not answered within 10 s (its body included) gets
//! a 408, at most 10,000 connections are open at once, and a webhook body above 1 MiB gets a
//! 413.

use std::error::Error;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;

use axum_service::{ENV_WEBHOOK_SECRET, ServiceOptions, UserSync, WEBHOOKS};
use clerk_incident_core::auth::AuthPolicy;
use clerk_incident_core::service_limits::ServiceLimits;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// The listening address when `BIND` is not set.
const DEFAULT_BIND: &str = "127.0.0.1:3000";

/// The exit status of a configuration error.
const EXIT_CONFIG: u8 = 2;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let policy = match AuthPolicy::from_env() {
        Ok(policy) => policy,
        Err(error) => {
            tracing::error!("invalid auth configuration: {}", chain(&error));
            return ExitCode::from(EXIT_CONFIG);
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
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let limits = ServiceLimits::default();
    let options = ServiceOptions {
        revocation: axum_service::revocation_jobs_from_env(),
        webhooks,
        limits,
    };
    let bind = std::env::var("BIND").unwrap_or_else(|_| DEFAULT_BIND.to_owned());
    let addr: SocketAddr = match bind.trim().parse() {
        Ok(addr) => addr,
        Err(_) => {
            tracing::error!("BIND={bind:?} is not a socket address such as {DEFAULT_BIND}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let listener = match TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!("cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().map_or(addr, |local| local);
    tracing::info!(addr = %local, mode = %policy.switch().mode(), "axum-service listening");

    let app = axum_service::app_with(policy, options);
    axum_service::serve(listener, app, limits, shutdown_signal()).await;
    tracing::info!("axum-service stopped");
    ExitCode::SUCCESS
}

/// An error and its sources, `: `-separated (the errors' `Display` never repeats the source).
fn chain(error: &dyn Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(message, ": {cause}");
        source = cause.source();
    }
    message
}

/// Completes on Ctrl-C, or SIGTERM on Unix (how containers are stopped).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {error}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(error) => {
                tracing::warn!("cannot listen for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing the requests in flight");
}
