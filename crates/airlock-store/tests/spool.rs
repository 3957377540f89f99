//! The spool: a durable write is answered once spooled, reaches the store
//! behind it, and survives the process dying before it did (replayed on
//! the next start, exactly once). A spool that cannot write refuses the
//! durable write.

mod common;

use std::sync::Arc;
use std::time::Duration;

use airlock_store::spool::{self, Spool};
use airlock_store::writer::{Writer, WriterConfig};
use airlock_store::*;
use common::*;

fn segment_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .expect("spool dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "spool"))
        .collect();
    found.sort();
    found
}

async fn records(store: &dyn Store) -> u64 {
    match store.verify_audit().await.expect("verify") {
        AuditVerification::Intact { records, .. } => records,
        other => panic!("chain not intact: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spooled_writes_reach_the_store_and_replaying_them_adds_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("airlock.db"))
            .await
            .expect("open"),
    );
    let spool_dir = dir.path().join("spool");
    let spool = Spool::open(&spool_dir, true).expect("spool");
    let (writer, _task) = Writer::spawn_spooled(store.clone(), WriterConfig::default(), spool)
        .expect("writer thread");
    writer.send(start("s1", 1_000)).await.expect("start");
    for n in 0..50 {
        writer
            .commit(vec![command("s1", n)])
            .await
            .expect("durable write");
        writer
            .record_all(&mut vec![outcome("s1", n)])
            .await
            .expect("outcome");
    }
    writer.flush().await.expect("flush");
    // A command and its outcome that reach the store in one batch are one
    // record: the filler gathers several frames per batch, so some did.
    let landed = records(store.as_ref()).await;
    assert!((51..101).contains(&landed), "{landed} records");
    let events = store.session_events("s1").await.expect("events");
    assert_eq!(events.len(), 50);
    assert!(events.iter().all(|e| e.outcome.is_some()));
    // Everything is in the store: replaying what is left adds nothing,
    // though each frame holds the outcome of the command before it, which
    // went to the store inside that command's record.
    drop(writer);
    let replayed = spool::replay(&spool_dir, store.as_ref())
        .await
        .expect("replay");
    assert!((1..=50).contains(&replayed), "{replayed}");
    assert_eq!(records(store.as_ref()).await, landed);
}

/// The store never finishes a batch, as if the process died before
/// filling it: what the durable writes were answered for is in the spool, and the
/// next start's replay puts it in the store, once however often it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_was_spooled_but_never_filled_is_replayed_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("airlock.db");
    let spool_dir = dir.path().join("spool");
    {
        let sqlite = SqliteStore::open(&db).await.expect("open");
        let failing = Arc::new(Faulty::new(sqlite, STALL));
        let spool = Spool::open(&spool_dir, false).expect("spool");
        let (writer, task) = Writer::spawn_spooled(failing.clone(), WriterConfig::default(), spool)
            .expect("writer thread");
        writer.send(start("s1", 1_000)).await.expect("start");
        for n in 0..20 {
            // Answered from the spool alone: the store has not taken a
            // single batch.
            tokio::time::timeout(
                Duration::from_secs(20),
                writer.commit(vec![command("s1", n)]),
            )
            .await
            .expect("a spooled write waited for the failing store")
            .expect("durable write");
            if !writer.is_healthy() {
                break;
            }
        }
        task.abort();
        assert_eq!(records(&failing.inner).await, 0, "the store took a batch");
    }
    let segments = segment_files(&spool_dir);
    assert!(!segments.is_empty(), "nothing spooled");
    // A copy, to replay a second time as a restart after a crash in the
    // middle of the first replay would.
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).expect("copy dir");
    for s in &segments {
        std::fs::copy(s, copy.join(s.file_name().expect("name"))).expect("copy");
    }
    // The last frame cut short, as a crash in the middle of an append
    // leaves it: dropped, the frames before it kept.
    let last = segments.last().expect("a segment");
    let mut bytes = std::fs::read(last).expect("read");
    bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2, 3]);
    std::fs::write(last, &bytes).expect("write");

    let store = SqliteStore::open(&db).await.expect("reopen");
    let replayed = spool::replay(&spool_dir, &store).await.expect("replay");
    assert!(replayed >= 1, "{replayed}");
    let after_first = records(&store).await;
    assert!(after_first >= 2, "{after_first} records");
    let events = store.session_events("s1").await.expect("events");
    assert!(!events.is_empty());
    assert!(
        segment_files(&spool_dir).is_empty(),
        "replayed segments kept"
    );

    spool::replay(&copy, &store).await.expect("second replay");
    assert_eq!(records(&store).await, after_first, "a batch landed twice");
}

/// A spool on a full disk (`/dev/full` answers every write with ENOSPC):
/// the durable write is refused, the writer says it is unhealthy, and the
/// record still reaches the store. The spool goes on in a new segment (here
/// on a disk with room), and the writer, trying it again by itself, takes
/// durable writes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spool_that_cannot_write_refuses_the_durable_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_in_memory().await.expect("open"));
    let spool_dir = dir.path().join("spool");
    std::fs::create_dir(&spool_dir).expect("spool dir");
    // An empty last segment is the one the spool appends to.
    std::os::unix::fs::symlink("/dev/full", spool_dir.join("000000000001.spool")).expect("symlink");
    let spool = Spool::open(&spool_dir, false).expect("spool");
    let (writer, _task) = Writer::spawn_spooled(store.clone(), WriterConfig::default(), spool)
        .expect("writer thread");
    writer.send(start("s1", 1_000)).await.expect("start");
    let refused = writer.commit(vec![command("s1", 0)]).await;
    assert!(
        matches!(&refused, Err(StoreError::Unavailable(m)) if m.contains("spool")),
        "{refused:?}"
    );
    assert!(!writer.is_healthy());
    writer.flush().await.expect("flush");
    assert_eq!(store.session_events("s1").await.expect("events").len(), 1);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !writer.is_healthy() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the writer never tried the spool again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    writer
        .commit(vec![command("s1", 1)])
        .await
        .expect("a durable write once the spool works again");
    writer.flush().await.expect("flush");
    assert_eq!(store.session_events("s1").await.expect("events").len(), 2);
}

/// A store far slower than the sessions: the spool lets durable writes run
/// ahead of it only up to `max_backlog`; beyond that the writer waits for
/// the store and the sessions wait for the writer. Nothing is refused, and
/// everything lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_store_slows_the_writers_down_instead_of_failing_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = SqliteStore::open(&dir.path().join("airlock.db"))
        .await
        .expect("open");
    let store = Arc::new(Faulty::new(sqlite, 0).slow(Duration::from_millis(30)));
    let spool = Spool::open(&dir.path().join("spool"), false).expect("spool");
    let config = WriterConfig {
        max_backlog: 40,
        linger: Duration::from_millis(5),
        ..WriterConfig::default()
    };
    let (writer, _task) =
        Writer::spawn_spooled(store.clone(), config, spool).expect("writer thread");
    const SESSIONS: usize = 4;
    const PER_SESSION: usize = 60;
    let mut producers = Vec::new();
    for s in 0..SESSIONS {
        let writer = writer.clone();
        producers.push(tokio::spawn(async move {
            let id = format!("slow-{s}");
            writer.send(start(&id, 1_000 + s as i64)).await?;
            for n in 0..PER_SESSION {
                writer.commit(vec![command(&id, n)]).await?;
                writer.record_all(&mut vec![outcome(&id, n)]).await?;
            }
            Ok::<_, StoreError>(writer.is_healthy())
        }));
    }
    for p in producers {
        let healthy = tokio::time::timeout(Duration::from_secs(60), p)
            .await
            .expect("a producer was held for good")
            .expect("producer")
            .expect("a durable write was refused while the store was only slow");
        assert!(healthy, "the writer called a slow store unhealthy");
    }
    writer.flush().await.expect("flush");
    let landed = records(store.as_ref()).await;
    let (fewest, most) = (
        (SESSIONS * (PER_SESSION + 1)) as u64,
        (SESSIONS * (2 * PER_SESSION + 1)) as u64,
    );
    assert!((fewest..=most).contains(&landed), "{landed} records");
    for s in 0..SESSIONS {
        let events = store
            .session_events(&format!("slow-{s}"))
            .await
            .expect("events");
        assert_eq!(events.len(), PER_SESSION);
        assert!(events.iter().all(|e| e.outcome.is_some()));
    }
    // Held back, the writer handed the store fewer, larger batches than
    // it had durable writes.
    assert!(
        store.batch_calls() < SESSIONS * PER_SESSION,
        "{} batches",
        store.batch_calls()
    );
}

/// A spooling writer runs on a thread of its own (its flushes block only
/// that thread); aborting its handle stops it as it would a task, so
/// durable writes then fail at once instead of waiting forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborting_a_spooling_writer_stops_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_in_memory().await.expect("open"));
    let spool = Spool::open(&dir.path().join("spool"), true).expect("spool");
    let (writer, task) = Writer::spawn_spooled(store.clone(), WriterConfig::default(), spool)
        .expect("writer thread");
    writer
        .commit(vec![command("s1", 0)])
        .await
        .expect("durable write");
    let writer_threads = std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .filter(|name| name.trim() == "airlock-writer")
        .count();
    assert!(writer_threads >= 1, "no airlock-writer thread");

    task.abort();
    let _ = task.await;
    let refused = tokio::time::timeout(Duration::from_secs(10), async {
        for n in 1.. {
            if let Err(e) = writer.commit(vec![command("s1", n)]).await {
                return e;
            }
        }
        unreachable!("the loop only ends by returning")
    })
    .await
    .expect("durable writes still answered 10 s after the abort");
    assert!(
        matches!(&refused, StoreError::Unavailable(m) if m.contains("stopped")),
        "{refused:?}"
    );
}

/// A spooling writer that gathers spooled frames for a minute (buffered
/// records 10 ms), with session `s1` and its first command spooled.
async fn gathering_writer(
    dir: &std::path::Path,
) -> (Arc<SqliteStore>, Writer, tokio::task::JoinHandle<()>) {
    let store = Arc::new(SqliteStore::open_in_memory().await.expect("open"));
    let spool = Spool::open(&dir.join("spool"), false).expect("spool");
    let config = WriterConfig {
        linger: Duration::from_millis(10),
        spooled_linger: Duration::from_secs(60),
        ..WriterConfig::default()
    };
    let (writer, task) = Writer::spawn_spooled(store.clone(), config, spool).expect("writer");
    writer
        .commit(vec![start("s1", 1_000), command("s1", 0)])
        .await
        .expect("durable write");
    (store, writer, task)
}

/// Spooled batches wait in memory for the spooled linger, so the store
/// commits them in larger transactions; a flush does not wait it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spooled_batches_are_gathered_and_a_flush_cuts_the_gathering_short() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, writer, _task) = gathering_writer(dir.path()).await;
    // Far beyond the buffered linger, far below the spooled one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        records(store.as_ref()).await,
        0,
        "committed before the linger ended"
    );
    tokio::time::timeout(Duration::from_secs(20), writer.flush())
        .await
        .expect("the flush waited out the spooled linger")
        .expect("flush");
    assert_eq!(store.session_events("s1").await.expect("events").len(), 1);
}

/// A buffered command's record is only in memory until the store has it:
/// it waits no longer than the buffered linger, also behind spooled
/// batches that are being gathered for much longer. (An outcome may wait
/// with them: its command's record is what must not be lost.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buffered_command_behind_spooled_batches_waits_only_the_short_linger() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, writer, _task) = gathering_writer(dir.path()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    writer
        .record_all(&mut vec![outcome("s1", 0)])
        .await
        .expect("outcome");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        records(store.as_ref()).await,
        0,
        "the outcome cut the gathering short"
    );
    writer
        .send(command("s1", 1))
        .await
        .expect("buffered command");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while records(store.as_ref()).await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the buffered command waited for the spooled linger"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let events = store.session_events("s1").await.expect("events");
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events[0].outcome.is_some(), "{events:?}");
}
