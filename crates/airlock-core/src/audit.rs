//! How commands are recorded: the `audit:` section of the configuration
//! and its per-connection override (docs/audit.md).

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
    /// Flush the store's file to disk at every commit, so records survive
    /// a power cut or an operating-system crash, not only a crash of the
    /// gateway. Off, a commit is durable against the gateway process dying
    /// (kill -9, out of memory) and costs no disk flush.
    #[serde(default = "default_fsync")]
    pub fsync: bool,
    /// Rows of each result kept (masked) with its outcome.
    #[serde(default = "default_preview_rows")]
    pub preview_rows: u32,
    /// Bytes of row data kept with each outcome, at most.
    #[serde(default = "default_preview_bytes")]
    pub preview_bytes: u32,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            mode: AuditMode::default(),
            fsync: default_fsync(),
            preview_rows: default_preview_rows(),
            preview_bytes: default_preview_bytes(),
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
