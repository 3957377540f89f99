//! How commands are recorded: the `audit:` section of the configuration
//! and its per-connection override (docs/audit.md).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// When a command's record must be in the store relative to the command
/// reaching its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditMode {
    /// The record is committed before the command is forwarded; commands
    /// of concurrent sessions share one commit.
    #[default]
    Durable,
    /// The command is forwarded at once; its record is committed within
    /// the writer's batching interval. A gateway crash can lose the records
    /// of commands forwarded in that interval.
    Buffered,
}

impl AuditMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditMode::Durable => "durable",
            AuditMode::Buffered => "buffered",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// The default for every connection.
    #[serde(default)]
    pub mode: AuditMode,
    /// Flush the audit spool at every durable group, and the store's file
    /// at every commit, so records survive a power cut or an
    /// operating-system crash, not only a crash of the gateway. Off, a
    /// record is durable against the gateway process dying (kill -9, out
    /// of memory) and costs no disk flush.
    #[serde(default = "default_fsync")]
    pub fsync: bool,
    /// Rows of each result kept (masked) with its outcome.
    #[serde(default = "default_preview_rows")]
    pub preview_rows: u32,
    /// Bytes of row data kept with each outcome, at most.
    #[serde(default = "default_preview_bytes")]
    pub preview_bytes: u32,
    /// Where records go as they are written, besides the store.
    #[serde(default)]
    pub sinks: Vec<SinkConfig>,
    /// An Ed25519 private key (PKCS#8 PEM) that signs periodic checkpoints
    /// of the chain's tip. Without one, no checkpoints are written.
    #[serde(default)]
    pub signing_key: Option<PathBuf>,
    /// How often a checkpoint is signed (when records were added since).
    #[serde(
        default = "default_checkpoint_interval",
        with = "crate::config::humantime_serde"
    )]
    pub checkpoint_interval: Duration,
    /// Records older than this are pruned in the background, behind a
    /// checkpoint that anchors what remains. `None`: kept for ever.
    #[serde(default, with = "crate::config::humantime_serde_opt")]
    pub retention: Option<Duration>,
}

/// One continuous destination for audit records (`audit.sinks`).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum SinkConfig {
    /// JSON lines appended to a file, rotated by size.
    File {
        path: PathBuf,
        /// Rotate when the file would grow past this.
        #[serde(default = "default_file_max_bytes")]
        max_bytes: u64,
        /// Rotated files kept (`audit.jsonl.1` … `.N`).
        #[serde(default = "default_file_keep")]
        keep: u32,
    },
    /// Batches of records POSTed as JSON, retried until accepted.
    Webhook {
        url: String,
        /// Most records per request.
        #[serde(default = "default_webhook_batch")]
        batch: u32,
        /// Longest a record waits for its batch to fill.
        #[serde(
            default = "default_webhook_interval",
            with = "crate::config::humantime_serde"
        )]
        interval: Duration,
        /// Environment variable holding an `Authorization` header value.
        #[serde(default)]
        authorization_env: Option<String>,
        /// For `https://`: check the receiver's certificate against the
        /// CA certificates in this PEM file only (default: the system's).
        #[serde(default)]
        ca_file: Option<PathBuf>,
    },
}

fn default_checkpoint_interval() -> Duration {
    Duration::from_secs(60)
}
fn default_file_max_bytes() -> u64 {
    100 * 1024 * 1024
}
fn default_file_keep() -> u32 {
    10
}
fn default_webhook_batch() -> u32 {
    500
}
fn default_webhook_interval() -> Duration {
    Duration::from_secs(1)
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            mode: AuditMode::default(),
            fsync: default_fsync(),
            preview_rows: default_preview_rows(),
            preview_bytes: default_preview_bytes(),
            sinks: Vec::new(),
            signing_key: None,
            checkpoint_interval: default_checkpoint_interval(),
            retention: None,
        }
    }
}

fn default_fsync() -> bool {
    true
}
fn default_preview_rows() -> u32 {
    20
}
fn default_preview_bytes() -> u32 {
    64 * 1024
}

/// A connection's own `audit:` settings; unset ones follow the global
/// section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionAudit {
    #[serde(default)]
    pub mode: Option<AuditMode>,
}
