//! Reading the audit chain back: a session's commands with their outcomes,
//! and the streamed export.
//!
//! An outcome's id is its command's id with `/outcome` appended, so the
//! join goes through the unique index on `id`, one lookup per command.

use futures_util::TryStreamExt;
use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqliteRow};

use super::rows::{millis, time, time_of};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::body::{self, CommandBody, FinishedBody, OutcomeBody, ThenBody};
use crate::pairing::MAX_RUN_SPAN_MS;
use crate::{
    AuditFilter, AuditKind, AuditLine, AuditOutcome, CommandRecord, EventRecord, OutcomeRecord,
    SessionDetail, StoreError,
};

/// The commands of session `?1` that also meet `$cond`, each with its
/// outcome if that is a record of its own.
macro_rules! session_commands {
    ($cond:literal) => {
        concat!(
            "SELECT c.seq, c.id, c.at, c.session_id, c.identity, c.connection, c.body, \
             o.at AS o_at, o.session_id AS o_session_id, o.identity AS o_identity, \
             o.connection AS o_connection, o.body AS o_body \
             FROM audit_log c LEFT JOIN audit_log o \
             ON o.id = c.id || '/outcome' AND o.kind = 'outcome' \
             WHERE c.session_id = ?1 AND c.kind = 'command' AND ",
            $cond
        )
    };
}

/// A session's commands (`?1`), in order. Two halves (migrations 0006, 0008):
/// commands named `<session>-…`, a range of the unique index on `id` (`.`
/// sorts right after `-`), and those named otherwise, from the partial
/// index that keeps only them; its WHERE clause is the index's, word for
/// word, or SQLite would not use it.
const SESSION_EVENTS: &str = concat!(
    "SELECT * FROM (",
    session_commands!("c.id >= ?1 || '-' AND c.id < ?1 || '.'"),
    " UNION ALL ",
    session_commands!("c.kind = 'command' AND instr(c.id, c.session_id || '-') IS NOT 1"),
    ") ORDER BY seq"
);

pub(super) async fn session_events(
    pool: &SqlitePool,
    session_id: &str,
) -> Result<Vec<EventRecord>, StoreError> {
    let found = sqlx::query(SESSION_EVENTS)
        .bind(session_id)
        .fetch_all(pool)
        .await?;
    let mut events = Vec::with_capacity(found.len());
    for row in &found {
        events_of(row, &mut events)?;
    }
    Ok(events)
}

/// The command a record holds, and the later commands of its run.
fn events_of(row: &SqliteRow, events: &mut Vec<EventRecord>) -> Result<(), StoreError> {
    let id: String = row.try_get("id")?;
    let body: String = row.try_get("body")?;
    let mut c: CommandBody = body::parse(&id, &body)?;
    let then = std::mem::take(&mut c.then);
    events.push(event(row, id, c)?);
    for t in then {
        events.push(later_in_run(row, t)?);
    }
    Ok(())
}

/// A later command of a run, checked and with its times read.
struct Later {
    id: String,
    at: DateTime<Utc>,
    body: CommandBody,
    finished_at: DateTime<Utc>,
    outcome: FinishedBody,
}

impl Later {
    fn of(t: ThenBody) -> Result<Later, StoreError> {
        let ThenBody { id, at, mut body } = t;
        let Some(outcome) = body.outcome.take() else {
            return Err(StoreError::Corrupt(format!(
                "audit record {id}: a command of a run without its outcome"
            )));
        };
        // The writer never nests runs; read past, they would go unseen.
        if !body.then.is_empty() {
            return Err(StoreError::Corrupt(format!(
                "audit record {id}: a command of a run carries a run of its own"
            )));
        }
        Ok(Later {
            at: time_of(at, &format!("audit record {id}: at"))?,
            finished_at: time_of(outcome.at, &format!("audit record {id}: outcome at"))?,
            id,
            body,
            outcome,
        })
    }
}

/// Whose a record's commands are: the record's session, identity and
/// connection, shared by every command of a run.
struct Owner {
    session_id: Arc<str>,
    identity: Arc<str>,
    connection: Arc<str>,
}

impl Owner {
    fn of(row: &SqliteRow) -> Result<Owner, StoreError> {
        Ok(Owner {
            session_id: row.try_get("session_id")?,
            identity: row.try_get("identity")?,
            connection: row.try_get("connection")?,
        })
    }

    fn command(&self, id: String, at: DateTime<Utc>, c: CommandBody) -> CommandRecord {
        CommandRecord {
            session_id: self.session_id.clone(),
            identity: self.identity.clone(),
            connection: self.connection.clone(),
            at,
            command: c.command.into(),
            params: c.params.into(),
            verdict: c.verdict.into(),
            rules: c.rules,
            review: c.review.map(Box::new),
            id,
        }
    }

    /// An outcome carried in its command's record.
    fn outcome(&self, event_id: String, at: DateTime<Utc>, o: FinishedBody) -> OutcomeRecord {
        OutcomeRecord {
            event_id,
            session_id: self.session_id.clone(),
            identity: self.identity.clone(),
            connection: self.connection.clone(),
            at,
            duration_us: o.duration_us,
            rows: o.rows,
            bytes: o.bytes,
            error: o.error,
            preview: o.preview,
        }
    }
}

/// A later command of a run: the session, identity and connection are
/// the record's, everything else its own.
fn later_in_run(row: &SqliteRow, t: ThenBody) -> Result<EventRecord, StoreError> {
    let later = Later::of(t)?;
    let owner = Owner::of(row)?;
    let outcome = owner.outcome(later.id.clone(), later.finished_at, later.outcome);
    Ok(EventRecord {
        command: owner.command(later.id, later.at, later.body),
        outcome: Some(outcome),
    })
}

fn event(row: &SqliteRow, id: String, mut c: CommandBody) -> Result<EventRecord, StoreError> {
    let owner = Owner::of(row)?;
    // An outcome carried in its command's record comes first, as in the
    // export; the join finds one recorded on its own.
    let carried = match c.outcome.take() {
        Some(o) => {
            let at = time_of(o.at, &format!("audit record {id}: outcome at"))?;
            Some(owner.outcome(id.clone(), at, o))
        }
        None => None,
    };
    let outcome = match (carried, row.try_get::<Option<String>, _>("o_body")?) {
        (Some(carried), _) => Some(carried),
        (None, None) => None,
        (None, Some(o_body)) => {
            let o: OutcomeBody = body::parse(&format!("{id}/outcome"), &o_body)?;
            Some(OutcomeRecord {
                event_id: o.event_id,
                session_id: row.try_get("o_session_id")?,
                identity: row.try_get("o_identity")?,
                connection: row.try_get("o_connection")?,
                at: time(row, "o_at")?,
                duration_us: o.duration_us,
                rows: o.rows,
                bytes: o.bytes,
                error: o.error,
                preview: o.preview,
            })
        }
    };
    Ok(EventRecord {
        command: owner.command(id, time(row, "at")?, c),
        outcome,
    })
}

/// Streams every record but outcomes in seq order, each command joined
/// with its outcome. Rows come one at a time from the cursor (sqlx bounds
/// the queue between SQLite's thread and this task), so memory does not
/// grow with the log. Returns how many lines reached the sink.
pub(super) async fn export(
    pool: &SqlitePool,
    filter: &AuditFilter,
    sink: &mut (dyn for<'l> FnMut(&'l AuditLine) -> std::io::Result<()> + Send),
) -> Result<u64, StoreError> {
    let mut rows = sqlx::query(
        "SELECT c.seq, c.kind, c.id, c.at, c.session_id, c.identity, c.connection, c.body, \
         c.prev_hash, c.hash, o.seq AS o_seq, o.at AS o_at, o.body AS o_body, \
         o.prev_hash AS o_prev_hash, o.hash AS o_hash \
         FROM audit_log c LEFT JOIN audit_log o \
         ON c.kind = 'command' AND o.id = c.id || '/outcome' AND o.kind = 'outcome' \
         WHERE c.kind <> 'outcome' \
         AND (?1 IS NULL OR c.at >= ?1) AND (?2 IS NULL OR c.at < ?2) \
         AND (?3 IS NULL OR c.identity = ?3) AND (?4 IS NULL OR c.connection = ?4) \
         ORDER BY c.seq",
    )
    // A run's later commands are up to MAX_RUN_SPAN_MS younger than its
    // record (its first command), never older: records that start that
    // much before `since` may hold some, and each line is kept by its
    // own time below.
    .bind(filter.since.map(|t| millis(t) - MAX_RUN_SPAN_MS))
    .bind(filter.until.map(millis))
    .bind(filter.identity.as_deref())
    .bind(filter.connection.as_deref())
    .fetch(pool);
    let mut lines = 0;
    let in_range = |at: DateTime<Utc>| {
        filter.since.is_none_or(|since| at >= since) && filter.until.is_none_or(|until| at < until)
    };
    while let Some(row) = rows.try_next().await? {
        let (first, then) = line(&row)?;
        if in_range(first.at) {
            sink(&first).map_err(StoreError::Output)?;
            lines += 1;
        }
        for t in then {
            let later = later_line(&first, t)?;
            if in_range(later.at) {
                sink(&later).map_err(StoreError::Output)?;
                lines += 1;
            }
        }
    }
    Ok(lines)
}

/// The line of a later command of a run: the record's seq, hashes,
/// session, identity and connection, and the command's own fields.
fn later_line(first: &AuditLine, t: ThenBody) -> Result<AuditLine, StoreError> {
    let later = Later::of(t)?;
    let mut line = AuditLine {
        kind: AuditKind::Command,
        seq: first.seq,
        at: later.at,
        session: first.session.clone(),
        identity: first.identity.clone(),
        connection: first.connection.clone(),
        command: None,
        params: None,
        verdict: None,
        rules: None,
        reviewers: None,
        review: None,
        outcome: Some(carried_outcome(first, later.finished_at, later.outcome)),
        detail: None,
        prev_hash: first.prev_hash.clone(),
        hash: first.hash.clone(),
        id: later.id,
    };
    set_command(&mut line, later.body);
    Ok(line)
}

/// Fills a command's line from its body.
fn set_command(line: &mut AuditLine, c: CommandBody) {
    line.command = Some(c.command);
    line.params = Some(c.params);
    line.verdict = Some(c.verdict);
    line.rules = Some(c.rules);
    line.reviewers = Some(approvers(c.review.as_ref()));
    line.review = c.review;
}

/// An outcome carried in a command's record: its seq and hashes are the
/// record's.
fn carried_outcome(record: &AuditLine, at: DateTime<Utc>, o: FinishedBody) -> AuditOutcome {
    AuditOutcome {
        seq: record.seq,
        at,
        duration_us: o.duration_us,
        rows: o.rows,
        bytes: o.bytes,
        error: o.error,
        preview: o.preview,
        prev_hash: record.prev_hash.clone(),
        hash: record.hash.clone(),
    }
}

/// A record's line, and the later commands of its run if it holds one.
fn line(row: &SqliteRow) -> Result<(AuditLine, Vec<ThenBody>), StoreError> {
    let id: String = row.try_get("id")?;
    let kind_text: String = row.try_get("kind")?;
    let kind = AuditKind::parse(&kind_text).ok_or_else(|| {
        StoreError::Corrupt(format!("audit record {id}: unknown kind {kind_text:?}"))
    })?;
    let body_text: String = row.try_get("body")?;
    let mut line = AuditLine {
        kind,
        seq: row.try_get("seq")?,
        at: time(row, "at")?,
        session: row.try_get("session_id")?,
        identity: row.try_get("identity")?,
        connection: row.try_get("connection")?,
        command: None,
        params: None,
        verdict: None,
        rules: None,
        reviewers: None,
        review: None,
        outcome: None,
        detail: None,
        prev_hash: hex::encode(row.try_get::<&[u8], _>("prev_hash")?),
        hash: hex::encode(row.try_get::<&[u8], _>("hash")?),
        id,
    };
    let mut then = Vec::new();
    match kind {
        AuditKind::Command => {
            let mut c: CommandBody = body::parse(&line.id, &body_text)?;
            then = std::mem::take(&mut c.then);
            line.outcome = match c.outcome.take() {
                Some(o) => {
                    let at = time_of(o.at, &format!("audit record {}: outcome at", line.id))?;
                    Some(carried_outcome(&line, at, o))
                }
                None => outcome(row, &line.id)?,
            };
            set_command(&mut line, c);
        }
        AuditKind::SessionStart | AuditKind::SessionEnd => {
            line.detail = Some(body::parse::<SessionDetail>(&line.id, &body_text)?);
        }
        AuditKind::Checkpoint => {
            line.detail = Some(SessionDetail::Checkpoint(body::parse(
                &line.id, &body_text,
            )?));
        }
        // Excluded by the query: outcomes travel inside their command's line.
        AuditKind::Outcome => {}
    }
    Ok((line, then))
}

/// Who let a command run: the reviewers of an approved review, or those
/// who approved the grant it ran on. Empty otherwise.
fn approvers(review: Option<&crate::ReviewRef>) -> Vec<String> {
    match review {
        Some(r) if r.state == "approved" || r.state == "granted" => r.by.clone(),
        _ => Vec::new(),
    }
}

fn outcome(row: &SqliteRow, id: &str) -> Result<Option<AuditOutcome>, StoreError> {
    let Some(body_text) = row.try_get::<Option<String>, _>("o_body")? else {
        return Ok(None);
    };
    let o: OutcomeBody = body::parse(&format!("{id}/outcome"), &body_text)?;
    Ok(Some(AuditOutcome {
        seq: row.try_get("o_seq")?,
        at: time(row, "o_at")?,
        duration_us: o.duration_us,
        rows: o.rows,
        bytes: o.bytes,
        error: o.error,
        preview: o.preview,
        prev_hash: hex::encode(row.try_get::<&[u8], _>("o_prev_hash")?),
        hash: hex::encode(row.try_get::<&[u8], _>("o_hash")?),
    }))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::SESSION_EVENTS;
    use crate::{CommandRecord, SessionStart, SqliteStore, Store, WriteOp};

    fn command(session: &str, id: &str) -> WriteOp {
        WriteOp::Command(CommandRecord {
            id: id.into(),
            session_id: session.into(),
            identity: "alice".into(),
            connection: "db".into(),
            at: Utc::now(),
            command: format!("select '{id}'").into(),
            params: Default::default(),
            verdict: "allow".into(),
            rules: Vec::new(),
            review: None,
        })
    }

    fn start(session: &str) -> WriteOp {
        WriteOp::SessionStart(SessionStart {
            id: session.into(),
            identity: "alice".into(),
            connection: "db".into(),
            protocol: "postgres".into(),
            client_addr: "127.0.0.1:1".into(),
            started_at: Utc::now(),
        })
    }

    /// Commands named by the gateway's scheme and commands named otherwise
    /// (ids from before the scheme) come back together, in the order they
    /// were recorded, and a session whose id extends another's (`s1-x`
    /// after `s1`) keeps its own.
    #[tokio::test]
    async fn a_session_has_its_commands_however_they_are_named() {
        let store = SqliteStore::open_in_memory().await.expect("store");
        let ops = vec![
            start("s1"),
            start("s1-x"),
            command("s1", "s1-00000001"),
            command("s1", "0193a5f0-legacy-uuid"),
            command("s1-x", "s1-x-00000001"),
            command("s1", "s1-00000002"),
            command("s1-x", "another-legacy-id"),
            command("s1", "s1-00000003"),
            // Its session's id, but not followed by `-`; then after `-`,
            // but not at the start.
            command("s1", "s1x-own-name"),
            command("s1", "own-s1-00000009"),
        ];
        store.write_batch(&ops).await.expect("write");
        let ids = |events: Vec<crate::EventRecord>| -> Vec<String> {
            events.into_iter().map(|e| e.command.id).collect()
        };
        assert_eq!(
            ids(store.session_events("s1").await.expect("s1")),
            [
                "s1-00000001",
                "0193a5f0-legacy-uuid",
                "s1-00000002",
                "s1-00000003",
                "s1x-own-name",
                "own-s1-00000009"
            ]
        );
        assert_eq!(
            ids(store.session_events("s1-x").await.expect("s1-x")),
            ["s1-x-00000001", "another-legacy-id"]
        );
        assert!(store.session_events("s").await.expect("s").is_empty());
    }

    /// Both halves are index searches, not scans of the log: the log holds
    /// millions of records, a session a handful.
    #[tokio::test]
    async fn session_commands_are_looked_up_by_index() {
        let store = SqliteStore::open_in_memory().await.expect("store");
        let plan = explain(&store).await;
        let searches: Vec<&String> = plan.iter().filter(|d| d.starts_with("SEARCH c ")).collect();
        assert_eq!(searches.len(), 2, "{plan:#?}");
        assert!(
            searches
                .iter()
                .any(|d| d.contains("USING INDEX sqlite_autoindex_audit_log_1 (id>? AND id<?)")),
            "{plan:#?}"
        );
        assert!(
            searches.iter().any(
                |d| d.contains("USING INDEX audit_log_commands_named_otherwise (session_id=?)")
            ),
            "{plan:#?}"
        );
        assert!(!plan.iter().any(|d| d.starts_with("SCAN c")), "{plan:#?}");
    }

    async fn explain(store: &SqliteStore) -> Vec<String> {
        use sqlx::Row;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {SESSION_EVENTS}"
        )))
        .bind("s1")
        .fetch_all(&store.pool)
        .await
        .expect("explain")
        .iter()
        .map(|row| row.try_get::<String, _>("detail").expect("detail"))
        .collect()
    }
}
