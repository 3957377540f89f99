//! Issuing and checking access tokens.
//!
//! A token is `alk_<64 hex>`: 256 random bits behind a prefix that secret
//! scanners can recognise. The store keeps the SHA-256 of the whole token
//! (for API bearer lookups) and a SCRAM verifier (for PostgreSQL logins);
//! the token itself is shown once and never kept.

use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use airlock_store::{Identity, NewIdentity, NewToken, TokenRecord};

use crate::scram::{self, Verifier};
use crate::secret::Secret;

pub const TOKEN_PREFIX: &str = "alk_";

/// A freshly issued token: the secret to print once, the record to store.
pub struct IssuedToken {
    pub secret: Secret,
    pub record: NewToken,
}

pub fn new_identity(
    name: &str,
    kind: airlock_store::IdentityKind,
    groups: Vec<String>,
) -> NewIdentity {
    let mut salt = vec![0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    NewIdentity {
        name: name.to_string(),
        kind,
        groups,
        scram_salt: salt,
        person: None,
    }
}

pub fn issue(
    identity: &Identity,
    ttl: Option<std::time::Duration>,
    now: DateTime<Utc>,
) -> IssuedToken {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let secret = format!("{TOKEN_PREFIX}{}", hex::encode(raw));
    let mut id_raw = [0u8; 6];
    rand::rng().fill_bytes(&mut id_raw);
    let verifier = scram::derive_verifier(&secret, &identity.scram_salt, scram::ITERATIONS);
    let expires_at = ttl
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .map(|d| now + d);
    IssuedToken {
        record: NewToken {
            id: format!("tok_{}", hex::encode(id_raw)),
            identity: identity.name.clone(),
            secret_sha256: sha256(&secret),
            scram_iterations: scram::ITERATIONS,
            scram_stored_key: verifier.stored_key,
            scram_server_key: verifier.server_key,
            created_at: now,
            expires_at,
        },
        secret: Secret::new(secret),
    }
}

pub fn sha256(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Why a token was not accepted. The wording is safe to show a client: it
/// names the cause, never the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    #[error("invalid token")]
    Invalid,
    #[error("token {0} has expired")]
    Expired(String),
    #[error("token {0} has been revoked")]
    Revoked(String),
}

/// Decides about a token that matched a record: live, expired or revoked.
pub fn judge(record: &TokenRecord, now: DateTime<Utc>) -> Result<(), TokenRejection> {
    if record.revoked_at.is_some() {
        return Err(TokenRejection::Revoked(record.id.clone()));
    }
    if record.expires_at.is_some_and(|t| t <= now) {
        return Err(TokenRejection::Expired(record.id.clone()));
    }
    Ok(())
}

/// Checks a clear-text token (PostgreSQL password auth inside TLS) against
/// an identity's tokens, including revoked and expired ones so the client
/// learns why it was turned away.
pub fn check_cleartext<'a>(
    secret: &str,
    tokens: &'a [TokenRecord],
    now: DateTime<Utc>,
) -> Result<&'a TokenRecord, TokenRejection> {
    let hash = sha256(secret);
    let record = tokens
        .iter()
        .find(|t| t.secret_sha256 == hash)
        .ok_or(TokenRejection::Invalid)?;
    judge(record, now)?;
    Ok(record)
}

pub fn verifier_of(record: &TokenRecord) -> Verifier {
    Verifier {
        stored_key: record.scram_stored_key.clone(),
        server_key: record.scram_server_key.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock_store::IdentityKind;

    fn identity() -> Identity {
        let n = new_identity("alice", IdentityKind::User, vec![]);
        Identity {
            name: n.name,
            kind: n.kind,
            groups: n.groups,
            scram_salt: n.scram_salt,
            created_at: Utc::now(),
            person: n.person,
        }
    }

    fn stored(t: &NewToken) -> TokenRecord {
        TokenRecord {
            id: t.id.clone(),
            identity: t.identity.clone(),
            secret_sha256: t.secret_sha256.clone(),
            scram_iterations: t.scram_iterations,
            scram_stored_key: t.scram_stored_key.clone(),
            scram_server_key: t.scram_server_key.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: None,
        }
    }

    #[test]
    fn issued_token_checks_and_record_holds_no_secret() {
        let now = Utc::now();
        let issued = issue(&identity(), None, now);
        let secret = issued.secret.expose().to_string();
        assert!(secret.starts_with(TOKEN_PREFIX) && secret.len() == 68);
        let rec = stored(&issued.record);
        assert!(!format!("{rec:?}").contains(&secret[4..]));
        assert!(check_cleartext(&secret, std::slice::from_ref(&rec), now).is_ok());
        assert_eq!(
            check_cleartext("alk_wrong", &[rec], now).unwrap_err(),
            TokenRejection::Invalid
        );
    }

    #[test]
    fn expired_and_revoked_tokens_say_so() {
        let now = Utc::now();
        let issued = issue(&identity(), Some(std::time::Duration::from_secs(60)), now);
        let secret = issued.secret.expose().to_string();
        let mut rec = stored(&issued.record);
        let later = now + chrono::Duration::minutes(2);
        assert!(matches!(
            check_cleartext(&secret, std::slice::from_ref(&rec), later),
            Err(TokenRejection::Expired(_))
        ));
        rec.revoked_at = Some(now);
        assert!(matches!(
            check_cleartext(&secret, &[rec], now),
            Err(TokenRejection::Revoked(_))
        ));
    }
}
