//! [`serve`]: the service on a listener, with [`ServiceLimits`] applied by hyper itself.
//!
//! `axum::serve` sets no header-read timeout and no connection cap: a client that opens
//! connections and never finishes their headers holds them for ever. This loop serves each
//! connection with hyper-util's connection builder instead, whose HTTP/1 side closes a
//! connection that has not sent a whole request head within
//! [`header_read_timeout`](ServiceLimits::header_read_timeout), and accepts at most
//! [`max_connections`](ServiceLimits::max_connections) at once (the rest wait in the listen
//! backlog). The request timeout and the webhook body limit are layers of the router
//! ([`app_with`](crate::app_with)).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use clerk_incident_core::service_limits::ServiceLimits;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How long the requests in flight get to finish once `shutdown` completes.
const DRAIN: Duration = Duration::from_secs(30);

/// Serves `app` on `listener` with `limits` until `shutdown` completes, then lets the
/// connections in flight finish (for at most 30 s).
///
/// # Errors
///
/// An error of the listener that is not about one connection (those are logged and skipped).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServiceLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
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
                Err(error) => return Err(error),
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
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
    Ok(())
}

/// Errors `accept` returns about one connection, after which the listener still works.
fn is_per_connection(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    )
}
