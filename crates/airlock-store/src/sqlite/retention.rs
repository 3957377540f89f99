//! Retention: an anchor first, then deletion behind it in short
//! transactions, so pruning never holds the write lock for long and the
//! remaining chain always starts at a record the anchor vouches for.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqlitePool;

use super::checkpoint::{self, hash32};
use super::rows::millis;
use super::verify::{self, WalkEnd};
use crate::{Anchoring, CheckpointKey, CheckpointPurpose, StoreError};

pub(super) async fn write_anchor(
    pool: &SqlitePool,
    cutoff: DateTime<Utc>,
    up_to: i64,
    key: Option<&CheckpointKey>,
    at: DateTime<Utc>,
) -> Result<Anchoring, StoreError> {
    let mut conn = pool.acquire().await?;
    let anchored = anchor_seq(&mut conn).await?;
    let end: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_log")
        .fetch_one(&mut *conn)
        .await?;
    let Some(end) = end else {
        return Ok(Anchoring {
            anchor: None,
            old_enough: anchored,
        });
    };
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
    let old_enough = first_kept.map_or(end, |seq| seq - 1);
    let nothing = Anchoring {
        anchor: None,
        old_enough,
    };
    // The caller's bound (what a sink has not delivered yet) wins over age.
    let last_pruned = old_enough.min(up_to);
    if last_pruned <= anchored {
        return Ok(nothing);
    }
    let mut conn = pool.acquire().await?;
    let current = super::verify_checkpoints::latest_anchor(&mut conn)
        .await?
        .and_then(Result::ok);
    let walked = verify::walk(&mut conn, current.as_ref(), last_pruned, &[]).await?;
    drop(conn);
    match walked {
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
        return Ok(nothing);
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
    Ok(Anchoring {
        anchor: Some(anchor),
        old_enough,
    })
}

/// One bounded step of deletion behind the latest anchor, and not past
/// `up_to`.
pub(super) async fn prune_audit(
    pool: &SqlitePool,
    up_to: i64,
    limit: u32,
) -> Result<u64, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let anchored = anchor_seq(&mut tx).await?;
    if anchored == 0 {
        return Ok(0);
    }
    // An anchor written before a sink that has not caught up was added (or
    // by a round a crash cut short) may reach past what that sink has.
    let until = anchored.min(up_to);
    let deleted = sqlx::query(
        "DELETE FROM audit_log WHERE seq IN \
         (SELECT seq FROM audit_log WHERE seq <= ? ORDER BY seq LIMIT ?)",
    )
    .bind(until)
    .bind(i64::from(limit))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // Not while `up_to` keeps records behind the anchor: those records
    // keep the checkpoints that vouch for them, as before any pruning.
    if deleted < u64::from(limit) && until == anchored {
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
