//! Pruning records older than the retention period: an anchor first, then
//! deletion behind it in small steps with pauses between them, so that the
//! writer's batches never wait long for the store's write lock.
//!
//! Nothing a configured sink has not delivered is pruned, however old:
//! the sinks' promise is that the destination gets every record, and a
//! receiver that is down for longer than the retention period must not
//! turn into lost records. The log grows instead, and each round says
//! which sink holds it back.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use tokio::time::MissedTickBehavior;

use airlock_store::{CheckpointKey, Store, StoreError};

/// The first round waits a little, so that start-up has the store to itself.
const FIRST_ROUND_AFTER: Duration = Duration::from_secs(3);
const EVERY: Duration = Duration::from_secs(60 * 60);
/// Records (or sessions) deleted per transaction.
const STEP: u32 = 5_000;
const PAUSE: Duration = Duration::from_millis(20);
/// While a sink holds pruning back, how often its cursor is looked at, so
/// that what it held is pruned soon after it catches up rather than up to
/// an hour later. One indexed read per sink: the sinks themselves poll the
/// log every 200 ms.
const HELD_POLL: Duration = Duration::from_secs(2);

/// A sink of `audit.sinks`, as retention waits for it.
#[derive(Debug, Clone)]
pub(super) struct Sink {
    /// The name its cursor is stored under; `None` when it cannot be
    /// worked out here, and then the sink counts as having delivered
    /// nothing: holding too much back beats pruning what it never got.
    pub cursor: Option<String>,
    /// How logs name it.
    pub shown: String,
}

pub(super) async fn run(
    store: Arc<dyn Store>,
    key: Option<Arc<CheckpointKey>>,
    keep: chrono::Duration,
    sinks: Vec<Sink>,
) {
    tokio::time::sleep(FIRST_ROUND_AFTER).await;
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // The interval's first tick is immediate: the first round is now.
    ticks.tick().await;
    loop {
        match once(&*store, key.as_deref(), keep, &sinks).await {
            Ok(None) => {
                ticks.tick().await;
            }
            Ok(Some(due)) => {
                tokio::select! {
                    _ = ticks.tick() => {}
                    () = caught_up(&*store, &sinks, due) => {}
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "could not prune the audit log; retrying in an hour");
                ticks.tick().await;
            }
        }
    }
}

/// One round. `Some(seq)` when sinks held pruning back: the seq up to which
/// records were old enough to go.
async fn once(
    store: &dyn Store,
    key: Option<&CheckpointKey>,
    keep: chrono::Duration,
    sinks: &[Sink],
) -> Result<Option<i64>, StoreError> {
    let now = Utc::now();
    let Some(cutoff) = now.checked_sub_signed(keep) else {
        return Ok(None);
    };
    let cursors = cursors(store, sinks).await?;
    // The seq below which every sink has delivered: nothing above it goes.
    let up_to = cursors
        .iter()
        .map(|(_, seq)| *seq)
        .min()
        .unwrap_or(i64::MAX);
    let anchoring = store.write_anchor(cutoff, up_to, key, now).await?;
    if let Some(anchor) = &anchoring.anchor {
        tracing::info!(seq = anchor.seq, %cutoff, "audit log anchored for pruning");
    }
    let held = anchoring.old_enough > up_to;
    if held {
        warn_held(store, &cursors, anchoring.old_enough, now).await;
    }
    // Also finishes a round that an earlier stop or crash cut short.
    let mut records = 0;
    loop {
        let n = store.prune_audit(up_to, STEP).await?;
        if n == 0 {
            break;
        }
        records += n;
        tokio::time::sleep(PAUSE).await;
    }
    // Session summaries are not what sinks ship (they ship the chain's
    // records), so they go by age alone.
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
    Ok(held.then_some(anchoring.old_enough))
}

/// Each sink with the seq of the last record it delivered.
async fn cursors<'s>(
    store: &dyn Store,
    sinks: &'s [Sink],
) -> Result<Vec<(&'s Sink, i64)>, StoreError> {
    let mut out = Vec::with_capacity(sinks.len());
    for sink in sinks {
        let seq = match &sink.cursor {
            Some(name) => store.sink_cursor(name).await?,
            None => 0,
        };
        out.push((sink, seq));
    }
    Ok(out)
}

/// Once per round, so that an operator sees why the log keeps growing:
/// which sinks hold records back, how many, and since when.
async fn warn_held(store: &dyn Store, cursors: &[(&Sink, i64)], due: i64, now: DateTime<Utc>) {
    let Some(lowest) = cursors.iter().map(|(_, seq)| *seq).min() else {
        return;
    };
    // The first record the furthest-behind sink has not delivered: its age
    // is how long the log has been held, and its seq is where the log
    // starts for counting (a sink added after pruning has a cursor below
    // the first record left).
    let first = match store.audit_records_after(lowest, 1).await {
        Ok(records) => records.into_iter().next(),
        Err(e) => {
            tracing::debug!(error = %e, "could not read the first undelivered audit record");
            None
        }
    };
    let start = first.as_ref().map_or(lowest, |r| r.seq - 1);
    let mut worst = 0;
    let mut holding = Vec::new();
    for (sink, seq) in cursors {
        let held = due - (*seq).max(start);
        if held <= 0 {
            continue;
        }
        worst = worst.max(held);
        holding.push(match sink.cursor {
            Some(_) => format!("{} ({held} records)", sink.shown),
            None => format!(
                "{} (its progress is not known to retention: counted as nothing delivered)",
                sink.shown
            ),
        });
    }
    let oldest = first.as_ref().map(|r| r.at);
    let held_for = oldest
        .and_then(|at| (now - at).to_std().ok())
        .map(|d| humantime::format_duration(Duration::from_secs(d.as_secs())).to_string());
    let oldest = oldest.map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true));
    tracing::warn!(
        sinks = %holding.join(", "),
        records = worst,
        oldest_undelivered = %oldest.as_deref().unwrap_or("unknown"),
        held_for = %held_for.as_deref().unwrap_or("unknown"),
        "audit retention held back: records older than the retention period are kept \
         until every sink has delivered them"
    );
}

/// Returns once every sink has delivered up to `due`; until then looks
/// every `HELD_POLL`. A store that does not answer is asked again.
async fn caught_up(store: &dyn Store, sinks: &[Sink], due: i64) {
    loop {
        tokio::time::sleep(HELD_POLL).await;
        match cursors(store, sinks).await {
            Ok(cursors) if cursors.iter().all(|(_, seq)| *seq >= due) => return,
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "could not read the audit sink cursors"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock_store::{SessionStart, SqliteStore, WriteOp};

    const KEEP: chrono::Duration = chrono::Duration::days(30);

    /// Seq 1-3 from 2023, seq 4 from now.
    async fn store() -> SqliteStore {
        let store = SqliteStore::open_in_memory().await.expect("store");
        let old = DateTime::from_timestamp_millis(1_700_000_000_000).expect("time");
        for (n, at) in [(1, old), (2, old), (3, old), (4, Utc::now())] {
            let op = WriteOp::SessionStart(SessionStart {
                id: format!("s{n}"),
                identity: "alice".into(),
                connection: "app".into(),
                protocol: "postgres".into(),
                client_addr: "127.0.0.1:5555".into(),
                started_at: at,
            });
            store.write_batch(&[op]).await.expect("write");
        }
        store
    }

    async fn first_seq(store: &SqliteStore) -> i64 {
        let records = store.audit_records_after(0, 1).await.expect("read");
        records.first().map_or(0, |r| r.seq)
    }

    fn sink(name: &str) -> Sink {
        Sink {
            cursor: Some(name.into()),
            shown: name.into(),
        }
    }

    #[tokio::test]
    async fn only_configured_sinks_hold_pruning_back() {
        let store = store().await;
        // A sink removed from the configuration left its cursor behind.
        store
            .set_sink_cursor("webhook:http://gone/", 0)
            .await
            .expect("set");
        store
            .set_sink_cursor("webhook:http://here/", 1)
            .await
            .expect("set");
        let sinks = [sink("webhook:http://here/")];

        let held = once(&store, None, KEEP, &sinks).await.expect("round");
        assert_eq!(held, Some(3), "1-3 are old; the sink has 1");
        assert_eq!(first_seq(&store).await, 2);

        store
            .set_sink_cursor("webhook:http://here/", 4)
            .await
            .expect("set");
        let held = once(&store, None, KEEP, &sinks).await.expect("round");
        assert_eq!(held, None);
        assert_eq!(first_seq(&store).await, 4, "1-3 pruned");
    }

    #[tokio::test]
    async fn a_new_sink_or_one_of_unknown_progress_holds_everything() {
        let store = store().await;
        let unknown = Sink {
            cursor: None,
            shown: "file sink audit.jsonl".into(),
        };
        for sinks in [vec![sink("webhook:http://new/")], vec![unknown]] {
            let held = once(&store, None, KEEP, &sinks).await.expect("round");
            assert_eq!(held, Some(3));
            assert_eq!(first_seq(&store).await, 1, "nothing pruned");
        }
        // Without sinks, age alone decides.
        assert_eq!(once(&store, None, KEEP, &[]).await.expect("round"), None);
        assert_eq!(first_seq(&store).await, 4);
    }
}
