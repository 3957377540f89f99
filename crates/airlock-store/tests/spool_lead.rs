//! Who makes a durable batch. With a spool that only writes (`fsync`
//! off), a committing session makes the batch itself when nobody else is
//! making one, so the writer's thread is not woken for it; with a spool
//! that flushes to disk, the writer's thread makes every durable batch.
//! Either way every op reaches the store, in order.
//!
//! Its own test binary: the writer's thread is told apart from others by
//! its name, and no other test's writer may run beside it.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use airlock_store::spool::Spool;
use airlock_store::writer::{Writer, WriterConfig};
use airlock_store::*;
use common::*;

const COMMITS: usize = 200;

fn writer_threads() -> HashSet<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(Result::ok)
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|n| n.trim() == "airlock-writer")
        })
        .map(|t| t.file_name().to_string_lossy().into_owned())
        .collect()
}

fn voluntary_switches(tid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("voluntary_ctxt_switches")
}

/// Commits one command at a time and returns how often the writer's
/// thread went to sleep meanwhile (each sleep follows a wake-up).
async fn writer_wakeups_over_commits(fsync: bool) -> u64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_in_memory().await.expect("open"));
    let spool = Spool::open(&dir.path().join("spool"), fsync).expect("spool");
    let before = writer_threads();
    let (writer, task) =
        Writer::spawn_spooled(store.clone(), WriterConfig::default(), spool).expect("writer");
    let session = format!("lead-{fsync}");
    writer
        .send(start(&session, 1_000))
        .await
        .expect("session start");
    writer.flush().await.expect("flush");
    let spawned: Vec<String> = writer_threads().difference(&before).cloned().collect();
    assert_eq!(spawned.len(), 1, "one new writer thread: {spawned:?}");
    let tid = &spawned[0];

    let switches_before = voluntary_switches(tid);
    for n in 0..COMMITS {
        writer
            .commit(vec![command(&session, n)])
            .await
            .expect("durable write");
    }
    let switches = voluntary_switches(tid) - switches_before;

    writer.flush().await.expect("flush");
    assert_eq!(
        store.session_events(&session).await.expect("events").len(),
        COMMITS,
        "every committed command is in the store"
    );
    drop(writer);
    task.await.expect("writer ends");
    switches
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_make_their_own_batches_only_while_the_spool_does_not_flush() {
    let flushing = writer_wakeups_over_commits(true).await;
    assert!(
        flushing >= COMMITS as u64 / 2,
        "with fsync the writer's thread makes each batch: {flushing} wake-ups for {COMMITS} commits"
    );
    let writing = writer_wakeups_over_commits(false).await;
    assert!(
        writing < 10,
        "without fsync each commit is made by its session: {writing} wake-ups for {COMMITS} commits"
    );
}
