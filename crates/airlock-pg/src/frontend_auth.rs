//! Proving a client's identity with an Airlock token.
//!
//! SCRAM-SHA-256 by default: the token never crosses the wire, with or
//! without TLS. Clear-text password mode is accepted only inside TLS.

use bytes::BytesMut;
use chrono::Utc;
use pgwire::messages::startup::Authentication;
use rand::RngCore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use airlock_core::config::FrontendAuth;
use airlock_core::scram::{self, ServerExchange};
use airlock_core::tokens::{self, TokenRejection};
use airlock_store::{Identity, Store, TokenRecord};

use crate::frame;
use crate::session::Refusal;
use crate::upstream::BoxIo;
use crate::wire::{self, Reader};

/// A client that proved it holds a live token of `identity`.
pub struct Authenticated {
    pub identity: Identity,
    pub token_id: String,
}

pub struct ClientAuth<'a> {
    pub io: &'a mut BoxIo,
    pub buf: &'a mut BytesMut,
    pub max_message: usize,
}

impl ClientAuth<'_> {
    pub async fn run(
        &mut self,
        store: &dyn Store,
        identity_name: &str,
        mode: FrontendAuth,
        over_tls: bool,
    ) -> Result<Authenticated, Refusal> {
        let identity = store
            .identity(identity_name)
            .await
            .map_err(Refusal::store)?
            .ok_or_else(|| Refusal::auth(format!("unknown identity \"{identity_name}\"")))?;
        // Revoked and expired tokens are candidates too, so the client can
        // be told why it was turned away instead of a bare "wrong token".
        let all = store
            .list_tokens(Some(&identity.name))
            .await
            .map_err(Refusal::store)?;
        let record = match mode {
            FrontendAuth::ScramSha256 => self.scram(&identity, &all).await?,
            FrontendAuth::Password => {
                if !over_tls {
                    return Err(Refusal::new(
                        "28000",
                        "password authentication requires TLS (use sslmode=require)",
                    ));
                }
                self.cleartext(&all).await?
            }
        };
        Ok(Authenticated {
            token_id: record.id.clone(),
            identity,
        })
    }

    async fn cleartext<'t>(&mut self, all: &'t [TokenRecord]) -> Result<&'t TokenRecord, Refusal> {
        self.send(Authentication::CleartextPassword).await?;
        let body = self.expect_password_message().await?;
        let secret = Reader::new(&body, "PasswordMessage")
            .cstr()
            .map_err(|e| Refusal::protocol(e.to_string()))?;
        tokens::check_cleartext(secret, all, Utc::now()).map_err(reject)
    }

    async fn scram<'t>(
        &mut self,
        identity: &Identity,
        all: &'t [TokenRecord],
    ) -> Result<&'t TokenRecord, Refusal> {
        self.send(Authentication::SASL(vec!["SCRAM-SHA-256".to_string()]))
            .await?;
        let body = self.expect_password_message().await?;
        let mut r = Reader::new(&body, "SASLInitialResponse");
        let mechanism = r.cstr().map_err(|e| Refusal::protocol(e.to_string()))?;
        if mechanism != "SCRAM-SHA-256" {
            return Err(Refusal::new(
                "28000",
                format!("unsupported SASL mechanism {mechanism:?}"),
            ));
        }
        let len = r.i32().map_err(|e| Refusal::protocol(e.to_string()))?;
        let data = r.rest();
        if len < 0 || len as usize != data.len() {
            return Err(Refusal::protocol("malformed SASLInitialResponse".into()));
        }
        let client_first = std::str::from_utf8(data)
            .map_err(|_| Refusal::protocol("SCRAM message is not UTF-8".into()))?;
        let mut nonce = [0u8; 18];
        rand::rng().fill_bytes(&mut nonce);
        let nonce = base64_nonce(&nonce);
        let (exchange, server_first) = ServerExchange::start(
            client_first,
            &identity.scram_salt,
            scram::ITERATIONS,
            &nonce,
        )
        .map_err(|e| Refusal::new("28000", e.to_string()))?;
        self.send(Authentication::SASLContinue(
            server_first.into_bytes().into(),
        ))
        .await?;
        let body = self.expect_password_message().await?;
        let client_final = std::str::from_utf8(&body)
            .map_err(|_| Refusal::protocol("SCRAM message is not UTF-8".into()))?;
        let candidates: Vec<&TokenRecord> = all
            .iter()
            .filter(|t| t.scram_iterations == scram::ITERATIONS)
            .collect();
        let verifiers: Vec<_> = candidates.iter().map(|t| tokens::verifier_of(t)).collect();
        let refs: Vec<_> = verifiers.iter().collect();
        let matched = exchange
            .finish(client_final, &refs)
            .map_err(|e| Refusal::new("28000", e.to_string()))?;
        let Some((index, server_final)) = matched else {
            return Err(reject(TokenRejection::Invalid));
        };
        let record = candidates[index];
        tokens::judge(record, Utc::now()).map_err(reject)?;
        self.send(Authentication::SASLFinal(server_final.into_bytes().into()))
            .await?;
        Ok(record)
    }

    async fn send(&mut self, auth: Authentication) -> Result<(), Refusal> {
        let mut out = BytesMut::new();
        wire::authentication(&mut out, auth);
        self.io.write_all(&out).await.map_err(Refusal::io)
    }

    async fn expect_password_message(&mut self) -> Result<BytesMut, Refusal> {
        loop {
            let f = frame::take_frame(self.buf, self.max_message)
                .map_err(|e| Refusal::protocol(e.to_string()))?;
            if let Some(f) = f {
                if f.tag != b'p' {
                    return Err(Refusal::protocol(format!(
                        "expected a password message, got message type {:?}",
                        f.tag as char
                    )));
                }
                return Ok(f.body);
            }
            if self.io.read_buf(self.buf).await.map_err(Refusal::io)? == 0 {
                return Err(Refusal::gone());
            }
        }
    }
}

fn reject(r: TokenRejection) -> Refusal {
    Refusal::new("28P01", format!("authentication failed: {r}"))
}

fn base64_nonce(raw: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(raw)
}
