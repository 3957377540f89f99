//! The Ed25519 keys of checkpoints. The private key never leaves this
//! type: it has no accessor and its `Debug` shows only the public half, so
//! no log line or error message can carry it.

use std::fmt;
use std::str::FromStr;

use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum KeyError {
    /// ring names the defect (`InvalidEncoding`, `WrongAlgorithm`, …),
    /// never the bytes it looked at.
    #[error("not an Ed25519 private key in PKCS#8 form ({0})")]
    Rejected(String),
    #[error("the system's random number generator failed")]
    Random,
    #[error("a public key is 64 hex characters (32 bytes)")]
    PublicKey,
}

/// The private key that signs checkpoints.
pub struct CheckpointKey {
    pair: Ed25519KeyPair,
    public: PublicKey,
}

impl CheckpointKey {
    /// A new key and its PKCS#8 (v2, with the public key) DER encoding,
    /// which is what gets written to the key file.
    pub fn generate() -> Result<(CheckpointKey, Vec<u8>), KeyError> {
        let pkcs8 =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Random)?;
        let der = pkcs8.as_ref().to_vec();
        Ok((CheckpointKey::from_pkcs8(&der)?, der))
    }

    /// Reads PKCS#8 DER. v1 files (what `openssl genpkey -algorithm
    /// ed25519` writes) carry no public key and are accepted too; in a v2
    /// file the public key must match the private one.
    pub fn from_pkcs8(der: &[u8]) -> Result<CheckpointKey, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|e| KeyError::Rejected(e.to_string()))?;
        let public =
            PublicKey::from_bytes(pair.public_key().as_ref()).ok_or(KeyError::PublicKey)?;
        Ok(CheckpointKey { pair, public })
    }

    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }
}

impl fmt::Debug for CheckpointKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckpointKey")
            .field("public_key", &self.public)
            .finish_non_exhaustive()
    }
}

/// An Ed25519 public key; written and read as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    pub fn from_bytes(bytes: &[u8]) -> Option<PublicKey> {
        bytes.try_into().ok().map(PublicKey)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `signature` is this key's signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(message, signature)
            .is_ok()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    fn from_str(text: &str) -> Result<PublicKey, KeyError> {
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::PublicKey)?;
        PublicKey::from_bytes(&bytes).ok_or(KeyError::PublicKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_reads_back_and_signs_verifiably() {
        let (key, der) = CheckpointKey::generate().expect("generate");
        let again = CheckpointKey::from_pkcs8(&der).expect("read back");
        assert_eq!(key.public_key(), again.public_key());
        let signature = again.sign(b"message");
        assert!(key.public_key().verifies(b"message", &signature));
        assert!(!key.public_key().verifies(b"massage", &signature));
    }

    #[test]
    fn debug_shows_only_the_public_key() {
        let (key, _) = CheckpointKey::generate().expect("generate");
        let shown = format!("{key:?}");
        assert!(shown.contains(&key.public_key().to_string()), "{shown}");
        assert!(!shown.contains("pair"), "{shown}");
    }

    #[test]
    fn public_keys_round_trip_through_hex() {
        let (key, _) = CheckpointKey::generate().expect("generate");
        let text = key.public_key().to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(text.parse::<PublicKey>().expect("parse"), key.public_key());
        assert!("abcd".parse::<PublicKey>().is_err());
        assert!(CheckpointKey::from_pkcs8(b"not a key").is_err());
    }
}
