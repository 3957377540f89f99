//! Prepared statements and portals by name, with the unnamed one apart.
//!
//! Most drivers run each query through the unnamed statement and the
//! unnamed portal (libpq's `PQexecParams`, `pgbench -M extended`, and
//! pgJDBC until a statement has run a few times), replacing it with
//! every Parse and Bind. Kept in a field of its own, that replacement
//! hashes nothing and touches no table: the SipHash lookups and inserts
//! were about 4 % of a session's instructions per extended-protocol
//! transaction (bench/RESULTS.md, eighteenth run).

use std::collections::HashMap;

/// Values by statement or portal name; `""` is the unnamed one.
pub struct ByName<T> {
    unnamed: Option<T>,
    named: HashMap<String, T>,
}

impl<T> Default for ByName<T> {
    fn default() -> Self {
        ByName {
            unnamed: None,
            named: HashMap::new(),
        }
    }
}

impl<T> ByName<T> {
    pub fn get(&self, name: &str) -> Option<&T> {
        if name.is_empty() {
            self.unnamed.as_ref()
        } else {
            self.named.get(name)
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets `name` to `value`, replacing what it held.
    pub fn insert(&mut self, name: &str, value: T) {
        if name.is_empty() {
            self.unnamed = Some(value);
        } else {
            self.named.insert(name.to_string(), value);
        }
    }

    pub fn remove(&mut self, name: &str) {
        if name.is_empty() {
            self.unnamed = None;
        } else {
            self.named.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ByName;

    #[test]
    fn the_unnamed_entry_and_named_ones_are_kept_apart() {
        let mut by_name = ByName::default();
        assert_eq!(by_name.get(""), None);
        by_name.insert("", 1);
        by_name.insert("s1", 2);
        assert_eq!((by_name.get(""), by_name.get("s1")), (Some(&1), Some(&2)));
        by_name.insert("", 3);
        assert_eq!(by_name.get(""), Some(&3));
        assert_eq!(by_name.get("s1"), Some(&2));
        by_name.remove("");
        assert!(!by_name.contains(""));
        assert!(by_name.contains("s1"));
        by_name.remove("s1");
        assert!(!by_name.contains("s1"));
        assert_eq!(by_name.get("s2"), None);
    }
}
