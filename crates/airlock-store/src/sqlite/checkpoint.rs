//! Writing checkpoints: each one is appended to the chain as a
//! `checkpoint` record and kept in `audit_checkpoint`, in the transaction
//! that read what it vouches for.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Row, SqliteConnection};

use super::batch::{self, Linked};
use super::rows::millis;
use crate::body::Entry;
use crate::chain;
use crate::{AuditKind, Checkpoint, CheckpointKey, CheckpointPurpose, StoreError};

/// Signs the tip unless nothing but checkpoints came after the latest one.
pub(super) async fn write(
    pool: &SqlitePool,
    key: &CheckpointKey,
    at: DateTime<Utc>,
) -> Result<Option<Checkpoint>, StoreError> {
    // The write lock from the start: the writer's batches wait, so the tip
    // read here is still the tip when its signature is committed.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    if !added_since_latest(&mut tx).await? {
        return Ok(None);
    }
    let (seq, hash) = batch::tip(&mut tx).await?;
    let hash = hash32(seq, hash)?;
    let checkpoint = append(
        &mut tx,
        CheckpointPurpose::Checkpoint,
        seq,
        hash,
        Some(key),
        at,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(checkpoint))
}

/// Whether a record other than a checkpoint follows the highest seq any
/// checkpoint vouches for. Only the records after it are looked at.
async fn added_since_latest(conn: &mut SqliteConnection) -> Result<bool, StoreError> {
    let found = sqlx::query(
        "SELECT 1 FROM audit_log WHERE kind <> 'checkpoint' \
         AND seq > (SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoint) LIMIT 1",
    )
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// Signs (with `key`) a checkpoint of record `seq`, whose hash is `hash`,
/// and appends it to the chain and the checkpoint table. The caller's
/// transaction must hold the write lock.
pub(super) async fn append(
    conn: &mut SqliteConnection,
    purpose: CheckpointPurpose,
    seq: i64,
    hash: [u8; 32],
    key: Option<&CheckpointKey>,
    at: DateTime<Utc>,
) -> Result<Checkpoint, StoreError> {
    let (tip_seq, tip_hash) = batch::tip(conn).await?;
    let mut checkpoint = Checkpoint {
        purpose,
        seq,
        hash,
        // Signed as stored: to the millisecond.
        at: DateTime::from_timestamp_millis(millis(at)).unwrap_or(at),
        signed: None,
        record_seq: tip_seq + 1,
    };
    if let Some(key) = key {
        checkpoint.sign(key);
    }
    let body = serde_json::to_string(&checkpoint.body())
        .map_err(|e| StoreError::Corrupt(format!("cannot encode a checkpoint: {e}")))?;
    let entry = Entry {
        kind: AuditKind::Checkpoint,
        id: checkpoint.record_id().into(),
        at: millis(checkpoint.at),
        session: "",
        identity: "",
        connection: "",
        body,
    };
    let link = chain::link_hash(&tip_hash, &batch::hashed(&entry), &mut Vec::new())
        .map_err(|e| StoreError::Corrupt(format!("cannot encode a checkpoint: {e}")))?;
    let record = Linked {
        seq: checkpoint.record_seq,
        entry,
        prev_hash: tip_hash.into(),
        hash: Arc::from(&link[..]),
    };
    batch::insert(conn, vec![record]).await?;
    let signed = checkpoint.signed.as_ref();
    sqlx::query(
        "INSERT INTO audit_checkpoint (record_seq, purpose, seq, hash, at, public_key, signature) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(checkpoint.record_seq)
    .bind(purpose.as_str())
    .bind(seq)
    .bind(&hash[..])
    .bind(millis(checkpoint.at))
    .bind(signed.map(|s| s.public_key.as_bytes().to_vec()))
    .bind(signed.map(|s| s.signature.clone()))
    .execute(conn)
    .await?;
    Ok(checkpoint)
}

/// A stored hash, which must be 32 bytes to be vouched for.
pub(super) fn hash32(seq: i64, hash: Vec<u8>) -> Result<[u8; 32], StoreError> {
    hash.try_into().map_err(|_| {
        StoreError::Corrupt(format!(
            "the audit record at seq {seq} has a hash that is not 32 bytes"
        ))
    })
}

// A macro, not a const, so `concat!` can build `&'static str` queries.
macro_rules! checkpoint_columns {
    () => {
        "record_seq, purpose, seq, hash, at, public_key, signature"
    };
}
pub(super) use checkpoint_columns;

/// A row of the checkpoint table; `Err` says which column does not parse.
pub(super) fn from_row(row: &SqliteRow) -> Result<Checkpoint, String> {
    let text = |e: sqlx::Error| e.to_string();
    let purpose: String = row.try_get("purpose").map_err(text)?;
    let purpose =
        CheckpointPurpose::parse(&purpose).ok_or_else(|| format!("purpose {purpose:?}"))?;
    let hash: Vec<u8> = row.try_get("hash").map_err(text)?;
    let at: i64 = row.try_get("at").map_err(text)?;
    let public_key: Option<Vec<u8>> = row.try_get("public_key").map_err(text)?;
    let signature: Option<Vec<u8>> = row.try_get("signature").map_err(text)?;
    let signed = match (public_key, signature) {
        (None, None) => None,
        (Some(key), Some(signature)) => Some(crate::Signed {
            public_key: crate::PublicKey::from_bytes(&key)
                .ok_or("the public key is not 32 bytes")?,
            signature,
        }),
        _ => return Err("a public key or a signature without the other".into()),
    };
    Ok(Checkpoint {
        purpose,
        seq: row.try_get("seq").map_err(text)?,
        hash: hash.try_into().map_err(|_| "the hash is not 32 bytes")?,
        at: DateTime::from_timestamp_millis(at).ok_or_else(|| format!("at = {at}"))?,
        signed,
        record_seq: row.try_get("record_seq").map_err(text)?,
    })
}
