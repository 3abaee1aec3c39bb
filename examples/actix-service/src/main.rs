//! `actix-service-example`: serves the example app on `BIND` (default `127.0.0.1:3000`).
//!
//! Everything is read once by core's `ServiceEnv::from_env_with_fleet`: the auth policy
//! (`AuthPolicy::from_env`), the revocation routes with `CLERK_SECRET_KEY`, the webhook
//! endpoint with `CLERK_WEBHOOK_SIGNING_SECRET`, and `BIND`. The jobs and the users table are
//! built once, here, and shared by every worker.
//!
//! With `CLERK_INCIDENT_REDIS_URL` (and `CLERK_INCIDENT_FLEET`) the instance joins the fleet on
//! Redis, so that `clerk-incident bypass` switches every instance at once.
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

use std::process::ExitCode;

use actix_service_example::ServiceOptions;
use clerk_incident_actix::core::error_chain::error_chain;
use clerk_incident_actix::core::service_env::ServiceEnv;
use clerk_incident_redis::RedisConnector;
use tracing_subscriber::EnvFilter;

#[actix_web::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Plain text in log files and pipes; colours on a terminal only, and never with NO_COLOR.
        .with_ansi(clerk_incident_core::log_colour::stderr_colour())
        .init();

    // Inside the runtime: a bypass set from the environment arms its expiry timer here.
    // With CLERK_INCIDENT_REDIS_URL, the instance joins the fleet: `clerk-incident bypass`
    // switches every instance at once.
    let env = match ServiceEnv::from_env_with_fleet(&RedisConnector) {
        Ok(env) => env,
        Err(error) => {
            tracing::error!("{}", error_chain(&error));
            return ExitCode::from(2);
        }
    };
    // Fetch the keys before taking traffic; start either way (see ServiceEnv::warm_up).
    env.warm_up().await;
    let mode = env.policy.switch().mode();
    let options = ServiceOptions {
        revocation: env.revocation,
        webhooks: env.webhooks,
        limits: env.limits,
    };
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let server = std::net::TcpListener::bind(env.bind)
        .and_then(|listener| actix_service_example::serve(listener, env.policy, options, workers));
    let server = match server {
        Ok(server) => server,
        Err(error) => {
            tracing::error!(bind = %env.bind, "cannot listen: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(bind = %env.bind, mode = %mode, "actix-service-example listening");
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
