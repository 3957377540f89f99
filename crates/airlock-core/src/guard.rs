//! The guard: every decision about who may do what is made here, and only
//! here. It sees identities, connections and commands, never a socket.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;

use airlock_policy::Facts;
use airlock_policy::rules::{
    ConnectionView, Decision, IdentityView, Input, RuleSet, SessionCounters,
};
use airlock_store::Identity;

use crate::access::AllowEntry;
use crate::analysis::{Analysed, Analyser};
use crate::command::{Command, Verdict};
use crate::config::{Config, ConfigError, ConnectionConfig, ConnectionType};
use crate::masking::MaskPolicy;

/// What the guard knows about the session a command arrives on.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: String,
    pub identity: Identity,
    pub connection: String,
    pub identity_view: IdentityView,
    pub connection_view: ConnectionView,
    /// Everything about the identity and connection that rules can see:
    /// the start of this session's keys in the decision cache, made once
    /// rather than formatted for every command.
    decision_key_prefix: String,
}

impl SessionInfo {
    pub fn new(id: String, identity: Identity, connection: &ConnectionConfig) -> SessionInfo {
        let view = identity_view(&identity);
        SessionInfo {
            id,
            decision_key_prefix: format!(
                "{}\0{}\0{}\0{}\0",
                view.name,
                view.kind,
                view.groups.join("\u{1}"),
                connection.name()
            ),
            identity_view: view,
            connection_view: connection_view(connection),
            connection: connection.name().to_string(),
            identity,
        }
    }
}

pub fn identity_view(identity: &Identity) -> IdentityView {
    IdentityView {
        name: identity.name.clone(),
        kind: identity.kind.as_str().to_string(),
        groups: identity.groups.clone(),
    }
}

pub fn connection_view(c: &ConnectionConfig) -> ConnectionView {
    ConnectionView {
        name: c.name().to_string(),
        kind: match c.kind {
            ConnectionType::Postgres => "postgres".into(),
        },
        strict: c.strict,
    }
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

/// Everything the guard decided about one command, for the adapter (the
/// verdict) and for people (`airlock policy test`: the facts and rules).
#[derive(Debug, Clone)]
pub struct Judgement {
    pub verdict: Verdict,
    pub facts: Arc<Facts>,
    pub decision: Decision,
}

/// One generation of configuration and compiled rules. A reload swaps in
/// a whole new generation; sessions holding the old one finish their
/// current decision with it.
struct Generation {
    config: Arc<Config>,
    rules: RuleSet,
    masking: Arc<MaskPolicy>,
    /// Decisions of the rules that do not read `session`, by command shape,
    /// identity and connection. Lives and dies with its rules.
    decisions: quick_cache::sync::Cache<String, Arc<Decision>>,
}

impl Generation {
    fn new(config: Arc<Config>, rules: RuleSet, path: &Path) -> Result<Generation, ConfigError> {
        let masking = MaskPolicy::build(&config.masking, &config.data_dir).map_err(|e| {
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line: 0,
                field: e.field,
                message: e.message,
            }
        })?;
        Ok(Generation {
            config,
            rules,
            masking: Arc::new(masking),
            decisions: quick_cache::sync::Cache::new(10_000),
        })
    }
}

pub struct Guard {
    current: ArcSwap<Generation>,
    /// Counts the generations swapped in: a [`GuardView`] compares it, a
    /// read of a line nobody writes between reloads, instead of taking
    /// the generation's reference counts, which every session shares.
    epoch: AtomicU64,
    analyser: Analyser,
    source: Option<PathBuf>,
}

/// A session's hold on the guard's current generation, and the last
/// command it decided there.
///
/// Taking the configuration or masking policy from the guard for each
/// statement bumps and drops reference counts that the sessions of every
/// thread share, so their cache lines travel between cores statement by
/// statement; and a client that sends the same text again (a prepared
/// statement parsed anew by every execution, as pgbench `-M extended` and
/// many drivers do) would look it up in the shared caches again, as would
/// the next text of the same shape (the same statement with other
/// literals). A view is refreshed from the guard's epoch, and answers a
/// repeated text or shape from what it kept, under the same generation
/// only.
pub struct GuardView {
    epoch: u64,
    generation: Arc<Generation>,
    last: Option<Remembered>,
}

/// A decision kept for the next command with the same text. Only a
/// decision the guard would also share by shape is kept: facts that depend
/// on a literal's value, or that failed to parse, are decided every time.
struct Remembered {
    text: Arc<str>,
    /// The shape's cache key: a text of the same shape is decided alike.
    key: String,
    facts: Arc<Facts>,
    /// Whether `facts` is the view's own copy, made once the shape comes
    /// again: the analyser's `Arc` has a count that every session using
    /// the shape bumps, from every thread.
    own: bool,
    sessionless: Decision,
}

impl GuardView {
    pub fn config(&self) -> &Arc<Config> {
        &self.generation.config
    }

    pub fn masking(&self) -> &Arc<MaskPolicy> {
        &self.generation.masking
    }
}

impl Guard {
    /// Builds the guard for a configuration that was already validated.
    pub fn new(config: Arc<Config>) -> Result<Guard, ConfigError> {
        let path = Path::new("<configuration>");
        let rules = config.compile_rules(path)?;
        Ok(Guard {
            current: ArcSwap::from_pointee(Generation::new(config, rules, path)?),
            epoch: AtomicU64::new(0),
            analyser: Analyser::new(),
            source: None,
        })
    }

    /// A guard that can reload its configuration from `path`.
    pub fn from_file(path: &Path) -> Result<Guard, ConfigError> {
        let config = Config::load(path)?;
        let mut guard = Guard::new(Arc::new(config))?;
        guard.source = Some(path.to_path_buf());
        Ok(guard)
    }

    pub fn config(&self) -> Arc<Config> {
        self.current.load().config.clone()
    }

    /// What results and recordings are masked with, as configured now.
    pub fn masking(&self) -> Arc<MaskPolicy> {
        self.current.load().masking.clone()
    }

    /// Re-reads the configuration file. A file that does not load keeps
    /// the current rules in force; the error says why.
    pub fn reload(&self) -> Result<(), ConfigError> {
        let Some(path) = &self.source else {
            return Ok(());
        };
        let config = Config::load(path)?;
        let rules = config.compile_rules(path)?;
        let old = self.current.load();
        if old.config.listen.postgres != config.listen.postgres
            || old.config.listen.api != config.listen.api
            || old.config.data_dir != config.data_dir
        {
            tracing::warn!("listen addresses and data_dir take effect only after a restart");
        }
        tracing::info!(
            rules = rules.len(),
            connections = config.connections.len(),
            "configuration reloaded"
        );
        let generation = Generation::new(Arc::new(config), rules, path)?;
        self.current.store(Arc::new(generation));
        // After the store: a view that sees the new epoch loads the new
        // generation (one that loads it early reloads once more).
        self.epoch.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// A view of the current generation, for one session.
    pub fn view(&self) -> GuardView {
        GuardView {
            epoch: self.epoch.load(Ordering::Acquire),
            generation: self.current.load_full(),
            last: None,
        }
    }

    /// Moves `view` to the current generation if a reload swapped in a
    /// new one since it was taken.
    pub fn refresh(&self, view: &mut GuardView) {
        if self.epoch.load(Ordering::Acquire) != view.epoch {
            *view = self.view();
        }
    }

    /// May this identity open a session on this connection?
    pub fn authorize(
        &self,
        who: &Identity,
        connection: &str,
    ) -> Result<ConnectionConfig, AccessDenied> {
        let config = self.config();
        let conn = config
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
            Ok(conn.clone())
        } else {
            Err(AccessDenied::NotAllowed {
                identity: who.name.clone(),
                connection: connection.to_string(),
            })
        }
    }

    /// Decides one command.
    pub fn check(
        &self,
        session: &SessionInfo,
        counters: SessionCounters,
        command: &Command,
    ) -> Judgement {
        let generation = self.current.load();
        let (facts, shape) = self
            .analyser
            .analyse_keyed(&session.connection_view.kind, command);
        let sessionless = self.sessionless(&generation, session, counters, &facts, shape);
        let decision = self.with_session_rules(&generation, session, counters, &facts, sessionless);
        judgement(&generation, facts, decision)
    }

    /// Decides one command as [`Guard::check`] does, through a session's
    /// view: under the current generation, and from the view's last
    /// decision when the command repeats its text.
    pub fn check_in(
        &self,
        view: &mut GuardView,
        session: &SessionInfo,
        counters: SessionCounters,
        command: &Command,
    ) -> Judgement {
        self.refresh(view);
        let text = match command {
            Command::Sql { text, .. } => Some(text),
            Command::Shell { .. } => None,
        };
        let same_text = match (text, &view.last) {
            (Some(text), Some(last)) => Arc::ptr_eq(&last.text, text) || *last.text == **text,
            _ => false,
        };
        let analysed = if same_text {
            None
        } else {
            let remembered = view.last.as_ref().map(|last| last.key.as_str());
            match self.analyser.analyse_remembering(
                &session.connection_view.kind,
                command,
                remembered,
            ) {
                Analysed::Remembered => None,
                Analysed::Fresh(facts, shape) => Some((facts, shape)),
            }
        };
        let (facts, shape) = match analysed {
            Some(fresh) => fresh,
            None => {
                if let (Some(last), Some(text)) = (view.last.as_mut(), text) {
                    if !last.own {
                        last.facts = Arc::new((*last.facts).clone());
                        last.own = true;
                    }
                    last.text = text.clone();
                    let decision = self.with_session_rules(
                        &view.generation,
                        session,
                        counters,
                        &last.facts,
                        last.sessionless.clone(),
                    );
                    return judgement(&view.generation, last.facts.clone(), decision);
                }
                // Only a SQL text with something remembered gets here.
                self.analyser
                    .analyse_keyed(&session.connection_view.kind, command)
            }
        };
        let sessionless =
            self.sessionless(&view.generation, session, counters, &facts, shape.clone());
        view.last = match (text, shape) {
            (Some(text), Some(key)) => Some(Remembered {
                text: text.clone(),
                key,
                facts: facts.clone(),
                own: false,
                sessionless: sessionless.clone(),
            }),
            _ => None,
        };
        let decision =
            self.with_session_rules(&view.generation, session, counters, &facts, sessionless);
        judgement(&view.generation, facts, decision)
    }

    /// What the rules that do not read session counters decide on `facts`
    /// under `generation`, from the generation's cache where `shape`
    /// allows.
    fn sessionless(
        &self,
        generation: &Generation,
        session: &SessionInfo,
        counters: SessionCounters,
        facts: &Facts,
        shape: Option<String>,
    ) -> Decision {
        let input = Input {
            identity: &session.identity_view,
            connection: &session.connection_view,
            facts,
            session: counters,
        };
        // Rules that do not read session counters decide the same for the
        // same command shape, identity and connection: that part is cached
        // (only where the facts themselves may be shared, see Analyser).
        match shape {
            Some(shape) => {
                let mut key =
                    String::with_capacity(session.decision_key_prefix.len() + shape.len());
                key.push_str(&session.decision_key_prefix);
                key.push_str(&shape);
                match generation.decisions.get(&key) {
                    Some(hit) => (*hit).clone(),
                    None => {
                        let d = generation.rules.evaluate_sessionless(&input);
                        generation.decisions.insert(key, Arc::new(d.clone()));
                        d
                    }
                }
            }
            None => generation.rules.evaluate_sessionless(&input),
        }
    }

    /// `sessionless` merged with what the rules that read session counters
    /// decide now.
    fn with_session_rules(
        &self,
        generation: &Generation,
        session: &SessionInfo,
        counters: SessionCounters,
        facts: &Facts,
        sessionless: Decision,
    ) -> Decision {
        if !generation.rules.reads_session() {
            return sessionless;
        }
        let input = Input {
            identity: &session.identity_view,
            connection: &session.connection_view,
            facts,
            session: counters,
        };
        sessionless.merge(generation.rules.evaluate_session_rules(&input))
    }
}

fn judgement(generation: &Generation, facts: Arc<Facts>, decision: Decision) -> Judgement {
    let mut verdict = Verdict::from_decision(&decision);
    if let Verdict::Mask { rules, .. } = &verdict
        && !generation.masking.enabled()
    {
        // Answering unmasked what a rule says to mask is the one thing
        // this verdict must never lead to.
        verdict = Verdict::Block {
            rule: rules.join(","),
            reason: "the rule requires masking, and masking is turned off (masking.enabled: false)"
                .into(),
        };
    }
    Judgement {
        verdict,
        facts,
        decision,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock_store::IdentityKind;

    fn guard() -> Guard {
        let text = r#"
policy: { default_pack: true, reviewers: ["group:dba"] }
rules:
  - name: no-pg-sleep-for-agents
    when: identity.kind == 'agent' && 'pg_sleep' in facts.sql.functions
    action: block
    message: agents may not sleep
connections:
  - name: app-db
    type: postgres
    target: { host: 127.0.0.1, database: app, user: app, tls: disable }
    allow: ["group:eng"]
    strict: true
  - name: closed
    type: postgres
    target: { host: 127.0.0.1, database: app, user: app, tls: disable }
"#;
        Guard::new(Arc::new(Config::parse(Path::new("t.yaml"), text).unwrap())).unwrap()
    }

    fn who(kind: IdentityKind, groups: &[&str]) -> Identity {
        Identity {
            name: "bob".into(),
            kind,
            groups: groups.iter().map(|g| g.to_string()).collect(),
            scram_salt: vec![],
            created_at: chrono::Utc::now(),
            person: None,
        }
    }

    fn session(g: &Guard, kind: IdentityKind) -> SessionInfo {
        let conn = g.authorize(&who(kind, &["eng"]), "app-db").unwrap();
        SessionInfo::new("s1".into(), who(kind, &["eng"]), &conn)
    }

    /// A configuration with one connection anyone may use.
    const OPEN_DB: &str = "connections:\n  - name: db\n    type: postgres\n    target: { host: h, database: d, user: u, tls: disable }\n    allow: ['*']\n";
    const NO_SELECT: &str = "rules:\n  - name: no-select\n    when: \"'select' in facts.sql.kinds\"\n    action: block\n";

    /// A guard loaded from a file holding `text` (reloadable), and a
    /// session of a user on its connection `db`.
    fn file_guard(text: &str) -> (tempfile::TempDir, PathBuf, Guard, SessionInfo) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("airlock.yaml");
        std::fs::write(&path, text).unwrap();
        let g = Guard::from_file(&path).unwrap();
        let s = SessionInfo::new(
            "s".into(),
            who(IdentityKind::User, &[]),
            &g.authorize(&who(IdentityKind::User, &[]), "db").unwrap(),
        );
        (dir, path, g, s)
    }

    fn sql(text: &str) -> Command {
        Command::Sql {
            text: text.into(),
            param_count: 0,
        }
    }

    #[test]
    fn authorises_by_allow_list() {
        let g = guard();
        assert!(
            g.authorize(&who(IdentityKind::User, &["eng"]), "app-db")
                .is_ok()
        );
        assert!(matches!(
            g.authorize(&who(IdentityKind::User, &[]), "app-db"),
            Err(AccessDenied::NotAllowed { .. })
        ));
        assert!(matches!(
            g.authorize(&who(IdentityKind::User, &["eng"]), "closed"),
            Err(AccessDenied::NotAllowed { .. })
        ));
        assert!(matches!(
            g.authorize(&who(IdentityKind::User, &["eng"]), "nope"),
            Err(AccessDenied::UnknownConnection(_))
        ));
    }

    #[test]
    fn default_pack_and_file_rules_decide() {
        let g = guard();
        let user = session(&g, IdentityKind::User);
        let agent = session(&g, IdentityKind::Agent);
        let c = SessionCounters::default();
        assert_eq!(g.check(&user, c, &sql("select 1")).verdict, Verdict::Allow);
        assert!(matches!(
            g.check(&user, c, &sql("delete from t")).verdict,
            Verdict::Block { .. }
        ));
        assert!(matches!(
            g.check(&user, c, &sql("drop table t")).verdict,
            Verdict::Review { .. }
        ));
        assert!(matches!(
            g.check(&user, c, &sql("selec 1")).verdict,
            Verdict::Block { .. }
        ));
        assert_eq!(
            g.check(&user, c, &sql("select pg_sleep(1)")).verdict,
            Verdict::Allow
        );
        match g.check(&agent, c, &sql("select pg_sleep(1)")).verdict {
            Verdict::Block { rule, reason } => {
                assert_eq!(rule, "no-pg-sleep-for-agents");
                assert_eq!(reason, "agents may not sleep");
            }
            other => panic!("{other:?}"),
        }
    }

    /// The decision cache must never change a verdict: through the guard
    /// (twice, so the second pass is served from the caches) and by a fresh
    /// analysis and a full evaluation, every command gets the same decision.
    #[test]
    fn cached_and_uncached_decisions_agree() {
        let g = guard();
        let config = g.config();
        let rules = config.compile_rules(Path::new("t.yaml")).unwrap();
        let analyser = crate::analysis::Analyser::new();
        let corpus = [
            "select pg_sleep(1)",
            "select pg_sleep(2)",
            "select * from users where id = 1",
            "select * from secrets where id = 2",
            "delete from t where id = 7",
            "delete from t",
            "copy t to '/tmp/a'",
            "drop table t",
            "selec 1",
        ];
        for _ in 0..2 {
            for kind in [IdentityKind::User, IdentityKind::Agent] {
                let s = session(&g, kind);
                for text in corpus {
                    let cached = g.check(&s, SessionCounters::default(), &sql(text)).decision;
                    let facts = analyser.uncached("postgres", &sql(text));
                    let fresh = rules.evaluate(&Input {
                        identity: &s.identity_view,
                        connection: &s.connection_view,
                        facts: &facts,
                        session: SessionCounters::default(),
                    });
                    assert_eq!(cached, fresh, "{kind:?} {text}");
                }
            }
        }
    }

    #[test]
    fn a_view_decides_repeated_texts_as_the_guard_does() {
        let g = guard();
        // Runs of the same text and of the same shape with other literals
        // (the second and later of each come from what the view kept,
        // where it kept anything), and of shapes whose facts depend on a
        // literal's value.
        let corpus = [
            "select pg_sleep(1)",
            "select pg_sleep(2)",
            "select * from users where id = $1",
            "select * from users where id = 1",
            "select * from users where id = 2",
            "select * from secrets where id = 2",
            "delete from t",
            "copy t to '/tmp/a'",
            "copy t to '/tmp/b'",
            "copy t to program 'curl x'",
            "selec 1",
            "selec 2",
        ];
        for kind in [IdentityKind::User, IdentityKind::Agent] {
            let s = session(&g, kind);
            let mut view = g.view();
            for text in corpus {
                for _ in 0..3 {
                    let c = SessionCounters::default();
                    let through_view = g.check_in(&mut view, &s, c, &sql(text));
                    let direct = g.check(&s, c, &sql(text));
                    assert_eq!(through_view.verdict, direct.verdict, "{kind:?} {text}");
                    assert_eq!(through_view.decision, direct.decision, "{kind:?} {text}");
                    assert_eq!(*through_view.facts, *direct.facts, "{kind:?} {text}");
                }
            }
        }
    }

    #[test]
    fn a_view_keeps_only_what_the_guard_would_share_and_reads_counters_anew() {
        let rules =
            "rules:\n  - name: tenth\n    when: \"session.commands >= 10\"\n    action: block\n";
        let (_dir, _path, g, s) = file_guard(&format!("{OPEN_DB}{rules}"));
        let mut view = g.view();
        let at = |commands| SessionCounters {
            commands,
            ..SessionCounters::default()
        };
        let select = sql("select 1");
        assert_eq!(
            g.check_in(&mut view, &s, at(1), &select).verdict,
            Verdict::Allow
        );
        assert!(view.last.is_some(), "a shareable decision is kept");
        // The same text again, now past the limit: session rules are not
        // answered from what was kept.
        assert!(matches!(
            g.check_in(&mut view, &s, at(10), &select).verdict,
            Verdict::Block { .. }
        ));
        // Facts that depend on a literal's value are not kept.
        g.check_in(&mut view, &s, at(1), &sql("copy t to '/tmp/a'"));
        assert!(view.last.is_none(), "a literal-sensitive decision is kept");
    }

    #[test]
    fn a_reload_reaches_a_view_that_was_taken_before_it() {
        let (_dir, path, g, s) = file_guard(OPEN_DB);
        let c = SessionCounters::default();
        let mut view = g.view();
        let select = sql("select 1");
        assert_eq!(
            g.check_in(&mut view, &s, c, &select).verdict,
            Verdict::Allow
        );
        assert_eq!(
            g.check_in(&mut view, &s, c, &select).verdict,
            Verdict::Allow
        );
        let stricter = format!("{OPEN_DB}{NO_SELECT}");
        std::fs::write(&path, &stricter).unwrap();
        g.reload().unwrap();
        assert!(matches!(
            g.check_in(&mut view, &s, c, &select).verdict,
            Verdict::Block { .. }
        ));
        assert!(Arc::ptr_eq(view.masking(), &g.masking()));
    }

    #[test]
    fn reload_keeps_old_rules_when_the_new_file_is_broken() {
        let (_dir, path, g, s) = file_guard(OPEN_DB);
        let c = SessionCounters::default();
        assert_eq!(g.check(&s, c, &sql("select 1")).verdict, Verdict::Allow);
        let stricter = format!("{OPEN_DB}{NO_SELECT}");
        std::fs::write(&path, &stricter).unwrap();
        g.reload().unwrap();
        assert!(matches!(
            g.check(&s, c, &sql("select 1")).verdict,
            Verdict::Block { .. }
        ));
        std::fs::write(&path, format!("{stricter}    bogus: 1\n")).unwrap();
        assert!(g.reload().is_err());
        assert!(matches!(
            g.check(&s, c, &sql("select 1")).verdict,
            Verdict::Block { .. }
        ));
    }
}
