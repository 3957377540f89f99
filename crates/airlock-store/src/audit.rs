//! What reading the audit chain returns: export lines and the verdict of a
//! verification. The chain's layout and hash are in `docs/audit.md`.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};

use crate::Preview;

/// The kind of a chain record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AuditKind {
    #[serde(rename = "session.start")]
    SessionStart,
    #[serde(rename = "command")]
    Command,
    #[serde(rename = "outcome")]
    Outcome,
    #[serde(rename = "session.end")]
    SessionEnd,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::SessionStart => "session.start",
            AuditKind::Command => "command",
            AuditKind::Outcome => "outcome",
            AuditKind::SessionEnd => "session.end",
        }
    }

    pub fn parse(text: &str) -> Option<AuditKind> {
        match text {
            "session.start" => Some(AuditKind::SessionStart),
            "command" => Some(AuditKind::Command),
            "outcome" => Some(AuditKind::Outcome),
            "session.end" => Some(AuditKind::SessionEnd),
            _ => None,
        }
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which records an export yields. Every bound is optional; `since` is
/// inclusive, `until` exclusive, both on the record's own `at`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub identity: Option<String>,
    pub connection: Option<String>,
}

/// One line of an export: a session start or end, or a command joined with
/// its outcome. Self-contained, so a line can be read without the others.
#[derive(Debug, Clone, Serialize)]
pub struct AuditLine {
    pub kind: AuditKind,
    pub seq: i64,
    pub id: String,
    #[serde(serialize_with = "millis_rfc3339")]
    pub at: DateTime<Utc>,
    pub session: String,
    pub identity: String,
    pub connection: String,
    /// The command fields are `None` on session records.
    pub command: Option<String>,
    pub params: Option<Vec<Option<String>>>,
    pub verdict: Option<String>,
    pub rules: Option<Vec<String>>,
    /// Who approved a `review` verdict: empty until reviews exist.
    pub reviewers: Option<Vec<String>>,
    /// `None` for a command whose outcome was never recorded, and for
    /// session records.
    pub outcome: Option<AuditOutcome>,
    /// Session records only: the fields of their body.
    pub detail: Option<SessionDetail>,
    /// Hex of the chain link and the record's own hash.
    pub prev_hash: String,
    pub hash: String,
}

/// A command's outcome record, as joined into its command's export line.
#[derive(Debug, Clone, Serialize)]
pub struct AuditOutcome {
    pub seq: i64,
    #[serde(serialize_with = "millis_rfc3339")]
    pub at: DateTime<Utc>,
    pub duration_us: i64,
    pub rows: i64,
    pub bytes: i64,
    pub error: Option<String>,
    pub preview: Option<Preview>,
    pub prev_hash: String,
    pub hash: String,
}

/// The body of a session record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SessionDetail {
    Start {
        protocol: String,
        client_addr: String,
    },
    End {
        end_reason: String,
        commands: i64,
        rows: i64,
        bytes_to_client: i64,
    },
}

/// Exports name instants to the millisecond the store keeps, always with
/// three digits, so lines sort and compare as text.
fn millis_rfc3339<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// A chain record named for a person: its position and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRef {
    pub seq: i64,
    pub id: String,
}

impl fmt::Display for AuditRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seq {} (id {})", self.seq, self.id)
    }
}

/// What walking the whole chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerification {
    /// Every record checks out. `last` is `None` when the log is empty.
    Intact {
        records: u64,
        last: Option<AuditTip>,
    },
    /// `verified` records checked out before the walk met `problem`; what
    /// follows it is not examined, because one break makes every later
    /// link unverifiable against the earlier ones.
    Broken {
        verified: u64,
        problem: AuditProblem,
    },
}

/// The last record of an intact chain: whoever keeps its hash elsewhere
/// can later tell that nothing up to it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditTip {
    pub seq: i64,
    pub id: String,
    /// Hex.
    pub hash: String,
}

/// The first break in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditProblem {
    /// No record holds seqs `first..=last`; the walk resumed at `next`.
    Gap {
        first: i64,
        last: i64,
        next: AuditRef,
    },
    /// `record` links to a hash (hex) that no record in the log has: the
    /// record before it was removed and the later ones renumbered, or it
    /// was replaced together with its own hash. The two leave the same
    /// trace.
    UnknownLink { record: AuditRef, prev_hash: String },
    /// `record`'s stored fields no longer give its stored hash.
    Altered { record: AuditRef, why: String },
    /// `record` is intact but links to `links_to` instead of the record
    /// before it (`None`: it is first, where the link must be all zeros).
    Reordered {
        record: AuditRef,
        links_to: AuditRef,
        predecessor: Option<AuditRef>,
    },
}

impl AuditProblem {
    /// `missing`, `altered` or `reordered`.
    pub fn kind(&self) -> &'static str {
        match self {
            AuditProblem::Gap { .. } | AuditProblem::UnknownLink { .. } => "missing",
            AuditProblem::Altered { .. } => "altered",
            AuditProblem::Reordered { .. } => "reordered",
        }
    }

    /// Where the problem is: the first absent seq of a gap, otherwise the
    /// record that does not check out.
    pub fn seq(&self) -> i64 {
        match self {
            AuditProblem::Gap { first, .. } => *first,
            AuditProblem::UnknownLink { record, .. }
            | AuditProblem::Altered { record, .. }
            | AuditProblem::Reordered { record, .. } => record.seq,
        }
    }
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditProblem::Gap { first, last, next } if first == last => write!(
                f,
                "missing at seq {first}: no record has seq {first}; the log resumes at {next}"
            ),
            AuditProblem::Gap { first, last, next } => write!(
                f,
                "missing at seq {first}: no records have seq {first} to {last}; \
                 the log resumes at {next}"
            ),
            AuditProblem::UnknownLink { record, prev_hash } => write!(
                f,
                "missing before {record}: it links to hash {prev_hash}, which no record \
                 has; the record before it was removed, or replaced along with its hash"
            ),
            AuditProblem::Altered { record, why } => {
                write!(f, "altered at {record}: {why}")
            }
            AuditProblem::Reordered {
                record,
                links_to,
                predecessor,
            } => {
                write!(f, "reordered at {record}: it links to {links_to}, not to ")?;
                match predecessor {
                    Some(p) => write!(f, "the record before it, {p}"),
                    None => write!(f, "the start of the log"),
                }
            }
        }
    }
}
