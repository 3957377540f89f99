//! `airlock_policy::sql` over MySQL text: never panics, and every
//! answer is a function of the text alone (the facts cache relies on it).
#![no_main]

use airlock_policy::sql::{self, Dialect};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The analyser takes `&str`.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let facts = sql::analyse(Dialect::MySql, text);
    assert_eq!(facts, sql::analyse(Dialect::MySql, text), "analyse");
    assert_eq!(facts.kind, "sql");
    if facts.has_parse_error {
        assert!(
            facts.sql.statements.is_empty(),
            "statements of a parse error"
        );
    }
    let key = sql::normalize(Dialect::MySql, text);
    assert_eq!(key, sql::normalize(Dialect::MySql, text), "normalize");
    assert_eq!(
        sql::literal_sensitive(&facts),
        sql::literal_sensitive(&facts)
    );
});
