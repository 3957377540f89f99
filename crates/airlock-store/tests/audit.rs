//! The audit chain: what verification finds after each kind of tampering
//! (done with SQL on the file, as an intruder with the file would), and
//! what the read side returns.

mod common;

use std::path::{Path, PathBuf};

use airlock_store::*;
use common::*;
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Connection, Row};

struct Log {
    _dir: tempfile::TempDir,
    path: PathBuf,
    store: SqliteStore,
}

/// Three batches, as the writer would commit them: 13 records.
///
/// | seq | id                |
/// |-----|-------------------|
/// | 1   | s1/start          |
/// | 2-5 | s1-ev-00000, its outcome, s1-ev-00001, its outcome |
/// | 6   | s2/start          |
/// | 7-8 | s2-ev-00000, its outcome |
/// | 9   | s1-ev-00002 (no outcome) |
/// | 10  | s1/end            |
/// | 11-12 | s2-ev-00001, its outcome |
/// | 13  | s2/end            |
async fn log() -> Log {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("airlock.db");
    let store = SqliteStore::open(&path).await.expect("open");
    for batch in batches() {
        store.write_batch(&batch).await.expect("write");
    }
    Log {
        _dir: dir,
        path,
        store,
    }
}

fn batches() -> Vec<Vec<WriteOp>> {
    let mut s2_start = start("s2", 2_000);
    if let WriteOp::SessionStart(s) = &mut s2_start {
        s.identity = "bob".into();
        s.connection = "staging".into();
    }
    let bob = |op: WriteOp| match op {
        WriteOp::Command(mut c) => {
            c.identity = "bob".into();
            c.connection = "staging".into();
            WriteOp::Command(c)
        }
        WriteOp::Outcome(mut o) => {
            o.identity = "bob".into();
            o.connection = "staging".into();
            WriteOp::Outcome(o)
        }
        WriteOp::SessionEnd(mut e) => {
            e.identity = "bob".into();
            e.connection = "staging".into();
            WriteOp::SessionEnd(e)
        }
        other => other,
    };
    vec![
        vec![
            start("s1", 1_000),
            command("s1", 0),
            outcome("s1", 0),
            command("s1", 1),
            outcome("s1", 1),
        ],
        vec![
            s2_start,
            bob(command("s2", 0)),
            bob(outcome("s2", 0)),
            command("s1", 2),
            end("s1", 3),
        ],
        vec![
            bob(command("s2", 1)),
            bob(outcome("s2", 1)),
            bob(end("s2", 2)),
        ],
    ]
}

/// Runs SQL on the file through a connection of its own. The triggers that
/// stop honest mistakes are dropped first, as an intruder would.
async fn tamper(path: &Path, sql: &str) {
    let mut conn = raw_connection(path).await;
    let script = format!(
        "DROP TRIGGER IF EXISTS audit_log_no_update; \
         DROP TRIGGER IF EXISTS audit_log_no_delete; {sql}"
    );
    sqlx::raw_sql(AssertSqlSafe(script))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    conn.close().await.expect("close");
}

async fn broken(store: &SqliteStore) -> (u64, AuditProblem) {
    match store.verify_audit().await.expect("verify runs") {
        AuditVerification::Broken { verified, problem } => (verified, problem),
        intact => panic!("tampering went unnoticed: {intact:?}"),
    }
}

fn at_seq(seq: i64, id: &str) -> AuditRef {
    AuditRef { seq, id: id.into() }
}

#[tokio::test]
async fn several_batches_verify_and_the_tip_is_the_last_record() {
    let log = log().await;
    let verdict = log.store.verify_audit().await.expect("verify");
    let AuditVerification::Intact { records, last } = verdict else {
        panic!("{verdict:?}");
    };
    assert_eq!(records, 13);
    let last = last.expect("a tip");
    assert_eq!((last.seq, last.id.as_str()), (13, "s2/end"));

    let mut conn = raw_connection(&log.path).await;
    let rows = sqlx::query("SELECT seq, kind, id, at, session_id, identity, connection, body, prev_hash, hash FROM audit_log ORDER BY seq")
        .fetch_all(&mut conn)
        .await
        .expect("read");
    assert_eq!(rows.len(), 13);
    // Recomputed here from the documented encoding, not with the crate's
    // code: the stored chain must follow the documentation.
    let mut prev = vec![0u8; 32];
    for (n, row) in rows.iter().enumerate() {
        let seq: i64 = row.get("seq");
        assert_eq!(seq, n as i64 + 1, "seqs run 1..n without gaps");
        let stored_prev: Vec<u8> = row.get("prev_hash");
        assert_eq!(stored_prev, prev, "seq {seq} links to the one before");
        let hash = documented_hash(&prev, row);
        assert_eq!(row.get::<Vec<u8>, _>("hash"), hash, "hash of seq {seq}");
        prev = hash;
    }
    assert_eq!(hex::encode(&prev), last.hash);
    let kinds: Vec<String> = rows.iter().map(|r| r.get("kind")).collect();
    assert_eq!(
        kinds[..5],
        ["session.start", "command", "outcome", "command", "outcome"]
    );
    let body: String = rows[1].get("body");
    assert_eq!(
        body,
        r#"{"command":"SELECT 0","params":["0",null],"verdict":"allow","rules":[]}"#
    );
    let body: String = rows[2].get("body");
    assert_eq!(
        body,
        r#"{"event_id":"s1-ev-00000","duration_us":100,"rows":1,"bytes":10,"error":null,"preview":{"columns":["n"],"rows":[["0"]],"truncated":false}}"#
    );
    assert_eq!(rows[2].get::<String, _>("id"), "s1-ev-00000/outcome");
    conn.close().await.expect("close");
}

/// `docs/audit.md`: SHA-256 over the previous hash and
/// `{"kind":…,"id":…,"at":…,"session":…,"identity":…,"connection":…,"body":…}`.
fn documented_hash(prev: &[u8], row: &sqlx::sqlite::SqliteRow) -> Vec<u8> {
    let s = |c: &str| serde_json::to_string(&row.get::<String, _>(c)).expect("json string");
    let canonical = format!(
        r#"{{"kind":{},"id":{},"at":{},"session":{},"identity":{},"connection":{},"body":{}}}"#,
        s("kind"),
        s("id"),
        row.get::<i64, _>("at"),
        s("session_id"),
        s("identity"),
        s("connection"),
        row.get::<String, _>("body"),
    );
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical.as_bytes());
    h.finalize().to_vec()
}

#[tokio::test]
async fn an_empty_log_is_intact() {
    let store = SqliteStore::open_in_memory().await.expect("open");
    assert_eq!(
        store.verify_audit().await.expect("verify"),
        AuditVerification::Intact {
            records: 0,
            last: None
        }
    );
}

#[tokio::test]
async fn retrying_a_landed_batch_adds_nothing() {
    let log = log().await;
    let all = batches();
    // The last batch again, as after an uncertain commit, then an older one.
    log.store.write_batch(&all[2]).await.expect("retry last");
    log.store.write_batch(&all[0]).await.expect("retry first");
    let verdict = log.store.verify_audit().await.expect("verify");
    assert!(
        matches!(verdict, AuditVerification::Intact { records: 13, .. }),
        "{verdict:?}"
    );
    // And the chain goes on from where it was.
    log.store
        .write_batch(&[command("s3", 0)])
        .await
        .expect("write on");
    let verdict = log.store.verify_audit().await.expect("verify");
    assert!(
        matches!(&verdict, AuditVerification::Intact { records: 14, last: Some(t) } if t.seq == 14),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn a_batch_reusing_an_id_after_its_first_fails_whole() {
    let log = log().await;
    let result = log
        .store
        .write_batch(&[command("s3", 0), command("s1", 1)])
        .await;
    assert!(
        matches!(result, Err(StoreError::AlreadyExists(_))),
        "{result:?}"
    );
    let verdict = log.store.verify_audit().await.expect("verify");
    assert!(
        matches!(verdict, AuditVerification::Intact { records: 13, .. }),
        "nothing of the failed batch stayed: {verdict:?}"
    );
    // The store's connections still take batches after one failed.
    for n in 0..4 {
        log.store
            .write_batch(&[command("s3", n)])
            .await
            .expect("a batch after the failed one");
    }
    let verdict = log.store.verify_audit().await.expect("verify");
    assert!(
        matches!(verdict, AuditVerification::Intact { records: 17, .. }),
        "{verdict:?}"
    );
}

/// SQLite failing part way through a batch's records (here a trigger that
/// stands in for a full disk or an I/O error) fails the whole batch with
/// SQLite's own message, and the store goes on once the cause is gone.
#[tokio::test]
async fn a_batch_sqlite_refuses_part_way_fails_whole_and_says_why() {
    let log = log().await;
    let mut conn = raw_connection(&log.path).await;
    sqlx::raw_sql(
        "CREATE TRIGGER refuse_late BEFORE INSERT ON audit_log WHEN NEW.seq > 15 \
         BEGIN SELECT RAISE(ABORT, 'the disk is full, say'); END",
    )
    .execute(&mut conn)
    .await
    .expect("trigger");
    let batch: Vec<WriteOp> = (0..4).map(|n| command("s3", n)).collect();
    let result = log.store.write_batch(&batch).await;
    match &result {
        Err(e @ StoreError::Sqlite(message)) => {
            assert!(message.contains("the disk is full, say"), "{message}");
            assert!(e.to_string().starts_with("store database error"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    let verdict = log.store.verify_audit().await.expect("verify");
    assert!(
        matches!(verdict, AuditVerification::Intact { records: 13, .. }),
        "the two records before the refusal did not stay: {verdict:?}"
    );
    sqlx::raw_sql("DROP TRIGGER refuse_late")
        .execute(&mut conn)
        .await
        .expect("drop trigger");
    conn.close().await.expect("close");
    log.store
        .write_batch(&batch)
        .await
        .expect("the same batch, now");
    let verdict = log.store.verify_audit().await.expect("verify");
    assert!(
        matches!(verdict, AuditVerification::Intact { records: 17, .. }),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn a_new_batch_starting_with_a_reused_id_is_not_taken_for_a_retry() {
    let log = log().await;
    let result = log
        .store
        .write_batch(&[command("s1", 1), command("s3", 0)])
        .await;
    assert!(
        matches!(result, Err(StoreError::AlreadyExists(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn the_log_refuses_plain_updates_and_deletes() {
    let log = log().await;
    let mut conn = raw_connection(&log.path).await;
    for sql in [
        "UPDATE audit_log SET body = '{}' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 13",
    ] {
        let err = sqlx::query(AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    conn.close().await.expect("close");
}

#[tokio::test]
async fn a_deleted_record_is_missing_at_its_seq() {
    let log = log().await;
    tamper(&log.path, "DELETE FROM audit_log WHERE seq = 7").await;
    let (verified, problem) = broken(&log.store).await;
    assert_eq!(verified, 6);
    assert_eq!(
        problem,
        AuditProblem::Gap {
            first: 7,
            last: 7,
            next: at_seq(8, "s2-ev-00000/outcome"),
        }
    );
    assert_eq!(problem.kind(), "missing");
    assert_eq!(problem.seq(), 7);
    assert!(
        problem.to_string().starts_with("missing at seq 7:"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_deleted_first_record_is_missing_too() {
    let log = log().await;
    tamper(&log.path, "DELETE FROM audit_log WHERE seq = 1").await;
    let (verified, problem) = broken(&log.store).await;
    assert_eq!(verified, 0);
    assert_eq!((problem.kind(), problem.seq()), ("missing", 1));
}

#[tokio::test]
async fn a_deletion_hidden_by_renumbering_is_missing_at_the_next_link() {
    let log = log().await;
    tamper(
        &log.path,
        "DELETE FROM audit_log WHERE seq = 7; \
         UPDATE audit_log SET seq = seq - 1 WHERE seq > 7;",
    )
    .await;
    let (verified, problem) = broken(&log.store).await;
    assert_eq!(verified, 6);
    assert!(
        matches!(&problem, AuditProblem::UnknownLink { record, .. }
            if *record == at_seq(7, "s2-ev-00000/outcome")),
        "{problem:?}"
    );
    assert_eq!(problem.kind(), "missing");
}

#[tokio::test]
async fn an_edited_body_is_altered_at_its_seq() {
    let log = log().await;
    tamper(
        &log.path,
        "UPDATE audit_log SET body = replace(body, 'SELECT 1', 'SELECT 2') WHERE seq = 4",
    )
    .await;
    let (verified, problem) = broken(&log.store).await;
    assert_eq!(verified, 3);
    assert!(
        matches!(&problem, AuditProblem::Altered { record, .. }
            if *record == at_seq(4, "s1-ev-00001")),
        "{problem:?}"
    );
    assert!(
        problem
            .to_string()
            .starts_with("altered at seq 4 (id s1-ev-00001):"),
        "{problem}"
    );
}

#[tokio::test]
async fn an_edited_column_outside_the_body_is_altered_too() {
    let log = log().await;
    tamper(
        &log.path,
        "UPDATE audit_log SET identity = 'mallory' WHERE seq = 9",
    )
    .await;
    let (_, problem) = broken(&log.store).await;
    assert_eq!((problem.kind(), problem.seq()), ("altered", 9));
}

#[tokio::test]
async fn a_value_of_the_wrong_type_is_altered_not_an_error() {
    let log = log().await;
    tamper(
        &log.path,
        "UPDATE audit_log SET body = x'00ff' WHERE seq = 5",
    )
    .await;
    let (_, problem) = broken(&log.store).await;
    assert_eq!((problem.kind(), problem.seq()), ("altered", 5));
}

#[tokio::test]
async fn swapped_records_are_reordered() {
    let log = log().await;
    tamper(
        &log.path,
        "UPDATE audit_log SET seq = -1 WHERE seq = 9; \
         UPDATE audit_log SET seq = 9 WHERE seq = 10; \
         UPDATE audit_log SET seq = 10 WHERE seq = -1;",
    )
    .await;
    let (verified, problem) = broken(&log.store).await;
    assert_eq!(verified, 8);
    assert_eq!(
        problem,
        AuditProblem::Reordered {
            record: at_seq(9, "s1/end"),
            links_to: at_seq(10, "s1-ev-00002"),
            predecessor: Some(at_seq(8, "s2-ev-00000/outcome")),
        }
    );
    assert_eq!(
        problem.to_string(),
        "reordered at seq 9 (id s1/end): it links to seq 10 (id s1-ev-00002), \
         not to the record before it, seq 8 (id s2-ev-00000/outcome)"
    );
}

#[tokio::test]
async fn an_edit_with_a_recomputed_hash_is_caught_at_the_next_link() {
    let log = log().await;
    tamper(
        &log.path,
        "UPDATE audit_log SET body = replace(body, 'SELECT 1', 'SELECT 2') WHERE seq = 4",
    )
    .await;
    // Give the edited record the hash its new content calls for.
    let mut conn = raw_connection(&log.path).await;
    let row = sqlx::query("SELECT kind, id, at, session_id, identity, connection, body, prev_hash FROM audit_log WHERE seq = 4")
        .fetch_one(&mut conn)
        .await
        .expect("read");
    let prev: Vec<u8> = row.get("prev_hash");
    let rehashed = documented_hash(&prev, &row);
    sqlx::query("UPDATE audit_log SET hash = ? WHERE seq = 4")
        .bind(rehashed)
        .execute(&mut conn)
        .await
        .expect("rehash");
    conn.close().await.expect("close");

    let (verified, problem) = broken(&log.store).await;
    assert_eq!(verified, 4, "the rehashed record itself checks out");
    assert!(
        matches!(&problem, AuditProblem::UnknownLink { record, .. }
            if *record == at_seq(5, "s1-ev-00001/outcome")),
        "{problem:?}"
    );
}

#[tokio::test]
async fn session_events_join_outcomes_in_order() {
    let log = log().await;
    let events = log.store.session_events("s1").await.expect("events");
    let ids: Vec<_> = events.iter().map(|e| e.command.id.as_str()).collect();
    assert_eq!(ids, ["s1-ev-00000", "s1-ev-00001", "s1-ev-00002"]);
    assert_eq!(events[1].outcome, Some(outcome_record("s1", 1)));
    assert_eq!(events[2].outcome, None);
    assert!(
        log.store
            .session_events("nope")
            .await
            .expect("events")
            .is_empty()
    );
}

async fn export(store: &SqliteStore, filter: &AuditFilter) -> Vec<AuditLine> {
    let mut lines = Vec::new();
    let n = store
        .export_audit(filter, &mut |line| {
            lines.push(line.clone());
            Ok(())
        })
        .await
        .expect("export");
    assert_eq!(n, lines.len() as u64);
    lines
}

#[tokio::test]
async fn export_streams_commands_with_outcomes_and_session_records() {
    let log = log().await;
    let lines = export(&log.store, &AuditFilter::default()).await;
    let seqs: Vec<_> = lines.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, [1, 2, 4, 6, 7, 9, 10, 11, 13], "no outcome lines");

    let first_command = &lines[1];
    assert_eq!(first_command.kind, AuditKind::Command);
    assert_eq!(first_command.command.as_deref(), Some("SELECT 0"));
    assert_eq!(
        first_command.params,
        Some(vec![Some("0".to_string()), None])
    );
    assert_eq!(first_command.reviewers, Some(vec![]));
    let outcome = first_command.outcome.as_ref().expect("joined outcome");
    assert_eq!(outcome.seq, 3);
    assert_eq!(outcome.rows, 1);
    assert_eq!(outcome.hash.len(), 64);
    assert_eq!(first_command.hash.len(), 64);
    assert_eq!(outcome.prev_hash, first_command.hash, "consecutive records");
    assert!(lines[5].outcome.is_none(), "s1-ev-00002 never finished");
    assert_eq!(
        lines[0].detail,
        Some(SessionDetail::Start {
            protocol: "postgres".into(),
            client_addr: "127.0.0.1:5555".into()
        })
    );
    assert!(matches!(
        lines[6].detail,
        Some(SessionDetail::End { commands: 3, .. })
    ));

    let json = serde_json::to_value(first_command).expect("json");
    assert_eq!(json["kind"], "command");
    assert_eq!(json["at"], "2023-11-14T22:13:20.000Z");
    assert_eq!(json["outcome"]["preview"]["rows"][0][0], "0");
}

#[tokio::test]
async fn export_filters_by_identity_connection_and_time() {
    let log = log().await;
    let bob = export(
        &log.store,
        &AuditFilter {
            identity: Some("bob".into()),
            ..AuditFilter::default()
        },
    )
    .await;
    let seqs: Vec<_> = bob.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, [6, 7, 11, 13]);

    let staging = export(
        &log.store,
        &AuditFilter {
            connection: Some("staging".into()),
            ..AuditFilter::default()
        },
    )
    .await;
    assert_eq!(staging.len(), 4);

    // Session starts are at 1 000 and 2 000 ms; everything else later.
    let window = export(
        &log.store,
        &AuditFilter {
            since: Some(at(1_000)),
            until: Some(at(2_000)),
            ..AuditFilter::default()
        },
    )
    .await;
    let seqs: Vec<_> = window.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, [1], "since inclusive, until exclusive");
}

#[tokio::test]
async fn a_failing_sink_stops_the_export() {
    let log = log().await;
    let mut calls = 0;
    let result = log
        .store
        .export_audit(&AuditFilter::default(), &mut |_| {
            calls += 1;
            Err(std::io::Error::other("disk full"))
        })
        .await;
    assert!(matches!(result, Err(StoreError::Output(_))), "{result:?}");
    assert_eq!(calls, 1);
}

fn finished(session: &str, n: usize) -> WriteOp {
    WriteOp::Finished(Box::new(FinishedCommand {
        command: command_record(session, n),
        outcome: outcome_record(session, n),
        then: Vec::new(),
    }))
}

/// A command written with its outcome is one record that readers take
/// apart again; the outcome's own op, replayed from a spool frame that
/// held it alone, is recognised as already in the log.
#[tokio::test]
async fn a_command_recorded_with_its_outcome_is_one_record_read_as_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("airlock.db"))
        .await
        .expect("open");
    store
        .write_batch(&[start("s1", 1_000), finished("s1", 0), command("s1", 1)])
        .await
        .expect("write");
    let count = |v: AuditVerification| match v {
        AuditVerification::Intact { records, .. } => records,
        broken => panic!("{broken:?}"),
    };
    assert_eq!(count(store.verify_audit().await.expect("verify")), 3);

    let events = store.session_events("s1").await.expect("events");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].command, command_record("s1", 0));
    assert_eq!(events[0].outcome, Some(outcome_record("s1", 0)));
    assert_eq!(events[1].outcome, None);

    let lines = export(&store, &AuditFilter::default()).await;
    let first = &lines[1];
    let carried = first.outcome.as_ref().expect("outcome in the line");
    assert_eq!((carried.seq, carried.rows), (first.seq, 1));
    assert_eq!(carried.hash, first.hash, "the same record");
    assert_eq!(carried.at, outcome_record("s1", 0).at);

    // As a replay would write the frames the writer's filler paired: the
    // outcome alone, then a frame that starts with it.
    store
        .write_batch(&[outcome("s1", 0)])
        .await
        .expect("replayed outcome");
    store
        .write_batch(&[outcome("s1", 0), command("s1", 1)])
        .await
        .expect("replayed frame");
    assert_eq!(
        count(store.verify_audit().await.expect("verify")),
        3,
        "nothing written twice"
    );
    // An outcome of a command recorded without one is a record of its own.
    store
        .write_batch(&[outcome("s1", 1)])
        .await
        .expect("outcome");
    assert_eq!(count(store.verify_audit().await.expect("verify")), 4);
    let events = store.session_events("s1").await.expect("events");
    assert_eq!(events[1].outcome, Some(outcome_record("s1", 1)));
}

/// A command record whose body is no longer JSON (damage, or an edit) does
/// not stop the writer: the check for an outcome inside it finds none, the
/// outcome is written as a record of its own, and `verify` names the edit.
#[tokio::test]
async fn a_damaged_command_body_does_not_stop_later_batches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("airlock.db");
    let store = SqliteStore::open(&path).await.expect("open");
    store
        .write_batch(&[start("s1", 1_000), finished("s1", 0)])
        .await
        .expect("write");
    tamper(
        &path,
        "UPDATE audit_log SET body = 'not json' WHERE seq = 2",
    )
    .await;
    store
        .write_batch(&[outcome("s1", 0)])
        .await
        .expect("a batch after the damage");
    let (_, problem) = broken(&store).await;
    assert!(
        matches!(&problem, AuditProblem::Altered { record, .. } if record.seq == 2),
        "{problem:?}"
    );
}

/// A batch goes in as statements of 128, 64, … 1 records: every length
/// lands whole, in the order the ops were queued, and chains.
#[tokio::test]
async fn batches_of_any_length_land_whole_and_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("airlock.db");
    let store = SqliteStore::open(&path).await.expect("open");
    let mut queued = Vec::new();
    let mut n = 0;
    for length in [1, 2, 3, 7, 127, 128, 129, 255, 300] {
        let batch: Vec<WriteOp> = (n..n + length).map(|i| command("s1", i)).collect();
        n += length;
        queued.extend(batch.iter().map(|op| match op {
            WriteOp::Command(c) => c.id.clone(),
            other => panic!("{other:?}"),
        }));
        store.write_batch(&batch).await.expect("write");
    }
    match store.verify_audit().await.expect("verify") {
        AuditVerification::Intact { records, .. } => assert_eq!(records, n as u64),
        broken => panic!("{broken:?}"),
    }
    let mut conn = raw_connection(&path).await;
    let stored: Vec<String> = sqlx::query_scalar("SELECT id FROM audit_log ORDER BY seq")
        .fetch_all(&mut conn)
        .await
        .expect("read");
    assert_eq!(stored, queued);
    conn.close().await.expect("close");
}

/// A session's finished commands carried in one record (a run, as the
/// writer's filler makes for records held in memory): readers take them
/// apart again into commands with their outcomes, each export line names
/// its own command and the record's seq and hashes, a retried batch is
/// recognised, and an edit of a later command inside the record is
/// found by `verify`.
#[tokio::test]
async fn a_run_of_finished_commands_is_one_record_read_as_each_of_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("airlock.db");
    let store = SqliteStore::open(&path).await.expect("open");
    // The third command of s1 ran after a review, as the gateway records it.
    let reviewed = |session: &str, n: usize| {
        let mut c = command_record(session, n);
        if (session, n) == ("s1", 2) {
            c.verdict = "review".into();
            c.review = Some(Box::new(ReviewRef {
                id: Some("rv-1".into()),
                state: "approved".into(),
                by: vec!["dana".into()],
                grant: None,
            }));
        }
        c
    };
    let run = |session: &str, from: usize, to: usize| {
        WriteOp::Finished(Box::new(FinishedCommand {
            command: reviewed(session, from),
            outcome: outcome_record(session, from),
            then: (from + 1..to)
                .map(|n| FinishedCommand {
                    command: reviewed(session, n),
                    outcome: outcome_record(session, n),
                    then: Vec::new(),
                })
                .collect(),
        }))
    };
    let batch = [
        start("s1", 1_000),
        start("s2", 1_000),
        run("s1", 0, 3),
        run("s2", 0, 2),
        command("s1", 3),
    ];
    store.write_batch(&batch).await.expect("write");
    let count = |v: AuditVerification| match v {
        AuditVerification::Intact { records, .. } => records,
        broken => panic!("{broken:?}"),
    };
    assert_eq!(count(store.verify_audit().await.expect("verify")), 5);
    store.write_batch(&batch).await.expect("retried batch");
    assert_eq!(
        count(store.verify_audit().await.expect("verify")),
        5,
        "nothing written twice"
    );

    let events = store.session_events("s1").await.expect("events");
    let commands: Vec<&CommandRecord> = events.iter().map(|e| &e.command).collect();
    let expected: Vec<CommandRecord> = (0..4).map(|n| reviewed("s1", n)).collect();
    assert_eq!(commands, expected.iter().collect::<Vec<_>>());
    for (n, e) in events.iter().enumerate().take(3) {
        assert_eq!(e.outcome, Some(outcome_record("s1", n)), "outcome of {n}");
    }
    assert_eq!(events[3].outcome, None);
    assert_eq!(store.session_events("s2").await.expect("s2").len(), 2);

    let lines = export(&store, &AuditFilter::default()).await;
    let ids: Vec<&str> = lines.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "s1/start",
            "s2/start",
            &command_record("s1", 0).id,
            &command_record("s1", 1).id,
            &command_record("s1", 2).id,
            &command_record("s2", 0).id,
            &command_record("s2", 1).id,
            &command_record("s1", 3).id,
        ]
    );
    let later = &lines[4];
    assert_eq!((later.seq, &later.hash), (lines[2].seq, &lines[2].hash));
    assert_eq!(
        later.command.as_deref(),
        Some(&*command_record("s1", 2).command)
    );
    let outcome = later.outcome.as_ref().expect("outcome");
    assert_eq!(
        (outcome.seq, outcome.rows),
        (later.seq, outcome_record("s1", 2).rows)
    );
    assert_eq!(later.at, command_record("s1", 2).at);
    assert_eq!(later.verdict.as_deref(), Some("review"));
    assert_eq!(later.reviewers.as_deref(), Some(&["dana".to_string()][..]));
    assert_eq!(
        later.review.as_ref().and_then(|r| r.id.as_deref()),
        Some("rv-1")
    );

    tamper(
        &path,
        "UPDATE audit_log SET body = replace(body, 'SELECT 2', 'SELECT 7') WHERE seq = 3",
    )
    .await;
    let (_, problem) = broken(&store).await;
    assert!(
        matches!(&problem, AuditProblem::Altered { record, .. } if record.seq == 3),
        "{problem:?}"
    );

    // A command of a run always carries its outcome; readers refuse one
    // without rather than show it as still running.
    tamper(
        &path,
        "UPDATE audit_log SET body = json_remove(body, '$.then[0].outcome') WHERE seq = 3",
    )
    .await;
    let read = store.session_events("s1").await;
    assert!(
        matches!(&read, Err(StoreError::Corrupt(why)) if why.contains("without its outcome")),
        "{read:?}"
    );
    // Nor one that nests a run: its commands would go unseen.
    tamper(
        &path,
        "UPDATE audit_log SET body = json_set(body, '$.then[0]', \
         json_set(json_extract(body, '$.then[1]'), '$.then', \
                  json_array(json(json_extract(body, '$.then[1]'))))) WHERE seq = 3",
    )
    .await;
    let read = store.session_events("s1").await;
    assert!(
        matches!(&read, Err(StoreError::Corrupt(why)) if why.contains("run of its own")),
        "{read:?}"
    );
}

/// `--since` and `--until` keep each command of a run by its own time,
/// not the time of the record that carries it (its first command's).
#[tokio::test]
async fn an_export_by_time_keeps_each_command_of_a_run_by_its_own_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("airlock.db"))
        .await
        .expect("open");
    let base = 1_700_000_000_000;
    let issued = |n: usize, ms: i64| {
        let mut c = command_record("s1", n);
        c.at = at(ms);
        FinishedCommand {
            command: c,
            outcome: outcome_record("s1", n),
            then: Vec::new(),
        }
    };
    let mut run = issued(1, base + 100);
    run.then = vec![issued(2, base + 300), issued(3, base + 700)];
    store
        .write_batch(&[
            start("s1", base - 5_000),
            WriteOp::Finished(Box::new(issued(0, base - 2_000))),
            WriteOp::Finished(Box::new(run)),
        ])
        .await
        .expect("write");
    let ids = |since: Option<i64>, until: Option<i64>| {
        let store = &store;
        async move {
            let filter = AuditFilter {
                since: since.map(at),
                until: until.map(at),
                ..AuditFilter::default()
            };
            export(store, &filter)
                .await
                .into_iter()
                .map(|l| l.id)
                .collect::<Vec<_>>()
        }
    };
    let id = |n: usize| command_record("s1", n).id;
    assert_eq!(ids(Some(base + 200), None).await, [id(2), id(3)]);
    assert_eq!(ids(Some(base + 700), None).await, [id(3)]);
    assert!(ids(Some(base + 701), None).await.is_empty());
    assert_eq!(
        ids(None, Some(base + 300)).await,
        ["s1/start".to_string(), id(0), id(1)]
    );
    assert_eq!(
        ids(Some(base - 2_000), Some(base + 301)).await,
        [id(0), id(1), id(2)]
    );
}
