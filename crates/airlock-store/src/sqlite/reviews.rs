//! Reviews and their decisions. A review leaves `pending` at most once,
//! and every statement that moves it says `AND state = 'pending'`, so a
//! decision, an expiry and a cancellation racing each other cannot both
//! land.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::SqliteConnection;
use sqlx::sqlite::{SqlitePool, SqliteRow};

use super::rows::{self, millis, opt_time, time};
use crate::{
    DecideOutcome, DecisionKind, NewReview, ReviewDecision, ReviewRecord, ReviewState, StoreError,
};

// A review joined with its decisions, one row per decision (one row with
// NULL decision columns when there is none): one statement reads a
// consistent review, so its state and its decisions always agree.
macro_rules! review_select {
    () => {
        "SELECT r.id, r.requester, r.connection, r.session_id, r.command, r.fingerprint, \
         r.rules, r.reviewers, r.approvals_needed, r.reason, r.state, r.created_at, \
         r.expires_at, r.decided_at, d.reviewer AS d_reviewer, d.decision AS d_decision, \
         d.reason AS d_reason, d.at AS d_at, d.grant_for_secs AS d_grant_for_secs FROM "
    };
}

macro_rules! newest_first {
    () => {
        " ORDER BY created_at DESC, id DESC LIMIT ?) r \
         LEFT JOIN review_decisions d ON d.review_id = r.id \
         ORDER BY r.created_at DESC, r.id DESC, d.seq"
    };
}

pub(super) async fn add(pool: &SqlitePool, review: &NewReview) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO reviews (id, requester, connection, session_id, command, fingerprint, \
         rules, reviewers, approvals_needed, reason, state, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
    )
    .bind(&review.id)
    .bind(&review.requester)
    .bind(&review.connection)
    .bind(&review.session_id)
    .bind(&review.command)
    .bind(&review.fingerprint)
    .bind(rows::encode_list("rules", &review.rules)?)
    .bind(rows::encode_list("reviewers", &review.reviewers)?)
    .bind(i64::from(review.approvals_needed))
    .bind(&review.reason)
    .bind(millis(review.created_at))
    .bind(millis(review.expires_at))
    .execute(pool)
    .await
    .map_err(|e| match e {
        e if super::is_unique_violation(&e) => {
            StoreError::AlreadyExists(format!("review {}", review.id))
        }
        e => StoreError::Database(e),
    })?;
    Ok(())
}

pub(super) async fn get(
    pool: &SqlitePool,
    id_or_prefix: &str,
) -> Result<Option<ReviewRecord>, StoreError> {
    let mut conn = pool.acquire().await?;
    let Some(id) = super::resolve_id(
        &mut conn,
        "SELECT id FROM reviews WHERE id = ?1",
        "SELECT id FROM reviews WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2",
        "review",
        id_or_prefix,
    )
    .await?
    else {
        return Ok(None);
    };
    load(&mut conn, &id).await
}

async fn load(conn: &mut SqliteConnection, id: &str) -> Result<Option<ReviewRecord>, StoreError> {
    let found = sqlx::query(concat!(
        review_select!(),
        "reviews r LEFT JOIN review_decisions d ON d.review_id = r.id \
         WHERE r.id = ? ORDER BY d.seq"
    ))
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(records(&found)?.pop())
}

pub(super) async fn list(
    pool: &SqlitePool,
    state: Option<ReviewState>,
    limit: u32,
) -> Result<Vec<ReviewRecord>, StoreError> {
    // Two statements rather than `?1 IS NULL OR state = ?1`, which would
    // keep SQLite from using the index on state.
    let found = match state {
        Some(state) => {
            sqlx::query(concat!(
                review_select!(),
                "(SELECT * FROM reviews WHERE state = ?",
                newest_first!()
            ))
            .bind(state.as_str())
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        }
        None => {
            sqlx::query(concat!(
                review_select!(),
                "(SELECT * FROM reviews",
                newest_first!()
            ))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        }
    };
    records(&found)
}

pub(super) async fn pending_of(
    pool: &SqlitePool,
    requester: &str,
    connection: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<Option<ReviewRecord>, StoreError> {
    let mut conn = pool.acquire().await?;
    let id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM reviews \
         WHERE state = 'pending' AND requester = ? AND connection = ? AND fingerprint = ? \
           AND expires_at > ? \
         ORDER BY created_at, id LIMIT 1",
    )
    .bind(requester)
    .bind(connection)
    .bind(fingerprint)
    .bind(millis(now))
    .fetch_optional(&mut *conn)
    .await?;
    match id {
        Some(id) => load(&mut conn, &id).await,
        None => Ok(None),
    }
}

pub(super) async fn count_pending(
    pool: &SqlitePool,
    requester: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM reviews \
         WHERE state = 'pending' AND requester = ? AND expires_at > ?",
    )
    .bind(requester)
    .bind(millis(now))
    .fetch_one(pool)
    .await?;
    Ok(count.max(0) as u64)
}

pub(super) async fn expire(pool: &SqlitePool, now: DateTime<Utc>) -> Result<u64, StoreError> {
    // It left `pending` when its time ran out, not when a sweep noticed.
    let done = sqlx::query(
        "UPDATE reviews SET state = 'expired', decided_at = expires_at \
         WHERE state = 'pending' AND expires_at <= ?",
    )
    .bind(millis(now))
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub(super) async fn close(
    pool: &SqlitePool,
    id: &str,
    to: ReviewState,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    // Approving or denying goes through `decide`, which checks who decides
    // and counts approvals; this must not be a way around it.
    debug_assert!(
        matches!(to, ReviewState::Cancelled | ReviewState::Expired),
        "close_review to {to:?}"
    );
    if !matches!(to, ReviewState::Cancelled | ReviewState::Expired) {
        return Ok(false);
    }
    let done = sqlx::query(
        "UPDATE reviews SET state = ?, decided_at = ? WHERE id = ? AND state = 'pending'",
    )
    .bind(to.as_str())
    .bind(millis(at))
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn decide(
    pool: &SqlitePool,
    id: &str,
    decision: &ReviewDecision,
) -> Result<DecideOutcome, StoreError> {
    // The write lock before the first read: concurrent deciders (in this
    // process or another) take turns, so each sees every earlier decision
    // and no approval is lost or counted against a stale state.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let Some(review) = load(&mut tx, id).await? else {
        tx.rollback().await?;
        return Ok(DecideOutcome::NotFound);
    };
    if review.state != ReviewState::Pending {
        tx.rollback().await?;
        return Ok(DecideOutcome::NotPending(review));
    }
    if decision.at >= review.expires_at {
        sqlx::query(
            "UPDATE reviews SET state = 'expired', decided_at = expires_at \
             WHERE id = ? AND state = 'pending'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let review = reload(&mut tx, id).await?;
        tx.commit().await?;
        return Ok(DecideOutcome::NotPending(review));
    }
    if review
        .decisions
        .iter()
        .any(|d| d.reviewer == decision.reviewer)
    {
        tx.rollback().await?;
        return Ok(DecideOutcome::AlreadyDecided(review));
    }
    let seq = i64::try_from(review.decisions.len() + 1)
        .map_err(|_| StoreError::Corrupt(format!("review {id}: too many decisions")))?;
    sqlx::query(
        "INSERT INTO review_decisions (review_id, seq, reviewer, decision, reason, at, \
         grant_for_secs) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(seq)
    .bind(&decision.reviewer)
    .bind(decision.decision.as_str())
    .bind(decision.reason.as_deref())
    .bind(millis(decision.at))
    .bind(decision.grant_for_secs)
    .execute(&mut *tx)
    .await?;
    if let Some(to) = settles(&review, decision) {
        sqlx::query(
            "UPDATE reviews SET state = ?, decided_at = ? WHERE id = ? AND state = 'pending'",
        )
        .bind(to.as_str())
        .bind(millis(decision.at))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    let review = reload(&mut tx, id).await?;
    tx.commit().await?;
    Ok(DecideOutcome::Recorded(review))
}

/// The state `decision` moves the pending `review` to, if any: a denial
/// settles it at once, an approval when it completes the distinct
/// approvals needed.
fn settles(review: &ReviewRecord, decision: &ReviewDecision) -> Option<ReviewState> {
    match decision.decision {
        DecisionKind::Deny => Some(ReviewState::Denied),
        DecisionKind::Approve => {
            let mut approvers: HashSet<&str> = review
                .decisions
                .iter()
                .filter(|d| d.decision == DecisionKind::Approve)
                .map(|d| d.reviewer.as_str())
                .collect();
            approvers.insert(&decision.reviewer);
            (approvers.len() as u64 >= u64::from(review.approvals_needed))
                .then_some(ReviewState::Approved)
        }
    }
}

/// Reads back a review this transaction holds the write lock on.
async fn reload(conn: &mut SqliteConnection, id: &str) -> Result<ReviewRecord, StoreError> {
    load(conn, id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("review {id}")))
}

/// Folds joined rows, grouped by review and in decision order, into
/// records.
fn records(found: &[SqliteRow]) -> Result<Vec<ReviewRecord>, StoreError> {
    let mut out: Vec<ReviewRecord> = Vec::new();
    for row in found {
        let id: String = row.try_get("id")?;
        let d = decision(row, &id)?;
        match out.last_mut() {
            Some(last) if last.id == id => last.decisions.extend(d),
            _ => {
                let mut record = review(row, id)?;
                record.decisions.extend(d);
                out.push(record);
            }
        }
    }
    Ok(out)
}

fn review(row: &SqliteRow, id: String) -> Result<ReviewRecord, StoreError> {
    let owner = format!("review {id}");
    let state: String = row.try_get("state")?;
    let state = ReviewState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("{owner}: unknown state {state:?}")))?;
    let needed: i64 = row.try_get("approvals_needed")?;
    let approvals_needed = u32::try_from(needed)
        .map_err(|_| StoreError::Corrupt(format!("{owner}: approvals_needed = {needed}")))?;
    Ok(ReviewRecord {
        requester: row.try_get("requester")?,
        connection: row.try_get("connection")?,
        session_id: row.try_get("session_id")?,
        command: row.try_get("command")?,
        fingerprint: row.try_get("fingerprint")?,
        rules: rows::list(row, "rules", &owner)?,
        reviewers: rows::list(row, "reviewers", &owner)?,
        approvals_needed,
        reason: row.try_get("reason")?,
        state,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        decided_at: opt_time(row, "decided_at")?,
        decisions: Vec::new(),
        id,
    })
}

fn decision(row: &SqliteRow, review_id: &str) -> Result<Option<ReviewDecision>, StoreError> {
    let Some(reviewer) = row.try_get::<Option<String>, _>("d_reviewer")? else {
        return Ok(None);
    };
    let kind: String = row.try_get("d_decision")?;
    let decision = DecisionKind::parse(&kind).ok_or_else(|| {
        StoreError::Corrupt(format!("review {review_id}: unknown decision {kind:?}"))
    })?;
    Ok(Some(ReviewDecision {
        reviewer,
        decision,
        reason: row.try_get("d_reason")?,
        at: time(row, "d_at")?,
        grant_for_secs: row.try_get("d_grant_for_secs")?,
    }))
}
