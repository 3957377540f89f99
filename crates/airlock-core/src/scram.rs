//! SCRAM-SHA-256 (RFC 5802, RFC 7677), server side, over hashed tokens.
//!
//! The store keeps, per token, only `StoredKey` and `ServerKey`. All tokens
//! of one identity share the identity's salt, because the salt goes out in
//! the server's first message, before anything tells the server which token
//! the client holds. The client's proof is then checked against each of the
//! identity's tokens in turn.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Iterations for new verifiers. Tokens carry 256 bits of entropy, so the
/// work factor only needs to satisfy clients, not slow down guessing.
pub const ITERATIONS: u32 = 4096;

/// The verifier derived from a secret: what the store keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
}

pub fn derive_verifier(secret: &str, salt: &[u8], iterations: u32) -> Verifier {
    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(secret.as_bytes(), salt, iterations, &mut salted);
    let client_key = hmac(&salted, b"Client Key");
    Verifier {
        stored_key: Sha256::digest(client_key).to_vec(),
        server_key: hmac(&salted, b"Server Key").to_vec(),
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScramError {
    #[error("malformed SCRAM message: {0}")]
    Malformed(&'static str),
    #[error("channel binding is not supported")]
    ChannelBinding,
    #[error("SCRAM nonce mismatch")]
    Nonce,
}

/// The exchange after the server's first message, waiting for the proof.
pub struct ServerExchange {
    client_first_bare: String,
    server_first: String,
    nonce: String,
    gs2_header: String,
}

impl ServerExchange {
    /// Takes the client's first message and returns the exchange state and
    /// the server's first message.
    pub fn start(
        client_first: &str,
        salt: &[u8],
        iterations: u32,
        server_nonce: &str,
    ) -> Result<(ServerExchange, String), ScramError> {
        // gs2-header: "n,," (no binding) or "y,," (client could bind but we
        // did not offer it). "p=" asks for a binding we never advertise.
        let (gs2_header, bare) = if let Some(rest) = client_first.strip_prefix("n,") {
            ("n,", rest)
        } else if let Some(rest) = client_first.strip_prefix("y,") {
            ("y,", rest)
        } else if client_first.starts_with("p=") {
            return Err(ScramError::ChannelBinding);
        } else {
            return Err(ScramError::Malformed("gs2 header"));
        };
        // Skip the authzid field (up to the next comma).
        let comma = bare.find(',').ok_or(ScramError::Malformed("gs2 header"))?;
        let gs2_header = format!("{gs2_header}{}", &bare[..=comma]);
        let bare = &bare[comma + 1..];
        let client_nonce = bare
            .split(',')
            .find_map(|attr| attr.strip_prefix("r="))
            .filter(|n| !n.is_empty())
            .ok_or(ScramError::Malformed("client nonce"))?;
        let nonce = format!("{client_nonce}{server_nonce}");
        let server_first = format!("r={nonce},s={},i={iterations}", B64.encode(salt));
        Ok((
            ServerExchange {
                client_first_bare: bare.to_string(),
                server_first: server_first.clone(),
                nonce,
                gs2_header,
            },
            server_first,
        ))
    }

    /// Checks the client's final message against candidate verifiers.
    /// Returns the index of the verifier that matched and the server's final
    /// message, or `None` when no verifier matched.
    pub fn finish(
        &self,
        client_final: &str,
        verifiers: &[&Verifier],
    ) -> Result<Option<(usize, String)>, ScramError> {
        let proof_at = client_final
            .rfind(",p=")
            .ok_or(ScramError::Malformed("client proof"))?;
        let without_proof = &client_final[..proof_at];
        let proof = B64
            .decode(&client_final[proof_at + 3..])
            .map_err(|_| ScramError::Malformed("client proof encoding"))?;
        let mut channel = None;
        let mut nonce = None;
        for attr in without_proof.split(',') {
            if let Some(c) = attr.strip_prefix("c=") {
                channel = Some(c);
            } else if let Some(r) = attr.strip_prefix("r=") {
                nonce = Some(r);
            }
        }
        let channel = channel.ok_or(ScramError::Malformed("channel binding"))?;
        if B64.decode(channel).ok().as_deref() != Some(self.gs2_header.as_bytes()) {
            return Err(ScramError::ChannelBinding);
        }
        if nonce != Some(self.nonce.as_str()) {
            return Err(ScramError::Nonce);
        }
        if proof.len() != 32 {
            return Err(ScramError::Malformed("client proof length"));
        }
        let auth_message = format!(
            "{},{},{}",
            self.client_first_bare, self.server_first, without_proof
        );
        for (i, v) in verifiers.iter().enumerate() {
            let signature = hmac(&v.stored_key, auth_message.as_bytes());
            let client_key: Vec<u8> = proof.iter().zip(signature).map(|(p, s)| p ^ s).collect();
            if constant_time_eq(&Sha256::digest(&client_key), &v.stored_key) {
                let server_signature = hmac(&v.server_key, auth_message.as_bytes());
                return Ok(Some((i, format!("v={}", B64.encode(server_signature)))));
            }
        }
        Ok(None)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal client, written from the RFC, to drive the server side.
    fn client_final(password: &str, salt: &[u8], iters: u32, cfb: &str, sf: &str) -> String {
        let nonce = sf.split(',').next().unwrap().trim_start_matches("r=");
        let without_proof = format!("c=biws,r={nonce}");
        let auth = format!("{cfb},{sf},{without_proof}");
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iters, &mut salted);
        let ck = hmac(&salted, b"Client Key");
        let sk = Sha256::digest(ck);
        let sig = hmac(&sk, auth.as_bytes());
        let proof: Vec<u8> = ck.iter().zip(sig).map(|(a, b)| a ^ b).collect();
        format!("{without_proof},p={}", B64.encode(proof))
    }

    #[test]
    fn the_right_token_among_several_is_found() {
        let salt = b"0123456789abcdef";
        let a = derive_verifier("token-a", salt, 4096);
        let b = derive_verifier("token-b", salt, 4096);
        let (ex, sf) = ServerExchange::start("n,,n=,r=abc", salt, 4096, "xyz").unwrap();
        assert!(sf.starts_with("r=abcxyz,s="));
        let cf = client_final("token-b", salt, 4096, "n=,r=abc", &sf);
        let (idx, server_final) = ex.finish(&cf, &[&a, &b]).unwrap().unwrap();
        assert_eq!(idx, 1);
        assert!(server_final.starts_with("v="));
    }

    #[test]
    fn a_wrong_token_matches_nothing() {
        let salt = b"salt";
        let a = derive_verifier("token-a", salt, 4096);
        let (ex, sf) = ServerExchange::start("n,,n=,r=abc", salt, 4096, "xyz").unwrap();
        let cf = client_final("guess", salt, 4096, "n=,r=abc", &sf);
        assert_eq!(ex.finish(&cf, &[&a]).unwrap(), None);
    }

    #[test]
    fn tampered_nonce_and_binding_are_refused() {
        let (ex, _) = ServerExchange::start("n,,n=,r=abc", b"s", 4096, "xyz").unwrap();
        assert_eq!(
            ex.finish("c=biws,r=abcXXX,p=AAAA", &[]).unwrap_err(),
            ScramError::Nonce
        );
        assert_eq!(
            ServerExchange::start("p=tls-server-end-point,,n=,r=a", b"s", 1, "x").err(),
            Some(ScramError::ChannelBinding)
        );
        assert!(ServerExchange::start("garbage", b"s", 1, "x").is_err());
    }
}
