//! [`serve`]: the service on a listener, with [`ServiceLimits`] applied by hyper itself.
//!
//! `axum::serve` sets no header-read timeout and no connection cap: a client that opens
//! connections and never finishes their headers holds them for ever. This loop serves each
//! connection with hyper's HTTP/1 connection builder instead, which closes a connection that
//! has not sent a whole request head within
//! [`header_read_timeout`](ServiceLimits::header_read_timeout) of opening (or of its previous
//! response, for a kept-alive one), silent connections included, and accepts at most
//! [`max_connections`](ServiceLimits::max_connections) at once (the rest wait in the listen
//! backlog). It speaks HTTP/1 only, as the service's axum build does: HTTP/2 would need its
//! own keep-alive timeouts, and hyper-util's auto-detection reads its first bytes without any.
//! The request timeout and the webhook body limit are layers of the router
//! ([`app_with`](crate::app_with)).
//!
//! Keep [`max_connections`](ServiceLimits::max_connections) below the process's open-file
//! limit (`ulimit -n`); an `accept` that fails for lack of file handles is retried after a
//! second, as `axum::serve` does, instead of stopping the server.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use clerk_incident_core::service_limits::ServiceLimits;
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How long the requests in flight get to finish once `shutdown` completes.
const DRAIN: Duration = Duration::from_secs(30);

/// How long to wait before accepting again after an `accept` error that is not about one
/// connection (such as running out of file handles).
const ACCEPT_RETRY: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` with `limits` until `shutdown` completes, then lets the
/// connections in flight finish (for at most 30 s). Accept errors are logged and retried.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServiceLimits,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) if is_per_connection(&error) => {
                    tracing::debug!("a connection failed before it was accepted: {error}");
                    continue;
                }
                // Out of file handles, or another passing fault: wait, then accept again.
                Err(error) => {
                    tracing::error!("cannot accept a connection: {error}; retrying in 1 s");
                    tokio::select! {
                        () = tokio::time::sleep(ACCEPT_RETRY) => continue,
                        () = &mut shutdown => break,
                    }
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!("connection closed: {error}");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "some connections were still open {} s after shutdown",
            DRAIN.as_secs()
        );
    }
}

/// Errors `accept` returns about one connection, after which the listener still works.
fn is_per_connection(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    )
}
