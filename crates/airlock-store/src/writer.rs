//! The batching writer: the only path by which sessions and events reach the
//! store, so the data path pays one transaction per batch instead of one per
//! command.
//!
//! A durable write ([`Writer::commit`]) is answered once its batch is
//! durable: appended to the spool (see [`crate::spool`]) when the writer
//! has one, committed to the store otherwise. Writes from many sessions
//! that queue meanwhile go into the next batch together (group commit), so
//! durability costs one flush per batch, not one per command.
//!
//! Two tasks share the work: the writer gathers batches and spools the
//! durable ones; the filler commits batches to the store, in order, and
//! retries until they land. Spooled batches therefore never wait for the
//! store's transactions, and the spool forgets a batch only once the store
//! has it.
//!
//! With a spool that only writes (`fsync` off), a durable write whose
//! session finds nobody else making a batch makes it itself, on its own
//! thread ([`Writer::commit`]): handing the batch to the writer's thread
//! and the answer back cost two thread wake-ups per batch, more than the
//! write. Whoever makes a batch holds the [`Batcher`], so batches still
//! leave in the order their ops were queued.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::pairing::{gather_runs, pair_outcomes};
use crate::spool::{Position, Spool};
use crate::{Store, StoreError, WriteOp};

const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(2);
/// How often a failing spool is tried again when nothing else tries it.
const SPOOL_RETRY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Ops that may wait for the task before `send` starts to wait too.
    pub channel_capacity: usize,
    /// Most ops committed by one `write_batch` call.
    pub max_batch: usize,
    /// How long the writer waits after the first op of a batch for others
    /// to join it. Under load this turns thousands of tiny transactions
    /// (and thread wake-ups) a second into a few hundred larger ones; the
    /// sessions that queued the ops do not wait for it. A batch with a
    /// durable write in it does not linger: someone waits for it.
    pub linger: Duration,
    /// How long the filler gathers batches that are in the spool already
    /// before it commits them to the store together. Their records are
    /// durable, so nobody waits for this commit, and a larger transaction
    /// costs the store less per record (`write_cost`: about a fifth less
    /// at 2 000 ops than at 500, bench/RESULTS.md). Outcomes and session
    /// records wait with them. A command's record that is only in memory
    /// (buffered mode) cuts the gathering short within `linger`, which is
    /// also how often the filler looks: until the store has that record, a
    /// crash loses it. No gathering without a `linger`.
    pub spooled_linger: Duration,
    /// Records handed to the store's filler and not yet committed beyond
    /// which the writer takes nothing new until the store catches up. The
    /// spool lets durable commands run ahead of the store, but not without
    /// bound: senders then wait on the writer's full queue, so sessions
    /// slow down to what the store can take rather than fail.
    pub max_backlog: usize,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            channel_capacity: 8192,
            max_batch: 512,
            linger: Duration::from_millis(20),
            spooled_linger: Duration::from_millis(100),
            max_backlog: 50_000,
        }
    }
}

type Ack = oneshot::Sender<Result<(), StoreError>>;

/// The message that carries `ops` to the writer, leaving `ops` empty. One
/// op, what a session's statement usually queues, travels alone and the
/// caller's list keeps its room for the next: handing the list over would
/// cost an allocation per statement on the session's thread and a free of
/// it on the writer's.
fn message_of(ops: &mut Vec<WriteOp>) -> Option<Msg> {
    match ops.len() {
        0 => None,
        1 => ops.pop().map(Msg::Op),
        _ => Some(Msg::Ops(std::mem::take(ops))),
    }
}

enum Msg {
    Op(WriteOp),
    Ops(Vec<WriteOp>),
    /// Answered when the batch holding these ops commits, or failed.
    Durable(Vec<WriteOp>, Ack),
    /// Answered once everything queued before it has committed.
    Flush(oneshot::Sender<()>),
}

impl Msg {
    /// How many records it carries.
    fn records(&self) -> usize {
        match self {
            Msg::Op(_) => 1,
            Msg::Ops(ops) | Msg::Durable(ops, _) => ops.len(),
            Msg::Flush(_) => 0,
        }
    }
}

/// A handle on the writer task; cheap to clone, one per session.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Msg>,
    healthy: Arc<Health>,
    /// Wakes the writer's loop: something was queued.
    queued: Arc<Notify>,
    /// Cuts a linger short: someone waits for the batch, or a whole batch
    /// is queued.
    urgent: Arc<Notify>,
    max_batch: usize,
    /// What makes batches, shared with the writer's loop.
    batcher: Arc<Mutex<Batcher>>,
    /// A committing session takes the batcher when it is free: only with a
    /// spool that does not flush (without a spool, a durable write waits
    /// for the store's commit, which the filler makes).
    leads: bool,
    /// Dropped with the last handle, which tells the writer's loop that
    /// nothing more will be queued.
    _open: Arc<oneshot::Sender<()>>,
}

impl Writer {
    /// Starts the writer without a spool: a durable write is answered
    /// once the store has committed it. The tasks end once every `Writer`
    /// is dropped and the queue is drained; while the store keeps failing
    /// they keep retrying, so a shutdown that cannot wait should abort the
    /// handle.
    pub fn spawn(store: Arc<dyn Store>, config: WriterConfig) -> (Writer, JoinHandle<()>) {
        let (writer, work) = Self::prepare(store, config, None);
        (writer, tokio::spawn(work))
    }

    /// Starts the writer with a spool: a durable write is answered once it
    /// is in the spool, and the store is filled from there behind it.
    /// Replay the spool's directory into the store ([`crate::spool::replay`])
    /// before opening it. The writer's loop runs on a thread of its own
    /// ([`on_own_thread`]); failing to start it is an error.
    pub fn spawn_spooled(
        store: Arc<dyn Store>,
        config: WriterConfig,
        spool: Spool,
    ) -> std::io::Result<(Writer, JoinHandle<()>)> {
        let (writer, work) = Self::prepare(store, config, Some(spool));
        Ok((writer, on_own_thread(work)?))
    }

    /// The handle, and the writer's loop for the caller to run. The filler
    /// is spawned on the current runtime.
    fn prepare(
        store: Arc<dyn Store>,
        config: WriterConfig,
        spool: Option<Spool>,
    ) -> (Writer, impl Future<Output = ()> + Send + 'static) {
        let (queue, rx) = mpsc::channel(config.channel_capacity.max(1));
        // Unbounded: the writer bounds it itself (`max_backlog`), and must
        // not block on it while the store fails.
        let (fill_tx, fill_rx) = mpsc::unbounded_channel();
        let healthy = Arc::new(Health {
            spool_failing: AtomicBool::new(false),
            store_failing: AtomicBool::new(false),
            backlog: AtomicUsize::new(0),
            drained: Notify::new(),
            max_backlog: config.max_backlog.max(1),
        });
        let landed = Arc::new(AtomicU64::new(0));
        let urgent = Arc::new(Notify::new());
        let queued = Arc::new(Notify::new());
        let filler = tokio::spawn(fill(
            store,
            fill_rx,
            config.max_batch.max(1),
            Lingers {
                // Without a spool there are no spooled frames to gather,
                // and outcomes keep the usual linger.
                spooled: if spool.is_some() {
                    config.spooled_linger
                } else {
                    config.linger
                },
                unspooled: config.linger,
            },
            healthy.clone(),
            landed.clone(),
        ));
        // Only while the spool writes without flushing to disk: a flush
        // (about 0.1 ms here) kept the batcher busy so often that most
        // commits found it taken and woke the writer's thread anyway, and
        // durable pgbench ran about 5 % slower with sessions leading
        // (bench/RESULTS.md).
        let leads = spool.as_ref().is_some_and(|spool| !spool.flushes());
        let batcher = Arc::new(Mutex::new(Batcher {
            rx,
            taken: Vec::new(),
            max_batch: config.max_batch.max(1),
            durability: Durability {
                spool,
                healthy: healthy.clone(),
                landed,
            },
            filler: fill_tx,
            ended: false,
        }));
        let (open, closed) = oneshot::channel();
        let work = {
            let batching = Batching {
                linger: config.linger,
                urgent: urgent.clone(),
                queued: queued.clone(),
            };
            let (batcher, healthy) = (batcher.clone(), healthy.clone());
            // Dropped with the loop, also when it is aborted (even before
            // it ever ran): sessions must not go on making batches behind
            // a stopped writer.
            let stop = StopOnDrop(batcher.clone());
            async move {
                {
                    let _stop = stop;
                    run(batcher, batching, healthy, closed).await;
                }
                // The last handle on the batcher is gone with the loop, and
                // with it the filler's queue: the filler ends once it has
                // drained what the writer handed it.
                let _ = filler.await;
            }
        };
        (
            Writer {
                queue,
                healthy,
                queued,
                urgent,
                max_batch: config.max_batch.max(1),
                batcher,
                leads,
                _open: Arc::new(open),
            },
            work,
        )
    }

    /// Queues one write. Refused while the store is failing: the durable
    /// data path must not run commands it may be unable to record.
    pub async fn send(&self, op: WriteOp) -> Result<(), StoreError> {
        if !self.is_healthy() {
            return Err(StoreError::Unavailable(
                "store writes are failing; retrying".into(),
            ));
        }
        self.enqueue(Msg::Op(op)).await?;
        self.queued.notify_one();
        self.wake_if_full();
        Ok(())
    }

    /// Queues several writes as one message: one wake-up of the writer for
    /// all the commands a session finished in one read from its target.
    /// Once queued, `ops` is empty, with its room if it held one op (see
    /// [`message_of`]). Refused while the store is failing, as `commit`
    /// is, and kept all the same.
    pub async fn send_all(&self, ops: &mut Vec<WriteOp>) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        if !self.is_healthy() {
            self.keep_refused(ops).await;
            return Err(StoreError::Unavailable(
                "store writes are failing; retrying".into(),
            ));
        }
        let Some(message) = message_of(ops) else {
            return Ok(());
        };
        self.enqueue(message).await?;
        self.queued.notify_one();
        self.wake_if_full();
        Ok(())
    }

    /// Commits the ops (with whatever else is queued) and returns once they
    /// are in the store. Fails at once while the store is failing, and as
    /// soon as the batch holding them fails: the caller must not act as if
    /// they were recorded. Either way they stay queued (in the retried
    /// batch, or as records of refused commands), so they do land once the
    /// store is back; the caller records what it did instead.
    pub async fn commit(&self, mut ops: Vec<WriteOp>) -> Result<(), StoreError> {
        if !self.is_healthy() {
            self.keep_refused(&mut ops).await;
            return Err(StoreError::Unavailable(
                "store writes are failing; retrying".into(),
            ));
        }
        let (ack, mut committed) = oneshot::channel();
        self.enqueue(Msg::Durable(ops, ack)).await?;
        if self.leads && self.healthy.may_lead() {
            self.lead();
            if let Ok(answer) = committed.try_recv() {
                return answer;
            }
        }
        self.queued.notify_one();
        self.urgent.notify_one();
        committed.await.map_err(|_| stopped())?
    }

    /// Keeps the records of commands refused because the store is failing,
    /// as [`Writer::record_all`] keeps records of what already happened:
    /// the caller does not run them, and records their outcome ("not
    /// forwarded") next, which must find its command on the record once
    /// the store is back. The session checked the store's health before
    /// deciding them, so this is the narrow case of a store that failed
    /// in between.
    async fn keep_refused(&self, ops: &mut Vec<WriteOp>) {
        if let Err(error) = self.record_all(ops).await {
            tracing::warn!(%error, "records of refused commands could not be queued");
        }
        ops.clear();
    }

    /// Makes the next batch on the caller's thread, if nobody else is
    /// making one: it spools and answers what is queued, the caller's
    /// durable write with it (unless more than a batch was queued before
    /// it). Blocks the caller's thread for one write to the spool's file.
    fn lead(&self) {
        let Ok(mut batcher) = self.batcher.try_lock() else {
            return;
        };
        if batcher.ended {
            return;
        }
        batcher.take();
        batcher.write_out();
    }

    /// Queues records of what already happened (outcomes, session ends).
    /// These are kept even while the store is failing, as far as the queue
    /// has room, and never make the caller wait on a stuck store.
    /// Once queued, `ops` is empty, as with [`Writer::send_all`].
    pub async fn record_all(&self, ops: &mut Vec<WriteOp>) -> Result<(), StoreError> {
        let Some(message) = message_of(ops) else {
            return Ok(());
        };
        if self.is_healthy() {
            self.enqueue(message).await?;
            self.queued.notify_one();
            self.wake_if_full();
            return Ok(());
        }
        self.queue.try_send(message).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StoreError::Unavailable(
                "store writes are failing and the write queue is full".into(),
            ),
            mpsc::error::TrySendError::Closed(_) => stopped(),
        })?;
        self.queued.notify_one();
        Ok(())
    }

    /// Queues a message, waiting for room if the queue is full. Trying
    /// first spares the common case (room to spare) the bounded channel's
    /// permit future: about 2 % of a session's instructions per statement
    /// (bench/RESULTS.md, eighteenth run).
    async fn enqueue(&self, msg: Msg) -> Result<(), StoreError> {
        match self.queue.try_send(msg) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(msg)) => {
                self.queue.send(msg).await.map_err(|_| stopped())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(stopped()),
        }
    }

    /// Ends the writer's linger once a whole batch is waiting: lingering
    /// on would only let the queue fill up and stall the senders.
    fn wake_if_full(&self) {
        let queued = self.queue.max_capacity() - self.queue.capacity();
        if queued >= self.max_batch {
            self.urgent.notify_one();
        }
    }

    /// True while the spool's last append and the store's last commit
    /// succeeded (or nothing failed yet).
    pub fn is_healthy(&self) -> bool {
        self.healthy.ok()
    }

    /// Resolves once every op queued before this call is committed. Failed
    /// batches are retried rather than dropped, so during an outage this
    /// waits for recovery; it errs only if the writer task is gone.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (done, committed) = oneshot::channel();
        self.queue
            .send(Msg::Flush(done))
            .await
            .map_err(|_| stopped())?;
        self.queued.notify_one();
        self.urgent.notify_one();
        committed.await.map_err(|_| stopped())
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("store writer has stopped".into())
}

/// Whether records can be made durable: the spool and the store must both
/// be taking them, or new commands are refused.
struct Health {
    spool_failing: AtomicBool,
    store_failing: AtomicBool,
    /// Records handed to the filler, not yet committed.
    backlog: AtomicUsize,
    /// Woken whenever the filler has committed a batch.
    drained: Notify,
    max_backlog: usize,
}

impl Health {
    fn ok(&self) -> bool {
        !self.spool_failing.load(Ordering::Acquire) && !self.store_failing.load(Ordering::Acquire)
    }

    /// Whether a committing session may make the batch itself: nothing
    /// fails, and the store is not too far behind (the writer's loop holds
    /// new batches back then).
    fn may_lead(&self) -> bool {
        self.ok() && self.backlog.load(Ordering::Acquire) <= self.max_backlog
    }

    /// Waits while the store is behind by more than `max_backlog` records
    /// ([`WriterConfig::max_backlog`]). Not while its commits fail: new
    /// commands are refused then, and those already queued must get their
    /// answer.
    async fn wait_for_store(&self) {
        while self.backlog.load(Ordering::Acquire) > self.max_backlog
            && !self.store_failing.load(Ordering::Acquire)
        {
            // A wake-up missed between the check and the wait costs at
            // most the timeout.
            let _ = tokio::time::timeout(Duration::from_millis(10), self.drained.notified()).await;
        }
    }
}

/// How the writer's loop waits for a batch.
struct Batching {
    linger: Duration,
    urgent: Arc<Notify>,
    queued: Arc<Notify>,
}

/// How the writer makes durable batches durable.
struct Durability {
    spool: Option<Spool>,
    healthy: Arc<Health>,
    /// The position of the last spooled batch the store has.
    landed: Arc<AtomicU64>,
}

/// The queue's receiving end and what a batch goes through: whoever holds
/// it (the writer's loop, or a committing session) makes the next batch.
struct Batcher {
    rx: mpsc::Receiver<Msg>,
    /// Taken from the queue and not yet written out: the writer's loop
    /// lingers with them.
    taken: Vec<Msg>,
    max_batch: usize,
    durability: Durability,
    filler: mpsc::UnboundedSender<Fill>,
    /// Nothing more will come: every handle is gone and the queue is
    /// drained, or the filler is gone.
    ended: bool,
}

/// A batch on its way to the store.
enum Fill {
    Batch {
        ops: Vec<WriteOp>,
        /// Where the batch is in the spool, if it was spooled.
        spooled: Option<Position>,
        /// Durable writers still waiting (no spool): answered by the commit.
        acks: Vec<Ack>,
    },
    /// Answered once everything handed over before it is in the store.
    Flush(oneshot::Sender<()>),
}

impl Batcher {
    /// Moves what is queued into the batch, up to a batch's worth.
    fn take(&mut self) {
        while self.taken.len() < self.max_batch {
            match self.rx.try_recv() {
                Ok(msg) => self.taken.push(msg),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    self.ended = true;
                    break;
                }
            }
        }
    }

    /// Someone waits for the batch: it must not linger.
    fn waited_on(&self) -> bool {
        self.taken.iter().any(waited_on)
    }

    /// Writes the batch out: spooled first when someone waits for it to
    /// be durable (they are answered then), then handed to the filler.
    fn write_out(&mut self) {
        if self.taken.is_empty() {
            return;
        }
        // Sized up front: grown one push at a time, the list was copied
        // over again at every doubling, several times a batch.
        let records = self.taken.iter().map(Msg::records).sum();
        let mut ops = Vec::with_capacity(records);
        let mut acks = Vec::new();
        let mut flushes = Vec::new();
        for msg in self.taken.drain(..) {
            match msg {
                Msg::Op(op) => ops.push(op),
                Msg::Ops(more) => ops.extend(more),
                Msg::Durable(more, ack) => {
                    ops.extend(more);
                    acks.push(ack);
                }
                Msg::Flush(done) => flushes.push(done),
            }
        }
        let durability = &mut self.durability;
        let mut spooled = None;
        if !acks.is_empty()
            && let Some(spool) = durability.spool.as_mut()
        {
            let appended = spool.append(&ops);
            spooled = answer(appended, &durability.healthy, &mut acks);
        }
        if !ops.is_empty() || !acks.is_empty() {
            durability
                .healthy
                .backlog
                .fetch_add(ops.len(), Ordering::AcqRel);
            let batch = Fill::Batch { ops, spooled, acks };
            if self.filler.send(batch).is_err() {
                self.ended = true;
                return;
            }
        }
        for done in flushes {
            if self.filler.send(Fill::Flush(done)).is_err() {
                self.ended = true;
                return;
            }
        }
        if let Some(spool) = durability.spool.as_mut() {
            spool.release(durability.landed.load(Ordering::Acquire));
        }
    }

    /// Tries a failing spool again with an empty frame: while it fails,
    /// commands are refused before they reach the writer, so no durable
    /// batch would ever try it.
    fn retry_spool(&mut self) {
        if let Some(spool) = self.durability.spool.as_mut() {
            answer(spool.append(&[]), &self.durability.healthy, &mut Vec::new());
        }
    }
}

/// Ends the batcher when the writer's loop ends or is dropped: the queue
/// is closed, so new writes fail as the writer having stopped, and what
/// was queued is dropped, so whoever waits for it learns the same (the
/// handles keep the batcher, and with it the queue, alive).
struct StopOnDrop(Arc<Mutex<Batcher>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let mut batcher = lock(&self.0);
        batcher.ended = true;
        batcher.rx.close();
        batcher.taken.clear();
        while batcher.rx.try_recv().is_ok() {}
    }
}

fn lock(batcher: &Mutex<Batcher>) -> MutexGuard<'_, Batcher> {
    // Nothing panics while holding the batcher with its state half
    // changed, so a poisoned lock still guards a usable batcher.
    batcher.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The writer's loop: waits until something is queued, lingers for more
/// unless someone waits for it, and writes the batch out. A committing
/// session may have written it out meanwhile.
async fn run(
    batcher: Arc<Mutex<Batcher>>,
    batching: Batching,
    healthy: Arc<Health>,
    mut closed: oneshot::Receiver<()>,
) {
    let mut open = true;
    loop {
        healthy.wait_for_store().await;
        // More than a batch may be queued already; a message queued after
        // this look leaves its wake-up behind for the wait.
        let idle = lock(&batcher).rx.is_empty();
        if open && idle {
            let spool_failing = healthy.spool_failing.load(Ordering::Acquire);
            tokio::select! {
                () = batching.queued.notified() => {}
                () = tokio::time::sleep(SPOOL_RETRY), if spool_failing => {
                    lock(&batcher).retry_spool();
                    continue;
                }
                // Every handle is gone: what is queued is written out,
                // then the loop ends.
                _ = &mut closed => open = false,
            }
        }
        let linger = {
            let mut b = lock(&batcher);
            b.take();
            !b.taken.is_empty() && !b.waited_on() && !b.ended && open
        };
        if linger && !batching.linger.is_zero() {
            // Messages queued meanwhile do not wake the loop (that would be
            // a thread wake-up per statement under load); they are taken
            // when the linger ends.
            tokio::select! {
                () = tokio::time::sleep(batching.linger) => {}
                () = batching.urgent.notified() => {}
            }
        }
        let mut b = lock(&batcher);
        b.take();
        b.write_out();
        if b.ended || !open {
            // Closed: drain the rest, a batch at a time.
            while !b.ended {
                b.take();
                b.write_out();
            }
            return;
        }
    }
}

/// Runs a spooling writer's loop on a thread of its own, so that waiting
/// for the spool's flush blocks nothing else. Lending a runtime's thread
/// out for each flush (`block_in_place`) instead cost a hand-over to
/// another thread and back per flush, and in an A/B durable pgbench ran
/// about a tenth slower for it (bench/RESULTS.md). Aborting the returned
/// handle stops the loop, as it would a task.
fn on_own_thread<F>(work: F) -> std::io::Result<JoinHandle<()>>
where
    F: Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let (done, finished) = oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("airlock-writer".into())
        .spawn(move || {
            runtime.block_on(async move {
                tokio::select! {
                    () = work => {}
                    // The handle was aborted (or dropped with its task).
                    _ = stopped => {}
                }
            });
            let _ = done.send(());
        })?;
    Ok(tokio::spawn(async move {
        // Dropped when this task is aborted, which ends the thread's loop.
        let _stop = stop;
        let _ = finished.await;
    }))
}

/// Answers the durable writers of a batch from its append to the spool;
/// the position when it is durable.
fn answer(
    result: std::io::Result<Position>,
    healthy: &Health,
    acks: &mut Vec<Ack>,
) -> Option<Position> {
    match result {
        Ok(position) => {
            if healthy.spool_failing.swap(false, Ordering::AcqRel) {
                tracing::info!("audit spool writes recovered");
            }
            for ack in acks.drain(..) {
                let _ = ack.send(Ok(()));
            }
            Some(position)
        }
        Err(error) => {
            healthy.spool_failing.store(true, Ordering::Release);
            tracing::warn!(%error, "audit spool write failed; the batch's commands are refused");
            for ack in acks.drain(..) {
                let _ = ack.send(Err(StoreError::Unavailable(format!(
                    "the audit spool could not write: {error}"
                ))));
            }
            None
        }
    }
}

/// Commits batches to the store in the order the writer handed them over,
/// each taken together with whatever queued behind it.
async fn fill(
    store: Arc<dyn Store>,
    mut rx: mpsc::UnboundedReceiver<Fill>,
    max_batch: usize,
    lingers: Lingers,
    healthy: Arc<Health>,
    landed: Arc<AtomicU64>,
) {
    let mut fills = Vec::new();
    let mut ops = Vec::new();
    let mut acks = Vec::new();
    let mut flushes = Vec::new();
    while rx.recv_many(&mut fills, max_batch).await > 0 {
        // Nobody waits for these batches: gathering them into one larger
        // transaction saves the store work per record.
        let linger = lingers.of(&fills);
        if !linger.is_zero() {
            gather(&mut rx, &mut fills, max_batch, linger, lingers.unspooled).await;
        }
        let mut spooled_to = None;
        for f in fills.drain(..) {
            match f {
                Fill::Batch {
                    ops: more,
                    spooled,
                    acks: waiting,
                } => {
                    ops.extend(more);
                    acks.extend(waiting);
                    spooled_to = spooled_to.max(spooled);
                }
                Fill::Flush(done) => flushes.push(done),
            }
        }
        let taken = ops.len();
        ops = pair_outcomes(std::mem::take(&mut ops));
        if spooled_to.is_none() {
            // Records only in memory: no spool frame will ever be replayed
            // for them, whose ops would not know the runs they went into
            // and could not tell they had landed.
            ops = gather_runs(std::mem::take(&mut ops));
        }
        commit(store.as_ref(), &ops, &healthy.store_failing, &mut acks).await;
        healthy.backlog.fetch_sub(taken, Ordering::AcqRel);
        healthy.drained.notify_waiters();
        ops.clear();
        if let Some(position) = spooled_to {
            landed.fetch_max(position, Ordering::AcqRel);
        }
        for done in flushes.drain(..) {
            // The flusher may have given up waiting; nothing to do then.
            let _ = done.send(());
        }
    }
}

/// Takes what the writer hands over for up to `linger`, up to `max_batch`
/// batches, looking once every `step` (the buffered linger): one wake-up
/// per look, where waking for every batch handed over cost the filler
/// more than the larger transaction saved. Stops at the first look that
/// finds a batch someone waits for, or one only in memory, which has then
/// waited at most one step here.
async fn gather(
    rx: &mut mpsc::UnboundedReceiver<Fill>,
    fills: &mut Vec<Fill>,
    max_batch: usize,
    linger: Duration,
    step: Duration,
) {
    let deadline = tokio::time::Instant::now() + linger;
    while fills.len() < max_batch {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            break;
        }
        tokio::time::sleep(step.min(deadline - now)).await;
        let mut cut_short = false;
        while fills.len() < max_batch {
            match rx.try_recv() {
                Ok(fill) => {
                    cut_short |= !fill.may_wait_long();
                    fills.push(fill);
                }
                Err(_) => break,
            }
        }
        if cut_short {
            break;
        }
    }
}

/// How long the filler gathers batches before it commits them.
struct Lingers {
    /// When every batch is in the spool already.
    spooled: Duration,
    /// When some batch is only in memory (buffered mode).
    unspooled: Duration,
}

impl Lingers {
    fn of(&self, fills: &[Fill]) -> Duration {
        if fills.iter().any(Fill::waited_on) {
            Duration::ZERO
        } else if fills.iter().all(Fill::may_wait_long) && !self.unspooled.is_zero() {
            // Without a step to look in (no buffered linger) a batch only
            // in memory arriving meanwhile could not be seen in time.
            self.spooled
        } else {
            self.unspooled
        }
    }
}

impl Fill {
    /// Whether the batch may wait the spooled linger: it is in the spool
    /// already, so a crash does not lose it, or it holds no command record
    /// (outcomes and session records in durable mode, whose commands are
    /// spooled). Records of commands in buffered mode, only in memory,
    /// wait no longer than the buffered linger.
    fn may_wait_long(&self) -> bool {
        match self {
            Fill::Batch { ops, spooled, acks } => {
                acks.is_empty()
                    && (spooled.is_some()
                        || !ops
                            .iter()
                            .any(|op| matches!(op, WriteOp::Command(_) | WriteOp::Finished(_))))
            }
            Fill::Flush(_) => false,
        }
    }

    /// Someone waits for the store to have it.
    fn waited_on(&self) -> bool {
        match self {
            Fill::Batch { acks, .. } => !acks.is_empty(),
            Fill::Flush(_) => true,
        }
    }
}

/// Someone waits for this message's commit: the batch holding it must not
/// linger.
fn waited_on(msg: &Msg) -> bool {
    matches!(msg, Msg::Flush(_) | Msg::Durable(..))
}

/// Retries the same batch until it commits, so no queued op is ever lost.
/// Durable writers are answered after the first attempt: on failure they
/// must not wait for a recovery that may take hours.
async fn commit(store: &dyn Store, ops: &[WriteOp], failing: &AtomicBool, acks: &mut Vec<Ack>) {
    if ops.is_empty() {
        return;
    }
    let mut delay = RETRY_FIRST;
    let mut attempt: u32 = 1;
    loop {
        match store.write_batch(ops).await {
            Ok(()) => {
                if failing.swap(false, Ordering::AcqRel) {
                    tracing::info!(attempt, batch_len = ops.len(), "store writes recovered");
                }
                for ack in acks.drain(..) {
                    // The session may be gone; its record is in any case.
                    let _ = ack.send(Ok(()));
                }
                return;
            }
            Err(error) => {
                failing.store(true, Ordering::Release);
                for ack in acks.drain(..) {
                    let _ = ack.send(Err(StoreError::Unavailable(format!(
                        "the audit store could not commit: {error}"
                    ))));
                }
                tracing::warn!(
                    %error,
                    attempt,
                    batch_len = ops.len(),
                    retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    "store write batch failed; retrying"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(RETRY_MAX);
                attempt = attempt.saturating_add(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CommandRecord, SqliteStore};

    fn ids(message: Option<Msg>) -> Vec<String> {
        let ops = match message {
            Some(Msg::Op(op)) => vec![op],
            Some(Msg::Ops(ops)) => ops,
            _ => Vec::new(),
        };
        ops.iter()
            .map(|op| crate::body::record_id(op).into_owned())
            .collect()
    }

    #[test]
    fn one_op_travels_alone_and_the_list_keeps_its_room() {
        let mut ops = Vec::with_capacity(4);
        assert!(message_of(&mut ops).is_none());
        ops.push(command(1));
        let one = message_of(&mut ops);
        assert!(matches!(one, Some(Msg::Op(_))));
        assert_eq!(ids(one), ["s-1"]);
        assert!(ops.is_empty() && ops.capacity() >= 4);
        ops.extend([command(2), command(3)]);
        assert_eq!(ids(message_of(&mut ops)), ["s-2", "s-3"]);
        assert!(ops.is_empty());
    }

    fn command(n: usize) -> WriteOp {
        WriteOp::Command(CommandRecord {
            id: format!("s-{n}"),
            session_id: "s".into(),
            identity: "alice".into(),
            connection: "app".into(),
            at: chrono::Utc::now(),
            command: format!("select {n}").into(),
            params: Default::default(),
            verdict: "allow".into(),
            rules: Vec::new(),
            review: None,
        })
    }

    /// A durable write queued when the writer's loop is dropped (aborted
    /// before it took the write) is answered as stopped, not left waiting
    /// in a queue the handles keep alive.
    #[tokio::test]
    async fn a_write_queued_when_the_loop_is_dropped_is_answered() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(SqliteStore::open_in_memory().await.expect("open"));
        // A flushing spool: the session does not make the batch itself.
        let spool = Spool::open(dir.path(), true).expect("spool");
        let (writer, work) = Writer::prepare(store, WriterConfig::default(), Some(spool));
        let committing = {
            let writer = writer.clone();
            tokio::spawn(async move { writer.commit(vec![command(1)]).await })
        };
        while writer.queue.capacity() == writer.queue.max_capacity() {
            tokio::task::yield_now().await;
        }
        drop(work);
        let answer = tokio::time::timeout(Duration::from_secs(10), committing)
            .await
            .expect("the queued write is answered")
            .expect("commit task");
        assert!(
            matches!(&answer, Err(StoreError::Unavailable(m)) if m.contains("stopped")),
            "{answer:?}"
        );
        assert!(writer.commit(vec![command(2)]).await.is_err());
    }
}
