//! `airlock_policy::sql` over PostgreSQL text: never panics, every
//! answer is a function of the text alone (the facts cache and the
//! masking lineage rely on it), and the cache key is the lexer's.
#![no_main]

use airlock_policy::sql::{self, Dialect};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The adapter hands the analyser `&str` (a Query is read as UTF-8).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let facts = sql::analyse(Dialect::Postgres, text);
    assert_eq!(facts, sql::analyse(Dialect::Postgres, text), "analyse");
    assert_eq!(facts.kind, "sql");
    if facts.has_parse_error {
        assert!(
            facts.sql.statements.is_empty(),
            "statements of a parse error"
        );
    }
    // Whitespace-only text never reaches `pg_query::scan_tokens` (undefined
    // behaviour there): `normalize` and `postgres_settings_dependence`
    // guard it, and this target calls nothing else of pg_query directly.
    let key = sql::normalize(Dialect::Postgres, text);
    assert_eq!(key, sql::normalize(Dialect::Postgres, text), "normalize");
    // The plain scanner keys a text exactly as the lexer would, or not at
    // all: a key of its own would share cached facts between texts the
    // server reads differently.
    assert_eq!(key, sql::postgres_lexed_key(text), "plain key");
    let columns = sql::output_columns(text);
    assert_eq!(columns, sql::output_columns(text), "output_columns");
    assert_eq!(
        sql::postgres_settings_dependence(text),
        sql::postgres_settings_dependence(text),
        "settings dependence"
    );
    assert_eq!(
        sql::literal_sensitive(&facts),
        sql::literal_sensitive(&facts)
    );
});
