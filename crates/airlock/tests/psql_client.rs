//! The real `psql` through the gateway: rows, errors, `\copy` both ways,
//! multi-statement strings and TLS — each checked on the server directly
//! and in what the gateway recorded.

mod common;

use common::pg::{TempDb, direct};
use common::record::{show, wait_for_end, wait_for_event};
use common::{Gateway, psql, psql_stdin};

/// A database of the test's own behind a gateway where `alice` may use it
/// as connection `app`. Returns alice's token.
fn setup(prefix: &str) -> (TempDb, Gateway, String) {
    let db = TempDb::new(prefix);
    let gw = Gateway::with_local_pg("app", &db.name, "[\"alice\"]");
    let token = gw.identity_with_token("alice", &[]);
    (db, gw, token)
}

#[test]
fn queries_return_their_rows_and_each_statement_is_recorded() {
    let (db, gw, token) = setup("psql_rows");
    direct(
        &db.name,
        "CREATE TABLE fruit (id int PRIMARY KEY, name text);
         INSERT INTO fruit VALUES (1, 'apple'), (2, 'pear'), (3, 'plum')",
    );
    let sql = "select id, name from fruit order by id";
    let (ok, out, err) = psql(&gw.conninfo("alice", "app"), &token, &["-c", sql]);
    assert!(ok, "psql failed: {err}");
    assert_eq!(out.trim(), "1|apple\n2|pear\n3|plum");

    let (session, event) = wait_for_event(&gw, sql);
    assert_eq!(event["command"], sql);
    assert_eq!(event["rows"], 3);
    assert_eq!(event["verdict"], "allow");
    assert_eq!(event["param_count"], 0);
    assert!(event["error"].is_null(), "unexpected error: {event}");
    assert!(
        event["bytes"].as_i64().unwrap_or(0) > 0,
        "no bytes: {event}"
    );
    assert_eq!(event["identity"], "alice");
    assert_eq!(event["connection"], "app");
    assert_eq!(session["identity"], "alice");

    // psql says goodbye with Terminate: the session ends cleanly, with
    // its totals.
    let id = session["id"].as_str().expect("session id");
    let doc = wait_for_end(&gw, id);
    assert_eq!(doc["session"]["end_reason"], "client terminated");
    assert_eq!(doc["session"]["commands"], 1);
    assert_eq!(doc["session"]["rows"], 3);
}

#[test]
fn sql_errors_come_back_intact_and_the_session_goes_on() {
    let (_db, gw, token) = setup("psql_errors");
    let script = "\\set VERBOSITY verbose\n\
                  select 1/0;\n\
                  select * from no_such_table_xyz;\n\
                  select 'still here';\n";
    let (ok, out, err) = psql_stdin(
        &gw.conninfo("alice", "app"),
        &token,
        &["-v", "ON_ERROR_STOP=0"],
        Some(script),
    );
    assert!(ok, "psql failed: {err}");
    // Every field of the server's ErrorResponse reaches the client: the
    // SQLSTATE, the position (psql draws `LINE 1:` from it) and the
    // source location that only verbose mode shows.
    assert!(
        err.contains("ERROR:  22012: division by zero"),
        "stderr: {err}"
    );
    assert!(
        err.contains("ERROR:  42P01: relation \"no_such_table_xyz\" does not exist"),
        "stderr: {err}"
    );
    assert!(
        err.contains("LINE 1: select * from no_such_table_xyz"),
        "stderr: {err}"
    );
    assert!(err.contains("LOCATION:"), "stderr: {err}");
    // An error ends the statement, not the session.
    assert_eq!(out.trim(), "still here");

    let (session, event) = wait_for_event(&gw, "select 1/0");
    assert_eq!(event["error"], "22012: division by zero");
    assert_eq!(event["rows"], 0);
    let (_, event) = wait_for_event(&gw, "no_such_table_xyz");
    assert_eq!(
        event["error"],
        "42P01: relation \"no_such_table_xyz\" does not exist"
    );
    let (_, event) = wait_for_event(&gw, "still here");
    assert!(event["error"].is_null(), "{event}");
    assert_eq!(event["rows"], 1);
    let id = session["id"].as_str().expect("session id");
    let doc = wait_for_end(&gw, id);
    assert_eq!(doc["session"]["end_reason"], "client terminated");
    assert_eq!(doc["session"]["commands"], 3);
}

#[test]
fn copy_in_from_stdin_and_out_to_stdout_and_a_file() {
    let (db, gw, token) = setup("psql_copy");
    direct(&db.name, "CREATE TABLE t (id int PRIMARY KEY, name text)");
    let conn = gw.conninfo("alice", "app");

    // COPY FROM STDIN: psql streams the lines after the command as
    // CopyData. A few thousand rows so the data crosses many reads.
    let mut script = String::from("\\copy t from stdin\n1\talpha\n2\tbeta\n3\tgamma\n");
    for i in 4..=5000 {
        script.push_str(&format!("{i}\trow {i}\n"));
    }
    script.push_str("\\.\n");
    let (ok, out, err) = psql_stdin(&conn, &token, &[], Some(&script));
    assert!(ok, "psql \\copy from stdin failed: {err}");
    assert_eq!(out.trim(), "COPY 5000");
    assert_eq!(
        direct(&db.name, "select count(*), sum(id) from t"),
        "5000|12502500"
    );
    assert_eq!(
        direct(
            &db.name,
            "select name from t where id in (1, 3) order by id"
        ),
        "alpha\ngamma"
    );
    let (_, event) = wait_for_event(&gw, "FROM STDIN");
    assert_eq!(event["rows"], 5000);
    assert!(event["error"].is_null(), "{event}");

    // COPY TO STDOUT.
    direct(&db.name, "DELETE FROM t WHERE id > 3");
    let (ok, out, err) = psql(&conn, &token, &["-c", "\\copy t to stdout"]);
    assert!(ok, "psql \\copy to stdout failed: {err}");
    assert_eq!(out, "1\talpha\n2\tbeta\n3\tgamma\n");
    let (_, event) = wait_for_event(&gw, "TO STDOUT");
    assert_eq!(event["rows"], 3);
    // The three CopyData messages were counted.
    assert_eq!(event["bytes"], out.len());

    // COPY (query) TO a file on the client's side.
    let file = gw.path().join("out.csv");
    let cmd = format!(
        "\\copy (select id, upper(name) from t order by id) to '{}' with (format csv)",
        file.display()
    );
    let (ok, _, err) = psql(&conn, &token, &["-c", &cmd]);
    assert!(ok, "psql \\copy to file failed: {err}");
    let written = std::fs::read_to_string(&file).expect("copy output file");
    assert_eq!(written, "1,ALPHA\n2,BETA\n3,GAMMA\n");

    // A COPY FROM whose data the server rejects: the error comes back and
    // nothing lands.
    let script = "\\copy t from stdin\n10\tok\nnot-a-number\tbad\n\\.\n";
    let (ok, _, err) = psql_stdin(&conn, &token, &[], Some(script));
    assert!(!ok, "a bad COPY succeeded");
    assert!(
        err.contains("invalid input syntax for type integer"),
        "stderr: {err}"
    );
    assert_eq!(direct(&db.name, "select count(*) from t"), "3");
}

#[test]
fn a_multi_statement_string_runs_as_one_command() {
    let (db, gw, token) = setup("psql_multi");
    direct(&db.name, "CREATE TABLE t (id int PRIMARY KEY)");
    let conn = gw.conninfo("alice", "app");
    let sql = "insert into t values (1); insert into t values (2), (3); select count(*) from t";
    let (ok, out, err) = psql(&conn, &token, &["-c", sql]);
    assert!(ok, "psql failed: {err}");
    assert_eq!(out.lines().last(), Some("3"), "stdout: {out}");
    assert_eq!(
        direct(
            &db.name,
            "select string_agg(id::text, ',' order by id) from t"
        ),
        "1,2,3"
    );
    let (_, event) = wait_for_event(&gw, sql);
    assert_eq!(event["command"], sql);
    // Rows touched or returned by all three: 1 + 2 inserted, 1 selected.
    assert_eq!(event["rows"], 4);
    assert!(event["error"].is_null(), "{event}");

    // One string is one implicit transaction: a failure in the middle
    // undoes the statement before it, and the error names the failure.
    let sql = "insert into t values (10); insert into t values (1); insert into t values (11)";
    let (ok, _, err) = psql(&conn, &token, &["-c", sql]);
    assert!(!ok, "duplicate key accepted");
    assert!(err.contains("duplicate key value"), "stderr: {err}");
    assert_eq!(direct(&db.name, "select count(*) from t"), "3");
    let (_, event) = wait_for_event(&gw, "insert into t values (10)");
    let error = event["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("23505: duplicate key value"), "{event}");
}

#[test]
fn psql_with_sslmode_require_is_served_over_tls() {
    let (_db, gw, token) = setup("psql_tls");
    let conn = format!("{} sslmode=require", gw.conninfo("alice", "app"));
    let (ok, out, err) = psql(
        &conn,
        &token,
        &["-c", "\\conninfo", "-c", "select 'over tls'"],
    );
    assert!(ok, "psql over TLS failed: {err}");
    assert!(
        out.contains("SSL connection (protocol: TLS"),
        "stdout: {out}"
    );
    assert!(out.trim_end().ends_with("over tls"), "stdout: {out}");
    assert!(gw.wait_for_log("tls=true"), "no TLS login logged");
    let (session, event) = wait_for_event(&gw, "select 'over tls'");
    assert_eq!(event["rows"], 1);
    let id = session["id"].as_str().expect("session id");
    assert_eq!(show(&gw, id)["session"]["identity"], "alice");
}

#[test]
fn ctrl_c_in_psql_cancels_the_query_on_the_server() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let (db, gw, token) = setup("psql_cancel");
    let marker = common::unique("psql_cancel");
    let running = format!(
        "select count(*) from pg_stat_activity where state = 'active' and query like '%{marker}%' and pid <> pg_backend_pid()"
    );
    let started = Instant::now();
    let child = Command::new("psql")
        .arg(gw.conninfo("alice", "app"))
        .args(["-X", "-At", "-c"])
        .arg(format!("select pg_sleep(30) /* {marker} */"))
        .env("PGPASSWORD", &token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql");
    common::record::wait_for(&gw, "pg_sleep to start on the server", || {
        (direct(&db.name, &running) == "1").then_some(())
    });
    // What Ctrl-C does: psql sends a CancelRequest with the key the
    // gateway gave it.
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("psql");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("canceling statement due to user request"),
        "stderr: {stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(direct(&db.name, &running), "0");
    assert!(gw.wait_for_log("cancel request forwarded"));
    let (_, event) = wait_for_event(&gw, &marker);
    assert!(
        event["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("57014")),
        "{event}"
    );
}
