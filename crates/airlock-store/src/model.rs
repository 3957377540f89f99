//! Records the store persists. Plain data: no behaviour, no I/O.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Whether an identity is a person or an automated agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityKind {
    User,
    Agent,
}

impl IdentityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::User => "user",
            IdentityKind::Agent => "agent",
        }
    }
}

impl std::str::FromStr for IdentityKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(IdentityKind::User),
            "agent" => Ok(IdentityKind::Agent),
            other => Err(format!("unknown identity kind {other:?}")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewIdentity {
    pub name: String,
    pub kind: IdentityKind,
    pub groups: Vec<String>,
    /// Salt shared by all of this identity's SCRAM verifiers: SCRAM sends the
    /// salt before the client proves anything, so the server cannot yet know
    /// which of several tokens the client holds.
    pub scram_salt: Vec<u8>,
    /// The person this identity belongs to, when several identities are one
    /// person's (a user's admin account, say): nobody approves a review
    /// requested by an identity of their own person. `None`: the identity is
    /// its own person.
    pub person: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    pub name: String,
    pub kind: IdentityKind,
    pub groups: Vec<String>,
    #[serde(skip)]
    pub scram_salt: Vec<u8>,
    pub created_at: DateTime<Utc>,
    /// The person this identity belongs to, when several identities are one
    /// person's (a user's admin account, say): nobody approves a review
    /// requested by an identity of their own person. `None`: the identity is
    /// its own person.
    pub person: Option<String>,
}

/// What the store keeps of a token: never the secret, only values derived
/// from it by one-way functions.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: String,
    pub identity: String,
    pub secret_sha256: Vec<u8>,
    pub scram_iterations: u32,
    pub scram_stored_key: Vec<u8>,
    pub scram_server_key: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenRecord {
    pub id: String,
    pub identity: String,
    #[serde(skip)]
    pub secret_sha256: Vec<u8>,
    #[serde(skip)]
    pub scram_iterations: u32,
    #[serde(skip)]
    pub scram_stored_key: Vec<u8>,
    #[serde(skip)]
    pub scram_server_key: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One data-path write. The writer batches these; order within a batch is
/// preserved so a session's start precedes its commands, a command its
/// outcome, and all of them the session's end. Each op becomes one
/// record of the audit chain (see `docs/audit.md`).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub enum WriteOp {
    SessionStart(SessionStart),
    /// A command, recorded before it is forwarded to the target (in
    /// durable mode the adapter waits for its commit).
    Command(CommandRecord),
    /// What became of a command recorded earlier.
    Outcome(OutcomeRecord),
    /// A command and its outcome as one record. The writer makes these
    /// when both reach the store in the same batch: one record per
    /// finished command instead of two halves what the store writes and
    /// indexes for the common case.
    Finished(Box<FinishedCommand>),
    SessionEnd(SessionEnd),
}

/// A command with its outcome ([`WriteOp::Finished`]).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct FinishedCommand {
    pub command: CommandRecord,
    pub outcome: OutcomeRecord,
    /// The same session's commands that finished after this one, in
    /// order, carried in the same record (a run): one row of the store for
    /// a session's statements of one batch instead of one each. The writer
    /// makes runs only of records held in memory, never of spooled ones
    /// (see `docs/audit.md`, "Runs"). Their own `then` is empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub then: Vec<FinishedCommand>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SessionStart {
    pub id: String,
    pub identity: String,
    pub connection: String,
    pub protocol: String,
    pub client_addr: String,
    pub started_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SessionEnd {
    pub id: String,
    /// Copied from the session's start so each chain record names who and
    /// where on its own.
    pub identity: String,
    pub connection: String,
    pub ended_at: DateTime<Utc>,
    pub end_reason: String,
    pub commands: i64,
    pub rows: i64,
    pub bytes_to_client: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionRecord {
    pub id: String,
    pub identity: String,
    pub connection: String,
    pub protocol: String,
    pub client_addr: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
    pub commands: i64,
    pub rows: i64,
    pub bytes_to_client: i64,
}

/// A command as the gateway judged it, before the target saw it. Every
/// text in it has been through the masker.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct CommandRecord {
    /// Unique: the session id and the command's position in the session.
    pub id: String,
    /// Shared (`Arc`): the same three texts are on every record a session
    /// makes, and a session makes one or two per command.
    pub session_id: Arc<str>,
    pub identity: Arc<str>,
    pub connection: Arc<str>,
    pub at: DateTime<Utc>,
    /// The command as the client sent it (SQL text for PostgreSQL), masked.
    /// (Shared with the adapter's own copy when masking left it as sent.)
    pub command: Arc<str>,
    /// Bound parameter values, masked (`None`: SQL NULL). (Shared with
    /// the adapter's portal, which every Execute of it records.)
    pub params: Arc<[Option<String>]>,
    /// `allow`, `mask:RULES`, `review:RULES`, `block:RULE`, or
    /// `refused:WHY` when the gateway itself refused it. (Borrowed where
    /// the label is fixed: most commands' record then allocates no copy.)
    pub verdict: Cow<'static, str>,
    /// The rules that fired.
    pub rules: Vec<String>,
    /// For a command a review rule gated: what became of its review.
    /// (Boxed: rare, and it would otherwise grow every queued write op.)
    pub review: Option<Box<crate::ReviewRef>>,
}

/// A command's result, recorded when the target finished it (or the
/// session ended with it unfinished).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct OutcomeRecord {
    /// The [`CommandRecord::id`] it completes.
    pub event_id: String,
    pub session_id: Arc<str>,
    pub identity: Arc<str>,
    pub connection: Arc<str>,
    /// When it finished.
    pub at: DateTime<Utc>,
    pub duration_us: i64,
    pub rows: i64,
    /// Bytes of result data sent to the client.
    pub bytes: i64,
    /// `SQLSTATE: message`, masked, when the command failed.
    pub error: Option<String>,
    pub preview: Option<Preview>,
}

/// The first rows of a result as the client received them (masked).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct Preview {
    pub columns: Arc<[String]>,
    /// Values as text. Binary-format values that are printable text are
    /// shown (and masked) as text, others as `\x` and hex.
    pub rows: Vec<Vec<Option<String>>>,
    /// More rows (or bytes) came than the preview keeps.
    pub truncated: bool,
}

/// One command and, once it finished, its outcome: what reading the audit
/// trail of a session returns.
#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    #[serde(flatten)]
    pub command: CommandRecord,
    /// `None` when no outcome was recorded: the gateway stopped while the
    /// command ran, or it is still running.
    pub outcome: Option<OutcomeRecord>,
}
