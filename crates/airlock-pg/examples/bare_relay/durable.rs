//! Group commit for the bare relay's durable variant: what any proxy that
//! makes a record durable before it forwards a command pays on this disk,
//! with nothing of the gateway's own work around it.
//!
//! Sessions queue a wait and wake one flusher thread; the flusher writes
//! one 4 KiB block with `O_DIRECT | O_DSYNC` (as the audit spool does with
//! `fsync` on) for everyone queued when it starts, then answers them all.
//! Whoever queues during a write waits for the next one, so under load
//! each write covers the commands that arrived during the one before.
//!
//! With `RELAY_FLUSH=lead` there is no flusher thread: a session that finds
//! no write in progress makes it itself, on its own thread, for everyone
//! queued, and goes on making them while others queue (leader and
//! followers). That spares the hand-off to a thread and back, and blocks
//! the session's thread for the write.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use tokio::sync::oneshot;

const BLOCK: usize = 4096;
/// Blocks the file is written full of before use, so that no write changes
/// its size (which would cost the flush a second write).
const BLOCKS: u64 = 2048;

type Waiter = oneshot::Sender<Result<(), String>>;

/// The flusher's queue of waiting commands.
pub struct Flusher {
    waiting: Mutex<Vec<Waiter>>,
    queued: Condvar,
    /// Set when sessions lead: the file and what the leader writes with.
    lead: Option<Mutex<Writes>>,
}

/// What one write needs: the file, an aligned block, the count so far.
struct Writes {
    file: File,
    buffer: Vec<u8>,
    skip: usize,
    count: u64,
}

impl Writes {
    fn new(file: File) -> Writes {
        // Direct I/O wants the buffer aligned to the block: over-allocate
        // and write from the aligned part.
        let buffer = vec![0u8; 2 * BLOCK];
        let skip = buffer.as_ptr().align_offset(BLOCK);
        Writes {
            file,
            buffer,
            skip,
            count: 0,
        }
    }

    /// One write for everyone in `batch`, each answered once it is done.
    fn write_for(&mut self, batch: Vec<Waiter>) {
        let block = &mut self.buffer[self.skip..self.skip + BLOCK];
        block[..8].copy_from_slice(&self.count.to_le_bytes());
        block[8..16].copy_from_slice(&(batch.len() as u64).to_le_bytes());
        let at = (self.count % BLOCKS) * BLOCK as u64;
        self.count += 1;
        let written = self.file.write_all_at(block, at).map_err(|e| e.to_string());
        for waiter in batch {
            let _ = waiter.send(written.clone());
        }
    }
}

impl Flusher {
    /// Prepares `dir/relay.spool` and starts the flusher's thread, unless
    /// sessions lead.
    pub fn start(dir: &Path) -> io::Result<Arc<Flusher>> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("relay.spool");
        let mut file = File::create(&path)?;
        file.write_all(&vec![0u8; BLOCK * BLOCKS as usize])?;
        file.sync_all()?;
        let file = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT | libc::O_DSYNC)
            .open(&path)?;
        let writes = Writes::new(file);
        let leads = std::env::var("RELAY_FLUSH").is_ok_and(|mode| mode == "lead");
        let (lead, for_thread) = if leads {
            (Some(Mutex::new(writes)), None)
        } else {
            (None, Some(writes))
        };
        let flusher = Arc::new(Flusher {
            waiting: Mutex::new(Vec::new()),
            queued: Condvar::new(),
            lead,
        });
        if let Some(writes) = for_thread {
            let shared = Arc::clone(&flusher);
            std::thread::Builder::new()
                .name("relay-flusher".into())
                .spawn(move || shared.run(writes))?;
        }
        Ok(flusher)
    }

    /// Returns once a write that started after this call is on the disk.
    pub async fn durable(&self) -> io::Result<()> {
        let (tx, rx) = oneshot::channel();
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tx);
        match &self.lead {
            Some(writes) => self.lead(writes),
            None => self.queued.notify_one(),
        }
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(io::Error::other(e)),
            Err(_) => Err(io::Error::other("the flusher has stopped")),
        }
    }

    /// Writes for everyone queued unless a write is in progress, whose
    /// leader then writes again for those who queued meanwhile.
    fn lead(&self, writes: &Mutex<Writes>) {
        loop {
            let Ok(mut writes) = writes.try_lock() else {
                return;
            };
            let batch =
                std::mem::take(&mut *self.waiting.lock().unwrap_or_else(PoisonError::into_inner));
            if batch.is_empty() {
                return;
            }
            writes.write_for(batch);
            drop(writes);
            // Someone who queued while this write ran and found it taken
            // left the next write to this leader.
            if self
                .waiting
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty()
            {
                return;
            }
        }
    }

    fn run(&self, mut writes: Writes) {
        loop {
            let batch = {
                let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
                while waiting.is_empty() {
                    waiting = self
                        .queued
                        .wait(waiting)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                std::mem::take(&mut *waiting)
            };
            writes.write_for(batch);
        }
    }
}
