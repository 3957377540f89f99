//! Test harness: a real `airlock serve` process with its own data_dir and
//! free ports, in front of the machine's real PostgreSQL.
#![allow(dead_code)]

pub mod cluster;
pub mod http;
pub mod pg;
pub mod pgclient;
pub mod raw;
pub mod record;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_airlock");

/// A port nobody listens on right now.
/// A port nothing listens on, for a gateway to listen on. Taken below the
/// kernel's range for outgoing connections: a port `bind(:0)` handed out
/// and released again is in that range, where any client connection of a
/// test running beside this one could take it before the gateway binds it
/// (a test failed with "Address already in use" so).
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, RandomState};
    let outgoing_from = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let low: u16 = 10000;
    let span = outgoing_from.saturating_sub(low).max(1000);
    // A differently seeded hasher every call: random enough that tests
    // picking at once pick different ports.
    for attempt in 0u32..1000 {
        let pick = RandomState::new().hash_one(attempt) % u64::from(span);
        let port = low + pick as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port below {outgoing_from}")
}

/// A unique name for schemas, databases and identities of one test.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        nanos % 100_000
    )
}

/// A gateway process. Killed (and its logs kept for failures) on drop.
pub struct Gateway {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub pg_port: u16,
    pub api_port: u16,
    child: Option<Child>,
    log: Arc<Mutex<Vec<String>>>,
    /// Extra environment of the gateway process.
    env: Vec<(String, String)>,
}

impl Gateway {
    /// Writes `airlock.yaml` with the given `connections:` block (YAML,
    /// already indented as a top-level key's value) and `extra` top-level
    /// keys, then starts the gateway and waits until it accepts.
    pub fn start(connections: &str, extra: &str) -> Gateway {
        Gateway::start_with_env(connections, extra, &[])
    }

    /// As [`Gateway::start`], with extra environment variables for the
    /// gateway process (e.g. a target's `password_env`); restarts keep them.
    pub fn start_with_env(connections: &str, extra: &str, env: &[(&str, &str)]) -> Gateway {
        let dir = tempfile::tempdir().expect("tempdir");
        let pg_port = free_port();
        let api_port = free_port();
        let config = dir.path().join("airlock.yaml");
        // A command a review rule gates is answered at once (its review
        // pending) unless the test sets a hold of its own: tests that only
        // check that such commands do not run need not wait 30 s each.
        let extra = if extra.contains("reviews:") {
            extra.to_string()
        } else {
            format!("{extra}\nreviews: {{ hold: 0s, max_pending_per_identity: 1000 }}\n")
        };
        let text = format!(
            "data_dir: ./data\nlisten:\n  postgres: 127.0.0.1:{pg_port}\n  api: 127.0.0.1:{api_port}\n{extra}\nconnections:\n{connections}\n"
        );
        std::fs::write(&config, text).expect("write config");
        let mut gw = Gateway {
            dir,
            config,
            pg_port,
            api_port,
            child: None,
            log: Arc::new(Mutex::new(Vec::new())),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        gw.spawn();
        gw
    }

    /// A gateway with one connection `name` to the machine's PostgreSQL
    /// database `database`, open to `allow`.
    pub fn with_local_pg(name: &str, database: &str, allow: &str) -> Gateway {
        Gateway::start(
            &format!(
                "  - name: {name}\n    type: postgres\n    target: {{ host: 127.0.0.1, port: 5432, database: {database}, user: postgres, tls: disable }}\n    allow: {allow}\n"
            ),
            "",
        )
    }

    pub fn spawn(&mut self) {
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(&self.config)
            .arg("serve")
            .env("AIRLOCK_LOG", "info,airlock=debug")
            .env_remove("AIRLOCK_CONFIG")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start airlock serve");
        let stderr = child.stderr.take().expect("stderr");
        let log = self.log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut l) = log.lock() {
                    l.push(line);
                }
            }
        });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.pg_port)).is_err() {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("airlock exited early with {status}: {}", self.logs());
            }
            assert!(
                Instant::now() < deadline,
                "airlock did not start: {}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs the CLI against this gateway's configuration.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env_remove("AIRLOCK_CONFIG")
            .output()
            .expect("run airlock")
    }

    /// Runs the CLI and insists it succeeds; returns stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "airlock {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Adds an identity (with `--group`s, or as an agent) and returns a
    /// fresh token for it.
    pub fn identity_with_token(&self, name: &str, extra: &[&str]) -> String {
        let mut args = vec!["identity", "add", name];
        args.extend_from_slice(extra);
        self.cli_ok(&args);
        self.cli_ok(&["token", "issue", name]).trim().to_string()
    }

    /// Everything the gateway logged so far.
    pub fn logs(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Waits until the log contains `needle` (logs are asynchronous).
    pub fn wait_for_log(&self, needle: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.logs().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// libpq connection string for `user` on connection `dbname`.
    pub fn conninfo(&self, user: &str, dbname: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={user} dbname={dbname}",
            self.pg_port
        )
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The gateway process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("--- airlock log ---\n{}", self.logs());
        }
    }
}

/// Runs `psql` with a token as password; returns (success, stdout, stderr).
pub fn psql(conninfo: &str, token: &str, args: &[&str]) -> (bool, String, String) {
    psql_stdin(conninfo, token, args, None)
}

pub fn psql_stdin(
    conninfo: &str,
    token: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> (bool, String, String) {
    use std::io::Write;
    let mut cmd = Command::new("psql");
    cmd.arg(conninfo)
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-At"])
        .args(args)
        .env("PGPASSWORD", token)
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("psql must be installed");
    if let Some(mut pipe) = child.stdin.take()
        && let Some(input) = stdin
    {
        let _ = pipe.write_all(input.as_bytes());
    }
    let out = child.wait_with_output().expect("psql");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
