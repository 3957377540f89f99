//! Pruning records older than the retention period: an anchor first, then
//! deletion behind it in small steps with pauses between them, so that the
//! writer's batches never wait long for the store's write lock.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::time::MissedTickBehavior;

use airlock_store::{CheckpointKey, Store, StoreError};

/// The first round waits a little, so that start-up has the store to itself.
const FIRST_ROUND_AFTER: Duration = Duration::from_secs(3);
const EVERY: Duration = Duration::from_secs(60 * 60);
/// Records (or sessions) deleted per transaction.
const STEP: u32 = 5_000;
const PAUSE: Duration = Duration::from_millis(20);

pub(super) async fn run(
    store: Arc<dyn Store>,
    key: Option<Arc<CheckpointKey>>,
    keep: chrono::Duration,
) {
    tokio::time::sleep(FIRST_ROUND_AFTER).await;
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = once(&*store, key.as_deref(), keep).await {
            tracing::error!(error = %e, "could not prune the audit log; retrying in an hour");
        }
    }
}

async fn once(
    store: &dyn Store,
    key: Option<&CheckpointKey>,
    keep: chrono::Duration,
) -> Result<(), StoreError> {
    let now = Utc::now();
    let Some(cutoff) = now.checked_sub_signed(keep) else {
        return Ok(());
    };
    if let Some(anchor) = store.write_anchor(cutoff, key, now).await? {
        tracing::info!(seq = anchor.seq, %cutoff, "audit log anchored for pruning");
    }
    // Also finishes a round that an earlier stop or crash cut short.
    let mut records = 0;
    loop {
        let n = store.prune_audit(STEP).await?;
        if n == 0 {
            break;
        }
        records += n;
        tokio::time::sleep(PAUSE).await;
    }
    let mut sessions = 0;
    loop {
        let n = store.prune_sessions(cutoff, STEP).await?;
        if n == 0 {
            break;
        }
        sessions += n;
        tokio::time::sleep(PAUSE).await;
    }
    if records + sessions > 0 {
        tracing::info!(records, sessions, %cutoff, "pruned the audit log");
    }
    Ok(())
}
