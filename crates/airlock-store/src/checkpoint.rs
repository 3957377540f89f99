//! Checkpoints of the audit chain: a statement, signed when a key is
//! configured, that the chain's record at `seq` has `hash`. The signed
//! message and the chain record's body are defined here and nowhere else;
//! `docs/audit.md` describes both byte for byte.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::signing::{CheckpointKey, PublicKey};

/// Why a checkpoint was written. Part of the signed message, so a signed
/// checkpoint cannot be passed off as an anchor (which would excuse the
/// removal of every record up to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckpointPurpose {
    /// Written periodically: vouches for the tip of the chain.
    Checkpoint,
    /// Written before pruning: the records up to `seq` may be gone, and the
    /// first one kept links to `hash`.
    Anchor,
}

impl CheckpointPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckpointPurpose::Checkpoint => "checkpoint",
            CheckpointPurpose::Anchor => "anchor",
        }
    }

    pub fn parse(text: &str) -> Option<CheckpointPurpose> {
        match text {
            "checkpoint" => Some(CheckpointPurpose::Checkpoint),
            "anchor" => Some(CheckpointPurpose::Anchor),
            _ => None,
        }
    }

    /// The first line of the signed message.
    fn header(self) -> &'static str {
        match self {
            CheckpointPurpose::Checkpoint => "airlock-audit-checkpoint v1",
            CheckpointPurpose::Anchor => "airlock-audit-anchor v1",
        }
    }
}

impl fmt::Display for CheckpointPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signature and the key that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub public_key: PublicKey,
    pub signature: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub purpose: CheckpointPurpose,
    /// The record vouched for, and its hash.
    pub seq: i64,
    pub hash: [u8; 32],
    /// When it was written; signed, to the millisecond.
    pub at: DateTime<Utc>,
    /// `None` only for an anchor written without a signing key.
    pub signed: Option<Signed>,
    /// Where the checkpoint's own record sits in the chain.
    pub record_seq: i64,
}

/// What a checkpoint says that is not right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointFault {
    /// The signature is not `key`'s signature of the checkpoint.
    BadSignature { key: PublicKey },
    /// A valid signature, by a key the verifier does not trust.
    UntrustedKey { key: PublicKey },
    /// No signature where one is required.
    Unsigned,
    /// The record at the checkpoint's seq has hash `found`, not the
    /// `vouched` one (both hex).
    HashMismatch { vouched: String, found: String },
    /// The checkpoint table and the checkpoint's own record disagree.
    RecordMismatch,
}

impl CheckpointFault {
    /// `forged`, `rewritten` or `altered`.
    pub fn kind(&self) -> &'static str {
        match self {
            CheckpointFault::BadSignature { .. }
            | CheckpointFault::UntrustedKey { .. }
            | CheckpointFault::Unsigned => "forged",
            CheckpointFault::HashMismatch { .. } => "rewritten",
            CheckpointFault::RecordMismatch => "altered",
        }
    }
}

/// A checkpoint named for a person: why and when it was written, and
/// where its own record is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRef {
    pub purpose: CheckpointPurpose,
    /// The record it vouches for.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub record_seq: i64,
}

impl fmt::Display for CheckpointRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {} (record seq {})",
            self.purpose,
            self.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            self.record_seq
        )
    }
}

impl Checkpoint {
    pub fn reference(&self) -> CheckpointRef {
        CheckpointRef {
            purpose: self.purpose,
            seq: self.seq,
            at: self.at,
            record_seq: self.record_seq,
        }
    }

    /// The signed message: `header \n seq \n hash \n at`, decimal numbers,
    /// the hash in lowercase hex, `at` in unix milliseconds, no trailing
    /// newline.
    pub fn message(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.purpose.header(),
            self.seq,
            hex::encode(self.hash),
            self.at.timestamp_millis()
        )
    }

    pub(crate) fn sign(&mut self, key: &CheckpointKey) {
        let signature = key.sign(self.message().as_bytes());
        self.signed = Some(Signed {
            public_key: key.public_key(),
            signature,
        });
    }

    /// Checks the signature and, when `trusted` is not empty, that one of
    /// those keys made it. An unsigned anchor passes only with
    /// `unsigned_anchor_ok`.
    pub fn check(
        &self,
        trusted: &[PublicKey],
        unsigned_anchor_ok: bool,
    ) -> Result<(), CheckpointFault> {
        let Some(signed) = &self.signed else {
            return match self.purpose {
                CheckpointPurpose::Anchor if unsigned_anchor_ok => Ok(()),
                _ => Err(CheckpointFault::Unsigned),
            };
        };
        let key = signed.public_key;
        if !key.verifies(self.message().as_bytes(), &signed.signature) {
            return Err(CheckpointFault::BadSignature { key });
        }
        if !trusted.is_empty() && !trusted.contains(&key) {
            return Err(CheckpointFault::UntrustedKey { key });
        }
        Ok(())
    }

    /// The body of the checkpoint's chain record.
    pub fn body(&self) -> CheckpointBody {
        CheckpointBody {
            purpose: self.purpose,
            seq: self.seq,
            hash: hex::encode(self.hash),
            public_key: self.signed.as_ref().map(|s| s.public_key.to_string()),
            signature: self.signed.as_ref().map(|s| hex::encode(&s.signature)),
        }
    }

    /// The chain record's id: the purpose and the seq vouched for, which
    /// only ever grow for each purpose.
    pub(crate) fn record_id(&self) -> String {
        format!("{}/{}", self.purpose, self.seq)
    }
}

/// The body of a `checkpoint` record in the chain, keys in this order;
/// binary values in lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointBody {
    pub purpose: CheckpointPurpose,
    pub seq: i64,
    pub hash: String,
    pub public_key: Option<String>,
    pub signature: Option<String>,
}

impl CheckpointBody {
    /// The checkpoint a chain record holds; `Err` says what does not parse.
    pub fn checkpoint(&self, at: DateTime<Utc>, record_seq: i64) -> Result<Checkpoint, String> {
        let hash = hex::decode(&self.hash)
            .ok()
            .and_then(|h| <[u8; 32]>::try_from(h).ok())
            .ok_or("its hash is not 64 hex digits")?;
        let signed = match (&self.public_key, &self.signature) {
            (None, None) => None,
            (Some(key), Some(signature)) => Some(Signed {
                public_key: key
                    .parse()
                    .map_err(|_| "its public key is not 64 hex digits")?,
                signature: hex::decode(signature).map_err(|_| "its signature is not hex")?,
            }),
            _ => return Err("it has a public key or a signature without the other".into()),
        };
        Ok(Checkpoint {
            purpose: self.purpose,
            seq: self.seq,
            hash,
            at,
            signed,
            record_seq,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(purpose: CheckpointPurpose) -> Checkpoint {
        Checkpoint {
            purpose,
            seq: 12,
            hash: [0xab; 32],
            at: DateTime::from_timestamp_millis(1_700_000_000_123).expect("time"),
            signed: None,
            record_seq: 13,
        }
    }

    #[test]
    fn the_message_is_exactly_as_documented() {
        assert_eq!(
            sample(CheckpointPurpose::Checkpoint).message(),
            format!(
                "airlock-audit-checkpoint v1\n12\n{}\n1700000000123",
                "ab".repeat(32)
            )
        );
        assert!(
            sample(CheckpointPurpose::Anchor)
                .message()
                .starts_with("airlock-audit-anchor v1\n12\n")
        );
    }

    #[test]
    fn a_signed_checkpoint_checks_out_and_cannot_become_an_anchor() {
        let (key, _) = CheckpointKey::generate().expect("key");
        let mut c = sample(CheckpointPurpose::Checkpoint);
        c.sign(&key);
        assert_eq!(c.check(&[key.public_key()], false), Ok(()));
        assert_eq!(c.check(&[], false), Ok(()));
        let (other, _) = CheckpointKey::generate().expect("key");
        assert_eq!(
            c.check(&[other.public_key()], false),
            Err(CheckpointFault::UntrustedKey {
                key: key.public_key()
            })
        );
        c.purpose = CheckpointPurpose::Anchor;
        assert_eq!(
            c.check(&[], false),
            Err(CheckpointFault::BadSignature {
                key: key.public_key()
            })
        );
    }

    #[test]
    fn unsigned_checkpoints_pass_only_as_anchors_when_allowed() {
        let c = sample(CheckpointPurpose::Checkpoint);
        assert_eq!(c.check(&[], true), Err(CheckpointFault::Unsigned));
        let a = sample(CheckpointPurpose::Anchor);
        assert_eq!(a.check(&[], true), Ok(()));
        assert_eq!(a.check(&[], false), Err(CheckpointFault::Unsigned));
    }

    #[test]
    fn the_body_round_trips() {
        let (key, _) = CheckpointKey::generate().expect("key");
        let mut c = sample(CheckpointPurpose::Checkpoint);
        c.sign(&key);
        let json = serde_json::to_string(&c.body()).expect("json");
        assert!(
            json.starts_with(r#"{"purpose":"checkpoint","seq":12,"hash":"abab"#),
            "{json}"
        );
        let back: CheckpointBody = serde_json::from_str(&json).expect("parse");
        assert_eq!(back.checkpoint(c.at, 13), Ok(c));
    }
}
