//! The review API's surface (auth, error codes, the OpenAPI document), the
//! `airlock reviews`/`airlock grants` CLI, and review notifications, against
//! a real gateway. The hold/approve/deny/grant behaviour itself is tested
//! end to end in `reviews.rs`.

mod common;

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use common::http::call;
use common::pg::TempDb;
use common::pgclient::{bounded, connect_ok, db_error};
use common::{BIN, Gateway, free_port};

const HOOK_AUTH_ENV: &str = "AIRLOCK_TEST_REVIEW_HOOK_AUTH";
const HOOK_AUTH: &str = "Bearer hook-s3cret-value";
const HOLD_SECS: u64 = 2;

/// A connection `app` to a database of the test's own, open to alice, with
/// a short hold; the rule `r` sends DROPs to the dba group.
fn start(db: &TempDb, reviews: &str) -> Gateway {
    let connection = format!(
        "  - name: app\n    type: postgres\n    target: {{ host: 127.0.0.1, port: 5432, database: {}, user: postgres, tls: disable }}\n    allow: [\"alice\"]\n    review: {{ hold: {HOLD_SECS}s }}\n",
        db.name
    );
    let extra = format!(
        "policy:\n  default_pack: false\nrules:\n  - name: r\n    when: \"facts.sql.kinds.exists(k, k == 'drop')\"\n    action: review\n    reviewers: [\"group:dba\"]\n    message: dropping needs a DBA\n{reviews}"
    );
    Gateway::start_with_env(&connection, &extra, &[(HOOK_AUTH_ENV, HOOK_AUTH)])
}

/// The CLI as the identity of `token` (none: AIRLOCK_TOKEN unset), finding
/// the API through the gateway's configuration.
fn cli_as(gw: &Gateway, token: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("--config")
        .arg(&gw.config)
        .args(args)
        .env_remove("AIRLOCK_CONFIG")
        .env_remove("AIRLOCK_SERVER")
        .env_remove("AIRLOCK_TOKEN");
    if let Some(t) = token {
        cmd.env("AIRLOCK_TOKEN", t);
    }
    cmd.output().expect("run airlock")
}

fn cli_ok(gw: &Gateway, token: &str, args: &[&str]) -> String {
    let out = cli_as(gw, Some(token), args);
    assert!(
        out.status.success(),
        "airlock {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        gw.logs()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn cli_err(gw: &Gateway, token: Option<&str>, args: &[&str]) -> String {
    let out = cli_as(gw, token, args);
    assert!(!out.status.success(), "airlock {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `(status, body)` of an API call, off the async runtime's threads.
async fn api(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let (method, path, token) = (
        method.to_string(),
        path.to_string(),
        token.map(str::to_string),
    );
    tokio::task::spawn_blocking(move || call(port, &method, &path, token.as_deref(), body.as_ref()))
        .await
        .expect("API call")
}

/// One request a webhook receiver got.
#[derive(Debug, Clone)]
struct Received {
    target: String,
    authorization: Option<String>,
    body: Value,
}

/// A webhook receiver on 127.0.0.1 answering 200 to everything, with
/// what it received.
async fn receiver() -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let sink = sink.clone();
            tokio::spawn(async move {
                if let Some(request) = read_request(&mut socket).await {
                    if let Ok(mut g) = sink.lock() {
                        g.push(request);
                    }
                    let _ = socket
                        .write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        )
                        .await;
                }
            });
        }
    });
    (port, got)
}

/// One HTTP/1.1 request with a Content-Length body, parsed by hand.
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let target = lines.next()?.split_whitespace().nth(1)?.to_string();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let length: usize = header("content-length")?.parse().ok()?;
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(Received {
        target,
        authorization: header("authorization"),
        body: serde_json::from_slice(&buf[head_end..head_end + length]).ok()?,
    })
}

/// Sends a DROP that rule `r` holds, as alice; returns the refusal's
/// message and how long it took to arrive.
async fn held_drop(gw: &Gateway, token: &str) -> (String, Duration) {
    let client = connect_ok(gw, "alice", "app", token).await;
    let started = Instant::now();
    let err = bounded(
        "the held drop",
        30,
        client.simple_query("drop table if exists x"),
    )
    .await
    .expect_err("an undecided DROP must not run");
    let elapsed = started.elapsed();
    let (code, message) = db_error(&err);
    assert!(
        message.contains("is pending"),
        "{code}: {message}\n{}",
        gw.logs()
    );
    (message, elapsed)
}

/// The review id a refusal names.
fn review_id_in(message: &str) -> String {
    let start = message
        .find("rv-")
        .unwrap_or_else(|| panic!("no review id in {message:?}"));
    message[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_without_a_valid_token_get_401_in_json() {
    let db = TempDb::new("rvapi_auth");
    let gw = start(&db, "");
    let port = gw.api_port;
    let bogus = "not-a-real-token-4711";
    for (method, path) in [
        ("GET", "/api/v1/reviews"),
        ("GET", "/api/v1/reviews/rv-x"),
        ("POST", "/api/v1/reviews/rv-x/approve"),
        ("POST", "/api/v1/reviews/rv-x/deny"),
        ("GET", "/api/v1/grants"),
        ("POST", "/api/v1/grants/gr-x/revoke"),
        ("GET", "/api/v1/sessions"),
    ] {
        for token in [None, Some(bogus)] {
            let (status, body) = api(port, method, path, token, None).await;
            assert_eq!(status, 401, "{method} {path} {token:?}: {body}");
            assert_eq!(body["code"], "unauthorized", "{method} {path}: {body}");
            assert!(body["message"].is_string(), "{body}");
            assert!(!body.to_string().contains(bogus), "{body}");
        }
    }
    assert!(!gw.logs().contains(bogus), "a token reached the log");
    // Health and the API's description need no token.
    let (status, body) = api(port, "GET", "/healthz", None, None).await;
    assert_eq!((status, &body["status"]), (200, &json!("ok")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_route_and_the_bearer_scheme() {
    let db = TempDb::new("rvapi_openapi");
    let gw = start(&db, "");
    let (status, doc) = api(gw.api_port, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, 200, "{doc}");
    assert!(doc.is_object(), "not JSON: {doc}");
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{doc}"
    );
    let methods = [
        ("/healthz", "get"),
        ("/api/v1/sessions", "get"),
        ("/api/v1/reviews", "get"),
        ("/api/v1/reviews/{id}", "get"),
        ("/api/v1/reviews/{id}/approve", "post"),
        ("/api/v1/reviews/{id}/deny", "post"),
        ("/api/v1/grants", "get"),
        ("/api/v1/grants/{id}/revoke", "post"),
    ];
    for (path, method) in methods {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not documented");
        if path.starts_with("/api/v1/") {
            assert_eq!(op["security"], json!([{ "bearer": [] }]), "{path}");
            assert!(op["responses"]["401"].is_object(), "{path}: no 401");
        }
    }
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(
        (&scheme["type"], &scheme["scheme"]),
        (&json!("http"), &json!("bearer")),
        "{scheme}"
    );
    let error = &doc["components"]["schemas"]["ErrorBody"]["properties"];
    assert!(
        error["code"].is_object() && error["message"].is_object(),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_stable_codes() {
    let db = TempDb::new("rvapi_codes");
    let gw = start(&db, "");
    let dana = gw.identity_with_token("dana", &["--group", "dba"]);
    let port = gw.api_port;
    let t = Some(dana.as_str());
    let cases = [
        (
            "GET",
            "/api/v1/reviews/rv-nope",
            None,
            404,
            "review_not_found",
        ),
        (
            "POST",
            "/api/v1/reviews/rv-nope/approve",
            None,
            404,
            "review_not_found",
        ),
        (
            "POST",
            "/api/v1/reviews/rv-nope/deny",
            Some(json!({ "reason": "no" })),
            404,
            "review_not_found",
        ),
        (
            "POST",
            "/api/v1/reviews/rv-nope/deny",
            Some(json!({})),
            400,
            "reason_required",
        ),
        (
            "POST",
            "/api/v1/reviews/rv-nope/deny",
            Some(json!({ "reason": "  " })),
            400,
            "reason_required",
        ),
        (
            "POST",
            "/api/v1/reviews/rv-nope/approve",
            Some(json!({ "for": "soon" })),
            400,
            "invalid_duration",
        ),
        (
            "POST",
            "/api/v1/reviews/rv-nope/approve",
            Some(json!({ "for": "400d" })),
            400,
            "window_too_long",
        ),
        (
            "POST",
            "/api/v1/reviews/rv-nope/approve",
            Some(json!({ "window": "1h" })),
            400,
            "invalid_body",
        ),
        (
            "GET",
            "/api/v1/reviews?state=bogus",
            None,
            400,
            "invalid_query",
        ),
        (
            "GET",
            "/api/v1/reviews?limit=many",
            None,
            400,
            "invalid_query",
        ),
        (
            "POST",
            "/api/v1/grants/gr-nope/revoke",
            None,
            404,
            "grant_not_found",
        ),
        ("GET", "/api/v1/nothing-here", None, 404, "not_found"),
    ];
    for (method, path, body, status, code) in cases {
        let (got, answer) = api(port, method, path, t, body.clone()).await;
        assert_eq!(
            (got, &answer["code"]),
            (status, &json!(code)),
            "{method} {path} {body:?}: {answer}"
        );
    }
    let (status, list) = api(
        port,
        "GET",
        "/api/v1/reviews?state=pending&limit=5",
        t,
        None,
    )
    .await;
    assert_eq!((status, list), (200, json!([])));
    let (status, list) = api(port, "GET", "/api/v1/grants?all=true", t, None).await;
    assert_eq!((status, list), (200, json!([])));
    assert!(!gw.logs().contains(&dana), "a token reached the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_talks_to_the_api_and_reports_its_errors() {
    let db = TempDb::new("rvapi_cli");
    let gw = start(&db, "");
    let dana = gw.identity_with_token("dana", &["--group", "dba"]);

    let out = cli_ok(&gw, &dana, &["reviews", "list"]);
    assert_eq!(out.trim(), "no pending reviews");
    let out = cli_ok(&gw, &dana, &["reviews", "list", "--state", "all", "--json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&out).ok(),
        Some(json!([])),
        "{out}"
    );
    let out = cli_ok(&gw, &dana, &["grants", "list"]);
    assert_eq!(out.trim(), "no live grants");

    let err = cli_err(&gw, Some(&dana), &["reviews", "show", "rv-nope"]);
    assert_eq!(err.trim(), "error: no review rv-nope (review_not_found)");
    let err = cli_err(
        &gw,
        Some(&dana),
        &["reviews", "deny", "rv-nope", "--reason", " "],
    );
    assert!(err.contains("(reason_required)"), "{err}");
    let err = cli_err(&gw, Some("bogus-token"), &["reviews", "list"]);
    assert!(
        err.starts_with("error: ") && err.contains("(unauthorized)"),
        "{err}"
    );
    assert!(!err.contains("bogus-token"), "{err}");
    let err = cli_err(&gw, None, &["reviews", "list"]);
    assert!(err.contains("AIRLOCK_TOKEN is not set"), "{err}");

    // --server (or AIRLOCK_SERVER) wins over the configuration.
    let nobody = format!("http://127.0.0.1:{}", free_port());
    let err = cli_err(&gw, Some(&dana), &["reviews", "list", "--server", &nobody]);
    assert!(err.contains("cannot reach the gateway's API"), "{err}");
    let err = cli_err(
        &gw,
        Some(&dana),
        &["grants", "list", "--server", "https://gw.example"],
    );
    assert!(err.contains("https is not supported"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_reviews_are_announced_to_matching_webhooks_and_decided_with_the_cli() {
    let (port, got) = receiver().await;
    let db = TempDb::new("rvapi_notify");
    let hooks = format!(
        "reviews:\n  public_url: https://airlock.example/\n  webhooks:\n    \
         - url: http://127.0.0.1:{port}/slack?key=in-the-query\n      authorization_env: {HOOK_AUTH_ENV}\n    \
         - url: http://127.0.0.1:{port}/json\n      format: json\n      rules: [r]\n    \
         - url: http://127.0.0.1:{port}/other\n      rules: [some-other-rule]\n"
    );
    let gw = start(&db, &hooks);
    let alice = gw.identity_with_token("alice", &[]);
    let dana = gw.identity_with_token("dana", &["--group", "dba"]);

    let (message, _) = held_drop(&gw, &alice).await;
    let id = review_id_in(&message);
    let deadline = Instant::now() + Duration::from_secs(15);
    let received = loop {
        let now: Vec<Received> = got.lock().map(|g| g.clone()).unwrap_or_default();
        if now.len() >= 2 {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "notifications missing: {now:?}\n{}",
            gw.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    let slack = received
        .iter()
        .find(|r| r.target.starts_with("/slack"))
        .unwrap_or_else(|| panic!("no Slack notification: {received:?}"));
    assert_eq!(slack.target, "/slack?key=in-the-query");
    assert_eq!(slack.authorization.as_deref(), Some(HOOK_AUTH));
    let text = slack.body["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", slack.body));
    for part in [
        "alice",
        "app",
        "drop table if exists x",
        "Rules: r — dropping needs a DBA",
        "group:dba",
        &format!("airlock reviews approve {id}"),
        &format!("https://airlock.example/api/v1/reviews/{id}"),
    ] {
        assert!(text.contains(part), "{part:?} missing in {text}");
    }
    let doc = received
        .iter()
        .find(|r| r.target == "/json")
        .unwrap_or_else(|| panic!("no JSON notification: {received:?}"));
    assert_eq!(doc.authorization, None);
    assert_eq!(doc.body["event"], "review.requested");
    assert_eq!(doc.body["review"]["id"], id.as_str());
    assert_eq!(doc.body["review"]["state"], "pending");
    assert_eq!(doc.body["review"]["rules"], json!(["r"]));
    assert_eq!(
        doc.body["links"]["approve"],
        format!("https://airlock.example/api/v1/reviews/{id}/approve")
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let other = got
        .lock()
        .map(|g| g.iter().filter(|r| r.target == "/other").count())
        .unwrap_or_default();
    assert_eq!(other, 0, "a webhook for other rules was called");
    assert!(
        !gw.logs().contains("hook-s3cret-value"),
        "the webhook's Authorization reached the log"
    );

    // The CLI sees and decides it, by a unique prefix.
    let out = cli_ok(&gw, &dana, &["reviews", "list"]);
    assert!(
        out.contains(&id) && out.contains("drop table if exists x"),
        "{out}"
    );
    let out = cli_ok(&gw, &dana, &["reviews", "show", &id[..8]]);
    for part in [
        "state      pending",
        "requester  alice",
        "rules      r",
        "drop table if exists x",
        "decisions  none yet",
    ] {
        assert!(out.contains(part), "{part:?} missing in {out}");
    }
    let err = cli_err(&gw, Some(&alice), &["reviews", "approve", &id]);
    assert!(err.contains("(own_request)"), "{err}");
    let out = cli_ok(
        &gw,
        &dana,
        &["reviews", "approve", &id, "--reason", "ticket 7"],
    );
    assert!(
        out.starts_with("approved; one-time grant gr-")
            && out.contains("lets alice run the command once (until "),
        "{out}"
    );
    let grant = out
        .split_whitespace()
        .find(|w| w.starts_with("gr-"))
        .unwrap_or_default()
        .to_string();
    let out = cli_ok(&gw, &dana, &["reviews", "show", &id]);
    assert!(out.contains("dana approved: ticket 7"), "{out}");
    let out = cli_ok(&gw, &dana, &["grants", "list"]);
    assert!(out.contains(&grant) && out.contains("live"), "{out}");
    let out = cli_ok(&gw, &dana, &["grants", "revoke", &grant]);
    assert!(out.starts_with(&format!("revoked {grant}")), "{out}");
    let out = cli_ok(&gw, &dana, &["grants", "list"]);
    assert_eq!(out.trim(), "no live grants");
    let out = cli_ok(&gw, &dana, &["grants", "list", "--all", "--json"]);
    let all: Value = serde_json::from_str(&out).expect("JSON");
    assert!(all[0]["revoked_at"].is_string(), "{all}");
    let err = cli_err(&gw, Some(&dana), &["grants", "revoke", &grant]);
    assert!(err.contains("(grant_not_live)"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_webhook_delays_neither_the_held_command_nor_the_next_one() {
    let db = TempDb::new("rvapi_dead");
    let hooks = format!(
        "reviews:\n  webhooks:\n    - url: http://127.0.0.1:{}/nobody-listens\n",
        free_port()
    );
    let gw = start(&db, &hooks);
    let alice = gw.identity_with_token("alice", &[]);
    // Loose bounds: a behaviour check (the refusal comes at the hold's
    // end, not after notification retries), not a benchmark.
    let limit = Duration::from_secs(HOLD_SECS + 3);
    for round in 0..2 {
        let (_, elapsed) = held_drop(&gw, &alice).await;
        assert!(
            elapsed < limit,
            "round {round}: the refusal took {elapsed:?}\n{}",
            gw.logs()
        );
    }
    assert!(
        gw.wait_for_log("review notification failed"),
        "the failed delivery is not logged\n{}",
        gw.logs()
    );
}
