//! What analysis learns about a command. These types are the vocabulary of
//! rules: every field here is reachable from CEL as `facts.…`, so names are
//! part of the rule language and change only with care.
//!
//! Lists are sorted and de-duplicated so the same command always yields the
//! same facts (and the same cache key).

use std::collections::BTreeMap;

use serde::Serialize;

/// Facts about one command. Exactly one of `sql`, `shell`, `http` describes
/// it (named by `kind`); the others are empty so that a rule written for
/// one kind evaluates to false, not to an error, on another.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facts {
    /// `sql`, `shell` or `http`.
    pub kind: String,
    pub sql: SqlFacts,
    pub shell: ShellFacts,
    pub http: HttpFacts,
    /// The analyser could not read the command; `parse_error` says why.
    pub has_parse_error: bool,
    pub parse_error: String,
    /// The parse error is the dialect's grammar rejecting the text, so the
    /// server rejects it too (PostgreSQL, whose grammar the analyser is).
    /// False when the analyser gave up for a reason of its own — a text
    /// nested deeper than it can follow, which the server may well run —
    /// and whenever it cannot tell (MySQL, shell, HTTP).
    pub syntax_error: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SqlFacts {
    /// `postgres` or `mysql`.
    pub dialect: String,
    /// Every statement in the text, nested ones included (a DELETE inside
    /// a CTE, under EXPLAIN ANALYZE, in PREPARE … AS, in CREATE … AS).
    pub statements: Vec<Statement>,
    /// Top-level statements in the text (`select 1; select 2` → 2).
    pub statement_count: i64,
    /// Union over `statements`.
    pub kinds: Vec<String>,
    pub tables_read: Vec<String>,
    pub tables_written: Vec<String>,
    pub tables: Vec<String>,
    pub functions: Vec<String>,
    pub features: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Statement {
    /// `select`, `insert`, `update`, `delete`, `merge`, `copy`, `create`,
    /// `alter`, `drop`, `truncate`, `grant`, `revoke`, `set`, `call`, `do`,
    /// `begin`, `commit`, `rollback`, `explain`, `prepare`, `execute`,
    /// `show`, `vacuum`, `analyze`, `lock`, `listen`, `notify`, `other`, …
    pub kind: String,
    /// Nesting depth: 0 for a top-level statement.
    pub depth: i64,
    /// Tables read, schema-qualified where the text qualifies them and
    /// case-normalised as the dialect does (`"Users"` stays `Users`,
    /// `USERS` becomes `users` in PostgreSQL).
    pub tables_read: Vec<String>,
    pub tables_written: Vec<String>,
    /// Columns named per table (`*` when the statement selects all).
    pub columns: BTreeMap<String, Vec<String>>,
    /// Functions called, unqualified and lower-cased (`pg_catalog.lo_export`
    /// → `lo_export`), so a schema prefix cannot dodge a rule.
    pub functions: Vec<String>,
    /// For UPDATE and DELETE: whether a WHERE clause limits them.
    pub has_where: bool,
    /// For SELECT: whether a LIMIT (or FETCH FIRST) bounds it.
    pub has_limit: bool,
    /// Exfiltration-relevant features: `copy_to_program`, `copy_to_file`,
    /// `copy_from_program`, `copy_from_file`, `into_outfile`,
    /// `into_dumpfile`, `load_data_infile`, `server_file_function`,
    /// `dblink`, `foreign_data`, `dynamic_sql`, `code_block`.
    pub features: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ShellFacts {
    /// Every simple command, including those inside `$(…)`, backticks,
    /// `sh -c '…'`, and behind `env`, `sudo`, `xargs`, `nohup`, `timeout`.
    pub commands: Vec<SimpleCommand>,
    /// Program names (basename) of all commands.
    pub programs: Vec<String>,
    /// Files written by redirections (`>`, `>>`, `&>`, `tee`).
    pub writes: Vec<String>,
    /// Hosts reached by network tools (`curl`, `wget`, `scp`, `rsync`,
    /// `nc`, `ssh`, …), without user or port.
    pub hosts: Vec<String>,
    pub has_pipe: bool,
    pub has_substitution: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SimpleCommand {
    pub program: String,
    pub argv: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HttpFacts {
    pub method: String,
    pub scheme: String,
    pub host: String,
    pub port: i64,
    pub path: String,
    pub query_keys: Vec<String>,
    /// Lower-cased.
    pub header_names: Vec<String>,
    /// From Content-Length; -1 when not declared.
    pub body_size: i64,
}
