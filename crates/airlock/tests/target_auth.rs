//! The gateway's side of the target connection, against throw-away
//! clusters that demand passwords: SCRAM-SHA-256 and MD5 with injected
//! credentials (`password_env`, `password_file`), a refused password that
//! leaks nowhere, and TLS to the target in each of its modes.

mod common;

use std::time::Duration;

use common::cluster::{Cluster, ClusterOptions, TestPki};
use common::{Gateway, psql};

const ROLE_PASSWORD: &str = "Inj3cted-rw-secret";

/// A `connections:` entry for the cluster; `target_extra` adds target keys
/// (password source, TLS).
fn connection(name: &str, host: &str, port: u16, target_extra: &str) -> String {
    format!(
        "  - name: {name}\n    type: postgres\n    target: {{ host: {host}, port: {port}, database: postgres, user: app_rw, {target_extra} }}\n    allow: [\"alice\"]\n"
    )
}

/// Connects to the gateway with tokio-postgres and returns the refusal's
/// SQLSTATE and message; panics if the connection succeeds.
fn refusal(gw: &Gateway, token: &str, dbname: &str) -> (String, String) {
    let conninfo = format!(
        "host=127.0.0.1 port={} user=alice dbname={dbname} password={token} sslmode=disable connect_timeout=10",
        gw.pg_port
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let attempt = tokio::time::timeout(
            Duration::from_secs(20),
            tokio_postgres::connect(&conninfo, tokio_postgres::NoTls),
        )
        .await
        .expect("the gateway answered in time");
        match attempt {
            Ok(_) => panic!("connection {dbname} was expected to be refused"),
            Err(e) => {
                let db = e
                    .as_db_error()
                    .unwrap_or_else(|| panic!("expected an ErrorResponse, got: {e}"));
                (db.code().code().to_string(), db.message().to_string())
            }
        }
    })
}

#[test]
fn scram_sha_256_to_the_target_with_a_password_from_the_environment() {
    let pg = Cluster::start(&ClusterOptions {
        auth: "scram-sha-256",
        password_encryption: "scram-sha-256",
        hba: &["host all all 127.0.0.1/32 scram-sha-256"],
        tls: None,
    });
    pg.admin(&format!(
        "CREATE ROLE app_rw LOGIN PASSWORD '{ROLE_PASSWORD}'"
    ));
    assert_eq!(
        pg.admin("SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'app_rw'"),
        "SCRAM-SHA-256$"
    );
    // The cluster really demands the password over TCP.
    let direct = format!(
        "host=127.0.0.1 port={} user=app_rw dbname=postgres sslmode=disable",
        pg.port
    );
    let (ok, _, err) = psql(&direct, "not-the-password", &["-c", "select 1"]);
    assert!(!ok, "the cluster accepted a wrong password");
    assert!(err.contains("password authentication failed"), "{err}");

    let gw = Gateway::start_with_env(
        &connection(
            "app",
            "127.0.0.1",
            pg.port,
            "password_env: AIRLOCK_TEST_APP_PW, tls: disable",
        ),
        "",
        &[("AIRLOCK_TEST_APP_PW", ROLE_PASSWORD)],
    );
    let token = gw.identity_with_token("alice", &[]);
    let (ok, out, err) = psql(
        &gw.conninfo("alice", "app"),
        &token,
        &["-c", "select current_user, inet_server_port()"],
    );
    assert!(ok, "psql through the gateway failed: {err}");
    assert_eq!(out.trim(), format!("app_rw|{}", pg.port));
}

#[test]
fn md5_to_the_target_with_a_password_from_a_file_read_at_each_connection() {
    let pg = Cluster::start(&ClusterOptions {
        auth: "md5",
        password_encryption: "scram-sha-256",
        hba: &["host all all 127.0.0.1/32 md5"],
        tls: None,
    });
    // An MD5 rule only sends the MD5 challenge for an MD5-stored password.
    pg.admin(&format!(
        "SET password_encryption = 'md5'; CREATE ROLE app_rw LOGIN PASSWORD '{ROLE_PASSWORD}'"
    ));
    assert_eq!(
        pg.admin("SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = 'app_rw'"),
        "md5"
    );
    let secrets = tempfile::tempdir().expect("tempdir");
    let pw_file = secrets.path().join("app_rw.password");
    // The trailing newline an editor adds is not part of the password.
    std::fs::write(&pw_file, format!("{ROLE_PASSWORD}\n")).expect("write password file");

    let gw = Gateway::start(
        &connection(
            "app",
            "127.0.0.1",
            pg.port,
            &format!("password_file: {}, tls: disable", pw_file.display()),
        ),
        "",
    );
    let token = gw.identity_with_token("alice", &[]);
    let (ok, out, err) = psql(
        &gw.conninfo("alice", "app"),
        &token,
        &["-c", "select current_user"],
    );
    assert!(ok, "psql through the gateway failed: {err}");
    assert_eq!(out.trim(), "app_rw");

    // Rotation: the file is read when a target connection is opened, so a
    // new password takes effect without restarting the gateway.
    let rotated = "R0tated-md5-secret";
    pg.admin(&format!(
        "SET password_encryption = 'md5'; ALTER ROLE app_rw PASSWORD '{rotated}'"
    ));
    std::fs::write(&pw_file, format!("{rotated}\n")).expect("rewrite password file");
    let (ok, out, err) = psql(
        &gw.conninfo("alice", "app"),
        &token,
        &["-c", "select current_user"],
    );
    assert!(ok, "psql after rotating the password failed: {err}");
    assert_eq!(out.trim(), "app_rw");
}

#[test]
fn a_wrong_injected_password_is_refused_clearly_and_leaks_nowhere() {
    let pg = Cluster::start(&ClusterOptions {
        auth: "scram-sha-256",
        password_encryption: "scram-sha-256",
        hba: &["host all all 127.0.0.1/32 scram-sha-256"],
        tls: None,
    });
    pg.admin(&format!(
        "CREATE ROLE app_rw LOGIN PASSWORD '{ROLE_PASSWORD}'"
    ));
    let wrong = "Wr0ng-injected-Secret-417";
    let secrets = tempfile::tempdir().expect("tempdir");
    let pw_file = secrets.path().join("wrong.password");
    std::fs::write(&pw_file, wrong).expect("write password file");

    let connections = connection(
        "bad",
        "127.0.0.1",
        pg.port,
        &format!("password_file: {}, tls: disable", pw_file.display()),
    ) + &connection(
        "good",
        "127.0.0.1",
        pg.port,
        "password_env: AIRLOCK_TEST_GOOD_PW, tls: disable",
    );
    let gw = Gateway::start_with_env(&connections, "", &[("AIRLOCK_TEST_GOOD_PW", ROLE_PASSWORD)]);
    let token = gw.identity_with_token("alice", &[]);

    let (code, message) = refusal(&gw, &token, "bad");
    assert_eq!(code, "28P01", "{message}");
    assert!(
        message.contains("\"bad\"") && message.contains("password authentication failed"),
        "the refusal should name the connection and the cause: {message}"
    );
    let (ok, _, err) = psql(&gw.conninfo("alice", "bad"), &token, &["-c", "select 1"]);
    assert!(!ok, "psql was let through with a wrong injected password");
    assert!(err.contains("password authentication failed"), "{err}");

    // The attempt really reached the target, and was refused there.
    assert!(
        pg.log()
            .contains("password authentication failed for user \"app_rw\""),
        "{}",
        pg.log()
    );
    // The gateway keeps serving others.
    let (ok, out, err) = psql(
        &gw.conninfo("alice", "good"),
        &token,
        &["-c", "select current_user"],
    );
    assert!(ok, "the good connection failed after a refused one: {err}");
    assert_eq!(out.trim(), "app_rw");

    assert!(gw.wait_for_log("target connection failed"), "{}", gw.logs());
    let logs = gw.logs();
    for secret in [wrong, ROLE_PASSWORD, token.as_str()] {
        assert!(!logs.contains(secret), "a secret reached the gateway log");
        assert!(!message.contains(secret), "a secret reached the client");
        assert!(!err.contains(secret), "a secret reached psql");
    }
}

#[test]
fn tls_to_the_target_in_each_mode() {
    let pki = TestPki::new();
    let other_ca = pki.ca("other-ca");
    let pg = Cluster::start(&ClusterOptions {
        auth: "scram-sha-256",
        password_encryption: "scram-sha-256",
        hba: &["hostssl all all 127.0.0.1/32 scram-sha-256"],
        tls: Some((&pki.path("server.crt"), &pki.path("server.key"))),
    });
    pg.admin(&format!(
        "CREATE ROLE app_rw LOGIN PASSWORD '{ROLE_PASSWORD}'"
    ));
    let secrets = tempfile::tempdir().expect("tempdir");
    let pw_file = secrets.path().join("app_rw.password");
    std::fs::write(&pw_file, ROLE_PASSWORD).expect("write password file");
    let pw = format!("password_file: {}", pw_file.display());
    let ca = pki.path("ca.crt");

    let connections = [
        connection(
            "tls-require",
            "127.0.0.1",
            pg.port,
            &format!("{pw}, tls: require"),
        ),
        connection(
            "tls-disable",
            "127.0.0.1",
            pg.port,
            &format!("{pw}, tls: disable"),
        ),
        connection(
            "tls-verify-ip",
            "127.0.0.1",
            pg.port,
            &format!("{pw}, tls: verify-full, ca_file: {}", ca.display()),
        ),
        connection(
            "tls-verify-name",
            "localhost",
            pg.port,
            &format!("{pw}, tls: verify-full, ca_file: {}", ca.display()),
        ),
        connection(
            "tls-wrong-ca",
            "127.0.0.1",
            pg.port,
            &format!("{pw}, tls: verify-full, ca_file: {}", other_ca.display()),
        ),
    ]
    .concat();
    let gw = Gateway::start(&connections, "");
    let token = gw.identity_with_token("alice", &[]);
    let on_tls = "select current_user, ssl from pg_stat_ssl where pid = pg_backend_pid()";

    for name in ["tls-require", "tls-verify-ip", "tls-verify-name"] {
        let (ok, out, err) = psql(&gw.conninfo("alice", name), &token, &["-c", on_tls]);
        assert!(ok, "{name}: psql through the gateway failed: {err}");
        assert_eq!(out.trim(), "app_rw|t", "{name}");
    }

    // The server only accepts TLS; without it the server's reason reaches
    // the client.
    let (code, message) = refusal(&gw, &token, "tls-disable");
    assert!(code.starts_with("28"), "{code} {message}");
    assert!(
        message.contains("\"tls-disable\"") && message.contains("no encryption"),
        "{message}"
    );

    // A certificate the configured CA did not sign is not trusted.
    let (code, message) = refusal(&gw, &token, "tls-wrong-ca");
    assert_eq!(code, "08001", "{message}");
    assert!(message.contains("TLS"), "{message}");

    let logs = gw.logs();
    assert!(
        !logs.contains(ROLE_PASSWORD),
        "the password reached the log"
    );
}
