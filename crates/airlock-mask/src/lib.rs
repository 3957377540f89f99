//! Masking of secrets and personal data inside values (a DataRow field, a
//! log line, a JSON document), in process and without I/O.
//!
//! A [`Masker`] is built once from a [`MaskerConfig`] and shared (it is
//! `Send + Sync`); each call scans one value in a single pass in which cheap
//! byte tests decide whether a detector's validation runs at all, so clean
//! values cost little more than reading them and are returned borrowed.

mod candidates;
mod config;
mod custom;
mod detectors;
mod error;
mod masker;
mod scan;
mod style;
mod validate;

pub use config::{CustomDetector, MaskerConfig};
pub use error::MaskError;
pub use masker::{Finding, Masker};
pub use style::{PARTIAL_PREFIX, REDACTED, Style};
