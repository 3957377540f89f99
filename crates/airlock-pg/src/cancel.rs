//! Query cancellation across the gateway.
//!
//! A client cancels by opening a new connection and sending the key it got
//! in `BackendKeyData`. The gateway hands out keys of its own — the
//! target's key never leaves the gateway — and maps them to the target's.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use rand::Rng;

/// Where and how to deliver a cancel to the target.
#[derive(Clone)]
pub struct CancelTarget {
    pub host: String,
    pub port: u16,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub pid: i32,
    pub key: i32,
    /// The session's command held for review, if one is: a cancel then
    /// withdraws it, and the target has nothing of it to cancel.
    pub held: Arc<Held>,
}

/// A command held for review, as a cancel request sees it.
///
/// A cancel that withdraws a held command must not also reach the target:
/// the target is idle meanwhile, and a cancel delivered late (PostgreSQL
/// takes it on a connection of its own) would stop whatever statement the
/// client sends next, once it has the withdrawn one's error.
#[derive(Default)]
pub struct Held {
    waiting: AtomicBool,
    wake: Notify,
}

impl Held {
    /// Starts a hold: from now until [`Held::released`] (which the session
    /// calls when the hold ends, however it ends), a cancel withdraws the
    /// held command instead of going to the target. The returned future
    /// resolves on [`Held::withdraw`]; it is registered before this
    /// returns, so a cancel that comes before it is first polled is not
    /// lost.
    pub fn hold(&self) -> Notified<'_> {
        let mut notified = Box::pin(self.wake.notified());
        notified.as_mut().enable();
        self.waiting.store(true, Ordering::SeqCst);
        notified
    }

    pub fn released(&self) {
        self.waiting.store(false, Ordering::SeqCst);
    }

    /// Withdraws the held command if one is waiting: true if it did, and
    /// the cancel then ends here. Only the first cancel of a hold does.
    pub fn withdraw(&self) -> bool {
        let waiting = self.waiting.swap(false, Ordering::SeqCst);
        if waiting {
            self.wake.notify_waiters();
        }
        waiting
    }
}

/// What [`Held::hold`] returns.
pub type Notified<'a> = Pin<Box<tokio::sync::futures::Notified<'a>>>;

#[derive(Clone, Default)]
pub struct CancelRegistry {
    inner: Arc<Mutex<HashMap<(i32, i32), CancelTarget>>>,
}

/// Removes the registration when the session ends.
pub struct Registration {
    registry: CancelRegistry,
    pub pid: i32,
    pub key: i32,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut map) = self.registry.inner.lock() {
            map.remove(&(self.pid, self.key));
        }
    }
}

impl CancelRegistry {
    pub fn register(&self, target: CancelTarget) -> Registration {
        let mut rng = rand::rng();
        let mut map = match self.inner.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        loop {
            let pid = rng.random_range(1..i32::MAX);
            let key = rng.random::<i32>();
            if let std::collections::hash_map::Entry::Vacant(e) = map.entry((pid, key)) {
                e.insert(target);
                return Registration {
                    registry: self.clone(),
                    pid,
                    key,
                };
            }
        }
    }

    pub fn lookup(&self, pid: i32, key: i32) -> Option<CancelTarget> {
        let map = match self.inner.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.get(&(pid, key)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> CancelTarget {
        CancelTarget {
            host: "127.0.0.1".into(),
            port: 5432,
            tls: None,
            pid: 42,
            key: 7,
            held: Arc::default(),
        }
    }

    #[test]
    fn registered_keys_resolve_until_dropped() {
        let reg = CancelRegistry::default();
        let r = reg.register(target());
        assert_eq!(reg.lookup(r.pid, r.key).map(|t| t.pid), Some(42));
        assert!(reg.lookup(r.pid, r.key.wrapping_add(1)).is_none());
        let (pid, key) = (r.pid, r.key);
        drop(r);
        assert!(reg.lookup(pid, key).is_none());
    }

    #[tokio::test]
    async fn a_cancel_withdraws_only_a_command_that_waits() {
        let held = Held::default();
        // No hold: the cancel is for the target.
        assert!(!held.withdraw());

        let notified = held.hold();
        assert!(held.withdraw(), "a waiting hold is withdrawn");
        tokio::time::timeout(std::time::Duration::from_secs(5), notified)
            .await
            .expect("the hold is woken");
        // Once withdrawn, a second cancel is for the target again.
        assert!(!held.withdraw());

        let _notified = held.hold();
        held.released();
        assert!(!held.withdraw(), "a released hold is not withdrawn");
    }
}
