//! Following commands through the protocol to their outcomes.
//!
//! The client may pipeline: several queries, or several Parse/Bind/Execute
//! groups each ended by Sync, can be in flight before the first answer
//! arrives. The tracker keeps them in a queue in the order the server will
//! answer them, and attributes each reply (rows, bytes, errors) to the
//! command at the front.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use chrono::{DateTime, Utc};

use airlock_policy::sql::SettingsDependence;

use crate::mask::StatementMask;
use crate::mask::plan::RowPlan;
use crate::names::ByName;
use crate::record::{PreviewBuf, Shapes};
use crate::wire::{self, Severity};

/// A command that has been forwarded and is waiting for its outcome.
#[derive(Debug)]
pub struct InFlight {
    pub text: Arc<str>,
    pub at: DateTime<Utc>,
    pub started: Instant,
    /// The verdict's label ([`airlock_core::Verdict::label`]).
    pub verdict: Cow<'static, str>,
    data_rows: i64,
    tag_rows: Option<i64>,
    pub bytes: i64,
    pub error: Option<String>,
    /// Set when the guard refused the command: the target was sent
    /// [`POISON`] in its place, and the target's error for it is replaced
    /// by this one.
    pub refusal: Option<Refusal>,
    /// Running it may change how the server reads later text (see
    /// [`Tracker::misreading`]).
    pub may_change_settings: bool,
    /// What masking applies to its results (`None`: masking is off).
    pub mask: Option<Arc<StatementMask>>,
    /// How its rows are masked, from the RowDescription of its result.
    pub plan: Option<Arc<RowPlan>>,
    /// Its audit record's id, once the record is written (before the
    /// command is forwarded, for one that runs).
    pub id: Option<String>,
    /// The values bound to its parameters, as recorded (masked): shared
    /// with its portal, which may be executed again.
    pub params: BoundValues,
    /// The first rows of its result, as the client received them.
    pub preview: Option<Box<PreviewBuf>>,
    /// What became of its review, for one a review rule gated.
    pub review: Option<airlock_store::ReviewRef>,
}

/// The error a client gets instead of running a refused command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

/// What a refused statement is replaced with on its way to the target: a
/// syntax error. The target rejects it in its parser, before it touches any
/// table, and answers exactly as for any failing statement — in order with
/// everything pipelined around it, aborting a transaction in progress, and
/// (in the extended protocol) skipping the rest of the group, so that no
/// earlier statement of the same name runs in its place.
pub const POISON: &str = "AIRLOCK_REFUSED_THIS_STATEMENT";

impl InFlight {
    pub fn new(text: Arc<str>, verdict: Cow<'static, str>) -> InFlight {
        InFlight {
            text,
            at: Utc::now(),
            started: Instant::now(),
            verdict,
            data_rows: 0,
            tag_rows: None,
            bytes: 0,
            error: None,
            refusal: None,
            may_change_settings: false,
            mask: None,
            plan: None,
            id: None,
            params: Arc::default(),
            preview: None,
            review: None,
        }
    }

    /// Will the server run it (and so, maybe, change its settings)?
    fn changes_settings(&self) -> bool {
        self.may_change_settings && self.refusal.is_none()
    }

    /// Rows the command produced or touched: the command tag's count where
    /// the server gives one (`SELECT 3`, `UPDATE 2`, `COPY 10`), else the
    /// data rows seen (a suspended portal).
    pub fn rows(&self) -> i64 {
        self.tag_rows.unwrap_or(self.data_rows)
    }
}

/// A reply the gateway gives in the target's place (a refusal).
#[derive(Debug)]
pub struct LocalReply {
    pub code: &'static str,
    pub message: String,
    /// Followed by ReadyForQuery, as the reply to a Query or a function
    /// call is; a refused Parse leaves that to the group's Sync.
    pub ready: bool,
}

#[derive(Debug)]
enum Pending {
    /// A simple-protocol Query: finished by ReadyForQuery.
    Simple(InFlight),
    /// An Execute: finished by CommandComplete, EmptyQueryResponse,
    /// PortalSuspended or ErrorResponse.
    Execute(InFlight),
    /// A forwarded Parse: gone at ParseComplete, recorded only if the
    /// server refuses it. A group without an Execute (a driver preparing a
    /// statement) has no other place for that error to land, and a
    /// statement the server refused must still leave an audit trail.
    Parse(InFlight),
    /// A Describe: answered by RowDescription or NoData (after a
    /// ParameterDescription for a statement). `ours` when the gateway sent
    /// it, before an Execute, to learn the shape of the rows it must mask;
    /// its answer is not the client's. `rows` when its answer describes
    /// the rows of the Execute right after it; `portal` names the portal a
    /// client's Describe is about.
    Describe {
        ours: bool,
        rows: bool,
        portal: Option<String>,
    },
    /// The end of an extended-protocol group.
    Sync,
    /// The gateway's own reply, held until everything the client sent
    /// before it has been answered: a client matches replies to requests
    /// by their order alone.
    Local(LocalReply),
}

/// A prepared statement or portal as the tracker knows it.
#[derive(Debug, Clone)]
struct Prepared {
    text: Arc<str>,
    /// The verdict label of its Parse.
    verdict: Cow<'static, str>,
    may_change_settings: bool,
    mask: Option<Arc<StatementMask>>,
    review: Option<airlock_store::ReviewRef>,
}

/// The command's preview buffer, made on its first result message.
fn preview(cmd: &mut InFlight, (rows, bytes): (usize, usize)) -> &mut PreviewBuf {
    cmd.preview
        .get_or_insert_with(|| Box::new(PreviewBuf::new(rows, bytes)))
}

/// Client encodings in which a byte beyond ASCII can take the ASCII byte
/// after it into one character (PostgreSQL's client-only encodings).
const CLIENT_ONLY_ENCODINGS: &[&str] = &[
    "SJIS",
    "SHIFT_JIS_2004",
    "BIG5",
    "GBK",
    "UHC",
    "GB18030",
    "JOHAB",
];

/// The values bound to a portal, as recorded: shared by the records of
/// every Execute of it.
pub type BoundValues = Arc<[Option<String>]>;

#[derive(Default)]
pub struct Tracker {
    pending: VecDeque<Pending>,
    statements: ByName<Prepared>,
    portals: ByName<(Prepared, BoundValues)>,
    /// Rows and bytes of each result kept for the audit trail.
    preview_rows: usize,
    preview_bytes: usize,
    /// Error that ended the current extended group; later Executes in the
    /// group are skipped by the server and recorded with it.
    group_error: Option<String>,
    transaction_status: u8,
    /// How the server reads statement text, as it last reported
    /// (ParameterStatus, at start and at each ReadyForQuery after a
    /// change); `None` until it does.
    standard_conforming_strings: Option<bool>,
    client_encoding: Option<String>,
    /// A command that may change those settings has been sent since the
    /// server last reported them.
    settings_in_doubt: bool,
    /// The last result shape previewed, shared by the next previews of it.
    shapes: Shapes,
    pub totals: Totals,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    pub commands: i64,
    pub rows: i64,
    pub bytes: i64,
}

impl Tracker {
    pub fn new() -> Tracker {
        Tracker {
            transaction_status: b'I',
            ..Tracker::default()
        }
    }

    /// Keep the first `rows` rows (at most `bytes` of values) of each
    /// command's result for its audit record.
    pub fn with_preview(mut self, rows: usize, bytes: usize) -> Tracker {
        self.preview_rows = rows;
        self.preview_bytes = bytes;
        self
    }

    /// `I` idle, `T` in a transaction, `E` in a failed transaction, as of
    /// the last ReadyForQuery.
    #[cfg(test)]
    pub fn transaction_status(&self) -> u8 {
        self.transaction_status
    }

    /// Is nothing waiting for the server's answer?
    pub fn nothing_pending(&self) -> bool {
        self.pending.is_empty()
    }

    // --- what the client sends ------------------------------------------

    pub fn query(&mut self, cmd: InFlight) {
        self.settings_in_doubt |= cmd.changes_settings();
        self.pending.push_back(Pending::Simple(cmd));
    }

    /// A Parse forwarded to the server (the statement itself, or the
    /// replacement of a refused one: `cmd.refusal` tells which).
    pub fn parse(&mut self, name: &str, cmd: InFlight) {
        let text = match cmd.refusal {
            Some(_) => Arc::from(format!("<refused> {}", cmd.text)),
            None => cmd.text.clone(),
        };
        let prepared = Prepared {
            text,
            verdict: cmd.verdict.clone(),
            may_change_settings: cmd.changes_settings(),
            mask: cmd.mask.clone(),
            review: cmd.review.clone(),
        };
        // The server refuses to redefine a named statement (42P05) and keeps
        // the old one, which later Executes run: keep recording that one.
        // The unnamed statement is replaced by every Parse.
        if name.is_empty() || !self.statements.contains(name) {
            self.statements.insert(name, prepared);
        }
        self.pending.push_back(Pending::Parse(cmd));
    }

    pub fn bind(&mut self, portal: &str, statement: &str, params: BoundValues) {
        let prepared = self
            .statements
            .get(statement)
            .cloned()
            .unwrap_or_else(|| Prepared {
                text: Arc::from(format!("<unknown prepared statement {statement:?}>")),
                verdict: Cow::Borrowed("allow"),
                may_change_settings: false,
                mask: None,
                review: None,
            });
        self.portals.insert(portal, (prepared, params));
    }

    #[cfg(test)]
    fn statement_text(&self, name: &str) -> Option<Arc<str>> {
        self.statements.get(name).map(|p| p.text.clone())
    }

    pub fn close_statement(&mut self, name: &str) {
        self.statements.remove(name);
    }

    pub fn close_portal(&mut self, name: &str) {
        self.portals.remove(name);
    }

    /// What an Execute of the portal `name` runs: its text, parameter
    /// count and verdict label, and whether it may change settings.
    pub fn portal(&self, name: &str) -> InFlight {
        match self.portals.get(name) {
            Some((p, params)) => {
                let mut cmd = InFlight::new(p.text.clone(), p.verdict.clone());
                cmd.may_change_settings = p.may_change_settings;
                cmd.mask = p.mask.clone();
                cmd.review = p.review.clone();
                cmd.params = params.clone();
                cmd
            }
            None => InFlight::new(
                Arc::from(format!("<unknown portal {name:?}>")),
                "allow".into(),
            ),
        }
    }

    /// A client's Describe on its way to the server (`portal`: of a
    /// portal, with its name; else of a statement).
    pub fn describe(&mut self, portal: Option<&str>) {
        self.pending.push_back(Pending::Describe {
            ours: false,
            rows: false,
            portal: portal.map(str::to_string),
        });
    }

    /// The gateway's own Describe of the portal an Execute right after it
    /// runs.
    pub fn describe_for_execute(&mut self) {
        self.pending.push_back(Pending::Describe {
            ours: true,
            rows: true,
            portal: None,
        });
    }

    /// Did the client itself describe `portal` right before executing it
    /// (as libpq does)? Then its answer describes the rows to come, and
    /// the gateway need not ask.
    pub fn claim_client_describe(&mut self, portal: &str) -> bool {
        match self.pending.back_mut() {
            Some(Pending::Describe {
                ours: false,
                rows,
                portal: Some(p),
            }) if p == portal => {
                *rows = true;
                true
            }
            _ => false,
        }
    }

    pub fn execute(&mut self, cmd: InFlight) {
        self.settings_in_doubt |= cmd.changes_settings();
        self.pending.push_back(Pending::Execute(cmd));
    }

    /// A setting the server reported (ParameterStatus).
    pub fn server_parameter(&mut self, name: &str, value: &str) {
        match name {
            "standard_conforming_strings" => {
                self.standard_conforming_strings = Some(value == "on");
            }
            "client_encoding" => self.client_encoding = Some(value.to_string()),
            _ => {}
        }
    }

    /// Why the server may read a text with `dependence` otherwise than the
    /// analyser, which reads every text as UTF-8 with
    /// `standard_conforming_strings` on; `None` when it reads it the same.
    pub fn misreading(&self, dependence: SettingsDependence) -> Option<String> {
        if !dependence.backslash_in_plain_string && !dependence.non_ascii {
            return None;
        }
        let what = if dependence.backslash_in_plain_string {
            "a backslash in a '...' string"
        } else {
            "characters beyond ASCII"
        };
        if self.settings_in_doubt {
            return Some(format!(
                "it has {what}, which the server reads according to standard_conforming_strings and client_encoding, and a command still running ahead of it may change those; send it once that command has finished"
            ));
        }
        if dependence.backslash_in_plain_string && self.standard_conforming_strings != Some(true) {
            return Some(
                "it has a backslash in a '...' string, which the server reads as an escape while standard_conforming_strings is off; set standard_conforming_strings to on, or write the string as E'...'".into(),
            );
        }
        if dependence.non_ascii {
            let encoding = self.client_encoding.as_deref().unwrap_or("unknown");
            let client_only = CLIENT_ONLY_ENCODINGS
                .iter()
                .any(|e| e.eq_ignore_ascii_case(encoding));
            if client_only || self.client_encoding.is_none() {
                return Some(format!(
                    "it has characters beyond ASCII, which the server reads in client_encoding {encoding} and the gateway reads as UTF-8; use client_encoding UTF8"
                ));
            }
        }
        None
    }

    pub fn sync(&mut self) {
        self.pending.push_back(Pending::Sync);
    }

    /// Queues a reply of the gateway's own; `release_local` writes it once
    /// its turn comes.
    pub fn local(&mut self, reply: LocalReply) {
        self.pending.push_back(Pending::Local(reply));
    }

    /// Whether a reply of the gateway's own is next in line.
    pub fn local_ready(&self) -> bool {
        matches!(self.pending.front(), Some(Pending::Local(_)))
    }

    /// Writes the gateway's own replies that are now at the front: called
    /// after each batch from the client and each message from the server.
    pub fn release_local(&mut self, out: &mut BytesMut) {
        while matches!(self.pending.front(), Some(Pending::Local(_))) {
            if let Some(Pending::Local(reply)) = self.pending.pop_front() {
                wire::error_response(out, Severity::Error, reply.code, &reply.message);
                if reply.ready {
                    wire::ready_for_query(out, self.transaction_status);
                }
            }
        }
    }

    // --- what the server answers ----------------------------------------

    /// The command whose rows a RowDescription arriving now describes: a
    /// simple Query's, or the Execute after the gateway's own Describe.
    /// `None` for the answer to a client's Describe (its rows, if any, come
    /// with the gateway's Describe before their Execute).
    pub fn described(&mut self) -> Option<&mut InFlight> {
        match self.pending.front() {
            Some(Pending::Simple(_)) => self.front(),
            Some(Pending::Describe { rows: true, .. }) => match self.pending.get_mut(1) {
                Some(Pending::Execute(c)) => Some(c),
                _ => None,
            },
            _ => None,
        }
    }

    /// Is the message arriving now the answer to the gateway's own
    /// Describe, which the client never asked for?
    pub fn answers_our_describe(&self, tag: u8) -> bool {
        matches!(tag, b'T' | b'n')
            && matches!(
                self.pending.front(),
                Some(Pending::Describe { ours: true, .. })
            )
    }

    /// How the rows arriving now are masked.
    pub fn row_plan(&self) -> Option<&Arc<RowPlan>> {
        match self.pending.front() {
            Some(Pending::Simple(c)) | Some(Pending::Execute(c)) => c.plan.as_ref(),
            _ => None,
        }
    }

    /// Accounts one server message; commands it finished go to `done`.
    /// Returns the refusal to send in its place when the message is the
    /// target's error for a refused command's replacement.
    pub fn server_message(
        &mut self,
        tag: u8,
        body: &[u8],
        done: &mut Vec<InFlight>,
    ) -> Option<Refusal> {
        match tag {
            b'D' | b'd' => {
                let limits = (self.preview_rows, self.preview_bytes);
                if let Some(cmd) = self.front() {
                    if tag == b'D' {
                        cmd.data_rows += 1;
                        if limits.0 > 0 {
                            preview(cmd, limits).row(body);
                        }
                    }
                    cmd.bytes += body.len() as i64;
                }
            }
            b'C' => {
                let count = command_tag_rows(body);
                match self.pending.front_mut() {
                    Some(Pending::Simple(cmd)) => {
                        if let Some(n) = count {
                            cmd.tag_rows = Some(cmd.tag_rows.unwrap_or(0) + n);
                        }
                        if let Some(p) = &mut cmd.preview {
                            p.close();
                        }
                    }
                    Some(Pending::Execute(cmd)) => {
                        cmd.tag_rows = count;
                        self.finish_front(done);
                    }
                    _ => {}
                }
            }
            b'T' | b'n' => {
                let limits = (self.preview_rows, self.preview_bytes);
                if tag == b'T' && limits.0 > 0 {
                    let mut shapes = std::mem::take(&mut self.shapes);
                    if let Some(cmd) = self.described() {
                        preview(cmd, limits).describe(body, &mut shapes);
                    }
                    self.shapes = shapes;
                }
                if matches!(self.pending.front(), Some(Pending::Describe { .. })) {
                    self.pending.pop_front();
                }
            }
            b'I' | b's' => {
                if matches!(self.pending.front(), Some(Pending::Execute(_))) {
                    self.finish_front(done);
                }
            }
            // ParseComplete: the statement is known to the server; it is
            // recorded when executed.
            b'1' => {
                if matches!(self.pending.front(), Some(Pending::Parse(_))) {
                    self.pending.pop_front();
                }
            }
            b'E' => {
                let (code, message) = wire::error_fields(body);
                let mut error = format!("{code}: {message}");
                // Only the replacement's own syntax error is rewritten: an
                // earlier statement's real error must reach the client as
                // it is.
                let refusal = match self.pending.front() {
                    Some(Pending::Simple(c)) | Some(Pending::Parse(c))
                        if message.contains(POISON) =>
                    {
                        c.refusal.clone()
                    }
                    _ => None,
                };
                if let Some(r) = &refusal {
                    error = format!("{}: {}", r.code, r.message);
                }
                if self.failed_parse_before_execute() {
                    // The Execute that follows reports it, so one failed
                    // statement is one event; the server skips every later
                    // Parse of the group, so none of them ran either.
                    while let Some(Pending::Parse(_) | Pending::Describe { .. }) =
                        self.pending.front()
                    {
                        self.pending.pop_front();
                    }
                }
                match self.pending.front_mut() {
                    Some(Pending::Simple(cmd)) => {
                        cmd.error.get_or_insert(error);
                    }
                    Some(Pending::Execute(cmd)) | Some(Pending::Parse(cmd)) => {
                        cmd.error = Some(error.clone());
                        self.group_error = Some(error);
                        self.finish_front(done);
                    }
                    // An error before any Execute (Bind, Describe) ends the
                    // group: its Executes never run.
                    Some(Pending::Sync)
                    | Some(Pending::Local(_))
                    | Some(Pending::Describe { .. })
                    | None => self.group_error = Some(error),
                }
                return refusal;
            }
            b'S' => {
                let mut fields = body.split(|&b| b == 0);
                if let (Some(name), Some(value)) = (fields.next(), fields.next()) {
                    self.server_parameter(
                        &String::from_utf8_lossy(name),
                        &String::from_utf8_lossy(value),
                    );
                }
            }
            b'Z' => {
                self.transaction_status = body.first().copied().unwrap_or(b'I');
                self.ready(done);
                // The server reports changed settings before each
                // ReadyForQuery; only commands still pending keep them in
                // doubt.
                self.settings_in_doubt = self.pending.iter().any(|p| match p {
                    Pending::Simple(c) | Pending::Execute(c) => c.changes_settings(),
                    _ => false,
                });
            }
            _ => {}
        }
        None
    }

    /// Is the front a Parse whose group goes on to an Execute?
    fn failed_parse_before_execute(&self) -> bool {
        matches!(self.pending.front(), Some(Pending::Parse(_)))
            && self
                .pending
                .iter()
                .take_while(|p| !matches!(p, Pending::Sync))
                .any(|p| matches!(p, Pending::Execute(_)))
    }

    fn front(&mut self) -> Option<&mut InFlight> {
        match self.pending.front_mut() {
            Some(Pending::Simple(c)) | Some(Pending::Execute(c)) => Some(c),
            _ => None,
        }
    }

    fn finish_front(&mut self, done: &mut Vec<InFlight>) {
        if let Some(Pending::Simple(c)) | Some(Pending::Execute(c)) | Some(Pending::Parse(c)) =
            self.pending.pop_front()
        {
            self.account(c, done);
        }
    }

    fn account(&mut self, cmd: InFlight, done: &mut Vec<InFlight>) {
        self.totals.commands += 1;
        self.totals.rows += cmd.rows();
        self.totals.bytes += cmd.bytes;
        done.push(cmd);
    }

    /// The session ended with commands in flight: record them with why.
    pub fn abandon(&mut self, why: &str, done: &mut Vec<InFlight>) {
        while let Some(p) = self.pending.pop_front() {
            if let Pending::Simple(mut c) | Pending::Execute(mut c) = p {
                c.error.get_or_insert_with(|| why.to_string());
                self.account(c, done);
            }
        }
    }

    /// ReadyForQuery ends one simple Query or one extended group.
    fn ready(&mut self, done: &mut Vec<InFlight>) {
        if matches!(self.pending.front(), Some(Pending::Simple(_))) {
            self.finish_front(done);
            return;
        }
        let mut held = Vec::new();
        while let Some(p) = self.pending.pop_front() {
            match p {
                Pending::Sync => break,
                // Skipped after an error: no answer will come.
                Pending::Describe { .. } => {}
                // A refusal inside a group the server cut short: it still
                // goes out, right after this ReadyForQuery.
                Pending::Local(reply) => held.push(reply),
                // A refused statement is recorded even when an earlier
                // error made the server skip its replacement: the attempt
                // is what an auditor asks about.
                Pending::Parse(mut c) if c.refusal.is_some() => {
                    c.error =
                        Some("not executed: refused, and skipped after an earlier error".into());
                    self.account(c, done);
                }
                // Skipped after an earlier error in the group: it never
                // reached the parser, so there is nothing to record.
                Pending::Parse(_) => {}
                Pending::Execute(mut c) | Pending::Simple(mut c) => {
                    let reason = self
                        .group_error
                        .clone()
                        .unwrap_or_else(|| "no response".into());
                    c.error = Some(format!("not executed: {reason}"));
                    self.account(c, done);
                }
            }
        }
        for reply in held.into_iter().rev() {
            self.pending.push_front(Pending::Local(reply));
        }
        self.group_error = None;
    }
}

/// The trailing count of a CommandComplete tag (`INSERT 0 5` → 5).
fn command_tag_rows(body: &[u8]) -> Option<i64> {
    let tag = body.strip_suffix(b"\0").unwrap_or(body);
    let last = tag.rsplit(|&b| b == b' ').next()?;
    if tag.len() == last.len() {
        return None;
    }
    std::str::from_utf8(last).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(text: &str) -> InFlight {
        InFlight::new(Arc::from(text), "allow".into())
    }

    #[test]
    fn simple_query_with_two_statements_sums_rows() {
        let mut t = Tracker::new();
        let mut done = vec![];
        t.query(cmd("select 1; select 2"));
        for m in [
            (b'T', &b""[..]),
            (b'D', b"x"),
            (b'C', b"SELECT 1\0"),
            (b'D', b"y"),
            (b'C', b"SELECT 1\0"),
        ] {
            t.server_message(m.0, m.1, &mut done);
        }
        assert!(done.is_empty());
        t.server_message(b'Z', b"I", &mut done);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].rows(), 2);
        assert_eq!(done[0].bytes, 2);
        assert!(t.nothing_pending());
    }

    #[test]
    fn row_descriptions_are_matched_to_the_execute_whose_rows_they_describe() {
        let mut t = Tracker::new();
        let mut done = vec![];
        // libpq: Parse, Bind, Describe portal, Execute, Sync: the client's
        // own Describe describes the rows, and its answer is the client's.
        t.parse("", cmd("select a"));
        t.describe(Some(""));
        assert!(t.claim_client_describe(""));
        t.execute(cmd("select a"));
        t.sync();
        // A driver that described the statement long ago: the gateway asks.
        t.describe(Some("other"));
        assert!(
            !t.claim_client_describe("p1"),
            "a Describe of another portal"
        );
        t.describe_for_execute();
        t.execute(cmd("select b"));
        t.sync();

        t.server_message(b'1', b"", &mut done);
        assert_eq!(t.described().map(|c| &*c.text), Some("select a"));
        assert!(
            !t.answers_our_describe(b'T'),
            "the client asked for this one"
        );
        t.server_message(b'T', b"", &mut done);
        t.server_message(b'C', b"SELECT 0\0", &mut done);
        t.server_message(b'Z', b"I", &mut done);
        // The client's Describe of "other" answers first, then ours.
        assert!(t.described().is_none());
        t.server_message(b'T', b"", &mut done);
        assert!(t.answers_our_describe(b'T'));
        assert_eq!(t.described().map(|c| &*c.text), Some("select b"));
        t.server_message(b'T', b"", &mut done);
        t.server_message(b'C', b"SELECT 0\0", &mut done);
        t.server_message(b'Z', b"I", &mut done);
        assert_eq!(done.len(), 2);
        assert!(t.nothing_pending());
    }

    #[test]
    fn describes_skipped_after_an_error_leave_nothing_behind() {
        let mut t = Tracker::new();
        let mut done = vec![];
        t.parse("", cmd("select nope"));
        t.describe_for_execute();
        t.execute(cmd("select nope"));
        t.sync();
        t.server_message(b'E', b"C42703\0Mno such column\0\0", &mut done);
        assert_eq!(done.len(), 1, "the failed Parse is the Execute's event");
        t.server_message(b'Z', b"I", &mut done);
        assert!(t.nothing_pending());
    }

    #[test]
    fn every_execute_of_a_portal_records_its_bound_values() {
        let mut t = Tracker::new();
        t.parse("s1", cmd("select * from t where id = $1"));
        let values: Arc<[Option<String>]> = vec![Some("7".to_string()), None].into();
        t.bind("p", "s1", values.clone());
        // A portal run in parts (Execute with a row limit) is executed
        // again: each Execute's record carries the same values, shared.
        let first = t.portal("p");
        let again = t.portal("p");
        assert_eq!(&first.params[..], &[Some("7".to_string()), None]);
        assert!(Arc::ptr_eq(&first.params, &again.params));
        assert!(Arc::ptr_eq(&first.params, &values));
        assert!(t.portal("other").params.is_empty());
    }

    #[test]
    fn pipelined_executes_finish_in_order_and_skip_after_error() {
        let mut t = Tracker::new();
        let mut done = vec![];
        t.parse("s1", cmd("insert into t values ($1)"));
        t.bind("", "s1", Arc::default());
        t.execute(cmd("a"));
        t.execute(cmd("b"));
        t.sync();
        t.server_message(b'1', b"", &mut done);
        t.server_message(b'C', b"INSERT 0 1\0", &mut done);
        t.server_message(b'E', b"SERROR\0C23505\0Mduplicate key\0\0", &mut done);
        t.server_message(b'Z', b"E", &mut done);
        assert_eq!(done.len(), 2);
        assert_eq!(done[0].rows(), 1);
        assert!(done[0].error.is_none());
        assert_eq!(done[1].error.as_deref(), Some("23505: duplicate key"));
        assert_eq!(t.transaction_status(), b'E');
        assert!(t.nothing_pending());
    }

    #[test]
    fn executes_after_a_parse_error_are_recorded_as_not_run() {
        let mut t = Tracker::new();
        let mut done = vec![];
        t.execute(cmd("x"));
        t.sync();
        // The server answers the failed Parse, skips Execute, then Sync.
        t.server_message(b'E', b"C42601\0Msyntax error\0\0", &mut done);
        t.server_message(b'Z', b"I", &mut done);
        // The error was at the front Execute: it is the one that failed.
        assert_eq!(done.len(), 1);
        assert!(done[0].error.as_deref().unwrap().contains("42601"));
    }

    #[test]
    fn a_refused_prepare_is_recorded_and_a_successful_one_is_not() {
        let mut t = Tracker::new();
        let mut done = vec![];
        // Parse, Describe, Sync twice (a driver preparing), pipelined.
        t.parse("s1", cmd("select 1"));
        t.sync();
        t.parse("s2", cmd("a"));
        t.parse("s3", cmd("b"));
        t.sync();
        t.server_message(b'1', b"", &mut done);
        t.server_message(b'Z', b"I", &mut done);
        assert!(done.is_empty());
        // The second group's first Parse fails; the server skips the
        // second, which is not recorded: it never ran.
        t.server_message(b'E', b"C42601\0Msyntax error\0\0", &mut done);
        t.server_message(b'Z', b"I", &mut done);
        assert_eq!(done.len(), 1);
        assert_eq!(&*done[0].text, "a");
        assert_eq!(done[0].error.as_deref(), Some("42601: syntax error"));
        assert!(t.nothing_pending());
        assert_eq!(t.totals.commands, 1);
    }

    #[test]
    fn a_failed_parse_followed_by_its_execute_is_one_event() {
        let mut t = Tracker::new();
        let mut done = vec![];
        t.parse("", cmd("selec 1"));
        t.bind("", "", Arc::default());
        t.execute(cmd("selec 1"));
        t.sync();
        t.server_message(b'E', b"C42601\0Msyntax error\0\0", &mut done);
        t.server_message(b'Z', b"I", &mut done);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].error.as_deref(), Some("42601: syntax error"));
        assert!(t.nothing_pending());
    }

    #[test]
    fn the_gateways_own_replies_wait_their_turn() {
        let mut t = Tracker::new();
        let mut done = vec![];
        let mut out = BytesMut::new();
        let refusal = |ready| LocalReply {
            code: "0A000",
            message: "no".into(),
            ready,
        };
        // Nothing in flight: out at once.
        t.local(refusal(true));
        t.release_local(&mut out);
        assert_eq!(out[0], b'E');
        out.clear();
        // Behind a query in flight: held until that query's ReadyForQuery,
        // then followed by a ReadyForQuery with the status it left.
        t.query(cmd("begin; select 1"));
        t.local(refusal(true));
        t.release_local(&mut out);
        assert!(out.is_empty());
        t.server_message(b'C', b"SELECT 1\0", &mut done);
        t.release_local(&mut out);
        assert!(out.is_empty());
        t.server_message(b'Z', b"T", &mut done);
        t.release_local(&mut out);
        assert_eq!(out[0], b'E');
        let z = &out[out.len() - 6..];
        assert_eq!(z, b"Z\0\0\0\x05T");
        assert!(t.nothing_pending());
    }

    #[test]
    fn command_tags_yield_counts() {
        assert_eq!(command_tag_rows(b"INSERT 0 5\0"), Some(5));
        assert_eq!(command_tag_rows(b"UPDATE 2\0"), Some(2));
        assert_eq!(command_tag_rows(b"CREATE TABLE\0"), None);
        assert_eq!(command_tag_rows(b"BEGIN\0"), None);
    }
}

#[cfg(test)]
mod refusal_tests {
    use super::*;

    fn refused(text: &str) -> InFlight {
        let mut c = InFlight::new(Arc::from(text), "block:r".into());
        c.refusal = Some(Refusal {
            code: "42501",
            message: "blocked".into(),
        });
        c
    }

    fn poison_error() -> Vec<u8> {
        format!("SERROR\0C42601\0Msyntax error at or near \"{POISON}\"\0\0").into_bytes()
    }

    #[test]
    fn a_refused_query_has_its_replacements_error_rewritten_and_is_recorded() {
        let mut t = Tracker::new();
        let mut done = vec![];
        t.query(refused("delete from t"));
        let r = t.server_message(b'E', &poison_error(), &mut done);
        assert_eq!(r.map(|r| r.code), Some("42501"));
        t.server_message(b'Z', b"E", &mut done);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].verdict, "block:r");
        assert_eq!(done[0].error.as_deref(), Some("42501: blocked"));
    }

    #[test]
    fn a_real_error_before_a_refused_parse_is_left_alone() {
        let mut t = Tracker::new();
        let mut done = vec![];
        t.parse("", InFlight::new(Arc::from("selec 1"), "allow".into()));
        t.parse("", refused("delete from t"));
        t.sync();
        let real = b"SERROR\0C42601\0Msyntax error at or near \"selec\"\0\0";
        assert!(t.server_message(b'E', real, &mut done).is_none());
        t.server_message(b'Z', b"I", &mut done);
        assert_eq!(done.len(), 2);
        assert!(done[0].error.as_deref().unwrap().contains("selec"));
        assert!(
            done[1]
                .error
                .as_deref()
                .unwrap()
                .starts_with("not executed")
        );
        assert!(t.nothing_pending());
    }

    #[test]
    fn executes_of_a_refused_statement_carry_its_verdict_and_refusal() {
        let mut t = Tracker::new();
        let mut done = vec![];
        t.parse("s", refused("delete from t"));
        t.bind("", "s", Arc::default());
        let cmd = t.portal("");
        assert!(cmd.text.starts_with("<refused>"));
        assert_eq!(cmd.verdict, "block:r");
        t.execute(cmd);
        t.sync();
        assert!(t.server_message(b'E', &poison_error(), &mut done).is_some());
        t.server_message(b'Z', b"I", &mut done);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].verdict, "block:r");
        assert_eq!(done[0].error.as_deref(), Some("42501: blocked"));
    }
}

#[cfg(test)]
mod settings_tests {
    use super::*;

    const BACKSLASH: SettingsDependence = SettingsDependence {
        backslash_in_plain_string: true,
        non_ascii: false,
    };
    const NON_ASCII: SettingsDependence = SettingsDependence {
        backslash_in_plain_string: false,
        non_ascii: true,
    };

    fn utf8() -> Tracker {
        let mut t = Tracker::new();
        t.server_parameter("client_encoding", "UTF8");
        t.server_parameter("standard_conforming_strings", "on");
        t
    }

    fn changing(text: &str) -> InFlight {
        let mut c = InFlight::new(Arc::from(text), "allow".into());
        c.may_change_settings = true;
        c
    }

    fn status(name: &str, value: &str) -> Vec<u8> {
        format!("{name}\0{value}\0").into_bytes()
    }

    #[test]
    fn text_is_read_as_analysed_only_under_known_safe_settings() {
        // Nothing reported yet: nothing is known.
        let t = Tracker::new();
        assert!(t.misreading(BACKSLASH).is_some());
        assert!(t.misreading(NON_ASCII).is_some());
        assert!(t.misreading(SettingsDependence::default()).is_none());
        let mut t = utf8();
        assert!(t.misreading(BACKSLASH).is_none());
        assert!(t.misreading(NON_ASCII).is_none());
        // Reported by the server in the session.
        let mut done = vec![];
        t.server_message(
            b'S',
            &status("standard_conforming_strings", "off"),
            &mut done,
        );
        assert!(
            t.misreading(BACKSLASH)
                .unwrap()
                .contains("standard_conforming_strings is off")
        );
        assert!(t.misreading(NON_ASCII).is_none());
        t.server_message(b'S', &status("client_encoding", "SJIS"), &mut done);
        assert!(
            t.misreading(NON_ASCII)
                .unwrap()
                .contains("client_encoding SJIS")
        );
        t.server_parameter("client_encoding", "LATIN1");
        assert!(t.misreading(NON_ASCII).is_none());
    }

    #[test]
    fn a_command_that_may_change_settings_leaves_them_in_doubt_until_ready() {
        let mut t = utf8();
        let mut done = vec![];
        t.query(changing("set standard_conforming_strings = off"));
        assert!(
            t.misreading(BACKSLASH)
                .unwrap()
                .contains("may change those")
        );
        t.server_message(b'C', b"SET\0", &mut done);
        t.server_message(
            b'S',
            &status("standard_conforming_strings", "off"),
            &mut done,
        );
        t.server_message(b'Z', b"I", &mut done);
        // Known again, and off.
        assert!(t.misreading(BACKSLASH).unwrap().contains("is off"));
        assert!(t.misreading(NON_ASCII).is_none());

        // In the extended protocol a change is reported only at the Sync's
        // ReadyForQuery, not when its Execute completes.
        let mut t = utf8();
        t.parse(
            "",
            changing("select set_config('client_encoding', 'SJIS', false)"),
        );
        t.bind("", "", Arc::default());
        let cmd = t.portal("");
        t.execute(cmd);
        t.sync();
        t.server_message(b'1', b"", &mut done);
        t.server_message(b'C', b"SELECT 1\0", &mut done);
        assert!(t.misreading(NON_ASCII).is_some());
        t.server_message(b'Z', b"I", &mut done);
        assert!(t.misreading(NON_ASCII).is_none());
    }

    #[test]
    fn a_refused_command_changes_nothing() {
        let mut t = utf8();
        let mut c = changing("set standard_conforming_strings = off; delete from t");
        c.refusal = Some(Refusal {
            code: "42501",
            message: "blocked".into(),
        });
        t.query(c);
        assert!(t.misreading(BACKSLASH).is_none());
        // Nor a plain query.
        t.query(InFlight::new(Arc::from("select 1"), "allow".into()));
        assert!(t.misreading(NON_ASCII).is_none());
    }
}

#[cfg(test)]
mod redefinition_tests {
    use super::*;

    #[test]
    fn a_named_statement_keeps_its_first_text_until_closed() {
        let mut t = Tracker::new();
        t.parse("s", InFlight::new(Arc::from("select 1"), "allow".into()));
        t.parse("s", InFlight::new(Arc::from("select 2"), "allow".into()));
        assert_eq!(t.statement_text("s").as_deref(), Some("select 1"));
        t.close_statement("s");
        t.parse("s", InFlight::new(Arc::from("select 3"), "allow".into()));
        assert_eq!(t.statement_text("s").as_deref(), Some("select 3"));
        t.parse("", InFlight::new(Arc::from("select 4"), "allow".into()));
        t.parse("", InFlight::new(Arc::from("select 5"), "allow".into()));
        assert_eq!(t.statement_text("").as_deref(), Some("select 5"));
    }
}
