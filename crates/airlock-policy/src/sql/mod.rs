//! SQL analysis: PostgreSQL with the server's own grammar (`pg_query`),
//! MySQL with `sqlparser`'s MySQL dialect. Both produce the same
//! [`Facts`] vocabulary; see `facts.rs` for what each field means.

mod collect;
mod features;
mod key;
mod lineage;
mod mysql;
mod postgres;
mod scope;
#[cfg(test)]
mod tests;

use crate::facts::Facts;

pub use lineage::{ColumnSource, OutputColumn, output_columns};

/// Which server's SQL a text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Postgres,
    MySql,
}

/// The facts of a text of one or more statements. Never panics. Text that
/// does not parse gives `has_parse_error` with the parser's message and no
/// statements.
pub fn analyse(dialect: Dialect, text: &str) -> Facts {
    match dialect {
        Dialect::Postgres => postgres::analyse(text),
        Dialect::MySql => mysql::analyse(text),
    }
}

/// A cache key for the facts of `text`: its tokens with literals replaced
/// by placeholders of their token kind. Two texts with the same key have
/// the same facts, except facts that depend on a literal's value, which
/// [`literal_sensitive`] detects. `None` when the text does not tokenize
/// (or, for MySQL, holds an executable comment).
pub fn normalize(dialect: Dialect, text: &str) -> Option<String> {
    match dialect {
        Dialect::Postgres => postgres::normalize(text),
        Dialect::MySql => mysql::normalize(text),
    }
}

/// The PostgreSQL key from the server's lexer alone, without the plain
/// scanner that [`normalize`] tries first. `normalize` must always return
/// what this does; the fuzz target `sql_postgres` checks it.
#[doc(hidden)]
pub fn postgres_lexed_key(text: &str) -> Option<String> {
    postgres::lexed_key(text)
}

/// Whether a [`normalize`] key stood in for at least one literal value:
/// the same key then covers texts that differ in it.
pub fn key_has_literal(key: &str) -> bool {
    key::has_literal(key)
}

/// What a review's grant is bound to: the tokens of the text with
/// comments and layout gone and names folded as the dialect folds them,
/// literals kept as written. `None` when the text does not tokenize.
/// MySQL texts are not tokenized for this yet: their fingerprint is the
/// text with runs of whitespace collapsed.
pub fn fingerprint(dialect: Dialect, text: &str) -> Option<String> {
    match dialect {
        Dialect::Postgres => postgres::fingerprint(text),
        Dialect::MySql => Some(text.split_whitespace().collect::<Vec<_>>().join(" ")),
    }
}

/// The text with every literal value replaced by a numbered placeholder
/// (`$1`, `$2`, …), as PostgreSQL's own normaliser writes it: what a
/// recording keeps of a statement whose values a masking rule protects
/// (`update users set password = 'hunter2'`). `None` when the text does
/// not parse, and for MySQL, whose texts this is not implemented for.
pub fn without_literals(dialect: Dialect, text: &str) -> Option<String> {
    match dialect {
        Dialect::Postgres if !text.trim().is_empty() => pg_query::normalize(text).ok(),
        _ => None,
    }
}

/// Parts of a PostgreSQL text that the server reads according to session
/// settings the text does not show; the analyser reads every text as
/// UTF-8 with `standard_conforming_strings` on. An adapter that knows the
/// session's settings decides with this whether the analysis holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SettingsDependence {
    /// A backslash inside a `'…'` string: with `standard_conforming_strings`
    /// off the server reads it as an escape, so the string may end
    /// elsewhere and the statements after it differ.
    pub backslash_in_plain_string: bool,
    /// A character beyond ASCII: in the client-only encodings (SJIS, BIG5,
    /// GBK, UHC, GB18030, JOHAB) a byte of it can join the ASCII byte after
    /// it (a backslash, a bracket) into one character.
    pub non_ascii: bool,
}

/// What in a PostgreSQL `text` depends on session settings.
pub fn postgres_settings_dependence(text: &str) -> SettingsDependence {
    postgres::settings_dependence(text)
}

/// Whether any fact may depend on a literal's value (a file path, SQL in a
/// string, a code body, a parse error's message), so facts must not be
/// served from a cache entry of another text with the same key.
/// Conservative: true for anything it does not know to be safe.
pub fn literal_sensitive(facts: &Facts) -> bool {
    facts.kind != "sql"
        || facts.has_parse_error
        || features::literal_dependent(&facts.sql.features, &facts.sql.functions)
        // `COPY t TO ''` parses to the same tree as `COPY t TO STDOUT` (an
        // empty file name), so it has no file feature, yet it shares a key
        // with `COPY t TO '/any/file'`. COPY is never served from a cache.
        || facts.sql.kinds.iter().any(|k| k == "copy")
}

#[cfg(test)]
mod literal_tests {
    use super::*;

    #[test]
    fn literals_are_replaced_and_the_rest_kept() {
        let out = without_literals(
            Dialect::Postgres,
            "update users set password = 'hunter2' where id = 7",
        )
        .unwrap();
        assert!(!out.contains("hunter2") && !out.contains('7'), "{out}");
        assert!(out.contains("update users set password = $1"), "{out}");
        assert_eq!(without_literals(Dialect::Postgres, "   "), None);
        assert_eq!(without_literals(Dialect::Postgres, "selec oops 'x'"), None);
        assert_eq!(without_literals(Dialect::MySql, "select 1"), None);
    }
}
