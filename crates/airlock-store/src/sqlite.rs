//! The embedded SQLite store.
//!
//! One database file is shared by the running gateway and by CLI processes,
//! so it runs in WAL mode (readers never block the writer) with a busy
//! timeout (a second writer waits for the lock instead of failing at once).

mod batch;
mod checkpoint;
mod direct_insert;
mod grants;
mod read;
mod retention;
mod reviews;
mod rows;
mod tail;
mod verify;
mod verify_checkpoints;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::{
    AuditFilter, AuditLine, AuditVerification, DecideOutcome, EventRecord, GrantQuery, GrantRecord,
    Identity, NewGrant, NewIdentity, NewReview, NewToken, ReviewDecision, ReviewRecord,
    ReviewState, SessionRecord, Store, StoreError, TokenRecord, WriteOp,
};
use rows::{identity_columns, millis, session_columns, token_columns};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CONNECTIONS: u32 = 4;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its
    /// schema up to date. Every commit is flushed to disk.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_with(path, true).await
    }

    /// As [`SqliteStore::open`]; `fsync: false` leaves flushing to SQLite's
    /// checkpoints (`synchronous = NORMAL` in WAL mode): a commit then
    /// survives the process dying, not the machine losing power.
    pub async fn open_with(path: &Path, fsync: bool) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir).await.map_err(|e| {
                StoreError::Unavailable(format!("cannot create directory {}: {e}", dir.display()))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With fsync, audit events survive a power cut once committed;
            // group commit is what keeps the cost of the flush low.
            .synchronous(if fsync {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            })
            .busy_timeout(BUSY_TIMEOUT)
            // The tail of the audit log and its indexes are touched by
            // every batch; a page cache that holds them saves re-reading
            // them from the OS (negative: KiB, so 32 MiB per connection).
            .pragma("cache_size", "-32768")
            // A batch's multi-row INSERT keeps a statement journal of
            // every page it touches; on disk that is a temp-file write
            // per page per batch, for a journal that lives microseconds.
            .pragma("temp_store", "memory")
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            // A ping before every use is one more round trip to the
            // connection's thread per batch; a broken SQLite connection
            // fails its next statement anyway, and the writer retries.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Self::migrated(pool).await
    }

    /// A private database that lives as long as this store; for tests.
    pub async fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::new()
            .in_memory(true)
            .foreign_keys(true);
        // Every in-memory connection is a separate database, so the pool must
        // hold exactly one connection and never let it go.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        Self::migrated(pool).await
    }

    async fn migrated(pool: SqlitePool) -> Result<SqliteStore, StoreError> {
        // The write lock serialises processes that open a fresh file at the
        // same moment; without it both would try to apply the same migration.
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        MIGRATOR.run(&mut *tx).await?;
        tx.commit().await?;
        Ok(SqliteStore { pool })
    }

    /// Waits for in-flight queries and closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

/// The full id that `id_or_prefix` names: itself when `exact` (selecting
/// `id` where `id = ?1`) finds it, else the one id `by_prefix` (the same,
/// for ids starting with `?1`, `LIMIT 2`) finds. Prefixes come from people
/// typing ids, so the scan is fine; substr rather than LIKE keeps `%` and
/// `_` literal and ports to PostgreSQL unchanged.
async fn resolve_id(
    conn: &mut SqliteConnection,
    exact: &'static str,
    by_prefix: &'static str,
    what: &str,
    id_or_prefix: &str,
) -> Result<Option<String>, StoreError> {
    if id_or_prefix.is_empty() {
        return Ok(None);
    }
    if sqlx::query(exact)
        .bind(id_or_prefix)
        .fetch_optional(&mut *conn)
        .await?
        .is_some()
    {
        return Ok(Some(id_or_prefix.to_string()));
    }
    let found = sqlx::query(by_prefix)
        .bind(id_or_prefix)
        .fetch_all(&mut *conn)
        .await?;
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(sqlx::Row::try_get(one, "id")?)),
        _ => Err(StoreError::Ambiguous(format!(
            "{what} prefix {id_or_prefix:?}"
        ))),
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn add_identity(&self, new: &NewIdentity) -> Result<Identity, StoreError> {
        let created_at = rows::now_millis();
        sqlx::query(
            "INSERT INTO identities (name, kind, groups, scram_salt, created_at, person) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&new.name)
        .bind(new.kind.as_str())
        .bind(rows::encode_groups(&new.groups)?)
        .bind(&new.scram_salt)
        .bind(millis(created_at))
        .bind(new.person.as_deref())
        .execute(&self.pool)
        .await
        .map_err(|e| match e {
            e if is_unique_violation(&e) => {
                StoreError::AlreadyExists(format!("identity {}", new.name))
            }
            e => StoreError::Database(e),
        })?;
        Ok(Identity {
            name: new.name.clone(),
            kind: new.kind,
            groups: new.groups.clone(),
            scram_salt: new.scram_salt.clone(),
            created_at,
            person: new.person.clone(),
        })
    }

    async fn identity(&self, name: &str) -> Result<Option<Identity>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            identity_columns!(),
            " FROM identities WHERE name = ?"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(rows::identity).transpose()
    }

    async fn list_identities(&self) -> Result<Vec<Identity>, StoreError> {
        let found = sqlx::query(concat!(
            "SELECT ",
            identity_columns!(),
            " FROM identities ORDER BY name"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows::all(&found, rows::identity)
    }

    async fn add_token(&self, token: &NewToken) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tokens (id, identity, secret_sha256, scram_iterations, scram_stored_key, \
             scram_server_key, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&token.id)
        .bind(&token.identity)
        .bind(&token.secret_sha256)
        .bind(i64::from(token.scram_iterations))
        .bind(&token.scram_stored_key)
        .bind(&token.scram_server_key)
        .bind(millis(token.created_at))
        .bind(token.expires_at.map(millis))
        .execute(&self.pool)
        .await
        .map_err(|e| match e {
            // Either the id or the secret's hash collided; which one is not
            // worth revealing.
            e if is_unique_violation(&e) => {
                StoreError::AlreadyExists(format!("token {}", token.id))
            }
            e if is_foreign_key_violation(&e) => {
                StoreError::NotFound(format!("identity {}", token.identity))
            }
            e => StoreError::Database(e),
        })?;
        Ok(())
    }

    async fn live_tokens(
        &self,
        identity: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        let found = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE identity = ? AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at, id"
        ))
        .bind(identity)
        .bind(millis(now))
        .fetch_all(&self.pool)
        .await?;
        rows::all(&found, rows::token)
    }

    async fn token_by_hash(&self, secret_sha256: &[u8]) -> Result<Option<TokenRecord>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE secret_sha256 = ?"
        ))
        .bind(secret_sha256)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(rows::token).transpose()
    }

    async fn list_tokens(&self, identity: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        let found = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE ?1 IS NULL OR identity = ?1 ORDER BY identity, created_at, id"
        ))
        .bind(identity)
        .fetch_all(&self.pool)
        .await?;
        rows::all(&found, rows::token)
    }

    async fn revoke_token(&self, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        // Revoking twice keeps the first time: that is when access ended.
        let done =
            sqlx::query("UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?")
                .bind(millis(at))
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn add_review(&self, review: &NewReview) -> Result<(), StoreError> {
        reviews::add(&self.pool, review).await
    }

    async fn review(&self, id_or_prefix: &str) -> Result<Option<ReviewRecord>, StoreError> {
        reviews::get(&self.pool, id_or_prefix).await
    }

    async fn list_reviews(
        &self,
        state: Option<ReviewState>,
        limit: u32,
    ) -> Result<Vec<ReviewRecord>, StoreError> {
        reviews::list(&self.pool, state, limit).await
    }

    async fn pending_review_of(
        &self,
        requester: &str,
        connection: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ReviewRecord>, StoreError> {
        reviews::pending_of(&self.pool, requester, connection, fingerprint, now).await
    }

    async fn count_pending_reviews(
        &self,
        requester: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        reviews::count_pending(&self.pool, requester, now).await
    }

    async fn expire_reviews(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        reviews::expire(&self.pool, now).await
    }

    async fn decide_review(
        &self,
        id: &str,
        decision: &ReviewDecision,
    ) -> Result<DecideOutcome, StoreError> {
        reviews::decide(&self.pool, id, decision).await
    }

    async fn close_review(
        &self,
        id: &str,
        to: ReviewState,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        reviews::close(&self.pool, id, to, at).await
    }

    async fn add_grant(&self, grant: &NewGrant) -> Result<(), StoreError> {
        grants::add(&self.pool, grant).await
    }

    async fn use_grant(&self, query: &GrantQuery<'_>) -> Result<Option<GrantRecord>, StoreError> {
        grants::use_one(&self.pool, query).await
    }

    async fn list_grants(
        &self,
        all: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<GrantRecord>, StoreError> {
        grants::list(&self.pool, all, now).await
    }

    async fn revoke_grant(
        &self,
        id_or_prefix: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        grants::revoke(&self.pool, id_or_prefix, at).await
    }

    async fn write_batch(&self, ops: &[WriteOp]) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        // IMMEDIATE takes the write lock up front, so waiting for another
        // process goes through the busy timeout instead of failing mid-batch.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        batch::apply_all(&mut tx, ops).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_sessions(&self, limit: u32) -> Result<Vec<SessionRecord>, StoreError> {
        let found = sqlx::query(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions ORDER BY started_at DESC, id DESC LIMIT ?"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows::all(&found, rows::session)
    }

    async fn session(&self, id_or_prefix: &str) -> Result<Option<SessionRecord>, StoreError> {
        if id_or_prefix.is_empty() {
            return Ok(None);
        }
        let exact = sqlx::query(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE id = ?"
        ))
        .bind(id_or_prefix)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = exact {
            return rows::session(&row).map(Some);
        }
        // Prefix lookups come from people typing ids, so a scan is fine;
        // substr rather than LIKE keeps `%` and `_` literal and ports to
        // PostgreSQL unchanged.
        let mut found = sqlx::query(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2"
        ))
        .bind(id_or_prefix)
        .fetch_all(&self.pool)
        .await?;
        match found.len() {
            0 => Ok(None),
            1 => found.pop().as_ref().map(rows::session).transpose(),
            _ => Err(StoreError::Ambiguous(format!(
                "session prefix {id_or_prefix:?}"
            ))),
        }
    }

    async fn session_events(&self, session_id: &str) -> Result<Vec<EventRecord>, StoreError> {
        read::session_events(&self.pool, session_id).await
    }

    async fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        Ok(verify::verify(&self.pool, &[]).await?.verification)
    }

    async fn export_audit(
        &self,
        filter: &AuditFilter,
        sink: &mut (dyn for<'l> FnMut(&'l AuditLine) -> std::io::Result<()> + Send),
    ) -> Result<u64, StoreError> {
        read::export(&self.pool, filter, sink).await
    }

    async fn audit_records_after(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<crate::AuditRecordLine>, StoreError> {
        tail::records_after(&self.pool, after_seq, limit).await
    }

    async fn sink_cursor(&self, name: &str) -> Result<i64, StoreError> {
        tail::cursor(&self.pool, name).await
    }

    async fn set_sink_cursor(&self, name: &str, seq: i64) -> Result<(), StoreError> {
        tail::set_cursor(&self.pool, name, seq).await
    }

    async fn write_checkpoint(
        &self,
        key: &crate::CheckpointKey,
        at: DateTime<Utc>,
    ) -> Result<Option<crate::Checkpoint>, StoreError> {
        checkpoint::write(&self.pool, key, at).await
    }

    async fn write_anchor(
        &self,
        cutoff: DateTime<Utc>,
        up_to: i64,
        key: Option<&crate::CheckpointKey>,
        at: DateTime<Utc>,
    ) -> Result<crate::Anchoring, StoreError> {
        retention::write_anchor(&self.pool, cutoff, up_to, key, at).await
    }

    async fn prune_audit(&self, up_to: i64, limit: u32) -> Result<u64, StoreError> {
        retention::prune_audit(&self.pool, up_to, limit).await
    }

    async fn prune_sessions(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<u64, StoreError> {
        retention::prune_sessions(&self.pool, cutoff, limit).await
    }

    async fn verify_audit_checkpoints(
        &self,
        trusted: &[crate::PublicKey],
    ) -> Result<crate::AuditReport, StoreError> {
        verify::verify(&self.pool, trusted).await
    }
}
