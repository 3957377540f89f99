//! Applying data-path writes inside the caller's transaction.
//!
//! Every op is safe to apply twice: the writer retries a whole batch after a
//! failure it cannot classify, including one where the commit may in fact
//! have landed.

use sqlx::SqliteConnection;

use super::rows::millis;
use crate::{EventRecord, SessionEnd, SessionStart, StoreError, WriteOp};

pub(super) async fn apply(conn: &mut SqliteConnection, op: &WriteOp) -> Result<(), StoreError> {
    match op {
        WriteOp::SessionStart(start) => session_start(conn, start).await,
        WriteOp::Event(event) => insert_event(conn, event).await,
        WriteOp::SessionEnd(end) => session_end(conn, end).await,
    }
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

async fn insert_event(conn: &mut SqliteConnection, e: &EventRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO events (id, session_id, identity, connection, at, command, param_count, \
         verdict, rows, bytes, duration_us, error) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&e.id)
    .bind(&e.session_id)
    .bind(&e.identity)
    .bind(&e.connection)
    .bind(millis(e.at))
    .bind(&e.command)
    .bind(e.param_count)
    .bind(&e.verdict)
    .bind(e.rows)
    .bind(e.bytes)
    .bind(e.duration_us)
    .bind(&e.error)
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
