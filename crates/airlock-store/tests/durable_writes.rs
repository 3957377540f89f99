//! `Writer::commit`: answered when its batch has committed, without
//! sitting out the linger of what was queued before it, and refused (not
//! held) while the store fails, with nothing lost.

mod common;

use std::sync::Arc;
use std::time::Duration;

use airlock_store::writer::{Writer, WriterConfig};
use airlock_store::*;
use common::*;

#[tokio::test]
async fn a_durable_write_does_not_wait_out_the_linger_of_queued_records() {
    let sqlite = SqliteStore::open_in_memory().await.expect("open");
    let store = Arc::new(sqlite);
    // A linger far longer than the test may take: a commit that waited it
    // out would trip the timeout below.
    let config = WriterConfig {
        linger: Duration::from_secs(60),
        ..WriterConfig::default()
    };
    let (writer, _task) = Writer::spawn(store.clone(), config);
    writer.send(start("s1", 1_000)).await.expect("start");
    writer
        .record_all(&mut vec![outcome("s1", 0)])
        .await
        .expect("a buffered record that starts a lingering batch");
    tokio::time::sleep(Duration::from_millis(50)).await;
    tokio::time::timeout(
        Duration::from_secs(20),
        writer.commit(vec![command("s1", 1)]),
    )
    .await
    .expect("the durable write waited for the linger")
    .expect("commit");
    // Committed means readable, with what was queued before it.
    let events = store.session_events("s1").await.expect("events");
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(store.session("s1").await.expect("session").is_some());
}

#[tokio::test]
async fn a_failing_store_fails_the_durable_write_and_keeps_its_record() {
    let sqlite = SqliteStore::open_in_memory().await.expect("open");
    // The first 3 batches fail.
    let store = Arc::new(Faulty::new(sqlite, 3));
    let (writer, _task) = Writer::spawn(store.clone(), WriterConfig::default());
    writer.send(start("s1", 1_000)).await.expect("start");
    let failed = tokio::time::timeout(
        Duration::from_secs(20),
        writer.commit(vec![command("s1", 0)]),
    )
    .await
    .expect("a durable write was held while the store failed");
    assert!(
        matches!(failed, Err(StoreError::Unavailable(_))),
        "{failed:?}"
    );
    // While the store fails, durable writes are refused at once, and
    // their records kept: the caller records them as not forwarded.
    let refused_at_once = !writer.is_healthy();
    if refused_at_once {
        let refused = writer.commit(vec![command("s1", 1)]).await;
        assert!(
            matches!(refused, Err(StoreError::Unavailable(_))),
            "{refused:?}"
        );
    }
    // Outcomes are kept even now, and everything lands on recovery.
    writer
        .record_all(&mut vec![outcome("s1", 0)])
        .await
        .expect("outcome queued while failing");
    writer.flush().await.expect("flush after recovery");
    assert!(writer.is_healthy());
    let events = store.session_events("s1").await.expect("events");
    let commands: Vec<_> = events
        .iter()
        .map(|e| e.command.command.to_string())
        .collect();
    let expected = if refused_at_once {
        vec!["SELECT 0", "SELECT 1"]
    } else {
        vec!["SELECT 0"]
    };
    assert_eq!(commands, expected, "{events:?}");
    assert!(events[0].outcome.is_some(), "{events:?}");
    assert!(matches!(
        store.verify_audit().await,
        Ok(AuditVerification::Intact { .. })
    ));
}
