//! The shortest path through the gateway: psql in, a row out, a session
//! recorded.

mod common;

use common::record::{sessions, wait_for};
use common::{Gateway, pg::TempDb, psql};

#[test]
fn psql_reaches_postgres_and_the_session_is_recorded() {
    let db = TempDb::new("smoke");
    let gw = Gateway::with_local_pg("app", &db.name, "[\"alice\"]");
    let token = gw.identity_with_token("alice", &[]);
    let (ok, out, err) = psql(
        &gw.conninfo("alice", "app"),
        &token,
        &["-c", "select 40 + 2"],
    );
    assert!(ok, "psql failed: {err}");
    assert_eq!(out.trim(), "42");
    // Records reach the store a few milliseconds behind the session.
    let v = wait_for(&gw, "the session in the store", || {
        Some(sessions(&gw)).filter(|v| !v.is_empty())
    });
    assert_eq!(v[0]["identity"], "alice");
    assert_eq!(v[0]["connection"], "app");
}
