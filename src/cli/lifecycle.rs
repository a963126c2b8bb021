//! What every long-running front end shares: the wall clock (the one place the process
//! reads it; the core takes the time as a parameter) and the shutdown signal.

/// Completes on SIGTERM or Ctrl-C (SIGINT).
pub(crate) async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

/// The wall clock, Unix seconds: the one place the servers read the time.
// reason: the CLI is where the clock enters; the core takes the time as a parameter.
#[allow(clippy::disallowed_methods)]
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
