//! Just-in-time review end to end (issue 5): a real `psql` sends commands
//! that `review` rules gate through a real gateway to the machine's
//! PostgreSQL; reviewers decide through the HTTP API; what reached the
//! server is checked on the server itself.

mod common;

use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::http::call;
use common::pg::{TempDb, direct};
use common::{Gateway, psql};

/// A gateway with connection `app` to a database of the test's own holding
/// `orders` (ids 1–5), the rules below, and these identities:
/// alice (requester, also in dba), alice-admin (alice's second identity),
/// dana and erin (dba), fin1 and fin2 (finance), bot (an agent in dba).
struct Setup {
    db: TempDb,
    gw: Gateway,
    tokens: std::collections::HashMap<&'static str, String>,
}

const RULES: &str = r#"
rules:
  - name: review-deletes
    when: "'delete' in facts.sql.kinds"
    action: review
    reviewers: ["group:dba"]
    message: deleting orders needs a DBA
  - name: review-updates
    when: "'update' in facts.sql.kinds"
    action: review
    reviewers: ["group:finance"]
    approvals: 2
"#;

fn setup(prefix: &str, hold: &str) -> Setup {
    let db = TempDb::new(prefix);
    direct(
        &db.name,
        "create table orders (id int primary key, note text); \
         insert into orders select g, 'n' || g from generate_series(1, 5) g",
    );
    let connection = format!(
        "  - name: app\n    type: postgres\n    target: {{ host: 127.0.0.1, port: 5432, database: {}, user: postgres, tls: disable }}\n    allow: [\"alice\", \"bot\"]\n    review: {{ hold: {hold} }}\n",
        db.name
    );
    let gw = Gateway::start(&connection, RULES);
    let mut tokens = std::collections::HashMap::new();
    for (name, extra) in [
        ("alice", &["--group", "dba"][..]),
        ("alice-admin", &["--group", "dba", "--person", "alice"][..]),
        ("dana", &["--group", "dba"][..]),
        ("erin", &["--group", "dba"][..]),
        ("fin1", &["--group", "finance"][..]),
        ("fin2", &["--group", "finance"][..]),
        ("bot", &["--agent", "--group", "dba"][..]),
    ] {
        tokens.insert(name, gw.identity_with_token(name, extra));
    }
    Setup { db, gw, tokens }
}

impl Setup {
    fn token(&self, who: &str) -> &str {
        &self.tokens[who]
    }

    /// Runs `sql` through the gateway as alice, in one session.
    fn psql(&self, sql: &[&str]) -> (bool, String, String) {
        let args: Vec<&str> = sql.iter().flat_map(|s| ["-c", s]).collect();
        psql(
            &self.gw.conninfo("alice", "app"),
            self.token("alice"),
            &args,
        )
    }

    /// As [`Setup::psql`], in a thread: for commands that will be held.
    fn psql_in_background(&self, sql: &[&str]) -> JoinHandle<(bool, String, String)> {
        let conninfo = self.gw.conninfo("alice", "app");
        let token = self.token("alice").to_string();
        let sql: Vec<String> = sql.iter().map(|s| s.to_string()).collect();
        std::thread::spawn(move || {
            let args: Vec<&str> = sql.iter().flat_map(|s| ["-c", s.as_str()]).collect();
            psql(&conninfo, &token, &args)
        })
    }

    fn api(&self, who: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        call(
            self.gw.api_port,
            method,
            path,
            Some(self.token(who)),
            body.as_ref(),
        )
    }

    fn approve(&self, who: &str, id: &str, body: Value) -> (u16, Value) {
        self.api(
            who,
            "POST",
            &format!("/api/v1/reviews/{id}/approve"),
            Some(body),
        )
    }

    fn deny(&self, who: &str, id: &str, reason: &str) -> (u16, Value) {
        self.api(
            who,
            "POST",
            &format!("/api/v1/reviews/{id}/deny"),
            Some(json!({ "reason": reason })),
        )
    }

    fn review(&self, id: &str) -> Value {
        let (status, body) = self.api("dana", "GET", &format!("/api/v1/reviews/{id}"), None);
        assert_eq!(status, 200, "GET review {id}: {body}");
        body
    }

    /// Waits for a pending review of a command containing `needle`.
    fn wait_pending(&self, needle: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (status, body) = self.api("dana", "GET", "/api/v1/reviews?state=pending", None);
            assert_eq!(status, 200, "list pending reviews: {body}");
            if let Some(r) = body.as_array().into_iter().flatten().find(|r| {
                r["command"]
                    .as_str()
                    .is_some_and(|c| c.to_lowercase().contains(needle))
            }) {
                return r.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no pending review of {needle:?} appeared\n{}",
                self.gw.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn orders(&self) -> String {
        direct(
            &self.db.name,
            "select string_agg(id || ':' || note, ',' order by id) from orders",
        )
    }

    /// The audit export's line for the (last) command containing `needle`,
    /// waited for: a durable command's record is in the spool before the
    /// command runs, and reaches the store (which the export reads) up to
    /// about 100 ms later (docs/audit.md).
    fn audit_line(&self, needle: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.gw.cli_ok(&["audit", "export", "--format", "jsonl"]);
            let line = out
                .lines()
                .rev()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|l| {
                    l["command"]
                        .as_str()
                        .is_some_and(|c| c.to_lowercase().contains(needle))
                });
            match line {
                Some(line) => return line,
                None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
                None => panic!("no audit line for {needle:?}: {out}"),
            }
        }
    }

    /// No token of any identity shows up in the gateway's log.
    fn no_token_in_logs(&self) {
        let logs = self.gw.logs();
        for (who, token) in &self.tokens {
            assert!(
                !logs.contains(token.as_str()),
                "{who}'s token is in the log"
            );
        }
    }
}

/// The first pending review, waited for (from a blocking thread, while
/// an async client holds the command).
fn first_pending(api: u16, token: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, body) = call(
            api,
            "GET",
            "/api/v1/reviews?state=pending",
            Some(token),
            None,
        );
        if let Some(r) = body.as_array().and_then(|a| a.first()) {
            return r.clone();
        }
        assert!(Instant::now() < deadline, "no pending review");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The review id a refusal names (`review rv-… is pending`).
fn review_id_in(message: &str) -> String {
    let start = message
        .find("rv-")
        .unwrap_or_else(|| panic!("no review id in {message:?}"));
    message[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

#[test]
fn a_held_statement_approved_through_the_api_runs_in_the_same_session() {
    let s = setup("rv_held", "30s");
    let client = s.psql_in_background(&[
        "select 'before'",
        "delete from orders where id = 1",
        "select count(*) from orders",
    ]);
    let review = s.wait_pending("delete from orders");
    let id = review["id"].as_str().expect("review id");
    assert_eq!(review["requester"], "alice");
    assert_eq!(review["connection"], "app");
    assert_eq!(review["rules"], json!(["review-deletes"]));
    // Still held: nothing reached the server.
    assert_eq!(s.orders(), "1:n1,2:n2,3:n3,4:n4,5:n5");

    let (status, body) = s.approve("dana", id, json!({ "reason": "cleanup ticket 42" }));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["released"], true, "{body}");
    assert_eq!(body["review"]["state"], "approved");

    let (ok, out, err) = client.join().expect("psql thread");
    assert!(ok, "psql failed after approval: {err}");
    assert!(out.contains("before"), "{out}");
    assert_eq!(out.lines().last(), Some("4"), "{out}");
    assert_eq!(s.orders(), "2:n2,3:n3,4:n4,5:n5");

    let line = s.audit_line("delete from orders");
    assert_eq!(line["reviewers"], json!(["dana"]), "{line}");
    assert_eq!(line["review"]["id"], id, "{line}");
    assert_eq!(line["review"]["state"], "approved", "{line}");
    // Replay shows who let it run.
    let session = line["session"].as_str().expect("session id");
    let replay = s.gw.cli_ok(&["replay", session, "--no-wait"]);
    assert!(
        replay.contains(&format!("review: approved by dana ({id})")),
        "{replay}"
    );
    let verify = s.gw.cli_ok(&["audit", "verify"]);
    assert!(verify.starts_with("ok"), "{verify}");
    s.no_token_in_logs();
}

#[test]
fn a_denied_statement_fails_with_the_reason_and_changes_nothing() {
    let s = setup("rv_denied", "30s");
    let client = s.psql_in_background(&["delete from orders where note = 'bob@example.com'"]);
    let review = s.wait_pending("delete from orders");
    let id = review["id"].as_str().expect("review id");
    // Reviewers see the command masked, like every recording.
    let command = review["command"].as_str().unwrap_or_default();
    assert!(!command.contains("bob@example.com"), "{command}");

    let (status, body) = s.deny("erin", id, "not during the freeze");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["review"]["state"], "denied");

    let (ok, _, err) = client.join().expect("psql thread");
    assert!(!ok, "a denied statement must fail");
    assert!(err.contains("denied by erin"), "{err}");
    assert!(err.contains("not during the freeze"), "{err}");
    assert!(err.contains(id), "{err}");
    assert_eq!(s.orders(), "1:n1,2:n2,3:n3,4:n4,5:n5");
    assert_eq!(s.review(id)["state"], "denied");

    // A decided review takes no more decisions.
    let (status, body) = s.approve("dana", id, json!({}));
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "not_pending");
    let line = s.audit_line("delete from orders");
    assert_eq!(line["review"]["state"], "denied", "{line}");
    assert_eq!(line["reviewers"], json!([]), "{line}");
}

#[test]
fn approval_after_the_hold_grants_exactly_one_run_of_that_statement() {
    let s = setup("rv_grant", "1s");
    let started = Instant::now();
    let (ok, _, err) = s.psql(&["delete from orders where id = 3"]);
    assert!(!ok, "an undecided statement must not run");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(err.contains("is pending"), "{err}");
    assert!(err.contains("airlock reviews approve"), "{err}");
    let id = review_id_in(&err);
    assert_eq!(s.review(&id)["state"], "pending");
    assert_eq!(s.orders(), "1:n1,2:n2,3:n3,4:n4,5:n5");

    let (status, body) = s.approve("dana", &id, json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["released"], false, "{body}");
    assert_eq!(body["grant"]["kind"], "once", "{body}");
    let grant = body["grant"]["id"].as_str().expect("grant id").to_string();

    // Another literal is another statement: it asks again.
    let (ok, _, err) = s.psql(&["delete from orders where id = 4"]);
    assert!(!ok && err.contains("is pending"), "{err}");
    let other = review_id_in(&err);
    assert_ne!(other, id);
    // Asking again joins that review rather than opening another.
    let (ok, _, err) = s.psql(&["delete from orders where id = 4"]);
    assert!(!ok && err.contains("is pending"), "{err}");
    assert_eq!(review_id_in(&err), other);
    // Layout, case and comments do not matter: the grant lets it run once.
    let (ok, _, err) = s.psql(&["DELETE   FROM orders /* approved */\n WHERE id = 3"]);
    assert!(ok, "the granted statement must run: {err}");
    assert_eq!(s.orders(), "1:n1,2:n2,4:n4,5:n5");
    // A second time asks again.
    let (ok, _, err) = s.psql(&["delete from orders where id = 3"]);
    assert!(!ok && err.contains("is pending"), "{err}");
    assert_ne!(review_id_in(&err), id);

    let (status, grants) = s.api("dana", "GET", "/api/v1/grants?all=true", None);
    assert_eq!(status, 200, "{grants}");
    let used = grants
        .as_array()
        .into_iter()
        .flatten()
        .find(|g| g["id"] == grant.as_str())
        .unwrap_or_else(|| panic!("grant {grant} not listed: {grants}"));
    assert_eq!(used["uses"], 1, "{used}");
    let line = s.audit_line("/* approved */");
    assert_eq!(line["review"]["grant"], grant.as_str(), "{line}");
    assert_eq!(line["reviewers"], json!(["dana"]), "{line}");
}

#[test]
fn nobody_approves_their_own_request_or_one_they_do_not_review() {
    let s = setup("rv_authz", "1s");
    let (ok, _, err) = s.psql(&["delete from orders where id = 2"]);
    assert!(!ok);
    let id = review_id_in(&err);

    // alice is in dba, but it is her own request; alice-admin is her too.
    for who in ["alice", "alice-admin"] {
        let (status, body) = s.approve(who, &id, json!({}));
        assert_eq!(status, 403, "{who}: {body}");
        assert_eq!(body["code"], "own_request", "{who}: {body}");
    }
    // fin1 is no DBA; bot is an agent the rule does not name.
    for who in ["fin1", "bot"] {
        let (status, body) = s.approve(who, &id, json!({}));
        assert_eq!(status, 403, "{who}: {body}");
        assert_eq!(body["code"], "not_a_reviewer", "{who}: {body}");
    }
    let (status, body) = call(
        s.gw.api_port,
        "POST",
        &format!("/api/v1/reviews/{id}/approve"),
        None,
        Some(&json!({})),
    );
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "unauthorized");
    let review = s.review(&id);
    assert_eq!(review["state"], "pending", "{review}");
    assert_eq!(review["decisions"], json!([]), "{review}");
    s.no_token_in_logs();
}

#[test]
fn a_quorum_of_two_needs_two_distinct_reviewers() {
    let s = setup("rv_quorum", "30s");
    let client = s.psql_in_background(&["update orders set note = 'paid' where id = 5"]);
    let review = s.wait_pending("update orders");
    let id = review["id"].as_str().expect("review id");
    assert_eq!(review["approvals_needed"], 2);

    let (status, body) = s.approve("fin1", id, json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["review"]["state"], "pending", "{body}");
    assert_eq!(body["released"], false);
    let (status, body) = s.approve("fin1", id, json!({}));
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "already_decided");
    assert_eq!(s.orders(), "1:n1,2:n2,3:n3,4:n4,5:n5");

    let (status, body) = s.approve("fin2", id, json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["review"]["state"], "approved", "{body}");
    assert_eq!(body["released"], true, "{body}");
    let (ok, _, err) = client.join().expect("psql thread");
    assert!(ok, "{err}");
    assert_eq!(s.orders(), "1:n1,2:n2,3:n3,4:n4,5:paid");
    let line = s.audit_line("update orders");
    assert_eq!(line["reviewers"], json!(["fin1", "fin2"]), "{line}");
}

#[test]
fn a_time_boxed_grant_lets_gated_statements_run_until_it_expires() {
    let s = setup("rv_window", "1s");
    let (ok, _, err) = s.psql(&["delete from orders where id = 1"]);
    assert!(!ok);
    let id = review_id_in(&err);
    let (status, body) = s.approve("dana", &id, json!({ "for": "8s" }));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["grant"]["kind"], "window", "{body}");
    let expires: chrono::DateTime<chrono::Utc> = body["grant"]["expires_at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no expires_at: {body}"));

    // Any statement the rule gates, not only the reviewed one; and no
    // other rule's (updates need finance).
    let (ok, _, err) = s.psql(&[
        "delete from orders where id = 2",
        "delete from orders where id = 3",
    ]);
    assert!(ok, "inside the window: {err}");
    assert!(
        chrono::Utc::now() < expires,
        "the machine was too slow to test inside the window"
    );
    let (ok, _, err) = s.psql(&["update orders set note = 'x' where id = 4"]);
    assert!(!ok && err.contains("is pending"), "{err}");
    assert_eq!(s.orders(), "1:n1,4:n4,5:n5");

    let wait = (expires - chrono::Utc::now()).to_std().unwrap_or_default();
    std::thread::sleep(wait + Duration::from_millis(300));
    let (ok, _, err) = s.psql(&["delete from orders where id = 4"]);
    assert!(!ok && err.contains("is pending"), "after the window: {err}");
    assert_eq!(s.orders(), "1:n1,4:n4,5:n5");
}

#[test]
fn a_client_that_goes_away_or_cancels_withdraws_its_review() {
    let s = setup("rv_gone", "30s");
    let mut child = Command::new("psql")
        .arg(s.gw.conninfo("alice", "app"))
        .args(["-X", "-c", "delete from orders where id = 1"])
        .env("PGPASSWORD", s.token("alice"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("psql");
    let review = s.wait_pending("where id = 1");
    let id = review["id"].as_str().expect("review id").to_string();
    child.kill().expect("kill psql");
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.review(&id)["state"] != "cancelled" {
        assert!(
            Instant::now() < deadline,
            "review not cancelled: {}",
            s.review(&id)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, body) = s.approve("dana", &id, json!({}));
    assert_eq!(status, 409, "{body}");
    assert_eq!(s.orders(), "1:n1,2:n2,3:n3,4:n4,5:n5");

    // A cancel request (psql's Ctrl-C) withdraws a held statement.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = common::pgclient::connect_ok(&s.gw, "alice", "app", s.token("alice")).await;
        let cancel = client.cancel_token();
        let held = tokio::spawn(async move {
            let result = client
                .batch_execute("delete from orders where id = 2")
                .await;
            (result, client)
        });
        let review = tokio::task::spawn_blocking({
            let api = s.gw.api_port;
            let token = s.token("dana").to_string();
            move || first_pending(api, &token)
        })
        .await
        .expect("poll");
        cancel
            .cancel_query(tokio_postgres::NoTls)
            .await
            .expect("send cancel");
        let (result, client) = held.await.expect("held task");
        let err = result.expect_err("a cancelled statement must fail");
        let (code, message) = common::pgclient::db_error(&err);
        assert_eq!(code, "57014", "{message}");
        assert!(message.contains("cancelled"), "{message}");
        // The session goes on, and the cancel was the held statement's
        // alone: the target had nothing of it to cancel, so a cancel
        // passed on to the target too would stop whatever ran next.
        let row = client
            .query_one("select count(*) from orders, pg_sleep(0.5)", &[])
            .await
            .expect("query after cancel");
        assert_eq!(row.get::<_, i64>(0), 5);
        let id = review["id"].as_str().unwrap_or_default().to_string();
        assert_eq!(s.review(&id)["state"], "cancelled");
    });
    assert!(
        s.gw.wait_for_log("cancel request withdrew a command held for review"),
        "{}",
        s.gw.logs()
    );
    assert!(
        !s.gw.logs().contains("cancel request forwarded"),
        "a withdrawn command's cancel reached the target:\n{}",
        s.gw.logs()
    );
}

#[test]
fn pending_reviews_survive_a_restart_and_their_grants_work_after_it() {
    let mut s = setup("rv_restart", "1s");
    let (ok, _, err) = s.psql(&["delete from orders where id = 5"]);
    assert!(!ok);
    let id = review_id_in(&err);
    s.gw.stop();
    s.gw.spawn();
    assert_eq!(s.review(&id)["state"], "pending");
    let (status, body) = s.approve("erin", &id, json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["grant"]["kind"], "once", "{body}");
    let (ok, _, err) = s.psql(&["delete from orders where id = 5"]);
    assert!(ok, "{err}");
    assert_eq!(s.orders(), "1:n1,2:n2,3:n3,4:n4");
}

#[test]
fn a_prepared_statement_is_held_at_parse_and_runs_when_approved() {
    let s = setup("rv_prepared", "30s");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = common::pgclient::connect_ok(&s.gw, "alice", "app", s.token("alice")).await;
        // The extended protocol: Parse (held here), Bind, Execute.
        let held = tokio::spawn(async move {
            client
                .execute("delete from orders where id = $1", &[&2i32])
                .await
        });
        let review = tokio::task::spawn_blocking({
            let api = s.gw.api_port;
            let token = s.token("dana").to_string();
            move || first_pending(api, &token)
        })
        .await
        .expect("poll");
        // Reviewers see the statement with its placeholder.
        assert!(
            review["command"].as_str().is_some_and(|c| c.contains("$1")),
            "{review}"
        );
        let id = review["id"].as_str().unwrap_or_default().to_string();
        let (status, body) = s.approve("dana", &id, json!({}));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["released"], true, "{body}");
        let deleted = held.await.expect("held task").expect("approved statement");
        assert_eq!(deleted, 1);
    });
    assert_eq!(s.orders(), "1:n1,3:n3,4:n4,5:n5");
    let line = s.audit_line("delete from orders where id = $1");
    // tokio-postgres binds an int4 in binary: recorded as hex.
    assert_eq!(line["params"], json!(["\\x00000002"]), "{line}");
    assert_eq!(line["reviewers"], json!(["dana"]), "{line}");
}

#[test]
fn an_identity_cannot_pile_up_pending_reviews() {
    let db = TempDb::new("rv_flood");
    direct(&db.name, "create table orders (id int primary key)");
    let connection = format!(
        "  - name: app\n    type: postgres\n    target: {{ host: 127.0.0.1, port: 5432, database: {}, user: postgres, tls: disable }}\n    allow: [\"alice\"]\n",
        db.name
    );
    let gw = Gateway::start(
        &connection,
        &format!("{RULES}\nreviews: {{ hold: 0s, max_pending_per_identity: 2 }}\n"),
    );
    let alice = gw.identity_with_token("alice", &[]);
    let dana = gw.identity_with_token("dana", &["--group", "dba"]);
    let conninfo = gw.conninfo("alice", "app");
    for id in 1..=2 {
        let (ok, _, err) = psql(
            &conninfo,
            &alice,
            &["-c", &format!("delete from orders where id = {id}")],
        );
        assert!(!ok && err.contains("is pending"), "{err}");
    }
    let (ok, _, err) = psql(
        &conninfo,
        &alice,
        &[
            "-v",
            "VERBOSITY=verbose",
            "-c",
            "delete from orders where id = 3",
        ],
    );
    assert!(!ok, "a third gated command must not run");
    assert!(err.contains("53400"), "{err}");
    assert!(err.contains("2 reviews you asked for are pending"), "{err}");
    let (status, body) = call(
        gw.api_port,
        "GET",
        "/api/v1/reviews?state=pending",
        Some(&dana),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body.as_array().map(Vec::len),
        Some(2),
        "no third review: {body}"
    );
    // Deciding one makes room for the next.
    let id = body[0]["id"].as_str().expect("id").to_string();
    let (status, body) = call(
        gw.api_port,
        "POST",
        &format!("/api/v1/reviews/{id}/deny"),
        Some(&dana),
        Some(&json!({ "reason": "no" })),
    );
    assert_eq!(status, 200, "{body}");
    let (ok, _, err) = psql(
        &conninfo,
        &alice,
        &["-c", "delete from orders where id = 3"],
    );
    assert!(!ok && err.contains("is pending"), "{err}");
}

#[test]
fn the_same_command_from_two_sessions_waits_for_one_review() {
    let s = setup("rv_join", "30s");
    let first = s.psql_in_background(&["delete from orders where id = 1"]);
    let review = s.wait_pending("where id = 1");
    let id = review["id"].as_str().expect("review id").to_string();
    let second = s.psql_in_background(&["delete from orders where id = 1"]);
    // The second session's command joins: wait until it is held too.
    assert!(
        s.gw.wait_for_log("command joins the pending review"),
        "{}",
        s.gw.logs()
    );
    let (status, body) = s.api("dana", "GET", "/api/v1/reviews?state=pending", None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_array().map(Vec::len), Some(1), "one review: {body}");

    let (status, body) = s.approve("dana", &id, json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["released"], true, "{body}");
    for client in [first, second] {
        let (ok, _, err) = client.join().expect("psql thread");
        assert!(ok, "both held commands run once approved: {err}");
    }
    assert_eq!(s.orders(), "2:n2,3:n3,4:n4,5:n5");
}
