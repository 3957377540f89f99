//! A Rust driver (tokio-postgres, SCRAM with the token as password) through
//! the gateway: the extended protocol with named statements, binary
//! results, transactions and query cancellation.

mod common;

use std::time::{Duration, Instant, SystemTime};

use tokio_postgres::NoTls;

use common::Gateway;
use common::pg::{TempDb, direct};
use common::pgclient::{bounded, connect_ok, db_error};
use common::record::{wait_for, wait_for_event, wait_for_events};

fn setup(prefix: &str) -> (TempDb, Gateway, String) {
    let db = TempDb::new(prefix);
    let gw = Gateway::with_local_pg("app", &db.name, "[\"alice\"]");
    let token = gw.identity_with_token("alice", &[]);
    (db, gw, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_prepared_statements_are_reused_and_record_their_parameters() {
    let (db, gw, token) = setup("drv_prepared");
    direct(&db.name, "CREATE TABLE kv (k int PRIMARY KEY, v text)");
    let client = connect_ok(&gw, "alice", "app", &token).await;

    // tokio-postgres names each prepared statement (s0, s1, …) and binds
    // it again for every execution.
    let insert = client
        .prepare("insert into kv (k, v) values ($1, $2)")
        .await
        .expect("prepare insert");
    let select = client
        .prepare("select v from kv where k = $1")
        .await
        .expect("prepare select");
    for k in 1..=5i32 {
        let n = client
            .execute(&insert, &[&k, &format!("secret-value-{k}")])
            .await
            .expect("insert");
        assert_eq!(n, 1);
    }
    for k in [3i32, 1, 5] {
        let row = client.query_one(&select, &[&k]).await.expect("select");
        assert_eq!(row.get::<_, String>(0), format!("secret-value-{k}"));
    }
    // A parameter that fails on the server fails that execution only.
    let err = client
        .execute(&insert, &[&1i32, &"duplicate"])
        .await
        .expect_err("duplicate key accepted");
    assert_eq!(db_error(&err).0, "23505");
    let row = client
        .query_one(&select, &[&2i32])
        .await
        .expect("select after error");
    assert_eq!(row.get::<_, String>(0), "secret-value-2");

    assert_eq!(direct(&db.name, "select count(*) from kv"), "5");

    // Six executions of the insert (one failed), four of the select: each
    // recorded with its statement text and the values bound to it (through
    // the masker; none of these looks like a secret to a detector).
    let inserts = wait_for_events(&gw, "insert into kv", 6);
    assert_eq!(inserts.len(), 6);
    for (_, e) in &inserts {
        assert_eq!(e["command"], "insert into kv (k, v) values ($1, $2)");
        assert_eq!(e["param_count"], 2);
    }
    let ok: Vec<_> = inserts
        .iter()
        .filter(|(_, e)| e["error"].is_null())
        .collect();
    assert_eq!(ok.len(), 5);
    assert!(ok.iter().all(|(_, e)| e["rows"] == 1));
    let failed = inserts
        .iter()
        .find(|(_, e)| !e["error"].is_null())
        .expect("the failed insert");
    assert!(
        failed.1["error"]
            .as_str()
            .is_some_and(|m| m.starts_with("23505")),
        "{}",
        failed.1
    );
    let selects = wait_for_events(&gw, "select v from kv", 4);
    for (_, e) in &selects {
        assert_eq!(e["param_count"], 1);
        assert_eq!(e["rows"], 1);
    }
    // tokio-postgres binds in binary format: the int4 is shown as its
    // bytes, the text as text.
    assert_eq!(
        inserts[0].1["params"],
        serde_json::json!(["\\x00000001", "secret-value-1"]),
        "{}",
        inserts[0].1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_results_arrive_bit_for_bit() {
    let (db, gw, token) = setup("drv_binary");
    direct(
        &db.name,
        "CREATE TABLE v (i int8, f float8, b bytea, t timestamp)",
    );
    let client = connect_ok(&gw, "alice", "app", &token).await;

    let every_byte: Vec<u8> = (0..=255u8).collect();
    let when = SystemTime::UNIX_EPOCH + Duration::from_micros(1_709_210_096_789_012);
    client
        .execute(
            "insert into v values ($1, $2, $3, $4)",
            &[&i64::MIN, &-1.5e300f64, &every_byte, &when],
        )
        .await
        .expect("insert");
    // tokio-postgres asks for every result column in binary format.
    let row = client
        .query_one("select i, f, b, t from v", &[])
        .await
        .expect("select");
    assert_eq!(row.get::<_, i64>(0), i64::MIN);
    assert_eq!(row.get::<_, f64>(1), -1.5e300);
    assert_eq!(row.get::<_, Vec<u8>>(2), every_byte);
    assert_eq!(row.get::<_, SystemTime>(3), when);

    // Values computed on the server, including a large binary one.
    let row = client
        .query_one(
            "select 9223372036854775807::int8, 'NaN'::float8, \
             decode(repeat('00ff', 100000), 'hex'), \
             timestamp '2000-01-01 00:00:00'",
            &[],
        )
        .await
        .expect("select computed");
    assert_eq!(row.get::<_, i64>(0), i64::MAX);
    assert!(row.get::<_, f64>(1).is_nan());
    let big: Vec<u8> = row.get(2);
    assert_eq!(big.len(), 200_000);
    assert!(big.chunks(2).all(|c| c == [0x00, 0xff]));
    assert_eq!(
        row.get::<_, SystemTime>(3),
        SystemTime::UNIX_EPOCH + Duration::from_secs(946_684_800)
    );

    // What landed on the server is what was sent.
    assert_eq!(
        direct(&db.name, "select i, f, md5(b), t from v"),
        format!(
            "{}|-1.5e+300|e2c865db4162bed963bfaa9ef6ac18f0|2024-02-29 12:34:56.789012",
            i64::MIN
        )
    );
    let (_, event) = wait_for_event(&gw, "decode(repeat('00ff'");
    assert_eq!(event["rows"], 1);
    assert!(event["bytes"].as_i64().unwrap_or(0) > 200_000, "{event}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_transaction_leaves_nothing_and_a_committed_one_lands() {
    let (db, gw, token) = setup("drv_tx");
    direct(&db.name, "CREATE TABLE t (id int PRIMARY KEY)");
    let mut client = connect_ok(&gw, "alice", "app", &token).await;

    let tx = client.transaction().await.expect("begin");
    tx.execute("insert into t values ($1)", &[&1i32])
        .await
        .expect("insert");
    // Inside the transaction the row is there; outside it is not yet.
    let n: i64 = tx
        .query_one("select count(*) from t", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(n, 1);
    assert_eq!(direct(&db.name, "select count(*) from t"), "0");
    tx.rollback().await.expect("rollback");
    assert_eq!(direct(&db.name, "select count(*) from t"), "0");

    let tx = client.transaction().await.expect("begin");
    tx.execute("insert into t values ($1)", &[&2i32])
        .await
        .expect("insert");
    tx.execute("insert into t values ($1)", &[&3i32])
        .await
        .expect("insert");
    tx.commit().await.expect("commit");
    assert_eq!(
        direct(
            &db.name,
            "select string_agg(id::text, ',' order by id) from t"
        ),
        "2,3"
    );

    // A failed transaction rolls back as a whole, and the session can go on.
    let tx = client.transaction().await.expect("begin");
    tx.execute("insert into t values ($1)", &[&4i32])
        .await
        .expect("insert");
    let err = tx
        .execute("insert into t values ($1)", &[&2i32])
        .await
        .expect_err("duplicate accepted");
    assert_eq!(db_error(&err).0, "23505");
    let err = tx
        .execute("select 1", &[])
        .await
        .expect_err("ran inside an aborted transaction");
    assert_eq!(db_error(&err).0, "25P02");
    drop(tx);
    let n: i64 = client
        .query_one("select count(*) from t", &[])
        .await
        .expect("count after abort")
        .get(0);
    assert_eq!(n, 2);

    // Each transaction's boundaries are recorded as commands of their own
    // (tokio-postgres opens with START TRANSACTION; dropping the failed
    // transaction sends ROLLBACK).
    let exact = |needle: &str, count: usize| {
        let found: Vec<_> = wait_for_events(&gw, needle, count)
            .into_iter()
            .filter(|(_, e)| e["command"] == needle)
            .collect();
        assert_eq!(found.len(), count, "{needle}: {found:?}");
        assert!(found.iter().all(|(_, e)| e["error"].is_null()), "{found:?}");
    };
    exact("START TRANSACTION", 3);
    exact("ROLLBACK", 2);
    exact("COMMIT", 1);
    let failed: Vec<_> = wait_for_events(&gw, "insert into t values", 5)
        .into_iter()
        .filter(|(_, e)| !e["error"].is_null())
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].1["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("23505: duplicate key")),
        "{:?}",
        failed[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_pg_sleep_stops_on_the_server() {
    let (db, gw, token) = setup("drv_cancel");
    let client = connect_ok(&gw, "alice", "app", &token).await;
    let marker = common::unique("cancel_me");
    let sql = format!("select pg_sleep(30) /* {marker} */");
    let running = format!(
        "select count(*) from pg_stat_activity where state = 'active' and query like '%{marker}%' and pid <> pg_backend_pid()"
    );

    let cancel = client.cancel_token();
    let started = Instant::now();
    let query = {
        let sql = sql.clone();
        tokio::spawn(async move { client.simple_query(&sql).await.map(|_| ()) })
    };
    // Cancel only once the server is really running it, so the test
    // proves the cancel reached that backend.
    wait_for(&gw, "pg_sleep to start on the server", || {
        (direct(&db.name, &running) == "1").then_some(())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    bounded("cancel request", 10, cancel.cancel_query(NoTls))
        .await
        .expect("cancel request");

    let result = bounded("the cancelled query", 15, query)
        .await
        .expect("query task");
    let err = result.expect_err("pg_sleep(30) was not cancelled");
    let (code, message) = db_error(&err);
    assert_eq!(code, "57014", "{message}");
    assert!(message.contains("canceling statement"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "cancel took {:?}",
        started.elapsed()
    );
    assert_eq!(direct(&db.name, &running), "0");
    assert!(
        gw.wait_for_log("cancel request forwarded"),
        "cancel not logged"
    );
    let (_, event) = wait_for_event(&gw, &marker);
    assert!(
        event["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("57014")),
        "{event}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_queries_and_suspended_portals_are_answered_and_recorded_in_order() {
    let (db, gw, token) = setup("drv_pipeline");
    direct(
        &db.name,
        "CREATE TABLE n (i int); INSERT INTO n SELECT generate_series(1, 5)",
    );
    let mut client = connect_ok(&gw, "alice", "app", &token).await;

    // tokio-postgres pipelines concurrent queries on one connection: all
    // three are on the wire before the first answer comes back.
    let (a, b, c) = tokio::join!(
        client.query("select i from n where i <= $1 /* pipe_a */", &[&2i32]),
        client.query("select i / (i - 3) from n /* pipe_b */", &[]),
        client.query("select count(*) from n /* pipe_c */", &[]),
    );
    assert_eq!(a.expect("pipe_a").len(), 2);
    assert_eq!(db_error(&b.expect_err("pipe_b divides by zero")).0, "22012");
    assert_eq!(c.expect("pipe_c")[0].get::<_, i64>(0), 5);
    let (_, e) = wait_for_event(&gw, "pipe_a");
    assert_eq!(e["rows"], 2);
    assert!(e["error"].is_null(), "{e}");
    let (_, e) = wait_for_event(&gw, "pipe_b");
    assert!(
        e["error"].as_str().is_some_and(|m| m.starts_with("22012")),
        "{e}"
    );
    let (_, e) = wait_for_event(&gw, "pipe_c");
    assert_eq!(e["rows"], 1);
    assert!(e["error"].is_null(), "{e}");

    // A named portal read two rows at a time: Execute with a row limit,
    // PortalSuspended, Execute again.
    let tx = client.transaction().await.expect("begin");
    let stmt = tx
        .prepare("select i from n order by i /* portal_rows */")
        .await
        .expect("prepare");
    let portal = tx.bind(&stmt, &[]).await.expect("bind");
    let mut seen = Vec::new();
    loop {
        let rows = tx.query_portal(&portal, 2).await.expect("fetch");
        if rows.is_empty() {
            break;
        }
        seen.extend(rows.iter().map(|r| r.get::<_, i32>(0)));
    }
    tx.commit().await.expect("commit");
    assert_eq!(seen, [1, 2, 3, 4, 5]);
    let fetches = wait_for_events(&gw, "portal_rows", 4);
    let rows: Vec<i64> = fetches
        .iter()
        .map(|(_, e)| e["rows"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(rows, [2, 2, 1, 0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_notifications_and_parameter_changes_pass_through() {
    use tokio_postgres::AsyncMessage;

    let (db, gw, token) = setup("drv_notify");
    // A listener whose connection task hands over what the server says on
    // its own: notices and notifications.
    let mut config = tokio_postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(gw.pg_port)
        .user("alice")
        .dbname("app")
        .password(token.as_str());
    let (listener, mut connection) = bounded("connect", 10, config.connect(NoTls))
        .await
        .expect("connect listener");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(m)) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            if tx.send(m).is_err() {
                break;
            }
        }
    });

    // The function is created directly on the server: through the gateway,
    // its body is code the default rule pack sends to review.
    common::pg::direct(
        &db.name,
        "CREATE FUNCTION hello() RETURNS void LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'hello from the server'; END $$",
    );
    listener
        .batch_execute("SELECT hello()")
        .await
        .expect("notice");
    match bounded("the notice", 10, rx.recv()).await {
        Some(AsyncMessage::Notice(n)) => {
            assert_eq!(n.message(), "hello from the server");
            assert_eq!(n.code().code(), "00000");
        }
        other => panic!("expected a notice, got {other:?}"),
    }

    listener
        .batch_execute("LISTEN airlock_test")
        .await
        .expect("listen");
    let sender = connect_ok(&gw, "alice", "app", &token).await;
    sender
        .batch_execute("NOTIFY airlock_test, 'ping'")
        .await
        .expect("notify");
    match bounded("the notification", 10, rx.recv()).await {
        Some(AsyncMessage::Notification(n)) => {
            assert_eq!(n.channel(), "airlock_test");
            assert_eq!(n.payload(), "ping");
        }
        other => panic!("expected a notification, got {other:?}"),
    }

    // A parameter the client changes is reported back and takes effect.
    listener
        .batch_execute("SET application_name = 'through-airlock'")
        .await
        .expect("set");
    let name = direct(
        &db.name,
        "select count(*) from pg_stat_activity where application_name = 'through-airlock'",
    );
    assert_eq!(name, "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_that_fails_to_prepare_is_recorded_with_its_error() {
    let (_db, gw, token) = setup("drv_bad_prepare");
    let client = connect_ok(&gw, "alice", "app", &token).await;
    // Parse, Describe, Sync with no Execute: the server's error is the
    // only outcome, and the audit trail must still show the attempt.
    let err = client
        .prepare("select * from no_such_table_prep")
        .await
        .expect_err("prepared a missing table");
    assert_eq!(db_error(&err).0, "42P01");
    let err = client
        .prepare("selec oops_prep")
        .await
        .expect_err("prepared a syntax error");
    assert_eq!(db_error(&err).0, "42601");
    // The session goes on.
    let row = client.query_one("select 1", &[]).await.expect("select 1");
    assert_eq!(row.get::<_, i32>(0), 1);

    let (_, e) = wait_for_event(&gw, "no_such_table_prep");
    assert_eq!(e["command"], "select * from no_such_table_prep");
    assert_eq!(
        e["error"],
        "42P01: relation \"no_such_table_prep\" does not exist"
    );
    let (_, e) = wait_for_event(&gw, "oops_prep");
    assert!(
        e["error"].as_str().is_some_and(|m| m.starts_with("42601")),
        "{e}"
    );
    // A prepare that succeeds is not an execution: the one recorded
    // command for `select 1` is its Execute.
    let ones: Vec<_> = wait_for_events(&gw, "select 1", 1)
        .into_iter()
        .filter(|(_, e)| e["command"] == "select 1")
        .collect();
    assert_eq!(ones.len(), 1, "{ones:?}");
    assert_eq!(ones[0].1["rows"], 1);
}
