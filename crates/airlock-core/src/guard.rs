//! The guard: every decision about who may do what is made here, and only
//! here. It sees identities, connections and commands, never a socket.

use std::sync::Arc;

use airlock_store::Identity;

use crate::access::AllowEntry;
use crate::command::{Command, Verdict};
use crate::config::{Config, ConnectionConfig};

/// What the guard knows about the session a command arrives on.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: String,
    pub identity: Identity,
    pub connection: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessDenied {
    #[error("connection \"{0}\" does not exist")]
    UnknownConnection(String),
    #[error("identity \"{identity}\" is not allowed to use connection \"{connection}\"")]
    NotAllowed {
        identity: String,
        connection: String,
    },
}

pub struct Guard {
    config: Arc<Config>,
}

impl Guard {
    pub fn new(config: Arc<Config>) -> Guard {
        Guard { config }
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// May this identity open a session on this connection?
    pub fn authorize(
        &self,
        who: &Identity,
        connection: &str,
    ) -> Result<&ConnectionConfig, AccessDenied> {
        let conn = self
            .config
            .connection(connection)
            .ok_or_else(|| AccessDenied::UnknownConnection(connection.to_string()))?;
        // Entries were validated at load time; one that somehow fails to
        // parse admits nobody rather than everybody.
        let admitted = conn
            .allow
            .iter()
            .filter_map(|e| AllowEntry::parse(&e.value).ok())
            .any(|e| e.admits(who));
        if admitted {
            Ok(conn)
        } else {
            Err(AccessDenied::NotAllowed {
                identity: who.name.clone(),
                connection: connection.to_string(),
            })
        }
    }

    /// Decides one command. Rules arrive with the guardrails work; until
    /// then an authorised session may run what it sends.
    pub fn check(&self, _session: &SessionInfo, _command: &Command) -> Verdict {
        Verdict::Allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock_store::IdentityKind;
    use std::path::Path;

    fn guard() -> Guard {
        let text = r#"
connections:
  - name: app-db
    type: postgres
    target: { host: 127.0.0.1, database: app, user: app, tls: disable }
    allow: ["group:eng"]
  - name: closed
    type: postgres
    target: { host: 127.0.0.1, database: app, user: app, tls: disable }
"#;
        Guard::new(Arc::new(Config::parse(Path::new("t.yaml"), text).unwrap()))
    }

    fn who(groups: &[&str]) -> Identity {
        Identity {
            name: "bob".into(),
            kind: IdentityKind::User,
            groups: groups.iter().map(|g| g.to_string()).collect(),
            scram_salt: vec![],
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn authorises_by_allow_list() {
        let g = guard();
        assert!(g.authorize(&who(&["eng"]), "app-db").is_ok());
        assert!(matches!(
            g.authorize(&who(&[]), "app-db"),
            Err(AccessDenied::NotAllowed { .. })
        ));
        assert!(matches!(
            g.authorize(&who(&["eng"]), "closed"),
            Err(AccessDenied::NotAllowed { .. })
        ));
        assert!(matches!(
            g.authorize(&who(&["eng"]), "nope"),
            Err(AccessDenied::UnknownConnection(_))
        ));
    }
}
