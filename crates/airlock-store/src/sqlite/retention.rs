//! Retention: an anchor first, then deletion behind it in short
//! transactions, so pruning never holds the write lock for long and the
//! remaining chain always starts at a record the anchor vouches for.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqlitePool;

use super::checkpoint::{self, hash32};
use super::rows::millis;
use super::verify::{self, WalkEnd};
use crate::{Checkpoint, CheckpointKey, CheckpointPurpose, StoreError};

pub(super) async fn write_anchor(
    pool: &SqlitePool,
    cutoff: DateTime<Utc>,
    key: Option<&CheckpointKey>,
    at: DateTime<Utc>,
) -> Result<Option<Checkpoint>, StoreError> {
    let mut conn = pool.acquire().await?;
    let anchored = anchor_seq(&mut conn).await?;
    let end: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_log")
        .fetch_one(&mut *conn)
        .await?;
    let Some(end) = end else { return Ok(None) };
    // Outside the write lock: this reads only records about to be pruned,
    // and records up to `end` never change.
    let first_kept: Option<i64> = sqlx::query_scalar(
        "SELECT seq FROM audit_log WHERE seq > ? AND seq <= ? AND at >= ? ORDER BY seq LIMIT 1",
    )
    .bind(anchored)
    .bind(end)
    .bind(millis(cutoff))
    .fetch_optional(&mut *conn)
    .await?;
    drop(conn);
    let last_pruned = first_kept.map_or(end, |seq| seq - 1);
    if last_pruned <= anchored {
        return Ok(None);
    }
    let current = super::verify_checkpoints::latest_anchor(pool)
        .await?
        .and_then(Result::ok);
    match verify::walk(pool, current.as_ref(), last_pruned, &[]).await? {
        WalkEnd::Intact(_) => {}
        WalkEnd::Broken { problem, .. } => {
            return Err(StoreError::Corrupt(format!(
                "not pruning the audit log, which is damaged: {problem}"
            )));
        }
    }
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // Another process may have anchored meanwhile.
    if last_pruned <= anchor_seq(&mut tx).await? {
        return Ok(None);
    }
    let hash: Vec<u8> = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = ?")
        .bind(last_pruned)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("no audit record has seq {last_pruned}")))?;
    let anchor = checkpoint::append(
        &mut tx,
        CheckpointPurpose::Anchor,
        last_pruned,
        hash32(last_pruned, hash)?,
        key,
        at,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(anchor))
}

/// One bounded step of deletion behind the latest anchor.
pub(super) async fn prune_audit(pool: &SqlitePool, limit: u32) -> Result<u64, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let anchored = anchor_seq(&mut tx).await?;
    if anchored == 0 {
        return Ok(0);
    }
    let deleted = sqlx::query(
        "DELETE FROM audit_log WHERE seq IN \
         (SELECT seq FROM audit_log WHERE seq <= ? ORDER BY seq LIMIT ?)",
    )
    .bind(anchored)
    .bind(i64::from(limit))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if deleted < u64::from(limit) {
        // Their records are gone: nothing is left for them to vouch for.
        sqlx::query("DELETE FROM audit_checkpoint WHERE seq < ?")
            .bind(anchored)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(deleted)
}

pub(super) async fn prune_sessions(
    pool: &SqlitePool,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> Result<u64, StoreError> {
    // A session ends after it starts, so the index on started_at narrows
    // the search to sessions that can qualify.
    let done = sqlx::query(
        "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions \
         WHERE started_at < ?1 AND ended_at IS NOT NULL AND ended_at < ?1 LIMIT ?2)",
    )
    .bind(millis(cutoff))
    .bind(i64::from(limit))
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// The seq the latest anchor vouches for; 0 when nothing was ever pruned.
async fn anchor_seq(conn: &mut SqliteConnection) -> Result<i64, StoreError> {
    let seq = sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoint WHERE purpose = 'anchor'",
    )
    .fetch_one(conn)
    .await?;
    Ok(seq)
}
