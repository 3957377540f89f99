//! The audit chain's background upkeep in `serve`: signed checkpoints of
//! its tip and, with a retention period, pruning behind an anchor, never
//! past what a sink has yet to deliver (docs/audit.md, "Checkpoints" and
//! "Retention"). Neither is on the data path: a failure is logged and
//! retried at the next round.

mod checkpoints;
mod retention;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::task::JoinHandle;

use airlock_core::audit::{AuditConfig, SinkConfig};
use airlock_store::{CheckpointKey, Store};

/// How long the last checkpoint at shutdown may take.
const LAST_CHECKPOINT_WITHIN: Duration = Duration::from_secs(5);

pub struct AuditUpkeep {
    store: Arc<dyn Store>,
    key: Option<Arc<CheckpointKey>>,
    tasks: Vec<JoinHandle<()>>,
}

impl AuditUpkeep {
    /// Loads the signing key and starts what the configuration asks for.
    /// A key that cannot be read, or a period of zero, is a start-up error.
    pub fn start(audit: &AuditConfig, store: Arc<dyn Store>) -> anyhow::Result<AuditUpkeep> {
        let key = match &audit.signing_key {
            Some(path) => Some(Arc::new(crate::signing_key::load(path)?)),
            None => None,
        };
        let mut tasks = Vec::new();
        if let Some(key) = &key {
            if audit.checkpoint_interval.is_zero() {
                bail!("audit.checkpoint_interval must be longer than zero");
            }
            tracing::info!(
                public_key = %key.public_key(),
                every = ?audit.checkpoint_interval,
                "signing audit checkpoints"
            );
            tasks.push(tokio::spawn(checkpoints::run(
                store.clone(),
                key.clone(),
                audit.checkpoint_interval,
            )));
        }
        if let Some(retention) = audit.retention {
            let keep = chrono::Duration::from_std(retention)
                .ok()
                .filter(|d| *d > chrono::Duration::zero())
                .context(
                    "audit.retention must be longer than zero and shorter than 100 000 years",
                )?;
            tasks.push(tokio::spawn(retention::run(
                store.clone(),
                key.clone(),
                keep,
                sinks(&audit.sinks),
            )));
        }
        Ok(AuditUpkeep { store, key, tasks })
    }

    /// Stops the tasks, then signs a last checkpoint so that the records of
    /// the final moments are covered too. Call it once the writer has
    /// flushed.
    pub async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some(key) = &self.key {
            let last = checkpoints::once(&*self.store, key);
            if tokio::time::timeout(LAST_CHECKPOINT_WITHIN, last)
                .await
                .is_err()
            {
                tracing::warn!("no last audit checkpoint: the store did not answer in time");
            }
        }
    }
}

/// The configured sinks, under the names `sinks` stores their cursors by.
/// A sink dropped from the configuration is not here, so its cursor,
/// left behind in the store, no longer holds pruning back.
fn sinks(configs: &[SinkConfig]) -> Vec<retention::Sink> {
    configs
        .iter()
        .map(|config| match crate::sinks::name(config) {
            Ok(name) => retention::Sink {
                shown: name.clone(),
                cursor: Some(name),
            },
            Err(e) => {
                // `Sinks::start` named the same configuration before this
                // runs, so this cannot fail; if it did, holding back is safe.
                // Not named in full: a webhook URL may hold a key.
                tracing::warn!(error = %e, "retention cannot tell how far an audit sink \
                    has got; it holds back pruning until a restart");
                retention::Sink {
                    cursor: None,
                    shown: "an audit sink".into(),
                }
            }
        })
        .collect()
}
