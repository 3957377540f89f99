//! Persistence for Airlock.
//!
//! Everything the gateway remembers goes through the [`Store`] trait, so a
//! PostgreSQL implementation can replace the embedded SQLite one without
//! touching callers. Writes on the data path (sessions, commands, outcomes)
//! do not call the store directly: they go through the batching
//! [`writer::Writer`], which turns many small writes into one transaction.
//! Each of those writes becomes a record of the hash-linked audit chain
//! (`docs/audit.md`).

mod audit;
mod body;
mod chain;
mod error;
mod model;
mod sqlite;
pub mod writer;

use async_trait::async_trait;

pub use audit::*;
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

    // --- sessions and the audit chain (written in batches by the writer) --
    /// Appends the ops to the audit chain, in order, in one transaction.
    /// Calling it again with a batch that already landed (a retry after an
    /// uncertain commit) changes nothing: a batch is recognised by the ids
    /// of its first and last records. Any other reuse of a record id fails
    /// the batch with [`StoreError::AlreadyExists`].
    async fn write_batch(&self, ops: &[WriteOp]) -> Result<(), StoreError>;
    async fn list_sessions(&self, limit: u32) -> Result<Vec<SessionRecord>, StoreError>;
    /// Accepts a full id or a unique prefix of one.
    async fn session(&self, id_or_prefix: &str) -> Result<Option<SessionRecord>, StoreError>;
    /// The session's commands in the order they were recorded, each with
    /// its outcome when one was recorded.
    async fn session_events(&self, session_id: &str) -> Result<Vec<EventRecord>, StoreError>;
    /// Walks the whole chain and reports the first record that does not
    /// check out. A damaged log is a `Broken` verdict, not an error.
    async fn verify_audit(&self) -> Result<AuditVerification, StoreError>;
    /// Streams session records and commands (each joined with its outcome)
    /// in chain order to `sink`, one line at a time; returns how many
    /// lines it passed. A sink error stops the export
    /// ([`StoreError::Output`]).
    // `for<'l>` is spelt out because async_trait would otherwise tie the
    // line's borrow to the call's lifetime, which no caller can satisfy.
    async fn export_audit(
        &self,
        filter: &AuditFilter,
        sink: &mut (dyn for<'l> FnMut(&'l AuditLine) -> std::io::Result<()> + Send),
    ) -> Result<u64, StoreError>;
}
