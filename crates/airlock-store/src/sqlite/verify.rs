//! Walking the audit chain in seq order, from its start or its retention
//! anchor, and reporting its first break; then checking the checkpoints
//! against what the walk found. Rows stream from one cursor, so memory
//! stays flat however long the log is.

use futures_util::TryStreamExt;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};

use super::verify_checkpoints::{self, Span};
use crate::chain::{self, GENESIS, Hashed};
use crate::{
    AuditProblem, AuditRef, AuditReport, AuditTip, AuditVerification, Checkpoint, CheckpointBody,
    CheckpointFault, CheckpointPurpose, CheckpointRef, PublicKey, StoreError,
};

/// The columns of one record, as stored.
struct Stored {
    kind: String,
    id: String,
    at: i64,
    session: String,
    identity: String,
    connection: String,
    body: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

/// Where the walk stopped: some problems are only classified once the
/// cursor is closed (an in-memory store has a single connection to use).
enum Stop {
    Found(AuditProblem),
    /// `record` does not link to `predecessor`; what it links to decides
    /// between a move and a loss.
    Link {
        record: AuditRef,
        prev_hash: Vec<u8>,
        predecessor: Option<AuditRef>,
    },
}

/// A chain that links up from its start to where the walk ended.
pub(super) struct Walk {
    pub verified: u64,
    /// The first record walked and its link (unchecked when pruning
    /// stopped part-way, behind the anchor).
    pub first: Option<(i64, Vec<u8>)>,
    /// The last record walked and its hash.
    pub last: Option<(AuditRef, Vec<u8>)>,
}

pub(super) enum WalkEnd {
    Intact(Walk),
    Broken {
        verified: u64,
        problem: AuditProblem,
    },
}

/// A checkpoint record vouching for a record further back than the one
/// before it (an anchor): checked once the cursor is closed.
struct Vouch {
    checkpoint: CheckpointRef,
    hash: [u8; 32],
}

pub(super) async fn verify(
    pool: &SqlitePool,
    trusted: &[PublicKey],
) -> Result<AuditReport, StoreError> {
    let mut report = AuditReport {
        verification: AuditVerification::Intact {
            records: 0,
            last: None,
        },
        anchor: None,
        checkpoints: 0,
        latest: None,
        chain_intact: false,
    };
    let broken = |report: AuditReport, verified, problem| AuditReport {
        verification: AuditVerification::Broken { verified, problem },
        ..report
    };
    // One read transaction: the anchor, the records and the checkpoints
    // are read from one snapshot of the file, so that records appended,
    // checkpointed or pruned by a running gateway meanwhile do not read as
    // a log cut short or a record gone. A long walk holds the snapshot, and
    // with it the WAL's checkpoints, until it is done.
    let mut snapshot = pool.begin().await?;
    match verify_checkpoints::latest_anchor(&mut snapshot).await? {
        None => {}
        Some(Err(problem)) => return Ok(broken(report, 0, problem)),
        // The walk starts from the anchor, so it must be good first.
        Some(Ok(anchor)) => match anchor.check(trusted, trusted.is_empty()) {
            Ok(()) => report.anchor = Some(anchor),
            Err(fault) => {
                let checkpoint = anchor.reference();
                return Ok(broken(
                    report,
                    0,
                    AuditProblem::Checkpoint { checkpoint, fault },
                ));
            }
        },
    }
    let walk = match walk(&mut snapshot, report.anchor.as_ref(), i64::MAX, trusted).await? {
        WalkEnd::Intact(walk) => walk,
        WalkEnd::Broken { verified, problem } => return Ok(broken(report, verified, problem)),
    };
    report.chain_intact = true;
    let span = Span::of(&walk, report.anchor.as_ref());
    let tally = verify_checkpoints::check_all(&mut snapshot, &span, trusted).await?;
    report.checkpoints = tally.verified;
    report.latest = tally.latest;
    report.verification = match tally.problem {
        Some(problem) => AuditVerification::Broken {
            verified: walk.verified,
            problem,
        },
        None => AuditVerification::Intact {
            records: walk.verified,
            last: walk.last.map(|(r, hash)| AuditTip {
                seq: r.seq,
                id: r.id,
                hash: hex::encode(hash),
            }),
        },
    };
    Ok(report)
}

/// Walks the records up to seq `until`, from the start of the log or, when
/// records were pruned, from `anchor`. Checkpoint records met on the way
/// are checked too (signed ones against `trusted`, when not empty).
pub(super) async fn walk(
    conn: &mut SqliteConnection,
    anchor: Option<&Checkpoint>,
    until: i64,
    trusted: &[PublicKey],
) -> Result<WalkEnd, StoreError> {
    let mut rows = sqlx::query(
        "SELECT seq, kind, id, at, session_id, identity, connection, body, prev_hash, hash \
         FROM audit_log WHERE seq <= ? ORDER BY seq",
    )
    .bind(until)
    .fetch(&mut *conn);
    let mut verified: u64 = 0;
    let mut scratch = Vec::new();
    let mut first: Option<(i64, Vec<u8>)> = None;
    // The last record that checked out, with its hash.
    let mut last: Option<(AuditRef, Vec<u8>)> = None;
    let mut vouches = Vec::new();
    let stop = loop {
        let Some(row) = rows.try_next().await? else {
            break None;
        };
        let seq: i64 = row.try_get("seq")?;
        let stored = match read(&row) {
            Ok(stored) => stored,
            Err(e) => {
                let id = row.try_get::<String, _>("id").unwrap_or_default();
                break Some(Stop::Found(AuditProblem::Altered {
                    record: AuditRef { seq, id },
                    why: format!("a field no longer has its type ({e})"),
                }));
            }
        };
        let record = AuditRef {
            seq,
            id: stored.id.clone(),
        };
        if let Some(problem) = misplaced(&record, last.as_ref().map(|(r, _)| r), anchor) {
            break Some(Stop::Found(problem));
        }
        let recomputed = chain::link_hash(&stored.prev_hash, &hashed(&stored), &mut scratch)
            .map_err(|e| StoreError::Corrupt(format!("audit record {}: {e}", stored.id)))?;
        if recomputed[..] != stored.hash[..] {
            break Some(Stop::Found(AuditProblem::Altered {
                record,
                why: "its stored fields do not give its stored hash".into(),
            }));
        }
        let expected_prev: Option<&[u8]> = match (&last, anchor) {
            (Some((_, hash)), _) => Some(hash),
            (None, None) => Some(&GENESIS),
            (None, Some(a)) if seq == a.seq + 1 => Some(&a.hash),
            // Pruning stopped part-way: the record before this one is gone
            // but was vouched for; the anchor's hash is checked where the
            // anchored record still is.
            (None, Some(_)) => None,
        };
        if let Some(expected) = expected_prev
            && stored.prev_hash != expected
        {
            break Some(match (last.take(), anchor) {
                (None, Some(a)) => Stop::Found(AuditProblem::AnchorLink {
                    record,
                    prev_hash: hex::encode(&stored.prev_hash),
                    anchor: a.reference(),
                    anchor_hash: hex::encode(a.hash),
                }),
                (predecessor, _) => Stop::Link {
                    record,
                    prev_hash: stored.prev_hash,
                    predecessor: predecessor.map(|(r, _)| r),
                },
            });
        }
        if stored.kind == "checkpoint"
            && let Err(problem) = checkpoint_record(&stored, &record, anchor, trusted, &mut vouches)
        {
            break Some(Stop::Found(problem));
        }
        if first.is_none() {
            first = Some((seq, stored.prev_hash.clone()));
        }
        verified += 1;
        last = Some((record, stored.hash));
    };
    drop(rows);
    let problem = match stop {
        None => {
            let walk = Walk {
                verified,
                first,
                last,
            };
            return match check_vouches(conn, &walk, vouches).await? {
                None => Ok(WalkEnd::Intact(walk)),
                Some(problem) => Ok(WalkEnd::Broken { verified, problem }),
            };
        }
        Some(Stop::Found(problem)) => problem,
        Some(Stop::Link {
            record,
            prev_hash,
            predecessor,
        }) => match holder_of(conn, &prev_hash).await? {
            Some(links_to) => AuditProblem::Reordered {
                record,
                links_to,
                predecessor,
            },
            None => AuditProblem::UnknownLink {
                record,
                prev_hash: hex::encode(prev_hash),
            },
        },
    };
    Ok(WalkEnd::Broken { verified, problem })
}

/// Whether `record` is out of place: not right after `last`, or, as the
/// first record, not where the log (or what the anchor left of it) starts.
fn misplaced(
    record: &AuditRef,
    last: Option<&AuditRef>,
    anchor: Option<&Checkpoint>,
) -> Option<AuditProblem> {
    let seq = record.seq;
    // Without an anchor the log starts at 1; with one, anywhere up to just
    // after it (pruning may have stopped part-way).
    let (expected, latest_start) = match (last, anchor) {
        (Some(prev), _) => (prev.seq + 1, prev.seq + 1),
        (None, None) => (1, 1),
        (None, Some(a)) => (1, a.seq + 1),
    };
    if seq < expected {
        // Only the first row can get here: seqs are unique and sorted.
        return Some(AuditProblem::Altered {
            record: record.clone(),
            why: format!("seq {seq} is outside the log's numbering, which starts at 1"),
        });
    }
    if seq > latest_start {
        return Some(AuditProblem::Gap {
            first: latest_start,
            last: seq - 1,
            next: record.clone(),
        });
    }
    None
}

/// A checkpoint record in the chain: its hash already checked out, so its
/// body is what was written; what it says must hold too.
fn checkpoint_record(
    stored: &Stored,
    record: &AuditRef,
    anchor: Option<&Checkpoint>,
    trusted: &[PublicKey],
    vouches: &mut Vec<Vouch>,
) -> Result<(), AuditProblem> {
    let altered = |why: String| AuditProblem::Altered {
        record: record.clone(),
        why,
    };
    let at = chrono::DateTime::from_timestamp_millis(stored.at)
        .ok_or_else(|| altered(format!("at = {} is not a valid time", stored.at)))?;
    let body: CheckpointBody = serde_json::from_str(&stored.body)
        .map_err(|e| altered(format!("its checkpoint body does not parse ({e})")))?;
    let checkpoint = body
        .checkpoint(at, record.seq)
        .map_err(|why| altered(format!("its checkpoint body is malformed: {why}")))?;
    if checkpoint.seq >= record.seq {
        return Err(altered(format!(
            "it vouches for seq {}, which is not before it",
            checkpoint.seq
        )));
    }
    // An unsigned anchor in the chain is only a record, protected by the
    // chain like any other; the anchor the walk starts from was checked
    // on its own.
    let unsigned_ok = checkpoint.purpose == CheckpointPurpose::Anchor;
    // One vouching for records already pruned may predate the keys trusted
    // now (a rotation); its signature must still be sound.
    let trusted = match anchor {
        Some(a) if checkpoint.seq < a.seq => &[][..],
        _ => trusted,
    };
    let fault = |fault| AuditProblem::Checkpoint {
        checkpoint: checkpoint.reference(),
        fault,
    };
    checkpoint.check(trusted, unsigned_ok).map_err(fault)?;
    if checkpoint.seq == record.seq - 1 {
        if checkpoint.hash[..] != stored.prev_hash[..] {
            return Err(fault(CheckpointFault::HashMismatch {
                vouched: hex::encode(checkpoint.hash),
                found: hex::encode(&stored.prev_hash),
            }));
        }
    } else {
        vouches.push(Vouch {
            checkpoint: checkpoint.reference(),
            hash: checkpoint.hash,
        });
    }
    Ok(())
}

/// Checks what checkpoint records vouch for further back, where those
/// records are still in the log.
async fn check_vouches(
    conn: &mut SqliteConnection,
    walk: &Walk,
    vouches: Vec<Vouch>,
) -> Result<Option<AuditProblem>, StoreError> {
    let Some((first_seq, first_prev)) = &walk.first else {
        return Ok(None);
    };
    for vouch in vouches {
        let seq = vouch.checkpoint.seq;
        let found = if seq >= *first_seq {
            sqlx::query_scalar::<_, Vec<u8>>("SELECT hash FROM audit_log WHERE seq = ?")
                .bind(seq)
                .fetch_optional(&mut *conn)
                .await?
        } else if seq == first_seq - 1 {
            Some(first_prev.clone())
        } else {
            None
        };
        if let Some(found) = found
            && found[..] != vouch.hash[..]
        {
            return Ok(Some(AuditProblem::Checkpoint {
                checkpoint: vouch.checkpoint,
                fault: CheckpointFault::HashMismatch {
                    vouched: hex::encode(vouch.hash),
                    found: hex::encode(found),
                },
            }));
        }
    }
    Ok(None)
}

fn read(row: &SqliteRow) -> Result<Stored, sqlx::Error> {
    Ok(Stored {
        kind: row.try_get("kind")?,
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        session: row.try_get("session_id")?,
        identity: row.try_get("identity")?,
        connection: row.try_get("connection")?,
        body: row.try_get("body")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

fn hashed(s: &Stored) -> Hashed<'_> {
    Hashed {
        kind: &s.kind,
        id: &s.id,
        at: s.at,
        session: &s.session,
        identity: &s.identity,
        connection: &s.connection,
        body: &s.body,
    }
}

/// The record whose hash is `hash`. A scan of the whole table (there is no
/// index on `hash`, see migration 0002), paid only when a link is broken.
async fn holder_of(
    conn: &mut SqliteConnection,
    hash: &[u8],
) -> Result<Option<AuditRef>, StoreError> {
    let found = sqlx::query("SELECT seq, id FROM audit_log WHERE hash = ? ORDER BY seq LIMIT 1")
        .bind(hash)
        .fetch_optional(&mut *conn)
        .await?;
    match found {
        None => Ok(None),
        Some(row) => Ok(Some(AuditRef {
            seq: row.try_get("seq")?,
            id: row.try_get("id")?,
        })),
    }
}
