//! Query cancellation across the gateway.
//!
//! A client cancels by opening a new connection and sending the key it got
//! in `BackendKeyData`. The gateway hands out keys of its own — the
//! target's key never leaves the gateway — and maps them to the target's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rand::Rng;

/// Where and how to deliver a cancel to the target.
#[derive(Clone)]
pub struct CancelTarget {
    pub host: String,
    pub port: u16,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub pid: i32,
    pub key: i32,
    /// Wakes the session's command held for review, if one is: a cancel
    /// then withdraws it (the target has nothing of it to cancel).
    pub held: Arc<tokio::sync::Notify>,
}

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
}
