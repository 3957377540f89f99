use thiserror::Error;

/// Why a [`crate::MaskerConfig`] cannot become a [`crate::Masker`].
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum MaskError {
    #[error("unknown detector `{0}`")]
    UnknownDetector(String),
    #[error("detector `{0}` is defined twice (or clashes with a built-in name)")]
    DuplicateDetector(String),
    #[error("detector `{0}` is both enabled and disabled")]
    EnabledAndDisabled(String),
    #[error("custom detector name `{name}` is invalid: {reason}")]
    BadName { name: String, reason: &'static str },
    #[error("custom detector `{name}`: bad pattern: {message}")]
    BadPattern { name: String, message: String },
    #[error(
        "custom detector `{name}`: unknown validator `{validator}` (known: luhn, iban, us_ssn, jwt)"
    )]
    UnknownValidator { name: String, validator: String },
    #[error("the hash key cannot key HMAC-SHA256")]
    HashKey,
    #[error("internal error building the built-in detectors: {0}")]
    Internal(String),
}
