//! The floor under the gateway's relay, for `bench/pgbench.sh` (target
//! `relay`): each client connection copied byte for byte to PostgreSQL and
//! back, on the gateway's own session threads ([`SessionThreads`]), with
//! no protocol, no guard, no record, no TLS.
//!
//!     cargo build --release -p airlock-pg --example bare_relay
//!     target/release/examples/bare_relay 127.0.0.1:6543 127.0.0.1:5432 [THREADS [SPOOL_DIR]]
//!
//! A statement through it costs what any relay built on these threads
//! pays (a read and a write each way, the readiness wake-ups), so the gap
//! between this and the gateway is what the gateway's own work costs, and
//! the gap between this and PgBouncer is what the threads and the runtime
//! cost. THREADS defaults to one per core, as `postgres.session_threads`
//! does, and the threads keep the kernel's scheduler slice, as the
//! gateway's do unless `postgres.session_slice` is set (`RELAY_SLICE_US`
//! sets one). Not a product: it trusts whoever connects.
//!
//! With SPOOL_DIR, each read from a client is forwarded only once a
//! durable write to a file there has finished, by group commit on one
//! flusher thread ([`durable`]; target `relay-durable`): the floor under
//! the gateway's durable mode on this disk.

mod durable;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use airlock_pg::SessionThreads;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use durable::Flusher;

fn main() {
    if let Err(e) = run() {
        eprintln!("bare_relay: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: bare_relay LISTEN_ADDR TARGET_ADDR [THREADS [SPOOL_DIR]]";
    let listen: SocketAddr = parse(args.next(), usage)?;
    let target: SocketAddr = parse(args.next(), usage)?;
    let threads = match args.next() {
        Some(n) => n
            .parse()
            .map_err(|_| format!("THREADS: not a number: {n}"))?,
        None => airlock_core::config::default_session_threads(),
    };
    let flusher = match args.next().map(PathBuf::from) {
        Some(dir) => {
            Some(Flusher::start(&dir).map_err(|e| format!("spool in {}: {e}", dir.display()))?)
        }
        None => None,
    };
    let slice_us = match std::env::var("RELAY_SLICE_US") {
        Ok(us) => us
            .parse::<u64>()
            .map_err(|e| format!("RELAY_SLICE_US {us:?}: {e}"))?,
        Err(_) => 0,
    };
    let threads = SessionThreads::start(threads, std::time::Duration::from_micros(slice_us))
        .map_err(|e| format!("session threads: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let durable = if flusher.is_some() { " (durable)" } else { "" };
        eprintln!("bare_relay: {listen} -> {target}{durable}");
        loop {
            let (client, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    eprintln!("bare_relay: accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            // The socket moves to the session thread's runtime, as the
            // gateway's do.
            let client = match client.into_std() {
                Ok(client) => client,
                Err(e) => {
                    eprintln!("bare_relay: {e}");
                    continue;
                }
            };
            let flusher = flusher.clone();
            threads.next().spawn(async move {
                if let Err(e) = relay(client, target, flusher).await {
                    eprintln!("bare_relay: {e}");
                }
            });
        }
    })
}

fn parse<T: std::str::FromStr>(arg: Option<String>, usage: &str) -> Result<T, String> {
    let arg = arg.ok_or_else(|| usage.to_string())?;
    arg.parse()
        .map_err(|_| format!("not an address: {arg}\n{usage}"))
}

async fn relay(
    client: std::net::TcpStream,
    target: SocketAddr,
    flusher: Option<Arc<Flusher>>,
) -> std::io::Result<()> {
    let mut client = TcpStream::from_std(client)?;
    client.set_nodelay(true)?;
    let mut server = TcpStream::connect(target).await?;
    server.set_nodelay(true)?;
    let Some(flusher) = flusher else {
        tokio::io::copy_bidirectional(&mut client, &mut server).await?;
        return Ok(());
    };
    let (mut client_in, mut client_out) = client.split();
    let (mut server_in, mut server_out) = server.split();
    let up = async {
        let mut buffer = vec![0u8; 64 << 10];
        loop {
            let n = client_in.read(&mut buffer).await?;
            if n == 0 {
                return server_out.shutdown().await;
            }
            flusher.durable().await?;
            server_out.write_all(&buffer[..n]).await?;
        }
    };
    let down = async {
        tokio::io::copy(&mut server_in, &mut client_out).await?;
        client_out.shutdown().await
    };
    tokio::try_join!(up, down)?;
    Ok(())
}
