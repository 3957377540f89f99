//! Bad input gets a clear error and nothing else happens (issue 2, point 7).
//!
//! Each case checks that the client gets an ErrorResponse with a fitting
//! SQLSTATE and a message naming the cause, that the gateway logs it, that
//! the gateway goes on serving a well-behaved client, and that neither the
//! client's token nor the target's password shows up in a log line or an
//! error message.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::pg::{TempDb, direct};
use common::pgclient::{bounded, connect, connect_ok, db_error};
use common::raw::{self, PROTOCOL_3_0, RefusingTarget};
use common::record::{sessions, show, wait_for, wait_for_end, wait_for_event};
use common::{Gateway, free_port, psql};

/// A gateway in front of a database of the test's own, reachable as
/// connection `app` by `alice`, plus whatever `connections` adds.
struct Setup {
    db: TempDb,
    gw: Gateway,
    token: String,
    /// Every secret of the test: tokens and target passwords.
    secrets: Vec<String>,
}

fn setup(prefix: &str, connections: &str, extra: &str) -> Setup {
    let db = TempDb::new(prefix);
    let app = format!(
        "  - name: app\n    type: postgres\n    target: {{ host: 127.0.0.1, port: 5432, database: {}, user: postgres, tls: disable }}\n    allow: [\"alice\"]\n",
        db.name
    );
    let gw = Gateway::start(&format!("{app}{connections}"), extra);
    let token = gw.identity_with_token("alice", &[]);
    Setup {
        db,
        gw,
        secrets: vec![token.clone()],
        token,
    }
}

impl Setup {
    /// A client that does everything right is still served.
    async fn still_serves(&self) {
        let client = connect_ok(&self.gw, "alice", "app", &self.token).await;
        let row = bounded(
            "a query after a refusal",
            10,
            client.query_one("select current_database()", &[]),
        )
        .await
        .expect("query after a refusal");
        assert_eq!(row.get::<_, String>(0), self.db.name);
    }

    /// Connecting must fail with an ErrorResponse; returns (code, message).
    async fn refused(&self, user: &str, dbname: &str, password: &str) -> (String, String) {
        match connect(&self.gw, user, dbname, password).await {
            Ok(_) => panic!("{user} was let into {dbname}"),
            Err(e) => db_error(&e),
        }
    }

    /// Neither the logs nor any of `messages` carry a secret of the test.
    fn assert_no_secret_leaks(&self, messages: &[&str]) {
        let logs = self.gw.logs();
        for secret in &self.secrets {
            assert!(
                !logs.contains(secret.as_str()),
                "a secret appears in the gateway log:\n{logs}"
            );
            for m in messages {
                assert!(
                    !m.contains(secret.as_str()),
                    "a secret appears in an error message: {m}"
                );
            }
        }
        // Not even a token's prefix and first characters.
        if let Some(head) = self.token.get(..12) {
            assert!(!logs.contains(head), "a token prefix is logged:\n{logs}");
        }
    }
}

/// Waits until one log line contains every needle.
fn logged(gw: &Gateway, needles: &[&str]) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if gw
            .logs()
            .lines()
            .any(|line| needles.iter().all(|n| line.contains(n)))
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn assert_logged(gw: &Gateway, needles: &[&str]) {
    assert!(
        logged(gw, needles),
        "no log line with all of {needles:?}:\n{}",
        gw.logs()
    );
}

/// A file holding a target password, for `password_file:`.
fn password_file(dir: &tempfile::TempDir, secret: &str) -> String {
    let path = dir.path().join("target.pw");
    let mut f = std::fs::File::create(&path).expect("password file");
    writeln!(f, "{secret}").expect("write password");
    path.display().to_string()
}

// --- tokens and identities ---------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_refused_with_28p01() {
    let s = setup("ref_wrong", "", "");
    // Well-formed but never issued, and plain garbage.
    let forged = format!("alk_{}", "0".repeat(64));
    for wrong in [forged.as_str(), "hunter2"] {
        let (code, message) = s.refused("alice", "app", wrong).await;
        assert_eq!(code, "28P01", "{message}");
        assert_eq!(message, "authentication failed: invalid token");
        assert!(!message.contains(wrong));
    }
    assert_logged(
        &s.gw,
        &["client refused", "code=\"28P01\"", "invalid token"],
    );
    // psql shows the same cause to a person.
    let (ok, _, err) = psql(&s.gw.conninfo("alice", "app"), &forged, &["-c", "select 1"]);
    assert!(!ok);
    assert!(
        err.contains("FATAL:  authentication failed: invalid token"),
        "psql stderr: {err}"
    );
    let logs = s.gw.logs();
    assert!(
        !logs.contains(&forged) && !logs.contains("hunter2"),
        "{logs}"
    );
    s.assert_no_secret_leaks(&[&err]);
    s.still_serves().await;
    // Refused logins never become sessions. The one session that ran
    // reaches the store shortly after its first command.
    let recorded = wait_for(&s.gw, "the session that ran", || {
        Some(sessions(&s.gw)).filter(|v| !v.is_empty())
    });
    assert_eq!(recorded.len(), 1, "{recorded:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refused_and_named_expired() {
    let mut s = setup("ref_expired", "", "");
    let issued = Instant::now();
    let short =
        s.gw.cli_ok(&["token", "issue", "alice", "--ttl", "2s"])
            .trim()
            .to_string();
    s.secrets.push(short.clone());
    // Live for now (two seconds leave room for a slow login on a busy
    // machine)…
    let _client = connect_ok(&s.gw, "alice", "app", &short).await;
    // …and expired half a second after its time.
    if let Some(left) = Duration::from_millis(2500).checked_sub(issued.elapsed()) {
        tokio::time::sleep(left).await;
    }
    let (code, message) = s.refused("alice", "app", &short).await;
    assert_eq!(code, "28P01", "{message}");
    assert!(
        message.starts_with("authentication failed: token tok_")
            && message.ends_with("has expired"),
        "{message}"
    );
    assert_logged(&s.gw, &["client refused", "code=\"28P01\"", "has expired"]);
    s.assert_no_secret_leaks(&[&message]);
    s.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_and_named_revoked() {
    let mut s = setup("ref_revoked", "", "");
    let ids = |gw: &Gateway| -> Vec<String> {
        let v: serde_json::Value =
            serde_json::from_str(&gw.cli_ok(&["token", "list", "--json"])).expect("json");
        v.as_array()
            .expect("token list")
            .iter()
            .filter_map(|t| t["id"].as_str().map(String::from))
            .collect()
    };
    let before = ids(&s.gw);
    let doomed = s.gw.cli_ok(&["token", "issue", "alice"]).trim().to_string();
    s.secrets.push(doomed.clone());
    let id = ids(&s.gw)
        .into_iter()
        .find(|i| !before.contains(i))
        .expect("the new token's id");
    let _client = connect_ok(&s.gw, "alice", "app", &doomed).await;
    s.gw.cli_ok(&["token", "revoke", &id]);

    let (code, message) = s.refused("alice", "app", &doomed).await;
    assert_eq!(code, "28P01", "{message}");
    assert_eq!(
        message,
        format!("authentication failed: token {id} has been revoked")
    );
    assert_logged(&s.gw, &["client refused", "code=\"28P01\"", "revoked"]);
    // Revocation is per token: alice's other token still works.
    s.assert_no_secret_leaks(&[&message]);
    s.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_identity_is_refused_with_28000() {
    let s = setup("ref_unknown_id", "", "");
    let (code, message) = s.refused("mallory", "app", &s.token).await;
    assert_eq!(code, "28000", "{message}");
    assert_eq!(message, "unknown identity \"mallory\"");
    assert_logged(
        &s.gw,
        &["client refused", "code=\"28000\"", "unknown identity"],
    );
    // A name that is not even a valid identity name is refused the same way.
    let (code, message) = s.refused("robert'); drop table x;--", "app", "x").await;
    assert_eq!(code, "28000", "{message}");
    assert!(message.starts_with("unknown identity"), "{message}");
    s.assert_no_secret_leaks(&[&message]);
    s.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_connection_is_refused_with_3d000() {
    let s = setup("ref_unknown_conn", "", "");
    let (code, message) = s.refused("alice", "no_such_connection", &s.token).await;
    assert_eq!(code, "3D000", "{message}");
    assert_eq!(message, "connection \"no_such_connection\" does not exist");
    assert_logged(
        &s.gw,
        &["client refused", "code=\"3D000\"", "no_such_connection"],
    );
    s.assert_no_secret_leaks(&[&message]);
    s.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_not_on_the_allow_list_is_refused_with_28000() {
    let mut s = setup("ref_not_allowed", "", "");
    let bob = s.gw.identity_with_token("bob", &["--group", "ops"]);
    s.secrets.push(bob.clone());
    let (code, message) = s.refused("bob", "app", &bob).await;
    assert_eq!(code, "28000", "{message}");
    assert_eq!(
        message,
        "identity \"bob\" is not allowed to use connection \"app\""
    );
    assert_logged(&s.gw, &["client refused", "code=\"28000\"", "not allowed"]);
    // Bob's token is good: it is the allow list that keeps him out.
    let (code, _) = s.refused("bob", "no_such_connection", &bob).await;
    assert_eq!(code, "3D000");
    s.assert_no_secret_leaks(&[&message]);
    s.still_serves().await;
}

// --- the target --------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_is_down_is_refused_with_08001() {
    let secrets = tempfile::tempdir().expect("tempdir");
    let target_pw = "down-target-password-5b1e";
    let port = free_port();
    let mut s = setup(
        "ref_down",
        &format!(
            "  - name: down\n    type: postgres\n    target: {{ host: 127.0.0.1, port: {port}, database: x, user: app, password_file: {}, tls: disable }}\n    allow: [\"alice\"]\n",
            password_file(&secrets, target_pw)
        ),
        "",
    );
    s.secrets.push(target_pw.into());
    let started = Instant::now();
    let (code, message) = s.refused("alice", "down", &s.token).await;
    assert_eq!(code, "08001", "{message}");
    assert!(
        message.starts_with(&format!(
            "connection \"down\": cannot reach target 127.0.0.1:{port}"
        )),
        "{message}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_logged(&s.gw, &["target connection failed", "connection=down"]);
    assert_logged(&s.gw, &["client refused", "code=\"08001\""]);
    s.assert_no_secret_leaks(&[&message]);
    s.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_refusing_the_injected_role_is_a_clear_refusal() {
    // The machine's server trusts local connections, so it does not ask
    // for the password; it refuses the role itself (FATAL 28000).
    let secrets = tempfile::tempdir().expect("tempdir");
    let target_pw = "norole-target-password-9c3f";
    let mut s = setup(
        "ref_norole",
        &format!(
            "  - name: norole\n    type: postgres\n    target: {{ host: 127.0.0.1, port: 5432, database: test, user: no_such_role_xyz, password_file: {}, tls: disable }}\n    allow: [\"alice\"]\n",
            password_file(&secrets, target_pw)
        ),
        "",
    );
    s.secrets.push(target_pw.into());
    let (code, message) = s.refused("alice", "norole", &s.token).await;
    // The target's own class-28 reason is passed on: the role is not
    // authorized at all (28000), which is not a wrong password (28P01).
    assert_eq!(code, "28000", "{message}");
    assert_eq!(
        message,
        "connection \"norole\": target refused the gateway's credentials: 28000 role \"no_such_role_xyz\" does not exist"
    );
    assert_logged(
        &s.gw,
        &[
            "target connection failed",
            "connection=norole",
            "no_such_role_xyz",
        ],
    );
    assert_logged(&s.gw, &["client refused", "code=\"28000\""]);
    s.assert_no_secret_leaks(&[&message]);
    s.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_refusing_the_injected_password_is_a_clear_refusal() {
    // A stand-in target that asks for a password and refuses it, as a
    // server whose password was rotated under the gateway would.
    let target = RefusingTarget::start(
        "28P01",
        "password authentication failed for user \"app_rw\"",
    );
    let secrets = tempfile::tempdir().expect("tempdir");
    let target_pw = "stale-target-password-77aa";
    let mut s = setup(
        "ref_badpw",
        &format!(
            "  - name: stale\n    type: postgres\n    target: {{ host: 127.0.0.1, port: {}, database: app, user: app_rw, password_file: {}, tls: disable }}\n    allow: [\"alice\"]\n",
            target.port,
            password_file(&secrets, target_pw)
        ),
        "",
    );
    s.secrets.push(target_pw.into());
    let (code, message) = s.refused("alice", "stale", &s.token).await;
    assert_eq!(code, "28P01", "{message}");
    assert_eq!(
        message,
        "connection \"stale\": target refused the gateway's credentials: 28P01 password authentication failed for user \"app_rw\""
    );
    // The gateway did inject the configured password (and only to the
    // target): the refusal is the target's, not a gateway mix-up.
    assert_eq!(target.password_received().as_deref(), Some(target_pw));
    assert_logged(
        &s.gw,
        &[
            "target connection failed",
            "connection=stale",
            "password authentication failed",
        ],
    );
    s.assert_no_secret_leaks(&[&message]);
    s.still_serves().await;
}

// --- malformed and oversized input ---------------------------------------

/// Sends `bytes` as the first thing on a fresh connection; expects one
/// FATAL ErrorResponse and then the connection closed.
fn refused_raw(gw: &Gateway, bytes: &[u8]) -> raw::Message {
    let mut stream = raw::connect(gw.pg_port);
    stream.write_all(bytes).expect("send");
    let reply = raw::read_message(&mut stream)
        .expect("read the gateway's answer")
        .expect("the gateway closed without an answer");
    assert_eq!(reply.tag, b'E', "not an ErrorResponse: {reply:?}");
    assert_eq!(reply.severity(), "FATAL", "{reply:?}");
    assert!(
        raw::closed_by_peer(&mut stream),
        "the gateway kept the connection open after {reply:?}"
    );
    reply
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_startup_packets_are_refused_with_a_protocol_error() {
    let s = setup("ref_malformed", "", "");

    // Protocol 2.0: length 8, version 0x00020000.
    let mut v2 = 8i32.to_be_bytes().to_vec();
    v2.extend_from_slice(&0x0002_0000i32.to_be_bytes());
    let reply = refused_raw(&s.gw, &v2);
    assert!(
        ["08P01", "0A000"].contains(&reply.code().as_str()),
        "{reply:?}"
    );
    assert!(
        reply.text().contains("unsupported frontend protocol 2.0"),
        "{}",
        reply.text()
    );
    assert_logged(
        &s.gw,
        &["client refused", "unsupported frontend protocol 2.0"],
    );

    // Protocol 3.0, but the parameter list runs off the end of the packet.
    let mut truncated = 20i32.to_be_bytes().to_vec();
    truncated.extend_from_slice(&PROTOCOL_3_0.to_be_bytes());
    truncated.extend_from_slice(b"user\0alice\0");
    truncated.push(b'x');
    let reply = refused_raw(&s.gw, &truncated);
    assert_eq!(reply.code(), "08P01");
    assert!(
        reply.text().contains("malformed startup"),
        "{}",
        reply.text()
    );

    // A length too small to hold even a version.
    let reply = refused_raw(&s.gw, &[0, 0, 0, 4, 0, 0, 0, 0]);
    assert_eq!(reply.code(), "08P01");
    assert!(
        reply.text().contains("invalid length 4"),
        "{}",
        reply.text()
    );

    // Another protocol entirely.
    let reply = refused_raw(&s.gw, b"GET / HTTP/1.1\r\nHost: example\r\n\r\n");
    assert_eq!(reply.code(), "08P01");
    assert!(
        reply.text().contains("exceeds the limit"),
        "{}",
        reply.text()
    );
    assert_logged(
        &s.gw,
        &["client refused", "code=\"08P01\"", "exceeds the limit"],
    );

    // Half a startup packet, then the client is gone: nothing to answer,
    // and nothing else happens.
    let gone = |gw: &Gateway| {
        gw.logs()
            .lines()
            .filter(|l| l.contains("client refused") && l.contains("client closed the connection"))
            .count()
    };
    let before = gone(&s.gw);
    {
        let mut stream = raw::connect(s.gw.pg_port);
        stream.write_all(&[0, 0, 0, 40, 0, 3]).expect("send");
    }
    wait_for(&s.gw, "the vanished client to be logged", || {
        (gone(&s.gw) > before).then_some(())
    });

    s.still_serves().await;
    s.assert_no_secret_leaks(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_startup_packet_is_refused_from_its_header() {
    let s = setup("ref_big_startup", "", "");
    let started = Instant::now();
    let mut stream = raw::connect(s.gw.pg_port);
    // Only the header: the gateway must not wait for 100 000 bytes.
    let mut header = 100_000i32.to_be_bytes().to_vec();
    header.extend_from_slice(&PROTOCOL_3_0.to_be_bytes());
    stream.write_all(&header).expect("send");
    let reply = raw::read_message(&mut stream)
        .expect("read")
        .expect("an answer");
    assert_eq!(reply.tag, b'E');
    assert_eq!(reply.code(), "08P01");
    assert_eq!(
        reply.text(),
        "invalid startup packet: message of 100000 bytes exceeds the limit of 10000 bytes"
    );
    assert!(raw::closed_by_peer(&mut stream));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_logged(
        &s.gw,
        &[
            "client refused",
            "code=\"08P01\"",
            "100000 bytes exceeds the limit of 10000",
        ],
    );

    // The whole packet, sent in one go, is refused the same way.
    let mut big = raw::startup_packet(
        PROTOCOL_3_0,
        &[("user", "alice"), ("options", &"x".repeat(100_000))],
    );
    big.truncate(big.len().min(120_000));
    let reply = refused_raw(&s.gw, &big);
    assert_eq!(reply.code(), "08P01");
    assert!(reply.text().contains("exceeds the limit of 10000 bytes"));

    s.still_serves().await;
    s.assert_no_secret_leaks(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_after_login_ends_that_session_only() {
    let s = setup(
        "ref_big_message",
        "",
        "limits:\n  max_message_bytes: 65536\n",
    );
    let client = connect_ok(&s.gw, "alice", "app", &s.token).await;
    // Under the cap: served.
    let fits = format!("select length('{}')", "a".repeat(60_000));
    let row = client
        .query_one(fits.as_str(), &[])
        .await
        .expect("60 kB query");
    assert_eq!(row.get::<_, i32>(0), 60_000);

    // Over the cap: FATAL, naming the limit; the session is over.
    let marker = common::unique("too_big");
    let huge = format!("select '{marker}', length('{}')", "b".repeat(70_000));
    let err = bounded("the oversized query", 10, client.simple_query(&huge))
        .await
        .expect_err("an oversized message was accepted");
    let (code, message) = db_error(&err);
    assert_eq!(code, "08P01", "{message}");
    assert!(
        message.contains("exceeds the limit of 65536 bytes"),
        "{message}"
    );
    let err = bounded(
        "a query after the refusal",
        10,
        client.simple_query("select 1"),
    )
    .await
    .expect_err("the session survived a protocol violation");
    assert!(err.is_closed(), "{err:?}");

    assert_logged(
        &s.gw,
        &[
            "session ended",
            "protocol violation",
            "exceeds the limit of 65536 bytes",
        ],
    );
    let ended = wait_for(&s.gw, "the session to be recorded as ended", || {
        sessions(&s.gw).into_iter().find(|x| {
            x["end_reason"]
                .as_str()
                .is_some_and(|r| r.contains("protocol violation"))
        })
    });
    assert!(
        ended["end_reason"]
            .as_str()
            .is_some_and(|r| r.contains("exceeds the limit of 65536 bytes")),
        "{ended}"
    );
    // The refused text never reached the server, so it is no event.
    let doc = show(&s.gw, ended["id"].as_str().expect("id"));
    assert!(!doc.to_string().contains(&marker), "{doc}");

    s.still_serves().await;
    s.assert_no_secret_leaks(&[&message]);
}

// --- clients that go away ----------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_vanishes_mid_query_ends_its_session_cleanly() {
    let s = setup("ref_vanish", "", "");
    let marker = common::unique("vanishing");
    let sql = format!("select pg_sleep(2) /* {marker} */");
    let on_server = format!(
        "select count(*) from pg_stat_activity where query like '%{marker}%' and pid <> pg_backend_pid()"
    );
    let (client, connection) = connect(&s.gw, "alice", "app", &s.token)
        .await
        .expect("connect");
    let query = tokio::spawn(async move {
        let _ = client.simple_query(&sql).await;
    });
    wait_for(&s.gw, "pg_sleep to start on the server", || {
        (direct(&s.db.name, &on_server) == "1").then_some(())
    });
    // The connection task owns the socket: aborting it closes the socket
    // with the query in flight, as a killed client process would.
    connection.abort();
    let _ = connection.await;
    query.abort();

    assert_logged(
        &s.gw,
        &["session ended", "reason=client closed the connection"],
    );
    let (session, event) = wait_for_event(&s.gw, &marker);
    assert_eq!(
        event["error"], "unfinished: client closed the connection",
        "{event}"
    );
    let doc = wait_for_end(&s.gw, session["id"].as_str().expect("id"));
    assert_eq!(doc["session"]["end_reason"], "client closed the connection");
    // The gateway closed its side to the target too: the backend goes away
    // once the sleep is over instead of lingering.
    wait_for(&s.gw, "the target backend to go away", || {
        (direct(&s.db.name, &on_server) == "0").then_some(())
    });

    s.still_serves().await;
    s.assert_no_secret_leaks(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_its_handshake_is_dropped() {
    let s = setup("ref_slow", "", "limits:\n  handshake_timeout: 1s\n");
    let started = Instant::now();
    let mut stream = raw::connect(s.gw.pg_port);
    // Connects, then says nothing.
    assert!(raw::closed_by_peer(&mut stream), "connection left open");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "dropped after {waited:?}"
    );
    assert_logged(&s.gw, &["client refused", "handshake timeout"]);
    s.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_result_from_the_target_ends_that_session_with_a_clear_error() {
    let s = setup("ref_big_row", "", "limits:\n  max_message_bytes: 65536\n");
    let client = connect_ok(&s.gw, "alice", "app", &s.token).await;
    let err = bounded(
        "a query whose row is over the cap",
        10,
        client.simple_query("select repeat('x', 100000) /* big_row */"),
    )
    .await
    .expect_err("an oversized row was relayed");
    let (code, message) = db_error(&err);
    assert_eq!(code, "08P01", "{message}");
    assert!(
        message.contains("exceeds the limit of 65536 bytes"),
        "{message}"
    );
    assert_logged(
        &s.gw,
        &["session ended", "exceeds the limit of 65536 bytes"],
    );
    let (_, event) = wait_for_event(&s.gw, "big_row");
    assert!(
        event["error"]
            .as_str()
            .is_some_and(|e| e.contains("exceeds the limit")),
        "{event}"
    );
    s.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_ends_the_session_is_relayed_and_recorded() {
    let s = setup("ref_terminated", "", "");
    let client = connect_ok(&s.gw, "alice", "app", &s.token).await;
    // The server ends the backend under the session, as an administrator
    // or a restart would; its FATAL is passed on as it is.
    let err = bounded(
        "a query that ends its own backend",
        10,
        client.simple_query("select pg_terminate_backend(pg_backend_pid())"),
    )
    .await
    .expect_err("the backend survived");
    let (code, message) = db_error(&err);
    assert_eq!(code, "57P01", "{message}");
    assert!(message.contains("administrator command"), "{message}");
    assert_logged(
        &s.gw,
        &["session ended", "reason=target closed the connection"],
    );
    let (session, event) = wait_for_event(&s.gw, "pg_terminate_backend");
    assert!(
        event["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("57P01")),
        "{event}"
    );
    let doc = wait_for_end(&s.gw, session["id"].as_str().expect("id"));
    assert_eq!(doc["session"]["end_reason"], "target closed the connection");
    s.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_after_login_end_that_session_only() {
    let s = setup("ref_bad_message", "", "");
    let backends = format!(
        "select count(*) from pg_stat_activity where datname = '{}' and pid <> pg_backend_pid()",
        s.db.name
    );
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "a Query without its terminator",
            raw::message(b'Q', b"select 1"),
            "malformed Query message",
        ),
        (
            "a message type no client sends",
            raw::message(b'Z', b"I"),
            "unexpected message type 'Z' from client",
        ),
        (
            "a length shorter than the length field",
            b"Q\x00\x00\x00\x02".to_vec(),
            "message announces an invalid length 2",
        ),
        (
            "a truncated Bind",
            raw::message(b'B', b"\0\0\0\x05"),
            "malformed Bind message",
        ),
        (
            "a Close of neither statement nor portal",
            raw::message(b'C', b"X\0"),
            "invalid Close target 'X'",
        ),
    ];
    for (what, bytes, cause) in cases {
        let mut stream = raw::login(s.gw.pg_port, "alice", "app", &s.token);
        stream.write_all(&bytes).expect("send");
        let reply = raw::read_message(&mut stream)
            .expect("read")
            .unwrap_or_else(|| panic!("{what}: closed without an answer"));
        assert_eq!(reply.tag, b'E', "{what}: {reply:?}");
        assert_eq!(reply.severity(), "FATAL", "{what}: {reply:?}");
        assert_eq!(reply.code(), "08P01", "{what}: {reply:?}");
        assert!(reply.text().contains(cause), "{what}: {}", reply.text());
        assert!(raw::closed_by_peer(&mut stream), "{what}: left open");
        assert_logged(&s.gw, &["session ended", "protocol violation", cause]);
        // The gateway let go of the target connection too.
        wait_for(&s.gw, "the target backend to go away", || {
            (direct(&s.db.name, &backends) == "0").then_some(())
        });
    }
    // A session's end reaches the store behind it (docs/audit.md): the
    // last one may not be there yet.
    let ended_by_violation = || -> Vec<_> {
        sessions(&s.gw)
            .into_iter()
            .filter(|x| {
                x["end_reason"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("protocol violation"))
            })
            .collect()
    };
    let ended = wait_for(&s.gw, "five sessions recorded as ended", || {
        let ended = ended_by_violation();
        (ended.len() >= 5).then_some(ended)
    });
    assert_eq!(ended.len(), 5, "{ended:?}");
    s.still_serves().await;
    s.assert_no_secret_leaks(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_path_call_is_refused_in_its_turn_and_the_session_goes_on() {
    let s = setup("ref_fastpath", "", "");
    // FunctionCall (oid 1, no arguments, text result) has no SQL for the
    // guard to read; it is refused with 0A000.
    let mut call = 1i32.to_be_bytes().to_vec();
    call.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let call = raw::message(b'F', &call);
    let mut stream = raw::login(s.gw.pg_port, "alice", "app", &s.token);

    // Pipelined behind a query still running on the server, the refusal
    // must come after that query's replies: a client pairs replies with
    // requests by order alone.
    let mut batch = raw::message(b'Q', b"begin; select pg_sleep(0.3), 'first'\0");
    batch.extend_from_slice(&call);
    batch.extend_from_slice(&raw::message(b'Q', b"select 'third'\0"));
    stream.write_all(&batch).expect("send");
    let mut seen = Vec::new();
    while seen.iter().filter(|(t, _)| *t == 'Z').count() < 3 {
        let m = raw::read_message(&mut stream)
            .expect("read")
            .expect("closed mid-pipeline");
        let detail = match m.tag {
            b'E' => format!("{} {}", m.code(), m.text()),
            b'Z' | b'D' => String::from_utf8_lossy(&m.body).into_owned(),
            _ => String::new(),
        };
        seen.push((m.tag as char, detail));
    }
    let tags: String = seen.iter().map(|(t, _)| *t).collect();
    assert_eq!(tags, "CTDCZEZTDCZ", "{seen:?}");
    assert!(
        seen[5]
            .1
            .starts_with("0A000 fast-path function calls are not supported")
    );
    // The refusal's ReadyForQuery reports the transaction the query left
    // open, not the state from before it.
    assert_eq!(seen[6].1, "T");
    assert!(seen[8].1.contains("third"), "{seen:?}");

    stream
        .write_all(&raw::message(b'X', b""))
        .expect("terminate");
    assert!(raw::closed_by_peer(&mut stream));
    assert_logged(&s.gw, &["session ended", "reason=client terminated"]);
    s.still_serves().await;
}

/// A load balancer's health check (connect, then close without a byte) is
/// not a refused client: no warning per probe, and the gateway serves on.
#[test]
fn a_bare_connect_and_close_is_not_a_warning() {
    let s = setup("ref_probe", "", "");
    for _ in 0..5 {
        let probe = std::net::TcpStream::connect(("127.0.0.1", s.gw.pg_port)).expect("connect");
        drop(probe);
    }
    let (ok, out, err) = psql(
        &s.gw.conninfo("alice", "app"),
        &s.token,
        &["-c", "select 7"],
    );
    assert!(ok && out.trim() == "7", "{err}");
    // Half a startup packet, then gone: that one is worth a warning.
    let mut half = std::net::TcpStream::connect(("127.0.0.1", s.gw.pg_port)).expect("connect");
    half.write_all(&[0, 0, 0]).expect("write");
    drop(half);
    assert!(s.gw.wait_for_log("client refused"), "{}", s.gw.logs());
    let refused = s.gw.logs().matches("client refused").count();
    assert_eq!(
        refused,
        1,
        "only the half packet is a refusal: {}",
        s.gw.logs()
    );
}
