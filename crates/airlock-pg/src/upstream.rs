//! The gateway's own connection to a target PostgreSQL server: TLS as
//! configured, startup with the injected user, and authentication with the
//! injected password (trust, clear text, MD5 or SCRAM-SHA-256).

use std::sync::Arc;

use bytes::BytesMut;
use postgres_protocol::authentication::sasl::{self, ScramSha256};
use postgres_protocol::message::{backend, frontend};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use airlock_core::config::{PostgresTarget, TargetTls};
use airlock_core::secret::Secret;

use crate::frame;

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
pub type BoxIo = Box<dyn Io>;

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("cannot reach target {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("target connection failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("target {0} does not offer TLS, which this connection requires")]
    NoTls(String),
    #[error("TLS to the target failed: {0}")]
    Tls(String),
    #[error("target refused the gateway's credentials: {code} {message}")]
    Rejected { code: String, message: String },
    #[error("target asks for a password but none is configured ({0})")]
    NoPassword(&'static str),
    #[error("target asks for an unsupported authentication method ({0})")]
    Unsupported(String),
    #[error("target's password is not available: {0}")]
    Password(String),
    #[error("target sent an unexpected or malformed message during startup")]
    Protocol,
    #[error("target closed the connection during startup")]
    Closed,
}

/// An authenticated target connection, ready for queries.
pub struct Upstream {
    pub io: BoxIo,
    /// Bytes already read past the first ReadyForQuery (normally none).
    pub leftover: BytesMut,
    pub parameters: Vec<(String, String)>,
    pub backend_pid: i32,
    pub backend_key: i32,
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

pub async fn connect(
    target: &PostgresTarget,
    tls: Option<Arc<rustls::ClientConfig>>,
    client_params: &[(String, String)],
    max_message: usize,
) -> Result<Upstream, UpstreamError> {
    let password = target
        .password()
        .map_err(|e| UpstreamError::Password(e.to_string()))?;
    let io = open(&target.host, target.port, tls.as_ref(), target.tls).await?;
    let mut up = Startup {
        io,
        buf: BytesMut::with_capacity(8192),
        max_message,
    };
    let mut params: Vec<(&str, &str)> =
        vec![("user", &target.user), ("database", &target.database)];
    params.extend(client_params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut out = BytesMut::new();
    frontend::startup_message(params.iter().copied(), &mut out)?;
    up.io.write_all(&out).await?;
    up.authenticate(&target.user, password.as_ref()).await?;
    let (parameters, pid, key) = up.until_ready().await?;
    Ok(Upstream {
        io: up.io,
        leftover: up.buf,
        parameters,
        backend_pid: pid,
        backend_key: key,
        tls,
    })
}

/// Opens TCP (and TLS when configured) to a target.
pub async fn open(
    host: &str,
    port: u16,
    tls: Option<&Arc<rustls::ClientConfig>>,
    mode: TargetTls,
) -> Result<BoxIo, UpstreamError> {
    let addr = format!("{host}:{port}");
    let mut tcp = TcpStream::connect(&addr)
        .await
        .map_err(|source| UpstreamError::Connect {
            addr: addr.clone(),
            source,
        })?;
    let _ = tcp.set_nodelay(true);
    let Some(tls) = tls.filter(|_| mode != TargetTls::Disable) else {
        return Ok(Box::new(tcp));
    };
    let mut req = BytesMut::new();
    frontend::ssl_request(&mut req);
    tcp.write_all(&req).await?;
    let mut answer = [0u8; 1];
    tcp.read_exact(&mut answer).await?;
    if answer[0] != b'S' {
        return Err(UpstreamError::NoTls(addr));
    }
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| UpstreamError::Tls(format!("invalid host name {host:?}: {e}")))?;
    let stream = tokio_rustls::TlsConnector::from(tls.clone())
        .connect(name, tcp)
        .await
        .map_err(|e| UpstreamError::Tls(e.to_string()))?;
    Ok(Box::new(stream))
}

struct Startup {
    io: BoxIo,
    buf: BytesMut,
    max_message: usize,
}

impl Startup {
    async fn next(&mut self) -> Result<backend::Message, UpstreamError> {
        loop {
            // Check the announced length before trusting the parser with it.
            frame::peek_len(&self.buf, self.max_message).map_err(|_| UpstreamError::Protocol)?;
            if let Some(msg) =
                backend::Message::parse(&mut self.buf).map_err(|_| UpstreamError::Protocol)?
            {
                return Ok(msg);
            }
            if self.io.read_buf(&mut self.buf).await? == 0 {
                return Err(UpstreamError::Closed);
            }
        }
    }

    async fn send(&mut self, out: &BytesMut) -> Result<(), UpstreamError> {
        self.io.write_all(out).await?;
        Ok(())
    }

    async fn authenticate(
        &mut self,
        user: &str,
        password: Option<&Secret>,
    ) -> Result<(), UpstreamError> {
        loop {
            let mut out = BytesMut::new();
            match self.next().await? {
                backend::Message::AuthenticationOk => return Ok(()),
                backend::Message::AuthenticationCleartextPassword => {
                    let pw = password.ok_or(UpstreamError::NoPassword("clear text"))?;
                    frontend::password_message(pw.expose().as_bytes(), &mut out)?;
                    self.send(&out).await?;
                }
                backend::Message::AuthenticationMd5Password(body) => {
                    let pw = password.ok_or(UpstreamError::NoPassword("md5"))?;
                    let hash = postgres_protocol::authentication::md5_hash(
                        user.as_bytes(),
                        pw.expose().as_bytes(),
                        body.salt(),
                    );
                    frontend::password_message(hash.as_bytes(), &mut out)?;
                    self.send(&out).await?;
                }
                backend::Message::AuthenticationSasl(body) => {
                    let pw = password.ok_or(UpstreamError::NoPassword("SCRAM-SHA-256"))?;
                    let mut offers_scram = false;
                    let mut mechanisms = body.mechanisms();
                    while let Some(m) = fallible_next(&mut mechanisms)? {
                        offers_scram |= m == sasl::SCRAM_SHA_256;
                    }
                    if !offers_scram {
                        return Err(UpstreamError::Unsupported(
                            "SASL without SCRAM-SHA-256".into(),
                        ));
                    }
                    // `scram` reads the final AuthenticationOk itself.
                    return self.scram(pw).await;
                }
                backend::Message::ErrorResponse(body) => return Err(rejected(body)),
                _ => return Err(UpstreamError::Protocol),
            }
        }
    }

    async fn scram(&mut self, password: &Secret) -> Result<(), UpstreamError> {
        let mut scram = ScramSha256::new(
            password.expose().as_bytes(),
            sasl::ChannelBinding::unsupported(),
        );
        let mut out = BytesMut::new();
        frontend::sasl_initial_response(sasl::SCRAM_SHA_256, scram.message(), &mut out)?;
        self.send(&out).await?;
        match self.next().await? {
            backend::Message::AuthenticationSaslContinue(body) => {
                scram
                    .update(body.data())
                    .map_err(|_| UpstreamError::Protocol)?;
            }
            backend::Message::ErrorResponse(body) => return Err(rejected(body)),
            _ => return Err(UpstreamError::Protocol),
        }
        let mut out = BytesMut::new();
        frontend::sasl_response(scram.message(), &mut out)?;
        self.send(&out).await?;
        match self.next().await? {
            backend::Message::AuthenticationSaslFinal(body) => {
                // Proves the server knew the password too.
                scram
                    .finish(body.data())
                    .map_err(|_| UpstreamError::Rejected {
                        code: "28P01".into(),
                        message: "target's SCRAM signature is invalid".into(),
                    })?;
            }
            backend::Message::ErrorResponse(body) => return Err(rejected(body)),
            _ => return Err(UpstreamError::Protocol),
        }
        match self.next().await? {
            backend::Message::AuthenticationOk => Ok(()),
            backend::Message::ErrorResponse(body) => Err(rejected(body)),
            _ => Err(UpstreamError::Protocol),
        }
    }

    async fn until_ready(&mut self) -> Result<(Vec<(String, String)>, i32, i32), UpstreamError> {
        let mut params = Vec::new();
        let (mut pid, mut key) = (0, 0);
        loop {
            match self.next().await? {
                backend::Message::ParameterStatus(body) => {
                    let name = body.name().map_err(|_| UpstreamError::Protocol)?;
                    let value = body.value().map_err(|_| UpstreamError::Protocol)?;
                    params.push((name.to_string(), value.to_string()));
                }
                backend::Message::BackendKeyData(body) => {
                    pid = body.process_id();
                    key = body.secret_key();
                }
                backend::Message::ReadyForQuery(_) => return Ok((params, pid, key)),
                backend::Message::NoticeResponse(_) => {}
                backend::Message::ErrorResponse(body) => return Err(rejected(body)),
                _ => return Err(UpstreamError::Protocol),
            }
        }
    }
}

fn fallible_next<'a>(
    m: &mut backend::SaslMechanisms<'a>,
) -> Result<Option<&'a str>, UpstreamError> {
    fallible_iterator::FallibleIterator::next(m).map_err(|_| UpstreamError::Protocol)
}

fn rejected(body: backend::ErrorResponseBody) -> UpstreamError {
    let mut code = String::new();
    let mut message = String::new();
    let mut fields = body.fields();
    while let Ok(Some(f)) = fallible_iterator::FallibleIterator::next(&mut fields) {
        match f.type_() {
            b'C' => code = String::from_utf8_lossy(f.value_bytes()).into_owned(),
            b'M' => message = String::from_utf8_lossy(f.value_bytes()).into_owned(),
            _ => {}
        }
    }
    UpstreamError::Rejected { code, message }
}

/// Delivers a cancel request to the target on a fresh connection.
pub async fn send_cancel(target: &crate::cancel::CancelTarget) -> Result<(), UpstreamError> {
    let mode = if target.tls.is_some() {
        TargetTls::Require
    } else {
        TargetTls::Disable
    };
    let mut io = open(&target.host, target.port, target.tls.as_ref(), mode).await?;
    let mut out = BytesMut::new();
    frontend::cancel_request(target.pid, target.key, &mut out);
    io.write_all(&out).await?;
    io.flush().await?;
    // The server closes the connection once it has read the request.
    let mut sink = [0u8; 1];
    let _ = io.read(&mut sink).await;
    Ok(())
}
