//! No command reaches a target without a durable record (issue 6): the
//! ground truth is the target's own table, checked against the audit trail
//! after the gateway was killed with SIGKILL under load, and after the
//! store refused writes.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use common::Gateway;
use common::pg::{TempDb, direct};
use common::pgclient::{bounded, connect, connect_ok, db_error};

const CLIENTS: i64 = 4;
const ROUNDS: u64 = 3;

fn gateway(db: &TempDb, audit: &str) -> (Gateway, String) {
    gateway_with(db, audit, "")
}

/// With `extra` as the configuration's top-level keys.
fn gateway_with(db: &TempDb, audit: &str, extra: &str) -> (Gateway, String) {
    let app = format!(
        "  - name: app\n    type: postgres\n    target: {{ host: 127.0.0.1, port: 5432, database: {}, user: postgres, tls: disable }}\n    allow: [\"alice\"]\n{audit}",
        db.name
    );
    let gw = Gateway::start(&app, extra);
    let token = gw.identity_with_token("alice", &[]);
    (gw, token)
}

/// The ids of every `insert into kill_t values (N)` in the audit export.
fn recorded_inserts(gw: &Gateway) -> HashSet<i64> {
    let out = gw.cli_ok(&["audit", "export", "--format", "jsonl"]);
    let mut ids = HashSet::new();
    for line in out.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("export line {line:?}: {e}"));
        let Some(text) = v["command"].as_str() else {
            continue;
        };
        if let Some(rest) = text.strip_prefix("insert into kill_t values (")
            && let Some(n) = rest.strip_suffix(')')
            && let Ok(id) = n.parse()
        {
            ids.insert(id);
        }
    }
    ids
}

/// A cheap pseudo-random delay: the moment of each kill must differ from
/// round to round and run to run, without a dependency for it.
fn random_millis(lo: u64, hi: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    let mixed = nanos.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 17;
    lo + mixed % (hi - lo)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_in_the_target_has_its_insert_recorded_after_kill_9() {
    kill_9_under_load("kill9", "").await;
}

/// Without `fsync` a record is durable once written to the spool's file
/// (the operating system keeps it when the process dies), and the
/// sessions write their batches themselves, concurrently: the same ground
/// truth must hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_has_its_insert_recorded_after_kill_9_without_fsync() {
    kill_9_under_load("kill9_nofsync", "audit: { fsync: false }").await;
}

async fn kill_9_under_load(db_name: &str, extra: &str) {
    let db = TempDb::new(db_name);
    direct(&db.name, "create table kill_t (id bigint primary key)");
    let (mut gw, token) = gateway_with(&db, "", extra);
    let next_id = Arc::new(AtomicI64::new(1));
    let mut acknowledged = 0i64;
    for round in 0..ROUNDS {
        let mut clients = Vec::new();
        for _ in 0..CLIENTS {
            let client = connect_ok(&gw, "alice", "app", &token).await;
            let next_id = next_id.clone();
            clients.push(tokio::spawn(async move {
                let mut ok = 0i64;
                // Ends when the gateway dies under the client; bounded in
                // count in case it never does.
                for _ in 0..100_000 {
                    let id = next_id.fetch_add(1, Ordering::Relaxed);
                    let sql = format!("insert into kill_t values ({id})");
                    match tokio::time::timeout(Duration::from_secs(10), client.batch_execute(&sql))
                        .await
                    {
                        Ok(Ok(())) => ok += 1,
                        _ => break,
                    }
                }
                ok
            }));
        }
        let wait = random_millis(300, 1500);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        gw.stop(); // SIGKILL
        for c in clients {
            acknowledged += bounded("a client noticing the kill", 30, c)
                .await
                .unwrap_or(0);
        }
        eprintln!(
            "round {round}: killed after {wait} ms, {acknowledged} inserts acknowledged so far"
        );
        gw.spawn();
    }
    let in_table: HashSet<i64> = direct(&db.name, "select id from kill_t")
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert!(
        in_table.len() as i64 >= acknowledged,
        "the table lost acknowledged rows: {} < {acknowledged}",
        in_table.len()
    );
    assert!(acknowledged > 0, "no insert got through at all");
    let recorded = recorded_inserts(&gw);
    let unrecorded: Vec<_> = in_table.difference(&recorded).collect();
    assert!(
        unrecorded.is_empty(),
        "{} of {} rows in the table have no INSERT in the audit trail, e.g. {:?}",
        unrecorded.len(),
        in_table.len(),
        unrecorded.iter().take(5).collect::<Vec<_>>()
    );
    let verify = gw.cli(&["audit", "verify"]);
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success() && said.starts_with("ok"),
        "audit verify after {ROUNDS} kills: {said}{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    eprintln!(
        "{} rows in the table, {} inserts recorded, {said}",
        in_table.len(),
        recorded.len()
    );
}

/// Holds SQLite's write lock on the gateway's store from another process
/// until dropped: to the gateway, a store that cannot commit.
struct StoreLock {
    child: std::process::Child,
}

impl StoreLock {
    fn take(gw: &Gateway) -> StoreLock {
        let db = gw.data_dir().join("airlock.db");
        assert!(db.exists(), "no store at {}", db.display());
        let script = "import sqlite3, sys\n\
            c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)\n\
            c.execute('BEGIN EXCLUSIVE')\n\
            print('locked', flush=True)\n\
            sys.stdin.read()\n";
        let mut child = Command::new("python3")
            .args(["-c", script])
            .arg(&db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 to hold the store's lock");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("lock holder's answer");
        assert_eq!(line.trim(), "locked");
        StoreLock { child }
    }
}

impl Drop for StoreLock {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(b"");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_commit_stops_commands_until_it_can() {
    let db = TempDb::new("storedown");
    direct(&db.name, "create table down_t (id int)");
    let (gw, token) = gateway(&db, "");
    let client = connect_ok(&gw, "alice", "app", &token).await;
    client
        .batch_execute("insert into down_t values (1)")
        .await
        .expect("insert while the store works");

    let lock = StoreLock::take(&gw);
    // The spool still makes records durable, so commands may run until the
    // writer learns that the store cannot commit (after SQLite's busy
    // timeout). From then on they must not reach the target, and the
    // client must be told why.
    let mut spooled = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let refused = loop {
        let n = 100 + spooled.len() as i64;
        let sql = format!("insert into down_t values ({n})");
        match bounded(
            "an insert while the store is locked",
            30,
            client.batch_execute(&sql),
        )
        .await
        {
            Ok(()) => spooled.push(n),
            Err(err) => {
                let (code, message) = db_error(&err);
                assert_eq!(code, "58000", "{message}");
                assert!(message.contains("cannot record"), "{message}");
                break n;
            }
        }
        assert!(
            Instant::now() < deadline,
            "inserts kept running with the store locked: {}",
            gw.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        direct(
            &db.name,
            &format!("select count(*) from down_t where id = {refused}")
        ),
        "0"
    );
    // New sessions are refused while the store is failing.
    match connect(&gw, "alice", "app", &token).await {
        Ok(_) => panic!("a session started while its start could not be recorded"),
        Err(e) => assert_eq!(db_error(&e).0, "58000"),
    }
    assert!(gw.wait_for_log("store write batch failed"), "{}", gw.logs());

    drop(lock);
    // The writer retries on its own; once it has caught up, commands run
    // and are recorded again.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((c, _task)) = connect(&gw, "alice", "app", &token).await
            && c.batch_execute("insert into down_t values (3)")
                .await
                .is_ok()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the gateway did not recover after the store came back: {}",
            gw.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut expected = vec!["1".to_string(), "3".to_string()];
    expected.extend(spooled.iter().map(i64::to_string));
    expected.sort_by_key(|n| n.parse::<i64>().unwrap_or_default());
    assert_eq!(
        direct(
            &db.name,
            "select string_agg(id::text, ',' order by id) from down_t"
        ),
        expected.join(",")
    );
    // Every insert that ran while the store was locked reached the store
    // from the spool, and the refused one is on the record too, as not
    // forwarded.
    let out = gw.cli_ok(&["audit", "export", "--format", "jsonl"]);
    let events: Vec<serde_json::Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .collect();
    for n in &spooled {
        let text = format!("insert into down_t values ({n})");
        let event = events
            .iter()
            .find(|v| v["command"] == text.as_str())
            .unwrap_or_else(|| panic!("{text} ran but is not recorded:\n{out}"));
        assert!(event["outcome"]["error"].is_null(), "{event}");
    }
    let refused_text = format!("insert into down_t values ({refused})");
    let refused = events
        .iter()
        .find(|v| v["command"] == refused_text.as_str())
        .unwrap_or_else(|| panic!("the refused insert is not recorded:\n{out}"));
    // Refused by the guard once the writer reported the store down, or
    // (had its commit failed) ended with the session before forwarding.
    let error = refused["outcome"]["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("not forwarded") || error.starts_with("58000: the gateway cannot record"),
        "{refused}"
    );
    let verify = gw.cli(&["audit", "verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_connections_forward_without_waiting_and_still_record() {
    let db = TempDb::new("buffered");
    direct(&db.name, "create table buf_t (id int)");
    let (gw, token) = gateway(&db, "    audit: { mode: buffered }\n");
    let client = connect_ok(&gw, "alice", "app", &token).await;
    let lock = StoreLock::take(&gw);
    // Buffered: the insert runs although its record cannot be committed
    // yet; it lands once the store is back.
    bounded(
        "an insert on a buffered connection while the store is locked",
        10,
        client.batch_execute("insert into buf_t values (7)"),
    )
    .await
    .expect("buffered insert");
    assert_eq!(direct(&db.name, "select count(*) from buf_t"), "1");
    drop(lock);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !recorded_text(&gw, "insert into buf_t values (7)") {
        assert!(Instant::now() < deadline, "never recorded: {}", gw.logs());
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn recorded_text(gw: &Gateway, text: &str) -> bool {
    gw.cli_ok(&["audit", "export", "--format", "jsonl"])
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .any(|v| v["command"] == text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_carry_a_masked_preview_and_parameters_are_recorded_masked() {
    let db = TempDb::new("preview");
    let (gw, token) = gateway(&db, "");
    let client = connect_ok(&gw, "alice", "app", &token).await;
    client
        .batch_execute("select 'bob@example.com' as email, n from generate_series(1, 30) n")
        .await
        .expect("simple query");
    let rows = client
        .query(
            "select $1::text as who, 7 as seven",
            &[&"carol@example.com"],
        )
        .await
        .expect("extended query");
    assert_eq!(rows.len(), 1);

    let (_, simple) = common::record::wait_for_event(&gw, "generate_series(1, 30)");
    let preview = &simple["preview"];
    assert_eq!(
        preview["columns"],
        serde_json::json!(["email", "n"]),
        "{simple}"
    );
    let kept = preview["rows"].as_array().map_or(0, Vec::len);
    assert_eq!(kept, 20, "the default keeps 20 rows: {preview}");
    assert_eq!(preview["truncated"], true);
    assert_eq!(
        preview["rows"][0],
        serde_json::json!(["<masked:email>", "1"])
    );
    assert_eq!(simple["rows"], 30);

    let (_, extended) = common::record::wait_for_event(&gw, "select $1::text as who");
    assert_eq!(
        extended["params"],
        serde_json::json!(["<masked:email>"]),
        "{extended}"
    );
    assert_eq!(
        extended["preview"]["rows"],
        // tokio-postgres asks for binary results: the int4 is its bytes.
        serde_json::json!([["<masked:email>", "\\x00000007"]]),
        "{extended}"
    );
    let log = gw.logs();
    for secret in ["bob@example.com", "carol@example.com"] {
        let export = gw.cli_ok(&["audit", "export", "--format", "jsonl"]);
        assert!(!export.contains(secret), "{secret} is in the audit export");
        assert!(!log.contains(secret), "{secret} is in the gateway log");
    }
}
