//! Continuous audit sinks (`audit.sinks`, docs/audit.md "Sinks"): one
//! task per sink follows the audit chain in the store and ships each
//! record, at least once, to a file or a webhook.
//!
//! Sinks are read from the configuration at start only; a reload does
//! not add, drop or change them.

mod file;
mod follow;
// Also the HTTP client of review notifications and of the CLI's API calls.
pub(crate) mod http;
mod tls;
pub(crate) mod webhook;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use airlock_core::audit::SinkConfig;
use airlock_store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use follow::Batching;

/// Records a file sink writes per batch (one write and one flush): large
/// enough to catch up quickly, small enough to bound memory when records
/// carry result previews.
const FILE_BATCH: u32 = 256;

/// The running sinks.
pub struct Sinks {
    stop: watch::Sender<bool>,
    tasks: Vec<(String, JoinHandle<()>)>,
}

enum Prepared {
    File(file::FileSink),
    Webhook(webhook::WebhookSink, Batching),
}

impl Sinks {
    /// Checks every sink's configuration, then starts them all; nothing
    /// starts when one of them is wrong.
    pub fn start(configs: &[SinkConfig], store: Arc<dyn Store>) -> anyhow::Result<Sinks> {
        let mut prepared = Vec::with_capacity(configs.len());
        let mut names = HashSet::new();
        for (i, config) in configs.iter().enumerate() {
            let (name, sink) =
                prepare(config).map_err(|e| anyhow::anyhow!("audit.sinks[{i}]: {e:#}"))?;
            if !names.insert(name.clone()) {
                anyhow::bail!("audit.sinks[{i}]: {name} is configured twice");
            }
            prepared.push((name, sink));
        }
        let (stop, stop_rx) = watch::channel(false);
        let tasks = prepared
            .into_iter()
            .map(|(name, sink)| {
                let (store, stop_rx) = (store.clone(), stop_rx.clone());
                let task = match sink {
                    Prepared::File(sink) => {
                        let batching = Batching {
                            max: FILE_BATCH,
                            linger: Duration::ZERO,
                        };
                        tokio::spawn(follow::run(name.clone(), store, sink, batching, stop_rx))
                    }
                    Prepared::Webhook(sink, batching) => {
                        tokio::spawn(follow::run(name.clone(), store, sink, batching, stop_rx))
                    }
                };
                (name, task)
            })
            .collect();
        Ok(Sinks { stop, tasks })
    }

    /// Asks every sink to send what it has and stop; one still busy after
    /// `grace` (a receiver that does not answer) is abandoned. What it had
    /// not delivered goes at the next start.
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        for (name, mut task) in self.tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                tracing::warn!(sink = %name, "audit sink did not stop in time; \
                    its undelivered records go at the next start");
                task.abort();
            }
        }
    }
}

/// The name a sink's cursor is stored under (also its name in logs),
/// from its configuration alone: no file is opened, no certificate read.
pub(crate) fn name(config: &SinkConfig) -> anyhow::Result<String> {
    match config {
        SinkConfig::File { path, .. } => {
            // The name must not depend on how the config's path was typed
            // (a changed name means a new cursor, and the whole log sent
            // again): absolute, without the `.` that resolving
            // `./audit.jsonl` leaves in the middle.
            let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            let path: std::path::PathBuf = path.components().collect();
            Ok(format!("file:{}", path.display()))
        }
        SinkConfig::Webhook { url, ca_file, .. } => {
            webhook::Target::name_of(url, ca_file.as_deref())
        }
    }
}

fn prepare(config: &SinkConfig) -> anyhow::Result<(String, Prepared)> {
    match config {
        SinkConfig::File {
            path,
            max_bytes,
            keep,
        } => {
            let sink = file::FileSink::new(path, *max_bytes, *keep)?;
            Ok((name(config)?, Prepared::File(sink)))
        }
        SinkConfig::Webhook {
            url,
            batch,
            interval,
            authorization_env,
            ca_file,
        } => {
            if *batch == 0 {
                anyhow::bail!("batch must be at least 1");
            }
            let target = webhook::Target::parse(url, ca_file.as_deref())?;
            let name = target.name.clone();
            let sink = webhook::WebhookSink::new(target, authorization_env.as_deref())?;
            let batching = Batching {
                max: *batch,
                linger: *interval,
            };
            Ok((name, Prepared::Webhook(sink, batching)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_configuration_alone() {
        let file = SinkConfig::File {
            path: "/var/log/./airlock/audit.jsonl".into(),
            max_bytes: 1,
            keep: 1,
        };
        // No such directory: naming opens nothing.
        assert_eq!(
            name(&file).expect("named"),
            "file:/var/log/airlock/audit.jsonl"
        );
        let hook = SinkConfig::Webhook {
            url: "https://siem.example/in?key=secret".into(),
            batch: 1,
            interval: Duration::from_secs(1),
            authorization_env: None,
            ca_file: Some("/nonexistent/ca.pem".into()),
        };
        // The CA file is not read either.
        assert_eq!(
            name(&hook).expect("named"),
            "webhook:https://siem.example/in"
        );
    }
}
