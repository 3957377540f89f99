//! One HTTP/1.1 connection to a webhook (over TLS for `https://`), kept
//! open between batches and opened again after any failure. Requests go
//! one at a time (a sink never has two batches in flight), so a pool would
//! buy nothing.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A receiver that accepts the connection and then hangs must not stall
/// the sink for ever: the batch fails and is retried.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Enough of an answer's body to say why it refused; the rest is not read
/// (unless [`Connection::with_max_answer`] asks for more).
const MAX_ANSWER: usize = 64 * 1024;

pub struct Connection {
    host: String,
    port: u16,
    /// `Some` for `https://`.
    tls: Option<Arc<rustls::ClientConfig>>,
    sender: Option<SendRequest<Full<Bytes>>>,
    max_answer: usize,
}

/// What the receiver answered.
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

impl Connection {
    pub fn new(host: String, port: u16) -> Connection {
        Connection {
            host,
            port,
            tls: None,
            sender: None,
            max_answer: MAX_ANSWER,
        }
    }

    /// Speaks TLS with this configuration (an `https://` receiver).
    pub fn with_tls(mut self, tls: Option<Arc<rustls::ClientConfig>>) -> Connection {
        self.tls = tls;
        self
    }

    /// Reads answers' bodies up to `bytes` instead of the default 64 KiB:
    /// for a client that needs the body itself, not just the status.
    pub fn with_max_answer(mut self, bytes: usize) -> Connection {
        self.max_answer = bytes;
        self
    }

    /// Sends the request `make` builds; an error means no answer came (the
    /// connection is then dropped, so the next request starts on a new
    /// one). A kept-alive connection the receiver closed while idle is
    /// only noticed when a request fails on it, so that failure is retried
    /// at once on a fresh connection instead of counting as a failed batch.
    pub async fn send(
        &mut self,
        make: impl Fn() -> anyhow::Result<Request<Full<Bytes>>>,
    ) -> anyhow::Result<Answer> {
        let reused = self.sender.is_some();
        match self.send_once(make()?).await {
            // Only a failure of the connection itself: a receiver that is
            // merely slow already had its full timeout.
            Err(e) if reused && e.chain().any(|c| c.is::<hyper::Error>()) => {
                tracing::debug!(error = format!("{e:#}"), "webhook connection went stale");
                self.send_once(make()?).await
            }
            other => other,
        }
    }

    async fn send_once(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<Answer> {
        let result = tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(request)).await;
        match result {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => {
                self.sender = None;
                Err(e)
            }
            Err(_) => {
                self.sender = None;
                anyhow::bail!("no answer within {REQUEST_TIMEOUT:?}")
            }
        }
    }

    async fn exchange(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<Answer> {
        let sender = self.ready().await?;
        let response = sender
            .send_request(request)
            .await
            .context("sending the request")?;
        let status = response.status();
        // The status is the answer; a body too long or cut short only
        // costs the connection, which cannot carry another request now.
        let body = match Limited::new(response.into_body(), self.max_answer)
            .collect()
            .await
        {
            Ok(body) => body.to_bytes(),
            Err(e) => {
                tracing::debug!(error = %e, "webhook answer's body not read");
                self.sender = None;
                Bytes::new()
            }
        };
        Ok(Answer { status, body })
    }

    /// The open connection if it can take a request, otherwise a new one.
    async fn ready(&mut self) -> anyhow::Result<&mut SendRequest<Full<Bytes>>> {
        if let Some(sender) = self.sender.as_mut()
            && !sender.is_closed()
            && sender.ready().await.is_ok()
        {
            // Borrowing `sender` across the return is not accepted here,
            // hence the second lookup.
            return self
                .sender
                .as_mut()
                .ok_or_else(|| anyhow::anyhow!("connection vanished"));
        }
        self.sender = None;
        let stream = tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        .map_err(|_| anyhow::anyhow!("connecting took more than {CONNECT_TIMEOUT:?}"))?
        .context("connecting")?;
        let _ = stream.set_nodelay(true);
        let sender = match &self.tls {
            None => start_http(stream).await?,
            Some(config) => {
                let name = rustls::pki_types::ServerName::try_from(self.host.clone())
                    .context("the host is not a valid TLS server name")?;
                let stream = tokio::time::timeout(
                    CONNECT_TIMEOUT,
                    tokio_rustls::TlsConnector::from(config.clone()).connect(name, stream),
                )
                .await
                .map_err(|_| {
                    anyhow::anyhow!("the TLS handshake took more than {CONNECT_TIMEOUT:?}")
                })?
                .context("TLS handshake")?;
                start_http(stream).await?
            }
        };
        Ok(self.sender.insert(sender))
    }
}

/// HTTP/1.1 over `io`; the connection's task runs until the receiver
/// closes or the sender is dropped.
async fn start_http<T>(io: T) -> anyhow::Result<SendRequest<Full<Bytes>>>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::handshake(TokioIo::new(io))
        .await
        .context("starting HTTP/1.1")?;
    tokio::spawn(async move {
        // Why it ended shows up as the next request's error.
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "webhook connection ended");
        }
    });
    Ok(sender)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Answers every request on one connection with `status` and a body of
    /// `body_len` bytes.
    async fn receiver(status: u16, body_len: usize) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            drop(listener);
            let mut buf = vec![0; 64 * 1024];
            while let Ok(n) = socket.read(&mut buf).await {
                if n == 0 {
                    return;
                }
                let head = format!("HTTP/1.1 {status} X\r\nContent-Length: {body_len}\r\n\r\n");
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&vec![b'x'; body_len]).await;
            }
        });
        port
    }

    fn post() -> anyhow::Result<Request<Full<Bytes>>> {
        Ok(Request::post("/")
            .header(hyper::header::HOST, "127.0.0.1")
            .body(Full::new(Bytes::from_static(b"{}")))?)
    }

    #[tokio::test]
    async fn a_long_answer_still_counts_by_its_status() {
        let port = receiver(200, 200 * 1024).await;
        let mut c = Connection::new("127.0.0.1".into(), port);
        let answer = c.send(post).await.expect("answered");
        assert_eq!(answer.status, StatusCode::OK);
        assert!(c.sender.is_none(), "the unread body spoils the connection");
    }

    #[tokio::test]
    async fn a_short_answer_keeps_the_connection_for_the_next_request() {
        let port = receiver(503, 5).await;
        let mut c = Connection::new("127.0.0.1".into(), port);
        let answer = c.send(post).await.expect("answered");
        assert_eq!(
            (answer.status.as_u16(), &answer.body[..]),
            (503, &b"xxxxx"[..])
        );
        // The receiver accepts one connection only: a second request
        // answered proves the first connection was kept.
        let answer = c.send(post).await.expect("answered on the same connection");
        assert_eq!(answer.status.as_u16(), 503);
    }
}
