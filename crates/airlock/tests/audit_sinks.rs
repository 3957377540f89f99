//! Audit sinks (`audit.sinks`): records reach a file or a webhook as they
//! are written, complete and in order, whatever the destination does, and
//! without the data path ever waiting for it. The ground truth is the
//! chain in the gateway's store, read back through `airlock-store`.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use airlock_store::{AuditRecordLine, SqliteStore, Store};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;

use common::Gateway;
use common::pg::TempDb;
use common::pgclient::{bounded, connect_ok};

const AUTH_ENV: &str = "AIRLOCK_TEST_SINK_AUTH";
const AUTH: &str = "Bearer sink-s3cret-value";

fn app(db: &TempDb) -> String {
    format!(
        "  - name: app\n    type: postgres\n    target: {{ host: 127.0.0.1, port: 5432, database: {}, user: postgres, tls: disable }}\n    allow: [\"alice\"]\n",
        db.name
    )
}

fn file_sink(path: &str, extra: &str) -> String {
    format!("    - type: file\n      path: {path}\n{extra}")
}

fn webhook_sink(port: u16, extra: &str) -> String {
    format!(
        "    - type: webhook\n      url: http://127.0.0.1:{port}/ingest?key=in-the-query\n{extra}"
    )
}

/// A gateway whose `audit.sinks` holds `sinks`, and a token for alice.
fn gateway(db: &TempDb, sinks: &[String]) -> (Gateway, String) {
    let extra = format!("audit:\n  sinks:\n{}", sinks.concat());
    let gw = Gateway::start_with_env(&app(db), &extra, &[(AUTH_ENV, AUTH)]);
    let token = gw.identity_with_token("alice", &[]);
    (gw, token)
}

/// Every record of the gateway's chain.
async fn chain(gw: &Gateway) -> Vec<AuditRecordLine> {
    let store = SqliteStore::open(&gw.data_dir().join("airlock.db"))
        .await
        .expect("open the gateway's store");
    let records = store
        .audit_records_after(0, 1_000_000)
        .await
        .expect("read the chain");
    store.close().await;
    records
}

async fn cursor(gw: &Gateway, name: &str) -> i64 {
    let store = SqliteStore::open(&gw.data_dir().join("airlock.db"))
        .await
        .expect("open the gateway's store");
    let seq = store.sink_cursor(name).await.expect("read the cursor");
    store.close().await;
    seq
}

/// Runs `statements` through the gateway, each as its own simple query.
/// Runs the statements in one session, and returns once the session's
/// end is in the store: durable commands are answered from the spool, and
/// the store is filled behind them.
async fn run(gw: &Gateway, token: &str, statements: &[String]) {
    let ended =
        |records: &[AuditRecordLine]| records.iter().filter(|r| r.kind == "session.end").count();
    let before = ended(&chain(gw).await);
    let client = connect_ok(gw, "alice", "app", token).await;
    for sql in statements {
        bounded(sql, 10, client.simple_query(sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}\n{}", gw.logs()));
    }
    drop(client);
    eventually(gw, "the session's end in the store", 20, async || {
        (ended(&chain(gw).await) > before).then_some(())
    })
    .await;
}

fn selects(from: u32, to: u32) -> Vec<String> {
    (from..to).map(|n| format!("SELECT {n} AS n")).collect()
}

/// Polls `probe` every 100 ms until it yields; panics after `secs`.
async fn eventually<T>(
    gw: &Gateway,
    what: &str,
    secs: u64,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "gave up waiting for {what}\n--- gateway log ---\n{}",
            gw.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The complete lines of the files, in order (a line being written right
/// now is left out).
fn file_lines(paths: &[PathBuf]) -> Vec<Value> {
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        for line in complete.lines() {
            let v = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}: bad line {line:?}: {e}", path.display()));
            out.push(v);
        }
    }
    out
}

fn seq(v: &Value) -> i64 {
    v["seq"].as_i64().unwrap_or_else(|| panic!("no seq in {v}"))
}

/// Every record of `chain` is among `received`, with the same hash and
/// link; duplicates are allowed, as delivery is at least once.
fn assert_all_received(received: &[Value], chain: &[AuditRecordLine]) {
    let by_seq: BTreeMap<i64, &Value> = received.iter().map(|v| (seq(v), v)).collect();
    for r in chain {
        let Some(got) = by_seq.get(&r.seq) else {
            panic!(
                "seq {} ({} {}) never arrived; arrived: {:?}",
                r.seq,
                r.kind,
                r.id,
                by_seq.keys().collect::<Vec<_>>()
            );
        };
        assert_eq!(got["hash"], r.hash.as_str(), "hash of seq {}", r.seq);
        assert_eq!(
            got["prev_hash"],
            r.prev_hash.as_str(),
            "link of seq {}",
            r.seq
        );
        assert_eq!(got["kind"], r.kind.as_str(), "kind of seq {}", r.seq);
        assert_eq!(got["id"], r.id.as_str(), "id of seq {}", r.seq);
    }
}

/// Consecutive seqs, each linking to the hash of the one before.
fn assert_contiguous(lines: &[Value]) {
    for pair in lines.windows(2) {
        assert_eq!(
            seq(&pair[1]),
            seq(&pair[0]) + 1,
            "{} then {}",
            pair[0],
            pair[1]
        );
        assert_eq!(
            pair[1]["prev_hash"],
            pair[0]["hash"],
            "link at seq {}",
            seq(&pair[1])
        );
    }
}

/// An outcome record, or a command record that carries its outcome.
fn finishes_a_command(line: &Value) -> bool {
    line["kind"] == "outcome" || (line["kind"] == "command" && line["body"]["outcome"].is_object())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_sink_holds_every_record_in_order_and_linked() {
    let db = TempDb::new("sink_file");
    let (gw, token) = gateway(&db, &[file_sink("./sink/audit.jsonl", "")]);
    let statements = [
        "CREATE TABLE sunk (n int)".to_string(),
        "INSERT INTO sunk VALUES (1), (2)".to_string(),
        "SELECT n FROM sunk ORDER BY n".to_string(),
    ];
    run(&gw, &token, &statements).await;
    let path = gw.path().join("sink/audit.jsonl");
    let lines = eventually(&gw, "the commands in the file", 10, async || {
        let lines = file_lines(std::slice::from_ref(&path));
        let finished = lines.iter().filter(|v| finishes_a_command(v)).count();
        (finished >= statements.len()).then_some(lines)
    })
    .await;

    assert_eq!(
        seq(&lines[0]),
        1,
        "the sink starts at the beginning of the log"
    );
    assert_eq!(lines[0]["prev_hash"], "0".repeat(64));
    assert_contiguous(&lines);
    assert_all_received(&lines, &chain(&gw).await[..lines.len()]);
    assert_eq!(lines[0]["kind"], "session.start");
    for sql in &statements {
        let command = lines
            .iter()
            .find(|v| v["kind"] == "command" && v["body"]["command"] == sql.as_str())
            .unwrap_or_else(|| panic!("no command record for {sql}"));
        let id = command["id"].as_str().expect("id");
        // The outcome is a record of its own after the command, or inside
        // the command's record when both reached the store together.
        let outcome = lines
            .iter()
            .find(|v| v["kind"] == "outcome" && v["body"]["event_id"] == id)
            .or_else(|| command["body"]["outcome"].is_object().then_some(command))
            .unwrap_or_else(|| panic!("no outcome for {sql}"));
        assert!(seq(outcome) >= seq(command));
        assert_eq!(command["identity"], "alice");
        assert_eq!(command["connection"], "app");
        assert!(
            command["at"]
                .as_str()
                .is_some_and(|at| at.ends_with('Z') && at.len() == 24),
            "RFC 3339 with milliseconds: {}",
            command["at"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_sink_rotates_and_keeps_at_most_keep_files() {
    let db = TempDb::new("sink_rotate");
    let sink = file_sink(
        "./sink/audit.jsonl",
        "      max_bytes: 1500\n      keep: 2\n",
    );
    let (gw, token) = gateway(&db, &[sink]);
    run(&gw, &token, &selects(0, 30)).await;

    let path = gw.path().join("sink/audit.jsonl");
    let numbered = |n: u32| PathBuf::from(format!("{}.{n}", path.display()));
    let files = [numbered(2), numbered(1), path.clone()];
    let tip = chain(&gw).await.last().map(|r| r.seq).expect("records");
    let lines = eventually(&gw, "the last record in the current file", 10, async || {
        let lines = file_lines(&files);
        lines
            .last()
            .is_some_and(|last| seq(last) >= tip)
            .then_some(lines)
    })
    .await;

    assert!(
        numbered(1).exists() && numbered(2).exists(),
        "two rotated files"
    );
    assert!(!numbered(3).exists(), "never more than keep");
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        assert!(
            text.len() <= 1500 || text.lines().count() == 1,
            "{} holds {} bytes",
            file.display(),
            text.len()
        );
    }
    // Oldest first, the kept files and the current one are one stretch of
    // the log that ends at its tip; what came before was rotated away.
    assert_contiguous(&lines);
    assert!(seq(&lines[0]) > 1, "the oldest records were discarded");
    let chain = chain(&gw).await;
    let first = usize::try_from(seq(&lines[0]) - 1).expect("seq");
    assert_all_received(&lines, &chain[first..first + lines.len()]);
}

/// A webhook receiver on its own thread and runtime, so that nothing the
/// test blocks on can hold it up. Answers 500 to its first `fail_first`
/// requests.
#[derive(Clone)]
struct Inbox(Arc<Mutex<InboxState>>);

#[derive(Default)]
struct InboxState {
    fail_first: usize,
    calls: usize,
    accepted: Vec<Post>,
}

#[derive(Clone)]
struct Post {
    authorization: Option<String>,
    content_type: Option<String>,
    body: Value,
}

impl Inbox {
    fn start(fail_first: usize) -> (u16, Inbox) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let inbox = Inbox(Arc::new(Mutex::new(InboxState {
            fail_first,
            ..InboxState::default()
        })));
        let state = inbox.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("receiver runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = axum::Router::new()
                    .route("/ingest", post(ingest))
                    .with_state(state);
                let _ = axum::serve(listener, app).await;
            });
        });
        (port, inbox)
    }

    fn calls(&self) -> usize {
        self.0.lock().expect("inbox").calls
    }

    fn accepted(&self) -> Vec<Post> {
        self.0.lock().expect("inbox").accepted.clone()
    }

    fn records(&self) -> Vec<Value> {
        self.accepted()
            .iter()
            .flat_map(|p| p.body["records"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// Waits until every record of the chain as it is now has arrived.
    async fn wait_for_chain(&self, gw: &Gateway) -> Vec<Value> {
        let tip = chain(gw).await.last().map(|r| r.seq).expect("records");
        eventually(gw, "every record at the receiver", 20, async || {
            let records = self.records();
            let seqs: std::collections::HashSet<i64> = records.iter().map(seq).collect();
            (1..=tip).all(|s| seqs.contains(&s)).then_some(records)
        })
        .await
    }
}

async fn ingest(
    State(inbox): State<Inbox>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let mut state = inbox.0.lock().expect("inbox");
    state.calls += 1;
    if state.calls <= state.fail_first {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.accepted.push(Post {
        authorization: header("authorization"),
        content_type: header("content-type"),
        body,
    });
    StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_gets_batches_with_the_authorization_header() {
    let db = TempDb::new("sink_webhook");
    let (port, inbox) = Inbox::start(0);
    let sink = webhook_sink(
        port,
        &format!("      batch: 5\n      interval: 300ms\n      authorization_env: {AUTH_ENV}\n"),
    );
    let (gw, token) = gateway(&db, &[sink]);
    run(&gw, &token, &selects(0, 8)).await;
    let records = inbox.wait_for_chain(&gw).await;

    assert_all_received(&records, &chain(&gw).await);
    let posts = inbox.accepted();
    for post in &posts {
        assert_eq!(post.authorization.as_deref(), Some(AUTH));
        assert_eq!(post.content_type.as_deref(), Some("application/json"));
        assert_eq!(post.body["source"], "airlock");
        let n = post.body["records"].as_array().map_or(0, Vec::len);
        assert!((1..=5).contains(&n), "a batch of {n} records");
    }
    assert!(
        posts
            .iter()
            .any(|p| p.body["records"].as_array().map_or(0, Vec::len) > 1),
        "records written together travel together"
    );
    let logs = gw.logs();
    assert!(
        logs.contains("webhook:http://127.0.0.1"),
        "the sink is named in the log"
    );
    assert!(
        !logs.contains("s3cret"),
        "the Authorization value stays out of the log"
    );
    assert!(
        !logs.contains("in-the-query"),
        "the URL's query stays out of the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_webhook_delays_no_query_and_loses_no_record() {
    let db = TempDb::new("sink_failing");
    let (port, inbox) = Inbox::start(4);
    let sink = webhook_sink(port, "      batch: 50\n      interval: 100ms\n");
    let (gw, token) = gateway(&db, &[sink]);
    let client = connect_ok(&gw, "alice", "app", &token).await;
    // While the receiver refuses (backoff 250 ms, 500 ms, 1 s, 2 s), the
    // gateway answers as usual.
    let started = Instant::now();
    for sql in selects(0, 20) {
        bounded(&sql, 10, client.simple_query(&sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "20 queries while the receiver failed: {:?}; receiver calls so far: {}",
        started.elapsed(),
        inbox.calls()
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let records = inbox.wait_for_chain(&gw).await;

    assert_all_received(&records, &chain(&gw).await);
    assert!(inbox.calls() > 4, "the refused batches were sent again");
    assert!(gw.logs().contains("audit sink delivery failed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_webhook_delays_nothing_on_the_data_path() {
    let db = TempDb::new("sink_dead");
    let nobody = common::free_port();
    let (gw, token) = gateway(&db, &[webhook_sink(nobody, "      batch: 10\n")]);
    let started = Instant::now();
    run(&gw, &token, &selects(0, 20)).await;
    run(&gw, &token, &selects(20, 40)).await;
    eprintln!(
        "two sessions of 20 queries with a dead webhook: {:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(gw.wait_for_log("audit sink delivery failed"));
    let commands = chain(&gw)
        .await
        .iter()
        .filter(|r| r.kind == "command")
        .count();
    assert_eq!(commands, 40, "the store recorded every command");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sinks_resume_from_their_cursor_after_a_crash_and_a_stop() {
    let db = TempDb::new("sink_restart");
    let (port, inbox) = Inbox::start(0);
    let sinks = [
        file_sink("./sink/audit.jsonl", ""),
        webhook_sink(port, "      batch: 20\n      interval: 100ms\n"),
    ];
    let (mut gw, token) = gateway(&db, &sinks);
    let path = gw.path().join("sink/audit.jsonl");
    let file_name = format!("file:{}", path.display());
    run(&gw, &token, &selects(0, 5)).await;
    let tip = chain(&gw).await.last().map(|r| r.seq).expect("records");
    eventually(&gw, "the file sink's cursor at the tip", 10, async || {
        (cursor(&gw, &file_name).await >= tip).then_some(())
    })
    .await;
    inbox.wait_for_chain(&gw).await;
    // The receiver has the records before the sink saves its cursor; the
    // crash below must come after that save, or the resend is expected.
    let webhook_name = format!("webhook:http://127.0.0.1:{port}/ingest");
    eventually(&gw, "the webhook's cursor at the tip", 10, async || {
        (cursor(&gw, &webhook_name).await >= tip).then_some(())
    })
    .await;
    let posts_before = inbox.accepted().len();

    // A crash: nothing is flushed or sent on the way out.
    gw.stop();
    gw.spawn();
    run(&gw, &token, &selects(5, 10)).await;
    let records = inbox.wait_for_chain(&gw).await;
    let after_crash = chain(&gw).await;
    let tip = after_crash.last().map(|r| r.seq).expect("records");
    let lines = eventually(&gw, "the file to reach the tip", 10, async || {
        let lines = file_lines(std::slice::from_ref(&path));
        lines.last().is_some_and(|l| seq(l) >= tip).then_some(lines)
    })
    .await;
    // The cursor was saved before the crash, so nothing is written twice.
    assert_contiguous(&lines);
    assert_eq!(seq(&lines[0]), 1);
    assert_all_received(&lines, &after_crash);
    assert_all_received(&records, &after_crash);
    let resent_from_start = inbox.accepted()[posts_before..]
        .iter()
        .flat_map(|p| p.body["records"].as_array().cloned().unwrap_or_default())
        .any(|r| seq(&r) == 1);
    assert!(!resent_from_start, "the webhook resumed from its cursor");

    // A stop: the sinks send what the last flush committed before exiting.
    let pid = gw.pid().expect("running");
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    assert!(gw.wait_for_log("audit sink stopped"), "{}", gw.logs());
    gw.stop();
    let at_stop = chain(&gw).await;
    let tip = at_stop.last().map(|r| r.seq).expect("records");
    assert_eq!(cursor(&gw, &file_name).await, tip, "{}", gw.logs());
    let lines = file_lines(std::slice::from_ref(&path));
    assert_contiguous(&lines);
    assert_all_received(&lines, &at_stop);

    gw.spawn();
    run(&gw, &token, &selects(10, 12)).await;
    let records = inbox.wait_for_chain(&gw).await;
    assert_all_received(&records, &chain(&gw).await);
}
