//! Mapping between SQLite rows and the model records.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Identity, IdentityKind, SessionRecord, StoreError, TokenRecord};

// Column lists are macros, not consts, so `concat!` can build `&'static str`
// queries (sqlx only accepts static SQL without an explicit safety wrapper).
macro_rules! identity_columns {
    () => {
        "name, kind, groups, scram_salt, created_at, person"
    };
}

macro_rules! token_columns {
    () => {
        "id, identity, secret_sha256, scram_iterations, scram_stored_key, scram_server_key, \
         created_at, expires_at, revoked_at"
    };
}

macro_rules! session_columns {
    () => {
        "id, identity, connection, protocol, client_addr, started_at, ended_at, end_reason, \
         commands, rows, bytes_to_client"
    };
}

pub(super) use {identity_columns, session_columns, token_columns};

pub(super) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// The store keeps milliseconds; values handed back to callers are truncated
/// the same way so what `add_*` returns equals what a later read returns.
pub(super) fn now_millis() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

pub(super) fn time(row: &SqliteRow, column: &str) -> Result<DateTime<Utc>, StoreError> {
    let ms: i64 = row.try_get(column)?;
    time_of(ms, column)
}

/// Unix milliseconds read from the store as a time; `what` names them in
/// the error.
pub(super) fn time_of(ms: i64, what: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("{what} = {ms} is not a valid timestamp")))
}

pub(super) fn opt_time(row: &SqliteRow, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    match row.try_get::<Option<i64>, _>(column)? {
        None => Ok(None),
        Some(_) => time(row, column).map(Some),
    }
}

pub(super) fn encode_groups(groups: &[String]) -> Result<String, StoreError> {
    encode_list("groups", groups)
}

/// A list of names as the JSON array kept in a TEXT column; `what` names
/// the column in the error.
pub(super) fn encode_list(what: &str, items: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(items)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode {what}: {e}")))
}

/// Reads a JSON array column back; `owner` names the record in the error.
pub(super) fn list(row: &SqliteRow, column: &str, owner: &str) -> Result<Vec<String>, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{owner}: {column}: {e}")))
}

pub(super) fn identity(row: &SqliteRow) -> Result<Identity, StoreError> {
    let name: String = row.try_get("name")?;
    let kind: String = row.try_get("kind")?;
    let kind: IdentityKind = kind
        .parse()
        .map_err(|e| StoreError::Corrupt(format!("identity {name}: {e}")))?;
    let groups = list(row, "groups", &format!("identity {name}"))?;
    Ok(Identity {
        kind,
        groups,
        scram_salt: row.try_get("scram_salt")?,
        created_at: time(row, "created_at")?,
        person: row.try_get("person")?,
        name,
    })
}

pub(super) fn token(row: &SqliteRow) -> Result<TokenRecord, StoreError> {
    let id: String = row.try_get("id")?;
    let iterations: i64 = row.try_get("scram_iterations")?;
    let scram_iterations = u32::try_from(iterations)
        .map_err(|_| StoreError::Corrupt(format!("token {id}: scram_iterations = {iterations}")))?;
    Ok(TokenRecord {
        identity: row.try_get("identity")?,
        secret_sha256: row.try_get("secret_sha256")?,
        scram_iterations,
        scram_stored_key: row.try_get("scram_stored_key")?,
        scram_server_key: row.try_get("scram_server_key")?,
        created_at: time(row, "created_at")?,
        expires_at: opt_time(row, "expires_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
        id,
    })
}

pub(super) fn session(row: &SqliteRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id: row.try_get("id")?,
        identity: row.try_get("identity")?,
        connection: row.try_get("connection")?,
        protocol: row.try_get("protocol")?,
        client_addr: row.try_get("client_addr")?,
        started_at: time(row, "started_at")?,
        ended_at: opt_time(row, "ended_at")?,
        end_reason: row.try_get("end_reason")?,
        commands: row.try_get("commands")?,
        rows: row.try_get("rows")?,
        bytes_to_client: row.try_get("bytes_to_client")?,
    })
}

/// Decodes every row, failing on the first bad one rather than hiding it.
pub(super) fn all<T>(
    rows: &[SqliteRow],
    decode: fn(&SqliteRow) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(decode).collect()
}
