//! The `body` of each kind of chain record: JSON of the fields a kind does
//! not share with the others. It is serialised once, when written, and
//! stored and hashed as that exact text; readers only ever parse it, so
//! the field order below is fixed by what is already stored, not by what
//! a later serde would produce.
//!
//! Command and outcome bodies, one per audited statement, are written by
//! `body_json`; the serde structs for them below are the reference it is
//! tested against, byte for byte.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::body_json;
use crate::{
    AuditKind, CommandRecord, FinishedCommand, OutcomeRecord, Preview, ReviewRef, StoreError,
    WriteOp,
};

#[cfg(test)]
#[derive(Serialize)]
struct CommandOut<'a> {
    command: &'a str,
    params: &'a [Option<String>],
    verdict: &'a str,
    rules: &'a [String],
    /// Absent on commands no review rule gated, so their bodies (and those
    /// recorded before reviews existed) are unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    review: Option<&'a ReviewRef>,
    /// Present when the command's outcome reached the store in the same
    /// batch as the command: one record per finished command instead of
    /// two (see `docs/audit.md`, "The records").
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<FinishedOut<'a>>,
    /// The later commands of a run (see `docs/audit.md`, "Runs"); absent
    /// on a command recorded alone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    then: Vec<ThenOut<'a>>,
}

/// A later command of a run: its own id and time, then its fields as a
/// command record's body has them.
#[cfg(test)]
#[derive(Serialize)]
struct ThenOut<'a> {
    id: &'a str,
    at: i64,
    #[serde(flatten)]
    command: CommandOut<'a>,
}

/// An outcome carried inside its command's record.
#[cfg(test)]
#[derive(Serialize)]
struct FinishedOut<'a> {
    at: i64,
    duration_us: i64,
    rows: i64,
    bytes: i64,
    error: Option<&'a str>,
    preview: Option<&'a Preview>,
}

#[cfg(test)]
#[derive(Serialize)]
struct OutcomeOut<'a> {
    event_id: &'a str,
    duration_us: i64,
    rows: i64,
    bytes: i64,
    error: Option<&'a str>,
    preview: Option<&'a Preview>,
}

#[derive(Serialize)]
struct SessionStartOut<'a> {
    protocol: &'a str,
    client_addr: &'a str,
}

#[derive(Serialize)]
struct SessionEndOut<'a> {
    end_reason: &'a str,
    commands: i64,
    rows: i64,
    bytes_to_client: i64,
}

/// A command record's body as read back.
#[derive(Debug, Deserialize)]
pub(crate) struct CommandBody {
    pub command: String,
    pub params: Vec<Option<String>>,
    pub verdict: String,
    pub rules: Vec<String>,
    #[serde(default)]
    pub review: Option<ReviewRef>,
    #[serde(default)]
    pub outcome: Option<FinishedBody>,
    /// The later commands of a run, each with its outcome.
    #[serde(default)]
    pub then: Vec<ThenBody>,
}

/// A later command of a run, as read back: its id and time, then the
/// fields of a command record's body. Its `outcome` is always there (a
/// run holds finished commands only; readers refuse one without) and
/// its own `then` is empty.
#[derive(Debug, Deserialize)]
pub(crate) struct ThenBody {
    pub id: String,
    /// Unix milliseconds: when the command was issued.
    pub at: i64,
    #[serde(flatten)]
    pub body: CommandBody,
}

/// An outcome carried inside its command's record, as read back.
#[derive(Debug, Deserialize)]
pub(crate) struct FinishedBody {
    /// Unix milliseconds: when the command finished.
    pub at: i64,
    pub duration_us: i64,
    pub rows: i64,
    pub bytes: i64,
    pub error: Option<String>,
    pub preview: Option<Preview>,
}

/// An outcome record's body as read back.
#[derive(Debug, Deserialize)]
pub(crate) struct OutcomeBody {
    pub event_id: String,
    pub duration_us: i64,
    pub rows: i64,
    pub bytes: i64,
    pub error: Option<String>,
    pub preview: Option<Preview>,
}

/// Parses a stored body; `id` names the record in the error.
pub(crate) fn parse<'de, T: Deserialize<'de>>(id: &str, body: &'de str) -> Result<T, StoreError> {
    serde_json::from_str(body)
        .map_err(|e| StoreError::Corrupt(format!("audit record {id}: body: {e}")))
}

/// A write op as a chain record, not yet linked into the chain.
pub(crate) struct Entry<'a> {
    pub kind: AuditKind,
    /// Borrowed from a command's own id: one copy fewer per statement.
    pub id: Cow<'a, str>,
    pub at: i64,
    pub session: &'a str,
    pub identity: &'a str,
    pub connection: &'a str,
    pub body: String,
}

fn command_body<'a>(
    c: &'a CommandRecord,
    outcome: Option<&'a OutcomeRecord>,
) -> body_json::Command<'a> {
    body_json::Command {
        command: &c.command,
        params: &c.params,
        verdict: &c.verdict,
        rules: &c.rules,
        review: c.review.as_deref(),
        outcome: outcome.map(|o| body_json::Finished {
            at: o.at.timestamp_millis(),
            duration_us: o.duration_us,
            rows: o.rows,
            bytes: o.bytes,
            error: o.error.as_deref(),
            preview: o.preview.as_ref(),
        }),
        then: Vec::new(),
    }
}

/// A finished command's body, with the later commands of its run.
fn finished_body(f: &FinishedCommand) -> body_json::Command<'_> {
    let mut body = command_body(&f.command, Some(&f.outcome));
    body.then = f
        .then
        .iter()
        .map(|t| body_json::Then {
            id: &t.command.id,
            at: t.command.at.timestamp_millis(),
            command: command_body(&t.command, Some(&t.outcome)),
        })
        .collect();
    body
}

/// The chain id of an op: unique across the log, which is what makes a
/// retried batch detectable.
pub(crate) fn record_id(op: &WriteOp) -> Cow<'_, str> {
    match op {
        WriteOp::SessionStart(s) => format!("{}/start", s.id).into(),
        WriteOp::Command(c) => Cow::Borrowed(&c.id),
        WriteOp::Finished(f) => Cow::Borrowed(&f.command.id),
        WriteOp::Outcome(o) => format!("{}/outcome", o.event_id).into(),
        WriteOp::SessionEnd(e) => format!("{}/end", e.id).into(),
    }
}

pub(crate) fn entry(op: &WriteOp) -> Result<Entry<'_>, StoreError> {
    let encoded = match op {
        WriteOp::SessionStart(s) => serde_json::to_string(&SessionStartOut {
            protocol: &s.protocol,
            client_addr: &s.client_addr,
        }),
        WriteOp::Command(c) => body_json::command(&command_body(c, None)),
        WriteOp::Finished(f) => body_json::command(&finished_body(f)),
        WriteOp::Outcome(o) => Ok(body_json::outcome(&body_json::Outcome {
            event_id: &o.event_id,
            duration_us: o.duration_us,
            rows: o.rows,
            bytes: o.bytes,
            error: o.error.as_deref(),
            preview: o.preview.as_ref(),
        })),
        WriteOp::SessionEnd(e) => serde_json::to_string(&SessionEndOut {
            end_reason: &e.end_reason,
            commands: e.commands,
            rows: e.rows,
            bytes_to_client: e.bytes_to_client,
        }),
    };
    let id = record_id(op);
    let body = encoded
        .map_err(|e| StoreError::Corrupt(format!("cannot encode audit record {id}: {e}")))?;
    let (kind, at, session, identity, connection) = match op {
        WriteOp::SessionStart(s) => (
            AuditKind::SessionStart,
            s.started_at,
            s.id.as_str(),
            s.identity.as_str(),
            s.connection.as_str(),
        ),
        WriteOp::Command(c) => (
            AuditKind::Command,
            c.at,
            &*c.session_id,
            &*c.identity,
            &*c.connection,
        ),
        WriteOp::Finished(f) => (
            AuditKind::Command,
            f.command.at,
            &*f.command.session_id,
            &*f.command.identity,
            &*f.command.connection,
        ),
        WriteOp::Outcome(o) => (
            AuditKind::Outcome,
            o.at,
            &*o.session_id,
            &*o.identity,
            &*o.connection,
        ),
        WriteOp::SessionEnd(e) => (
            AuditKind::SessionEnd,
            e.ended_at,
            e.id.as_str(),
            e.identity.as_str(),
            e.connection.as_str(),
        ),
    };
    Ok(Entry {
        kind,
        id,
        at: at.timestamp_millis(),
        session,
        identity,
        connection,
        body,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Text as records hold it: mostly plain, with quotes, backslashes,
    /// control characters and non-ASCII mixed in.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ -~]{0,40}",
            "[a-z\"\\\\\n\t\r\u{0}\u{1f}\u{7f}é東🙂 ]{0,40}",
            any::<String>(),
        ]
    }

    fn preview() -> impl Strategy<Value = Option<Preview>> {
        proptest::option::of(
            (
                proptest::collection::vec(text(), 0..4),
                proptest::collection::vec(
                    proptest::collection::vec(proptest::option::of(text()), 0..4),
                    0..4,
                ),
                any::<bool>(),
            )
                .prop_map(|(columns, rows, truncated)| Preview {
                    columns: columns.into(),
                    rows,
                    truncated,
                }),
        )
    }

    fn review() -> impl Strategy<Value = Option<ReviewRef>> {
        proptest::option::of(
            (
                proptest::option::of(text()),
                text(),
                proptest::collection::vec(text(), 0..3),
                proptest::option::of(text()),
            )
                .prop_map(|(id, state, by, grant)| ReviewRef {
                    id,
                    state,
                    by,
                    grant,
                }),
        )
    }

    type Finished = (i64, i64, i64, i64, Option<String>, Option<Preview>);

    fn finished() -> impl Strategy<Value = Option<Finished>> {
        proptest::option::of((
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            proptest::option::of(text()),
            preview(),
        ))
    }

    type Later = (
        String,
        i64,
        String,
        Vec<Option<String>>,
        String,
        Vec<String>,
        Option<ReviewRef>,
        Finished,
    );

    /// A later command of a run: always finished.
    fn later() -> impl Strategy<Value = Later> {
        (
            text(),
            any::<i64>(),
            text(),
            proptest::collection::vec(proptest::option::of(text()), 0..3),
            text(),
            proptest::collection::vec(text(), 0..2),
            review(),
            finished().prop_filter_map("finished", |f| f),
        )
    }

    fn finished_in(f: &Finished) -> body_json::Finished<'_> {
        let (at, duration_us, rows, bytes, error, preview) = f;
        body_json::Finished {
            at: *at,
            duration_us: *duration_us,
            rows: *rows,
            bytes: *bytes,
            error: error.as_deref(),
            preview: preview.as_ref(),
        }
    }

    fn finished_out<'a>(f: &body_json::Finished<'a>) -> FinishedOut<'a> {
        FinishedOut {
            at: f.at,
            duration_us: f.duration_us,
            rows: f.rows,
            bytes: f.bytes,
            error: f.error,
            preview: f.preview,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn command_bodies_are_the_bytes_serde_writes(
            command in text(),
            params in proptest::collection::vec(proptest::option::of(text()), 0..4),
            verdict in text(),
            rules in proptest::collection::vec(text(), 0..3),
            review in review(),
            finished in finished(),
            later in proptest::collection::vec(later(), 0..3),
        ) {
            let then = later
                .iter()
                .map(|(id, at, command, params, verdict, rules, review, finished)| body_json::Then {
                    id,
                    at: *at,
                    command: body_json::Command {
                        command,
                        params,
                        verdict,
                        rules,
                        review: review.as_ref(),
                        outcome: Some(finished_in(finished)),
                        then: Vec::new(),
                    },
                })
                .collect();
            let input = body_json::Command {
                command: &command,
                params: &params,
                verdict: &verdict,
                rules: &rules,
                review: review.as_ref(),
                outcome: finished.as_ref().map(finished_in),
                then,
            };
            let reference = CommandOut {
                command: input.command,
                params: input.params,
                verdict: input.verdict,
                rules: input.rules,
                review: input.review,
                outcome: input.outcome.as_ref().map(finished_out),
                then: input
                    .then
                    .iter()
                    .map(|t| ThenOut {
                        id: t.id,
                        at: t.at,
                        command: CommandOut {
                            command: t.command.command,
                            params: t.command.params,
                            verdict: t.command.verdict,
                            rules: t.command.rules,
                            review: t.command.review,
                            outcome: t.command.outcome.as_ref().map(finished_out),
                            then: Vec::new(),
                        },
                    })
                    .collect(),
            };
            let ours = body_json::command(&input).unwrap();
            prop_assert_eq!(ours, serde_json::to_string(&reference).unwrap());
        }

        #[test]
        fn outcome_bodies_are_the_bytes_serde_writes(
            event_id in text(),
            (_, duration_us, rows, bytes, error, preview) in finished().prop_filter_map("an outcome", |f| f),
        ) {
            let input = body_json::Outcome {
                event_id: &event_id,
                duration_us,
                rows,
                bytes,
                error: error.as_deref(),
                preview: preview.as_ref(),
            };
            let reference = OutcomeOut {
                event_id: input.event_id,
                duration_us: input.duration_us,
                rows: input.rows,
                bytes: input.bytes,
                error: input.error,
                preview: input.preview,
            };
            prop_assert_eq!(body_json::outcome(&input), serde_json::to_string(&reference).unwrap());
        }
    }
}
