//! Session threads: each client session lives on one thread for its whole
//! life, each thread running a single-threaded runtime of its own
//! (`postgres.session_threads` of them, one per core by default).
//!
//! A session is a strict ping-pong between two sockets. On a work-stealing
//! runtime each wake-up of a session's task may also wake a parked worker
//! to come and steal it, and the task then hops between threads (and
//! caches) from one message to the next. Pinning sessions to threads
//! avoids both and still uses every core once there are more sessions
//! than threads: pgbench through the gateway on 2 cores went from about
//! 23 800 to 26 200 transactions a second (bench/RESULTS.md). The cost is
//! balance: sessions are handed out in turn, and a thread with a few busy
//! sessions cannot pass them on to an idle one.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::runtime::{Builder, Handle};

/// The threads sessions run on, handed out in turn.
pub struct SessionThreads {
    handles: Vec<Handle>,
    next: AtomicUsize,
}

impl SessionThreads {
    /// Starts `count` threads (at least one), each running its own runtime
    /// until the process ends: like sessions on the main runtime, sessions
    /// in progress when the listener stops run on.
    pub fn start(count: usize) -> std::io::Result<SessionThreads> {
        let mut handles = Vec::new();
        for n in 0..count.max(1) {
            let runtime = Builder::new_current_thread().enable_all().build()?;
            handles.push(runtime.handle().clone());
            std::thread::Builder::new()
                .name(format!("airlock-session-{n}"))
                .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
        }
        Ok(SessionThreads {
            handles,
            next: AtomicUsize::new(0),
        })
    }

    /// The runtime the next session goes to.
    pub fn next(&self) -> &Handle {
        let n = self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len();
        &self.handles[n]
    }
}
