mod common;

use std::sync::Arc;
use std::time::Duration;

use airlock_store::writer::{Writer, WriterConfig};
use airlock_store::*;
use common::*;

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_many_ops_and_keeps_per_session_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = SqliteStore::open(&dir.path().join("airlock.db"))
        .await
        .expect("open");
    let store = Arc::new(Faulty::new(sqlite, 0));
    let (writer, task) = Writer::spawn(store.clone(), WriterConfig::default());

    const SESSIONS: usize = 8;
    const PER_SESSION: usize = 250;
    let mut producers = Vec::new();
    for s in 0..SESSIONS {
        let writer = writer.clone();
        producers.push(tokio::spawn(async move {
            let id = format!("session-{s}");
            writer.send(start(&id, 1_000 + s as i64)).await?;
            for n in 0..PER_SESSION {
                writer.send(command(&id, n)).await?;
                writer.send(outcome(&id, n)).await?;
            }
            writer.send(end(&id, PER_SESSION as i64)).await
        }));
    }
    for p in producers {
        p.await.expect("producer").expect("send");
    }
    writer.flush().await.expect("flush");
    let verdict = store.verify_audit().await.expect("verify");
    // A command and its outcome that reached the store in one batch are
    // one record, and a session's such commands of one batch are one
    // record too (a run, of at most 65); which ones did depends on timing.
    // Fewer records than commands: runs were made.
    let (fewest, most) = (
        (SESSIONS * (PER_SESSION.div_ceil(65) + 2)) as u64,
        (SESSIONS * PER_SESSION) as u64,
    );
    assert!(
        matches!(verdict, AuditVerification::Intact { records, .. }
            if (fewest..most).contains(&records)),
        "{verdict:?}"
    );

    let total_ops = SESSIONS * (2 * PER_SESSION + 2);
    let batches = store.batch_calls();
    assert!(
        batches < total_ops / 4,
        "{batches} batches for {total_ops} ops"
    );

    for s in 0..SESSIONS {
        let id = format!("session-{s}");
        let events = store.session_events(&id).await.expect("events");
        let commands: Vec<_> = events
            .iter()
            .map(|e| e.command.command.to_string())
            .collect();
        let expected: Vec<_> = (0..PER_SESSION).map(|n| format!("SELECT {n}")).collect();
        assert_eq!(commands, expected, "order of {id}");
        assert!(
            events
                .iter()
                .all(|e| e.outcome.as_ref().map(|o| &o.event_id) == Some(&e.command.id)),
            "every command of {id} joined with its own outcome"
        );
        let session = store.session(&id).await.expect("get").expect("found");
        assert_eq!(session.commands, PER_SESSION as i64);
        assert_eq!(session.bytes_to_client, PER_SESSION as i64 * 10);
        assert_eq!(session.end_reason.as_deref(), Some("client closed"));
        assert!(session.ended_at.is_some());
    }

    drop(writer);
    task.await.expect("writer task ends");
}

#[tokio::test]
async fn recovers_after_failures_without_losing_ops() {
    let sqlite = SqliteStore::open_in_memory().await.expect("open");
    let store = Arc::new(Faulty::new(sqlite, 3));
    let (writer, _task) = Writer::spawn(store.clone(), WriterConfig::default());
    assert!(writer.is_healthy());

    writer.send(start("s1", 1_000)).await.expect("send start");
    writer.send(command("s1", 0)).await.expect("send event");
    wait_until("the writer to report failure", || !writer.is_healthy()).await;

    // Fail closed: nothing new is accepted while the store is failing.
    let refused = writer.send(command("s1", 1)).await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "{refused:?}"
    );

    writer.flush().await.expect("flush after recovery");
    assert!(writer.is_healthy());
    assert!(store.batch_calls() >= 4);
    let events = store.session_events("s1").await.expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(&*events[0].command.command, "SELECT 0");
    assert!(store.session("s1").await.expect("get").is_some());

    writer.send(command("s1", 2)).await.expect("accepted again");
    writer.flush().await.expect("flush");
    assert_eq!(store.session_events("s1").await.expect("events").len(), 2);
}

/// A session checks the store's health before it decides a command, and
/// the store may fail before the command's record is queued: the command
/// is then refused, but its record is kept, so that the outcome the
/// session records for it ("not forwarded") has its command on the record.
#[tokio::test]
async fn commands_refused_by_a_failing_store_are_still_recorded() {
    let sqlite = SqliteStore::open_in_memory().await.expect("open");
    let store = Arc::new(Faulty::new(sqlite, 3));
    let (writer, _task) = Writer::spawn(store.clone(), WriterConfig::default());
    writer.send(start("s1", 1_000)).await.expect("send start");
    writer.send(command("s1", 0)).await.expect("send event");
    wait_until("the writer to report failure", || !writer.is_healthy()).await;

    let durable = writer.commit(vec![command("s1", 1)]).await;
    assert!(
        matches!(durable, Err(StoreError::Unavailable(_))),
        "{durable:?}"
    );
    let mut buffered = vec![command("s1", 2)];
    let queued = writer.send_all(&mut buffered).await;
    assert!(
        matches!(queued, Err(StoreError::Unavailable(_))),
        "{queued:?}"
    );
    let mut outcomes = vec![outcome("s1", 1), outcome("s1", 2)];
    writer
        .record_all(&mut outcomes)
        .await
        .expect("outcomes kept");

    writer.flush().await.expect("flush after recovery");
    let events = store.session_events("s1").await.expect("events");
    let recorded: Vec<_> = events
        .iter()
        .map(|e| (e.command.command.to_string(), e.outcome.is_some()))
        .collect();
    assert_eq!(
        recorded,
        [
            ("SELECT 0".to_string(), false),
            ("SELECT 1".to_string(), true),
            ("SELECT 2".to_string(), true),
        ]
    );
    assert!(matches!(
        store.verify_audit().await.expect("verify"),
        AuditVerification::Intact { .. }
    ));
}

#[tokio::test]
async fn task_drains_queue_when_last_writer_is_dropped() {
    let sqlite = SqliteStore::open_in_memory().await.expect("open");
    let store = Arc::new(sqlite);
    let config = WriterConfig {
        channel_capacity: 16,
        max_batch: 4,
        ..WriterConfig::default()
    };
    let (writer, task) = Writer::spawn(store.clone(), config);

    writer.send(start("s1", 1_000)).await.expect("send");
    for n in 0..100 {
        writer.send(command("s1", n)).await.expect("send");
    }
    drop(writer);
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("task ends")
        .expect("task did not panic");
    assert_eq!(store.session_events("s1").await.expect("events").len(), 100);
}

#[tokio::test]
async fn stopped_writer_refuses_ops() {
    let store = Arc::new(SqliteStore::open_in_memory().await.expect("open"));
    let (writer, task) = Writer::spawn(store, WriterConfig::default());
    task.abort();
    let _ = task.await;
    assert!(matches!(
        writer.send(start("s1", 0)).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        writer.flush().await,
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test]
async fn ops_sent_together_are_stored_in_order() {
    let sqlite = SqliteStore::open_in_memory().await.expect("open");
    let store = Arc::new(sqlite);
    let (writer, _task) = Writer::spawn(store.clone(), WriterConfig::default());
    writer.send(start("s9", 1_000)).await.expect("send");
    // More events than one INSERT statement carries.
    let mut ops: Vec<_> = (0..150).map(|i| command("s9", i)).collect();
    writer.send_all(&mut ops).await.expect("send_all");
    writer.flush().await.expect("flush");
    let events = store.session_events("s9").await.expect("events");
    assert_eq!(events.len(), 150);
    assert!(
        events.windows(2).all(|w| w[0].command.id < w[1].command.id),
        "order kept"
    );
}
