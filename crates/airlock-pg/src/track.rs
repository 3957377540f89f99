//! Following commands through the protocol to their outcomes.
//!
//! The client may pipeline: several queries, or several Parse/Bind/Execute
//! groups each ended by Sync, can be in flight before the first answer
//! arrives. The tracker keeps them in a queue in the order the server will
//! answer them, and attributes each reply (rows, bytes, errors) to the
//! command at the front.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::wire;

/// A command that has been forwarded and is waiting for its outcome.
#[derive(Debug)]
pub struct InFlight {
    pub text: Arc<str>,
    pub param_count: usize,
    pub at: DateTime<Utc>,
    pub started: Instant,
    pub verdict: String,
    data_rows: i64,
    tag_rows: Option<i64>,
    pub bytes: i64,
    pub error: Option<String>,
    /// Set when the guard refused the command: the target was sent a
    /// statement that fails, and its error is replaced by this one.
    pub refusal: Option<Refusal>,
}

/// The error a client gets instead of running a refused command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

/// The statement text a refused command is replaced with, and the token
/// by which its syntax error is recognised.
pub const POISON: &str = "AIRLOCK_REFUSED_THIS_STATEMENT";

impl InFlight {
    pub fn new(text: Arc<str>, param_count: usize, verdict: String) -> InFlight {
        InFlight {
            text,
            param_count,
            at: Utc::now(),
            started: Instant::now(),
            verdict,
            data_rows: 0,
            tag_rows: None,
            bytes: 0,
            error: None,
            refusal: None,
        }
    }

    /// Rows the command produced or touched: the command tag's count where
    /// the server gives one (`SELECT 3`, `UPDATE 2`, `COPY 10`), else the
    /// data rows seen (a suspended portal).
    pub fn rows(&self) -> i64 {
        self.tag_rows.unwrap_or(self.data_rows)
    }
}

#[derive(Debug)]
enum Pending {
    /// A simple-protocol Query: finished by ReadyForQuery.
    Simple(InFlight),
    /// An Execute: finished by CommandComplete, EmptyQueryResponse,
    /// PortalSuspended or ErrorResponse.
    Execute(InFlight),
    /// A Parse the guard refused: finished by the target's error for the
    /// replacement statement.
    Parse(InFlight),
    /// The end of an extended-protocol group.
    Sync,
}

#[derive(Default)]
pub struct Tracker {
    pending: VecDeque<Pending>,
    /// Prepared statements: text and the verdict label of their Parse.
    statements: HashMap<String, (Arc<str>, Arc<str>)>,
    portals: HashMap<String, (Arc<str>, usize, Arc<str>)>,
    /// Error that ended the current extended group; later Executes in the
    /// group are skipped by the server and recorded with it.
    group_error: Option<String>,
    transaction_status: u8,
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

    /// `I` idle, `T` in a transaction, `E` in a failed transaction, as of
    /// the last ReadyForQuery.
    pub fn transaction_status(&self) -> u8 {
        self.transaction_status
    }

    #[cfg(test)]
    pub fn idle(&self) -> bool {
        self.pending.is_empty()
    }

    // --- what the client sends ------------------------------------------

    pub fn query(&mut self, cmd: InFlight) {
        self.pending.push_back(Pending::Simple(cmd));
    }

    pub fn parse(&mut self, name: &str, text: Arc<str>, verdict: &str) {
        self.statements.insert(name.to_string(), (text, Arc::from(verdict)));
    }

    /// A Parse the guard refused; the target gets the replacement.
    pub fn refused_parse(&mut self, name: &str, cmd: InFlight) {
        let text: Arc<str> = Arc::from(format!("<refused> {}", cmd.text));
        self.statements
            .insert(name.to_string(), (text, Arc::from(cmd.verdict.as_str())));
        self.pending.push_back(Pending::Parse(cmd));
    }

    pub fn bind(&mut self, portal: &str, statement: &str, param_count: usize) {
        let (text, verdict) = self.statements.get(statement).cloned().unwrap_or_else(|| {
            (
                Arc::from(format!("<unknown prepared statement {statement:?}>")),
                Arc::from("allow"),
            )
        });
        self.portals
            .insert(portal.to_string(), (text, param_count, verdict));
    }

    pub fn close_statement(&mut self, name: &str) {
        self.statements.remove(name);
    }

    pub fn close_portal(&mut self, name: &str) {
        self.portals.remove(name);
    }

    /// Text, parameter count and verdict label of the portal an Execute
    /// names.
    pub fn portal(&self, name: &str) -> (Arc<str>, usize, String) {
        match self.portals.get(name) {
            Some((text, params, verdict)) => (text.clone(), *params, verdict.to_string()),
            None => (Arc::from(format!("<unknown portal {name:?}>")), 0, "allow".into()),
        }
    }

    pub fn execute(&mut self, cmd: InFlight) {
        self.pending.push_back(Pending::Execute(cmd));
    }

    pub fn sync(&mut self) {
        self.pending.push_back(Pending::Sync);
    }

    // --- what the server answers ----------------------------------------

    /// Accounts one server message; commands it finished go to `done`.
    /// Returns the refusal to send instead, when the message is the
    /// target's error for a refused command's replacement.
    pub fn server_message(&mut self, tag: u8, body: &[u8], done: &mut Vec<InFlight>) -> Option<Refusal> {
        match tag {
            b'D' | b'd' => {
                if let Some(cmd) = self.front() {
                    if tag == b'D' {
                        cmd.data_rows += 1;
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
                    }
                    Some(Pending::Execute(cmd)) => {
                        cmd.tag_rows = count;
                        self.finish_front(done);
                    }
                    _ => {}
                }
            }
            b'I' | b's' => {
                if matches!(self.pending.front(), Some(Pending::Execute(_))) {
                    self.finish_front(done);
                }
            }
            b'E' => return self.error(body, done),
            b'Z' => {
                self.transaction_status = body.first().copied().unwrap_or(b'I');
                self.ready(done);
            }
            _ => {}
        }
        None
    }

    fn error(&mut self, body: &[u8], done: &mut Vec<InFlight>) -> Option<Refusal> {
        let (code, message) = wire::error_fields(body);
        // Only the replacement's own syntax error is rewritten: an earlier
        // statement's real error must reach the client as it is.
        let is_poison = message.contains(POISON);
        let error = format!("{code}: {message}");
        match self.pending.front_mut() {
            Some(Pending::Simple(cmd)) => match (&cmd.refusal, is_poison) {
                (Some(r), true) => {
                    let r = r.clone();
                    cmd.error = Some(format!("{}: {}", r.code, r.message));
                    return Some(r);
                }
                _ => {
                    cmd.error.get_or_insert(error);
                }
            },
            Some(Pending::Execute(cmd)) => {
                cmd.error = Some(error.clone());
                self.group_error = Some(error);
                self.finish_front(done);
            }
            Some(Pending::Parse(cmd)) if is_poison => {
                let r = cmd.refusal.clone();
                if let Some(r) = &r {
                    let ours = format!("{}: {}", r.code, r.message);
                    cmd.error = Some(ours.clone());
                    self.group_error = Some(ours);
                }
                self.finish_front(done);
                return r;
            }
            // An error before any Execute (Parse, Bind) ends the group:
            // its Executes never run.
            Some(Pending::Parse(_)) | Some(Pending::Sync) | None => self.group_error = Some(error),
        }
        None
    }

    fn front(&mut self) -> Option<&mut InFlight> {
        match self.pending.front_mut() {
            Some(Pending::Simple(c)) | Some(Pending::Execute(c)) => Some(c),
            _ => None,
        }
    }

    fn finish_front(&mut self, done: &mut Vec<InFlight>) {
        if let Some(Pending::Simple(c)) | Some(Pending::Execute(c)) | Some(Pending::Parse(c)) = self.pending.pop_front() {
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
    pub fn abandon(&mut self, reason: &str, done: &mut Vec<InFlight>) {
        while let Some(p) = self.pending.pop_front() {
            if let Pending::Simple(mut c) | Pending::Execute(mut c) | Pending::Parse(mut c) = p {
                c.error
                    .get_or_insert_with(|| format!("unfinished: {reason}"));
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
        while let Some(p) = self.pending.pop_front() {
            match p {
                Pending::Sync => break,
                Pending::Execute(mut c) | Pending::Simple(mut c) | Pending::Parse(mut c) => {
                    let reason = self
                        .group_error
                        .clone()
                        .unwrap_or_else(|| "no response".into());
                    c.error = Some(format!("not executed: {reason}"));
                    self.account(c, done);
                }
            }
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
        InFlight::new(Arc::from(text), 0, "allow".into())
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
        assert!(t.idle());
    }

    #[test]
    fn pipelined_executes_finish_in_order_and_skip_after_error() {
        let mut t = Tracker::new();
        let mut done = vec![];
        t.parse("s1", Arc::from("insert into t values ($1)"), "allow");
        t.bind("", "s1", 1);
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
        assert!(t.idle());
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
        let mut c = InFlight::new(Arc::from(text), 0, "block:r".into());
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
    fn a_refused_query_has_its_replacement_error_rewritten() {
        let mut t = Tracker::new();
        let mut done = vec![];
        t.query(refused("delete from t"));
        let r = t.server_message(b'E', &poison_error(), &mut done);
        assert_eq!(r.map(|r| r.code), Some("42501"));
        t.server_message(b'Z', b"E", &mut done);
        assert_eq!(done[0].verdict, "block:r");
        assert_eq!(done[0].error.as_deref(), Some("42501: blocked"));
    }

    #[test]
    fn a_real_error_before_a_refused_parse_is_left_alone() {
        let mut t = Tracker::new();
        let mut done = vec![];
        t.refused_parse("", refused("delete from t"));
        t.sync();
        let real = b"SERROR\0C42601\0Msyntax error at or near \"selec\"\0\0";
        assert!(t.server_message(b'E', real, &mut done).is_none());
        t.server_message(b'Z', b"I", &mut done);
        assert_eq!(done.len(), 1);
        assert!(done[0].error.as_deref().unwrap().starts_with("not executed"));
        assert!(t.idle());
    }

    #[test]
    fn executes_of_a_refused_statement_carry_its_verdict() {
        let mut t = Tracker::new();
        let mut done = vec![];
        t.refused_parse("s", refused("delete from t"));
        t.bind("", "s", 0);
        let (text, _, verdict) = t.portal("");
        assert!(text.starts_with("<refused>"));
        assert_eq!(verdict, "block:r");
        t.execute(InFlight::new(text, 0, verdict));
        t.sync();
        assert!(t.server_message(b'E', &poison_error(), &mut done).is_some());
        t.server_message(b'Z', b"I", &mut done);
        assert_eq!(done.len(), 2);
        assert!(done[1].error.as_deref().unwrap().contains("not executed"));
    }
}
