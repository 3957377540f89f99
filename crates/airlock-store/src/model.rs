//! Records the store persists. Plain data: no behaviour, no I/O.

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
}

#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    pub name: String,
    pub kind: IdentityKind,
    pub groups: Vec<String>,
    #[serde(skip)]
    pub scram_salt: Vec<u8>,
    pub created_at: DateTime<Utc>,
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
/// preserved so a session's start precedes its events and its end.
#[derive(Debug, Clone)]
pub enum WriteOp {
    SessionStart(SessionStart),
    Event(EventRecord),
    SessionEnd(SessionEnd),
}

#[derive(Debug, Clone)]
pub struct SessionStart {
    pub id: String,
    pub identity: String,
    pub connection: String,
    pub protocol: String,
    pub client_addr: String,
    pub started_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct SessionEnd {
    pub id: String,
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

/// One command and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    pub id: String,
    pub session_id: String,
    pub identity: String,
    pub connection: String,
    pub at: DateTime<Utc>,
    /// The command as the client sent it (SQL text for PostgreSQL).
    pub command: String,
    /// Bound parameters are counted, not recorded, until masking exists.
    pub param_count: i32,
    /// `allow`, or `block:RULE` once rules exist.
    pub verdict: String,
    pub rows: i64,
    pub bytes: i64,
    pub duration_us: i64,
    /// `SQLSTATE: message` when the command failed.
    pub error: Option<String>,
}
