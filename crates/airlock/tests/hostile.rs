//! Hostile peers (issue 7, point 3): clients and targets that flood,
//! stall, hog connections or send broken messages. For each, the bad
//! connection gets a clear error and is closed, it is logged, memory stays
//! bounded, and a well-behaved client is still served.
//!
//! Oversized messages, unfinished startups and malformed client messages
//! are covered in `refusals.rs`.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::pg::TempDb;
use common::pgclient::{bounded, connect, connect_ok, db_error};
use common::raw::{self, Misbehaviour, ScriptedTarget};
use common::{Gateway, psql};

struct Setup {
    _db: TempDb,
    gw: Gateway,
    token: String,
}

/// Connection `app` to a database of the test's own for `alice` and
/// `hog`, plus `connections`, with `limits`.
fn setup(prefix: &str, connections: &str, extra: &str) -> Setup {
    let db = TempDb::new(prefix);
    let app = format!(
        "  - name: app\n    type: postgres\n    target: {{ host: 127.0.0.1, port: 5432, database: {}, user: postgres, tls: disable }}\n    allow: [\"alice\", \"hog\"]\n",
        db.name
    );
    let gw = Gateway::start(&format!("{app}{connections}"), extra);
    let token = gw.identity_with_token("alice", &[]);
    Setup { _db: db, gw, token }
}

impl Setup {
    /// A well-behaved client gets an answer (a hang fails the test).
    async fn still_serves(&self) {
        let client = connect_ok(&self.gw, "alice", "app", &self.token).await;
        let row = bounded(
            "a query from a well-behaved client",
            10,
            client.query_one("select 41 + 1", &[]),
        )
        .await
        .expect("served");
        assert_eq!(row.get::<_, i32>(0), 42);
    }

    fn logged(&self, needle: &str) -> bool {
        self.gw.wait_for_log(needle)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_identity_cannot_take_every_connection_and_the_total_is_capped() {
    let s = setup(
        "hostile_conns",
        "",
        "limits:\n  max_connections: 12\n  max_connections_per_identity: 5\n",
    );
    let hog = s.gw.identity_with_token("hog", &["--agent"]);
    let mut hogs = Vec::new();
    for _ in 0..5 {
        hogs.push(connect_ok(&s.gw, "hog", "app", &hog).await);
    }
    let err = match connect(&s.gw, "hog", "app", &hog).await {
        Ok(_) => panic!("a sixth session for hog was let in"),
        Err(e) => e,
    };
    let (code, message) = db_error(&err);
    assert_eq!(code, "53300");
    assert!(
        message.contains("max_connections_per_identity = 5"),
        "{message}"
    );
    // Everyone else is still served.
    s.still_serves().await;

    // Fill the rest with connections that never authenticate: once the
    // cap is reached, the next one is turned away at once, with a reason.
    // (The well-behaved client's session may still be ending, so the count
    // of places left is 6 or 7.)
    let mut idle = Vec::new();
    let refusal = loop {
        assert!(idle.len() <= 7, "more than 12 connections were let in");
        let mut c = raw::connect(s.gw.pg_port);
        c.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        match raw::read_message(&mut c) {
            Ok(Some(m)) => break m,
            Ok(None) => panic!("closed without a reason"),
            Err(_) => idle.push(c), // Let in: waits for a startup packet.
        }
    };
    assert!(
        idle.len() >= 6,
        "turned away with only {} idle connections",
        idle.len()
    );
    assert_eq!(refusal.tag, b'E');
    assert_eq!(refusal.code(), "53300");
    assert!(
        refusal.text().contains("max_connections = 12"),
        "{}",
        refusal.text()
    );
    assert!(s.logged("too many connections"));
    // Places are given back when connections go.
    drop(idle);
    drop(hogs);
    std::thread::sleep(Duration::from_millis(300));
    s.still_serves().await;
    connect_ok(&s.gw, "hog", "app", &hog).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_are_closed_and_busy_ones_are_not() {
    let s = setup("hostile_idle", "", "limits:\n  idle_timeout: 2s\n");
    let mut quiet = raw::login(s.gw.pg_port, "alice", "app", &s.token);
    let busy = connect_ok(&s.gw, "alice", "app", &s.token).await;
    // Busy for longer than the idle timeout: a running query is not idle.
    let row = bounded(
        "a 3 s query",
        20,
        busy.query_one("select pg_sleep(3.5)::text", &[]),
    )
    .await
    .expect("a long query survives the idle timeout");
    assert_eq!(row.get::<_, String>(0), "");
    // The quiet one was told why, and closed.
    quiet
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let m = raw::read_message(&mut quiet)
        .expect("read")
        .expect("told before being closed");
    assert_eq!((m.tag, m.code().as_str()), (b'E', "57P05"), "{m:?}");
    assert!(m.text().contains("idle"), "{}", m.text());
    assert!(raw::closed_by_peer(&mut quiet));
    assert!(s.logged("reason=idle timeout"));
    s.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_longer_than_the_analysis_limit_is_refused_not_waved_through() {
    let s = setup("hostile_long", "", "limits:\n  max_statement_bytes: 4096\n");
    let client = connect_ok(&s.gw, "alice", "app", &s.token).await;
    let long = format!("select '{}' as filler", "x".repeat(5000));
    let err = client
        .simple_query(&long)
        .await
        .expect_err("a too long statement ran");
    let (code, message) = db_error(&err);
    assert_eq!(code, "54000");
    assert!(message.contains("max_statement_bytes = 4096"), "{message}");
    let err = client
        .prepare(&long)
        .await
        .expect_err("a too long Parse ran");
    assert_eq!(db_error(&err).0, "54000");
    // The session goes on.
    let row = client
        .query_one("select 'short'", &[])
        .await
        .expect("short statement");
    assert_eq!(row.get::<_, String>(0), "short");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_clients_are_dropped_at_the_handshake_timeout_while_others_are_served() {
    let s = setup("hostile_slow", "", "limits:\n  handshake_timeout: 2s\n");
    let packet = raw::startup_packet(raw::PROTOCOL_3_0, &[("user", "alice"), ("database", "app")]);
    let started = Instant::now();
    let slow: Vec<_> = (0..40)
        .map(|_| {
            let packet = packet.clone();
            let mut c = raw::connect(s.gw.pg_port);
            std::thread::spawn(move || {
                // One byte every 200 ms: the whole packet would take ~8 s.
                for b in packet {
                    if c.write_all(&[b]).is_err() {
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                    if started.elapsed() > Duration::from_secs(15) {
                        return false;
                    }
                }
                c.set_read_timeout(Some(Duration::from_secs(5))).ok();
                raw::closed_by_peer(&mut c)
            })
        })
        .collect();
    // Meanwhile, others are served.
    s.still_serves().await;
    for t in slow {
        assert!(t.join().unwrap(), "a slowloris connection was kept open");
    }
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(s.logged("handshake timeout"));
    s.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_flooding_queries_without_reading_replies_keeps_gateway_memory_bounded() {
    let s = setup("hostile_flood", "", "");
    let pid = s.gw.pid().expect("gateway pid");
    let mut flood = raw::login(s.gw.pg_port, "alice", "app", &s.token);
    let before = raw::rss_kib(pid);
    // Up to 50 000 queries of 1 KiB, each answered with ~10 KiB the client
    // never reads: ~500 MiB the gateway must not pile up.
    let text = format!(
        "select repeat('x', 10000) /* flood {} */\0",
        "f".repeat(1000)
    );
    let query = raw::message(b'Q', text.as_bytes());
    let mut batch = Vec::new();
    for _ in 0..100 {
        batch.extend_from_slice(&query);
    }
    flood
        .set_write_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut sent = 0;
    while Instant::now() < deadline && sent < 50_000 {
        if flood.write_all(&batch).is_err() {
            break; // Backpressure: the gateway stopped reading, as it should.
        }
        sent += 100;
    }
    std::thread::sleep(Duration::from_millis(500));
    let during = raw::rss_kib(pid);
    println!("gateway RSS: {before} KiB before, {during} KiB while flooded ({sent} queries sent)");
    assert!(
        during < before + 64 * 1024,
        "gateway memory grew by {} KiB under a flood",
        during.saturating_sub(before)
    );
    s.still_serves().await;
    // The flood's own session still works once it reads its replies.
    flood
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut sink = vec![0u8; 1 << 16];
    let mut got = 0usize;
    while got < 1 << 20 {
        match flood.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    assert!(
        got >= 1 << 20,
        "the flooding session stopped answering after {got} bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_targets_end_only_their_own_sessions_with_a_clear_error() {
    let silent = ScriptedTarget::start(Misbehaviour::Silent);
    let mid_row = ScriptedTarget::start(Misbehaviour::ClosesMidRow);
    let malformed = ScriptedTarget::start(Misbehaviour::MalformedRow);
    let fake = |name: &str, port: u16| {
        format!(
            "  - name: {name}\n    type: postgres\n    target: {{ host: 127.0.0.1, port: {port}, database: x, user: x, tls: disable }}\n    allow: [\"alice\"]\n"
        )
    };
    let s = setup(
        "hostile_target",
        &format!(
            "{}{}{}",
            fake("silent", silent.port),
            fake("midrow", mid_row.port),
            fake("malformed", malformed.port)
        ),
        "limits:\n  connect_timeout: 2s\n",
    );

    // Never answers: the login gives up in time, with a reason.
    let started = Instant::now();
    let err = match connect(&s.gw, "alice", "silent", &s.token).await {
        Ok(_) => panic!("a silent target was reported as connected"),
        Err(e) => e,
    };
    let (code, message) = db_error(&err);
    assert_eq!(code, "08001", "{message}");
    assert!(message.contains("did not answer in time"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(10));
    s.still_serves().await;

    // Closes in the middle of a row.
    let (ok, _, stderr) = psql(
        &s.gw.conninfo("alice", "midrow"),
        &s.token,
        &["-c", "select 1"],
    );
    assert!(!ok);
    assert!(
        stderr.contains("closed the connection in the middle of a command"),
        "{stderr}"
    );
    assert!(s.logged("target closed the connection"));
    s.still_serves().await;

    // A row whose fields do not add up.
    let (ok, _, stderr) = psql(
        &s.gw.conninfo("alice", "malformed"),
        &s.token,
        &["-c", "select 1"],
    );
    assert!(!ok);
    assert!(
        stderr.contains("invalid message") && stderr.contains("DataRow"),
        "{stderr}"
    );
    assert!(s.logged("malformed DataRow"));
    s.still_serves().await;
}
