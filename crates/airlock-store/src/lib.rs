//! Persistence for Airlock.
//!
//! Everything the gateway remembers goes through the [`Store`] trait, so a
//! PostgreSQL implementation can replace the embedded SQLite one without
//! touching callers. Writes on the data path (sessions, events) do not call
//! the store directly: they go through the batching [`writer::Writer`], which
//! turns many small writes into one transaction.

mod error;
mod model;
mod sqlite;
pub mod writer;

use async_trait::async_trait;

pub use error::StoreError;
pub use model::*;
pub use sqlite::SqliteStore;

/// The persistence boundary. Implementations must be cheap to share
/// (`Arc<dyn Store>`) and safe to call from many tasks at once.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- identities -------------------------------------------------------
    /// Fails with [`StoreError::AlreadyExists`] when the name is taken.
    async fn add_identity(&self, identity: &NewIdentity) -> Result<Identity, StoreError>;
    async fn identity(&self, name: &str) -> Result<Option<Identity>, StoreError>;
    async fn list_identities(&self) -> Result<Vec<Identity>, StoreError>;

    // --- tokens -----------------------------------------------------------
    async fn add_token(&self, token: &NewToken) -> Result<(), StoreError>;
    /// Tokens of one identity that are neither revoked nor expired at `now`.
    async fn live_tokens(
        &self,
        identity: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<TokenRecord>, StoreError>;
    /// Looks a token up by the SHA-256 of its secret (API bearer auth).
    async fn token_by_hash(&self, secret_sha256: &[u8]) -> Result<Option<TokenRecord>, StoreError>;
    async fn list_tokens(&self, identity: Option<&str>) -> Result<Vec<TokenRecord>, StoreError>;
    /// Returns `false` when no token has that id.
    async fn revoke_token(
        &self,
        id: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError>;

    // --- sessions and events (written in batches by the writer) ----------
    async fn write_batch(&self, ops: &[WriteOp]) -> Result<(), StoreError>;
    async fn list_sessions(&self, limit: u32) -> Result<Vec<SessionRecord>, StoreError>;
    /// Accepts a full id or a unique prefix of one.
    async fn session(&self, id_or_prefix: &str) -> Result<Option<SessionRecord>, StoreError>;
    async fn session_events(&self, session_id: &str) -> Result<Vec<EventRecord>, StoreError>;
}
