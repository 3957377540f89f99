//! Signing the chain's tip every `checkpoint_interval`, when records were
//! added since the last checkpoint.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::MissedTickBehavior;

use airlock_store::{CheckpointKey, Store};

pub(super) async fn run(store: Arc<dyn Store>, key: Arc<CheckpointKey>, every: Duration) {
    // The first tick is immediate: records left unsigned by a crash are
    // covered as soon as the gateway is back.
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        once(&*store, &key).await;
    }
}

pub(super) async fn once(store: &dyn Store, key: &CheckpointKey) {
    match store.write_checkpoint(key, chrono::Utc::now()).await {
        Ok(Some(c)) => tracing::debug!(
            seq = c.seq,
            record_seq = c.record_seq,
            "audit checkpoint signed"
        ),
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %e, "could not write an audit checkpoint; retrying next time")
        }
    }
}
