//! What the gateway recorded, read back through the CLI
//! (`airlock sessions list|show --json`). Events reach the store through a
//! batching writer, so readers poll for a few seconds.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::Gateway;

/// Every recorded session, newest first.
pub fn sessions(gw: &Gateway) -> Vec<Value> {
    let out = gw.cli_ok(&["sessions", "list", "--limit", "1000", "--json"]);
    match serde_json::from_str(&out) {
        Ok(Value::Array(v)) => v,
        other => panic!("sessions list --json is not an array: {other:?}: {out}"),
    }
}

/// `{ "session": …, "events": […] }` for one session.
pub fn show(gw: &Gateway, id: &str) -> Value {
    let out = gw.cli_ok(&["sessions", "show", id, "--json"]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("sessions show --json: {e}: {out}"))
}

/// Polls `probe` until it yields a value; panics after 10 s, naming `what`.
pub fn wait_for<T>(gw: &Gateway, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "gave up waiting for {what}\n--- gateway log ---\n{}",
            gw.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every recorded event whose outcome is recorded too, with the session it
/// belongs to. The command's record lands before the command runs and its
/// outcome after, so a reader waits for both: each event comes back as one
/// object with the outcome's fields (`rows`, `bytes`, `error`, `preview`,
/// `duration_us`) beside the command's, and `param_count`.
pub fn all_events(gw: &Gateway) -> Vec<(Value, Value)> {
    let mut out = Vec::new();
    for s in sessions(gw) {
        let Some(id) = s["id"].as_str() else { continue };
        let doc = show(gw, id);
        if let Some(events) = doc["events"].as_array() {
            for e in events {
                if let Some(event) = finished(e) {
                    out.push((doc["session"].clone(), event));
                }
            }
        }
    }
    out
}

/// One event with its outcome's fields merged in; `None` while it has none.
pub fn finished(event: &Value) -> Option<Value> {
    let Value::Object(outcome) = &event["outcome"] else {
        return None;
    };
    let mut merged = event.clone();
    if let Value::Object(m) = &mut merged {
        for key in ["rows", "bytes", "error", "preview", "duration_us"] {
            m.insert(key.into(), outcome.get(key).cloned().unwrap_or(Value::Null));
        }
        let params = event["params"].as_array().map_or(0, Vec::len);
        m.insert("param_count".into(), Value::from(params));
    }
    Some(merged)
}

/// Waits for the events whose SQL text contains `needle` until there are at
/// least `count`; returns them (with their sessions) in recorded order.
pub fn wait_for_events(gw: &Gateway, needle: &str, count: usize) -> Vec<(Value, Value)> {
    wait_for(
        gw,
        &format!("{count} event(s) containing {needle:?}"),
        || {
            let found: Vec<_> = all_events(gw)
                .into_iter()
                .filter(|(_, e)| e["command"].as_str().is_some_and(|c| c.contains(needle)))
                .collect();
            (found.len() >= count).then_some(found)
        },
    )
}

/// Waits for one event containing `needle` and returns it with its session.
pub fn wait_for_event(gw: &Gateway, needle: &str) -> (Value, Value) {
    wait_for_events(gw, needle, 1).remove(0)
}

/// Waits until the session `id` is recorded as ended; returns it.
pub fn wait_for_end(gw: &Gateway, id: &str) -> Value {
    wait_for(gw, &format!("session {id} to be recorded as ended"), || {
        let doc = show(gw, id);
        (!doc["session"]["ended_at"].is_null()).then_some(doc)
    })
}
