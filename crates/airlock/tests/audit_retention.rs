//! Checkpoints and retention as `airlock serve` runs them: the checkpoint
//! task signs the tip of what sessions recorded, the retention task prunes
//! old records behind an anchor, and `audit verify` accepts both.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use airlock_store::{CommandRecord, SessionEnd, SessionStart, SqliteStore, Store, WriteOp};
use chrono::{DateTime, Utc};
use common::record::wait_for;
use common::{BIN, Gateway, pg::TempDb, psql};

/// 2023-11-14T22:13:20Z: long before any retention period of these tests.
const T0: i64 = 1_700_000_000_000;

const NOWHERE: &str = "  - name: app\n    type: postgres\n    target: { host: 127.0.0.1, port: 9, database: app, user: app, tls: disable }\n    allow: [\"alice\"]\n";

/// A signing key made by `audit keygen`, in a directory of its own (the
/// gateway's is only made when it starts); returns the directory, the
/// key's path and its public key.
fn keygen() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.key");
    let out = Command::new(BIN)
        .args(["audit", "keygen", "--output"])
        .arg(&path)
        .env_remove("AIRLOCK_CONFIG")
        .output()
        .expect("run airlock");
    assert!(
        out.status.success(),
        "keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (dir, path, public)
}

fn another_public_key() -> String {
    keygen().2
}

/// The report of `audit verify`, and whether it exited 0.
fn verify(gw: &Gateway, extra: &[&str]) -> (bool, String) {
    let mut args = vec!["audit", "verify"];
    args.extend_from_slice(extra);
    let out = gw.cli(&args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `(last seq, seq the latest checkpoint vouches for)` from a report.
fn tip_and_latest(report: &str) -> Option<(i64, i64)> {
    let number_after = |marker: &str| -> Option<i64> {
        let rest = &report[report.find(marker)? + marker.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    Some((
        number_after("(last seq ")?,
        number_after("the latest vouches for seq ")?,
    ))
}

/// The seq of the first `session.end` record in the export, once there is one.
fn session_end_seq(gw: &Gateway) -> Option<i64> {
    gw.cli_ok(&["audit", "export"])
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|record| record["kind"] == "session.end")
        .and_then(|record| record["seq"].as_i64())
}

#[test]
fn serve_signs_checkpoints_of_what_sessions_record() {
    let (_keys, key, public) = keygen();
    let db = TempDb::new("ckpt");
    let gw = Gateway::start(
        &format!(
            "  - name: app\n    type: postgres\n    target: {{ host: 127.0.0.1, port: 5432, database: {}, user: postgres, tls: disable }}\n    allow: [\"alice\"]\n",
            db.name
        ),
        &format!(
            "audit:\n  signing_key: {}\n  checkpoint_interval: 1s\n",
            key.display()
        ),
    );
    assert!(
        gw.wait_for_log("signing audit checkpoints"),
        "{}",
        gw.logs()
    );
    let token = gw.identity_with_token("alice", &[]);
    let (ok, out, err) = psql(
        &gw.conninfo("alice", "app"),
        &token,
        &["-c", "select 40 + 2"],
    );
    assert!(ok, "psql failed: {err}");
    assert_eq!(out.trim(), "42");

    // Session start, the command (its outcome inside it or after it), the
    // session end; within a second or so, a checkpoint record right after
    // the last one, vouching for the session's end too.
    let report = wait_for(&gw, "a checkpoint of the session's records", || {
        let end = session_end_seq(&gw)?;
        let (ok, report) = verify(&gw, &[]);
        assert!(ok, "{report}");
        let (tip, latest) = tip_and_latest(&report)?;
        (latest >= end && latest == tip - 1).then_some(report)
    });
    assert!(report.contains(&format!(", key {public})")), "{report}");

    let (ok, report) = verify(&gw, &["--public-key", &public]);
    assert!(ok, "{report}");
    let (ok, report) = verify(&gw, &["--public-key", &another_public_key()]);
    assert!(!ok, "a checkpoint by another key must not pass");
    assert!(report.starts_with("forged: "), "{report}");

    // The checkpoint is a record like any other for the export.
    let export = gw.cli_ok(&["audit", "export"]);
    assert!(export.contains(r#""kind":"checkpoint""#), "{export}");
}

/// Writes old sessions (2023) and one of today straight into the store of
/// a stopped gateway.
fn write_records(db: &Path) {
    let at = |ms: i64| DateTime::from_timestamp_millis(ms).expect("valid time");
    let session = |id: &str, started: DateTime<Utc>, ended: Option<DateTime<Utc>>| {
        let mut ops = vec![
            WriteOp::SessionStart(SessionStart {
                id: id.into(),
                identity: "alice".into(),
                connection: "app".into(),
                protocol: "postgres".into(),
                client_addr: "127.0.0.1:5555".into(),
                started_at: started,
            }),
            WriteOp::Command(CommandRecord {
                id: format!("{id}/0"),
                session_id: id.into(),
                identity: "alice".into(),
                connection: "app".into(),
                at: started,
                command: "SELECT 1".into(),
                params: Default::default(),
                verdict: "allow".into(),
                rules: Vec::new(),
                review: None,
            }),
        ];
        if let Some(ended) = ended {
            ops.push(WriteOp::SessionEnd(SessionEnd {
                id: id.into(),
                identity: "alice".into(),
                connection: "app".into(),
                ended_at: ended,
                end_reason: "client closed".into(),
                commands: 1,
                rows: 1,
                bytes_to_client: 10,
            }));
        }
        ops
    };
    let batches = vec![
        session("old-1", at(T0), Some(at(T0 + 1_000))),
        session("old-2", at(T0 + 2_000), Some(at(T0 + 3_000))),
        session("today", Utc::now(), None),
    ];
    let db = db.to_path_buf();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async move {
            let store = SqliteStore::open(&db).await.expect("open store");
            for batch in batches {
                store.write_batch(&batch).await.expect("write batch");
            }
            store.close().await;
        });
}

#[test]
fn serve_prunes_old_records_behind_a_signed_anchor() {
    let (_keys, key, public) = keygen();
    let mut gw = Gateway::start(
        NOWHERE,
        &format!(
            "audit:\n  signing_key: {}\n  retention: 30d\n",
            key.display()
        ),
    );
    gw.stop();
    // seq 1-6: two sessions of 2023; 7-8: today's, still open.
    write_records(&gw.data_dir().join("airlock.db"));
    gw.spawn();

    // On start the tip (8) is signed at once, as record 9; the first
    // retention round then anchors seq 6 (record 10) and prunes 1-6.
    let report = wait_for(&gw, "pruning behind an anchor", || {
        let (ok, report) = verify(&gw, &[]);
        assert!(ok, "{report}");
        report.contains("from anchor seq").then_some(report)
    });
    assert!(
        report.starts_with("ok: 4 records verified from anchor seq 6 (last seq 10)\n"),
        "{report}"
    );
    let (ok, report) = verify(&gw, &["--public-key", &public]);
    assert!(ok, "the anchor is signed with the configured key: {report}");

    let sessions = gw.cli_ok(&["sessions", "list", "--json"]);
    assert!(sessions.contains("\"today\""), "{sessions}");
    assert!(!sessions.contains("old-"), "{sessions}");
    let export = gw.cli_ok(&["audit", "export"]);
    assert!(!export.contains("old-"), "{export}");
    assert!(export.contains(r#""purpose":"anchor""#), "{export}");

    // Above the anchor the log is still append-only.
    let out = Command::new("sqlite3")
        .arg(gw.data_dir().join("airlock.db"))
        .arg("DELETE FROM audit_log WHERE seq = 7;")
        .output()
        .expect("these tests use the sqlite3 shell");
    assert!(!out.status.success(), "the delete went through");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("append-only"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (ok, report) = verify(&gw, &[]);
    assert!(ok, "{report}");
}

/// A webhook receiver on its own thread and runtime that refuses every
/// batch (500) until `accept` is set; returns its port.
fn receiver(accept: Arc<AtomicBool>) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("receiver runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let app = axum::Router::new().route(
                "/ingest",
                axum::routing::post(move || {
                    let accept = accept.clone();
                    async move {
                        if accept.load(Ordering::SeqCst) {
                            axum::http::StatusCode::OK
                        } else {
                            axum::http::StatusCode::INTERNAL_SERVER_ERROR
                        }
                    }
                }),
            );
            let _ = axum::serve(listener, app).await;
        });
    });
    port
}

fn sink_cursor(gw: &Gateway, name: &str) -> i64 {
    let db = gw.data_dir().join("airlock.db");
    let name = name.to_string();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async move {
            let store = SqliteStore::open(&db).await.expect("open store");
            let seq = store.sink_cursor(&name).await.expect("read the cursor");
            store.close().await;
            seq
        })
}

#[test]
fn retention_waits_for_a_sink_that_has_not_delivered() {
    let accept = Arc::new(AtomicBool::new(false));
    let port = receiver(accept.clone());
    let name = format!("webhook:http://127.0.0.1:{port}/ingest");
    let mut gw = Gateway::start(
        NOWHERE,
        &format!(
            "audit:\n  retention: 30d\n  sinks:\n    - type: webhook\n      url: http://127.0.0.1:{port}/ingest\n      interval: 100ms\n"
        ),
    );
    gw.stop();
    // seq 1-6: two sessions of 2023; 7-8: today's, still open.
    write_records(&gw.data_dir().join("airlock.db"));
    gw.spawn();

    // The first round (3 s after start) finds 1-6 old enough, but the
    // receiver has taken none of them: nothing is anchored or pruned, and
    // the log says who holds it back.
    assert!(
        gw.wait_for_log("audit retention held back"),
        "{}",
        gw.logs()
    );
    let logs = gw.logs();
    let held = logs
        .lines()
        .find(|l| l.contains("audit retention held back"))
        .expect("the warning");
    assert!(held.contains(&format!("{name} (6 records)")), "{held}");
    assert!(
        held.contains("oldest_undelivered=2023-11-14T22:13:20Z"),
        "{held}"
    );
    assert_eq!(sink_cursor(&gw, &name), 0);
    let (ok, report) = verify(&gw, &[]);
    assert!(ok, "{report}");
    assert!(
        report.starts_with("ok: 8 records verified (last seq 8)"),
        "{report}"
    );
    let export = gw.cli_ok(&["audit", "export"]);
    assert!(export.contains("old-1"), "{export}");

    // Once the receiver takes them and the sink's cursor moves past them,
    // they go, without waiting for the hourly round.
    accept.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(30);
    let report = loop {
        let (ok, report) = verify(&gw, &[]);
        assert!(ok, "{report}");
        // The anchor is record 9, after the 8 the sink delivered.
        if report.starts_with("ok: 3 records verified from anchor seq 6 (last seq 9)\n") {
            break report;
        }
        assert!(
            Instant::now() < deadline,
            "not pruned after the sink caught up: {report}\n{}",
            gw.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(sink_cursor(&gw, &name) >= 8, "{report}\n{}", gw.logs());
    let export = gw.cli_ok(&["audit", "export"]);
    assert!(!export.contains("old-"), "{export}");
    assert_eq!(
        gw.logs().matches("audit retention held back").count(),
        1,
        "one warning per round: {}",
        gw.logs()
    );
}

/// `serve` with `audit.signing_key` set to `key`: must exit 1 at once and
/// say why on standard error.
fn serve_fails(key: &Path) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("airlock.yaml");
    let ports = (common::free_port(), common::free_port());
    std::fs::write(
        &config,
        format!(
            "data_dir: ./data\nlisten:\n  postgres: 127.0.0.1:{}\n  api: 127.0.0.1:{}\naudit:\n  signing_key: {}\nconnections:\n{NOWHERE}",
            ports.0,
            ports.1,
            key.display()
        ),
    )
    .expect("write config");
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env_remove("AIRLOCK_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start airlock serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve started without its signing key");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    assert_eq!(out.status.code(), Some(1));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_signing_key_that_cannot_be_used_stops_serve() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.key");
    let err = serve_fails(&missing);
    assert!(err.contains("missing.key"), "{err}");

    let junk = dir.path().join("junk.key");
    std::fs::write(
        &junk,
        "-----BEGIN PRIVATE KEY-----\nU0VDUkVULU1BVEVSSUFM\n-----END PRIVATE KEY-----\n",
    )
    .expect("write");
    let err = serve_fails(&junk);
    assert!(err.contains("junk.key") && err.contains("Ed25519"), "{err}");
    assert!(
        !err.contains("U0VDUkVU"),
        "key material in the error: {err}"
    );
}
