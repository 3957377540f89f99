//! The batching writer: the only path by which sessions and events reach the
//! store, so the data path pays one transaction per batch instead of one per
//! command.
//!
//! A durable write ([`Writer::commit`]) is answered once its batch has
//! committed; writes from many sessions that queue while one transaction
//! commits go into the next one together (group commit), so durability
//! costs one commit per batch, not one per command.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::{Store, StoreError, WriteOp};

const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(2);

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
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            channel_capacity: 8192,
            max_batch: 512,
            linger: Duration::from_millis(20),
        }
    }
}

type Ack = oneshot::Sender<Result<(), StoreError>>;

enum Msg {
    Op(WriteOp),
    Ops(Vec<WriteOp>),
    /// Answered when the batch holding these ops commits, or failed.
    Durable(Vec<WriteOp>, Ack),
    /// Answered once everything queued before it has committed.
    Flush(oneshot::Sender<()>),
}

/// A handle on the writer task; cheap to clone, one per session.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Msg>,
    healthy: Arc<AtomicBool>,
    /// Cuts a linger short: someone waits for the batch, or a whole batch
    /// is queued.
    urgent: Arc<Notify>,
    max_batch: usize,
}

impl Writer {
    /// Starts the writer task. It ends once every `Writer` is dropped and the
    /// queue is drained; while the store keeps failing it keeps retrying, so
    /// a shutdown that cannot wait should abort the handle.
    pub fn spawn(store: Arc<dyn Store>, config: WriterConfig) -> (Writer, JoinHandle<()>) {
        let (queue, rx) = mpsc::channel(config.channel_capacity.max(1));
        let healthy = Arc::new(AtomicBool::new(true));
        let urgent = Arc::new(Notify::new());
        let task = tokio::spawn(run(
            store,
            rx,
            Batching {
                max_batch: config.max_batch.max(1),
                linger: config.linger,
                urgent: urgent.clone(),
            },
            healthy.clone(),
        ));
        (
            Writer {
                queue,
                healthy,
                urgent,
                max_batch: config.max_batch.max(1),
            },
            task,
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
        self.queue.send(Msg::Op(op)).await.map_err(|_| stopped())?;
        self.wake_if_full();
        Ok(())
    }

    /// Queues several writes as one message: one wake-up of the writer for
    /// all the commands a session finished in one read from its target.
    pub async fn send_all(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        if !self.is_healthy() {
            return Err(StoreError::Unavailable(
                "store writes are failing; retrying".into(),
            ));
        }
        self.queue
            .send(Msg::Ops(ops))
            .await
            .map_err(|_| stopped())?;
        self.wake_if_full();
        Ok(())
    }

    /// Commits the ops (with whatever else is queued) and returns once they
    /// are in the store. Fails at once while the store is failing, and as
    /// soon as the batch holding them fails: the caller must not act as if
    /// they were recorded. They stay in the retried batch, so they do land
    /// once the store is back; the caller records what it did instead.
    pub async fn commit(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        if !self.is_healthy() {
            return Err(StoreError::Unavailable(
                "store writes are failing; retrying".into(),
            ));
        }
        let (ack, committed) = oneshot::channel();
        self.queue
            .send(Msg::Durable(ops, ack))
            .await
            .map_err(|_| stopped())?;
        self.urgent.notify_one();
        committed.await.map_err(|_| stopped())?
    }

    /// Queues records of what already happened (outcomes, session ends).
    /// These are kept even while the store is failing, as far as the queue
    /// has room, and never make the caller wait on a stuck store.
    pub async fn record_all(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        if self.is_healthy() {
            self.queue
                .send(Msg::Ops(ops))
                .await
                .map_err(|_| stopped())?;
            self.wake_if_full();
            return Ok(());
        }
        self.queue.try_send(Msg::Ops(ops)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StoreError::Unavailable(
                "store writes are failing and the write queue is full".into(),
            ),
            mpsc::error::TrySendError::Closed(_) => stopped(),
        })
    }

    /// Ends the writer's linger once a whole batch is waiting: lingering
    /// on would only let the queue fill up and stall the senders.
    fn wake_if_full(&self) {
        let queued = self.queue.max_capacity() - self.queue.capacity();
        if queued >= self.max_batch {
            self.urgent.notify_one();
        }
    }

    /// True while the last batch committed (or nothing failed yet).
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Acquire)
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
        self.urgent.notify_one();
        committed.await.map_err(|_| stopped())
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("store writer has stopped".into())
}

/// How the writer gathers a batch.
struct Batching {
    max_batch: usize,
    linger: Duration,
    urgent: Arc<Notify>,
}

async fn run(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<Msg>,
    batching: Batching,
    healthy: Arc<AtomicBool>,
) {
    let max_batch = batching.max_batch;
    let mut msgs = Vec::with_capacity(max_batch);
    let mut ops = Vec::with_capacity(max_batch);
    let mut flushes = Vec::new();
    let mut acks = Vec::new();
    // Waits for one message, then takes whatever else is already queued.
    while rx.recv_many(&mut msgs, max_batch).await > 0 {
        if !msgs.iter().any(waited_on) && !batching.linger.is_zero() {
            linger_for_more(&mut rx, &mut msgs, &batching).await;
        }
        for msg in msgs.drain(..) {
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
        commit(store.as_ref(), &ops, &healthy, &mut acks).await;
        ops.clear();
        for done in flushes.drain(..) {
            // The flusher may have given up waiting; nothing to do then.
            let _ = done.send(());
        }
    }
}

/// Someone waits for this message's commit: the batch holding it must not
/// linger.
fn waited_on(msg: &Msg) -> bool {
    matches!(msg, Msg::Flush(_) | Msg::Durable(..))
}

/// Lets more messages join the batch for up to `linger`, but stops as soon
/// as someone waits for a commit: a durable command must not sit out the
/// linger of the outcomes queued before it. The messages themselves do not
/// wake the writer while it lingers (that would be a thread wake-up per
/// statement under load); they are taken when the linger ends.
async fn linger_for_more(rx: &mut mpsc::Receiver<Msg>, msgs: &mut Vec<Msg>, batching: &Batching) {
    let deadline = tokio::time::Instant::now() + batching.linger;
    tokio::select! {
        () = tokio::time::sleep_until(deadline) => {}
        () = batching.urgent.notified() => {}
    }
    while msgs.len() < batching.max_batch {
        match rx.try_recv() {
            Ok(m) => msgs.push(m),
            Err(_) => break,
        }
    }
}

/// Retries the same batch until it commits, so no queued op is ever lost.
/// Durable writers are answered after the first attempt: on failure they
/// must not wait for a recovery that may take hours.
async fn commit(store: &dyn Store, ops: &[WriteOp], healthy: &AtomicBool, acks: &mut Vec<Ack>) {
    if ops.is_empty() {
        return;
    }
    let mut delay = RETRY_FIRST;
    let mut attempt: u32 = 1;
    loop {
        match store.write_batch(ops).await {
            Ok(()) => {
                if !healthy.swap(true, Ordering::AcqRel) {
                    tracing::info!(attempt, batch_len = ops.len(), "store writes recovered");
                }
                for ack in acks.drain(..) {
                    // The session may be gone; its record is in any case.
                    let _ = ack.send(Ok(()));
                }
                return;
            }
            Err(error) => {
                healthy.store(false, Ordering::Release);
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
