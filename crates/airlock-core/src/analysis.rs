//! Turning commands into facts, with a cache.
//!
//! Parsing costs tens of microseconds; the same statement shape arrives
//! again and again with different literals. Facts are therefore cached by
//! the normalised statement (literals replaced by placeholders), except for
//! statements whose facts depend on a literal's value (a COPY target file,
//! say), which are analysed every time: the cache must never change a
//! verdict.

use std::sync::Arc;

use quick_cache::sync::Cache;

use airlock_policy::Facts;
use airlock_policy::sql::{self, Dialect};

use crate::command::Command;

/// Statements longer than this are not cached (nor kept as keys).
const MAX_CACHED_TEXT: usize = 16 * 1024;

pub struct Analyser {
    cache: Cache<(u8, String), Arc<Facts>>,
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
            Command::Sql { text, .. } => {
                let dialect = match connection_type {
                    "mysql" => Dialect::MySql,
                    _ => Dialect::Postgres,
                };
                self.sql(dialect, text)
            }
            Command::Shell { line } => (Arc::new(airlock_policy::shell::analyse_shell(line)), None),
        }
    }

    fn sql(&self, dialect: Dialect, text: &str) -> (Arc<Facts>, Option<String>) {
        if text.len() > MAX_CACHED_TEXT {
            return (Arc::new(sql::analyse(dialect, text)), None);
        }
        let Some(key) = sql::normalize(dialect, text) else {
            return (Arc::new(sql::analyse(dialect, text)), None);
        };
        let key = (dialect as u8, key);
        if let Some(hit) = self.cache.get(&key) {
            return (hit, Some(key.1));
        }
        let facts = Arc::new(sql::analyse(dialect, text));
        if !facts.has_parse_error && !sql::literal_sensitive(&facts) {
            self.cache.insert(key.clone(), facts.clone());
            return (facts, Some(key.1));
        }
        (facts, None)
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
}
