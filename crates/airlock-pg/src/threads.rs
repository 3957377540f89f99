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
//!
//! Each thread may ask Linux for a short scheduler slice
//! (`postgres.session_slice`, EEVDF's custom slice). A session thread is
//! woken by a socket, does a few microseconds of work and sleeps again;
//! with the default slice a woken thread may wait for the database backend
//! or client it shares a core with, and the session's message waits with
//! it. With a shorter slice than theirs the kernel lets it preempt them
//! (EEVDF's `PREEMPT_SHORT`), and it runs at once. Its share of the core
//! is unchanged: a slice sets how soon a thread runs, not how much. But
//! the backends and clients it preempts are switched out more often, and
//! which wins depends on the machine: on 2 AMD cores one thread with a
//! 100 µs slice did as well as two threads without it, on 2 Intel cores
//! 8 % less with the simple protocol and 17 % less with the extended one
//! (bench/RESULTS.md, twenty-sixth and twenty-seventh runs). So the slice
//! is off unless configured, and the threads are one per core.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::runtime::{Builder, Handle};

/// The threads sessions run on, handed out in turn.
pub struct SessionThreads {
    handles: Vec<Handle>,
    next: AtomicUsize,
}

impl SessionThreads {
    /// Starts `count` threads (at least one), each running its own runtime
    /// until the process ends: like sessions on the main runtime, sessions
    /// in progress when the listener stops run on. Each asks for `slice`
    /// (zero: the kernel's default); a kernel that does not grant it is
    /// logged once and the threads run with its default.
    pub fn start(count: usize, slice: Duration) -> std::io::Result<SessionThreads> {
        let mut handles = Vec::new();
        for n in 0..count.max(1) {
            let runtime = Builder::new_current_thread().enable_all().build()?;
            handles.push(runtime.handle().clone());
            std::thread::Builder::new()
                .name(format!("airlock-session-{n}"))
                .spawn(move || {
                    if !slice.is_zero() {
                        match crate::slice::ask_for(slice) {
                            Ok(()) => {}
                            // The same answer for every thread: say it once.
                            Err(e) if n == 0 => {
                                tracing::warn!(slice = ?slice, error = %e, "session threads run with the kernel's default scheduler slice");
                            }
                            Err(_) => {}
                        }
                    }
                    runtime.block_on(std::future::pending::<()>())
                })?;
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
