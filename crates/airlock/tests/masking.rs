//! Masking end to end: the machine's PostgreSQL holds realistic rows, and
//! clients (`psql`, tokio-postgres) read them through the gateway. Every
//! sensitive value must arrive masked and every other value byte-identical
//! to what the server holds — through expressions, subqueries, COPY and
//! errors that echo a value — and recordings must hold no secret.

mod common;

use tokio_postgres::SimpleQueryMessage;

use common::pg::{TempDb, direct};
use common::pgclient::{bounded, connect_ok, db_error};
use common::record::{all_events, wait_for_event, wait_for_events};
use common::{Gateway, psql};

const CARD: &str = "4111 1111 1111 1111";
const AWS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const GITHUB: &str = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
const SSN: &str = "536-22-8416";

const MASKING: &str = r#"
masking:
  columns:
    - users.email
    - { column: "*.password", style: redact }
    - { column: "billing.*.card_number", style: partial, keep: 4 }
"#;

/// A database with users (some columns under column rules, a free-text
/// note where detectors must find what is in it) and billing.cards.
fn fixture(prefix: &str) -> TempDb {
    let db = TempDb::new(prefix);
    direct(
        &db.name,
        &format!(
            "CREATE TABLE users (id int PRIMARY KEY, name text, email text, password text, note text, \
               ref uuid, digest text, created timestamptz, balance numeric, version text, \"order\" text, profile jsonb);
             INSERT INTO users VALUES
               (1, 'Alice Martin', 'alice@example.com', 's3cr3t-hunter2', 'paid with card {CARD} last week',
                '9f1c2e7a-3b4d-4c5e-8f6a-7b8c9d0e1f2a', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
                '2024-03-15 10:22:33+00', 1234.56, 'v10.0.19045', 'ORD-0001234567890', '{{\"tier\": \"gold\", \"contact\": \"alice@example.com\"}}'),
               (2, 'Bob Stone', 'bob@corp.example', 'correct horse battery', 'deploy key {AWS_KEY} rotated',
                '0b7e4c1a-2f3d-4e5f-9a8b-1c2d3e4f5a6b', '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae',
                '2023-11-02 08:00:00+00', 0.01, '1.2.3.4', 'ORD-0009876543210', '{{\"tier\": \"basic\"}}'),
               (3, 'Carol Ng', 'carol@example.org', 'pw', 'ssn on file: {SSN}; token {GITHUB}',
                '5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f', 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
                '2022-01-01 00:00:00+00', -42, '2.0.0-rc.1', 'ORD-0000000000001', null);
             CREATE SCHEMA billing;
             CREATE TABLE billing.cards (id int, holder text, card_number text);
             INSERT INTO billing.cards VALUES (1, 'Alice Martin', '5500005555555559'), (2, 'Bob Stone', '4012888888881881');
             CREATE TABLE plain (id int, note text);
             INSERT INTO plain VALUES (1, 'nothing to see'), (2, 'card {CARD} here');
             CREATE FUNCTION leak() RETURNS int LANGUAGE plpgsql AS $$
               BEGIN
                 RAISE NOTICE 'notice mentions %', 'bob@corp.example';
                 RAISE EXCEPTION 'failed for key %', '{AWS_KEY}' USING DETAIL = 'card ' || '{CARD}';
               END $$;"
        ),
    );
    db
}

fn gateway(db: &TempDb, extra: &str) -> (Gateway, String) {
    let gw = Gateway::start(
        &format!(
            "  - name: app\n    type: postgres\n    target: {{ host: 127.0.0.1, port: 5432, database: {}, user: postgres, tls: disable }}\n    allow: [\"alice\", \"agent:bot\"]\n",
            db.name
        ),
        extra,
    );
    let token = gw.identity_with_token("alice", &[]);
    (gw, token)
}

fn through(gw: &Gateway, token: &str, sql: &str) -> String {
    let (ok, out, err) = psql(&gw.conninfo("alice", "app"), token, &["-c", sql]);
    assert!(ok, "{sql}: {err}\n--- gateway log ---\n{}", gw.logs());
    out.trim().to_string()
}

/// Compares a result read through the gateway with the same result read
/// directly, cell by cell: `expect(row, column, direct_value)` says what the
/// gateway must show instead, or `None` for "byte-identical".
fn compare(direct: &str, gateway: &str, expect: impl Fn(usize, usize, &str) -> Option<String>) {
    let d: Vec<&str> = direct.lines().collect();
    let g: Vec<&str> = gateway.lines().collect();
    assert_eq!(
        d.len(),
        g.len(),
        "row counts differ:\n{direct}\n---\n{gateway}"
    );
    for (r, (dl, gl)) in d.iter().zip(&g).enumerate() {
        let dc: Vec<&str> = dl.split('|').collect();
        let gc: Vec<&str> = gl.split('|').collect();
        assert_eq!(dc.len(), gc.len(), "row {r}: {dl} vs {gl}");
        for (c, (dv, gv)) in dc.iter().zip(&gc).enumerate() {
            match expect(r, c, dv) {
                Some(want) => assert_eq!(*gv, want, "row {r} column {c} (server holds {dv:?})"),
                None => assert_eq!(gv, dv, "row {r} column {c} must pass unchanged"),
            }
        }
    }
}

#[test]
fn column_rules_and_detectors_mask_psql_results_and_leave_the_rest_byte_identical() {
    let db = fixture("mask_psql");
    let (gw, token) = gateway(&db, MASKING);
    let sql = "select * from users order by id";
    let plain = direct(&db.name, sql);
    let masked = through(&gw, &token, sql);
    compare(&plain, &masked, |row, column, value| match column {
        2 => Some("<masked:users.email>".into()),
        3 => Some("<redacted>".into()),
        4 => Some(
            [
                "paid with card <masked:credit_card> last week",
                "deploy key <masked:aws_access_key_id> rotated",
                "ssn on file: <masked:us_ssn>; token <masked:github_token>",
            ][row]
                .into(),
        ),
        // jsonb: the e-mail inside is found by the detector.
        11 if value.contains('@') => Some(value.replace("alice@example.com", "<masked:email>")),
        _ => None,
    });
    for secret in [
        CARD,
        AWS_KEY,
        GITHUB,
        SSN,
        "s3cr3t-hunter2",
        "alice@example.com",
    ] {
        assert!(!masked.contains(secret), "{secret} leaked: {masked}");
    }

    let cards = through(
        &gw,
        &token,
        "select id, holder, card_number from billing.cards order by id",
    );
    assert_eq!(cards, "1|Alice Martin|****5559\n2|Bob Stone|****1881");
}

#[test]
fn computed_columns_are_masked_like_the_columns_they_come_from() {
    let db = fixture("mask_expr");
    let (gw, token) = gateway(&db, MASKING);
    let cases = [
        (
            "select upper(email) from users where id = 1",
            "<masked:users.email>",
        ),
        (
            "select email || '' from users where id = 1",
            "<masked:users.email>",
        ),
        (
            "select substr(password, 1) from users where id = 1",
            "<redacted>",
        ),
        (
            "select * from (select email from users where id = 1) t",
            "<masked:users.email>",
        ),
        (
            "select e from (select lower(email) e from users) t limit 1",
            "<masked:users.email>",
        ),
        (
            "with x as (select email as e from users) select initcap(e) from x limit 1",
            "<masked:users.email>",
        ),
        (
            "select coalesce(u.email, 'none') from users u where id = 1",
            "<masked:users.email>",
        ),
        (
            "select string_agg(email, ',') from users",
            "<masked:users.email>",
        ),
        (
            "select (select password from users where id = 1)",
            "<redacted>",
        ),
        (
            "select email from users where id = 1 union select 'x' from plain where id = 0",
            "<masked:users.email>",
        ),
        (
            "select right(card_number, 16) from billing.cards where id = 1",
            "****5559",
        ),
    ];
    for (sql, want) in cases {
        assert_eq!(through(&gw, &token, sql), want, "{sql}");
    }
    // A whole row carries every column: masked whole.
    let row = through(
        &gw,
        &token,
        "select row_to_json(u) from users u where id = 1",
    );
    assert!(!row.contains("alice@example.com"), "{row}");
    assert!(row.starts_with("\"<masked:"), "{row}");
    // Computed from nothing masked: unchanged.
    assert_eq!(
        through(
            &gw,
            &token,
            "select count(*), max(id) from users where email like '%@%'"
        ),
        "3|3"
    );
    assert_eq!(
        through(&gw, &token, "select upper(name) from users where id = 2"),
        "BOB STONE"
    );
    assert_eq!(
        through(
            &gw,
            &token,
            "select id, length(name) from users order by id limit 1"
        ),
        "1|12"
    );
}

#[test]
fn copy_to_stdout_is_scanned_and_copy_of_masked_columns_is_refused() {
    let db = fixture("mask_copy");
    let (gw, token) = gateway(&db, MASKING);
    let out = through(&gw, &token, "copy plain to stdout");
    assert_eq!(out, "1\tnothing to see\n2\tcard <masked:credit_card> here");
    let out = through(
        &gw,
        &token,
        "copy (select note from users where id = 2) to stdout with (format csv)",
    );
    assert_eq!(out, "deploy key <masked:aws_access_key_id> rotated");

    let (ok, _, err) = psql(
        &gw.conninfo("alice", "app"),
        &token,
        &["-c", "copy users to stdout"],
    );
    assert!(!ok);
    assert!(err.contains("masked"), "{err}");
    let (ok, _, err) = psql(
        &gw.conninfo("alice", "app"),
        &token,
        &["-c", "copy (select id, email from users) to stdout"],
    );
    assert!(!ok, "COPY of a masked column must be refused");
    assert!(err.contains("masked"), "{err}");
    let (ok, _, err) = psql(
        &gw.conninfo("alice", "app"),
        &token,
        &["-c", "copy plain to stdout with (format binary)"],
    );
    assert!(!ok, "binary COPY cannot be scanned and must be refused");
    assert!(err.contains("binary"), "{err}");
}

#[test]
fn errors_and_notices_that_echo_a_secret_arrive_masked_and_are_recorded_masked() {
    let db = fixture("mask_err");
    direct(&db.name, "CREATE UNIQUE INDEX ON plain (note)");
    let (gw, token) = gateway(&db, MASKING);
    let (ok, out, err) = psql(
        &gw.conninfo("alice", "app"),
        &token,
        &["-c", "select leak()"],
    );
    assert!(!ok, "{out}");
    assert!(
        err.contains("failed for key <masked:aws_access_key_id>"),
        "{err}"
    );
    assert!(err.contains("card <masked:credit_card>"), "{err}");
    assert!(err.contains("notice mentions <masked:email>"), "{err}");
    assert!(
        !err.contains(AWS_KEY) && !err.contains("bob@corp.example"),
        "{err}"
    );

    // A failing INSERT echoes the value in its DETAIL.
    let insert = format!("insert into plain values (3, 'card {CARD} here')");
    let (ok, _, err) = psql(&gw.conninfo("alice", "app"), &token, &["-c", &insert]);
    assert!(!ok);
    assert!(
        err.contains("23505") || err.contains("duplicate key"),
        "{err}"
    );
    assert!(!err.contains(CARD), "{err}");

    // The recording holds the statement and its error masked.
    let (_, event) = wait_for_event(&gw, "insert into plain");
    let text = event.to_string();
    assert!(text.contains("<masked:credit_card>"), "{text}");
    assert!(!text.contains(CARD), "{text}");
    // A statement that names a masked column is recorded without its
    // literal values: no detector knows this password is one.
    through(
        &gw,
        &token,
        "update users set password = 'plain-words-here' where id = 2",
    );
    let (_, update) = wait_for_event(&gw, "update users set password");
    let recorded = update["command"].as_str().unwrap_or_default();
    assert!(!recorded.contains("plain-words-here"), "{update}");
    assert!(recorded.contains("where id = $2"), "{update}");
    let (_, leak) = wait_for_event(&gw, "select leak()");
    assert!(!leak.to_string().contains(AWS_KEY), "{leak}");
    for (_, e) in all_events(&gw) {
        let e = e.to_string();
        assert!(
            !e.contains(CARD) && !e.contains(AWS_KEY),
            "a secret was recorded: {e}"
        );
    }
    assert!(!gw.logs().contains(AWS_KEY), "a secret reached the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_driver_with_binary_results_and_prepared_statements_gets_masked_values() {
    let db = fixture("mask_drv");
    let (gw, token) = gateway(&db, MASKING);
    let client = connect_ok(&gw, "alice", "app", &token).await;
    // tokio-postgres prepares once (Describe of the statement) and then
    // only binds and executes, asking for binary results.
    let stmt = bounded("prepare", 20, client.prepare("select id, email, note, balance::float8, created, profile, password from users where id = $1")).await.expect("prepare");
    for _ in 0..2 {
        let row = bounded("query", 20, client.query_one(&stmt, &[&1i32]))
            .await
            .expect("query");
        assert_eq!(row.get::<_, i32>(0), 1);
        assert_eq!(row.get::<_, String>(1), "<masked:users.email>");
        assert_eq!(
            row.get::<_, String>(2),
            "paid with card <masked:credit_card> last week"
        );
        assert_eq!(row.get::<_, f64>(3), 1234.56);
        let created: std::time::SystemTime = row.get(4);
        assert!(created > std::time::UNIX_EPOCH);
        let profile: String = row.get::<_, serde_json::Value>(5).to_string();
        assert!(
            profile.contains("<masked:email>") && !profile.contains("alice@"),
            "{profile}"
        );
        assert_eq!(row.get::<_, String>(6), "<redacted>");
    }
    // The simple protocol through the driver too.
    let rows = bounded(
        "simple",
        20,
        client.simple_query("select email, name from users where id = 2"),
    )
    .await
    .expect("simple");
    let SimpleQueryMessage::Row(row) = &rows[1] else {
        panic!("no row: {rows:?}")
    };
    assert_eq!(row.get(0), Some("<masked:users.email>"));
    assert_eq!(row.get(1), Some("Bob Stone"));
}

/// Without column rules a session reuses the masking plan of a result
/// shape it saw last (`relay.rs`, `PlanMemo`): a result of another shape
/// must still be planned afresh, whichever shape came before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_new_result_shape_is_planned_afresh_in_a_session_that_reuses_plans() {
    let db = fixture("mask_memo");
    let (gw, token) = gateway(&db, "masking:\n  enabled: true\n");
    let client = connect_ok(&gw, "alice", "app", &token).await;
    let first_value = |messages: Vec<SimpleQueryMessage>| -> String {
        match messages
            .iter()
            .find(|m| matches!(m, SimpleQueryMessage::Row(_)))
        {
            Some(SimpleQueryMessage::Row(row)) => row.get(0).unwrap_or_default().to_string(),
            _ => panic!("no row: {messages:?}"),
        }
    };
    let masked = "card <masked:credit_card> here".to_string();
    for round in 0..3 {
        // An integer column (nothing to mask), then a text one of the same
        // width whose value holds a card number, then that shape again.
        for (sql, want) in [
            ("select id from plain where id = 2", "2".to_string()),
            ("select note from plain where id = 2", masked.clone()),
            ("select note from plain where id = 2", masked.clone()),
            ("select id::text from plain where id = 2", "2".to_string()),
            ("select note from plain where id = 2", masked.clone()),
        ] {
            let got = first_value(
                bounded("simple", 20, client.simple_query(sql))
                    .await
                    .expect(sql),
            );
            assert_eq!(got, want, "round {round}: {sql}");
        }
        // The extended protocol too: prepared, bound and executed.
        let id = bounded(
            "query",
            20,
            client.query_one("select id from plain where id = $1", &[&2i32]),
        )
        .await
        .expect("id");
        assert_eq!(id.get::<_, i32>(0), 2);
        let note = bounded(
            "query",
            20,
            client.query_one("select note from plain where id = $1", &[&2i32]),
        )
        .await
        .expect("note");
        assert_eq!(note.get::<_, String>(0), masked, "round {round}: prepared");
    }
}

const AGENT_RULE: &str = r#"
rules:
  - name: agents-see-no-names
    when: identity.kind == 'agent' && 'users' in facts.sql.tables_read
    action: mask
    columns: [users.name, users.balance]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mask_rule_masks_for_whom_it_fires_and_masking_off_refuses_it() {
    let db = fixture("mask_rule");
    let (gw, token) = gateway(
        &db,
        &format!("masking:\n  detectors: {{ enabled: false }}\n{AGENT_RULE}"),
    );
    let bot = gw.identity_with_token("bot", &["--agent"]);
    let person = connect_ok(&gw, "alice", "app", &token).await;
    let agent = connect_ok(&gw, "bot", "app", &bot).await;
    let sql = "select name, note, balance::float8 from users where id = 1";
    let row = person.query_one(sql, &[]).await.expect("person");
    assert_eq!(row.get::<_, String>(0), "Alice Martin");
    // Detectors are off here: the note passes.
    assert!(row.get::<_, String>(1).contains(CARD));
    assert_eq!(row.get::<_, Option<f64>>(2), Some(1234.56));
    let row = agent.query_one(sql, &[]).await.expect("agent");
    assert_eq!(row.get::<_, String>(0), "<masked:users.name>");
    // A masked number cannot carry a text: it arrives as NULL, which the
    // driver can read, rather than bytes it cannot.
    assert_eq!(row.get::<_, Option<f64>>(2), None);
    // Both sessions ran the statement; the agent's record may reach the
    // store after the person's.
    let events = wait_for_events(&gw, "select name, note", 2);
    let (_, event) = events
        .iter()
        .find(|(_, e)| e["identity"] == "bot")
        .expect("the agent's event");
    assert!(
        event.to_string().contains("mask:agents-see-no-names"),
        "{event}"
    );
    let (_, event) = events
        .iter()
        .find(|(_, e)| e["identity"] == "alice")
        .expect("the person's event");
    assert_eq!(event["verdict"], "allow", "{event}");

    // Masking switched off: the rule cannot be honoured, so it refuses;
    // everyone else gets results unmasked.
    drop(gw);
    let (gw, token) = gateway(&db, &format!("masking: {{ enabled: false }}\n{AGENT_RULE}"));
    let bot = gw.identity_with_token("bot", &["--agent"]);
    let agent = connect_ok(&gw, "bot", "app", &bot).await;
    let err = agent
        .query_one(sql, &[])
        .await
        .expect_err("must be refused");
    let (code, message) = db_error(&err);
    assert_eq!(code, "42501");
    assert!(message.contains("masking"), "{message}");
    let person = connect_ok(&gw, "alice", "app", &token).await;
    let row = person
        .query_one("select email, note from users where id = 1", &[])
        .await
        .expect("person");
    assert_eq!(row.get::<_, String>(0), "alice@example.com");
    assert!(row.get::<_, String>(1).contains(CARD));
}

#[test]
fn mask_test_prints_what_each_detector_finds() {
    let db = fixture("mask_cli");
    let (gw, _) = gateway(&db, MASKING);
    let mut child = std::process::Command::new(common::BIN)
        .args([
            "--config",
            gw.config.to_str().unwrap(),
            "mask",
            "test",
            "--json",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("airlock mask test");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(
            stdin,
            "mail alice@example.com\ncard {CARD} and id 9f1c2e7a-3b4d-4c5e-8f6a-7b8c9d0e1f2a"
        )
        .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(&str, u64)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["detector"].as_str().unwrap(), f["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(found, vec![("email", 1), ("credit_card", 2)]);
    assert!(
        doc["masked"]
            .as_str()
            .unwrap()
            .contains("9f1c2e7a-3b4d-4c5e-8f6a-7b8c9d0e1f2a")
    );
}
