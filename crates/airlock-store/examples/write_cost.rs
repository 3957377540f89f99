//! What one audit record costs the store: writes command + outcome pairs
//! from 8 sessions in batches, as the gateway's filler does, and prints
//! wall and CPU time per record.
//!
//!   [PAIRED=1] [FSYNC=true] cargo run --release -p airlock-store --example write_cost [COMMANDS] [BATCH]
//!
//! `PAIRED=1` writes each command and its outcome as one record, as the
//! writer's filler does when both are in the same batch. SQLite allocates
//! from mimalloc, as in the gateway, unless `SQLITE_ALLOC=default`.

use std::sync::Arc;
use std::time::Instant;

use airlock_store::{
    CommandRecord, FinishedCommand, OutcomeRecord, Preview, SessionStart, SqliteStore, Store,
    WriteOp,
};
use chrono::Utc;

// As the gateway allocates.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(") ").next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // As the gateway starts; `SQLITE_ALLOC=default` measures without it.
    if std::env::var("SQLITE_ALLOC").as_deref() != Ok("default") {
        airlock_store::sqlite_alloc::install().map_err(|rc| format!("sqlite3_config: {rc}"))?;
    }
    let mut args = std::env::args().skip(1);
    let pairs: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let batch: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(200);
    // As the writer's filler pairs them when both are in one batch.
    let paired = std::env::var("PAIRED").is_ok_and(|v| v == "1");
    let fsync = std::env::var("FSYNC").map(|v| v == "true").unwrap_or(false);
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open_with(&dir.path().join("airlock.db"), fsync).await?;
    let sessions: Vec<String> = (0..8)
        .map(|i| format!("0193a5f0-0000-7000-8000-00000000000{i}"))
        .collect();
    let start: Vec<WriteOp> = sessions
        .iter()
        .map(|s| {
            WriteOp::SessionStart(SessionStart {
                id: s.clone(),
                identity: "bench".into(),
                connection: "airlock_bench".into(),
                protocol: "postgres".into(),
                client_addr: "127.0.0.1:40000".into(),
                started_at: Utc::now(),
            })
        })
        .collect();
    store.write_batch(&start).await?;
    // As a session shares its own among its records.
    let shared: Vec<Arc<str>> = sessions.iter().map(|s| Arc::from(s.as_str())).collect();
    let (identity, connection): (Arc<str>, Arc<str>) = ("bench".into(), "airlock_bench".into());
    let mut ops = Vec::with_capacity(batch);
    let (t0, c0) = (Instant::now(), cpu_seconds());
    for n in 0..pairs {
        let session = &sessions[n % 8];
        // Named as the gateway names commands.
        let id = format!("{session}-{n:08}");
        let now = Utc::now();
        let command = CommandRecord {
            id: id.clone(),
            session_id: shared[n % 8].clone(),
            identity: identity.clone(),
            connection: connection.clone(),
            at: now,
            command: format!(
                "SELECT abalance FROM pgbench_accounts WHERE aid = {};",
                n * 7 % 1_000_000
            )
            .into(),
            params: Default::default(),
            verdict: "allow".into(),
            rules: Vec::new(),
            review: None,
        };
        let outcome = OutcomeRecord {
            event_id: id,
            session_id: shared[n % 8].clone(),
            identity: identity.clone(),
            connection: connection.clone(),
            at: now,
            duration_us: 41,
            rows: 1,
            bytes: 20,
            error: None,
            preview: Some(Preview {
                columns: vec!["abalance".into()].into(),
                rows: vec![vec![Some("0".into())]],
                truncated: false,
            }),
        };
        if paired {
            ops.push(WriteOp::Finished(Box::new(FinishedCommand {
                command,
                outcome,
                then: Vec::new(),
            })));
        } else {
            ops.push(WriteOp::Command(command));
            ops.push(WriteOp::Outcome(outcome));
        }
        if ops.len() >= batch {
            store.write_batch(&ops).await?;
            ops.clear();
        }
    }
    store.write_batch(&ops).await?;
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
    println!(
        "{pairs} commands with outcomes (paired: {paired}), batches of {batch} ops: \
         wall {:.2} us/command, cpu {:.2} us/command",
        wall * 1e6 / pairs as f64,
        cpu * 1e6 / pairs as f64
    );
    Ok(())
}
