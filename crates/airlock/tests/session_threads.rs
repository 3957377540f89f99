//! Sessions run on the session threads (`postgres.session_threads`), each
//! on one of them for its whole life.

mod common;

use std::time::{Duration, Instant};

use common::Gateway;
use common::pg::TempDb;
use common::pgclient::{bounded, connect_ok};

fn gateway(db: &TempDb, threads: u16) -> Gateway {
    gateway_with(db, &format!("postgres: {{ session_threads: {threads} }}"))
}

fn gateway_with(db: &TempDb, settings: &str) -> Gateway {
    Gateway::start(
        &format!(
            "  - name: app\n    type: postgres\n    target: {{ host: 127.0.0.1, port: 5432, database: {}, user: postgres, tls: disable }}\n    allow: [\"alice\"]\n",
            db.name
        ),
        settings,
    )
}

/// The gateway process's threads, id and name, from /proc.
fn threads_of(pid: u32) -> Vec<(i32, String)> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("read /proc/PID/task");
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| {
            let tid = t.file_name().to_str()?.parse().ok()?;
            let name = std::fs::read_to_string(t.path().join("comm")).ok()?;
            Some((tid, name.trim().to_string()))
        })
        .collect()
}

fn thread_names(pid: u32) -> Vec<String> {
    threads_of(pid).into_iter().map(|(_, name)| name).collect()
}

/// Thread ids of the gateway's session threads, once all `count` run.
fn session_tids(pid: u32, count: usize) -> Vec<i32> {
    let tids = || -> Vec<i32> {
        threads_of(pid)
            .into_iter()
            .filter(|(_, name)| name.starts_with("airlock-session"))
            .map(|(tid, _)| tid)
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while tids().len() != count && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    tids()
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

/// Each session thread asks for `postgres.session_slice` when it is set;
/// unset or `0s`, the threads keep the kernel's default. On a kernel
/// without custom slices (before 6.12) the gateway runs on with the
/// default, and so must the test: it checks then that the threads have
/// the default.
#[test]
fn session_threads_run_with_the_configured_slice() {
    let db = TempDb::new("threads_slice");
    // A fresh thread's slice is the kernel's default (6.12 and later
    // report it; earlier kernels report 0).
    let (default, probe) = std::thread::spawn(|| {
        let default = airlock_pg::slice::of_thread(0).expect("sched_getattr");
        (
            default,
            airlock_pg::slice::ask_for(Duration::from_micros(100)),
        )
    })
    .join()
    .expect("probe thread");
    // Only a kernel that drops the slice excuses the gateway; any other
    // failure is the test's to report.
    let kernel_keeps_slices = match probe {
        Ok(()) => true,
        Err(airlock_pg::slice::SliceError::NotKept { .. }) => false,
        Err(e) => panic!("cannot ask for a slice here: {e}"),
    };
    for (settings, expected) in [
        ("postgres: { session_threads: 2 }", default),
        (
            "postgres: { session_threads: 2, session_slice: 100us }",
            Duration::from_micros(100),
        ),
        (
            "postgres: { session_threads: 2, session_slice: 2ms }",
            Duration::from_millis(2),
        ),
        (
            "postgres: { session_threads: 2, session_slice: 0s }",
            default,
        ),
    ] {
        let gw = gateway_with(&db, settings);
        let pid = gw.pid().expect("gateway pid");
        let tids = session_tids(pid, 2);
        assert_eq!(tids.len(), 2, "{settings}");
        let want = if kernel_keeps_slices {
            expected
        } else {
            default
        };
        for tid in tids {
            // A thread asks for its slice as its first step, which may be
            // a moment after the gateway listens.
            let kept = || airlock_pg::slice::of_thread(tid).expect("sched_getattr");
            let deadline = Instant::now() + Duration::from_secs(5);
            while kept() != want && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert_eq!(kept(), want, "{settings}: thread {tid}");
        }
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
