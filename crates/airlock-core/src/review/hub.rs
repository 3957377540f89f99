//! Where held commands wait for their review's decision.
//!
//! Several commands may wait for one review (the same command sent again,
//! from another session, joins the review already pending). A decision and
//! the end of a hold can race; whoever takes a waiter's entry out of the
//! map first decides what happens to it. A decider that takes it hands the
//! decision to that command, which runs; a hold that ends first leaves
//! nothing to hand over, so the decider knows nobody waits and issues a
//! grant instead.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use airlock_store::ReviewRecord;
use tokio::sync::oneshot;

type Waiters = HashMap<String, Vec<(u64, oneshot::Sender<ReviewRecord>)>>;

#[derive(Default)]
pub(crate) struct Hub {
    waiting: Mutex<Waiters>,
    next: AtomicU64,
}

/// One command's place in the queue of a review.
pub(crate) struct Ticket {
    pub id: String,
    token: u64,
}

impl Hub {
    /// A command starts waiting for review `id`.
    pub(crate) fn wait(&self, id: &str) -> (Ticket, oneshot::Receiver<ReviewRecord>) {
        let (tx, rx) = oneshot::channel();
        let token = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock()
            .entry(id.to_string())
            .or_default()
            .push((token, tx));
        let ticket = Ticket {
            id: id.to_string(),
            token,
        };
        (ticket, rx)
    }

    /// Hands a final decision to every command waiting for it; `false` when
    /// none waits (any more).
    pub(crate) fn release(&self, review: &ReviewRecord) -> bool {
        let waiters = self.lock().remove(&review.id).unwrap_or_default();
        let mut delivered = false;
        for (_, tx) in waiters {
            delivered |= tx.send(review.clone()).is_ok();
        }
        delivered
    }

    /// The command stops waiting. `Left` also says whether others still
    /// wait for the review; `AlreadyReleased` means a decision was handed
    /// to it (it is in its receiver).
    pub(crate) fn leave(&self, ticket: &Ticket) -> Left {
        let mut map = self.lock();
        let Some(waiters) = map.get_mut(&ticket.id) else {
            return Left::AlreadyReleased;
        };
        let before = waiters.len();
        waiters.retain(|(token, _)| *token != ticket.token);
        if waiters.len() == before {
            return Left::AlreadyReleased;
        }
        if waiters.is_empty() {
            map.remove(&ticket.id);
            Left::Last
        } else {
            Left::OthersWait
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiters> {
        // Every use is one insert, remove or retain, which a panic cannot
        // leave half done, so a poisoned lock is still good.
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Left {
    Last,
    OthersWait,
    AlreadyReleased,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(id: &str) -> ReviewRecord {
        ReviewRecord {
            id: id.into(),
            requester: "a".into(),
            connection: "c".into(),
            session_id: "s".into(),
            command: "x".into(),
            fingerprint: "f".into(),
            rules: vec![],
            reviewers: vec![],
            approvals_needed: 1,
            reason: String::new(),
            state: airlock_store::ReviewState::Approved,
            created_at: chrono::Utc::now(),
            expires_at: chrono::Utc::now(),
            decided_at: None,
            decisions: vec![],
        }
    }

    #[test]
    fn a_decision_reaches_every_waiter_and_only_once() {
        let hub = Hub::default();
        let (a, mut ra) = hub.wait("rv-1");
        let (b, mut rb) = hub.wait("rv-1");
        assert!(hub.release(&review("rv-1")));
        assert!(ra.try_recv().is_ok() && rb.try_recv().is_ok());
        assert_eq!(hub.leave(&a), Left::AlreadyReleased);
        assert_eq!(hub.leave(&b), Left::AlreadyReleased);
        assert!(!hub.release(&review("rv-1")), "nobody waits any more");
    }

    #[test]
    fn leaving_tells_whether_others_still_wait() {
        let hub = Hub::default();
        let (a, _ra) = hub.wait("rv-1");
        let (b, _rb) = hub.wait("rv-1");
        assert_eq!(hub.leave(&a), Left::OthersWait);
        assert_eq!(hub.leave(&b), Left::Last);
        assert!(!hub.release(&review("rv-1")));
    }
}
