//! Walking the whole audit chain in seq order and reporting its first
//! break. Rows stream from one cursor, so memory stays flat however long
//! the log is.

use futures_util::TryStreamExt;
use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqliteRow};

use crate::chain::{self, GENESIS, Hashed};
use crate::{AuditProblem, AuditRef, AuditTip, AuditVerification, StoreError};

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

pub(super) async fn verify(pool: &SqlitePool) -> Result<AuditVerification, StoreError> {
    let mut rows = sqlx::query(
        "SELECT seq, kind, id, at, session_id, identity, connection, body, prev_hash, hash \
         FROM audit_log ORDER BY seq",
    )
    .fetch(pool);
    let mut verified: u64 = 0;
    let mut scratch = Vec::new();
    // The last record that checked out, with its hash.
    let mut last: Option<(AuditRef, Vec<u8>)> = None;
    let stop = loop {
        let Some(row) = rows.try_next().await? else {
            break None;
        };
        let seq: i64 = row.try_get("seq")?;
        let expected_seq = last.as_ref().map_or(1, |(r, _)| r.seq + 1);
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
        if seq < expected_seq {
            // Only the first row can get here: seqs are unique and sorted.
            break Some(Stop::Found(AuditProblem::Altered {
                record,
                why: format!("seq {seq} is outside the log's numbering, which starts at 1"),
            }));
        }
        if seq > expected_seq {
            break Some(Stop::Found(AuditProblem::Gap {
                first: expected_seq,
                last: seq - 1,
                next: record,
            }));
        }
        let recomputed = chain::link_hash(&stored.prev_hash, &hashed(&stored), &mut scratch)
            .map_err(|e| StoreError::Corrupt(format!("audit record {}: {e}", stored.id)))?;
        if recomputed[..] != stored.hash[..] {
            break Some(Stop::Found(AuditProblem::Altered {
                record,
                why: "its stored fields do not give its stored hash".into(),
            }));
        }
        let expected_prev = last.as_ref().map_or(&GENESIS[..], |(_, h)| &h[..]);
        if stored.prev_hash != expected_prev {
            break Some(Stop::Link {
                record,
                prev_hash: stored.prev_hash,
                predecessor: last.take().map(|(r, _)| r),
            });
        }
        verified += 1;
        last = Some((record, stored.hash));
    };
    drop(rows);
    let problem = match stop {
        None => {
            return Ok(AuditVerification::Intact {
                records: verified,
                last: last.map(|(r, hash)| AuditTip {
                    seq: r.seq,
                    id: r.id,
                    hash: hex::encode(hash),
                }),
            });
        }
        Some(Stop::Found(problem)) => problem,
        Some(Stop::Link {
            record,
            prev_hash,
            predecessor,
        }) => match holder_of(pool, &prev_hash).await? {
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
    Ok(AuditVerification::Broken { verified, problem })
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
async fn holder_of(pool: &SqlitePool, hash: &[u8]) -> Result<Option<AuditRef>, StoreError> {
    let found = sqlx::query("SELECT seq, id FROM audit_log WHERE hash = ? ORDER BY seq LIMIT 1")
        .bind(hash)
        .fetch_optional(pool)
        .await?;
    match found {
        None => Ok(None),
        Some(row) => Ok(Some(AuditRef {
            seq: row.try_get("seq")?,
            id: row.try_get("id")?,
        })),
    }
}
