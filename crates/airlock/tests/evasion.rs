//! The evasion suite (issue 3): statements the default rule pack refuses,
//! dressed up the ways that slip past a gateway matching text — comments,
//! case, quoting, `;`-chains, CTEs, EXPLAIN ANALYZE, PREPARE, schema-
//! qualified functions, dollar quotes, the extended protocol, pipelining,
//! transactions.
//!
//! Every case goes end to end: a real client (psql, tokio-postgres, or the
//! raw protocol where no driver sends what the case needs) through the
//! gateway to the machine's PostgreSQL. Each asserts that the client got
//! SQLSTATE 42501 naming the rule, and — checked directly on the server,
//! bypassing the gateway — that the statement did not take effect.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;

use tokio_postgres::{Client, SimpleQueryMessage};

use common::pg::{TempDb, direct};
use common::pgclient::{bounded, connect_ok, db_error};
use common::raw;
use common::record::wait_for_event;
use common::{Gateway, psql};

const UNBOUNDED: &str = "default:unbounded-write";
const FILES: &str = "default:server-file-access";
const DESTRUCTION: &str = "default:schema-destruction";
const OPAQUE: &str = "default:opaque-code";

/// Three tables with a few rows, created directly on the server.
const FIXTURE: &str = "CREATE TABLE t (k int PRIMARY KEY, v int NOT NULL); \
     INSERT INTO t VALUES (1, 10), (2, 20), (3, 30); \
     CREATE TABLE t2 (k int); \
     CREATE TABLE \"Accounts\" (id int PRIMARY KEY, balance int NOT NULL); \
     INSERT INTO \"Accounts\" VALUES (1, 100), (2, 200)";

/// Everything a refused statement could have changed: the tables, their
/// rows, functions, large objects.
const STATE: &str = "select concat_ws(' | ', \
     (select string_agg(tablename, ',' order by tablename) from pg_tables where schemaname = 'public'), \
     (select string_agg(k || '=' || v, ',' order by k) from t), \
     't2:' || (select count(*) from t2), \
     (select string_agg(id || '=' || balance, ',' order by id) from \"Accounts\"), \
     'functions:' || (select count(*) from pg_proc where pronamespace = 'public'::regnamespace), \
     'large objects:' || (select count(*) from pg_largeobject_metadata))";

const UNTOUCHED: &str =
    "Accounts,t,t2 | 1=10,2=20,3=30 | t2:0 | 1=100,2=200 | functions:0 | large objects:0";

/// A database with the fixture behind a gateway; `alice` may use it as
/// connection `app`.
struct Fixture {
    db: TempDb,
    gw: Gateway,
    token: String,
}

impl Fixture {
    fn new(prefix: &str) -> Fixture {
        let db = TempDb::new(prefix);
        direct(&db.name, FIXTURE);
        let gw = Gateway::with_local_pg("app", &db.name, "[\"alice\"]");
        let token = gw.identity_with_token("alice", &[]);
        let f = Fixture { db, gw, token };
        f.assert_untouched("the fixture");
        f
    }

    /// The server's state, read directly; an error (a table gone) is a
    /// state too.
    fn state(&self) -> String {
        let out = Command::new("psql")
            .args(["-X", "-At", "-h", "127.0.0.1", "-p", "5432", "-U"])
            .args(["postgres", "-d", &self.db.name, "-c", STATE])
            .output()
            .expect("psql");
        if out.status.success() {
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        } else {
            format!("ERROR {}", String::from_utf8_lossy(&out.stderr).trim())
        }
    }

    fn assert_untouched(&self, what: &str) {
        assert_eq!(
            self.state(),
            UNTOUCHED,
            "{what} took effect on the server\n--- gateway log ---\n{}",
            self.gw.logs()
        );
    }

    /// psql with the text as one `-c` string: one simple Query message,
    /// exactly as typed. VERBOSITY=verbose puts the SQLSTATE in the error.
    fn psql(&self, sql: &str) -> (bool, String, String) {
        psql(
            &self.gw.conninfo("alice", "app"),
            &self.token,
            &["-v", "VERBOSITY=verbose", "-c", sql],
        )
    }

    async fn client(&self) -> Client {
        connect_ok(&self.gw, "alice", "app", &self.token).await
    }

    /// Sends `sql` through psql, tokio-postgres' simple protocol and its
    /// extended protocol (Parse/Describe/Sync, as every driver prepares);
    /// each must be refused with 42501 naming `rule`, return no data, and
    /// leave the server as it was. `client` must still work afterwards.
    async fn refused_everywhere(&self, client: &Client, sql: &str, rule: &str) {
        let (ok, out, err) = self.psql(sql);
        assert!(!ok, "psql ran {sql:?}: {out}");
        assert!(
            out.trim().is_empty(),
            "{sql:?} returned data through psql: {out}"
        );
        let (code, message) = psql_error(&err);
        assert_refused(&format!("psql {sql:?}"), &code, &message, rule);
        self.assert_untouched(&format!("psql {sql:?}"));

        let err = bounded(sql, 10, client.simple_query(sql))
            .await
            .expect_err(&format!("simple query {sql:?} was run"));
        let (code, message) = db_error(&err);
        assert_refused(&format!("simple query {sql:?}"), &code, &message, rule);
        self.assert_untouched(&format!("simple query {sql:?}"));

        let err = bounded(sql, 10, client.execute(sql, &[]))
            .await
            .expect_err(&format!("prepared {sql:?} was run"));
        let (code, message) = db_error(&err);
        assert_refused(&format!("prepared {sql:?}"), &code, &message, rule);
        self.assert_untouched(&format!("prepared {sql:?}"));

        still_works(client, sql).await;
    }
}

/// The refusal is the gateway's: 42501, naming the rule.
fn assert_refused(what: &str, code: &str, message: &str, rule: &str) {
    assert_eq!(code, "42501", "{what}: {message}");
    assert!(
        message.contains(&format!("rule \"{rule}\"")),
        "{what}: the refusal does not name {rule}: {message}"
    );
}

/// The first error psql printed, as (SQLSTATE, message).
fn psql_error(stderr: &str) -> (String, String) {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("ERROR:  "))
        .unwrap_or_else(|| panic!("psql printed no error: {stderr}"));
    let (code, message) = line
        .split_once(": ")
        .unwrap_or_else(|| panic!("no SQLSTATE in {line:?}"));
    (code.to_string(), message.to_string())
}

/// The session is usable after a refusal: not in a failed transaction, not
/// out of step with its replies.
async fn still_works(client: &Client, after: &str) {
    let row = bounded(
        "a query after a refusal",
        10,
        client.query_one("select 41 + 1", &[]),
    )
    .await
    .unwrap_or_else(|e| panic!("the session is broken after {after:?}: {e:?}"));
    assert_eq!(row.get::<_, i32>(0), 42);
}

/// Rows of a simple query's result, as text.
fn simple_rows(messages: &[SimpleQueryMessage]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap_or("NULL").to_string()),
            _ => None,
        })
        .collect()
}

// --- text the rules must read as the server does ---------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_case_whitespace_and_quoting_do_not_hide_an_unbounded_write() {
    let f = Fixture::new("ev_text");
    let client = f.client().await;
    for sql in [
        "DELETE/**/FROM t",
        "DELETE -- x\nFROM t",
        "/* a */ DELETE /* b */ FROM /* c */ t /* WHERE k = 1 */",
        "DELETE FROM t -- WHERE k = 1",
        // Comments nest in PostgreSQL: the WHERE is inside the outer one.
        "DELETE FROM t /* outer /* inner */ WHERE k = 1 */",
        "DELETE\tFROM\n\tt\n",
        "dElEtE fRoM t",
        "DELETE FROM T",
        "UpDaTe t SeT v = 0",
        "DELETE FROM \"t\"",
        "DELETE FROM public.\"t\"",
        "DELETE FROM \"public\".\"t\"",
        "DELETE FROM U&\"\\0074\"",
        "DELETE FROM \"Accounts\"",
        "UPDATE \"Accounts\" SET balance = 0",
        "update public.\"Accounts\" set balance = balance * 2",
    ] {
        f.refused_everywhere(&client, sql, UNBOUNDED).await;
    }

    // The converse: text a comment really hides from the server is hidden
    // from the rules too, and runs as what it is.
    let rows = client
        .simple_query("/* /* */ DELETE FROM t /* */ */ select 'only this'")
        .await
        .expect("a commented-out statement was refused");
    assert_eq!(simple_rows(&rows), ["only this"]);
    f.assert_untouched("a commented-out DELETE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chained_statements_are_refused_whole() {
    let f = Fixture::new("ev_chain");
    let client = f.client().await;
    for sql in [
        "select 1; delete from t",
        "select 1;delete from t;",
        // The harmless first statement must not run either: t2 stays
        // empty, row 1 stays.
        "insert into t2 values (1); delete from t",
        "delete from t where k = 1; delete from t",
        "BEGIN; DELETE FROM t; COMMIT",
        "select 1 where $$;$$ = $$;$$; delete from t",
        "select $q$ $$ ; $q$; delete from t",
    ] {
        f.refused_everywhere(&client, sql, UNBOUNDED).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_nested_in_ctes_explain_and_cursors_are_seen() {
    let f = Fixture::new("ev_nested");
    let client = f.client().await;
    for sql in [
        "with d as (delete from t returning *) select * from d",
        "WITH u AS (UPDATE t SET v = 0 RETURNING 1) SELECT count(*) FROM u",
        "with x as (select 1) delete from t",
        "with a as (select 1), b as (delete from \"Accounts\" returning 1) select * from a",
        "insert into t2 select k from (with d as (delete from t returning k) select k from d) s",
        // Would also create t3: the table list in the state says it did not.
        "CREATE TABLE t3 AS WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
        "BEGIN; DECLARE c CURSOR FOR WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d; \
         FETCH ALL FROM c; COMMIT",
        // EXPLAIN ANALYZE executes the statement it explains.
        "EXPLAIN ANALYZE DELETE FROM t",
        "EXPLAIN (ANALYZE, FORMAT JSON) UPDATE t SET v = 0",
        "explain (analyze true, costs off) delete from \"Accounts\"",
    ] {
        f.refused_everywhere(&client, sql, UNBOUNDED).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepare_as_an_unbounded_write_is_refused_and_leaves_nothing_to_execute() {
    let f = Fixture::new("ev_prepare");
    let client = f.client().await;
    f.refused_everywhere(&client, "PREPARE p AS DELETE FROM t", UNBOUNDED)
        .await;
    f.refused_everywhere(
        &client,
        "PREPARE p2 (int) AS UPDATE t SET v = $1",
        UNBOUNDED,
    )
    .await;
    // Nothing was prepared on the server under those names.
    for execute in ["EXECUTE p", "EXECUTE p2 (0)"] {
        let err = client
            .simple_query(execute)
            .await
            .expect_err("a refused PREPARE left a statement behind");
        let (code, message) = db_error(&err);
        assert_eq!(code, "26000", "{execute}: {message}");
        let (ok, _, err) = f.psql(execute);
        assert!(!ok);
        assert!(err.contains("26000"), "{err}");
    }
    f.assert_untouched("EXECUTE of a refused PREPARE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_file_functions_are_refused_however_they_are_spelt() {
    let f = Fixture::new("ev_files");
    let client = f.client().await;
    let hostname = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    for sql in [
        "select pg_catalog.pg_read_file('/etc/hostname')",
        "SELECT PG_CATALOG.PG_READ_FILE('/etc/hostname')",
        "select \"pg_read_file\"('/etc/hostname')",
        "select * from pg_catalog.pg_read_file('/etc/hostname') as f",
        "select (select pg_catalog.pg_read_binary_file('/etc/hostname'))",
        "select pg_catalog.pg_ls_dir('/')",
        "select pg_stat_file('/etc/hostname')",
        // Would create a large object holding the file.
        "select lo_import('/etc/hostname')",
    ] {
        f.refused_everywhere(&client, sql, FILES).await;
    }
    // Not a byte of the file came back in any refusal.
    let (_, out, err) = f.psql("select pg_catalog.pg_read_file('/etc/hostname')");
    let hostname = hostname.trim();
    if !hostname.is_empty() {
        assert!(
            !out.contains(hostname) && !err.contains(hostname),
            "{out}{err}"
        );
    }
}

/// Files a test may have made, removed however the test ends.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Is `path` there, as the database server sees the file system?
fn server_sees(db: &str, path: &str) -> bool {
    direct(
        db,
        &format!("select (pg_stat_file('{path}', true)).size is not null"),
    ) == "t"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_to_files_and_programs_creates_no_file() {
    let f = Fixture::new("ev_copy");
    let client = f.client().await;
    let path = |what: &str| -> PathBuf {
        PathBuf::from(format!(
            "/tmp/{}",
            common::unique(&format!("airlock_ev_{what}"))
        ))
    };
    // The probe works: the same COPY sent directly does create its file.
    let control = path("control");
    let mut cleanup = Cleanup(vec![control.clone()]);
    let control_s = control.display().to_string();
    // The program drains its input: one that exits without reading can make
    // the server fail the COPY with a broken pipe, depending on timing.
    direct(
        &f.db.name,
        &format!("COPY t TO PROGRAM 'touch {control_s} && cat >/dev/null'"),
    );
    assert!(
        control.exists() && server_sees(&f.db.name, &control_s),
        "the direct COPY made no {control_s}"
    );

    let files: Vec<(PathBuf, String)> = vec![
        {
            let p = path("file");
            let sql = format!("COPY t TO '{}'", p.display());
            (p, sql)
        },
        {
            let p = path("query");
            let sql = format!("copy (select * from \"Accounts\") to '{}'", p.display());
            (p, sql)
        },
        {
            let p = path("program");
            let sql = format!(
                "COPY t TO PROGRAM 'touch {} && cat >/dev/null'",
                p.display()
            );
            (p, sql)
        },
        {
            let p = path("from_program");
            let sql = format!("copy t2 from program 'touch {} && echo 9'", p.display());
            (p, sql)
        },
    ];
    cleanup.0.extend(files.iter().map(|(p, _)| p.clone()));
    let mut created = Vec::new();
    for (file, sql) in &files {
        f.refused_everywhere(&client, sql, FILES).await;
        let file_s = file.display().to_string();
        if file.exists() || server_sees(&f.db.name, &file_s) {
            created.push(sql.clone());
        }
    }
    assert!(created.is_empty(), "files were created by {created:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dollar_quoted_code_goes_to_review_and_does_not_run() {
    let f = Fixture::new("ev_dollar");
    let client = f.client().await;
    for sql in [
        "DO $$ BEGIN DELETE FROM t; END $$",
        // Bounded, but the gateway cannot see into the block: review.
        "DO $body$ BEGIN DELETE FROM t WHERE k > 0; END $body$",
        "DO LANGUAGE plpgsql $x$ BEGIN EXECUTE 'DELETE FROM ' || 't'; END $x$",
        "do $$ begin perform 1; end $$; do $a$ begin update t set v = 0 where true; end $a$",
        // Would also leave a function behind: the state counts them.
        "CREATE FUNCTION evil() RETURNS void LANGUAGE sql AS $$ DELETE FROM t $$",
        "create function evil() returns void language plpgsql as $f$ begin delete from t where k > 0; end $f$",
    ] {
        f.refused_everywhere(&client, sql, OPAQUE).await;
    }
    // SQL in a string the server runs is analysed too; the unbounded write
    // in it is the harsher verdict.
    f.refused_everywhere(
        &client,
        "select query_to_xml('delete from t returning 1', true, true, '')",
        UNBOUNDED,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncate_and_drop_go_to_review_and_the_tables_stay() {
    let f = Fixture::new("ev_destroy");
    let client = f.client().await;
    for sql in [
        "TRUNCATE t",
        "truncate table \"Accounts\"",
        "TRUNCATE t2, t RESTART IDENTITY",
        "DROP TABLE t",
        "drop table if exists t2, t cascade",
        "DROP TABLE \"Accounts\"",
        "select 1; drop table t2",
    ] {
        f.refused_everywhere(&client, sql, DESTRUCTION).await;
    }
    // The message names who would have to approve.
    let err = client.simple_query("TRUNCATE t").await.expect_err("ran");
    let (_, message) = db_error(&err);
    assert!(
        message.contains("needs review by group:admins"),
        "{message}"
    );
}

// --- the extended protocol ---------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_are_refused_at_parse() {
    let f = Fixture::new("ev_extended");
    let client = f.client().await;

    let err = client
        .execute("DELETE FROM t", &[])
        .await
        .expect_err("execute ran an unbounded DELETE");
    let (code, message) = db_error(&err);
    assert_refused("execute", &code, &message, UNBOUNDED);
    f.assert_untouched("execute(DELETE FROM t)");

    let err = client
        .prepare("DELETE FROM t")
        .await
        .expect_err("an unbounded DELETE was prepared");
    let (code, message) = db_error(&err);
    assert_refused("prepare", &code, &message, UNBOUNDED);

    // A bound parameter changes nothing about the missing WHERE.
    let err = client
        .execute("UPDATE t SET v = $1", &[&0i32])
        .await
        .expect_err("an unbounded UPDATE with a parameter ran");
    let (code, message) = db_error(&err);
    assert_refused("UPDATE t SET v = $1", &code, &message, UNBOUNDED);
    let err = client
        .query(
            "with d as (delete from t returning k) select k from d where k > $1",
            &[&0i32],
        )
        .await
        .expect_err("a CTE-wrapped DELETE ran");
    let (code, message) = db_error(&err);
    assert_refused("CTE with a parameter", &code, &message, UNBOUNDED);
    f.assert_untouched("prepared statements");

    // The same statements with a WHERE are allowed, parameters and all.
    let n = client
        .execute("UPDATE t SET v = $1 WHERE k = $2", &[&11i32, &1i32])
        .await
        .expect("a bounded UPDATE");
    assert_eq!(n, 1);
    assert_eq!(direct(&f.db.name, "select v from t where k = 1"), "11");
}

/// Builders for the extended protocol's messages.
mod msg {
    use super::raw::message;

    pub fn parse(name: &str, sql: &str) -> Vec<u8> {
        let mut body = format!("{name}\0{sql}\0").into_bytes();
        body.extend_from_slice(&0i16.to_be_bytes());
        message(b'P', &body)
    }

    pub fn bind(portal: &str, statement: &str) -> Vec<u8> {
        let mut body = format!("{portal}\0{statement}\0").into_bytes();
        // No parameter formats, no parameters, no result formats.
        body.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        message(b'B', &body)
    }

    pub fn execute(portal: &str) -> Vec<u8> {
        let mut body = format!("{portal}\0").into_bytes();
        body.extend_from_slice(&0i32.to_be_bytes());
        message(b'E', &body)
    }

    pub fn sync() -> Vec<u8> {
        message(b'S', b"")
    }

    pub fn query(sql: &str) -> Vec<u8> {
        message(b'Q', format!("{sql}\0").as_bytes())
    }
}

/// Reads until `groups` ReadyForQuery have arrived; returns every message
/// as (tag, SQLSTATE and text for errors, body for the rest).
fn replies(stream: &mut TcpStream, groups: usize) -> Vec<(char, String)> {
    let mut seen = Vec::new();
    while seen.iter().filter(|(t, _)| *t == 'Z').count() < groups {
        let m = raw::read_message(stream)
            .expect("read a reply")
            .unwrap_or_else(|| panic!("the gateway closed the connection after {seen:?}"));
        let detail = match m.tag {
            b'E' => format!("{} {}", m.code(), m.text()),
            _ => String::from_utf8_lossy(&m.body).into_owned(),
        };
        seen.push((m.tag as char, detail));
    }
    seen
}

fn tags(seen: &[(char, String)]) -> String {
    seen.iter().map(|(t, _)| *t).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_parse_of_the_unnamed_statement_does_not_re_execute_the_previous_one() {
    let f = Fixture::new("ev_unnamed");
    let mut s = raw::login(f.gw.pg_port, "alice", "app", &f.token);
    let t2 = || direct(&f.db.name, "select count(*) from t2");

    // An allowed INSERT through the unnamed statement and portal.
    let mut first = msg::parse("", "INSERT INTO t2 VALUES (7)");
    first.extend(msg::bind("", ""));
    first.extend(msg::execute(""));
    first.extend(msg::sync());
    s.write_all(&first).expect("send");
    let seen = replies(&mut s, 1);
    assert_eq!(tags(&seen), "12CZ", "{seen:?}");
    assert_eq!(t2(), "1");

    // The trap: a refused Parse of the unnamed statement, then Bind and
    // Execute of "the unnamed statement". Were the Parse dropped instead
    // of failed, the server would run the INSERT a second time.
    let mut second = msg::parse("", "DELETE FROM t");
    second.extend(msg::bind("", ""));
    second.extend(msg::execute(""));
    second.extend(msg::sync());
    s.write_all(&second).expect("send");
    let seen = replies(&mut s, 1);
    assert_eq!(tags(&seen), "EZ", "{seen:?}");
    assert!(seen[0].1.starts_with("42501 "), "{seen:?}");
    assert!(seen[0].1.contains(UNBOUNDED), "{seen:?}");
    assert_eq!(t2(), "1", "the earlier INSERT ran again");

    // Not in a later group either: the failed Parse replaced the unnamed
    // statement on the server, so there is nothing left to bind.
    let mut third = msg::bind("", "");
    third.extend(msg::execute(""));
    third.extend(msg::sync());
    s.write_all(&third).expect("send");
    let seen = replies(&mut s, 1);
    assert_eq!(tags(&seen), "EZ", "{seen:?}");
    assert!(seen[0].1.starts_with("26000 "), "{seen:?}");
    assert_eq!(t2(), "1", "the earlier INSERT ran again");

    // A named statement refused at Parse is not created on the server.
    let mut named = msg::parse("evil", "DELETE FROM t");
    named.extend(msg::sync());
    named.extend(msg::bind("", "evil"));
    named.extend(msg::execute(""));
    named.extend(msg::sync());
    s.write_all(&named).expect("send");
    let seen = replies(&mut s, 2);
    assert_eq!(tags(&seen), "EZEZ", "{seen:?}");
    assert!(seen[0].1.starts_with("42501 "), "{seen:?}");
    assert!(seen[2].1.starts_with("26000 "), "{seen:?}");

    direct(&f.db.name, "DELETE FROM t2");
    f.assert_untouched("the unnamed-statement trap");
}

// --- pipelining and transactions -----------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_queries_around_a_refused_one_get_their_own_answers() {
    let f = Fixture::new("ev_pipeline");
    let client = f.client().await;

    // tokio-postgres sends each query as soon as it is polled, without
    // waiting for the one before: all three are in flight together.
    let (a, b, c) = bounded("three pipelined queries", 10, async {
        tokio::join!(
            client.query("select k from t where k < $1 order by k", &[&3i32]),
            client.query("DELETE FROM t", &[]),
            client.query("select v from t order by k desc", &[]),
        )
    })
    .await;
    let a: Vec<i32> = a.expect("first").iter().map(|r| r.get(0)).collect();
    assert_eq!(a, [1, 2]);
    let (code, message) = db_error(&b.expect_err("the DELETE ran"));
    assert_refused("pipelined extended", &code, &message, UNBOUNDED);
    let c: Vec<i32> = c.expect("third").iter().map(|r| r.get(0)).collect();
    assert_eq!(c, [30, 20, 10]);

    // The same in the simple protocol.
    let (a, b, c) = bounded("three pipelined simple queries", 10, async {
        tokio::join!(
            client.simple_query("select 'first'"),
            client.simple_query("delete from t; select 'second'"),
            client.simple_query("select count(*) from t"),
        )
    })
    .await;
    assert_eq!(simple_rows(&a.expect("first")), ["first"]);
    let (code, message) = db_error(&b.expect_err("the DELETE ran"));
    assert_refused("pipelined simple", &code, &message, UNBOUNDED);
    assert_eq!(simple_rows(&c.expect("third")), ["3"]);

    // And in one write, so that the server has all three before answering
    // any: the replies still come in order.
    let mut s = raw::login(f.gw.pg_port, "alice", "app", &f.token);
    let mut batch = msg::query("select pg_sleep(0.2), 'a'");
    batch.extend(msg::query("DELETE FROM t"));
    batch.extend(msg::query("select 'c'"));
    s.write_all(&batch).expect("send");
    let seen = replies(&mut s, 3);
    assert_eq!(tags(&seen), "TDCZEZTDCZ", "{seen:?}");
    assert!(seen[1].1.contains('a'), "{seen:?}");
    assert!(seen[4].1.starts_with("42501 "), "{seen:?}");
    assert!(seen[7].1.contains('c'), "{seen:?}");
    f.assert_untouched("pipelined queries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_inside_a_transaction_aborts_it_and_nothing_of_it_is_applied() {
    let f = Fixture::new("ev_tx");
    let client = f.client().await;
    client.batch_execute("BEGIN").await.expect("begin");
    let n = client
        .execute("INSERT INTO t2 VALUES ($1)", &[&5i32])
        .await
        .expect("insert in the transaction");
    assert_eq!(n, 1);
    let err = client
        .execute("DELETE FROM t", &[])
        .await
        .expect_err("the DELETE ran");
    let (code, message) = db_error(&err);
    assert_refused("DELETE in a transaction", &code, &message, UNBOUNDED);
    // The transaction is aborted, as after any error.
    let err = client
        .simple_query("select 1")
        .await
        .expect_err("the transaction went on");
    assert_eq!(db_error(&err).0, "25P02");
    // COMMIT of an aborted transaction rolls back.
    client.batch_execute("COMMIT").await.expect("commit");
    f.assert_untouched("the transaction with a refused DELETE");
    // The session goes on, outside any transaction.
    still_works(&client, "COMMIT of an aborted transaction").await;

    // psql running a script statement by statement sees the same, and says
    // ROLLBACK for the COMMIT.
    let (ok, out, err) = common::psql_stdin(
        &f.gw.conninfo("alice", "app"),
        &f.token,
        &["-v", "ON_ERROR_STOP=0", "-v", "VERBOSITY=verbose"],
        Some("BEGIN;\nINSERT INTO t2 VALUES (6);\nDELETE FROM t;\nSELECT 1;\nCOMMIT;\n"),
    );
    assert!(ok, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["BEGIN", "INSERT 0 1", "ROLLBACK"],
        "{err}"
    );
    assert!(
        err.contains("ERROR:  42501: blocked by rule \"default:unbounded-write\""),
        "{err}"
    );
    assert!(
        err.contains("ERROR:  25P02: current transaction is aborted"),
        "{err}"
    );
    f.assert_untouched("psql's transaction with a refused DELETE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_goes_on_normally_after_refusals() {
    let f = Fixture::new("ev_goes_on");
    let client = f.client().await;
    for sql in [
        "DELETE FROM t",
        "TRUNCATE t",
        "select pg_read_file('/etc/hostname')",
    ] {
        client.simple_query(sql).await.expect_err("ran");
        client.execute(sql, &[]).await.expect_err("ran");
    }
    f.assert_untouched("refusals");
    // Reads, bounded writes, prepared statements and transactions work.
    let rows = client
        .query("select k, v from t where k >= $1 order by k", &[&2i32])
        .await
        .expect("select");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].get::<_, i32>(1), 30);
    let insert = client
        .prepare("insert into t2 values ($1)")
        .await
        .expect("prepare");
    for k in 1..=3i32 {
        client.execute(&insert, &[&k]).await.expect("insert");
    }
    let n = client
        .execute("DELETE FROM t WHERE k = $1", &[&3i32])
        .await
        .expect("a bounded DELETE");
    assert_eq!(n, 1);
    client
        .batch_execute("BEGIN; UPDATE \"Accounts\" SET balance = 0 WHERE id = 1; COMMIT")
        .await
        .expect("a transaction");
    assert_eq!(
        f.state(),
        "Accounts,t,t2 | 1=10,2=20 | t2:3 | 1=0,2=200 | functions:0 | large objects:0"
    );
}

// --- rules of the deployment's own, and the record ------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_rule_blocks_agents_and_lets_people_through() {
    let db = TempDb::new("ev_custom");
    direct(&db.name, FIXTURE);
    let gw = Gateway::start(
        &format!(
            "  - name: app\n    type: postgres\n    target: {{ host: 127.0.0.1, port: 5432, database: {}, user: postgres, tls: disable }}\n    allow: [\"alice\", \"bot\"]\n",
            db.name
        ),
        "rules:\n  - name: agents-do-not-sleep\n    when: identity.kind == 'agent' && 'pg_sleep' in facts.sql.functions\n    action: block\n    message: agents may not hold connections with pg_sleep\n",
    );
    let alice = gw.identity_with_token("alice", &[]);
    let bot = gw.identity_with_token("bot", &["--agent"]);
    let sleepy = "insert into t2 select 1 from pg_catalog.pg_sleep(0)";
    let count = || direct(&db.name, "select count(*) from t2");

    let agent = connect_ok(&gw, "bot", "app", &bot).await;
    for attempt in [
        agent.simple_query(sleepy).await.map(|_| ()),
        agent.execute(sleepy, &[]).await.map(|_| ()),
        agent.simple_query("SELECT PG_SLEEP(0)").await.map(|_| ()),
    ] {
        let (code, message) = db_error(&attempt.expect_err("the agent slept"));
        assert_refused("agent", &code, &message, "agents-do-not-sleep");
        assert!(
            message.ends_with("agents may not hold connections with pg_sleep"),
            "{message}"
        );
    }
    let (ok, _, err) = psql(&gw.conninfo("bot", "app"), &bot, &["-c", sleepy]);
    assert!(!ok);
    assert!(
        err.contains("blocked by rule \"agents-do-not-sleep\""),
        "{err}"
    );
    assert_eq!(count(), "0");
    // The agent may do everything else.
    let n = agent
        .execute("insert into t2 values (1)", &[])
        .await
        .expect("the agent's plain insert");
    assert_eq!(n, 1);

    // A person may sleep.
    let person = connect_ok(&gw, "alice", "app", &alice).await;
    person.simple_query(sleepy).await.expect("alice's pg_sleep");
    person
        .execute(sleepy, &[])
        .await
        .expect("alice's prepared pg_sleep");
    assert_eq!(count(), "3");
    // The default pack still applies to both.
    for client in [&agent, &person] {
        let (code, message) =
            db_error(&client.simple_query("delete from t").await.expect_err("ran"));
        assert_refused("default pack", &code, &message, UNBOUNDED);
    }
    assert_eq!(direct(&db.name, "select count(*) from t"), "3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_recorded_with_their_verdict_and_error() {
    let f = Fixture::new("ev_record");
    let client = f.client().await;
    client
        .simple_query("DELETE FROM t /* ev_blocked_simple */")
        .await
        .expect_err("ran");
    client
        .execute("DELETE FROM t /* ev_blocked_parse */", &[])
        .await
        .expect_err("ran");
    client
        .simple_query("TRUNCATE t /* ev_review */")
        .await
        .expect_err("ran");
    client
        .simple_query("select 1 /* ev_allowed */")
        .await
        .expect("allowed");

    for (marker, verdict) in [
        ("ev_blocked_simple", "block:default:unbounded-write"),
        ("ev_blocked_parse", "block:default:unbounded-write"),
        ("ev_review", "review:default:schema-destruction"),
    ] {
        let (session, event) = wait_for_event(&f.gw, marker);
        assert_eq!(session["identity"], "alice");
        assert_eq!(event["verdict"], verdict, "{event}");
        let error = event["error"].as_str().unwrap_or_default();
        assert!(error.starts_with("42501"), "{event}");
        assert!(
            error.contains(&verdict[verdict.find(':').unwrap_or(0) + 1..]),
            "{event}"
        );
        assert_eq!(event["rows"], 0, "{event}");
    }
    let (_, event) = wait_for_event(&f.gw, "ev_allowed");
    assert_eq!(event["verdict"], "allow");
    assert!(event["error"].is_null(), "{event}");
    f.assert_untouched("recorded refusals");
}

// --- text the server would read otherwise than the analyser ----------------------

const UNANALYSABLE: &str = "default:unanalysable";

/// `DELETE FROM t` in front of a SELECT of `levels` nested additions.
fn deep(levels: usize) -> String {
    format!(
        "DELETE FROM t; SELECT {}1{}",
        "1+(".repeat(levels),
        ")".repeat(levels)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_nested_deeper_than_the_analyser_follows_is_refused() {
    let f = Fixture::new("ev_deep");
    let client = f.client().await;
    // 60 levels defeat the analyser's decoder, 2000 its parser's stack; the
    // server parses both. Were the parse error let through as the server's
    // own, the DELETE in front would run.
    for levels in [60, 2_000] {
        f.refused_everywhere(&client, &deep(levels), UNANALYSABLE)
            .await;
    }
    // A genuine syntax error is left to the server, which refuses the
    // whole text: nothing runs, and the client sees the server's words.
    let err = client
        .simple_query("DELETE FROM t WHERE k = 1; SELEC 1")
        .await
        .expect_err("a syntax error ran");
    let (code, message) = db_error(&err);
    assert_eq!(code, "42601", "{message}");
    assert!(message.contains("\"SELEC\""), "{message}");
    f.assert_untouched("a text with a syntax error");
    // Deep but within the analyser's reach: read and judged as usual.
    let rows = client
        .simple_query(&deep(20).replace("DELETE FROM t; ", ""))
        .await
        .expect("20 levels");
    assert_eq!(simple_rows(&rows), ["21"]);
}

/// With standard_conforming_strings off this is a SELECT and a DELETE to
/// the server; read with it on (as the analyser reads), two SELECTs.
const SCS_OFF_EVASION: &str = r"select '\' ; select ' ; delete from t; -- '";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_conforming_strings_off_cannot_hide_a_statement_in_a_string() {
    let f = Fixture::new("ev_scs");
    let settings_refusal = |what: &str, code: &str, message: &str| {
        assert_eq!(code, "42501", "{what}: {message}");
        assert!(
            message.starts_with(
                "refused: the server may read this statement otherwise than the gateway"
            ) && message.contains("standard_conforming_strings"),
            "{what}: {message}"
        );
    };

    // Off from the start, through the startup packet's options.
    let mut config = tokio_postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(f.gw.pg_port)
        .user("alice")
        .dbname("app")
        .password(&f.token)
        .options("-c standard_conforming_strings=off");
    let (client, connection) = bounded("connect", 20, config.connect(tokio_postgres::NoTls))
        .await
        .expect("connect with options");
    let task = tokio::spawn(connection);
    let err = client
        .simple_query(SCS_OFF_EVASION)
        .await
        .expect_err("the hidden DELETE ran");
    let (code, message) = db_error(&err);
    settings_refusal("startup options", &code, &message);
    f.assert_untouched("standard_conforming_strings off at startup");
    // Escape strings read the same either way, and ASCII text without a
    // backslash in a plain string is not affected.
    let rows = client
        .simple_query(r"select E'a\\b', 'plain'")
        .await
        .expect("an escape string");
    assert_eq!(simple_rows(&rows), [r"a\b"]);
    drop(client);
    let _ = task.await;

    // The same through psql.
    let conninfo = format!(
        "{} options='-c standard_conforming_strings=off'",
        f.gw.conninfo("alice", "app")
    );
    let (ok, out, err) = psql(
        &conninfo,
        &f.token,
        &["-v", "VERBOSITY=verbose", "-c", SCS_OFF_EVASION],
    );
    assert!(!ok, "{out}");
    let (code, message) = psql_error(&err);
    settings_refusal("psql", &code, &message);
    f.assert_untouched("psql with standard_conforming_strings off");

    // Turned off in the session, and on again.
    let client = f.client().await;
    let rows = client
        .simple_query(SCS_OFF_EVASION)
        .await
        .expect("with standard_conforming_strings on the text is two SELECTs");
    assert_eq!(simple_rows(&rows), ["\\", " ; delete from t; -- "]);
    client
        .batch_execute("SET standard_conforming_strings = off")
        .await
        .expect("set");
    for attempt in [
        client.simple_query(SCS_OFF_EVASION).await.map(|_| ()),
        client
            .execute(r"select '\' || ' ; delete from t'", &[])
            .await
            .map(|_| ()),
    ] {
        let (code, message) = db_error(&attempt.expect_err("ran"));
        settings_refusal("SET in the session", &code, &message);
    }
    f.assert_untouched("standard_conforming_strings off in the session");
    client
        .batch_execute("RESET standard_conforming_strings")
        .await
        .expect("reset");
    client
        .simple_query(SCS_OFF_EVASION)
        .await
        .expect("on again: two SELECTs");

    // Pipelined behind the SET that turns it off: the gateway cannot know
    // yet how the server will read the second query.
    let mut s = raw::login(f.gw.pg_port, "alice", "app", &f.token);
    let mut batch = msg::query("set standard_conforming_strings = off");
    batch.extend(msg::query(SCS_OFF_EVASION));
    s.write_all(&batch).expect("send");
    let seen = replies(&mut s, 2);
    let error = seen.iter().find(|(t, _)| *t == 'E').expect("an error");
    assert!(
        error.1.starts_with("42501 ") && error.1.contains("may change those"),
        "{seen:?}"
    );
    f.assert_untouched("a pipelined SET and the hidden DELETE");

    let (_, event) = wait_for_event(&f.gw, "select '\\' ; select '");
    assert_eq!(event["verdict"], "refused:settings", "{event}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_only_encoding_cannot_hide_a_statement() {
    let f = Fixture::new("ev_sjis");
    // In SJIS the byte 0x81 of U+0081 (UTF-8 C2 81) begins a two-byte
    // character that takes the next byte with it. The server converts
    // from SJIS before it reads the text; the analyser reads UTF-8.
    let hidden_by_backslash = "select E'\u{81}\\' ; delete from t; -- '";
    // No backslash needed: the bracket the analyser stumbles on (a syntax
    // error, left to the server) joins the character, and WHERE becomes
    // part of an alias.
    let hidden_by_bracket = "DELETE FROM t AS x\u{81}]WHERE k = 1";
    let refused = |seen: &[(char, String)], what: &str| {
        let error = seen
            .iter()
            .find(|(t, _)| *t == 'E')
            .unwrap_or_else(|| panic!("{what} was not refused: {seen:?}"));
        assert!(
            error
                .1
                .starts_with("42501 refused: the server may read this statement otherwise"),
            "{what}: {seen:?}"
        );
        error.1.clone()
    };

    let mut s = raw::login(f.gw.pg_port, "alice", "app", &f.token);
    s.write_all(&msg::query("set client_encoding = 'SJIS'"))
        .expect("send");
    let seen = replies(&mut s, 1);
    assert_eq!(tags(&seen), "CSZ", "{seen:?}");
    for text in [hidden_by_backslash, hidden_by_bracket] {
        s.write_all(&msg::query(text)).expect("send");
        let message = refused(&replies(&mut s, 1), text);
        assert!(message.contains("client_encoding SJIS"), "{message}");
        f.assert_untouched(text);
    }
    // Extended protocol alike.
    let mut group = msg::parse("", hidden_by_bracket);
    group.extend(msg::bind("", ""));
    group.extend(msg::execute(""));
    group.extend(msg::sync());
    s.write_all(&group).expect("send");
    refused(&replies(&mut s, 1), "Parse");
    f.assert_untouched("Parse in SJIS");

    // Back to UTF-8, text beyond ASCII is read as it is written.
    s.write_all(&msg::query("reset client_encoding"))
        .expect("send");
    replies(&mut s, 1);
    s.write_all(&msg::query("select 'Müller'")).expect("send");
    let seen = replies(&mut s, 1);
    assert_eq!(tags(&seen), "TDCZ", "{seen:?}");
    assert!(seen[1].1.contains("Müller"), "{seen:?}");

    // Pipelined behind the switch, it is refused before the server could
    // read it in SJIS.
    let mut batch = msg::query("set client_encoding = 'SJIS'");
    batch.extend(msg::query(hidden_by_bracket));
    s.write_all(&batch).expect("send");
    refused(&replies(&mut s, 2), "pipelined behind the switch");
    f.assert_untouched("a pipelined switch to SJIS and the hidden DELETE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backslashes_and_text_beyond_ascii_pass_where_they_read_the_same() {
    let f = Fixture::new("ev_settings_ok");
    let client = f.client().await;
    let rows = client
        .simple_query(r"select 'C:\dir' || E'\\' || 'é'")
        .await
        .expect("a backslash in a plain string, standard_conforming_strings on");
    assert_eq!(simple_rows(&rows), [r"C:\dir\é"]);
    let rows = client
        .query(
            r"select k from t where 'a1' ~ '^a\d$' and $1 = 'Zoë' order by k",
            &[&"Zoë"],
        )
        .await
        .expect("a regex and a parameter");
    assert_eq!(rows.len(), 3);
    // Pipelined among queries that change no setting.
    let (a, b) = bounded("pipelined", 10, async {
        tokio::join!(
            client.query("select 'Müller'::text", &[]),
            client.query(r"select '\d'::text", &[]),
        )
    })
    .await;
    assert_eq!(a.expect("first")[0].get::<_, String>(0), "Müller");
    assert_eq!(b.expect("second")[0].get::<_, String>(0), r"\d");
}
