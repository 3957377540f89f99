//! How many clients may be connected at once: in all, and per identity.
//!
//! The caps are read from the configuration at each admission, so a reload
//! changes them for the next connection; a slot is given back when its
//! guard is dropped, however the session ends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct Admission {
    connections: Arc<AtomicU32>,
    identities: Arc<Mutex<HashMap<String, u32>>>,
}

/// A connection's place; given back on drop.
pub struct ConnectionSlot(Arc<AtomicU32>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An identity's session place; given back on drop.
pub struct IdentitySlot {
    identities: Arc<Mutex<HashMap<String, u32>>>,
    name: String,
}

impl Drop for IdentitySlot {
    fn drop(&mut self) {
        let mut map = self.identities.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.name) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.name);
            }
        }
    }
}

impl Admission {
    /// A place for one more connection, if fewer than `max` hold one.
    pub fn connection(&self, max: u32) -> Option<ConnectionSlot> {
        let taken = self.connections.fetch_add(1, Ordering::AcqRel);
        let slot = ConnectionSlot(self.connections.clone());
        (taken < max).then_some(slot)
    }

    /// A place for one more session of `identity`, if it has fewer than `max`.
    pub fn identity(&self, identity: &str, max: u32) -> Option<IdentitySlot> {
        let mut map = self.identities.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(identity.to_string()).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(IdentitySlot {
            identities: self.identities.clone(),
            name: identity.to_string(),
        })
    }

    #[cfg(test)]
    fn open_connections(&self) -> u32 {
        self.connections.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_and_given_back() {
        let a = Admission::default();
        let first = a.connection(2).unwrap();
        let second = a.connection(2).unwrap();
        assert!(a.connection(2).is_none());
        assert_eq!(a.open_connections(), 2, "a refused attempt holds nothing");
        drop(first);
        let third = a.connection(2);
        assert!(third.is_some());
        drop((second, third));
        assert_eq!(a.open_connections(), 0);

        let x1 = a.identity("x", 1).unwrap();
        assert!(a.identity("x", 1).is_none());
        assert!(
            a.identity("y", 1).is_some(),
            "other identities are unaffected"
        );
        drop(x1);
        assert!(a.identity("x", 1).is_some());
    }
}
