//! A Rust driver (tokio-postgres) through the gateway.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_postgres::{Client, NoTls};

use super::Gateway;

/// Connects `user` to connection `dbname` with `password` (a token), SCRAM
/// over plain TCP. The connection task runs until the client is dropped.
pub async fn connect(
    gw: &Gateway,
    user: &str,
    dbname: &str,
    password: &str,
) -> Result<(Client, JoinHandle<()>), tokio_postgres::Error> {
    let mut config = tokio_postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(gw.pg_port)
        .user(user)
        .dbname(dbname)
        .password(password)
        .connect_timeout(Duration::from_secs(10));
    let (client, connection) = tokio::time::timeout(Duration::from_secs(20), config.connect(NoTls))
        .await
        .expect("connecting through the gateway took more than 20 s")?;
    let task = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((client, task))
}

/// Connects and insists it works.
pub async fn connect_ok(gw: &Gateway, user: &str, dbname: &str, password: &str) -> Client {
    match connect(gw, user, dbname, password).await {
        Ok((client, _task)) => client,
        Err(e) => panic!(
            "{user} could not connect to {dbname}: {e:?}\n--- gateway log ---\n{}",
            gw.logs()
        ),
    }
}

/// The SQLSTATE and message of an error the server (or the gateway acting
/// as one) sent; panics if the error is not an ErrorResponse.
pub fn db_error(e: &tokio_postgres::Error) -> (String, String) {
    match e.as_db_error() {
        Some(db) => (db.code().code().to_string(), db.message().to_string()),
        None => panic!("expected an ErrorResponse, got {e:?}"),
    }
}

/// A bound on anything a test awaits, so a stuck gateway fails the test.
pub async fn bounded<F: std::future::Future>(what: &str, secs: u64, f: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(secs), f).await {
        Ok(v) => v,
        Err(_) => panic!("{what} took more than {secs} s"),
    }
}
