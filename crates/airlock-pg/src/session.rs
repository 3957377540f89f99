//! One client connection, from its first byte to its last: TLS, startup,
//! authentication, authorisation, the target connection, then the relay.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use chrono::Utc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use airlock_core::SessionInfo;
use airlock_store::{SessionEnd, SessionStart, StoreError, WriteOp};

use crate::admission::{ConnectionSlot, IdentitySlot};
use crate::cancel::CancelTarget;
use crate::frame;
use crate::frontend_auth::ClientAuth;
use crate::relay::{EndReason, Relay};
use crate::server::Shared;
use crate::startup::{self, StartupPacket};
use crate::tls;
use crate::upstream::{self, BoxIo};
use crate::wire::{self, Severity};

/// Why a client is turned away: sent as a FATAL ErrorResponse and logged.
/// Messages name the cause and never carry a secret.
#[derive(Debug)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
    /// The client is gone: there is nobody to send an error to.
    pub silent: bool,
    /// The client connected and left without sending a byte: a load
    /// balancer's or a port scanner's probe, not worth a warning each.
    pub probe: bool,
}

impl Refusal {
    pub fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
            silent: false,
            probe: false,
        }
    }
    pub fn auth(message: String) -> Refusal {
        Refusal::new("28000", message)
    }
    pub fn protocol(message: String) -> Refusal {
        Refusal::new("08P01", message)
    }
    pub fn store(e: StoreError) -> Refusal {
        tracing::error!(error = %e, "store unavailable during login");
        Refusal::new(
            "58000",
            "the gateway's store is unavailable; try again later",
        )
    }
    pub fn io(e: std::io::Error) -> Refusal {
        Refusal {
            silent: true,
            ..Refusal::new("08006", format!("client connection failed: {e}"))
        }
    }
    pub fn gone() -> Refusal {
        Refusal {
            silent: true,
            ..Refusal::new("08006", "client closed the connection")
        }
    }
}

/// Parameters that belong to the gateway, not to the client, when the
/// target connection is opened.
const RESERVED_PARAMS: &[&str] = &["user", "database", "replication"];

/// A connection beyond `limits.max_connections`: told so and closed, in
/// its own task so the accept loop goes on at once.
pub async fn turn_away(mut tcp: TcpStream, peer: SocketAddr, max: u32) {
    tracing::warn!(peer = %peer, max_connections = max, "client refused: too many connections");
    let mut out = BytesMut::new();
    wire::error_response(
        &mut out,
        Severity::Fatal,
        "53300",
        &format!("too many connections to the gateway (limits.max_connections = {max})"),
    );
    let write = async {
        let _ = tcp.write_all(&out).await;
        let _ = tcp.shutdown().await;
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), write).await;
}

pub async fn run(shared: Arc<Shared>, tcp: TcpStream, peer: SocketAddr, _slot: ConnectionSlot) {
    let limits = shared.deps.guard.config().limits.clone();
    let mut buf = BytesMut::with_capacity(8192);
    let deadline = tokio::time::Instant::now() + limits.handshake_timeout;
    let (mut io, opening) = match tokio::time::timeout_at(deadline, open(&shared, tcp, &mut buf))
        .await
    {
        Ok(opened) => opened,
        Err(_) => {
            // The stream is inside the cancelled future; nothing to answer on.
            tracing::warn!(peer = %peer, "client refused: no startup packet before the handshake timeout");
            return;
        }
    };
    let outcome = match opening {
        Ok(Opening::Cancel { pid, key }) => {
            forward_cancel(&shared, pid, key, peer).await;
            return;
        }
        Ok(Opening::Startup {
            over_tls,
            minor,
            params,
        }) => {
            tokio::time::timeout_at(
                deadline,
                handshake(&shared, &mut io, &mut buf, over_tls, minor, params),
            )
            .await
        }
        Err(refusal) => Ok(Err(refusal)),
    };
    let ready = match outcome {
        Ok(Ok(ready)) => ready,
        Ok(Err(refusal)) if refusal.probe => {
            tracing::debug!(peer = %peer, "connection closed before sending anything");
            return;
        }
        Ok(Err(refusal)) => {
            tracing::warn!(peer = %peer, code = refusal.code, reason = %refusal.message, "client refused");
            refuse(&mut io, &refusal).await;
            return;
        }
        Err(_) => {
            let refusal = Refusal::new("08006", "authentication took too long (handshake timeout)");
            tracing::warn!(peer = %peer, reason = %refusal.message, "client refused");
            refuse(&mut io, &refusal).await;
            return;
        }
    };
    relay(shared, io, buf, ready, peer).await;
}

/// What the client opened with, once encryption is settled.
enum Opening {
    Cancel {
        pid: i32,
        key: i32,
    },
    Startup {
        over_tls: bool,
        minor: i32,
        params: BTreeMap<String, String>,
    },
}

/// Reads startup-phase packets, upgrading to TLS when asked, until the
/// client sends its StartupMessage or a CancelRequest.
async fn open(
    shared: &Shared,
    mut tcp: TcpStream,
    buf: &mut BytesMut,
) -> (BoxIo, Result<Opening, Refusal>) {
    let max = shared.deps.guard.config().limits.max_startup_bytes as usize;
    loop {
        let nothing_yet = buf.is_empty();
        let packet = match read_startup(&mut tcp, buf, max).await {
            Ok(p) => p,
            Err(mut r) => {
                r.probe = r.silent && nothing_yet && buf.is_empty();
                return (Box::new(tcp), Err(r));
            }
        };
        let parsed = match startup::parse(&packet) {
            Ok(p) => p,
            Err(e) => return (Box::new(tcp), Err(Refusal::protocol(e.to_string()))),
        };
        match parsed {
            StartupPacket::SslRequest => {
                let Some(acceptor) = &shared.tls else {
                    if let Err(e) = tcp.write_all(b"N").await {
                        return (Box::new(tcp), Err(Refusal::io(e)));
                    }
                    continue;
                };
                if !buf.is_empty() {
                    // Bytes sent after SSLRequest arrived in the clear but
                    // would be treated as if they came through TLS.
                    return (
                        Box::new(tcp),
                        Err(Refusal::protocol(
                            "unencrypted data after SSLRequest".into(),
                        )),
                    );
                }
                if let Err(e) = tcp.write_all(b"S").await {
                    return (Box::new(tcp), Err(Refusal::io(e)));
                }
                let mut tls = match acceptor.accept(tcp).await {
                    Ok(t) => t,
                    Err(e) => {
                        tracing::warn!(error = %e, "client TLS handshake failed");
                        return (Box::new(tokio::io::empty()), Err(Refusal::gone()));
                    }
                };
                let result = match read_startup(&mut tls, buf, max).await {
                    Ok(packet) => match startup::parse(&packet) {
                        Ok(StartupPacket::Startup { minor, params }) => Ok(Opening::Startup {
                            over_tls: true,
                            minor,
                            params,
                        }),
                        Ok(StartupPacket::Cancel { pid, key }) => Ok(Opening::Cancel { pid, key }),
                        Ok(_) => Err(Refusal::protocol("encryption requested twice".into())),
                        Err(e) => Err(Refusal::protocol(e.to_string())),
                    },
                    Err(r) => Err(r),
                };
                return (Box::new(tls), result);
            }
            StartupPacket::GssEncRequest => {
                if let Err(e) = tcp.write_all(b"N").await {
                    return (Box::new(tcp), Err(Refusal::io(e)));
                }
            }
            StartupPacket::Cancel { pid, key } => {
                return (Box::new(tcp), Ok(Opening::Cancel { pid, key }));
            }
            StartupPacket::Startup { minor, params } => {
                return (
                    Box::new(tcp),
                    Ok(Opening::Startup {
                        over_tls: false,
                        minor,
                        params,
                    }),
                );
            }
        }
    }
}

async fn refuse(io: &mut BoxIo, refusal: &Refusal) {
    if refusal.silent {
        return;
    }
    let mut out = BytesMut::new();
    wire::error_response(&mut out, Severity::Fatal, refusal.code, &refusal.message);
    let _ = io.write_all(&out).await;
    let _ = io.shutdown().await;
}

/// Everything the relay needs once the client is in.
struct Ready {
    session: SessionInfo,
    /// Host and port of the target, for delivering cancel requests.
    target: (String, u16),
    upstream: upstream::Upstream,
    client_params: BTreeMap<String, String>,
    /// The identity's place among its sessions, held until the end.
    _identity_slot: IdentitySlot,
}

async fn handshake(
    shared: &Shared,
    io: &mut BoxIo,
    buf: &mut BytesMut,
    over_tls: bool,
    minor: i32,
    params: BTreeMap<String, String>,
) -> Result<Ready, Refusal> {
    let config = shared.deps.guard.config().clone();
    if config.postgres.require_tls && !over_tls {
        return Err(Refusal::new(
            "28000",
            "this gateway requires TLS (use sslmode=require)",
        ));
    }
    if params.contains_key("replication") {
        return Err(Refusal::new(
            "0A000",
            "replication connections are not supported through Airlock",
        ));
    }
    let unknown_options: Vec<String> = params
        .keys()
        .filter(|k| k.starts_with("_pq_."))
        .cloned()
        .collect();
    if minor > 0 || !unknown_options.is_empty() {
        let mut out = BytesMut::new();
        wire::negotiate_protocol_version(&mut out, 0, &unknown_options);
        io.write_all(&out).await.map_err(Refusal::io)?;
    }
    let identity_name = params
        .get("user")
        .filter(|u| !u.is_empty())
        .ok_or_else(|| Refusal::auth("no user given: connect with user=<identity>".into()))?
        .clone();
    let connection = params
        .get("database")
        .filter(|d| !d.is_empty())
        .unwrap_or(&identity_name)
        .clone();
    if !airlock_core::access::valid_name(&identity_name) {
        return Err(Refusal::auth(format!(
            "unknown identity \"{}\"",
            identity_name.escape_default()
        )));
    }

    let max_message = config.limits.max_message_bytes as usize;
    let authenticated = ClientAuth {
        io,
        buf,
        max_message,
    }
    .run(
        shared.deps.store.as_ref(),
        &identity_name,
        config.postgres.auth,
        over_tls,
    )
    .await?;
    let per_identity = config.limits.max_connections_per_identity;
    let identity_slot = shared
        .admission
        .identity(&authenticated.identity.name, per_identity)
        .ok_or_else(|| {
            Refusal::new(
                "53300",
                format!(
                    "too many sessions for identity \"{}\" (limits.max_connections_per_identity = {per_identity})",
                    authenticated.identity.name
                ),
            )
        })?;
    let conn = shared
        .deps
        .guard
        .authorize(&authenticated.identity, &connection)
        .map_err(|denied| match denied {
            airlock_core::guard::AccessDenied::UnknownConnection(_) => {
                Refusal::new("3D000", denied.to_string())
            }
            airlock_core::guard::AccessDenied::NotAllowed { .. } => {
                Refusal::new("28000", denied.to_string())
            }
        })?;
    let target_tls = tls::target_config(conn.target.tls, conn.target.ca_file.as_deref()).map_err(|e| {
        tracing::error!(connection = %connection, error = %e, "target TLS configuration unusable");
        Refusal::new("08001", format!("connection \"{connection}\": target TLS is misconfigured"))
    })?;
    let forwarded: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !RESERVED_PARAMS.contains(&k.as_str()) && !k.starts_with("_pq_."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let up = tokio::time::timeout(
        config.limits.connect_timeout,
        upstream::connect(&conn.target, target_tls, &forwarded, max_message),
    )
    .await
    .map_err(|_| {
        Refusal::new(
            "08001",
            format!("connection \"{connection}\": target did not answer in time"),
        )
    })?
    .map_err(|e| {
        tracing::warn!(connection = %connection, error = %e, "target connection failed");
        let code = match &e {
            // The target's own reason class when it is an authorization
            // one (a pg_hba.conf refusal is 28000, a wrong password 28P01).
            upstream::UpstreamError::Rejected { code, .. } if code == "28000" => "28000",
            upstream::UpstreamError::Rejected { .. } => "28P01",
            _ => "08001",
        };
        Refusal::new(code, format!("connection \"{connection}\": {e}"))
    })?;
    tracing::info!(
        identity = %authenticated.identity.name,
        token = %authenticated.token_id,
        connection = %connection,
        tls = over_tls,
        "client authenticated"
    );
    Ok(Ready {
        session: SessionInfo::new(
            uuid::Uuid::now_v7().to_string(),
            authenticated.identity,
            &conn,
        ),
        target: (conn.target.host.clone(), conn.target.port),
        upstream: up,
        client_params: params,
        _identity_slot: identity_slot,
    })
}

async fn read_startup<R: tokio::io::AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut BytesMut,
    max: usize,
) -> Result<BytesMut, Refusal> {
    loop {
        if let Some(p) = frame::take_startup(buf, max)
            .map_err(|e| Refusal::protocol(format!("invalid startup packet: {e}")))?
        {
            return Ok(p);
        }
        if io.read_buf(buf).await.map_err(Refusal::io)? == 0 {
            return Err(Refusal::gone());
        }
    }
}

async fn forward_cancel(shared: &Shared, pid: i32, key: i32, peer: SocketAddr) {
    let Some(target) = shared.cancels.lookup(pid, key) else {
        // As PostgreSQL does: no answer either way, so keys cannot be probed.
        tracing::info!(peer = %peer, "cancel request with an unknown key ignored");
        return;
    };
    // Only a hold waiting right now hears it; none is left pending for a
    // later one. A withdrawn command never reached the target, so the
    // cancel ends here (see `cancel::Held`).
    if target.held.withdraw() {
        tracing::info!(peer = %peer, "cancel request withdrew a command held for review");
        return;
    }
    match upstream::send_cancel(&target).await {
        Ok(()) => tracing::info!(peer = %peer, "cancel request forwarded"),
        Err(e) => tracing::warn!(peer = %peer, error = %e, "cancel request could not be delivered"),
    }
}

async fn relay(
    shared: Arc<Shared>,
    mut client: BoxIo,
    client_buf: BytesMut,
    ready: Ready,
    peer: SocketAddr,
) {
    let Ready {
        session,
        target,
        upstream,
        client_params,
        _identity_slot,
    } = ready;
    let writer = shared.deps.writer.clone();
    let start = WriteOp::SessionStart(SessionStart {
        id: session.id.clone(),
        identity: session.identity.name.clone(),
        connection: session.connection.clone(),
        protocol: "postgres".into(),
        client_addr: peer.to_string(),
        started_at: Utc::now(),
    });
    if let Err(e) = writer.send(start).await {
        tracing::error!(error = %e, "cannot record session start; refusing client");
        refuse(&mut client, &Refusal::store(e)).await;
        return;
    }
    let held = Arc::new(crate::cancel::Held::default());
    let registration = shared.cancels.register(CancelTarget {
        host: target.0,
        port: target.1,
        tls: upstream.tls.clone(),
        pid: upstream.backend_pid,
        key: upstream.backend_key,
        held: held.clone(),
    });

    // Tell the client it is in: the target's parameters, our key.
    let mut out = BytesMut::new();
    wire::authentication(&mut out, pgwire::messages::startup::Authentication::Ok);
    for (name, value) in &upstream.parameters {
        wire::parameter_status(&mut out, name, value);
    }
    wire::backend_key_data(&mut out, registration.pid, registration.key);
    wire::ready_for_query(&mut out, b'I');
    if client.write_all(&out).await.is_err() {
        return;
    }
    let _ = client_params;
    tracing::info!(session = %session.id, identity = %session.identity.name, connection = %session.connection, "session started");

    let max_message = shared.deps.guard.config().limits.max_message_bytes as usize;
    let relay = Relay::new(
        shared.clone(),
        &session,
        client,
        client_buf,
        upstream.io,
        upstream.leftover,
        max_message,
    )
    .server_parameters(&upstream.parameters)
    .cancelled_by(held);
    let (reason, totals) = relay.run().await;
    drop(registration);
    let end = WriteOp::SessionEnd(SessionEnd {
        id: session.id.clone(),
        identity: session.identity.name.clone(),
        connection: session.connection.clone(),
        ended_at: Utc::now(),
        end_reason: reason.to_string(),
        commands: totals.commands,
        rows: totals.rows,
        bytes_to_client: totals.bytes,
    });
    if let Err(e) = writer.record_all(&mut vec![end]).await {
        tracing::error!(session = %session.id, error = %e, "cannot record session end");
    }
    let level_warn = matches!(
        reason,
        EndReason::ClientError(_) | EndReason::TargetError(_) | EndReason::Protocol(_)
    );
    if level_warn {
        tracing::warn!(session = %session.id, reason = %reason, commands = totals.commands, "session ended");
    } else {
        tracing::info!(session = %session.id, reason = %reason, commands = totals.commands, "session ended");
    }
}
