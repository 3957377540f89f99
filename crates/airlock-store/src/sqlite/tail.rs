//! Following the audit chain from a position, for the audit sinks, and
//! the positions they have reached.

use serde_json::value::RawValue;
use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqliteRow};

use super::rows::time;
use crate::{AuditRecordLine, StoreError};

/// Records with a seq above `after_seq`, oldest first. Each is one
/// lookup on the primary key, so a sink far behind costs no more per
/// call than one that keeps up.
pub(super) async fn records_after(
    pool: &SqlitePool,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<AuditRecordLine>, StoreError> {
    let found = sqlx::query(
        "SELECT seq, kind, id, at, session_id, identity, connection, body, prev_hash, hash \
         FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?",
    )
    .bind(after_seq)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    found.iter().map(record).collect()
}

fn record(row: &SqliteRow) -> Result<AuditRecordLine, StoreError> {
    let id: String = row.try_get("id")?;
    let body: String = row.try_get("body")?;
    let body = RawValue::from_string(body)
        .map_err(|e| StoreError::Corrupt(format!("audit record {id}: body: {e}")))?;
    Ok(AuditRecordLine {
        seq: row.try_get("seq")?,
        kind: row.try_get("kind")?,
        at: time(row, "at")?,
        session: row.try_get("session_id")?,
        identity: row.try_get("identity")?,
        connection: row.try_get("connection")?,
        body,
        prev_hash: hex::encode(row.try_get::<&[u8], _>("prev_hash")?),
        hash: hex::encode(row.try_get::<&[u8], _>("hash")?),
        id,
    })
}

pub(super) async fn cursor(pool: &SqlitePool, name: &str) -> Result<i64, StoreError> {
    let seq = sqlx::query_scalar("SELECT seq FROM audit_sink_cursors WHERE name = ?")
        .bind(name)
        .fetch_optional(pool)
        .await?;
    Ok(seq.unwrap_or(0))
}

pub(super) async fn set_cursor(pool: &SqlitePool, name: &str, seq: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_sink_cursors (name, seq) VALUES (?, ?) \
         ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
    )
    .bind(name)
    .bind(seq)
    .execute(pool)
    .await?;
    Ok(())
}
