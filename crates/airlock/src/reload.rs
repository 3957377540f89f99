//! Hot reload: the configuration is re-read when the file changes and on
//! SIGHUP. A file that does not load leaves the running rules in force.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use airlock_core::Guard;

/// How often the file's modification time is looked at. Polling keeps the
/// gateway free of platform file-watch quirks (editors that replace files,
/// mounted ConfigMaps that swap symlinks); a stat per second costs nothing.
const POLL: Duration = Duration::from_secs(1);

pub async fn watch(guard: Arc<Guard>, path: PathBuf) {
    let mut last = fingerprint(&path);
    let mut hup = hangups();
    loop {
        let signalled = tokio::select! {
            _ = tokio::time::sleep(POLL) => false,
            _ = next_hangup(&mut hup) => true,
        };
        let now = fingerprint(&path);
        if !signalled && now == last {
            continue;
        }
        last = now;
        match guard.reload() {
            Ok(()) => {
                tracing::info!(path = %path.display(), trigger = if signalled { "SIGHUP" } else { "file change" }, "rules reloaded")
            }
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "configuration not reloaded; the previous rules stay in force")
            }
        }
    }
}

/// Modification time and size: enough to notice an edit.
fn fingerprint(path: &PathBuf) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = ();

#[cfg(unix)]
fn hangups() -> Hangups {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}
#[cfg(not(unix))]
fn hangups() -> Hangups {}

#[cfg(unix)]
async fn next_hangup(h: &mut Hangups) {
    match h {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}
#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangups) {
    std::future::pending::<()>().await
}
