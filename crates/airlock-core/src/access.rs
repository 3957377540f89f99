//! Who may use a connection: the entries of its `allow:` list.

use airlock_store::{Identity, IdentityKind};

/// One entry of an `allow:` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowEntry {
    /// `alice`: the identity named alice, person or agent.
    Name(String),
    /// `user:alice`: only if alice is a person.
    User(String),
    /// `agent:ci-bot`: only if ci-bot is an agent.
    Agent(String),
    /// `group:eng`: any identity in group eng.
    Group(String),
    /// `*`: any known identity.
    Anyone,
}

impl AllowEntry {
    pub fn parse(text: &str) -> Result<AllowEntry, String> {
        if text == "*" {
            return Ok(AllowEntry::Anyone);
        }
        let (prefix, name) = match text.split_once(':') {
            Some((p, n)) => (Some(p), n),
            None => (None, text),
        };
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == ':') {
            return Err(format!("{text:?} is not a valid allow entry"));
        }
        let name = name.to_string();
        match prefix {
            None => Ok(AllowEntry::Name(name)),
            Some("user") => Ok(AllowEntry::User(name)),
            Some("agent") => Ok(AllowEntry::Agent(name)),
            Some("group") => Ok(AllowEntry::Group(name)),
            Some(other) => Err(format!(
                "{text:?}: unknown prefix {other:?} (use user:, agent:, group: or a bare name)"
            )),
        }
    }

    pub fn admits(&self, who: &Identity) -> bool {
        match self {
            AllowEntry::Anyone => true,
            AllowEntry::Name(n) => *n == who.name,
            AllowEntry::User(n) => *n == who.name && who.kind == IdentityKind::User,
            AllowEntry::Agent(n) => *n == who.name && who.kind == IdentityKind::Agent,
            AllowEntry::Group(g) => who.groups.iter().any(|mine| mine == g),
        }
    }
}

/// A valid identity or group name: what the CLI accepts and what the
/// PostgreSQL startup packet may carry.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(name: &str, kind: IdentityKind, groups: &[&str]) -> Identity {
        Identity {
            name: name.into(),
            kind,
            groups: groups.iter().map(|g| g.to_string()).collect(),
            scram_salt: vec![],
            created_at: chrono::Utc::now(),
            person: None,
        }
    }

    #[test]
    fn entries_admit_what_they_say() {
        let alice = who("alice", IdentityKind::User, &["eng"]);
        let bot = who("ci-bot", IdentityKind::Agent, &[]);
        assert!(AllowEntry::parse("alice").unwrap().admits(&alice));
        assert!(AllowEntry::parse("group:eng").unwrap().admits(&alice));
        assert!(!AllowEntry::parse("group:eng").unwrap().admits(&bot));
        assert!(AllowEntry::parse("agent:ci-bot").unwrap().admits(&bot));
        assert!(!AllowEntry::parse("user:ci-bot").unwrap().admits(&bot));
        assert!(!AllowEntry::parse("agent:alice").unwrap().admits(&alice));
        assert!(AllowEntry::parse("*").unwrap().admits(&bot));
    }

    #[test]
    fn malformed_entries_are_refused() {
        for bad in ["", "team:eng", "group:", "a b", "user:x:y"] {
            assert!(AllowEntry::parse(bad).is_err(), "{bad}");
        }
    }
}
