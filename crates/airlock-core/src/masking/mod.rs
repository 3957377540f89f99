//! Masking as configured: the detectors' [`Masker`] and the column rules,
//! built once per configuration generation. Adapters apply it to results;
//! everything recorded passes through it too.

mod config;
mod key;
mod pattern;

use std::borrow::Cow;
use std::path::Path;

pub use airlock_mask::{Masker, MaskerConfig, Style};
pub use config::{
    ColumnSpec, CustomDetectorSpec, DetectorSettings, MaskingConfig, StyleName, StyleSpec,
};
pub use pattern::ColumnPattern;

/// Values of columns matching `pattern` are replaced whole, in `style`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRule {
    pub pattern: ColumnPattern,
    pub style: Style,
}

impl ColumnRule {
    /// A column named by an `action: mask` rule: labelled with its pattern.
    pub fn labelled(pattern: &str) -> Result<ColumnRule, String> {
        Ok(ColumnRule {
            pattern: ColumnPattern::parse(pattern)?,
            style: Style::Label,
        })
    }
}

pub struct MaskPolicy {
    enabled: bool,
    detectors: bool,
    masker: Masker,
    columns: Vec<ColumnRule>,
}

impl std::fmt::Debug for MaskPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaskPolicy")
            .field("enabled", &self.enabled)
            .field("detectors", &self.detectors)
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

fn style(spec: &StyleSpec) -> Style {
    match spec.style {
        StyleName::Label => Style::Label,
        StyleName::Redact => Style::Redact,
        StyleName::Partial => Style::Partial {
            keep: spec.keep.unwrap_or(4),
        },
        StyleName::Hash => Style::Hash,
    }
}

/// An error in the `masking:` section: the field it concerns and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskingError {
    pub field: String,
    pub message: String,
}

impl MaskPolicy {
    /// Checks the section without touching any file: what `Config::parse`
    /// runs, so that a bad detector name or pattern stops the start.
    pub fn check(config: &MaskingConfig) -> Result<(), MaskingError> {
        Self::assemble(config, [0; 32]).map(|_| ())
    }

    /// Builds the policy, reading (or creating) the hash key when a `hash`
    /// style needs one.
    pub fn build(config: &MaskingConfig, data_dir: &Path) -> Result<MaskPolicy, MaskingError> {
        let key = if uses_hash(config) {
            key::load(config, data_dir).map_err(|message| MaskingError {
                field: "masking.hash_key".into(),
                message,
            })?
        } else {
            [0; 32]
        };
        Self::assemble(config, key)
    }

    fn assemble(config: &MaskingConfig, hash_key: [u8; 32]) -> Result<MaskPolicy, MaskingError> {
        let masker_config = MaskerConfig {
            disable: config.detectors.disable.clone(),
            enable: config.detectors.enable.clone(),
            custom: config
                .custom
                .iter()
                .map(|c| airlock_mask::CustomDetector {
                    name: c.name.clone(),
                    pattern: c.pattern.clone(),
                    validator: c.validator.clone(),
                })
                .collect(),
            styles: config
                .detectors
                .styles
                .iter()
                .map(|(name, s)| (name.clone(), style(s)))
                .collect(),
            hash_key,
        };
        let masker = Masker::new(&masker_config).map_err(|e| MaskingError {
            field: "masking.detectors".into(),
            message: e.to_string(),
        })?;
        let mut columns = Vec::with_capacity(config.columns.len());
        for (i, c) in config.columns.iter().enumerate() {
            let pattern = ColumnPattern::parse(c.pattern()).map_err(|message| MaskingError {
                field: format!("masking.columns[{i}]"),
                message,
            })?;
            columns.push(ColumnRule {
                pattern,
                style: style(&c.style()),
            });
        }
        Ok(MaskPolicy {
            enabled: config.enabled,
            detectors: config.enabled && config.detectors.enabled,
            masker,
            columns,
        })
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Do detectors scan text-like result values?
    pub fn detectors_on(&self) -> bool {
        self.detectors
    }

    pub fn masker(&self) -> &Masker {
        &self.masker
    }

    /// The configured column rules (`masking.columns`); rules with
    /// `action: mask` add theirs per command.
    pub fn column_rules(&self) -> &[ColumnRule] {
        if self.enabled { &self.columns } else { &[] }
    }

    /// Text on its way into a recording or a log: detectors applied
    /// whenever masking is on, whatever `detectors.enabled` says about
    /// results — recordings never hold what a detector recognises.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.enabled {
            self.masker.mask_str(text)
        } else {
            Cow::Borrowed(text)
        }
    }
}

fn uses_hash(config: &MaskingConfig) -> bool {
    config
        .detectors
        .styles
        .values()
        .any(|s| s.style == StyleName::Hash)
        || config
            .columns
            .iter()
            .any(|c| c.style().style == StyleName::Hash)
}
