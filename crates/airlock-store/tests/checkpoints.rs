//! Signed checkpoints and retention: what verification finds when
//! checkpoints, anchors or the chain behind them are tampered with (SQL on
//! the file, as an intruder with the file would do it), and pruning behind
//! an anchor.

mod common;

use std::path::{Path, PathBuf};

use airlock_store::*;
use chrono::{DateTime, Duration, Utc};
use common::*;
use ring::signature::{ED25519, UnparsedPublicKey};
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, Connection, Row};

struct Log {
    _dir: tempfile::TempDir,
    path: PathBuf,
    store: SqliteStore,
    key: CheckpointKey,
}

/// 13 records, all from November 2023 (as in `audit.rs`): s1 and s2, both
/// ended.
async fn log() -> Log {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("airlock.db");
    let store = SqliteStore::open(&path).await.expect("open");
    let batches = vec![
        vec![
            start("s1", 1_000),
            command("s1", 0),
            outcome("s1", 0),
            command("s1", 1),
            outcome("s1", 1),
        ],
        vec![start("s2", 2_000), command("s2", 0), outcome("s2", 0)],
        vec![command("s1", 2), end("s1", 3), command("s2", 1)],
        vec![outcome("s2", 1), end("s2", 2)],
    ];
    for batch in batches {
        store.write_batch(&batch).await.expect("write");
    }
    let (key, _) = CheckpointKey::generate().expect("key");
    Log {
        _dir: dir,
        path,
        store,
        key,
    }
}

/// A session of today, still open: a start and a command.
fn recent(session: &str) -> Vec<WriteOp> {
    let now = Utc::now();
    let WriteOp::SessionStart(mut s) = start(session, 0) else {
        unreachable!("start() builds a session start")
    };
    s.started_at = now;
    let mut c = command_record(session, 0);
    c.at = now;
    vec![WriteOp::SessionStart(s), WriteOp::Command(c)]
}

/// After every record of `log()`.
fn late() -> DateTime<Utc> {
    at(1_700_000_200_000)
}

/// Runs SQL on the file with the guard triggers dropped, as an intruder
/// would.
async fn tamper(path: &Path, sql: &str) {
    let mut conn = raw_connection(path).await;
    let script = format!(
        "DROP TRIGGER IF EXISTS audit_log_no_update; \
         DROP TRIGGER IF EXISTS audit_log_no_delete; \
         DROP TRIGGER IF EXISTS audit_checkpoint_no_update; \
         DROP TRIGGER IF EXISTS audit_checkpoint_no_delete; {sql}"
    );
    sqlx::raw_sql(AssertSqlSafe(script))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    conn.close().await.expect("close");
}

async fn report(log: &Log) -> AuditReport {
    log.store
        .verify_audit_checkpoints(&[log.key.public_key()])
        .await
        .expect("verify runs")
}

async fn problem(log: &Log) -> AuditProblem {
    match report(log).await.verification {
        AuditVerification::Broken { problem, .. } => problem,
        intact => panic!("tampering went unnoticed: {intact:?}"),
    }
}

async fn checkpoint(log: &Log) -> Checkpoint {
    log.store
        .write_checkpoint(&log.key, late())
        .await
        .expect("write checkpoint")
        .expect("records were added since the last checkpoint")
}

#[tokio::test]
async fn a_checkpoint_signs_the_tip_and_verifies() {
    let log = log().await;
    let c = checkpoint(&log).await;
    assert_eq!(
        (c.purpose, c.seq, c.record_seq),
        (CheckpointPurpose::Checkpoint, 13, 14)
    );
    assert_eq!(c.at, late());
    assert!(
        log.store
            .write_checkpoint(&log.key, late())
            .await
            .expect("write")
            .is_none(),
        "nothing but the checkpoint was added since"
    );

    let r = report(&log).await;
    assert!(r.chain_intact);
    assert_eq!(r.checkpoints, 1);
    assert_eq!(r.latest.as_ref().map(|c| c.seq), Some(13));
    let AuditVerification::Intact { records, last } = r.verification else {
        panic!("{:?}", r.verification);
    };
    assert_eq!(records, 14);
    assert_eq!(last.map(|t| t.id), Some("checkpoint/13".to_string()));

    // The signature, checked here from the documented message alone.
    let mut conn = raw_connection(&log.path).await;
    let row = sqlx::query("SELECT seq, hash, at, public_key, signature FROM audit_checkpoint")
        .fetch_one(&mut conn)
        .await
        .expect("the checkpoint row");
    let tip: Vec<u8> = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = 13")
        .fetch_one(&mut conn)
        .await
        .expect("seq 13");
    let hash: Vec<u8> = row.get("hash");
    assert_eq!(hash, tip);
    let message = format!(
        "airlock-audit-checkpoint v1\n{}\n{}\n{}",
        row.get::<i64, _>("seq"),
        hex::encode(&hash),
        row.get::<i64, _>("at")
    );
    let public_key: Vec<u8> = row.get("public_key");
    assert_eq!(public_key, log.key.public_key().as_bytes());
    UnparsedPublicKey::new(&ED25519, &public_key)
        .verify(message.as_bytes(), &row.get::<Vec<u8>, _>("signature"))
        .expect("the signature verifies over the documented message");

    // And the chain record carries the same, keys in the documented order.
    let record = sqlx::query("SELECT kind, id, session_id, body FROM audit_log WHERE seq = 14")
        .fetch_one(&mut conn)
        .await
        .expect("seq 14");
    assert_eq!(record.get::<String, _>("kind"), "checkpoint");
    assert_eq!(record.get::<String, _>("session_id"), "");
    let body: String = record.get("body");
    assert_eq!(
        body,
        format!(
            r#"{{"purpose":"checkpoint","seq":13,"hash":"{}","public_key":"{}","signature":"{}"}}"#,
            hex::encode(&hash),
            log.key.public_key(),
            hex::encode(row.get::<Vec<u8>, _>("signature"))
        )
    );
    conn.close().await.expect("close");
}

#[tokio::test]
async fn checkpoints_follow_new_records_and_reach_the_export() {
    let log = log().await;
    checkpoint(&log).await;
    log.store.write_batch(&recent("s3")).await.expect("write");
    let c = checkpoint(&log).await;
    assert_eq!((c.seq, c.record_seq), (16, 17));
    let r = report(&log).await;
    assert_eq!(r.checkpoints, 2);
    assert_eq!(r.latest.map(|c| c.seq), Some(16));

    let mut lines = Vec::new();
    log.store
        .export_audit(&AuditFilter::default(), &mut |l| {
            lines.push(l.clone());
            Ok(())
        })
        .await
        .expect("export");
    let last = lines.last().expect("lines");
    assert_eq!((last.kind, last.seq), (AuditKind::Checkpoint, 17));
    assert!(
        matches!(&last.detail, Some(SessionDetail::Checkpoint(b)) if b.seq == 16),
        "{last:?}"
    );
    let json = serde_json::to_value(last).expect("json");
    assert_eq!(json["kind"], "checkpoint");
    assert_eq!(json["detail"]["purpose"], "checkpoint");
}

#[tokio::test]
async fn a_tampered_signature_is_forged() {
    let log = log().await;
    checkpoint(&log).await;
    tamper(
        &log.path,
        "UPDATE audit_checkpoint SET signature = zeroblob(64)",
    )
    .await;
    let p = problem(&log).await;
    assert!(
        matches!(&p, AuditProblem::Checkpoint { fault: CheckpointFault::BadSignature { .. }, checkpoint } if checkpoint.seq == 13),
        "{p:?}"
    );
    assert_eq!(p.kind(), "forged");
    assert!(
        p.to_string()
            .starts_with("forged: checkpoint at 2023-11-14T22:16:40.000Z (record seq 14):"),
        "{p}"
    );
}

#[tokio::test]
async fn a_tampered_hash_breaks_the_signature_too() {
    let log = log().await;
    checkpoint(&log).await;
    tamper(&log.path, "UPDATE audit_checkpoint SET hash = zeroblob(32)").await;
    let p = problem(&log).await;
    assert!(
        matches!(
            &p,
            AuditProblem::Checkpoint {
                fault: CheckpointFault::BadSignature { .. },
                ..
            }
        ),
        "{p:?}"
    );
}

#[tokio::test]
async fn a_key_other_than_the_trusted_one_is_forged() {
    let log = log().await;
    checkpoint(&log).await;
    let (other, _) = CheckpointKey::generate().expect("key");
    let r = log
        .store
        .verify_audit_checkpoints(&[other.public_key()])
        .await
        .expect("verify");
    let AuditVerification::Broken { problem, .. } = r.verification else {
        panic!("{:?}", r.verification);
    };
    assert!(
        matches!(&problem, AuditProblem::Checkpoint { fault: CheckpointFault::UntrustedKey { key }, .. } if *key == log.key.public_key()),
        "{problem:?}"
    );
    // Without a trusted key any valid signature passes.
    let r = log
        .store
        .verify_audit_checkpoints(&[])
        .await
        .expect("verify");
    assert!(matches!(r.verification, AuditVerification::Intact { .. }));
}

/// The chain's hashes are recomputed from `from_seq` on after an edit, as
/// someone who knows the (public) hash would do: the chain links up again.
async fn rewrite_from(path: &Path, from_seq: i64) {
    let mut conn = raw_connection(path).await;
    let rows = sqlx::query(
        "SELECT seq, kind, id, at, session_id, identity, connection, body, prev_hash \
         FROM audit_log WHERE seq >= ? ORDER BY seq",
    )
    .bind(from_seq)
    .fetch_all(&mut conn)
    .await
    .expect("read");
    let mut prev: Vec<u8> = rows[0].get("prev_hash");
    for row in &rows {
        let s = |c: &str| serde_json::to_string(&row.get::<String, _>(c)).expect("json");
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
        let hash = Sha256::new()
            .chain_update(&prev)
            .chain_update(canonical.as_bytes())
            .finalize()
            .to_vec();
        sqlx::query("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?")
            .bind(&prev)
            .bind(&hash)
            .bind(row.get::<i64, _>("seq"))
            .execute(&mut conn)
            .await
            .expect("rehash");
        prev = hash;
    }
    conn.close().await.expect("close");
}

#[tokio::test]
async fn a_rewritten_chain_no_longer_has_the_signed_hash() {
    let log = log().await;
    checkpoint(&log).await;
    tamper(
        &log.path,
        "UPDATE audit_log SET body = replace(body, 'SELECT 1', 'SELECT 9') WHERE seq = 4",
    )
    .await;
    rewrite_from(&log.path, 4).await;
    let p = problem(&log).await;
    assert!(
        matches!(&p, AuditProblem::Checkpoint { fault: CheckpointFault::HashMismatch { .. }, checkpoint } if checkpoint.seq == 13),
        "{p:?}"
    );
    assert_eq!((p.kind(), p.seq()), ("rewritten", 13));
    assert!(
        p.to_string()
            .starts_with("rewritten at seq 13: checkpoint at "),
        "{p}"
    );
}

#[tokio::test]
async fn a_cut_tail_is_truncated_even_when_it_links_up() {
    let log = log().await;
    checkpoint(&log).await;
    log.store.write_batch(&recent("s3")).await.expect("write");
    checkpoint(&log).await; // vouches for 16, recorded at 17
    tamper(&log.path, "DELETE FROM audit_log WHERE seq > 12").await;
    assert!(
        matches!(
            log.store.verify_audit().await.expect("verify"),
            AuditVerification::Broken { .. }
        ),
        "verify_audit checks the checkpoints too"
    );
    let p = problem(&log).await;
    assert_eq!((p.kind(), p.seq()), ("truncated", 13));
    assert_eq!(
        p.to_string(),
        "truncated: the log ends at seq 12 but checkpoint at 2023-11-14T22:16:40.000Z \
         (record seq 17) vouches for seq 16"
    );
}

#[tokio::test]
async fn a_removed_checkpoint_record_is_truncation_too() {
    let log = log().await;
    checkpoint(&log).await;
    tamper(&log.path, "DELETE FROM audit_log WHERE seq = 14").await;
    let p = problem(&log).await;
    assert!(
        p.to_string().ends_with("(record seq 14) is not in it"),
        "{p}"
    );
}

#[tokio::test]
async fn a_checkpoint_passed_off_as_an_anchor_excuses_nothing() {
    let log = log().await;
    checkpoint(&log).await;
    tamper(
        &log.path,
        "UPDATE audit_checkpoint SET purpose = 'anchor'; DELETE FROM audit_log WHERE seq <= 13;",
    )
    .await;
    let p = problem(&log).await;
    assert!(
        matches!(&p, AuditProblem::Checkpoint { fault: CheckpointFault::BadSignature { .. }, checkpoint } if checkpoint.purpose == CheckpointPurpose::Anchor),
        "{p:?}"
    );
}

/// Anchors the 13 old records (and the checkpoint of them, when written)
/// and prunes them in steps of 5.
async fn prune(log: &Log, key: Option<&CheckpointKey>) -> Checkpoint {
    let cutoff = Utc::now() - Duration::days(1);
    let anchor = log
        .store
        .write_anchor(cutoff, i64::MAX, key, Utc::now())
        .await
        .expect("anchor")
        .anchor
        .expect("old records to prune");
    let mut steps = Vec::new();
    loop {
        let n = log.store.prune_audit(i64::MAX, 5).await.expect("prune");
        if n == 0 {
            break;
        }
        steps.push(n);
    }
    assert!(steps.iter().all(|n| *n <= 5), "{steps:?}");
    assert_eq!(steps.iter().sum::<u64>(), anchor.seq as u64);
    anchor
}

#[tokio::test]
async fn retention_prunes_behind_a_signed_anchor() {
    let log = log().await;
    // A checkpoint old enough to be pruned with what it vouches for.
    log.store
        .write_checkpoint(&log.key, at(1_700_000_150_000))
        .await
        .expect("checkpoint")
        .expect("written");
    log.store.write_batch(&recent("s3")).await.expect("write");
    let anchor = prune(&log, Some(&log.key)).await;
    assert_eq!(
        (anchor.purpose, anchor.seq, anchor.record_seq),
        (CheckpointPurpose::Anchor, 14, 17)
    );
    assert!(anchor.signed.is_some());

    let r = report(&log).await;
    let AuditVerification::Intact { records, last } = &r.verification else {
        panic!("{:?}", r.verification);
    };
    assert_eq!(*records, 3, "15, 16 and the anchor's own record");
    assert_eq!(last.as_ref().map(|t| t.seq), Some(17));
    assert_eq!(r.anchor.as_ref().map(|a| a.seq), Some(14));
    assert_eq!(r.checkpoints, 1, "the old checkpoint went with its records");
    assert!(log.store.verify_audit().await.is_ok());

    assert_eq!(
        log.store
            .prune_sessions(Utc::now() - Duration::days(1), 100)
            .await
            .expect("prune sessions"),
        2
    );
    let left: Vec<String> = log
        .store
        .list_sessions(10)
        .await
        .expect("sessions")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, ["s3"], "the open session stays");

    assert!(
        log.store
            .write_anchor(
                Utc::now() - Duration::days(1),
                i64::MAX,
                Some(&log.key),
                Utc::now()
            )
            .await
            .expect("anchor")
            .anchor
            .is_none(),
        "nothing new is old enough"
    );

    // Above the anchor the log is still append-only.
    let mut conn = raw_connection(&log.path).await;
    for sql in [
        "DELETE FROM audit_log WHERE seq = 15",
        "DELETE FROM audit_checkpoint WHERE record_seq = 17",
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
async fn the_first_record_after_the_anchor_must_be_there() {
    let log = log().await;
    log.store.write_batch(&recent("s3")).await.expect("write");
    prune(&log, Some(&log.key)).await;
    tamper(&log.path, "DELETE FROM audit_log WHERE seq = 14").await;
    let p = problem(&log).await;
    assert!(p.to_string().starts_with("missing at seq 14:"), "{p}");
}

#[tokio::test]
async fn a_rewritten_first_record_does_not_link_to_the_anchor() {
    let log = log().await;
    log.store.write_batch(&recent("s3")).await.expect("write");
    prune(&log, Some(&log.key)).await;
    tamper(
        &log.path,
        "UPDATE audit_log SET prev_hash = zeroblob(32) WHERE seq = 14",
    )
    .await;
    rewrite_from(&log.path, 14).await;
    let p = problem(&log).await;
    assert!(matches!(p, AuditProblem::AnchorLink { .. }), "{p:?}");
    assert!(
        p.to_string()
            .starts_with("missing before seq 14 (id s3/start):"),
        "{p}"
    );
}

#[tokio::test]
async fn verification_holds_while_pruning_is_part_way() {
    let log = log().await;
    log.store.write_batch(&recent("s3")).await.expect("write");
    log.store
        .write_anchor(
            Utc::now() - Duration::days(1),
            i64::MAX,
            Some(&log.key),
            Utc::now(),
        )
        .await
        .expect("anchor");
    assert_eq!(log.store.prune_audit(i64::MAX, 5).await.expect("prune"), 5);
    let r = report(&log).await;
    assert!(
        matches!(
            r.verification,
            AuditVerification::Intact { records: 11, .. }
        ),
        "{:?}",
        r.verification
    );
}

/// What a sink has not delivered stays, however old: the anchor stops at
/// the bound, and so does pruning behind an anchor that reaches past it
/// (one written before the sink was added).
#[tokio::test]
async fn anchoring_and_pruning_stop_at_the_bound() {
    let log = log().await;
    log.store.write_batch(&recent("s3")).await.expect("write");
    let cutoff = Utc::now() - Duration::days(1);

    // Seq 1-13 are old; a sink has delivered up to 4.
    let done = log
        .store
        .write_anchor(cutoff, 4, Some(&log.key), Utc::now())
        .await
        .expect("anchor");
    assert_eq!(done.old_enough, 13, "{done:?}");
    assert_eq!(done.anchor.as_ref().map(|a| a.seq), Some(4), "{done:?}");
    let mut pruned = 0;
    loop {
        let n = log.store.prune_audit(4, 3).await.expect("prune");
        if n == 0 {
            break;
        }
        pruned += n;
    }
    assert_eq!(pruned, 4);

    // The sink has not moved: nothing new to anchor, what it holds is said.
    let again = log
        .store
        .write_anchor(cutoff, 4, Some(&log.key), Utc::now())
        .await
        .expect("anchor");
    assert!(again.anchor.is_none(), "{again:?}");
    assert_eq!(again.old_enough, 13);

    // Unbounded, the rest of the old run is anchored (the first anchor,
    // seq 16, is recent); then a bound below it (a new sink, at 0) keeps
    // every remaining record, and the checkpoints that vouch for them.
    let all = log
        .store
        .write_anchor(cutoff, i64::MAX, Some(&log.key), Utc::now())
        .await
        .expect("anchor");
    assert_eq!(all.anchor.as_ref().map(|a| a.seq), Some(13), "{all:?}");
    assert_eq!(log.store.prune_audit(0, 100).await.expect("prune"), 0);
    assert_eq!(log.store.prune_audit(8, 100).await.expect("prune"), 4);
    let r = report(&log).await;
    assert!(
        matches!(r.verification, AuditVerification::Intact { .. }),
        "{:?}",
        r.verification
    );
    assert_eq!(r.checkpoints, 2, "both anchors stay while 9-13 are kept");
    assert_eq!(
        log.store.prune_audit(i64::MAX, 100).await.expect("prune"),
        5
    );
    let r = report(&log).await;
    assert!(
        matches!(r.verification, AuditVerification::Intact { .. }),
        "{:?}",
        r.verification
    );
    assert_eq!(r.anchor.as_ref().map(|a| a.seq), Some(13));
    assert_eq!(r.checkpoints, 1, "the first anchor went with its records");
}

#[tokio::test]
async fn an_unsigned_anchor_is_trusted_only_without_a_key() {
    let log = log().await;
    log.store.write_batch(&recent("s3")).await.expect("write");
    let anchor = prune(&log, None).await;
    assert!(anchor.signed.is_none());
    let r = log
        .store
        .verify_audit_checkpoints(&[])
        .await
        .expect("verify");
    assert!(
        matches!(r.verification, AuditVerification::Intact { .. }),
        "{r:?}"
    );
    let p = problem(&log).await;
    assert!(
        matches!(
            p,
            AuditProblem::Checkpoint {
                fault: CheckpointFault::Unsigned,
                ..
            }
        ),
        "{p:?}"
    );
}

#[tokio::test]
async fn pruning_refuses_to_hide_damage() {
    let log = log().await;
    log.store.write_batch(&recent("s3")).await.expect("write");
    tamper(&log.path, "DELETE FROM audit_log WHERE seq = 5").await;
    let result = log
        .store
        .write_anchor(Utc::now() - Duration::days(1), i64::MAX, None, Utc::now())
        .await;
    assert!(
        matches!(&result, Err(StoreError::Corrupt(why)) if why.contains("missing at seq 5")),
        "{result:?}"
    );
    assert_eq!(
        log.store.prune_audit(i64::MAX, 100).await.expect("prune"),
        0
    );
}

/// A log written before checkpoints existed (migrations up to 0003) goes
/// through the rebuilds of `audit_log` in 0004 and 0007 intact, guard
/// triggers, CHECK on `kind` and all.
#[tokio::test]
async fn a_log_from_before_checkpoints_survives_the_upgrade() {
    let log = log().await;
    let mut conn = raw_connection(&log.path).await;
    let rows = sqlx::query(
        "SELECT seq, kind, id, at, session_id, identity, connection, body, prev_hash, hash \
         FROM audit_log ORDER BY seq",
    )
    .fetch_all(&mut conn)
    .await
    .expect("read");
    conn.close().await.expect("close");

    let old_migrations = tempfile::tempdir().expect("tempdir");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for entry in std::fs::read_dir(&source).expect("migrations") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name < "0004" {
            std::fs::copy(&path, old_migrations.path().join(name)).expect("copy");
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("airlock.db");
    let mut conn = SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true),
    )
    .await
    .expect("new file");
    sqlx::migrate::Migrator::new(old_migrations.path())
        .await
        .expect("old migrations")
        .run(&mut conn)
        .await
        .expect("migrate to 0003");
    for row in &rows {
        sqlx::query(
            "INSERT INTO audit_log (seq, kind, id, at, session_id, identity, connection, body, \
             prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(row.get::<i64, _>("seq"))
        .bind(row.get::<String, _>("kind"))
        .bind(row.get::<String, _>("id"))
        .bind(row.get::<i64, _>("at"))
        .bind(row.get::<String, _>("session_id"))
        .bind(row.get::<String, _>("identity"))
        .bind(row.get::<String, _>("connection"))
        .bind(row.get::<String, _>("body"))
        .bind(row.get::<Vec<u8>, _>("prev_hash"))
        .bind(row.get::<Vec<u8>, _>("hash"))
        .execute(&mut conn)
        .await
        .expect("insert");
    }
    let err = sqlx::query("INSERT INTO audit_log (seq, kind, id, at, session_id, identity, \
         connection, body, prev_hash, hash) VALUES (99, 'checkpoint', 'c', 0, '', '', '', '{}', x'', x'')")
        .execute(&mut conn)
        .await
        .expect_err("0003 knows no checkpoint kind");
    assert!(err.to_string().contains("CHECK"), "{err}");
    conn.close().await.expect("close");

    let store = SqliteStore::open(&path).await.expect("open runs 0004");
    let verdict = store.verify_audit().await.expect("verify");
    assert!(
        matches!(verdict, AuditVerification::Intact { records: 13, .. }),
        "{verdict:?}"
    );
    let c = store
        .write_checkpoint(&log.key, late())
        .await
        .expect("a checkpoint record fits the new table")
        .expect("written");
    assert_eq!(c.record_seq, 14);
    let mut conn = raw_connection(&path).await;
    let err = sqlx::query("DELETE FROM audit_log WHERE seq = 3")
        .execute(&mut conn)
        .await
        .expect_err("no anchor: nothing may be deleted");
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = sqlx::query("UPDATE audit_log SET body = '{}' WHERE seq = 3")
        .execute(&mut conn)
        .await
        .expect_err("records may not be edited");
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = sqlx::query(
        "INSERT INTO audit_log (seq, kind, id, at, session_id, identity, connection, body, \
         prev_hash, hash) VALUES (99, 'commands', 'x', 0, '', '', '', '{}', x'', x'')",
    )
    .execute(&mut conn)
    .await
    .expect_err("an unknown kind is refused");
    assert!(err.to_string().contains("CHECK"), "{err}");
    conn.close().await.expect("close");
}

/// SQLite checks `kind IN (<constants>)` by filling an ephemeral table,
/// and fills it again for every row of a multi-row INSERT (migration
/// 0007): the statement the store inserts records with must build none.
#[tokio::test]
async fn inserting_records_builds_no_table_per_row() {
    let log = log().await;
    let mut conn = raw_connection(&log.path).await;
    let values = ["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; 4].join(", ");
    let program = sqlx::query(AssertSqlSafe(format!(
        "EXPLAIN INSERT INTO audit_log (seq, kind, id, at, session_id, identity, connection, \
         body, prev_hash, hash) VALUES {values}"
    )))
    .fetch_all(&mut conn)
    .await
    .expect("explain");
    let opcodes: Vec<String> = program.iter().map(|row| row.get("opcode")).collect();
    assert!(opcodes.iter().any(|op| op == "Insert"), "{opcodes:?}");
    assert!(
        !opcodes.iter().any(|op| op == "OpenEphemeral"),
        "a table built per row: {opcodes:?}"
    );
    conn.close().await.expect("close");
}

/// A verify that runs while the gateway goes on appending records and
/// checkpoints reads one snapshot: a checkpoint written after its walk
/// passed the tip must not read as a log cut short.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_beside_a_writing_gateway_reads_one_snapshot() {
    let log = log().await;
    // Another pool on the file, as the gateway's process would have.
    let gateway = SqliteStore::open(&log.path).await.expect("open again");
    let (key, der) = CheckpointKey::generate().expect("key");
    let trusted = [CheckpointKey::from_pkcs8(&der)
        .expect("same key")
        .public_key()];
    let writing = tokio::spawn(async move {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(3);
        let mut rounds = 0;
        while rounds < 300 && std::time::Instant::now() < until {
            let session = format!("w{rounds}");
            gateway.write_batch(&recent(&session)).await.expect("write");
            gateway
                .write_checkpoint(&key, late())
                .await
                .expect("write checkpoint");
            rounds += 1;
        }
        rounds
    });
    let mut verified = 0;
    while !writing.is_finished() {
        let r = log
            .store
            .verify_audit_checkpoints(&trusted)
            .await
            .expect("verify runs");
        assert!(
            matches!(r.verification, AuditVerification::Intact { .. }),
            "after {verified} verifications: {:?}",
            r.verification
        );
        verified += 1;
    }
    let rounds = writing.await.expect("writer");
    assert!(
        rounds > 0 && verified > 0,
        "{rounds} rounds, {verified} verifications"
    );
}
