//! Builders and a fault-injecting store shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::atomic::{AtomicUsize, Ordering};

use airlock_store::*;
use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

pub fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .expect("valid test timestamp")
}

pub fn identity(name: &str, kind: IdentityKind, groups: &[&str]) -> NewIdentity {
    NewIdentity {
        name: name.into(),
        kind,
        groups: groups.iter().map(|g| g.to_string()).collect(),
        scram_salt: name.as_bytes().to_vec(),
        person: None,
    }
}

pub fn token(id: &str, identity: &str, expires_in: Option<Duration>) -> NewToken {
    let created_at = Utc::now();
    NewToken {
        id: id.into(),
        identity: identity.into(),
        secret_sha256: format!("sha256-of-{id}").into_bytes(),
        scram_iterations: 4096,
        scram_stored_key: vec![1; 32],
        scram_server_key: vec![2; 32],
        created_at,
        expires_at: expires_in.map(|d| created_at + d),
    }
}

pub fn start(id: &str, started_at_ms: i64) -> WriteOp {
    WriteOp::SessionStart(SessionStart {
        id: id.into(),
        identity: "alice".into(),
        connection: "prod-db".into(),
        protocol: "postgres".into(),
        client_addr: "127.0.0.1:5555".into(),
        started_at: at(started_at_ms),
    })
}

pub fn command_record(session: &str, n: usize) -> CommandRecord {
    CommandRecord {
        id: format!("{session}-ev-{n:05}"),
        session_id: session.into(),
        identity: "alice".into(),
        connection: "prod-db".into(),
        // Deliberately equal timestamps: order must come from insertion.
        at: at(1_700_000_000_000),
        command: format!("SELECT {n}").into(),
        params: vec![Some(n.to_string()), None].into(),
        verdict: "allow".into(),
        rules: Vec::new(),
        review: None,
    }
}

pub fn command(session: &str, n: usize) -> WriteOp {
    WriteOp::Command(command_record(session, n))
}

pub fn outcome_record(session: &str, n: usize) -> OutcomeRecord {
    OutcomeRecord {
        event_id: format!("{session}-ev-{n:05}"),
        session_id: session.into(),
        identity: "alice".into(),
        connection: "prod-db".into(),
        at: at(1_700_000_000_001),
        duration_us: 100,
        rows: 1,
        bytes: 10,
        error: None,
        preview: Some(Preview {
            columns: vec!["n".into()].into(),
            rows: vec![vec![Some(n.to_string())]],
            truncated: false,
        }),
    }
}

pub fn outcome(session: &str, n: usize) -> WriteOp {
    WriteOp::Outcome(outcome_record(session, n))
}

pub fn end(session: &str, commands: i64) -> WriteOp {
    WriteOp::SessionEnd(SessionEnd {
        id: session.into(),
        identity: "alice".into(),
        connection: "prod-db".into(),
        ended_at: at(1_700_000_100_000),
        end_reason: "client closed".into(),
        commands,
        rows: commands,
        bytes_to_client: commands * 10,
    })
}

/// `fail_first` for a store whose batches never finish.
#[allow(dead_code)]
pub const STALL: usize = usize::MAX;

/// Delegates to a real store, failing the first `fail_first` batches
/// (or stalling every one, with [`STALL`]).
pub struct Faulty<S> {
    pub inner: S,
    pub fail_first: usize,
    pub batch_calls: AtomicUsize,
    /// Added to every batch: a store slower than the data path.
    pub delay: std::time::Duration,
}

impl<S> Faulty<S> {
    pub fn new(inner: S, fail_first: usize) -> Self {
        Faulty {
            inner,
            fail_first,
            batch_calls: AtomicUsize::new(0),
            delay: std::time::Duration::ZERO,
        }
    }

    #[allow(dead_code)]
    pub fn slow(mut self, delay: std::time::Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn batch_calls(&self) -> usize {
        self.batch_calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl<S: Store> Store for Faulty<S> {
    async fn add_identity(&self, identity: &NewIdentity) -> Result<Identity, StoreError> {
        self.inner.add_identity(identity).await
    }
    async fn identity(&self, name: &str) -> Result<Option<Identity>, StoreError> {
        self.inner.identity(name).await
    }
    async fn list_identities(&self) -> Result<Vec<Identity>, StoreError> {
        self.inner.list_identities().await
    }
    async fn add_token(&self, token: &NewToken) -> Result<(), StoreError> {
        self.inner.add_token(token).await
    }
    async fn live_tokens(
        &self,
        identity: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        self.inner.live_tokens(identity, now).await
    }
    async fn token_by_hash(&self, secret_sha256: &[u8]) -> Result<Option<TokenRecord>, StoreError> {
        self.inner.token_by_hash(secret_sha256).await
    }
    async fn list_tokens(&self, identity: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        self.inner.list_tokens(identity).await
    }
    async fn revoke_token(&self, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.inner.revoke_token(id, at).await
    }
    async fn add_review(&self, review: &NewReview) -> Result<(), StoreError> {
        self.inner.add_review(review).await
    }
    async fn review(&self, id_or_prefix: &str) -> Result<Option<ReviewRecord>, StoreError> {
        self.inner.review(id_or_prefix).await
    }
    async fn list_reviews(
        &self,
        state: Option<ReviewState>,
        limit: u32,
    ) -> Result<Vec<ReviewRecord>, StoreError> {
        self.inner.list_reviews(state, limit).await
    }
    async fn pending_review_of(
        &self,
        requester: &str,
        connection: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<airlock_store::ReviewRecord>, StoreError> {
        self.inner
            .pending_review_of(requester, connection, fingerprint, now)
            .await
    }
    async fn count_pending_reviews(
        &self,
        requester: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.inner.count_pending_reviews(requester, now).await
    }
    async fn expire_reviews(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.inner.expire_reviews(now).await
    }
    async fn decide_review(
        &self,
        id: &str,
        decision: &ReviewDecision,
    ) -> Result<DecideOutcome, StoreError> {
        self.inner.decide_review(id, decision).await
    }
    async fn close_review(
        &self,
        id: &str,
        to: ReviewState,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.inner.close_review(id, to, at).await
    }
    async fn add_grant(&self, grant: &NewGrant) -> Result<(), StoreError> {
        self.inner.add_grant(grant).await
    }
    async fn use_grant(&self, query: &GrantQuery<'_>) -> Result<Option<GrantRecord>, StoreError> {
        self.inner.use_grant(query).await
    }
    async fn list_grants(
        &self,
        all: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<GrantRecord>, StoreError> {
        self.inner.list_grants(all, now).await
    }
    async fn revoke_grant(
        &self,
        id_or_prefix: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.inner.revoke_grant(id_or_prefix, at).await
    }
    async fn write_batch(&self, ops: &[WriteOp]) -> Result<(), StoreError> {
        let call = self.batch_calls.fetch_add(1, Ordering::SeqCst);
        if self.fail_first == STALL {
            // A process that dies before its batch lands: it never does.
            return std::future::pending().await;
        }
        if call < self.fail_first {
            return Err(StoreError::Unavailable(format!("injected failure {call}")));
        }
        tokio::time::sleep(self.delay).await;
        self.inner.write_batch(ops).await
    }
    async fn list_sessions(&self, limit: u32) -> Result<Vec<SessionRecord>, StoreError> {
        self.inner.list_sessions(limit).await
    }
    async fn session(&self, id_or_prefix: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.inner.session(id_or_prefix).await
    }
    async fn session_events(&self, session_id: &str) -> Result<Vec<EventRecord>, StoreError> {
        self.inner.session_events(session_id).await
    }
    async fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        self.inner.verify_audit().await
    }
    async fn export_audit(
        &self,
        filter: &AuditFilter,
        sink: &mut (dyn for<'l> FnMut(&'l AuditLine) -> std::io::Result<()> + Send),
    ) -> Result<u64, StoreError> {
        self.inner.export_audit(filter, sink).await
    }
    async fn audit_records_after(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecordLine>, StoreError> {
        self.inner.audit_records_after(after_seq, limit).await
    }
    async fn sink_cursor(&self, name: &str) -> Result<i64, StoreError> {
        self.inner.sink_cursor(name).await
    }
    async fn set_sink_cursor(&self, name: &str, seq: i64) -> Result<(), StoreError> {
        self.inner.set_sink_cursor(name, seq).await
    }
    async fn write_checkpoint(
        &self,
        key: &CheckpointKey,
        at: DateTime<Utc>,
    ) -> Result<Option<Checkpoint>, StoreError> {
        self.inner.write_checkpoint(key, at).await
    }
    async fn write_anchor(
        &self,
        cutoff: DateTime<Utc>,
        up_to: i64,
        key: Option<&CheckpointKey>,
        at: DateTime<Utc>,
    ) -> Result<Anchoring, StoreError> {
        self.inner.write_anchor(cutoff, up_to, key, at).await
    }
    async fn prune_audit(&self, up_to: i64, limit: u32) -> Result<u64, StoreError> {
        self.inner.prune_audit(up_to, limit).await
    }
    async fn prune_sessions(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<u64, StoreError> {
        self.inner.prune_sessions(cutoff, limit).await
    }
    async fn verify_audit_checkpoints(
        &self,
        trusted: &[PublicKey],
    ) -> Result<AuditReport, StoreError> {
        self.inner.verify_audit_checkpoints(trusted).await
    }
}

/// A connection of its own to the store's file, outside the store: what a
/// test uses to look at the rows, or to tamper with them as an intruder
/// with the file would.
pub async fn raw_connection(path: &std::path::Path) -> SqliteConnection {
    SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(path))
        .await
        .expect("raw connection")
}
