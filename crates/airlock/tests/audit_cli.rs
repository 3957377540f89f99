//! `airlock audit verify|export` and `airlock replay`, run as the real
//! binary against a store filled directly through `write_batch` (no
//! gateway needed). Tampering is done with SQL on the file, as someone
//! holding the file would do it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use airlock_store::{
    CheckpointKey, CommandRecord, OutcomeRecord, Preview, SessionEnd, SessionStart, SqliteStore,
    Store, WriteOp,
};
use chrono::{DateTime, Utc};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_airlock");

/// 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000_000;

const CONFIG: &str = "data_dir: ./data\nconnections:\n  - name: app\n    type: postgres\n    target: { host: 127.0.0.1, port: 9, database: app, user: app, tls: disable }\n    allow: [\"alice\", \"bob\"]\n";

struct Setup {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Setup {
    /// A configuration and an empty data directory.
    fn empty() -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("airlock.yaml");
        std::fs::write(&config, CONFIG).expect("write config");
        Setup { dir, config }
    }

    /// The store the binary will open, filled with `sample()`.
    fn sample() -> Setup {
        let setup = Setup::empty();
        setup.write(sample());
        setup
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("data/airlock.db")
    }

    fn write(&self, batches: Vec<Vec<WriteOp>>) {
        let path = self.db();
        runtime().block_on(async move {
            let store = SqliteStore::open(&path).await.expect("open store");
            for batch in batches {
                store.write_batch(&batch).await.expect("write batch");
            }
            store.close().await;
        });
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config")
            .arg(&self.config)
            .args(args)
            .env_remove("AIRLOCK_CONFIG")
            .current_dir(self.dir.path());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run airlock")
    }

    /// Runs and insists on success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "airlock {args:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Changes the file behind the store's back, with the sqlite3 shell.
    /// The triggers that stop honest mistakes are dropped first, as an
    /// intruder would.
    fn tamper(&self, sql: &str) {
        let script = format!(
            "DROP TRIGGER IF EXISTS audit_log_no_update; \
             DROP TRIGGER IF EXISTS audit_log_no_delete; \
             DROP TRIGGER IF EXISTS audit_checkpoint_no_update; \
             DROP TRIGGER IF EXISTS audit_checkpoint_no_delete; {sql}"
        );
        let out = Command::new("sqlite3")
            .arg(self.db())
            .arg(&script)
            .output()
            .unwrap_or_else(|e| {
                panic!("these tests tamper with the file through the sqlite3 shell: {e}")
            });
        assert!(
            out.status.success(),
            "sqlite3 {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Setup {
    /// `audit keygen` into the setup's directory; returns the key's path
    /// and the public key it printed.
    fn keygen(&self, name: &str) -> (PathBuf, String) {
        let path = self.dir.path().join(name);
        let public = self.ok(&["audit", "keygen", "--output", path.to_str().expect("utf-8")]);
        (path, public.trim().to_string())
    }

    /// The configuration, signing with the key at `name`.
    fn sign_with(&self, name: &str) {
        std::fs::write(
            &self.config,
            format!("{CONFIG}audit:\n  signing_key: ./{name}\n"),
        )
        .expect("write config");
    }

    /// A checkpoint of the tip, signed with the key at `path`, as `serve`
    /// would write it.
    fn checkpoint(&self, path: &Path) {
        let pem = pem::parse(std::fs::read(path).expect("read key")).expect("pem");
        let key = CheckpointKey::from_pkcs8(pem.contents()).expect("key");
        let db = self.db();
        runtime().block_on(async move {
            let store = SqliteStore::open(&db).await.expect("open store");
            store
                .write_checkpoint(&key, at(T0 + 10_000))
                .await
                .expect("write checkpoint")
                .expect("a checkpoint");
            store.close().await;
        });
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("valid test time")
}

fn start(session: &str, identity: &str, ms: i64) -> WriteOp {
    WriteOp::SessionStart(SessionStart {
        id: session.into(),
        identity: identity.into(),
        connection: "app".into(),
        protocol: "postgres".into(),
        client_addr: "127.0.0.1:5555".into(),
        started_at: at(ms),
    })
}

fn end(session: &str, identity: &str, ms: i64, commands: i64) -> WriteOp {
    WriteOp::SessionEnd(SessionEnd {
        id: session.into(),
        identity: identity.into(),
        connection: "app".into(),
        ended_at: at(ms),
        end_reason: "client closed".into(),
        commands,
        rows: commands,
        bytes_to_client: 100,
    })
}

fn command(session: &str, identity: &str, n: usize, ms: i64, sql: &str) -> CommandRecord {
    CommandRecord {
        id: format!("{session}/{n}"),
        session_id: session.into(),
        identity: identity.into(),
        connection: "app".into(),
        at: at(ms),
        command: sql.into(),
        params: Default::default(),
        verdict: "allow".into(),
        rules: Vec::new(),
        review: None,
    }
}

fn outcome(c: &CommandRecord, rows: i64, preview: Option<Preview>) -> OutcomeRecord {
    OutcomeRecord {
        event_id: c.id.clone(),
        session_id: c.session_id.clone(),
        identity: c.identity.clone(),
        connection: c.connection.clone(),
        at: c.at + chrono::Duration::milliseconds(2),
        duration_us: 1_500,
        rows,
        bytes: rows * 20,
        error: None,
        preview,
    }
}

/// Two sessions; alice's has a masked preview, bind parameters, a masking
/// verdict, a failed command and a command with CSV-hostile text.
///
/// seq: 1 s-alice/start, 2-3 s-alice/0 + outcome, 4 s-bob/start,
/// 5-6 s-bob/0 + outcome, 7-8 s-alice/1 + outcome, 9 s-alice/2 (never
/// finished), 10 s-alice/end, 11 s-bob/end.
fn sample() -> Vec<Vec<WriteOp>> {
    let mut a0 = command(
        "s-alice",
        "alice",
        0,
        T0 + 1_000,
        "SELECT id, email FROM users WHERE id < $1",
    );
    a0.params = vec![Some("3".into()), None].into();
    a0.verdict = "mask:pii-email".into();
    a0.rules = vec!["pii-email".into()];
    let a0_out = outcome(
        &a0,
        2,
        Some(Preview {
            columns: vec!["id".into(), "email".into()].into(),
            rows: vec![
                vec![Some("1".into()), Some("a***@example.com".into())],
                vec![Some("2".into()), None],
            ],
            truncated: false,
        }),
    );
    let b0 = command("s-bob", "bob", 0, T0 + 1_500, "SELECT 1");
    let b0_out = outcome(&b0, 1, None);
    let a1 = command(
        "s-alice",
        "alice",
        1,
        T0 + 2_000,
        "SELECT 'a,b' AS \"x\"\nFROM t",
    );
    let mut a1_out = outcome(&a1, 0, None);
    a1_out.error = Some("42P01: relation \"t\" does not exist".into());
    let a2 = command("s-alice", "alice", 2, T0 + 3_000, "SELECT pg_sleep(100)");
    vec![
        vec![
            start("s-alice", "alice", T0),
            WriteOp::Command(a0),
            WriteOp::Outcome(a0_out),
        ],
        vec![
            start("s-bob", "bob", T0 + 1_200),
            WriteOp::Command(b0),
            WriteOp::Outcome(b0_out),
            WriteOp::Command(a1),
            WriteOp::Outcome(a1_out),
        ],
        vec![
            WriteOp::Command(a2),
            end("s-alice", "alice", T0 + 4_000, 3),
            end("s-bob", "bob", T0 + 4_500, 1),
        ],
    ]
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `audit verify` on a damaged log: exit status 2 and the report.
fn verify_broken(s: &Setup) -> String {
    let out = s.run(&["audit", "verify"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "verify of a damaged log: {}\n{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
}

#[test]
fn verify_an_intact_log() {
    let s = Setup::sample();
    let out = s.ok(&["audit", "verify"]);
    assert!(
        out.starts_with("ok: 11 records verified (last seq 11)\n"),
        "{out}"
    );
}

#[test]
fn verify_an_empty_log() {
    let s = Setup::empty();
    let out = s.ok(&["audit", "verify"]);
    assert!(out.starts_with("ok: 0 records verified"), "{out}");
}

#[test]
fn verify_finds_a_deleted_record() {
    let s = Setup::sample();
    s.tamper("DELETE FROM audit_log WHERE seq = 5;");
    let out = verify_broken(&s);
    assert!(out.starts_with("missing at seq 5:"), "{out}");
    assert!(out.contains("records verified before it: 4;"), "{out}");
}

#[test]
fn verify_finds_an_edited_record() {
    let s = Setup::sample();
    s.tamper("UPDATE audit_log SET body = replace(body, 'mask:pii-email', 'allow') WHERE seq = 2;");
    let out = verify_broken(&s);
    assert!(out.starts_with("altered at seq 2 (id s-alice/0):"), "{out}");
}

#[test]
fn verify_finds_reordered_records() {
    let s = Setup::sample();
    s.tamper(
        "UPDATE audit_log SET seq = -1 WHERE seq = 7; \
         UPDATE audit_log SET seq = 7 WHERE seq = 8; \
         UPDATE audit_log SET seq = 8 WHERE seq = -1;",
    );
    let out = verify_broken(&s);
    assert!(
        out.starts_with(
            "reordered at seq 7 (id s-alice/1/outcome): it links to seq 8 (id s-alice/1)"
        ),
        "{out}"
    );
}

#[test]
fn keygen_writes_a_private_key_and_prints_its_public_key() {
    let s = Setup::empty();
    let (path, public) = s.keygen("audit.key");
    assert_eq!(public.len(), 64, "{public}");
    assert!(public.bytes().all(|b| b.is_ascii_hexdigit()), "{public}");
    let text = std::fs::read_to_string(&path).expect("key file");
    assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let key_arg = path.to_str().expect("utf-8");
    assert_eq!(s.ok(&["audit", "public-key", key_arg]).trim(), public);
    s.sign_with("audit.key");
    assert_eq!(
        s.ok(&["audit", "public-key"]).trim(),
        public,
        "from the configuration"
    );

    let again = s.run(&["audit", "keygen", "--output", key_arg]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "an existing key is not overwritten"
    );
    assert_eq!(std::fs::read_to_string(&path).expect("key file"), text);
}

#[test]
fn verify_checks_signed_checkpoints() {
    let s = Setup::sample();
    let (path, public) = s.keygen("audit.key");
    s.checkpoint(&path);
    s.sign_with("audit.key");
    let out = s.ok(&["audit", "verify"]);
    assert!(
        out.starts_with("ok: 12 records verified (last seq 12)\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "checkpoints: 1 verified; the latest vouches for seq 11 \
             (2023-11-14T22:13:30.000Z, key {public})"
        )),
        "{out}"
    );
    assert!(
        !out.contains("note:"),
        "the configured key is trusted: {out}"
    );
    let out = s.ok(&["audit", "verify", "--public-key", &public]);
    assert!(out.contains("checkpoints: 1 verified"), "{out}");
}

#[test]
fn verify_against_another_public_key_fails() {
    let s = Setup::sample();
    let (path, public) = s.keygen("audit.key");
    let (_, other) = s.keygen("other.key");
    s.checkpoint(&path);
    let out = s.run(&["audit", "verify", "--public-key", &other]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!(
            "forged: checkpoint at 2023-11-14T22:13:30.000Z (record seq 12) is signed by key \
             {public}, which is not a trusted key"
        )),
        "{text}"
    );
    // Without a trusted key the signature still verifies, with a warning.
    let out = s.ok(&["audit", "verify"]);
    assert!(out.contains("note: no trusted key"), "{out}");
}

#[test]
fn verify_finds_a_cut_tail_behind_a_checkpoint() {
    let s = Setup::sample();
    let (path, _) = s.keygen("audit.key");
    s.checkpoint(&path);
    s.tamper("DELETE FROM audit_log WHERE seq > 9;");
    let out = verify_broken(&s);
    assert!(
        out.starts_with(
            "truncated: the log ends at seq 9 but checkpoint at 2023-11-14T22:13:30.000Z \
             (record seq 12) vouches for seq 11\n"
        ),
        "{out}"
    );
}

#[test]
fn verify_finds_a_forged_checkpoint_signature() {
    let s = Setup::sample();
    let (path, _) = s.keygen("audit.key");
    s.checkpoint(&path);
    s.tamper("UPDATE audit_checkpoint SET signature = zeroblob(64);");
    let out = verify_broken(&s);
    assert!(out.starts_with("forged: checkpoint at "), "{out}");
    assert!(out.contains("its signature does not verify"), "{out}");
}

#[test]
fn verify_cannot_check_with_an_unreadable_configured_key() {
    let s = Setup::sample();
    s.sign_with("missing.key");
    let out = s.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("missing.key") && err.contains("--public-key"),
        "{err}"
    );
}

fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("line {l:?}: {e}")))
        .collect()
}

#[test]
fn export_jsonl_carries_outcomes_and_hashes() {
    let s = Setup::sample();
    let lines = jsonl(&s.ok(&["audit", "export", "--format", "jsonl"]));
    let kinds: Vec<&str> = lines.iter().filter_map(|l| l["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "session.start",
            "command",
            "session.start",
            "command",
            "command",
            "command",
            "session.end",
            "session.end"
        ]
    );
    let first = &lines[1];
    assert_eq!(first["seq"], 2);
    assert_eq!(first["id"], "s-alice/0");
    assert_eq!(first["at"], "2023-11-14T22:13:21.000Z");
    assert_eq!(first["session"], "s-alice");
    assert_eq!(first["identity"], "alice");
    assert_eq!(first["connection"], "app");
    assert_eq!(
        first["command"],
        "SELECT id, email FROM users WHERE id < $1"
    );
    assert_eq!(first["params"], serde_json::json!(["3", null]));
    assert_eq!(first["verdict"], "mask:pii-email");
    assert_eq!(first["rules"], serde_json::json!(["pii-email"]));
    assert_eq!(first["reviewers"], serde_json::json!([]));
    let outcome = &first["outcome"];
    assert_eq!(outcome["seq"], 3);
    assert_eq!(outcome["rows"], 2);
    assert_eq!(outcome["duration_us"], 1_500);
    assert_eq!(outcome["preview"]["rows"][0][1], "a***@example.com");
    assert_eq!(outcome["prev_hash"], first["hash"]);
    for l in &lines {
        for key in ["prev_hash", "hash"] {
            let hex = l[key].as_str().unwrap_or_default();
            assert_eq!(hex.len(), 64, "{key} of {l}");
        }
    }
    assert_eq!(lines[0]["prev_hash"], "0".repeat(64), "the first link");
    let unfinished = &lines[5];
    assert_eq!(unfinished["id"], "s-alice/2");
    assert!(unfinished["outcome"].is_null(), "{unfinished}");
    assert_eq!(lines[6]["detail"]["end_reason"], "client closed");
    assert_eq!(lines[0]["detail"]["protocol"], "postgres");
}

/// A small RFC 4180 reader: enough to check the export's quoting.
fn csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(field.is_empty() && row.is_empty(), "unterminated last row");
    rows
}

#[test]
fn export_csv_has_a_header_and_a_row_per_record() {
    let s = Setup::sample();
    let rows = csv(&s.ok(&["audit", "export", "--format", "csv"]));
    let header = &rows[0];
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
    };
    assert!(rows.iter().all(|r| r.len() == header.len()), "{rows:?}");
    let commands: Vec<&Vec<String>> = rows[1..]
        .iter()
        .filter(|r| r[col("kind")] == "command")
        .collect();
    assert_eq!(commands.len(), 4, "one row per command");
    assert_eq!(rows.len(), 1 + 8);

    let hostile = commands
        .iter()
        .find(|r| r[col("id")] == "s-alice/1")
        .expect("s-alice/1");
    assert_eq!(hostile[col("command")], "SELECT 'a,b' AS \"x\"\nFROM t");
    assert_eq!(
        hostile[col("error")],
        "42P01: relation \"t\" does not exist"
    );
    let masked = commands[0];
    assert_eq!(masked[col("params")], r#"["3",null]"#);
    assert_eq!(masked[col("rows")], "2");
    assert_eq!(masked[col("outcome_seq")], "3");
    assert_eq!(masked[col("hash")].len(), 64);
    assert_eq!(masked[col("outcome_hash")].len(), 64);
    let preview: Value = serde_json::from_str(&masked[col("preview")]).expect("preview json");
    assert_eq!(preview["columns"], serde_json::json!(["id", "email"]));
    let unfinished = commands
        .iter()
        .find(|r| r[col("id")] == "s-alice/2")
        .expect("s-alice/2");
    assert_eq!(unfinished[col("outcome_seq")], "");
}

#[test]
fn export_filters_by_identity_and_time() {
    let s = Setup::sample();
    let bob = jsonl(&s.ok(&["audit", "export", "--identity", "bob"]));
    let ids: Vec<&str> = bob.iter().filter_map(|l| l["id"].as_str()).collect();
    assert_eq!(ids, ["s-bob/start", "s-bob/0", "s-bob/end"]);

    let window = jsonl(&s.ok(&[
        "audit",
        "export",
        "--since",
        "2023-11-14T22:13:21Z",
        "--until",
        "2023-11-14T23:13:22+01:00",
    ]));
    let ids: Vec<&str> = window.iter().filter_map(|l| l["id"].as_str()).collect();
    assert_eq!(ids, ["s-alice/0", "s-bob/start", "s-bob/0"]);

    // The sample is from 2023: nothing in the last day, everything before.
    assert_eq!(s.ok(&["audit", "export", "--since", "24h"]), "");
    assert_eq!(
        jsonl(&s.ok(&["audit", "export", "--until", "24h"])).len(),
        8
    );

    let bad = s.run(&["audit", "export", "--since", "yesterday-ish"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("neither an RFC 3339 time nor a duration"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

#[test]
fn export_to_a_file() {
    let s = Setup::sample();
    let file = s.dir.path().join("out/audit.jsonl");
    std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
    let out = s.run(&[
        "audit",
        "export",
        "--output",
        file.to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("exported 8 records"));
    let text = std::fs::read_to_string(&file).expect("read export");
    assert_eq!(jsonl(&text).len(), 8);
}

#[test]
fn replay_prints_each_command_with_its_outcome_and_preview() {
    let s = Setup::sample();
    let out = s.ok(&["replay", "s-al", "--no-wait"]);
    for expected in [
        "session    s-alice",
        "identity   alice",
        "[+1.000s] 22:13:21.000  mask:pii-email  rules: pii-email",
        "    SELECT id, email FROM users WHERE id < $1",
        "    params: $1 = '3', $2 = NULL",
        "    -> 2 rows, 40 bytes in 1.500 ms",
        "    id | email",
        "    ---+-----------------",
        "    1  | a***@example.com",
        "    2  | NULL",
        "    SELECT 'a,b' AS \"x\"",
        "    FROM t",
        "    -> error after 1.500 ms: 42P01: relation \"t\" does not exist",
        "    SELECT pg_sleep(100)",
        "    -> no outcome recorded (still running, or the gateway stopped)",
    ] {
        assert!(
            out.lines().any(|l| l == expected),
            "no line {expected:?} in:\n{out}"
        );
    }
    assert!(!out.contains("SELECT 1\n"), "bob's command is not alice's");
}

#[test]
fn replay_json_is_one_document() {
    let s = Setup::sample();
    let doc: Value = serde_json::from_str(&s.ok(&["replay", "s-alice", "--json"])).expect("json");
    assert_eq!(doc["session"]["id"], "s-alice");
    let events = doc["events"].as_array().expect("events");
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[0]["command"],
        "SELECT id, email FROM users WHERE id < $1"
    );
    assert_eq!(
        events[0]["outcome"]["preview"]["rows"][0][1],
        "a***@example.com"
    );
    assert!(events[2]["outcome"].is_null());
}

#[test]
fn replay_waits_for_the_recorded_gaps_divided_by_speed() {
    let s = Setup::sample();
    // alice's commands are 1 s and 1 s apart: 2 s at speed 4 is 0.5 s.
    let started = Instant::now();
    s.ok(&["replay", "s-alice", "--speed", "4"]);
    assert!(started.elapsed() >= Duration::from_millis(480));

    let bad = s.run(&["replay", "s-alice", "--speed", "0"]);
    assert!(!bad.status.success());
    let unknown = s.run(&["replay", "nope", "--no-wait"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no session"));
}

#[test]
fn sessions_show_reads_the_chain() {
    let s = Setup::sample();
    let out = s.ok(&["sessions", "show", "s-alice"]);
    assert!(
        out.contains("SELECT id, email FROM users WHERE id < $1 [2 params]"),
        "{out}"
    );
    assert!(out.contains("-> 2 rows, 40 bytes"), "{out}");
    assert!(out.contains("-> no outcome recorded"), "{out}");
}

/// A million commands, each with its outcome, exported as JSON lines: the
/// exporting process must stay small however long the log is. About a
/// minute in release, far longer in debug: `bench/audit_export.sh`.
#[test]
#[ignore = "slow: run with bench/audit_export.sh"]
fn export_of_a_million_commands_runs_in_bounded_memory() {
    const COMMANDS: usize = 1_000_000;
    const PER_BATCH: usize = 2_000;
    const RSS_BOUND_KIB: u64 = 64 * 1024;
    let s = Setup::empty();
    let path = s.db();
    let written = Instant::now();
    runtime().block_on(async move {
        let store = SqliteStore::open(&path).await.expect("open store");
        let mut batch = Vec::with_capacity(2 * PER_BATCH);
        for n in 0..COMMANDS {
            let session = format!("s{}", n / 1_000);
            let mut c = command(
                &session,
                if n % 2 == 0 { "alice" } else { "bob" },
                n % 1_000,
                T0 + n as i64,
                "SELECT id, email, created_at FROM customers WHERE id = $1",
            );
            c.params = vec![Some(n.to_string())].into();
            let preview = Preview {
                columns: vec!["id".into(), "email".into(), "created_at".into()].into(),
                rows: vec![vec![
                    Some(n.to_string()),
                    Some("j***@example.com".into()),
                    Some("2024-05-01 12:00:00+00".into()),
                ]],
                truncated: false,
            };
            let o = outcome(&c, 1, Some(preview));
            batch.push(WriteOp::Command(c));
            batch.push(WriteOp::Outcome(o));
            if batch.len() == 2 * PER_BATCH {
                store.write_batch(&batch).await.expect("write batch");
                batch.clear();
            }
        }
        store.write_batch(&batch).await.expect("write batch");
        store.close().await;
    });
    let write_secs = written.elapsed().as_secs_f64();
    println!(
        "wrote {} chain records in {write_secs:.1} s ({:.0} records/s)",
        2 * COMMANDS,
        (2 * COMMANDS) as f64 / write_secs
    );

    let file = s.dir.path().join("audit.jsonl");
    let file_arg = file.to_str().expect("utf-8 path");
    let (status, peak_kib, secs) =
        run_measured(s.command(&["audit", "export", "--format", "jsonl", "--output", file_arg]));
    assert!(status.success(), "export failed");
    let lines = BufReader::new(std::fs::File::open(&file).expect("open export"))
        .lines()
        .count();
    let size_mib = std::fs::metadata(&file).map_or(0, |m| m.len()) / (1024 * 1024);
    println!(
        "exported {lines} lines ({size_mib} MiB) in {secs:.1} s; peak RSS {} MiB",
        peak_kib / 1024
    );
    assert_eq!(lines, COMMANDS);
    assert!(
        peak_kib < RSS_BOUND_KIB,
        "export peak RSS {peak_kib} KiB is over {RSS_BOUND_KIB} KiB"
    );

    let mut verify = s.command(&["audit", "verify"]);
    verify.stdout(Stdio::null());
    let (status, peak_kib, secs) = run_measured(verify);
    println!(
        "verified {} records in {secs:.1} s; peak RSS {} MiB",
        2 * COMMANDS,
        peak_kib / 1024
    );
    assert!(status.success(), "verify failed");
    assert!(peak_kib < RSS_BOUND_KIB, "verify peak RSS {peak_kib} KiB");
}

/// Runs a child to its end, sampling its peak resident set (`VmHWM`, KiB)
/// from /proc while it runs.
fn run_measured(mut cmd: Command) -> (std::process::ExitStatus, u64, f64) {
    let started = Instant::now();
    let mut child = cmd.stdin(Stdio::null()).spawn().expect("spawn airlock");
    let status_file = Path::new("/proc")
        .join(child.id().to_string())
        .join("status");
    let mut peak = 0;
    loop {
        if let Some(hwm) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| vm_hwm_kib(&s))
        {
            peak = peak.max(hwm);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            return (status, peak, started.elapsed().as_secs_f64());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn vm_hwm_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
