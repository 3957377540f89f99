//! `sqlite_alloc::install` in a process of its own, called as the gateway
//! calls it: before anything has used SQLite. One test only: a second one
//! in this binary could reach SQLite first.

use airlock_store::{SessionStart, SqliteStore, Store, WriteOp};
use libsqlite3_sys as ffi;

/// The settings reach the SQLite the store uses: it keeps no memory
/// statistics (it does by default, and then counts every byte it holds),
/// and the store works on the installed allocator. Once SQLite is in use
/// the settings are refused, which is why `main` installs them first.
#[tokio::test]
async fn the_store_runs_on_the_installed_settings() {
    airlock_store::sqlite_alloc::install().expect("installed before SQLite is used");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("airlock.db"))
        .await
        .expect("open");
    store
        .write_batch(&[WriteOp::SessionStart(SessionStart {
            id: "s1".into(),
            identity: "alice".into(),
            connection: "db".into(),
            protocol: "postgres".into(),
            client_addr: "127.0.0.1:1".into(),
            started_at: chrono::Utc::now(),
        })])
        .await
        .expect("write");
    assert!(store.session("s1").await.expect("read").is_some());
    // SAFETY: a plain query of a counter.
    let counted = unsafe { ffi::sqlite3_memory_used() };
    assert_eq!(counted, 0, "SQLite still keeps memory statistics");
    assert_eq!(
        airlock_store::sqlite_alloc::install(),
        Err(ffi::SQLITE_MISUSE),
        "SQLite takes its allocator only before first use"
    );
}
