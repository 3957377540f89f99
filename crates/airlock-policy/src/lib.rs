//! Analysis and rules: no I/O, no protocol code.
//!
//! Analysers turn a command (SQL text, a shell command line, an HTTP
//! request head) into [`Facts`]; rules written in CEL judge the facts.

pub mod facts;
pub mod http;
pub mod rules;
pub mod shell;
pub mod sql;

pub use facts::*;
