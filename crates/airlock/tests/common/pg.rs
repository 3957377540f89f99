//! Direct access to the machine's PostgreSQL, bypassing the gateway: for
//! setting up fixtures and for checking what really reached the server.

use std::process::Command;

/// Runs SQL as `postgres` directly on 127.0.0.1:5432 in `database`.
pub fn direct(database: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-X",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            "5432",
            "-U",
            "postgres",
            "-d",
            database,
            "-c",
            sql,
        ])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "direct SQL failed: {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A database of the test's own, dropped on drop.
pub struct TempDb {
    pub name: String,
}

impl TempDb {
    pub fn new(prefix: &str) -> TempDb {
        let name = super::unique(prefix).to_lowercase();
        direct("test", &format!("CREATE DATABASE {name}"));
        TempDb { name }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                "-X",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "test",
                "-c",
            ])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .output();
    }
}
