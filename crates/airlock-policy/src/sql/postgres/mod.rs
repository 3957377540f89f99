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
mod key;
mod kinds;
mod names;
mod utility;
mod walk;

use crate::facts::Facts;
use crate::sql::collect;

const DIALECT: &str = "postgres";

pub(super) fn analyse(text: &str) -> Facts {
    let parsed = match pg_query::parse(text, pg_query::ParserOptions::DEFAULT) {
        Ok(parsed) => parsed,
        Err(error) => return collect::parse_error(DIALECT, message(error)),
    };
    let mut walker = walk::Walker::new();
    walker.raw_statements(&parsed.protobuf.stmts);
    walker.out.finish(DIALECT, parsed.protobuf.stmts.len())
}

pub(super) fn normalize(text: &str) -> Option<String> {
    key::key(text)
}

/// The parser's own words for a syntax error; the library's wrapping for
/// anything else (a NUL byte, a tree nested too deep to decode).
fn message(error: pg_query::Error) -> String {
    match error {
        pg_query::Error::Parse(message) => message,
        other => other.to_string(),
    }
}
