use std::collections::BTreeMap;
use std::fmt;

use crate::style::Style;

/// What a [`crate::Masker`] is built from.
#[derive(Clone, Default)]
pub struct MaskerConfig {
    /// Built-in detectors to turn off. Unknown names → `MaskError::UnknownDetector`.
    pub disable: Vec<String>,
    /// Off-by-default built-ins to turn on (`ipv4`, `ipv6`).
    pub enable: Vec<String>,
    pub custom: Vec<CustomDetector>,
    /// Replacement style per detector name (built-in or custom); default `Style::Label`.
    pub styles: BTreeMap<String, Style>,
    /// Key of the keyed hash style; never appears in output or `Debug`.
    pub hash_key: [u8; 32],
}

/// A detector defined by configuration: a regex, optionally confirmed by a
/// built-in validator (`luhn`, `iban`, `us_ssn`, `jwt`) applied to the match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomDetector {
    pub name: String,
    pub pattern: String,
    pub validator: Option<String>,
}

// Hand-written so that a config dumped to a log can never leak the key.
impl fmt::Debug for MaskerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key_set = self.hash_key != [0u8; 32];
        f.debug_struct("MaskerConfig")
            .field("disable", &self.disable)
            .field("enable", &self.enable)
            .field("custom", &self.custom)
            .field("styles", &self.styles)
            .field("hash_key", &if key_set { "<set>" } else { "<zero>" })
            .finish()
    }
}
