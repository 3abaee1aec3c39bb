//! The signals that interrupt a long command: Ctrl-C (SIGINT) and, on Unix, SIGTERM, which
//! `kill`, systemd and Kubernetes send. Both stop the command the same way: no new work, the
//! checkpoint as it stands, "interrupted" in the incident log, and the resume command.

/// Completes at the first SIGINT or SIGTERM, with the signal's name. If a signal cannot be
/// watched (no handler can be installed), only the others count.
pub(crate) async fn signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            },
            Err(_) => ctrl_c().await,
        }
    }
    #[cfg(not(unix))]
    {
        ctrl_c().await
    }
}

async fn ctrl_c() -> &'static str {
    match tokio::signal::ctrl_c().await {
        Ok(()) => "SIGINT",
        // No handler: never interrupted by a signal.
        Err(_) => std::future::pending().await,
    }
}
