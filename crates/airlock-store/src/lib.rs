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
mod body_json;
mod chain;
mod checkpoint;
mod error;
mod model;
mod pairing;
mod record_line;
mod review;
mod signing;
pub mod spool;
mod sqlite;
pub mod sqlite_alloc;
pub mod writer;

use async_trait::async_trait;

pub use audit::*;
pub use checkpoint::{
    Checkpoint, CheckpointBody, CheckpointFault, CheckpointPurpose, CheckpointRef, Signed,
};
pub use error::StoreError;
pub use model::*;
pub use record_line::AuditRecordLine;
pub use review::*;
pub use signing::{CheckpointKey, KeyError, PublicKey};
pub use sqlite::SqliteStore;

/// What [`Store::write_anchor`] did.
#[derive(Debug, Clone)]
pub struct Anchoring {
    /// The anchor written, if any.
    pub anchor: Option<Checkpoint>,
    /// The seq the anchor would reach without `up_to`: the end of the run
    /// of oldest records older than the cutoff (the latest anchor's seq
    /// when none is newer). Records from `up_to + 1` to here are the ones
    /// the bound held back.
    pub old_enough: i64,
}

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

    // --- reviews and grants (docs/reviews.md) -----------------------------
    /// Stores a new, pending review.
    async fn add_review(&self, review: &NewReview) -> Result<(), StoreError>;
    /// Accepts a full id or a unique prefix of one; with its decisions.
    async fn review(&self, id_or_prefix: &str) -> Result<Option<ReviewRecord>, StoreError>;
    /// Newest first, at most `limit`; only those in `state` when given.
    async fn list_reviews(
        &self,
        state: Option<ReviewState>,
        limit: u32,
    ) -> Result<Vec<ReviewRecord>, StoreError>;
    /// The oldest review of this very command (requester, connection and
    /// fingerprint) that is pending and not past `expires_at` at `now`:
    /// asking again joins it rather than opening another.
    async fn pending_review_of(
        &self,
        requester: &str,
        connection: &str,
        fingerprint: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<ReviewRecord>, StoreError>;
    /// Reviews `requester` asked for that are pending and not past
    /// `expires_at` at `now`.
    async fn count_pending_reviews(
        &self,
        requester: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, StoreError>;
    /// Marks every review still pending after its `expires_at` as expired;
    /// returns how many.
    async fn expire_reviews(&self, now: chrono::DateTime<chrono::Utc>) -> Result<u64, StoreError>;
    /// Records one reviewer's decision, in one transaction: the review must
    /// be pending and not past `expires_at` at `decision.at` (otherwise it is
    /// marked expired and `NotPending` returned), and the reviewer must not
    /// have decided on it before. A denial makes it `denied`; the approval
    /// that brings the distinct approvals to `approvals_needed` makes it
    /// `approved`. `id` is a full id.
    async fn decide_review(
        &self,
        id: &str,
        decision: &ReviewDecision,
    ) -> Result<DecideOutcome, StoreError>;
    /// Moves a pending review to `to` (`cancelled` or `expired`); `false`
    /// when it was not pending.
    async fn close_review(
        &self,
        id: &str,
        to: ReviewState,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError>;
    async fn add_grant(&self, grant: &NewGrant) -> Result<(), StoreError>;
    /// Finds a live grant that lets this command run and uses it, in one
    /// transaction: an unused `once` grant for the fingerprint first (then
    /// used up), else a `window` grant whose rules include all of
    /// `query.rules`. Revoked and expired grants never match.
    async fn use_grant(&self, query: &GrantQuery<'_>) -> Result<Option<GrantRecord>, StoreError>;
    /// Newest first; without `all`, only grants that can still be used at
    /// `now`.
    async fn list_grants(
        &self,
        all: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<GrantRecord>, StoreError>;
    /// Accepts a full id or a unique prefix; `false` when no live grant has
    /// that id.
    async fn revoke_grant(
        &self,
        id_or_prefix: &str,
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
    /// Walks the whole chain (from its retention anchor, if pruned) and
    /// the checkpoints, signed by any key, and reports the first thing that
    /// does not check out. A damaged log is a `Broken` verdict, not an
    /// error.
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

    // --- audit sinks ------------------------------------------------------
    /// Up to `limit` chain records with a seq above `after_seq`, in seq
    /// order, one per record of any kind, each as stored (body verbatim).
    /// Sinks tail the log with it instead of being fed by the data path.
    async fn audit_records_after(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecordLine>, StoreError>;
    /// The seq of the last record the sink `name` delivered; 0 for a sink
    /// never seen, so a new sink starts from the beginning of the log.
    async fn sink_cursor(&self, name: &str) -> Result<i64, StoreError>;
    async fn set_sink_cursor(&self, name: &str, seq: i64) -> Result<(), StoreError>;

    // --- checkpoints and retention -----------------------------------------
    /// Signs the chain's tip with `key` and appends the checkpoint to the
    /// chain (a `checkpoint` record) and to the checkpoint table, in one
    /// transaction holding the write lock, so the tip cannot move while it
    /// is signed. `None`, writing nothing, when nothing but checkpoints was
    /// added since the latest checkpoint.
    async fn write_checkpoint(
        &self,
        key: &CheckpointKey,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Checkpoint>, StoreError>;
    /// Writes an anchor (signed when `key` is given) for the longest run of
    /// oldest records that are all older than `cutoff`, cut at seq `up_to`
    /// (the lowest sink cursor; `i64::MAX` for no bound), after checking
    /// that run's links and hashes: pruning never hides damage (a damaged
    /// run is [`StoreError::Corrupt`]). No anchor when nothing new is old
    /// enough, or `up_to` holds it all back.
    async fn write_anchor(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
        up_to: i64,
        key: Option<&CheckpointKey>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Anchoring, StoreError>;
    /// Deletes up to `limit` of the oldest records at or below both the
    /// latest anchor and `up_to` in one short transaction; once none are
    /// left up to the anchor, also the checkpoints for records before it.
    /// Returns the number of records deleted: 0 when there is nothing left
    /// to prune.
    async fn prune_audit(&self, up_to: i64, limit: u32) -> Result<u64, StoreError>;
    /// Deletes up to `limit` session summaries that ended before `cutoff`.
    async fn prune_sessions(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<u64, StoreError>;
    /// [`Store::verify_audit`] with everything `airlock audit verify`
    /// reports. With `trusted` keys, every signature must be by one of them
    /// and the anchor must be signed.
    async fn verify_audit_checkpoints(
        &self,
        trusted: &[PublicKey],
    ) -> Result<AuditReport, StoreError>;
}
