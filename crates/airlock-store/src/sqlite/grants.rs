//! Grants: what an approved review lets its requester run afterwards.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::SqliteConnection;
use sqlx::sqlite::{SqlitePool, SqliteRow};

use super::rows::{self, millis, opt_time, time};
use crate::{GrantKind, GrantQuery, GrantRecord, NewGrant, StoreError};

macro_rules! grant_columns {
    () => {
        "id, review_id, identity, connection, kind, fingerprint, rules, approved_by, \
         created_at, expires_at, uses, last_used_at, revoked_at"
    };
}

pub(super) async fn add(pool: &SqlitePool, grant: &NewGrant) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO grants (id, review_id, identity, connection, kind, fingerprint, rules, \
         approved_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&grant.id)
    .bind(&grant.review_id)
    .bind(&grant.identity)
    .bind(&grant.connection)
    .bind(grant.kind.as_str())
    .bind(grant.fingerprint.as_deref())
    .bind(rows::encode_list("rules", &grant.rules)?)
    .bind(rows::encode_list("approved_by", &grant.approved_by)?)
    .bind(millis(grant.created_at))
    .bind(millis(grant.expires_at))
    .execute(pool)
    .await
    .map_err(|e| match e {
        e if super::is_unique_violation(&e) => {
            StoreError::AlreadyExists(format!("grant {}", grant.id))
        }
        e if super::is_foreign_key_violation(&e) => {
            StoreError::NotFound(format!("review {}", grant.review_id))
        }
        e => StoreError::Database(e),
    })?;
    Ok(())
}

pub(super) async fn use_one(
    pool: &SqlitePool,
    query: &GrantQuery<'_>,
) -> Result<Option<GrantRecord>, StoreError> {
    // The write lock before the first read: two sessions sending the same
    // command at once must not both find the once grant unused.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let found = match once(&mut tx, query).await? {
        Some(id) => Some(id),
        None => window(&mut tx, query).await?,
    };
    let Some(id) = found else {
        tx.rollback().await?;
        return Ok(None);
    };
    let row = sqlx::query(concat!(
        "UPDATE grants SET uses = uses + 1, last_used_at = ? WHERE id = ? RETURNING ",
        grant_columns!()
    ))
    .bind(millis(query.now))
    .bind(&id)
    .fetch_one(&mut *tx)
    .await?;
    let used = grant(&row)?;
    tx.commit().await?;
    Ok(Some(used))
}

/// The oldest unused once grant for exactly this command.
async fn once(
    conn: &mut SqliteConnection,
    query: &GrantQuery<'_>,
) -> Result<Option<String>, StoreError> {
    let id = sqlx::query(
        "SELECT id FROM grants WHERE identity = ? AND connection = ? AND kind = 'once' \
         AND fingerprint = ? AND uses = 0 AND revoked_at IS NULL AND expires_at > ? \
         ORDER BY created_at, id LIMIT 1",
    )
    .bind(query.identity)
    .bind(query.connection)
    .bind(query.fingerprint)
    .bind(millis(query.now))
    .fetch_optional(conn)
    .await?
    .map(|row| row.try_get("id"))
    .transpose()?;
    Ok(id)
}

/// The oldest live window grant whose rules cover every rule that fired.
/// Rules are a JSON array, so the covering is checked here; an identity
/// holds few live windows on one connection.
async fn window(
    conn: &mut SqliteConnection,
    query: &GrantQuery<'_>,
) -> Result<Option<String>, StoreError> {
    let candidates = sqlx::query(concat!(
        "SELECT ",
        grant_columns!(),
        " FROM grants WHERE identity = ? AND connection = ? AND kind = 'window' \
         AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at, id"
    ))
    .bind(query.identity)
    .bind(query.connection)
    .bind(millis(query.now))
    .fetch_all(conn)
    .await?;
    for row in &candidates {
        let candidate = grant(row)?;
        if query
            .rules
            .iter()
            .all(|rule| candidate.rules.contains(rule))
        {
            return Ok(Some(candidate.id));
        }
    }
    Ok(None)
}

pub(super) async fn list(
    pool: &SqlitePool,
    all: bool,
    now: DateTime<Utc>,
) -> Result<Vec<GrantRecord>, StoreError> {
    let found = sqlx::query(concat!(
        "SELECT ",
        grant_columns!(),
        " FROM grants WHERE ?1 OR (revoked_at IS NULL AND expires_at > ?2 \
         AND (kind <> 'once' OR uses = 0)) ORDER BY created_at DESC, id DESC"
    ))
    .bind(all)
    .bind(millis(now))
    .fetch_all(pool)
    .await?;
    rows::all(&found, grant)
}

pub(super) async fn revoke(
    pool: &SqlitePool,
    id_or_prefix: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    // Resolving the prefix and revoking in one transaction: the write lock
    // from the start, as an upgrade from a read could fail on a busy
    // database instead of waiting.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // A prefix names one grant among all of them, revoked ones included,
    // as for reviews and sessions: it never silently picks the one live
    // grant out of several that share the prefix.
    let Some(id) = super::resolve_id(
        &mut tx,
        "SELECT id FROM grants WHERE id = ?1",
        "SELECT id FROM grants WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2",
        "grant",
        id_or_prefix,
    )
    .await?
    else {
        tx.rollback().await?;
        return Ok(false);
    };
    // Revoking twice keeps the first time: that is when access ended.
    let done = sqlx::query("UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
        .bind(millis(at))
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}

fn grant(row: &SqliteRow) -> Result<GrantRecord, StoreError> {
    let id: String = row.try_get("id")?;
    let owner = format!("grant {id}");
    let kind: String = row.try_get("kind")?;
    let kind = GrantKind::parse(&kind)
        .ok_or_else(|| StoreError::Corrupt(format!("{owner}: unknown kind {kind:?}")))?;
    Ok(GrantRecord {
        review_id: row.try_get("review_id")?,
        identity: row.try_get("identity")?,
        connection: row.try_get("connection")?,
        kind,
        fingerprint: row.try_get("fingerprint")?,
        rules: rows::list(row, "rules", &owner)?,
        approved_by: rows::list(row, "approved_by", &owner)?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        uses: row.try_get("uses")?,
        last_used_at: opt_time(row, "last_used_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
        id,
    })
}
