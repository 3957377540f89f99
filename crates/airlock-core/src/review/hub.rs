//! Where held commands wait for their review's decision.
//!
//! A decision and the end of a hold can race; whoever takes the review's
//! entry out of the map first decides what happens. A decider that takes
//! it hands the decision to the waiting command, which runs; a hold that
//! ends first (timed out, client gone) leaves nothing to hand over, so the
//! decider knows nobody waits and issues a grant instead.

use std::collections::HashMap;
use std::sync::Mutex;

use airlock_store::ReviewRecord;
use tokio::sync::oneshot;

#[derive(Default)]
pub(crate) struct Hub {
    waiting: Mutex<HashMap<String, oneshot::Sender<ReviewRecord>>>,
}

impl Hub {
    /// A command starts waiting for review `id`.
    pub(crate) fn wait(&self, id: &str) -> oneshot::Receiver<ReviewRecord> {
        let (tx, rx) = oneshot::channel();
        self.lock().insert(id.to_string(), tx);
        rx
    }

    /// Hands a final decision to the command waiting for it; `false` when
    /// none waits (any more).
    pub(crate) fn release(&self, review: &ReviewRecord) -> bool {
        match self.lock().remove(&review.id) {
            Some(tx) => tx.send(review.clone()).is_ok(),
            None => false,
        }
    }

    /// The waiting command stops waiting; `false` when a decision was
    /// already handed to it (it is then in its receiver).
    pub(crate) fn leave(&self, id: &str) -> bool {
        self.lock().remove(id).is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<ReviewRecord>>> {
        // A panic while holding this lock cannot leave the map half
        // changed (every use is one insert or remove), so a poisoned lock
        // is still good.
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}
