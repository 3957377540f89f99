//! Turning commands into facts, with a cache.
//!
//! Parsing costs tens of microseconds; the same statement shape arrives
//! again and again with different literals. Facts are therefore cached by
//! the normalised statement (literals replaced by placeholders), except for
//! statements whose facts depend on a literal's value (a COPY target file,
//! say), which are analysed every time: the cache must never change a
//! verdict.
//!
//! A second, smaller map remembers the key of each exact text seen: a
//! prepared statement is parsed again by every execution of a client that
//! does not name it (pgbench `-M extended`, many drivers), always with the
//! same text, and finding its key costs a run of the lexer.

use std::sync::Arc;

use quick_cache::Equivalent;
use quick_cache::sync::Cache;

use airlock_policy::Facts;
use airlock_policy::sql::{self, Dialect};

use crate::command::Command;

/// Statements longer than this are not cached (nor kept as keys).
const MAX_CACHED_TEXT: usize = 16 * 1024;
/// Texts longer than this are not kept in the exact-text map, which keeps
/// it under 8 MiB: repeated prepared statements are short.
const MAX_EXACT_TEXT: usize = 4 * 1024;

/// What [`Analyser::analyse_remembering`] found.
pub enum Analysed {
    /// A text of the remembered shape.
    Remembered,
    /// Facts, with their cache key as [`Analyser::analyse_keyed`] gives.
    Fresh(Arc<Facts>, Option<String>),
}

/// The SQL dialect of a connection type: MySQL's for `mysql`, else
/// PostgreSQL's.
fn dialect_of(connection_type: &str) -> Dialect {
    match connection_type {
        "mysql" => Dialect::MySql,
        _ => Dialect::Postgres,
    }
}

pub struct Analyser {
    /// Facts by key, and whether the key stands in for a literal: known
    /// when the entry is made, instead of scanning the key on every hit.
    cache: Cache<(u8, String), (Arc<Facts>, bool)>,
    /// Exact text → its facts and cache key, for texts whose facts are
    /// in `cache`: anything cacheable by shape is cacheable by its text.
    texts: Cache<TextKey, (Arc<Facts>, String)>,
}

#[derive(Hash, PartialEq, Eq)]
struct TextKey {
    dialect: u8,
    text: Box<str>,
}

/// Looks up a [`TextKey`] without copying the text.
#[derive(Hash)]
struct TextRef<'a> {
    dialect: u8,
    text: &'a str,
}

impl Equivalent<TextKey> for TextRef<'_> {
    fn equivalent(&self, key: &TextKey) -> bool {
        self.dialect == key.dialect && self.text == &*key.text
    }
}

impl Default for Analyser {
    fn default() -> Self {
        Analyser::new()
    }
}

impl Analyser {
    pub fn new() -> Analyser {
        Analyser {
            cache: Cache::new(10_000),
            texts: Cache::new(2_000),
        }
    }

    /// Facts for a command on a connection of type `connection_type`.
    pub fn analyse(&self, connection_type: &str, command: &Command) -> Arc<Facts> {
        self.analyse_keyed(connection_type, command).0
    }

    /// Facts, and the cache key under which they are shared by every text
    /// of the same shape — `None` when they must not be shared (facts that
    /// depend on a literal's value, parse errors, shell commands). A caller
    /// may cache what it derives from the facts under the same key.
    pub fn analyse_keyed(
        &self,
        connection_type: &str,
        command: &Command,
    ) -> (Arc<Facts>, Option<String>) {
        match command {
            Command::Sql { text, .. } => self.sql(dialect_of(connection_type), text),
            Command::Shell { line } => (Arc::new(airlock_policy::shell::analyse_shell(line)), None),
        }
    }

    /// As [`Analyser::analyse_keyed`], for a caller that remembers the
    /// facts of one shape (`remembered`, its key): a SQL text of that shape
    /// is answered [`Analysed::Remembered`], without the shared cache. The
    /// facts of a shape are the same for every text of it (that is what
    /// the cache rests on), so the caller's are this text's.
    pub fn analyse_remembering(
        &self,
        connection_type: &str,
        command: &Command,
        remembered: Option<&str>,
    ) -> Analysed {
        match command {
            Command::Sql { text, .. } => {
                self.sql_remembering(dialect_of(connection_type), text, remembered)
            }
            Command::Shell { .. } => {
                let (facts, key) = self.analyse_keyed(connection_type, command);
                Analysed::Fresh(facts, key)
            }
        }
    }

    fn sql(&self, dialect: Dialect, text: &str) -> (Arc<Facts>, Option<String>) {
        match self.sql_remembering(dialect, text, None) {
            Analysed::Fresh(facts, key) => (facts, key),
            // Nothing is remembered, so nothing is answered from it; were
            // it, fresh facts that are not shared are always right.
            Analysed::Remembered => (Arc::new(sql::analyse(dialect, text)), None),
        }
    }

    /// [`Analysed::Remembered`] when the text has the `remembered` shape.
    fn sql_remembering(&self, dialect: Dialect, text: &str, remembered: Option<&str>) -> Analysed {
        if text.len() > MAX_CACHED_TEXT {
            return Analysed::Fresh(Arc::new(sql::analyse(dialect, text)), None);
        }
        let exact = TextRef {
            dialect: dialect as u8,
            text,
        };
        if let Some((facts, key)) = self.texts.get(&exact) {
            return Analysed::Fresh(facts, Some(key));
        }
        let Some(key) = sql::normalize(dialect, text) else {
            return Analysed::Fresh(Arc::new(sql::analyse(dialect, text)), None);
        };
        if remembered == Some(key.as_str()) {
            return Analysed::Remembered;
        }
        let key = (dialect as u8, key);
        let (facts, has_literal) = match self.cache.get(&key) {
            Some(hit) => hit,
            None => {
                let facts = Arc::new(sql::analyse(dialect, text));
                if facts.has_parse_error || sql::literal_sensitive(&facts) {
                    return Analysed::Fresh(facts, None);
                }
                let has_literal = sql::key_has_literal(&key.1);
                self.cache.insert(key.clone(), (facts.clone(), has_literal));
                (facts, has_literal)
            }
        };
        // A text with literal values in it is seldom sent again as it is
        // (`... where aid = 7`, then `= 8`): kept, it would only push out
        // the prepared statements' texts the map is for.
        if text.len() <= MAX_EXACT_TEXT && !has_literal {
            self.texts.insert(
                TextKey {
                    dialect: exact.dialect,
                    text: text.into(),
                },
                (facts.clone(), key.1.clone()),
            );
        }
        Analysed::Fresh(facts, Some(key.1))
    }

    /// Analysis without the cache (for tests and benchmarks comparing both).
    pub fn uncached(&self, connection_type: &str, command: &Command) -> Arc<Facts> {
        match command {
            Command::Sql { text, .. } => {
                let dialect = if connection_type == "mysql" {
                    Dialect::MySql
                } else {
                    Dialect::Postgres
                };
                Arc::new(sql::analyse(dialect, text))
            }
            Command::Shell { .. } => self.analyse(connection_type, command),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(text: &str) -> Command {
        Command::Sql {
            text: text.into(),
            param_count: 0,
        }
    }

    /// The cache must never change a verdict: for statements that differ
    /// only in literals, facts served from the cache equal a fresh analysis.
    #[test]
    fn cached_and_uncached_facts_agree() {
        let a = Analyser::new();
        let corpus = [
            "select * from users where id = 1",
            "select * from users where id = 2",
            "select * from users where id = 'x' limit 5",
            "delete from t where id = 7",
            "update accounts set balance = balance - 10 where id = 3",
            // An empty file name parses like STDOUT; it must not lend its
            // facts (no file feature) to a real file name of the same shape.
            "copy t to ''",
            "copy t to '/tmp/a.csv'",
            "copy t to '/tmp/b.csv'",
            "copy t to program 'curl http://x'",
            "select pg_read_file('/etc/passwd')",
            "select query_to_xml('delete from t', true, false, '')",
            "select query_to_xml('select 1', true, false, '')",
            "select set_config('search_path', 'evil', false)",
            "insert into t values (1, 'a'), (2, 'b')",
            "with d as (delete from t returning *) select * from d",
            "select 1; delete from t",
        ];
        // Twice through the cache, interleaved, then against fresh analyses.
        for _ in 0..2 {
            for text in corpus {
                let cached = a.analyse("postgres", &sql(text));
                let fresh = a.uncached("postgres", &sql(text));
                assert_eq!(*cached, *fresh, "facts differ for {text}");
            }
        }
    }

    /// A text seen before is answered from the exact-text map with the key
    /// its shape has; texts that may not be cached never enter it.
    #[test]
    fn exact_texts_answer_like_their_shape() {
        let a = Analyser::new();
        let text = "select abalance from pgbench_accounts where aid = $1";
        let (first, key) = a.analyse_keyed("postgres", &sql(text));
        assert!(key.is_some());
        assert_eq!(a.texts.len(), 1);
        let (again, again_key) = a.analyse_keyed("postgres", &sql(text));
        assert!(Arc::ptr_eq(&first, &again), "served from the map");
        assert_eq!(again_key, key);
        // A text with a literal shares its shape's key and facts, but is
        // not kept as a text of its own.
        let other = "select abalance from pgbench_accounts where aid = 7";
        let (other_facts, other_key) = a.analyse_keyed("postgres", &sql(other));
        assert!(other_key.is_some());
        assert_eq!(a.analyse_keyed("postgres", &sql(other)).1, other_key);
        let (_, shape_key) = a.analyse_keyed(
            "postgres",
            &sql("select abalance from pgbench_accounts where aid = 8"),
        );
        assert_eq!(shape_key, other_key);
        assert_eq!(*other_facts, *a.uncached("postgres", &sql(other)));

        for literal_sensitive in ["copy t to '/tmp/a.csv'", "select 1 +"] {
            for _ in 0..2 {
                let (_, key) = a.analyse_keyed("postgres", &sql(literal_sensitive));
                assert_eq!(key, None, "{literal_sensitive}");
            }
        }
        assert_eq!(a.texts.len(), 1, "only the text without literals");
    }
}
