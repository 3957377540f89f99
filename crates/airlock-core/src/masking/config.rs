//! The `masking:` section of the configuration file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// What is masked in results before they reach a client or a recording.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskingConfig {
    /// Master switch. Off, results pass byte-identical and column rules
    /// (from here and from `action: mask` rules) are not applied — so a
    /// rule that asks for masking then refuses its command instead.
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub detectors: DetectorSettings,
    /// Detectors of this deployment's own: a name, a regular expression,
    /// and optionally a built-in validator (`luhn`, `iban`, `us_ssn`, `jwt`).
    #[serde(default)]
    pub custom: Vec<CustomDetectorSpec>,
    /// Columns whose values are replaced whole: `users.email` (any
    /// schema), `*.password`, `billing.*.card_number` (schema.table.column).
    #[serde(default)]
    pub columns: Vec<ColumnSpec>,
    /// Key of the `hash` style, as 64 hex characters in this environment
    /// variable. Without it (and without `hash_key_file`) a key is
    /// generated into `data_dir/mask.key` when a `hash` style is first
    /// configured.
    #[serde(default)]
    pub hash_key_env: Option<String>,
    #[serde(default)]
    pub hash_key_file: Option<PathBuf>,
}

impl Default for MaskingConfig {
    fn default() -> Self {
        MaskingConfig {
            enabled: true,
            detectors: DetectorSettings::default(),
            custom: Vec::new(),
            columns: Vec::new(),
            hash_key_env: None,
            hash_key_file: None,
        }
    }
}

/// Which detectors scan text-like result values, and how each replaces.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorSettings {
    /// Scan text-like values with the detectors at all.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Built-in detectors to turn off (`phone`, …).
    #[serde(default)]
    pub disable: Vec<String>,
    /// Built-in detectors that are off by default to turn on (`ipv4`, `ipv6`).
    #[serde(default)]
    pub enable: Vec<String>,
    /// Replacement style per detector; `<masked:NAME>` where none is given.
    #[serde(default)]
    pub styles: BTreeMap<String, StyleSpec>,
}

impl Default for DetectorSettings {
    fn default() -> Self {
        DetectorSettings {
            enabled: true,
            disable: Vec::new(),
            enable: Vec::new(),
            styles: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomDetectorSpec {
    pub name: String,
    pub pattern: String,
    #[serde(default)]
    pub validator: Option<String>,
}

/// `{ style: partial, keep: 4 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StyleSpec {
    pub style: StyleName,
    /// For `partial`: how many trailing characters stay (default 4).
    #[serde(default)]
    pub keep: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StyleName {
    /// `<masked:NAME>`.
    Label,
    /// A fixed text that says nothing about the value.
    Redact,
    /// The last `keep` characters stay.
    Partial,
    /// A keyed hash: equal values give equal tokens.
    Hash,
}

/// A column rule: the pattern alone, or the pattern with a style.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ColumnSpec {
    Pattern(String),
    Styled {
        column: String,
        style: StyleName,
        #[serde(default)]
        keep: Option<usize>,
    },
}

impl ColumnSpec {
    pub fn pattern(&self) -> &str {
        match self {
            ColumnSpec::Pattern(p) => p,
            ColumnSpec::Styled { column, .. } => column,
        }
    }

    pub fn style(&self) -> StyleSpec {
        match self {
            ColumnSpec::Pattern(_) => StyleSpec {
                style: StyleName::Label,
                keep: None,
            },
            ColumnSpec::Styled { style, keep, .. } => StyleSpec {
                style: *style,
                keep: *keep,
            },
        }
    }
}

fn yes() -> bool {
    true
}
