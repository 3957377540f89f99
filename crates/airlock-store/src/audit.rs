//! What reading the audit chain returns: export lines and the verdict of a
//! verification. The chain's layout and hash are in `docs/audit.md`.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};

use crate::Preview;
use crate::checkpoint::{Checkpoint, CheckpointBody, CheckpointFault, CheckpointRef};

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
    /// A checkpoint or a retention anchor (`docs/audit.md`, "Checkpoints").
    #[serde(rename = "checkpoint")]
    Checkpoint,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::SessionStart => "session.start",
            AuditKind::Command => "command",
            AuditKind::Outcome => "outcome",
            AuditKind::SessionEnd => "session.end",
            AuditKind::Checkpoint => "checkpoint",
        }
    }

    pub fn parse(text: &str) -> Option<AuditKind> {
        match text {
            "session.start" => Some(AuditKind::SessionStart),
            "command" => Some(AuditKind::Command),
            "outcome" => Some(AuditKind::Outcome),
            "session.end" => Some(AuditKind::SessionEnd),
            "checkpoint" => Some(AuditKind::Checkpoint),
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
    /// Who let a `review` verdict run: the approvers of its review, or
    /// of the grant it ran on. Empty for any other command.
    pub reviewers: Option<Vec<String>>,
    /// For a command a review rule gated: the review's id, what became of
    /// it, who decided, and the grant it ran on.
    pub review: Option<crate::ReviewRef>,
    /// `None` for a command whose outcome was never recorded, and for
    /// session records.
    pub outcome: Option<AuditOutcome>,
    /// Session and checkpoint records only: the fields of their body.
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
    Checkpoint(CheckpointBody),
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
    /// The first record after the anchor links to `prev_hash`, not to the
    /// `anchor_hash` the anchor vouches for (both hex).
    AnchorLink {
        record: AuditRef,
        prev_hash: String,
        anchor: CheckpointRef,
        anchor_hash: String,
    },
    /// The log ends at `ends_at`, before the record `checkpoint` vouches
    /// for or before the checkpoint's own record.
    Truncated {
        ends_at: i64,
        checkpoint: CheckpointRef,
    },
    /// A checkpoint that does not check out.
    Checkpoint {
        checkpoint: CheckpointRef,
        fault: CheckpointFault,
    },
    /// A row of the checkpoint table whose columns do not parse.
    CheckpointRow { record_seq: i64, why: String },
}

impl AuditProblem {
    /// `missing`, `altered`, `reordered`, `truncated`, `forged` or
    /// `rewritten`.
    pub fn kind(&self) -> &'static str {
        match self {
            AuditProblem::Gap { .. }
            | AuditProblem::UnknownLink { .. }
            | AuditProblem::AnchorLink { .. } => "missing",
            AuditProblem::Altered { .. } | AuditProblem::CheckpointRow { .. } => "altered",
            AuditProblem::Reordered { .. } => "reordered",
            AuditProblem::Truncated { .. } => "truncated",
            AuditProblem::Checkpoint { fault, .. } => fault.kind(),
        }
    }

    /// Where the problem is: the first absent seq of a gap or a
    /// truncation, the record a checkpoint's hash disagrees with, otherwise
    /// the record (or checkpoint record) that does not check out.
    pub fn seq(&self) -> i64 {
        match self {
            AuditProblem::Gap { first, .. } => *first,
            AuditProblem::UnknownLink { record, .. }
            | AuditProblem::Altered { record, .. }
            | AuditProblem::Reordered { record, .. }
            | AuditProblem::AnchorLink { record, .. } => record.seq,
            AuditProblem::Truncated { ends_at, .. } => ends_at + 1,
            AuditProblem::Checkpoint {
                checkpoint,
                fault: CheckpointFault::HashMismatch { .. },
            } => checkpoint.seq,
            AuditProblem::Checkpoint { checkpoint, .. } => checkpoint.record_seq,
            AuditProblem::CheckpointRow { record_seq, .. } => *record_seq,
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
            AuditProblem::AnchorLink {
                record,
                prev_hash,
                anchor,
                anchor_hash,
            } => write!(
                f,
                "missing before {record}: it links to hash {prev_hash}, but the {anchor} \
                 vouches for hash {anchor_hash} at seq {}; records after the anchor were \
                 removed, or replaced along with their hashes",
                anchor.seq
            ),
            AuditProblem::Truncated {
                ends_at,
                checkpoint,
            } if checkpoint.seq > *ends_at => write!(
                f,
                "truncated: the log ends at seq {ends_at} but {checkpoint} vouches for seq {}",
                checkpoint.seq
            ),
            AuditProblem::Truncated {
                ends_at,
                checkpoint,
            } => write!(
                f,
                "truncated: the log ends at seq {ends_at} but {checkpoint} is not in it"
            ),
            AuditProblem::Checkpoint { checkpoint, fault } => {
                checkpoint_fault(f, checkpoint, fault)
            }
            AuditProblem::CheckpointRow { record_seq, why } => write!(
                f,
                "altered: the checkpoint recorded at seq {record_seq} cannot be read from \
                 the checkpoint table: {why}"
            ),
        }
    }
}

fn checkpoint_fault(
    f: &mut fmt::Formatter<'_>,
    c: &CheckpointRef,
    fault: &CheckpointFault,
) -> fmt::Result {
    match fault {
        CheckpointFault::BadSignature { key } => write!(
            f,
            "forged: {c}: its signature does not verify with its public key {key}"
        ),
        CheckpointFault::UntrustedKey { key } => write!(
            f,
            "forged: {c} is signed by key {key}, which is not a trusted key"
        ),
        CheckpointFault::Unsigned => write!(
            f,
            "forged: {c} has no signature, and only signed ones are accepted here"
        ),
        CheckpointFault::HashMismatch { vouched, found } => write!(
            f,
            "rewritten at seq {}: {c} vouches for hash {vouched}, but the record at seq {} \
             has hash {found}; the log up to it was rewritten since it was signed",
            c.seq, c.seq
        ),
        CheckpointFault::RecordMismatch => {
            write!(f, "altered: {c} differs from its own record in the chain")
        }
    }
}

/// Everything `airlock audit verify` checks: the chain from its anchor,
/// and every checkpoint against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub verification: AuditVerification,
    /// Where the walk started: the records up to its seq were pruned.
    pub anchor: Option<Checkpoint>,
    /// Checkpoints of the checkpoint table that checked out, and the one
    /// vouching for the highest seq.
    pub checkpoints: u64,
    pub latest: Option<Checkpoint>,
    /// The whole chain was walked and links up; a `Broken` verdict then
    /// comes from a checkpoint that disagrees with it.
    pub chain_intact: bool,
}
