//! Sessions run on the session threads (`postgres.session_threads`), each
//! on one of them for its whole life.

mod common;

use std::time::{Duration, Instant};

use common::Gateway;
use common::pg::TempDb;
use common::pgclient::{bounded, connect_ok};

fn gateway(db: &TempDb, threads: u16) -> Gateway {
    Gateway::start(
        &format!(
            "  - name: app\n    type: postgres\n    target: {{ host: 127.0.0.1, port: 5432, database: {}, user: postgres, tls: disable }}\n    allow: [\"alice\"]\n",
            db.name
        ),
        &format!("postgres: {{ session_threads: {threads} }}"),
    )
}

/// Names of the gateway process's threads, from /proc.
fn thread_names(pid: u32) -> Vec<String> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("read /proc/PID/task");
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .collect()
}

#[test]
fn serve_starts_as_many_session_threads_as_configured() {
    let db = TempDb::new("threads_count");
    for threads in [1u16, 3] {
        let gw = gateway(&db, threads);
        let pid = gw.pid().expect("gateway pid");
        let sessions = || {
            thread_names(pid)
                .iter()
                .filter(|n| n.starts_with("airlock-session"))
                .count()
        };
        // A thread takes its name once it runs, which may be a moment
        // after the gateway accepts connections.
        let deadline = Instant::now() + Duration::from_secs(5);
        while sessions() != usize::from(threads) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            sessions(),
            usize::from(threads),
            "threads of the gateway: {:?}",
            thread_names(pid)
        );
    }
}

/// On one session thread, a session waiting on a slow statement leaves
/// the thread free: another session's statements go through meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_session_thread_serves_sessions_side_by_side() {
    let db = TempDb::new("threads_side");
    let gw = gateway(&db, 1);
    let token = gw.identity_with_token("alice", &[]);
    let slow = connect_ok(&gw, "alice", "app", &token).await;
    let quick = connect_ok(&gw, "alice", "app", &token).await;

    let started = Instant::now();
    let sleeping = tokio::spawn(async move { slow.simple_query("select pg_sleep(3)").await });
    // Let the sleep reach the server before the other session starts.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for n in 0..20i32 {
        let row = bounded(
            "a quick query",
            10,
            quick.query_one("select $1::int + 1", &[&n]),
        )
        .await
        .expect("quick query");
        assert_eq!(row.get::<_, i32>(0), n + 1);
    }
    let quick_done = started.elapsed();
    assert!(
        !sleeping.is_finished(),
        "the slow statement finished before the quick ones were checked"
    );
    assert!(
        quick_done < Duration::from_secs(3),
        "the quick session waited for the slow one: {quick_done:?}"
    );
    bounded("the slow statement", 20, sleeping)
        .await
        .expect("slow task")
        .expect("pg_sleep");
}
