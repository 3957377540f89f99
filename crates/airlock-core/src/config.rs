//! The configuration file: its shape, defaults and validation.
//!
//! Unknown keys are errors (`deny_unknown_fields` everywhere): a misspelt
//! `alow:` that silently granted nobody — or everybody — access is worse
//! than a gateway that refuses to start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;
use thiserror::Error;

use airlock_policy::rules::{RuleSet, RuleSpec};

use crate::access::AllowEntry;
use crate::secret::Secret;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration in {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid configuration in {path}, line {line}, field `{field}`: {message}")]
    Invalid {
        path: PathBuf,
        line: u64,
        field: String,
        message: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    #[serde(default)]
    pub listen: Listen,
    /// Certificate the gateway presents to clients. Without one, a
    /// self-signed certificate is generated into `data_dir` on first start.
    #[serde(default)]
    pub tls: Option<ServerTls>,
    #[serde(default)]
    pub postgres: PostgresFrontend,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub policy: PolicyConfig,
    /// What is masked in results and recordings (docs/masking.md).
    #[serde(default)]
    pub masking: crate::masking::MaskingConfig,
    /// How commands are recorded (docs/audit.md).
    #[serde(default)]
    pub audit: crate::audit::AuditConfig,
    /// Just-in-time review of what `review` rules gate (docs/reviews.md).
    #[serde(default)]
    pub reviews: crate::review::ReviewsConfig,
    /// Rules of this deployment, evaluated after the default pack.
    #[serde(default)]
    pub rules: Vec<Spanned<RuleSpec>>,
    #[serde(default)]
    pub connections: Vec<ConnectionConfig>,
}

/// Settings of the rule engine and of the default rule pack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Evaluate the default rule pack (see docs/rules.md).
    #[serde(default = "yes")]
    pub default_pack: bool,
    /// Who reviews what the default pack sends to review.
    #[serde(default = "default_reviewers")]
    pub reviewers: Vec<String>,
    /// Hosts shell network tools may reach (`example.com`, `*.internal`).
    #[serde(default)]
    pub egress_allow: Vec<String>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            default_pack: true,
            reviewers: default_reviewers(),
            egress_allow: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_reviewers() -> Vec<String> {
    vec!["group:admins".to_string()]
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("./airlock-data")
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listen {
    #[serde(default = "default_pg_listen")]
    pub postgres: SocketAddr,
    #[serde(default = "default_api_listen")]
    pub api: SocketAddr,
}

impl Default for Listen {
    fn default() -> Self {
        Listen {
            postgres: default_pg_listen(),
            api: default_api_listen(),
        }
    }
}

fn default_pg_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 15432))
}

fn default_api_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerTls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// How PostgreSQL clients prove who they are to the gateway.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresFrontend {
    #[serde(default)]
    pub auth: FrontendAuth,
    /// Refuse clients that do not negotiate TLS.
    #[serde(default)]
    pub require_tls: bool,
    /// Threads client sessions run on, each session on one of them for its
    /// whole life; `0` (the default) means one per core. Read at start.
    #[serde(default)]
    pub session_threads: u16,
    /// The scheduler slice the session threads ask Linux for (EEVDF's
    /// custom slice, kernel 6.12 and later); `0s` (the default) leaves the
    /// kernel's. Off by default because what it does depends on the
    /// machine: on 2 AMD cores a 100 µs slice left TPS as it was, on 2
    /// Intel cores it cost 8–17 % (bench/RESULTS.md, twenty-sixth and
    /// twenty-seventh runs). Read at start.
    #[serde(default, with = "humantime_serde")]
    pub session_slice: Duration,
}

/// The range Linux accepts for a custom slice.
const SESSION_SLICE_RANGE: (Duration, Duration) =
    (Duration::from_micros(100), Duration::from_millis(100));

impl Default for PostgresFrontend {
    fn default() -> Self {
        PostgresFrontend {
            auth: FrontendAuth::ScramSha256,
            require_tls: false,
            session_threads: 0,
            session_slice: Duration::ZERO,
        }
    }
}

/// More session threads than any machine has cores is a typo, not a plan:
/// each one is an OS thread started up front.
const MAX_SESSION_THREADS: u16 = 1024;

impl PostgresFrontend {
    /// How many session threads to start: `session_threads`, or one per
    /// core when it is `0`. Fewer threads spend less CPU a transaction, but
    /// a thread busy with one session's message keeps the others on it
    /// waiting: on 2 Intel cores one thread gave 12 % fewer extended-protocol
    /// TPS than two (on 2 AMD cores the same TPS; bench/RESULTS.md,
    /// twenty-sixth and twenty-seventh runs).
    pub fn session_thread_count(&self) -> usize {
        match self.session_threads {
            0 => default_session_threads(),
            n => usize::from(n),
        }
    }
}

/// One per core.
pub fn default_session_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FrontendAuth {
    /// The token never crosses the wire; works with or without TLS.
    #[default]
    ScramSha256,
    /// The token is sent in clear text, so it is only accepted inside TLS.
    Password,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest single protocol message accepted from a client or a target.
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: u32,
    /// Largest startup packet (PostgreSQL itself allows 10 000 bytes).
    #[serde(default = "default_max_startup_bytes")]
    pub max_startup_bytes: u32,
    /// Time a client has from connecting to finishing authentication.
    #[serde(default = "default_handshake_timeout", with = "humantime_serde")]
    pub handshake_timeout: Duration,
    /// Time allowed to reach and authenticate to a target.
    #[serde(default = "default_connect_timeout", with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Client connections at once, those still in their handshake included.
    /// Beyond it a new connection is refused (`53300`).
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Sessions at once per identity, so that one identity (a runaway
    /// agent) cannot take every connection.
    #[serde(default = "default_max_connections_per_identity")]
    pub max_connections_per_identity: u32,
    /// A session that has nothing in flight and hears nothing from its
    /// client for this long is closed (`57P05`); `0s` never closes one.
    #[serde(default = "default_idle_timeout", with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Longest statement text the guard analyses. A longer one is refused
    /// (`54000`), never waved through unanalysed.
    #[serde(default = "default_max_statement_bytes")]
    pub max_statement_bytes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: default_max_message_bytes(),
            max_startup_bytes: default_max_startup_bytes(),
            handshake_timeout: default_handshake_timeout(),
            connect_timeout: default_connect_timeout(),
            max_connections: default_max_connections(),
            max_connections_per_identity: default_max_connections_per_identity(),
            idle_timeout: default_idle_timeout(),
            max_statement_bytes: default_max_statement_bytes(),
        }
    }
}

fn default_max_message_bytes() -> u32 {
    64 * 1024 * 1024
}
fn default_max_startup_bytes() -> u32 {
    10_000
}
fn default_handshake_timeout() -> Duration {
    Duration::from_secs(15)
}
fn default_connect_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_max_connections() -> u32 {
    1000
}
fn default_max_connections_per_identity() -> u32 {
    100
}
fn default_idle_timeout() -> Duration {
    Duration::from_secs(3600)
}
fn default_max_statement_bytes() -> u32 {
    1024 * 1024
}

pub(crate) mod humantime_serde {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text)
            .map_err(|e| serde::de::Error::custom(format!("{e} (write e.g. 10s, 5m)")))
    }
}

pub(crate) mod humantime_serde_opt {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => humantime::parse_duration(&text)
                .map(Some)
                .map_err(|e| serde::de::Error::custom(format!("{e} (write e.g. 400d, 90d)"))),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionConfig {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub kind: ConnectionType,
    pub target: PostgresTarget,
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    /// Refuse what the gateway cannot analyse on this connection (with the
    /// default pack).
    #[serde(default)]
    pub strict: bool,
    /// Overrides of the global `audit:` settings for this connection.
    #[serde(default)]
    pub audit: crate::audit::ConnectionAudit,
    /// Overrides of the global `reviews:` settings for this connection.
    #[serde(default)]
    pub review: crate::review::ConnectionReview,
}

impl ConnectionConfig {
    pub fn name(&self) -> &str {
        &self.name.value
    }

    /// How long this connection's commands wait for their review.
    pub fn review_hold(&self, global: &crate::review::ReviewsConfig) -> std::time::Duration {
        self.review.hold.unwrap_or(global.hold)
    }

    pub fn audit_mode(&self, global: &crate::audit::AuditConfig) -> crate::audit::AuditMode {
        self.audit.mode.unwrap_or(global.mode)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionType {
    Postgres,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresTarget {
    pub host: String,
    #[serde(default = "default_pg_port")]
    pub port: u16,
    pub database: String,
    pub user: String,
    /// Name of an environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File whose content (trailing newline trimmed) is the password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    #[serde(default)]
    pub tls: TargetTls,
    /// CA certificate(s), PEM, that must sign the target's certificate in
    /// `verify-full` mode.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_pg_port() -> u16 {
    5432
}

/// TLS towards the target, named after libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetTls {
    Disable,
    /// Encrypt, without checking whose certificate it is.
    #[default]
    Require,
    /// Encrypt, check the chain against `ca_file` and the name against `host`.
    VerifyFull,
}

#[derive(Debug, Error)]
pub enum PasswordError {
    #[error("environment variable {0} is not set")]
    EnvMissing(String),
    #[error("cannot read password file {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl PostgresTarget {
    /// Reads the password at the moment it is needed, so rotating the file
    /// or variable takes effect without a restart. `None` means no password
    /// is configured (trust authentication on the target).
    pub fn password(&self) -> Result<Option<Secret>, PasswordError> {
        if let Some(var) = &self.password_env {
            return std::env::var(var)
                .map(|v| Some(Secret::new(v)))
                .map_err(|_| PasswordError::EnvMissing(var.clone()));
        }
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path).map_err(|source| PasswordError::File {
                path: path.clone(),
                source,
            })?;
            return Ok(Some(Secret::new(text.trim_end_matches(['\n', '\r']))));
        }
        Ok(None)
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(path, &text)
    }

    /// Parses and validates; `path` only names the source in messages.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let mut config: Config = serde_saphyr::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.validate(path)?;
        // Relative paths in the file are relative to the file, not to
        // wherever the gateway happens to be started from.
        if let Some(base) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            config.resolve_paths(base);
        }
        Ok(config)
    }

    /// The built-in defaults with no connections (for tests and `--help`).
    pub fn empty() -> Config {
        Config {
            data_dir: default_data_dir(),
            listen: Listen::default(),
            tls: None,
            postgres: PostgresFrontend::default(),
            limits: Limits::default(),
            policy: PolicyConfig::default(),
            masking: crate::masking::MaskingConfig::default(),
            audit: crate::audit::AuditConfig::default(),
            reviews: crate::review::ReviewsConfig::default(),
            rules: Vec::new(),
            connections: Vec::new(),
        }
    }

    pub fn connection(&self, name: &str) -> Option<&ConnectionConfig> {
        self.connections.iter().find(|c| c.name() == name)
    }

    /// Every rule in force: the default pack (when on), then the file's.
    pub fn rule_specs(&self) -> Vec<RuleSpec> {
        let mut specs = if self.policy.default_pack {
            crate::pack::default_pack(&self.policy)
        } else {
            Vec::new()
        };
        specs.extend(self.rules.iter().map(|r| r.value.clone()));
        specs
    }

    /// Compiles the rules; errors name the rule's line in the file.
    pub fn compile_rules(&self, path: &Path) -> Result<RuleSet, ConfigError> {
        let pack_len = if self.policy.default_pack {
            crate::pack::default_pack(&self.policy).len()
        } else {
            0
        };
        RuleSet::compile(&self.rule_specs()).map_err(|e| {
            let (line, field) = match e.index.checked_sub(pack_len) {
                Some(i) => (
                    self.rules.get(i).map(|r| r.referenced.line()).unwrap_or(0),
                    format!("rules[{i}]"),
                ),
                None => (0, "policy".to_string()),
            };
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line,
                field,
                message: e.to_string(),
            }
        })
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut self.data_dir);
        if let Some(p) = &mut self.masking.hash_key_file {
            fix(p);
        }
        if let Some(p) = &mut self.audit.signing_key {
            fix(p);
        }
        for sink in &mut self.audit.sinks {
            match sink {
                crate::audit::SinkConfig::File { path, .. } => fix(path),
                crate::audit::SinkConfig::Webhook {
                    ca_file: Some(p), ..
                } => fix(p),
                crate::audit::SinkConfig::Webhook { .. } => {}
            }
        }
        for hook in &mut self.reviews.webhooks {
            if let Some(p) = &mut hook.ca_file {
                fix(p);
            }
        }
        if let Some(tls) = &mut self.tls {
            fix(&mut tls.cert_file);
            fix(&mut tls.key_file);
        }
        for c in &mut self.connections {
            if let Some(p) = &mut c.target.password_file {
                fix(p);
            }
            if let Some(p) = &mut c.target.ca_file {
                fix(p);
            }
        }
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |line: u64, field: String, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            field,
            message,
        };
        if self.limits.max_startup_bytes < 8 || self.limits.max_message_bytes < 1024 {
            return Err(invalid(
                0,
                "limits".into(),
                "limits are too small to carry any message".into(),
            ));
        }
        if self.limits.max_connections == 0 || self.limits.max_connections_per_identity == 0 {
            return Err(invalid(
                0,
                "limits".into(),
                "max_connections and max_connections_per_identity must be at least 1".into(),
            ));
        }
        if self.postgres.session_threads > MAX_SESSION_THREADS {
            return Err(invalid(
                0,
                "postgres.session_threads".into(),
                format!(
                    "{} threads is more than the gateway starts (at most {MAX_SESSION_THREADS}; 0 means one per core)",
                    self.postgres.session_threads
                ),
            ));
        }
        let slice = self.postgres.session_slice;
        let (shortest, longest) = SESSION_SLICE_RANGE;
        if !slice.is_zero() && (slice < shortest || slice > longest) {
            return Err(invalid(
                0,
                "postgres.session_slice".into(),
                format!(
                    "{} is outside the slices Linux grants ({} to {}; 0s leaves the kernel's default)",
                    humantime::format_duration(slice),
                    humantime::format_duration(shortest),
                    humantime::format_duration(longest),
                ),
            ));
        }
        for (i, r) in self.policy.reviewers.iter().enumerate() {
            AllowEntry::parse(r).map_err(|m| invalid(0, format!("policy.reviewers[{i}]"), m))?;
        }
        for (i, rule) in self.rules.iter().enumerate() {
            for (j, r) in rule.value.reviewers.iter().enumerate() {
                AllowEntry::parse(r).map_err(|m| {
                    invalid(
                        rule.referenced.line(),
                        format!("rules[{i}].reviewers[{j}]"),
                        m,
                    )
                })?;
            }
        }
        self.compile_rules(path)?;
        crate::masking::MaskPolicy::check(&self.masking)
            .map_err(|e| invalid(0, e.field, e.message))?;
        for (i, rule) in self.rules.iter().enumerate() {
            for (j, c) in rule.value.columns.iter().enumerate() {
                crate::masking::ColumnPattern::parse(c).map_err(|m| {
                    invalid(
                        rule.referenced.line(),
                        format!("rules[{i}].columns[{j}]"),
                        m,
                    )
                })?;
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, c) in self.connections.iter().enumerate() {
            let line = c.name.referenced.line();
            let field = |f: &str| format!("connections[{i}].{f}");
            let name = c.name();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
            {
                return Err(invalid(
                    line,
                    field("name"),
                    format!("{name:?} is not a valid connection name (letters, digits, - _ .)"),
                ));
            }
            if !seen.insert(name) {
                return Err(invalid(
                    line,
                    field("name"),
                    format!("connection {name:?} is defined twice"),
                ));
            }
            let t = &c.target;
            if t.password_env.is_some() && t.password_file.is_some() {
                return Err(invalid(
                    line,
                    field("target"),
                    "set either password_env or password_file, not both".into(),
                ));
            }
            if t.tls == TargetTls::VerifyFull && t.ca_file.is_none() {
                return Err(invalid(
                    line,
                    field("target.ca_file"),
                    "tls: verify-full needs ca_file".into(),
                ));
            }
            for (j, entry) in c.allow.iter().enumerate() {
                AllowEntry::parse(&entry.value).map_err(|m| {
                    invalid(entry.referenced.line(), field(&format!("allow[{j}]")), m)
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
data_dir: ./airlock-data
listen:
  postgres: 127.0.0.1:15432
  api: 127.0.0.1:8080
connections:
  - name: app-db
    type: postgres
    target: { host: 127.0.0.1, port: 5432, database: app, user: app_rw, password_env: APP_DB_PASSWORD, tls: disable }
    allow: ["alice", "group:eng", "agent:ci-bot"]
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("airlock.yaml"), text)
    }

    #[test]
    fn parses_the_documented_shape() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.listen.postgres.port(), 15432);
        let conn = c.connection("app-db").unwrap();
        assert_eq!(conn.target.user, "app_rw");
        assert_eq!(conn.target.tls, TargetTls::Disable);
        assert_eq!(conn.allow.len(), 3);
        assert_eq!(c.limits.max_startup_bytes, 10_000);
    }

    #[test]
    fn defaults_apply_to_an_empty_file() {
        let c = parse("{}").unwrap();
        assert_eq!(c.listen.api.port(), 8080);
        assert_eq!(c.data_dir, PathBuf::from("./airlock-data"));
        assert!(c.connections.is_empty());
    }

    #[test]
    fn unknown_key_names_file_line_and_field() {
        let bad = GOOD.replace("    allow:", "    alow:");
        let err = parse(&bad).unwrap_err().to_string();
        assert!(err.contains("airlock.yaml"), "{err}");
        assert!(err.contains("line 10"), "{err}");
        assert!(err.contains("alow"), "{err}");
    }

    #[test]
    fn bad_allow_entry_names_its_line() {
        let bad = GOOD.replace("\"group:eng\"", "\"team:eng\"");
        let err = parse(&bad).unwrap_err().to_string();
        assert!(err.contains("line 10") && err.contains("allow[1]"), "{err}");
    }

    #[test]
    fn session_threads_default_to_one_per_core_and_are_bounded() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let default = parse(GOOD).unwrap().postgres.session_thread_count();
        assert_eq!(default, cores);
        let three = format!("{GOOD}postgres: {{ session_threads: 3 }}\n");
        assert_eq!(parse(&three).unwrap().postgres.session_thread_count(), 3);
        let typo = format!("{GOOD}postgres: {{ session_threads: 10000 }}\n");
        let err = parse(&typo).unwrap_err().to_string();
        assert!(err.contains("postgres.session_threads"), "{err}");
    }

    #[test]
    fn session_slice_is_off_unless_set_and_is_bounded() {
        let config = parse(GOOD).unwrap();
        assert!(config.postgres.session_slice.is_zero());
        let off = format!("{GOOD}postgres: {{ session_slice: 0s }}\n");
        assert!(parse(&off).unwrap().postgres.session_slice.is_zero());
        let short = format!("{GOOD}postgres: {{ session_slice: 100us }}\n");
        assert_eq!(
            parse(&short).unwrap().postgres.session_slice,
            Duration::from_micros(100)
        );
        let three = format!("{GOOD}postgres: {{ session_slice: 3ms }}\n");
        assert_eq!(
            parse(&three).unwrap().postgres.session_slice,
            Duration::from_millis(3)
        );
        for bad in ["50us", "1s"] {
            let text = format!("{GOOD}postgres: {{ session_slice: {bad} }}\n");
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains("postgres.session_slice"), "{bad}: {err}");
        }
    }

    #[test]
    fn duplicate_connection_is_refused() {
        let text = format!("{GOOD}{}", &GOOD[GOOD.find("  - name").unwrap()..]);
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("defined twice"), "{err}");
    }

    #[test]
    fn verify_full_needs_a_ca() {
        let bad = GOOD.replace("tls: disable", "tls: verify-full");
        let err = parse(&bad).unwrap_err().to_string();
        assert!(err.contains("ca_file"), "{err}");
    }

    #[test]
    fn unknown_tls_mode_is_refused() {
        let bad = GOOD.replace("tls: disable", "tls: maybe");
        assert!(parse(&bad).unwrap_err().to_string().contains("maybe"));
    }

    #[test]
    fn password_comes_from_file_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\n").unwrap();
        let text = GOOD.replace(
            "password_env: APP_DB_PASSWORD",
            &format!("password_file: {}", file.display()),
        );
        let c = parse(&text).unwrap();
        let pw = c.connections[0].target.password().unwrap().unwrap();
        assert_eq!(pw.expose(), "s3cret");
    }

    #[test]
    fn relative_paths_follow_the_file() {
        let c = Config::parse(Path::new("/etc/airlock/airlock.yaml"), GOOD).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/etc/airlock/./airlock-data"));
    }
}
