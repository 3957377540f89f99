//! Applying data-path writes inside the caller's transaction.
//!
//! Every op is safe to apply twice: the writer retries a whole batch after a
//! failure it cannot classify, including one where the commit may in fact
//! have landed.

use sqlx::SqliteConnection;

use super::rows::millis;
use crate::{EventRecord, SessionEnd, SessionStart, StoreError, WriteOp};

/// Events inserted per statement: one statement per run of events instead
/// of one per event, because every statement is a round trip to the
/// connection's thread. 64 rows × 12 columns stays far below SQLite's
/// limit on bound parameters.
const EVENTS_PER_INSERT: usize = 64;

/// Applies ops in order; consecutive events share INSERT statements.
pub(super) async fn apply_all(
    conn: &mut SqliteConnection,
    ops: &[WriteOp],
) -> Result<(), StoreError> {
    let mut events: Vec<&EventRecord> = Vec::new();
    for op in ops {
        match op {
            WriteOp::Event(event) => {
                events.push(event);
                if events.len() == EVENTS_PER_INSERT {
                    insert_events(conn, &events).await?;
                    events.clear();
                }
            }
            WriteOp::SessionStart(start) => {
                insert_events(conn, &events).await?;
                events.clear();
                session_start(conn, start).await?;
            }
            WriteOp::SessionEnd(end) => {
                insert_events(conn, &events).await?;
                events.clear();
                session_end(conn, end).await?;
            }
        }
    }
    insert_events(conn, &events).await
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

async fn insert_events(
    conn: &mut SqliteConnection,
    events: &[&EventRecord],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "INSERT INTO events (id, session_id, identity, connection, at, command, param_count, \
         verdict, rows, bytes, duration_us, error) ",
    );
    query.push_values(events, |mut row, e| {
        row.push_bind(&e.id)
            .push_bind(&e.session_id)
            .push_bind(&e.identity)
            .push_bind(&e.connection)
            .push_bind(millis(e.at))
            .push_bind(&e.command)
            .push_bind(e.param_count)
            .push_bind(&e.verdict)
            .push_bind(e.rows)
            .push_bind(e.bytes)
            .push_bind(e.duration_us)
            .push_bind(&e.error);
    });
    query.push(" ON CONFLICT (id) DO NOTHING");
    query.build().execute(conn).await?;
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
