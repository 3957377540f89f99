//! One chain record as it is stored, for consumers that follow the log
//! record by record (the audit sinks), unlike the export, which joins
//! outcomes into their commands.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// A chain record, self-contained: whoever receives it alone can still
/// recompute its hash (`docs/audit.md`, "The hash") from `kind`, `id`,
/// `at` (as unix milliseconds), `session`, `identity`, `connection` and
/// `body` (embedded verbatim, never re-encoded), and check it against
/// `prev_hash` and `hash`.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecordLine {
    pub seq: i64,
    /// Kept as stored so that kinds added later pass through untouched.
    pub kind: String,
    pub id: String,
    #[serde(serialize_with = "millis_rfc3339")]
    pub at: DateTime<Utc>,
    pub session: String,
    pub identity: String,
    pub connection: String,
    /// The stored body, byte for byte: re-encoding it through a map would
    /// reorder its keys and break the hash for anyone checking it.
    pub body: Box<RawValue>,
    /// Hex.
    pub prev_hash: String,
    /// Hex.
    pub hash: String,
}

/// Always three digits of milliseconds, as the export writes them, so a
/// time converts back to the exact `at` that was hashed.
fn millis_rfc3339<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
}
