//! [`serve`]: the app on a listener, with [`ServiceLimits`] applied through actix-web's own
//! server settings.
//!
//! - `client_request_timeout`: a connection that has not sent a whole request head within
//!   [`header_read_timeout`](ServiceLimits::header_read_timeout) gets a 408 and is closed;
//! - `max_connections`: at most [`max_connections`](ServiceLimits::max_connections) open
//!   connections in all, shared out between the workers (actix-web counts per worker);
//! - the request timeout (408) and the webhook body limit (413) are the app's
//!   ([`app_with`](crate::app_with)).
//!
//! [`ServiceLimits`]: clerk_incident_actix::core::service_limits::ServiceLimits

use std::net::TcpListener;
use std::time::Duration;

use actix_web::HttpServer;
use actix_web::dev::Server;
use clerk_incident_actix::core::auth::AuthPolicy;

use crate::app::{ServiceOptions, app_with};

/// How long requests in flight get to finish once a shutdown signal arrives, in seconds.
const SHUTDOWN_TIMEOUT_SECS: u64 = 10;

/// The server of [`app_with`](crate::app_with)`(policy, options)` on `listener`, with
/// `options.limits` and `workers` workers; run it by awaiting it. SIGINT and SIGTERM stop it
/// gracefully.
///
/// # Errors
///
/// When the listener cannot be used.
pub fn serve(
    listener: TcpListener,
    policy: AuthPolicy,
    options: ServiceOptions,
    workers: usize,
) -> std::io::Result<Server> {
    let limits = options.limits;
    let workers = workers.max(1);
    let per_worker = limits.max_connections.div_ceil(workers).max(1);
    let server = HttpServer::new(move || app_with(policy.clone(), options.clone()))
        .workers(workers)
        .client_request_timeout(limits.header_read_timeout)
        .client_disconnect_timeout(Duration::from_secs(1))
        .max_connections(per_worker)
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        .listen(listener)?;
    Ok(server.run())
}
