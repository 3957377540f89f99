//! Applying data-path writes inside the caller's transaction: each op
//! becomes the next record of the audit chain, and session starts and ends
//! also keep the `sessions` summary.
//!
//! The writer retries a whole batch after a failure it cannot classify,
//! including one where the commit may in fact have landed. A batch is one
//! transaction, so it landed entirely or not at all, and its first and last
//! records tell which.

use std::sync::Arc;

use sqlx::{Row, SqliteConnection};

use super::direct_insert;
use super::rows::millis;
use crate::body::{self, Entry};
use crate::chain::{self, GENESIS, Hashed};
use crate::{SessionEnd, SessionStart, StoreError, WriteOp};

/// Records linked before they are inserted together: a run's records
/// (their bodies) are held in memory until then, and each run prepares
/// the INSERT once.
const RECORDS_PER_INSERT: usize = 512;

/// A record with its place in the chain.
pub(super) struct Linked<'a> {
    pub seq: i64,
    pub entry: Entry<'a>,
    /// Shared with the previous record's `hash`: one copy serves both.
    pub prev_hash: Arc<[u8]>,
    pub hash: Arc<[u8]>,
}

/// Appends `ops` to the chain in order. The caller's transaction must hold
/// the write lock from its start (`BEGIN IMMEDIATE`): the chain's tip is
/// read here and must not move before the new records are in.
pub(super) async fn apply_all(
    conn: &mut SqliteConnection,
    ops: &[WriteOp],
) -> Result<(), StoreError> {
    let (Some(first), Some(last)) = (ops.first(), ops.last()) else {
        return Ok(());
    };
    // The first op alone would tell a retry; the last one too keeps a
    // caller's reused id from passing a whole new batch off as a retry and
    // dropping it unseen. It fails on the unique index instead.
    // One query for both: every statement is a round trip to the
    // connection's thread, and a durable command waits for all of them.
    let (tip, first_landed, last_landed) = tip_and_landed(conn, first, last).await?;
    if first_landed && last_landed {
        return Ok(());
    }
    let (mut seq, prev_hash) = tip;
    let mut prev_hash: Arc<[u8]> = prev_hash.into();
    let mut scratch = Vec::new();
    let mut pending: Vec<Linked<'_>> = Vec::with_capacity(ops.len().min(RECORDS_PER_INSERT));
    for op in ops {
        let entry = body::entry(op)?;
        let hash = chain::link_hash(&prev_hash, &hashed(&entry), &mut scratch).map_err(|e| {
            StoreError::Corrupt(format!("cannot encode audit record {}: {e}", entry.id))
        })?;
        seq += 1;
        let hash: Arc<[u8]> = Arc::from(&hash[..]);
        pending.push(Linked {
            seq,
            entry,
            prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
            hash,
        });
        if pending.len() == RECORDS_PER_INSERT {
            insert_pending(conn, &mut pending).await?;
        }
        // The summary table is separate from the chain, so its statements
        // need not wait for the pending records.
        match op {
            WriteOp::SessionStart(start) => session_start(conn, start).await?,
            WriteOp::SessionEnd(end) => session_end(conn, end).await?,
            WriteOp::Command(_) | WriteOp::Finished(_) | WriteOp::Outcome(_) => {}
        }
    }
    insert_pending(conn, &mut pending).await
}

pub(super) fn hashed<'a>(e: &'a Entry<'_>) -> Hashed<'a> {
    Hashed {
        kind: e.kind.as_str(),
        id: &e.id,
        at: e.at,
        session: e.session,
        identity: e.identity,
        connection: e.connection,
        body: &e.body,
    }
}

/// Whether an op is in the log already. An outcome is there as a record
/// of its own or inside its command's record ([`WriteOp::Finished`]):
/// which one depends on the batch the writer's filler made, and a spool
/// frame replayed alone holds the ops as they were before it paired them.
/// A body that is not JSON (damage, or an edit) counts as carrying no
/// outcome rather than failing every batch: `verify` reports it.
macro_rules! landed {
    () => {
        "(EXISTS (SELECT 1 FROM audit_log WHERE id = ?) OR EXISTS \
         (SELECT 1 FROM audit_log WHERE id = ? AND kind = 'command' \
          AND CASE WHEN json_valid(body) THEN json_extract(body, '$.outcome') END \
          IS NOT NULL))"
    };
}

/// The ids [`landed!`] binds for an op.
fn landed_ids(op: &WriteOp) -> (String, Option<&str>) {
    let carried_in = match op {
        WriteOp::Outcome(o) => Some(o.event_id.as_str()),
        _ => None,
    };
    (body::record_id(op).into_owned(), carried_in)
}

/// [`tip`], and whether the batch's first and last ops are in the log.
async fn tip_and_landed(
    conn: &mut SqliteConnection,
    first: &WriteOp,
    last: &WriteOp,
) -> Result<((i64, Vec<u8>), bool, bool), StoreError> {
    let (first_id, first_in) = landed_ids(first);
    let (last_id, last_in) = landed_ids(last);
    let row = sqlx::query(concat!(
        "SELECT (SELECT seq FROM audit_log ORDER BY seq DESC LIMIT 1) AS seq, \
                (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1) AS hash, ",
        landed!(),
        " AS first_landed, ",
        landed!(),
        " AS last_landed"
    ))
    .bind(&first_id)
    .bind(first_in)
    .bind(&last_id)
    .bind(last_in)
    .fetch_one(conn)
    .await?;
    let first_landed: bool = row.try_get("first_landed")?;
    let last_landed: bool = row.try_get("last_landed")?;
    let tip = match (
        row.try_get::<Option<i64>, _>("seq")?,
        row.try_get::<Option<Vec<u8>>, _>("hash")?,
    ) {
        (Some(seq), Some(hash)) => (seq, hash),
        _ => (0, GENESIS.to_vec()),
    };
    Ok((tip, first_landed, last_landed))
}

/// The last record's seq and hash, or the genesis link of an empty log.
pub(super) async fn tip(conn: &mut SqliteConnection) -> Result<(i64, Vec<u8>), StoreError> {
    let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(conn)
        .await?;
    match last {
        None => Ok((0, GENESIS.to_vec())),
        // A damaged tip is chained onto as it is: refusing to write would
        // stop the gateway, and verification reports the damage anyway.
        Some(row) => Ok((row.try_get("seq")?, row.try_get("hash")?)),
    }
}

/// Inserts `records`.
pub(super) async fn insert(
    conn: &mut SqliteConnection,
    mut records: Vec<Linked<'_>>,
) -> Result<(), StoreError> {
    insert_pending(conn, &mut records).await
}

/// Inserts and empties `records`, through SQLite's own API on this thread
/// ([`direct_insert`]): the connection stays in the caller's transaction.
async fn insert_pending(
    conn: &mut SqliteConnection,
    records: &mut Vec<Linked<'_>>,
) -> Result<(), StoreError> {
    let (Some(first), Some(last)) = (records.first(), records.last()) else {
        return Ok(());
    };
    // Named in the error, should the ids collide.
    let (first_id, last_id) = (first.entry.id.to_string(), last.entry.id.to_string());
    let mut handle = conn.lock_handle().await?;
    direct_insert::insert(handle.as_raw_handle(), records.drain(..))
        .map_err(|failure| failure.into_error(&first_id, &last_id))
}

async fn session_start(conn: &mut SqliteConnection, s: &SessionStart) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (id, identity, connection, protocol, client_addr, started_at) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&s.id)
    .bind(&s.identity)
    .bind(&s.connection)
    .bind(&s.protocol)
    .bind(&s.client_addr)
    .bind(millis(s.started_at))
    .execute(conn)
    .await?;
    Ok(())
}

async fn session_end(conn: &mut SqliteConnection, end: &SessionEnd) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE sessions SET ended_at = ?, end_reason = ?, commands = ?, rows = ?, \
         bytes_to_client = ? WHERE id = ?",
    )
    .bind(millis(end.ended_at))
    .bind(&end.end_reason)
    .bind(end.commands)
    .bind(end.rows)
    .bind(end.bytes_to_client)
    .bind(&end.id)
    .execute(conn)
    .await?;
    // Failing the batch here would make the writer retry it forever and stall
    // every session's audit trail over one caller bug, so only report it.
    if done.rows_affected() == 0 {
        tracing::warn!(session_id = %end.id, "session end for a session that was never started");
    }
    Ok(())
}
