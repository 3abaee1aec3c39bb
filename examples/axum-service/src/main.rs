//! `axum-service`: the example service, configured from the environment.
//!
//! ```text
//! CLERK_JWT_KEY="$(cat key.pem)" BIND=127.0.0.1:3000 cargo run -p axum-service
//! ```
//!
//! Everything is read once by core's `ServiceEnv::from_env_with_fleet`: the auth policy
//! (`AuthPolicy::from_env`), the revocation routes with `CLERK_SECRET_KEY`, the webhook
//! endpoint with `CLERK_WEBHOOK_SIGNING_SECRET`, and `BIND` (default `127.0.0.1:3000`).
//! With `CLERK_INCIDENT_REDIS_URL` (and `CLERK_INCIDENT_FLEET`) the instance joins the
//! fleet on Redis, so that `clerk-incident bypass` switches every instance at once.
//! `RUST_LOG` filters the logs (default `info`). A configuration error exits with status 2;
//! Ctrl-C (or SIGTERM) stops the service after the requests in flight.
//!
//! The server runs with `ServiceLimits::default()`: a connection that has not sent its
//! headers within 10 s is closed, a request not answered within 10 s (its body included) gets
//! a 408, at most 10,000 connections are open at once, and a webhook body above 1 MiB gets a
//! 413.

use std::process::ExitCode;

use axum_service::ServiceOptions;
use clerk_incident_core::error_chain::error_chain;
use clerk_incident_core::service_env::ServiceEnv;
use clerk_incident_redis::RedisConnector;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// The exit status of a configuration error.
const EXIT_CONFIG: u8 = 2;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Plain text in log files and pipes; colours on a terminal only, and never with NO_COLOR.
        .with_ansi(clerk_incident_core::log_colour::stderr_colour())
        .init();

    // With CLERK_INCIDENT_REDIS_URL, the instance joins the fleet: `clerk-incident bypass`
    // switches every instance at once.
    let env = match ServiceEnv::from_env_with_fleet(&RedisConnector) {
        Ok(env) => env,
        Err(error) => {
            tracing::error!("{}", error_chain(&error));
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    // Fetch the keys before taking traffic; start either way (see ServiceEnv::warm_up).
    env.warm_up().await;
    let listener = match TcpListener::bind(env.bind).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!("cannot listen on {}: {error}", env.bind);
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().map_or(env.bind, |local| local);
    tracing::info!(addr = %local, mode = %env.policy.switch().mode(), "axum-service listening");

    let limits = env.limits;
    let options = ServiceOptions {
        revocation: env.revocation,
        webhooks: env.webhooks,
        limits,
    };
    let app = axum_service::app_with(env.policy, options);
    axum_service::serve(listener, app, limits, shutdown_signal()).await;
    tracing::info!("axum-service stopped");
    ExitCode::SUCCESS
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
