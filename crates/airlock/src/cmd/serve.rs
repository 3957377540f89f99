//! `airlock serve`: the gateway process.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use std::path::Path;

use airlock_core::Guard;
use airlock_core::review::Reviews;
use airlock_pg::{PgServer, ServerDeps};
use airlock_store::writer::{Writer, WriterConfig};

use crate::context::open_store;

pub async fn run(config_path: &Path) -> anyhow::Result<()> {
    init_logging();
    let guard = Arc::new(Guard::from_file(config_path)?);
    let config = guard.config();
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data_dir {}", config.data_dir.display()))?;
    let store = open_store(&config).await?;
    // Durable records an earlier run spooled but did not get into the
    // store (it was killed) go in first, before anything new is chained.
    let spool_dir = config.data_dir.join("audit-spool");
    airlock_store::spool::replay(&spool_dir, store.as_ref())
        .await
        .with_context(|| format!("replaying the audit spool {}", spool_dir.display()))?;
    let spool = airlock_store::spool::Spool::open(&spool_dir, config.audit.fsync)
        .with_context(|| format!("opening the audit spool {}", spool_dir.display()))?;
    let (writer, writer_task) =
        Writer::spawn_spooled(store.clone(), WriterConfig::default(), spool)
            .context("starting the audit writer's thread")?;
    // Sinks follow the log in the store, not the writer: nothing on the
    // data path waits for them.
    let sinks = crate::sinks::Sinks::start(&config.audit.sinks, store.clone())?;
    let upkeep = crate::audit_upkeep::AuditUpkeep::start(&config.audit, store.clone())?;
    crate::notify::check(&config.reviews)?;
    let tls = airlock_pg::tls::server_config(config.tls.as_ref(), &config.data_dir)
        .context("setting up TLS for clients")?;

    let pg_listener = TcpListener::bind(config.listen.postgres)
        .await
        .with_context(|| {
            format!(
                "listening for PostgreSQL clients on {}",
                config.listen.postgres
            )
        })?;
    let api_listener = TcpListener::bind(config.listen.api)
        .await
        .with_context(|| format!("listening for the API on {}", config.listen.api))?;
    tracing::info!(
        postgres = %pg_listener.local_addr()?,
        api = %api_listener.local_addr()?,
        data_dir = %config.data_dir.display(),
        connections = config.connections.len(),
        "airlock is ready"
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    let guard_for_reload = guard.clone();
    let (reviews, notices) = Reviews::new(store.clone(), guard.clone());
    // Webhook calls run in tasks of their own: the gate only try_sends.
    let notifier = crate::notify::spawn(guard.clone(), notices);
    let threads = airlock_pg::SessionThreads::start(
        config.postgres.session_thread_count(),
        config.postgres.session_slice,
    )
    .context("starting the session threads")?;
    let pg = PgServer::new(
        ServerDeps {
            guard,
            store: store.clone(),
            writer: writer.clone(),
            reviews: reviews.clone(),
            tls: Some(tls),
        },
        threads,
    );
    let pg_task = tokio::spawn(pg.serve(pg_listener, stop_rx.clone()));
    let api_task = tokio::spawn(crate::api::serve(
        api_listener,
        store.clone(),
        writer.clone(),
        reviews,
        stop_rx,
    ));

    let reload_task = tokio::spawn(crate::reload::watch(
        guard_for_reload,
        config_path.to_path_buf(),
    ));
    wait_for_stop().await;
    reload_task.abort();
    tracing::info!("stopping");
    let _ = stop_tx.send(true);
    let _ = pg_task.await;
    let _ = api_task.await;
    // Undelivered notifications are not kept: the reviews are in the
    // store, and `airlock reviews list` shows them.
    notifier.abort();
    // Sessions still open keep their own writer handles; give queued
    // events a bounded time to reach the store.
    match tokio::time::timeout(Duration::from_secs(5), writer.flush()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "events could not be stored before exit"),
        Err(_) => tracing::error!("store did not accept queued events within 5 s of shutdown"),
    }
    // After the flush, so the last checkpoint covers every record; before
    // the sinks stop, so they can ship it.
    upkeep.stop().await;
    drop(writer);
    writer_task.abort();
    // After the flush, so the sinks' last round can send its records.
    sinks.stop(Duration::from_secs(5)).await;
    Ok(())
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("AIRLOCK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("AIRLOCK_LOG_FORMAT").is_ok_and(|v| v == "json");
    // Colour only for a person at a terminal: escape codes in a log file
    // or a collector garble every field a reader greps for.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    if json {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}

async fn wait_for_stop() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
