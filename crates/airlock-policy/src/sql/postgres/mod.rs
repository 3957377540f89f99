//! PostgreSQL, read by the server's own grammar (libpg_query), so the
//! gateway and the server cannot disagree about what a text says.
//!
//! libpg_query keeps its parser state in thread-local storage (its
//! globals are `__thread`), so calls from several threads at once are safe
//! without a lock; `tests::properties` runs them concurrently.

// Generated, one line per node type: easier to review unformatted.
#[rustfmt::skip]
mod children;
mod dml;
mod fingerprint;
mod key;
mod kinds;
mod lineage;
mod names;
mod plain_key;
mod settings;
mod utility;
mod walk;

use crate::facts::Facts;
use crate::sql::collect;

pub(super) use lineage::output_columns;

const DIALECT: &str = "postgres";

pub(super) fn analyse(text: &str) -> Facts {
    let parsed = match pg_query::parse(text, pg_query::ParserOptions::DEFAULT) {
        Ok(parsed) => parsed,
        Err(error) => {
            let syntax_error = grammar_error(&error);
            let mut facts = collect::parse_error(DIALECT, message(error));
            facts.syntax_error = syntax_error;
            return facts;
        }
    };
    let mut walker = walk::Walker::new();
    walker.raw_statements(&parsed.protobuf.stmts);
    walker.out.finish(DIALECT, parsed.protobuf.stmts.len())
}

pub(super) fn fingerprint(text: &str) -> Option<String> {
    fingerprint::fingerprint(text)
}

pub(super) fn normalize(text: &str) -> Option<String> {
    key::key(text)
}

pub(super) fn lexed_key(text: &str) -> Option<String> {
    key::lexed(text)
}

pub(super) fn settings_dependence(text: &str) -> crate::sql::SettingsDependence {
    settings::dependence(text)
}

/// Whether the error is the grammar's verdict on the text, which the
/// server's parser reaches as well. Not so for the analyser's own limits:
/// a tree nested too deep to decode (the protobuf decoder stops at 100
/// levels, some 50 nested expressions), or the parser's stack running out
/// on this thread before the server's would — texts the server may run.
fn grammar_error(error: &pg_query::Error) -> bool {
    match error {
        pg_query::Error::Parse(message) => {
            !message.starts_with("stack depth limit exceeded")
                && !message.starts_with("out of memory")
        }
        _ => false,
    }
}

/// The parser's own words for a syntax error; the library's wrapping for
/// anything else (a NUL byte, a tree nested too deep to decode).
fn message(error: pg_query::Error) -> String {
    match error {
        pg_query::Error::Parse(message) => message,
        other => other.to_string(),
    }
}
