//! Checking the checkpoint table against a chain that was walked and links
//! up: every signature, every vouched hash, each row against its own
//! record, and that the chain still reaches every checkpoint (tail
//! truncation). One streamed query, joined with the records involved.

use futures_util::TryStreamExt;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnection, SqliteRow};

use super::checkpoint;
use super::verify::Walk;
use crate::{AuditProblem, Checkpoint, CheckpointBody, CheckpointFault, PublicKey, StoreError};

/// What the walk established: the records from `first` to `tip` are
/// there and link up; `first_prev` is the first one's link.
pub(super) struct Span {
    first: i64,
    first_prev: Option<Vec<u8>>,
    tip: i64,
    anchor: i64,
}

impl Span {
    pub(super) fn of(walk: &Walk, anchor: Option<&Checkpoint>) -> Span {
        let anchor = anchor.map_or(0, |a| a.seq);
        let tip = walk.last.as_ref().map_or(anchor, |(r, _)| r.seq);
        Span {
            first: walk.first.as_ref().map_or(tip + 1, |(seq, _)| *seq),
            first_prev: walk.first.as_ref().map(|(_, prev)| prev.clone()),
            tip,
            anchor,
        }
    }
}

pub(super) struct Tally {
    pub verified: u64,
    pub latest: Option<Checkpoint>,
    pub problem: Option<AuditProblem>,
}

/// The anchor vouching for the highest seq, if records were ever pruned.
pub(super) async fn latest_anchor(
    conn: &mut SqliteConnection,
) -> Result<Option<Result<Checkpoint, AuditProblem>>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        checkpoint::checkpoint_columns!(),
        " FROM audit_checkpoint WHERE purpose = 'anchor' \
         ORDER BY seq DESC, record_seq DESC LIMIT 1"
    ))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|row| parse(&row)))
}

pub(super) async fn check_all(
    conn: &mut SqliteConnection,
    span: &Span,
    trusted: &[PublicKey],
) -> Result<Tally, StoreError> {
    let mut rows = sqlx::query(
        "SELECT c.record_seq, c.purpose, c.seq, c.hash, c.at, c.public_key, c.signature, \
         l.hash AS log_hash, r.kind AS r_kind, r.at AS r_at, r.body AS r_body \
         FROM audit_checkpoint c \
         LEFT JOIN audit_log l ON l.seq = c.seq \
         LEFT JOIN audit_log r ON r.seq = c.record_seq \
         ORDER BY c.seq, c.record_seq",
    )
    .fetch(&mut *conn);
    let mut tally = Tally {
        verified: 0,
        latest: None,
        problem: None,
    };
    // Checked once every signature has been: a forged checkpoint is
    // reported as such, not as evidence of truncation.
    let mut beyond_tip: Option<Checkpoint> = None;
    while let Some(row) = rows.try_next().await? {
        let c = match parse(&row) {
            Ok(c) => c,
            Err(problem) => {
                tally.problem = Some(problem);
                return Ok(tally);
            }
        };
        if let Err(fault) = check_one(&c, &row, span, trusted) {
            tally.problem = Some(AuditProblem::Checkpoint {
                checkpoint: c.reference(),
                fault,
            });
            return Ok(tally);
        }
        if c.seq > span.tip || c.record_seq > span.tip {
            beyond_tip = Some(c);
            continue;
        }
        tally.verified += 1;
        tally.latest = Some(c);
    }
    if let Some(c) = beyond_tip {
        tally.problem = Some(AuditProblem::Truncated {
            ends_at: span.tip,
            checkpoint: c.reference(),
        });
    }
    Ok(tally)
}

fn check_one(
    c: &Checkpoint,
    row: &SqliteRow,
    span: &Span,
    trusted: &[PublicKey],
) -> Result<(), CheckpointFault> {
    if c.seq < span.anchor {
        // Vouches for records already pruned: there is nothing left to
        // hold it against, and it may predate the keys trusted now.
        return c.check(&[], true);
    }
    c.check(trusted, trusted.is_empty())?;
    let log_hash: Option<Vec<u8>> = row.try_get("log_hash").ok().flatten();
    let found = match log_hash {
        Some(hash) => Some(hash),
        None if c.seq == span.first - 1 => span.first_prev.clone(),
        // Pruned, or beyond the end of the log (truncation).
        None => None,
    };
    if let Some(found) = found
        && found[..] != c.hash[..]
    {
        return Err(CheckpointFault::HashMismatch {
            vouched: hex::encode(c.hash),
            found: hex::encode(found),
        });
    }
    if (span.first..=span.tip).contains(&c.record_seq) && !matches_record(c, row) {
        return Err(CheckpointFault::RecordMismatch);
    }
    Ok(())
}

/// Whether the checkpoint's own chain record says the same.
fn matches_record(c: &Checkpoint, row: &SqliteRow) -> bool {
    let kind: Option<String> = row.try_get("r_kind").ok().flatten();
    let at: Option<i64> = row.try_get("r_at").ok().flatten();
    let body: Option<String> = row.try_get("r_body").ok().flatten();
    let body = body.and_then(|b| serde_json::from_str::<CheckpointBody>(&b).ok());
    kind.as_deref() == Some("checkpoint")
        && at == Some(c.at.timestamp_millis())
        && body == Some(c.body())
}

fn parse(row: &SqliteRow) -> Result<Checkpoint, AuditProblem> {
    checkpoint::from_row(row).map_err(|why| AuditProblem::CheckpointRow {
        record_seq: row.try_get("record_seq").unwrap_or_default(),
        why,
    })
}
