//! Accumulates per-statement facts while a dialect walker runs, then turns
//! them into [`Facts`]. Sets (not vectors) until the end, so the output is
//! sorted and de-duplicated whatever order the walk found things in.

use std::collections::{BTreeMap, BTreeSet};

use super::features;
use crate::facts::{Facts, SqlFacts, Statement};

/// One statement being collected.
#[derive(Debug)]
struct Builder {
    kind: &'static str,
    depth: i64,
    read: BTreeSet<String>,
    written: BTreeSet<String>,
    columns: BTreeMap<String, BTreeSet<String>>,
    functions: BTreeSet<String>,
    has_where: bool,
    has_limit: bool,
    features: BTreeSet<&'static str>,
}

/// The statement that was current before [`Collector::open`], to hand
/// back to [`Collector::close`].
#[must_use]
pub(super) struct Saved(Option<usize>);

/// Statements in the order the walk opened them (a parent before the
/// statements nested in it). Recording methods apply to the current one and
/// are no-ops outside any statement, so a walker bug loses a fact rather
/// than panicking on hostile input.
#[derive(Debug, Default)]
pub(super) struct Collector {
    statements: Vec<Builder>,
    current: Option<usize>,
}

impl Collector {
    /// Starts a statement nested in the current one (or a top-level one).
    pub(super) fn open(&mut self, kind: &'static str) -> Saved {
        let depth = self
            .current
            .and_then(|i| self.statements.get(i))
            .map_or(0, |parent| parent.depth + 1);
        self.statements.push(Builder {
            kind,
            depth,
            read: BTreeSet::new(),
            written: BTreeSet::new(),
            columns: BTreeMap::new(),
            functions: BTreeSet::new(),
            has_where: false,
            has_limit: false,
            features: BTreeSet::new(),
        });
        Saved(self.current.replace(self.statements.len() - 1))
    }

    pub(super) fn close(&mut self, saved: Saved) {
        self.current = saved.0;
    }

    fn current(&mut self) -> Option<&mut Builder> {
        self.current.and_then(|i| self.statements.get_mut(i))
    }

    pub(super) fn read(&mut self, table: String) {
        if let Some(s) = self.current() {
            s.read.insert(table);
        }
    }

    pub(super) fn written(&mut self, table: String) {
        if let Some(s) = self.current() {
            s.written.insert(table);
        }
    }

    pub(super) fn column(&mut self, table: &str, column: &str) {
        if let Some(s) = self.current() {
            s.columns
                .entry(table.to_owned())
                .or_default()
                .insert(column.to_owned());
        }
    }

    /// Records a call by its bare, lower-cased name, with the features the
    /// name implies.
    pub(super) fn function(&mut self, name: &str) {
        let name = name.to_lowercase();
        for feature in features::of_function(&name) {
            self.feature(feature);
        }
        if let Some(s) = self.current() {
            s.functions.insert(name);
        }
    }

    pub(super) fn feature(&mut self, feature: &'static str) {
        if let Some(s) = self.current() {
            s.features.insert(feature);
        }
    }

    pub(super) fn has_where(&mut self, value: bool) {
        if let Some(s) = self.current() {
            s.has_where = value;
        }
    }

    pub(super) fn has_limit(&mut self, value: bool) {
        if let Some(s) = self.current() {
            s.has_limit = value;
        }
    }

    /// Facts for a text that parsed. `statement_count` is the number of
    /// top-level statements, which the walker knows and the depth-0 count
    /// may not (an empty statement between two `;` opens nothing).
    pub(super) fn finish(self, dialect: &str, statement_count: usize) -> Facts {
        let mut sql = SqlFacts {
            dialect: dialect.to_owned(),
            statement_count: i64::try_from(statement_count).unwrap_or(i64::MAX),
            ..SqlFacts::default()
        };
        let mut kinds = BTreeSet::new();
        let mut read = BTreeSet::new();
        let mut written = BTreeSet::new();
        let mut functions = BTreeSet::new();
        let mut all_features = BTreeSet::new();
        for s in self.statements {
            kinds.insert(s.kind);
            read.extend(s.read.iter().cloned());
            written.extend(s.written.iter().cloned());
            functions.extend(s.functions.iter().cloned());
            all_features.extend(s.features.iter().copied());
            sql.statements.push(Statement {
                kind: s.kind.to_owned(),
                depth: s.depth,
                tables_read: s.read.into_iter().collect(),
                tables_written: s.written.into_iter().collect(),
                columns: s
                    .columns
                    .into_iter()
                    .map(|(table, columns)| (table, columns.into_iter().collect()))
                    .collect(),
                functions: s.functions.into_iter().collect(),
                has_where: s.has_where,
                has_limit: s.has_limit,
                features: s.features.into_iter().map(str::to_owned).collect(),
            });
        }
        sql.kinds = kinds.into_iter().map(str::to_owned).collect();
        sql.tables = read.union(&written).cloned().collect();
        sql.tables_read = read.into_iter().collect();
        sql.tables_written = written.into_iter().collect();
        sql.functions = functions.into_iter().collect();
        sql.features = all_features.into_iter().map(str::to_owned).collect();
        Facts {
            kind: "sql".to_owned(),
            sql,
            ..Facts::default()
        }
    }
}

/// Facts for a text the dialect's parser rejected: no statements, so no
/// rule about kinds or tables can mistake it for something harmless.
pub(super) fn parse_error(dialect: &str, message: String) -> Facts {
    Facts {
        kind: "sql".to_owned(),
        sql: SqlFacts {
            dialect: dialect.to_owned(),
            ..SqlFacts::default()
        },
        has_parse_error: true,
        parse_error: message,
        ..Facts::default()
    }
}
