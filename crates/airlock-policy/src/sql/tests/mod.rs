//! Tests of the SQL analysers. Inputs are the tricky ones: what a rule
//! written against plain SQL would miss if the analyser read text instead
//! of the grammar.

mod cache;
mod lineage;
mod mysql;
mod postgres;
mod properties;

use crate::facts::{Facts, Statement};
use crate::sql::{Dialect, analyse};

fn pg(text: &str) -> Facts {
    parsed(analyse(Dialect::Postgres, text))
}

fn my(text: &str) -> Facts {
    parsed(analyse(Dialect::MySql, text))
}

fn parsed(facts: Facts) -> Facts {
    assert!(!facts.has_parse_error, "parse error: {}", facts.parse_error);
    assert_eq!(facts.kind, "sql");
    facts
}

fn pg_error(text: &str) -> String {
    error(analyse(Dialect::Postgres, text))
}

fn my_error(text: &str) -> String {
    error(analyse(Dialect::MySql, text))
}

fn error(facts: Facts) -> String {
    assert!(facts.has_parse_error, "parsed: {facts:?}");
    assert!(facts.sql.statements.is_empty());
    assert!(!facts.parse_error.is_empty());
    facts.parse_error
}

/// The one statement of `kind`.
fn only<'f>(facts: &'f Facts, kind: &str) -> &'f Statement {
    let mut found = facts.sql.statements.iter().filter(|s| s.kind == kind);
    let statement = found
        .next()
        .unwrap_or_else(|| panic!("no {kind} in {:?}", facts.sql.statements));
    assert!(found.next().is_none(), "several {kind} in {facts:?}");
    statement
}

fn list(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn columns(statement: &Statement, table: &str) -> Vec<String> {
    statement.columns.get(table).cloned().unwrap_or_default()
}
