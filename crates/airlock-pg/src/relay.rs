//! The relay: messages flow between client and target, each statement is
//! shown to the guard before the target sees it, each command is recorded
//! before the target sees it (and, in durable mode, the record committed),
//! and each outcome is recorded when the target finishes it.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use bytes::{Buf, BufMut, BytesMut};
use chrono::{DateTime, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use airlock_core::Verdict;
use airlock_core::audit::AuditMode;
use airlock_core::guard::GuardView;
use airlock_core::masking::MaskPolicy;
use airlock_core::review::{GateOutcome, GateRequest, Interrupt, Reviews};
use airlock_core::{Command, SessionInfo};
use airlock_policy::Facts;
use airlock_policy::rules::SessionCounters;
use airlock_store::{CommandRecord, OutcomeRecord, ReviewRef, WriteOp};

use crate::client_msg;
use crate::frame::{self, Frame};
use crate::mask::{self, StatementMask};
use crate::record;
use crate::recorded_text::{TextMemo, recorded_text};
use crate::server::Shared;
use crate::track::{InFlight, LocalReply, POISON, Refusal, Totals, Tracker};
use crate::upstream::BoxIo;
use crate::wire::{self, Severity};

#[derive(Debug)]
pub enum EndReason {
    /// The client sent Terminate.
    ClientTerminated,
    /// The client closed its socket without Terminate.
    ClientClosed,
    ClientError(String),
    TargetClosed,
    TargetError(String),
    Protocol(String),
    /// Nothing from the client for `limits.idle_timeout`.
    Idle,
    /// Commands could not be recorded, so they were not forwarded.
    AuditUnavailable(String),
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndReason::ClientTerminated => f.write_str("client terminated"),
            EndReason::ClientClosed => f.write_str("client closed the connection"),
            EndReason::ClientError(e) => write!(f, "client connection failed: {e}"),
            EndReason::TargetClosed => f.write_str("target closed the connection"),
            EndReason::TargetError(e) => write!(f, "target connection failed: {e}"),
            EndReason::Protocol(e) => write!(f, "protocol violation: {e}"),
            EndReason::Idle => f.write_str("idle timeout"),
            EndReason::AuditUnavailable(e) => write!(f, "audit store unavailable: {e}"),
        }
    }
}

pub struct Relay<'a> {
    shared: Arc<Shared>,
    session: &'a SessionInfo,
    client: BoxIo,
    client_buf: BytesMut,
    server: BoxIo,
    server_buf: BytesMut,
    max_message: usize,
    tracker: Tracker,
    /// When the session started, for `session.seconds` in rules.
    started: std::time::Instant,
    /// Events recorded so far: the sequence part of their ids.
    events_recorded: u64,
    /// Type of the last message the target sent.
    last_target_tag: u8,
    done: Vec<InFlight>,
    /// What the last batch of client messages produced, emptied: its
    /// buffers keep their room for the next batch.
    outgoing: Outgoing,
    /// Room for the outcomes of one read from the target.
    outcomes: Vec<WriteOp>,
    plan_memo: Option<PlanMemo>,
    /// The guard's generation this session decides and masks under, and
    /// its last decision (see `GuardView`).
    view: GuardView,
    /// The mask of every statement without column rules (detectors only).
    unruled_mask: Arc<StatementMask>,
    /// Whether a command's record must be committed before it is
    /// forwarded (fixed for the session when it starts).
    audit_mode: AuditMode,
    /// Withdraws a command held for review when the client sends a
    /// CancelRequest for this session.
    cancelled: Arc<crate::cancel::Held>,
    /// Who and where, as every record of the session names them: shared,
    /// not copied into each.
    recorded_as: RecordedAs,
    /// The last text recorded and what masking made of it.
    text_memo: TextMemo,
}

struct RecordedAs {
    session_id: Arc<str>,
    identity: Arc<str>,
    connection: Arc<str>,
}

/// What the guard decided about a statement, as the relay needs it.
struct Decided {
    label: Cow<'static, str>,
    refusal: Option<Refusal>,
    may_change_settings: bool,
    mask: Option<Arc<StatementMask>>,
    review: Option<ReviewRef>,
}

impl Decided {
    fn refused(label: &'static str, refusal: Refusal) -> Decided {
        Decided {
            label: Cow::Borrowed(label),
            refusal: Some(refusal),
            may_change_settings: false,
            mask: None,
            review: None,
        }
    }
}

/// The masking plan of the last result shape a session planned without
/// column rules. Without them a plan depends on nothing but the
/// RowDescription and the masking policy (no catalog names, no lineage of
/// the statement's text), so the next result of the same description
/// under the same policy generation gets the same plan without planning
/// it again: a session that runs one statement shape after another plans
/// it once.
struct PlanMemo {
    description: Vec<u8>,
    policy: Arc<MaskPolicy>,
    plan: Option<Arc<mask::plan::RowPlan>>,
}

/// Longest RowDescription a [`PlanMemo`] keeps.
const MAX_REMEMBERED_DESCRIPTION: usize = 4096;

/// Most room an emptied outgoing buffer keeps between batches.
const KEPT_OUTGOING_BYTES: usize = 64 * 1024;

/// What handling one batch of client messages produced.
#[derive(Default)]
struct Outgoing {
    to_server: BytesMut,
    /// The gateway's own replies whose turn has come.
    to_client: BytesMut,
    terminate: bool,
    /// Records of the commands in `to_server`, to be written before it is
    /// sent.
    announce: Vec<WriteOp>,
}

impl<'a> Relay<'a> {
    pub fn new(
        shared: Arc<Shared>,
        session: &'a SessionInfo,
        client: BoxIo,
        client_buf: BytesMut,
        server: BoxIo,
        server_buf: BytesMut,
        max_message: usize,
    ) -> Relay<'a> {
        let view = shared.deps.guard.view();
        let config = view.config();
        let audit_mode = config
            .connection(&session.connection)
            .map_or(config.audit.mode, |c| c.audit_mode(&config.audit));
        let tracker = Tracker::new().with_preview(
            config.audit.preview_rows as usize,
            config.audit.preview_bytes as usize,
        );
        Relay {
            shared,
            session,
            client,
            client_buf,
            server,
            server_buf,
            max_message,
            tracker,
            started: std::time::Instant::now(),
            events_recorded: 0,
            last_target_tag: 0,
            done: Vec::new(),
            outgoing: Outgoing::default(),
            outcomes: Vec::new(),
            plan_memo: None,
            view,
            unruled_mask: Arc::new(StatementMask::unruled()),
            audit_mode,
            cancelled: Arc::default(),
            recorded_as: RecordedAs {
                session_id: session.id.as_str().into(),
                identity: session.identity.name.as_str().into(),
                connection: session.connection.as_str().into(),
            },
            text_memo: TextMemo::default(),
        }
    }

    /// What the session's cancel key wakes (see `cancel::CancelTarget`).
    pub fn cancelled_by(mut self, cancelled: Arc<crate::cancel::Held>) -> Relay<'a> {
        self.cancelled = cancelled;
        self
    }

    /// The target's settings as it reported them at start (ParameterStatus):
    /// some decide how it reads statement text.
    pub fn server_parameters(mut self, parameters: &[(String, String)]) -> Relay<'a> {
        for (name, value) in parameters {
            self.tracker.server_parameter(name, value);
        }
        self
    }

    pub async fn run(mut self) -> (EndReason, Totals) {
        let reason = self.pump().await;
        // Commands still in flight when the session ends are recorded too:
        // the target may have run them, unless the session ended because
        // they could not be recorded, before they were forwarded.
        let why = match reason {
            EndReason::AuditUnavailable(_) => format!("not forwarded: {reason}"),
            _ => format!("unfinished: {reason}"),
        };
        let mut leftover = Vec::new();
        self.tracker.abandon(&why, &mut leftover);
        self.done.extend(leftover);
        self.record().await;
        let _ = self.server.shutdown().await;
        let _ = self.client.shutdown().await;
        (reason, self.tracker.totals)
    }

    async fn pump(&mut self) -> EndReason {
        // Messages already buffered during startup are handled first.
        if !self.client_buf.is_empty()
            && let Some(end) = self.client_data().await
        {
            return end;
        }
        // Checked when the timer fires rather than reset on every read: one
        // clock read per message instead of a timer update.
        let idle_limit = self.shared.deps.guard.config().limits.idle_timeout;
        let idle_timer = tokio::time::sleep(idle_check_after(idle_limit));
        tokio::pin!(idle_timer);
        let mut last_heard = tokio::time::Instant::now();
        loop {
            // A large result arrives in fewer, larger reads (and is passed
            // on in fewer, larger writes) with room for 64 KiB at a time;
            // the space of what the last pass consumed is reused.
            if self.server_buf.capacity() - self.server_buf.len() < READ_ROOM / 2 {
                self.server_buf.reserve(READ_ROOM);
            }
            tokio::select! {
                read = self.client.read_buf(&mut self.client_buf) => match read {
                    Ok(0) => return EndReason::ClientClosed,
                    Ok(_) => {
                        last_heard = tokio::time::Instant::now();
                        if let Some(end) = self.client_data().await { return end }
                    }
                    Err(e) => return EndReason::ClientError(e.to_string()),
                },
                () = &mut idle_timer => {
                    let quiet_until = last_heard + idle_limit;
                    if !idle_limit.is_zero()
                        && self.tracker.nothing_pending()
                        && tokio::time::Instant::now() >= quiet_until
                    {
                        let message = format!(
                            "terminating connection due to idle-session timeout (limits.idle_timeout = {})",
                            humantime::format_duration(idle_limit)
                        );
                        self.tell_client_fatal("57P05", &message).await;
                        return EndReason::Idle;
                    }
                    // Busy (a long query) or heard from since: look again later.
                    let next = quiet_until.max(tokio::time::Instant::now() + idle_check_after(idle_limit) / 4);
                    idle_timer.as_mut().reset(next);
                },
                read = self.server.read_buf(&mut self.server_buf) => match read {
                    Ok(0) => {
                        // The client has seen whatever the target said last;
                        // if that was not its own error, the client must not
                        // be left waiting for an answer that cannot come.
                        if !self.tracker.nothing_pending() && self.last_target_tag != b'E' {
                            self.tell_client_fatal(
                                "08006",
                                "the target closed the connection in the middle of a command",
                            )
                            .await;
                        }
                        return EndReason::TargetClosed;
                    }
                    Ok(_) => if let Some(end) = self.server_data().await { return end },
                    Err(e) => return EndReason::TargetError(e.to_string()),
                },
            }
        }
    }

    /// Handles every complete message the client has sent so far.
    async fn client_data(&mut self) -> Option<EndReason> {
        let mut out = std::mem::take(&mut self.outgoing);
        let end = self.handle_client_messages(&mut out).await;
        for buf in [&mut out.to_server, &mut out.to_client] {
            buf.clear();
            // A bulk load's buffer is not kept for the rest of the session.
            if buf.capacity() > KEPT_OUTGOING_BYTES {
                *buf = BytesMut::new();
            }
        }
        out.terminate = false;
        out.announce.clear();
        self.outgoing = out;
        end
    }

    async fn handle_client_messages(&mut self, out: &mut Outgoing) -> Option<EndReason> {
        loop {
            match frame::take_frame(&mut self.client_buf, self.max_message) {
                Ok(Some(f)) => {
                    if let Err(e) = self.client_message(f, out).await {
                        self.tell_client_fatal("08P01", &e).await;
                        return Some(EndReason::Protocol(e));
                    }
                    if out.terminate {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let msg = e.to_string();
                    self.tell_client_fatal("08P01", &msg).await;
                    return Some(EndReason::Protocol(msg));
                }
            }
        }
        if !out.announce.is_empty()
            && let Err(e) = self.announce(&mut out.announce).await
        {
            // Nothing of this batch has reached the target. Which of its
            // messages the client would still get answers to cannot be
            // told apart cleanly, so the session ends, loudly.
            let message = format!(
                "the gateway cannot record commands right now (audit store unavailable: {e}); nothing was forwarded, and the connection is closed"
            );
            tracing::error!(session = %self.session.id, error = %e, "commands not forwarded: their records could not be written");
            self.tell_client_fatal("58000", &message).await;
            return Some(EndReason::AuditUnavailable(e.to_string()));
        }
        if !out.to_server.is_empty()
            && let Err(e) = self.server.write_all(&out.to_server).await
        {
            return Some(EndReason::TargetError(e.to_string()));
        }
        self.tracker.release_local(&mut out.to_client);
        if !out.to_client.is_empty()
            && let Err(e) = self.client.write_all(&out.to_client).await
        {
            return Some(EndReason::ClientError(e.to_string()));
        }
        if out.terminate {
            return Some(EndReason::ClientTerminated);
        }
        None
    }

    /// A statement from a Query or a Parse, judged: its refusal is set when
    /// the target must get the poison statement in its place.
    async fn statement(&mut self, text: &str) -> InFlight {
        // One copy of the text serves the guard, the tracker and the record.
        let text: Arc<str> = Arc::from(text);
        let command = Command::Sql {
            text: text.clone(),
            param_count: 0,
        };
        let decided = self.decide(&command).await;
        let mut cmd = InFlight::new(text, decided.label);
        cmd.may_change_settings = decided.may_change_settings;
        cmd.refusal = decided.refusal;
        cmd.mask = decided.mask;
        cmd.review = decided.review;
        cmd
    }

    /// Handles one client message: decides, tracks, and queues it for the
    /// target (or answers it directly).
    async fn client_message(&mut self, f: Frame, out: &mut Outgoing) -> Result<(), String> {
        use client_msg::{ClientMessage as M, Target};
        match client_msg::parse(f.tag, &f.body).map_err(|e| e.to_string())? {
            M::Query { text } => {
                let mut cmd = self.statement(text).await;
                match cmd.refusal {
                    None => {
                        out.announce.push(self.command_record(&mut cmd, false));
                        put_frame(&mut out.to_server, &f);
                    }
                    Some(_) => put_query(&mut out.to_server, POISON),
                }
                self.tracker.query(cmd);
            }
            M::Parse { name, text } => {
                let cmd = self.statement(text).await;
                match cmd.refusal {
                    None => put_frame(&mut out.to_server, &f),
                    Some(_) => put_parse(&mut out.to_server, name, POISON),
                }
                self.tracker.parse(name, cmd);
            }
            M::Bind {
                portal,
                statement,
                params,
                formats,
                values,
            } => {
                let policy = self.view.masking();
                let recorded = record::bind_params(formats, params, values, |v| policy.scrub(v));
                self.tracker.bind(portal, statement, recorded.into());
                put_frame(&mut out.to_server, &f);
            }
            M::Execute { portal } => {
                let mut cmd = self.tracker.portal(portal);
                out.announce.push(self.command_record(&mut cmd, true));
                if cmd.mask.is_some() && !self.tracker.claim_client_describe(portal) {
                    // The rows' shape decides their masking, and the client
                    // need not have asked for it (or asked long before, for
                    // another portal): ask the server, right before them.
                    put_describe_portal(&mut out.to_server, portal);
                    self.tracker.describe_for_execute();
                }
                self.tracker.execute(cmd);
                put_frame(&mut out.to_server, &f);
            }
            M::Sync => {
                self.tracker.sync();
                put_frame(&mut out.to_server, &f);
            }
            M::Close { target, name } => {
                match target {
                    Target::Statement => self.tracker.close_statement(name),
                    Target::Portal => self.tracker.close_portal(name),
                }
                put_frame(&mut out.to_server, &f);
            }
            M::FunctionCall => {
                // A fast-path function call names a function by OID, with
                // no SQL the guard could read: refuse rather than wave it
                // through.
                self.tracker.local(LocalReply {
                    code: "0A000",
                    message: "fast-path function calls are not supported through Airlock; call the function in SQL".into(),
                    ready: true,
                });
            }
            M::Terminate => {
                put_frame(&mut out.to_server, &f);
                out.terminate = true;
            }
            M::Describe { target, name } => {
                self.tracker
                    .describe((target == Target::Portal).then_some(name));
                put_frame(&mut out.to_server, &f);
            }
            M::Flush | M::Copy => put_frame(&mut out.to_server, &f),
        }
        Ok(())
    }

    /// Asks the guard: the verdict's label for the event, when the command
    /// must not run the error the client gets instead, whether running it
    /// may change how the server reads later text, and how its results are
    /// masked.
    async fn decide(&mut self, command: &Command) -> Decided {
        if !self.shared.deps.writer.is_healthy() {
            let refusal = Refusal {
                code: "58000",
                message: "the gateway cannot record commands right now (audit store unavailable); command refused".into(),
            };
            return Decided::refused("refused:store-unavailable", refusal);
        }
        self.shared.deps.guard.refresh(&mut self.view);
        let max_statement = self.view.config().limits.max_statement_bytes as usize;
        if command.text().len() > max_statement {
            let refusal = Refusal {
                code: "54000",
                message: format!(
                    "statement of {} bytes is longer than the gateway analyses (limits.max_statement_bytes = {max_statement}); refused",
                    command.text().len()
                ),
            };
            tracing::info!(session = %self.session.id, reason = %refusal.message, "command refused");
            return Decided::refused("refused:too-long", refusal);
        }
        // The guard's analysis holds only if the server reads the text as
        // the analyser does.
        if let Command::Sql { text, .. } = command
            && let Some(why) = self
                .tracker
                .misreading(airlock_policy::sql::postgres_settings_dependence(text))
        {
            let refusal = Refusal {
                code: "42501",
                message: format!(
                    "refused: the server may read this statement otherwise than the gateway: {why}"
                ),
            };
            tracing::info!(session = %self.session.id, reason = %refusal.message, "command refused");
            return Decided::refused("refused:settings", refusal);
        }
        let totals = self.tracker.totals;
        let counters = SessionCounters {
            commands: totals.commands,
            rows: totals.rows,
            bytes: totals.bytes,
            seconds: self.started.elapsed().as_secs() as i64,
        };
        let judgement =
            self.shared
                .deps
                .guard
                .check_in(&mut self.view, self.session, counters, command);
        let label = judgement.verdict.label();
        let mut refusal = judgement.verdict.refusal().map(|message| Refusal {
            code: "42501",
            message,
        });
        let policy = self.view.masking();
        let detectors_on = policy.detectors_on();
        let masks_anything = policy.detectors_on()
            || !policy.column_rules().is_empty()
            || !judgement.verdict.mask_columns().is_empty();
        let unruled =
            policy.column_rules().is_empty() && judgement.verdict.mask_columns().is_empty();
        let mask = (policy.enabled() && masks_anything).then(|| {
            if unruled {
                // The same for every statement: shared, not made anew.
                self.unruled_mask.clone()
            } else {
                Arc::new(StatementMask::new(
                    policy,
                    judgement.verdict.mask_columns(),
                    &judgement.facts,
                ))
            }
        });
        if refusal.is_none()
            && let Some(m) = &mask
            && let Some(message) = self
                .copy_out_refusal(m, &judgement.facts, command.text(), detectors_on)
                .await
        {
            refusal = Some(Refusal {
                code: "42501",
                message,
            });
        }
        let mut review = None;
        if refusal.is_none()
            && let Verdict::Review {
                rules,
                reviewers,
                approvals,
                reason,
                ..
            } = &judgement.verdict
        {
            let text = recorded_text(
                self.view.masking(),
                &Arc::from(command.text()),
                mask.as_deref(),
            );
            let request = GateRequest {
                session: self.session,
                command: &text,
                fingerprint: &Reviews::fingerprint(command),
                rules,
                reviewers,
                approvals: *approvals,
                reason,
            };
            let outcome = self.hold_for_review(request).await;
            review = Some(outcome.audit());
            refusal = outcome.refusal().map(|message| Refusal {
                code: match outcome {
                    GateOutcome::Withdrawn(_, Interrupt::Cancelled) => "57014",
                    GateOutcome::Failed(_) => "58000",
                    GateOutcome::TooMany { .. } => "53400",
                    _ => "42501",
                },
                message,
            });
        }
        if let Some(r) = &refusal {
            tracing::info!(session = %self.session.id, verdict = %label, reason = %r.message, "command refused");
        }
        Decided {
            label,
            refusal,
            may_change_settings: may_change_settings(&judgement.facts),
            mask,
            review,
        }
    }

    /// Holds a command a review rule gates until its review is decided,
    /// the connection's `review.hold` ends, or the client cancels or goes
    /// away. Meanwhile nothing else of this session moves: the client
    /// waits for this statement, as for a slow one. What it sends in the
    /// meantime is kept (up to one message's size) for after the hold.
    async fn hold_for_review(&mut self, request: GateRequest<'_>) -> GateOutcome {
        let reviews = self.shared.deps.reviews.clone();
        let hold = {
            let config = self.shared.deps.guard.config();
            config
                .connection(&self.session.connection)
                .map_or(config.reviews.hold, |c| c.review_hold(&config.reviews))
        };
        // Registered before the review exists: `notify_waiters` reaches only
        // waiters already registered, and the client may cancel as soon as
        // the review is visible, before `gate` first polls `interrupted`.
        let cancelled = self.cancelled.clone();
        let cancel = cancelled.hold();
        let client = &mut self.client;
        let buf = &mut self.client_buf;
        let room = self.max_message;
        let client_gone = async move {
            loop {
                if buf.len() > room {
                    std::future::pending::<()>().await;
                }
                match client.read_buf(buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        };
        let interrupted = async move {
            tokio::select! {
                () = client_gone => Interrupt::ClientGone,
                () = cancel => Interrupt::Cancelled,
            }
        };
        let outcome = reviews.gate(request, hold, interrupted).await;
        // A cancel in the instant between the decision and here is taken
        // as the hold's and not passed on: like PostgreSQL's own, a cancel
        // that races its statement's start may do nothing.
        self.cancelled.released();
        outcome
    }

    /// Why a COPY … TO STDOUT cannot be answered masked, if it cannot: a
    /// column rule covers a column it sends, or it sends binary rows the
    /// detectors cannot read.
    async fn copy_out_refusal(
        &mut self,
        mask: &StatementMask,
        facts: &Facts,
        text: &str,
        detectors_on: bool,
    ) -> Option<String> {
        let sources = StatementMask::copy_out_columns(facts)?;
        if detectors_on && text.to_ascii_lowercase().contains("binary") {
            return Some(
                "binary COPY output cannot be scanned for secrets and personal data; use the text or CSV format".into(),
            );
        }
        let refuse = |column: &str| {
            format!(
                "COPY … TO STDOUT would send {column}, which is masked, and COPY output is not masked column by column; SELECT it instead"
            )
        };
        for (table, columns) in sources {
            for column in columns {
                if column != "*" {
                    if mask.covering(&table, &column).is_some() {
                        return Some(refuse(&format!("{table}.{column}")));
                    }
                    continue;
                }
                if !mask.rules.iter().any(|r| r.pattern.covers_table(&table)) {
                    continue;
                }
                // Every column of the table: which they are, only the
                // catalog knows.
                let config = self.shared.deps.guard.config();
                let Some(connection) = config.connection(&self.session.connection) else {
                    return Some("the connection is no longer configured".into());
                };
                match self
                    .shared
                    .catalogs
                    .table_columns(connection, &table, self.max_message)
                    .await
                {
                    Ok(names) => {
                        if let Some(n) = names.iter().find(|n| {
                            mask.rules
                                .iter()
                                .any(|r| r.pattern.matches(&n.schema, &n.table, &n.column))
                        }) {
                            return Some(refuse(&format!("{}.{}", n.table, n.column)));
                        }
                    }
                    Err(e) => {
                        return Some(format!(
                            "cannot tell whether COPY … TO STDOUT would send masked columns ({e}); refused"
                        ));
                    }
                }
            }
        }
        None
    }

    /// Gives the described command the plan remembered for this
    /// RowDescription (`body`, in the read buffer), if the plan can be
    /// reused: see [`PlanMemo`].
    fn reuse_plan(&mut self, body: std::ops::Range<usize>) -> bool {
        let Some(memo) = &self.plan_memo else {
            return false;
        };
        if !Arc::ptr_eq(&memo.policy, self.view.masking())
            || memo.description[..] != self.server_buf[body]
        {
            return false;
        }
        let plan = memo.plan.clone();
        match self.tracker.described() {
            Some(cmd) if cmd.mask.as_ref().is_some_and(|m| m.rules.is_empty()) => {
                cmd.plan = plan;
                true
            }
            _ => false,
        }
    }

    /// A RowDescription for a command whose results are masked: decides
    /// how each of its columns is, and remembers the plan where it can be
    /// reused.
    async fn plan_rows(&mut self, body: Vec<u8>) -> Result<(), String> {
        let policy = self.view.masking().clone();
        let Some(cmd) = self.tracker.described() else {
            return Ok(());
        };
        let Some(mask) = cmd.mask.clone() else {
            return Ok(());
        };
        let text = cmd.text.clone();
        let fields = mask::fields::row_description(&body).map_err(|e| e.to_string())?;
        let names = if mask.rules.is_empty() {
            vec![None; fields.len()]
        } else {
            let columns: Vec<(u32, i16)> = fields.iter().map(|f| (f.table_oid, f.attnum)).collect();
            match self.view.config().connection(&self.session.connection) {
                Some(connection) => {
                    self.shared
                        .catalogs
                        .resolve(connection, &columns, self.max_message)
                        .await
                }
                None => vec![None; fields.len()],
            }
        };
        let lineage = if !mask.rules.is_empty() && fields.iter().any(|f| f.table_oid == 0) {
            airlock_policy::sql::output_columns(&text)
        } else {
            None
        };
        let plan = mask::plan::plan(
            policy.clone(),
            &mask::plan::Shape {
                fields: &fields,
                names: &names,
                rules: &mask.rules,
                lineage: lineage.as_deref(),
                mentions_masked: mask.mentions_masked,
            },
        );
        let plan = plan.is_active().then(|| Arc::new(plan));
        if let Some(cmd) = self.tracker.described() {
            cmd.plan = plan.clone();
        }
        if mask.rules.is_empty() && body.len() <= MAX_REMEMBERED_DESCRIPTION {
            self.plan_memo = Some(PlanMemo {
                description: body,
                policy,
                plan,
            });
        }
        Ok(())
    }

    /// Passes every complete message the target has sent so far on to the
    /// client, accounting each to the command it answers.
    async fn server_data(&mut self) -> Option<EndReason> {
        // Complete messages go to the client straight from the read buffer.
        // Only where the gateway answers in the target's place (a refused
        // statement's error, a held reply of its own) is the stream copied
        // into `spliced` around the insertion.
        let mut spliced = BytesMut::new();
        let mut consumed = 0;
        let mut copied = 0;
        loop {
            let rest = &self.server_buf[consumed..];
            let len = match frame::peek_len(rest, self.max_message) {
                Ok(Some(len)) if rest.len() > len => len,
                Ok(Some(len)) => {
                    // Make room for the rest of a large message at once.
                    let missing = 1 + len - rest.len();
                    self.server_buf.reserve(missing);
                    break;
                }
                Ok(None) => break,
                Err(e) => {
                    let msg = format!("target sent an invalid message: {e}");
                    self.tell_client_fatal("08P01", &msg).await;
                    return Some(EndReason::TargetError(msg));
                }
            };
            let tag = rest[0];
            self.last_target_tag = tag;
            let body = consumed + 5..consumed + 1 + len;
            // What the client gets instead of the target's message, if not
            // the message itself; `drop` when it gets nothing.
            let mut replacement: Option<BytesMut> = None;
            let mut drop = false;
            let masked = match tag {
                b'T' => {
                    let planned = if self.tracker.described().is_some_and(|c| c.mask.is_some()) {
                        if self.reuse_plan(body.clone()) {
                            Ok(())
                        } else {
                            let description = self.server_buf[body.clone()].to_vec();
                            self.plan_rows(description).await
                        }
                    } else {
                        Ok(())
                    };
                    drop = self.tracker.answers_our_describe(tag);
                    planned
                }
                b'n' => {
                    drop = self.tracker.answers_our_describe(tag);
                    Ok(())
                }
                b'D' => match self.tracker.row_plan() {
                    Some(plan) => mask::rewrite::data_row(plan, &self.server_buf[body.clone()])
                        .map(|m| replacement = m)
                        .map_err(|e| e.to_string()),
                    None => Ok(()),
                },
                b'E' | b'N' => match self.view.masking().detectors_on() {
                    true => mask::rewrite::error_or_notice(
                        self.view.masking().masker(),
                        tag,
                        &self.server_buf[body.clone()],
                    )
                    .map(|m| replacement = m)
                    .map_err(|e| e.to_string()),
                    false => Ok(()),
                },
                b'd' if self.view.masking().detectors_on() => {
                    replacement = mask::rewrite::copy_data(
                        self.view.masking().masker(),
                        &self.server_buf[body.clone()],
                    );
                    Ok(())
                }
                _ => Ok(()),
            };
            if let Err(e) = masked {
                let msg = format!("target sent an invalid message: {e}");
                self.tell_client_fatal("08P01", &msg).await;
                return Some(EndReason::TargetError(msg));
            }
            // The tracker records what the client sees.
            let seen = match &replacement {
                Some(m) => &m[5..],
                None => &self.server_buf[body],
            };
            let refusal = self.tracker.server_message(tag, seen, &mut self.done);
            if refusal.is_some() || replacement.is_some() || drop {
                spliced.extend_from_slice(&self.server_buf[copied..consumed]);
                if let Some(refusal) = refusal {
                    wire::error_response(
                        &mut spliced,
                        Severity::Error,
                        refusal.code,
                        &refusal.message,
                    );
                } else if let Some(m) = replacement {
                    spliced.extend_from_slice(&m);
                }
                copied = consumed + 1 + len;
            }
            consumed += 1 + len;
            if self.tracker.local_ready() {
                spliced.extend_from_slice(&self.server_buf[copied..consumed]);
                copied = consumed;
                self.tracker.release_local(&mut spliced);
            }
        }
        // `copied` moved on only if something was spliced in or left out.
        let written = if copied == 0 {
            self.client.write_all(&self.server_buf[..consumed]).await
        } else {
            spliced.extend_from_slice(&self.server_buf[copied..consumed]);
            self.client.write_all(&spliced).await
        };
        self.server_buf.advance(consumed);
        if let Err(e) = written {
            return Some(EndReason::ClientError(e.to_string()));
        }
        if !self.done.is_empty() {
            self.record().await;
        }
        None
    }

    /// Writes the records of commands about to be forwarded: committed
    /// before this returns in durable mode, queued in buffered mode.
    async fn announce(&mut self, ops: &mut Vec<WriteOp>) -> Result<(), airlock_store::StoreError> {
        let writer = &self.shared.deps.writer;
        match self.audit_mode {
            AuditMode::Durable => writer.commit(std::mem::take(ops)).await,
            AuditMode::Buffered => writer.send_all(ops).await,
        }
    }

    /// The record of a command, and its id on `cmd`. Recordings hold
    /// nothing a detector recognises: a literal in a statement, a value
    /// bound to a parameter. `prepared`: the command is an Execute of a
    /// prepared statement.
    fn command_record(&mut self, cmd: &mut InFlight, prepared: bool) -> WriteOp {
        // Unique because the session id is, ordered within the session,
        // and free of a random-number syscall per statement. The store
        // finds a session's commands by this prefix (migration 0006).
        self.events_recorded += 1;
        let id = command_id(&self.session.id, self.events_recorded);
        cmd.id = Some(id.clone());
        let policy = self.view.masking();
        let params = if cmd.mask.as_ref().is_some_and(|m| m.mentions_masked) {
            vec![Some(record::WITHHELD.to_string()); cmd.params.len()].into()
        } else {
            std::mem::take(&mut cmd.params)
        };
        WriteOp::Command(CommandRecord {
            id,
            session_id: self.recorded_as.session_id.clone(),
            identity: self.recorded_as.identity.clone(),
            connection: self.recorded_as.connection.clone(),
            at: cmd.at,
            // A prepared statement's text comes again with each Execute
            // (and with each Parse of a driver that re-parses it); a
            // simple query's literals differ from one to the next.
            command: if prepared {
                self.text_memo
                    .recorded(policy, &cmd.text, cmd.mask.as_deref())
            } else {
                recorded_text(policy, &cmd.text, cmd.mask.as_deref())
            },
            params,
            rules: rules_of(&cmd.verdict),
            verdict: cmd.verdict.clone(),
            review: cmd.review.clone().map(Box::new),
        })
    }

    /// Records the outcomes of finished commands (and the commands
    /// themselves where they were never forwarded, so not yet recorded).
    async fn record(&mut self) {
        // Kept between reads, as `done` is: usually one outcome travels
        // alone and the list keeps its room (`Writer::record_all`).
        let mut ops = std::mem::take(&mut self.outcomes);
        // The list keeps its room between reads: a fresh one would be
        // grown again on every reply.
        let mut done = std::mem::take(&mut self.done);
        for mut cmd in done.drain(..) {
            let event_id = match cmd.id.take() {
                Some(id) => id,
                None => {
                    ops.push(self.command_record(&mut cmd, false));
                    cmd.id.take().unwrap_or_default()
                }
            };
            let policy = self.view.masking();
            let ran = cmd.started.elapsed();
            ops.push(WriteOp::Outcome(OutcomeRecord {
                event_id,
                session_id: self.recorded_as.session_id.clone(),
                identity: self.recorded_as.identity.clone(),
                connection: self.recorded_as.connection.clone(),
                at: finished_at(cmd.at, ran),
                duration_us: ran.as_micros() as i64,
                rows: cmd.rows(),
                bytes: cmd.bytes,
                error: cmd.error.as_deref().map(|e| policy.scrub(e).into_owned()),
                preview: cmd
                    .preview
                    .take()
                    .and_then(|p| p.finish(|v| policy.scrub(v))),
            }));
        }
        self.done = done;
        // One message for everything this read finished: one wake-up of
        // the writer instead of one per statement.
        let queued = self.shared.deps.writer.record_all(&mut ops).await;
        ops.clear();
        self.outcomes = ops;
        if let Err(e) = queued {
            tracing::error!(session = %self.session.id, error = %e, "outcomes could not be queued for the store");
        }
    }

    async fn tell_client_fatal(&mut self, code: &str, message: &str) {
        let mut out = BytesMut::new();
        wire::error_response(&mut out, Severity::Fatal, code, message);
        let _ = self.client.write_all(&out).await;
    }
}

/// When a command that started at `started` (wall clock) and ran for `ran`
/// (monotonic clock) finished: one clock read per outcome instead of two
/// (a wall-clock read cost about 200 instructions, 1 % of a session's per
/// statement: bench/RESULTS.md, twenty-third run), and an outcome's time
/// and duration that agree even if the wall clock is stepped meanwhile.
fn finished_at(started: DateTime<Utc>, ran: std::time::Duration) -> DateTime<Utc> {
    chrono::TimeDelta::from_std(ran)
        .ok()
        .and_then(|ran| started.checked_add_signed(ran))
        .unwrap_or_else(Utc::now)
}

/// `<session id>-<number, at least 8 digits>`, as `format!("{}-{:08}")`
/// would write it, without the formatting machinery on every command.
fn command_id(session: &str, n: u64) -> String {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let start = start.min(digits.len() - 8);
    let mut id = String::with_capacity(session.len() + 1 + digits.len() - start);
    id.push_str(session);
    id.push('-');
    id.extend(digits[start..].iter().map(|&d| char::from(d)));
    id
}

/// The rules a verdict label names (`block:a,b` → `a`, `b`).
fn rules_of(verdict: &str) -> Vec<String> {
    match verdict.split_once(':') {
        Some((kind, rules)) if kind != "refused" => rules
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Could running a command with these facts change how the server reads
/// later text (`standard_conforming_strings`, `client_encoding`)? SET,
/// RESET and DISCARD; set_config(); ends of transactions, which undo a SET;
/// EXECUTE and FETCH, which run statements prepared or declared earlier;
/// DO and CALL, whose code the analyser cannot see; and what it could not
/// read at all. (Functions already on the server that change them are
/// beyond what the gateway can see.)
fn may_change_settings(facts: &Facts) -> bool {
    facts.has_parse_error
        || facts.sql.functions.iter().any(|f| f == "set_config")
        || facts.sql.kinds.iter().any(|k| {
            matches!(
                k.as_str(),
                "set"
                    | "reset"
                    | "discard"
                    | "commit"
                    | "rollback"
                    | "execute"
                    | "fetch"
                    | "do"
                    | "call"
            )
        })
}

const READ_ROOM: usize = 64 * 1024;

/// When to first look whether an idle session should close: `0s` means
/// never, which a far-off timer stands for.
fn idle_check_after(limit: std::time::Duration) -> std::time::Duration {
    if limit.is_zero() {
        std::time::Duration::from_secs(365 * 24 * 3600)
    } else {
        limit
    }
}

fn put_query(out: &mut BytesMut, text: &str) {
    out.put_u8(b'Q');
    out.put_i32(4 + text.len() as i32 + 1);
    out.put_slice(text.as_bytes());
    out.put_u8(0);
}

fn put_parse(out: &mut BytesMut, name: &str, text: &str) {
    out.put_u8(b'P');
    out.put_i32(4 + name.len() as i32 + 1 + text.len() as i32 + 1 + 2);
    out.put_slice(name.as_bytes());
    out.put_u8(0);
    out.put_slice(text.as_bytes());
    out.put_u8(0);
    out.put_i16(0);
}

fn put_describe_portal(out: &mut BytesMut, portal: &str) {
    out.put_u8(b'D');
    out.put_i32(4 + 1 + portal.len() as i32 + 1);
    out.put_u8(b'P');
    out.put_slice(portal.as_bytes());
    out.put_u8(0);
}

fn put_frame(out: &mut BytesMut, f: &Frame) {
    out.reserve(5 + f.body.len());
    out.put_u8(f.tag);
    out.put_i32(4 + f.body.len() as i32);
    out.put_slice(&f.body);
}

#[cfg(test)]
mod tests {
    use super::{DateTime, Utc, command_id, finished_at};

    #[test]
    fn an_outcome_is_timed_from_its_start_and_its_duration() {
        let started = DateTime::parse_from_rfc3339("2026-12-01T06:00:00.000001Z")
            .map(|t| t.with_timezone(&Utc))
            .ok();
        let Some(started) = started else {
            panic!("the start time parses");
        };
        let ran = std::time::Duration::from_micros(1_500);
        assert_eq!(
            finished_at(started, ran).to_rfc3339(),
            "2026-12-01T06:00:00.001501+00:00"
        );
        // Beyond what a date can hold: the clock is read instead.
        let before = Utc::now();
        let fallback = finished_at(started, std::time::Duration::MAX);
        assert!(fallback >= before && fallback <= Utc::now());
    }

    #[test]
    fn command_ids_are_the_session_and_a_zero_padded_number() {
        for n in [
            0,
            1,
            7,
            42,
            99_999_999,
            100_000_000,
            123_456_789_012,
            u64::MAX,
        ] {
            assert_eq!(command_id("0193a5f0-s", n), format!("0193a5f0-s-{n:08}"));
        }
        // Ordered as text within a session up to the 8th digit, which is
        // what the store's index on ids keeps a session's commands by.
        assert!(command_id("s", 9) < command_id("s", 10));
    }
}
