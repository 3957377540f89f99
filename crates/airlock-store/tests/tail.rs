//! What the audit sinks read: every chain record after a position, each
//! one standing on its own, and the positions the sinks have reached.

mod common;

use airlock_store::*;
use common::*;
use sha2::{Digest, Sha256};

use sqlx::{AssertSqlSafe, Connection};

async fn filled() -> (tempfile::TempDir, std::path::PathBuf, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("airlock.db");
    let store = SqliteStore::open(&path).await.expect("open");
    let batches = vec![
        vec![
            start("s1", 1_000),
            command("s1", 0),
            outcome("s1", 0),
            command("s1", 1),
        ],
        vec![outcome("s1", 1), end("s1", 2)],
    ];
    for batch in batches {
        store.write_batch(&batch).await.expect("write");
    }
    (dir, path, store)
}

/// A line as a receiver that checks hashes reads it: the body taken as
/// the text it arrived as (a map would sort its keys).
#[derive(serde::Deserialize)]
struct Received<'a> {
    kind: String,
    id: String,
    at: String,
    session: String,
    identity: String,
    connection: String,
    #[serde(borrow)]
    body: &'a serde_json::value::RawValue,
    prev_hash: String,
}

/// The hash recomputed from a serialised line alone, as `docs/audit.md`
/// says, with `at` turned back into unix milliseconds.
fn hash_from_line(line: &str) -> String {
    let r: Received<'_> = serde_json::from_str(line).expect("a record line");
    let s = |v: &str| serde_json::to_string(v).expect("json");
    let at = chrono::DateTime::parse_from_rfc3339(&r.at)
        .expect("rfc 3339")
        .timestamp_millis();
    let canonical = format!(
        r#"{{"kind":{},"id":{},"at":{at},"session":{},"identity":{},"connection":{},"body":{}}}"#,
        s(&r.kind),
        s(&r.id),
        s(&r.session),
        s(&r.identity),
        s(&r.connection),
        r.body.get(),
    );
    let mut h = Sha256::new();
    h.update(hex::decode(&r.prev_hash).expect("hex"));
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

#[tokio::test]
async fn every_record_comes_back_in_order_and_verifiable_on_its_own() {
    let (_dir, _path, store) = filled().await;
    let records = store.audit_records_after(0, 100).await.expect("tail");
    let kinds: Vec<_> = records.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "session.start",
            "command",
            "outcome",
            "command",
            "outcome",
            "session.end"
        ]
    );
    let mut prev = "0".repeat(64);
    for (n, r) in records.iter().enumerate() {
        assert_eq!(r.seq, n as i64 + 1);
        assert_eq!(r.prev_hash, prev, "seq {} links to the one before", r.seq);
        prev = r.hash.clone();
    }
    // The outcome's body keeps the stored key order (`event_id` first),
    // which a re-encoding through a map would have sorted away.
    let line = serde_json::to_string(&records[2]).expect("serialise");
    assert!(
        line.contains(r#""body":{"event_id":"s1-ev-00000","duration_us":100"#),
        "{line}"
    );
    assert!(
        line.contains(r#""at":"2023-11-14T22:13:20.001Z""#),
        "{line}"
    );
    for r in &records {
        let line = serde_json::to_string(r).expect("serialise");
        assert_eq!(hash_from_line(&line), r.hash, "seq {}", r.seq);
    }
}

#[tokio::test]
async fn pages_follow_the_cursor_and_stop_at_the_tip() {
    let (_dir, _path, store) = filled().await;
    let first = store.audit_records_after(0, 4).await.expect("tail");
    assert_eq!(
        first.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    let rest = store.audit_records_after(4, 4).await.expect("tail");
    assert_eq!(rest.iter().map(|r| r.seq).collect::<Vec<_>>(), [5, 6]);
    assert!(
        store
            .audit_records_after(6, 4)
            .await
            .expect("tail")
            .is_empty()
    );
    assert!(
        store
            .audit_records_after(100, 4)
            .await
            .expect("tail")
            .is_empty()
    );
}

#[tokio::test]
async fn a_kind_this_code_does_not_know_passes_through_with_its_body() {
    let (_dir, path, store) = filled().await;
    // Kinds added by later versions are written by their own code; the
    // CHECK of this schema is bypassed to stand in for one.
    let mut conn = raw_connection(&path).await;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "PRAGMA ignore_check_constraints = ON; \
         INSERT INTO audit_log (seq, kind, id, at, session_id, identity, connection, body, \
         prev_hash, hash) VALUES (7, 'checkpoint.future', 'cp/1', 5, '', '', '', \
         '{{\"z\":1,\"a\":[true]}}', x'{}', x'{}')",
        "00".repeat(32),
        "11".repeat(32)
    )))
    .execute(&mut conn)
    .await
    .expect("insert");
    conn.close().await.expect("close");
    let records = store.audit_records_after(6, 10).await.expect("tail");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].kind, "checkpoint.future");
    assert_eq!(records[0].body.get(), r#"{"z":1,"a":[true]}"#);
}

#[tokio::test]
async fn cursors_start_at_zero_and_keep_what_was_set_per_name() {
    let store = SqliteStore::open_in_memory().await.expect("open");
    assert_eq!(store.sink_cursor("file:/a").await.expect("cursor"), 0);
    store.set_sink_cursor("file:/a", 7).await.expect("set");
    store
        .set_sink_cursor("webhook:http://h/", 3)
        .await
        .expect("set");
    store.set_sink_cursor("file:/a", 9).await.expect("set");
    assert_eq!(store.sink_cursor("file:/a").await.expect("cursor"), 9);
    assert_eq!(
        store
            .sink_cursor("webhook:http://h/")
            .await
            .expect("cursor"),
        3
    );
}

#[tokio::test]
async fn cursors_survive_reopening_the_file() {
    let (_dir, path, store) = filled().await;
    store.set_sink_cursor("file:/a", 5).await.expect("set");
    store.close().await;
    let again = SqliteStore::open(&path).await.expect("reopen");
    assert_eq!(again.sink_cursor("file:/a").await.expect("cursor"), 5);
}
