//! The loop every sink runs: read the chain after the sink's cursor,
//! deliver, then move the cursor on.
//!
//! The store is polled rather than signalled by the writer: the data path
//! then knows nothing about sinks, so a slow or dead sink can never hold
//! up a command, and a sink that was down catches up from the log itself.
//! Delivery is at least once: the cursor is saved after the destination
//! accepted a batch, so a crash in between sends that batch again.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use airlock_store::{AuditRecordLine, Store};
use tokio::sync::watch;
use tokio::time::Instant;

/// How often an idle sink looks for new records: the delay a record may
/// wait before a sink sees it, against one indexed query per interval.
const POLL: Duration = Duration::from_millis(200);
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// A destination: takes a batch whole or fails it whole.
pub trait Deliver: Send {
    /// Ok once the destination has the batch (written and flushed, or
    /// acknowledged); an error leaves the batch to be sent again.
    fn deliver(
        &mut self,
        records: &[AuditRecordLine],
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// How a sink groups records.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// Most records per delivery (at least 1).
    pub max: u32,
    /// Longest a partial batch waits, from when its first record was
    /// read, for more records to join it.
    pub linger: Duration,
}

/// Exponential backoff between failed attempts, reset by a success.
struct Backoff {
    next: Duration,
    failures: u32,
}

impl Backoff {
    fn new() -> Backoff {
        Backoff {
            next: RETRY_FIRST,
            failures: 0,
        }
    }

    fn fail(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(RETRY_MAX);
        self.failures += 1;
        wait
    }

    /// How many attempts had failed before this success.
    fn succeed(&mut self) -> u32 {
        let failed = self.failures;
        *self = Backoff::new();
        failed
    }
}

pub async fn run<D: Deliver>(
    name: String,
    store: Arc<dyn Store>,
    mut sink: D,
    batching: Batching,
    mut stop: watch::Receiver<bool>,
) {
    let mut follow = Follow {
        name,
        store,
        batching,
        backoff: Backoff::new(),
        cursor: 0,
        saved: 0,
        pending: Vec::new(),
        first_read: None,
    };
    let Some(cursor) = follow.load_cursor(&mut stop).await else {
        return;
    };
    follow.cursor = cursor;
    follow.saved = cursor;
    tracing::info!(sink = %follow.name, after_seq = cursor, "audit sink started");
    loop {
        // A stop seen here makes this round the last: it sends what is
        // there now, once, without waiting for a batch to fill, so records
        // of the final flush usually leave before the process does.
        let stopping = stopped(&stop);
        if let Err(e) = follow.fill().await {
            let wait = follow.backoff.fail();
            tracing::warn!(sink = %follow.name, error = %e, retry_in = ?wait,
                "audit sink cannot read the audit log");
            if stopping || !sleep_unless_stopped(wait, &mut stop).await {
                break;
            }
            continue;
        }
        if follow.backoff.succeed() > 0 {
            tracing::info!(sink = %follow.name, "audit sink reads the audit log again");
        }
        if !follow.pending.is_empty() && (stopping || follow.due()) {
            let full = follow.full();
            if !follow.deliver(&mut sink, &mut stop, stopping).await {
                break;
            }
            if full && !stopping {
                // Catching up: the next batch is very likely there already.
                continue;
            }
        }
        if stopping {
            break;
        }
        follow.save_cursor().await;
        // Woken by a stop, the loop goes round once more as its last round.
        sleep_unless_stopped(follow.idle_wait(), &mut stop).await;
    }
    follow.save_cursor().await;
    tracing::info!(sink = %follow.name, delivered_seq = follow.cursor, "audit sink stopped");
}

struct Follow {
    name: String,
    store: Arc<dyn Store>,
    batching: Batching,
    backoff: Backoff,
    /// The last seq the destination accepted.
    cursor: i64,
    /// The last cursor the store has.
    saved: i64,
    /// Read, not yet delivered; always follows `cursor` without a gap.
    pending: Vec<AuditRecordLine>,
    first_read: Option<Instant>,
}

impl Follow {
    /// `None` when stopped before the store answered.
    async fn load_cursor(&mut self, stop: &mut watch::Receiver<bool>) -> Option<i64> {
        loop {
            match self.store.sink_cursor(&self.name).await {
                Ok(seq) => {
                    self.backoff.succeed();
                    return Some(seq);
                }
                Err(e) => {
                    let wait = self.backoff.fail();
                    tracing::warn!(sink = %self.name, error = %e, retry_in = ?wait,
                        "audit sink cannot read its position");
                    if !sleep_unless_stopped(wait, stop).await {
                        return None;
                    }
                }
            }
        }
    }

    /// Tops the pending batch up from the log.
    async fn fill(&mut self) -> Result<(), airlock_store::StoreError> {
        let room = self.batching.max.saturating_sub(self.pending_len());
        if room == 0 {
            return Ok(());
        }
        let after = self.pending.last().map_or(self.cursor, |r| r.seq);
        let records = self.store.audit_records_after(after, room).await?;
        if let Some(first) = records.first()
            && first.seq != after + 1
        {
            // Not skipped by the sink: the log itself has no such records
            // (pruned by retention, or removed; `audit verify` tells which).
            tracing::warn!(sink = %self.name, first_missing = after + 1,
                resumes_at = first.seq, "audit log has a gap; the sink goes on after it");
        }
        if !records.is_empty() && self.pending.is_empty() {
            self.first_read = Some(Instant::now());
        }
        self.pending.extend(records);
        Ok(())
    }

    fn pending_len(&self) -> u32 {
        u32::try_from(self.pending.len()).unwrap_or(u32::MAX)
    }

    fn full(&self) -> bool {
        self.pending_len() >= self.batching.max
    }

    fn due(&self) -> bool {
        self.full()
            || self
                .first_read
                .is_some_and(|t| t.elapsed() >= self.batching.linger)
    }

    /// Until the next poll, or until the pending batch is due if sooner.
    fn idle_wait(&self) -> Duration {
        match self.first_read {
            Some(t) => POLL.min(self.batching.linger.saturating_sub(t.elapsed())),
            None => POLL,
        }
    }

    /// Sends the pending batch until the destination takes it; a batch is
    /// never skipped. `false` when stopped first, or when the one attempt
    /// allowed while stopping failed.
    async fn deliver<D: Deliver>(
        &mut self,
        sink: &mut D,
        stop: &mut watch::Receiver<bool>,
        once: bool,
    ) -> bool {
        loop {
            match sink.deliver(&self.pending).await {
                Ok(()) => break,
                Err(e) => {
                    let wait = self.backoff.fail();
                    tracing::warn!(sink = %self.name, error = format!("{e:#}"),
                        records = self.pending.len(), retry_in = ?wait,
                        "audit sink delivery failed; the batch will be sent again");
                    if once || !sleep_unless_stopped(wait, stop).await {
                        return false;
                    }
                }
            }
        }
        let failed = self.backoff.succeed();
        if failed > 0 {
            tracing::info!(sink = %self.name, failed_attempts = failed,
                "audit sink delivers again");
        }
        if let Some(last) = self.pending.last() {
            self.cursor = last.seq;
        }
        self.pending.clear();
        self.first_read = None;
        self.save_cursor().await;
        true
    }

    /// A failure here costs only duplicates after a crash, so it is
    /// logged and tried again after the next delivery or poll.
    async fn save_cursor(&mut self) {
        if self.saved == self.cursor {
            return;
        }
        match self.store.set_sink_cursor(&self.name, self.cursor).await {
            Ok(()) => self.saved = self.cursor,
            Err(e) => tracing::warn!(sink = %self.name, error = %e,
                "audit sink cannot save its position; a restart would send some records again"),
        }
    }
}

/// A sender that is gone can no longer say stop, so it counts as one.
fn stopped(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

/// `false` when `stop` fired before `wait` passed.
async fn sleep_unless_stopped(wait: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    if stopped(stop) {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(wait) => true,
        _ = stop.changed() => false,
    }
}
