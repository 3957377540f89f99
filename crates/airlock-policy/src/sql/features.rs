//! Feature names (the `features` fact) and which function calls imply
//! them. Shared by both dialects: a MySQL text calling `pg_read_file` is
//! harmless, but naming it costs nothing and keeps one list.

pub(super) const COPY_TO_PROGRAM: &str = "copy_to_program";
pub(super) const COPY_TO_FILE: &str = "copy_to_file";
pub(super) const COPY_FROM_PROGRAM: &str = "copy_from_program";
pub(super) const COPY_FROM_FILE: &str = "copy_from_file";
pub(super) const INTO_OUTFILE: &str = "into_outfile";
pub(super) const INTO_DUMPFILE: &str = "into_dumpfile";
pub(super) const LOAD_DATA_INFILE: &str = "load_data_infile";
pub(super) const SERVER_FILE_FUNCTION: &str = "server_file_function";
pub(super) const DBLINK: &str = "dblink";
pub(super) const FOREIGN_DATA: &str = "foreign_data";
pub(super) const DYNAMIC_SQL: &str = "dynamic_sql";
pub(super) const CODE_BLOCK: &str = "code_block";
pub(super) const ALTER_SYSTEM: &str = "alter_system";

/// Functions that read, write or list files on the database server.
/// PostgreSQL core and adminpack, and MySQL's `LOAD_FILE`. Large-object
/// functions other than `lo_import`/`lo_export` move data between tables
/// and large objects, not files, so they are only `functions` facts.
const SERVER_FILE_FUNCTIONS: &[&str] = &[
    "pg_read_file",
    "pg_read_binary_file",
    "pg_stat_file",
    "pg_ls_dir",
    "pg_ls_logdir",
    "pg_ls_waldir",
    "pg_ls_tmpdir",
    "pg_ls_archive_statusdir",
    "pg_ls_logicalsnapdir",
    "pg_ls_logicalmapdir",
    "pg_ls_replslotdir",
    "pg_ls_summariesdir",
    "lo_import",
    "lo_export",
    "pg_file_write",
    "pg_file_rename",
    "pg_file_unlink",
    "pg_file_sync",
    "pg_file_read",
    "pg_file_length",
    "pg_logdir_ls",
    "load_file",
];

/// Functions that run SQL handed to them as a string (or, for the
/// `table_`/`schema_`/`database_to_xml` family and `connectby`, read
/// relations named by a string), so the analyser cannot see what they read
/// or write. dblink's are added below by prefix.
const DYNAMIC_SQL_FUNCTIONS: &[&str] = &[
    "query_to_xml",
    "query_to_xmlschema",
    "query_to_xml_and_xmlschema",
    "cursor_to_xml",
    "cursor_to_xmlschema",
    "table_to_xml",
    "table_to_xmlschema",
    "table_to_xml_and_xmlschema",
    "schema_to_xml",
    "schema_to_xmlschema",
    "schema_to_xml_and_xmlschema",
    "database_to_xml",
    "database_to_xmlschema",
    "database_to_xml_and_xmlschema",
    "ts_stat",
    "ts_rewrite",
    "crosstab",
    "crosstab2",
    "crosstab3",
    "crosstab4",
    "connectby",
    "dblink",
    "dblink_exec",
    "dblink_open",
    "dblink_send_query",
];

/// Functions whose first argument, when it is a string literal, is SQL
/// the analyser reads as nested statements.
pub(super) const SQL_TEXT_FUNCTIONS: &[&str] = &[
    "query_to_xml",
    "query_to_xmlschema",
    "query_to_xml_and_xmlschema",
    "ts_stat",
    "crosstab",
    "crosstab2",
    "crosstab3",
    "crosstab4",
];

/// Functions whose effect depends on a literal argument's value in a way
/// no fact shows (which setting `set_config` changes, which sequence
/// `nextval` advances): facts about them must not be served from a cache
/// keyed with literals removed.
const LITERAL_DEPENDENT_FUNCTIONS: &[&str] = &[
    "set_config",
    "nextval",
    "setval",
    "currval",
    "pg_advisory_lock",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "lo_get",
    "lo_put",
    "lo_open",
    "lo_unlink",
    "lo_from_bytea",
];

/// Features that a call to `name` (bare, lower-cased) implies.
pub(super) fn of_function(name: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    if SERVER_FILE_FUNCTIONS.contains(&name) {
        out.push(SERVER_FILE_FUNCTION);
    }
    if name.starts_with("dblink") {
        out.push(DBLINK);
    }
    if name.starts_with("postgres_fdw") {
        out.push(FOREIGN_DATA);
    }
    if DYNAMIC_SQL_FUNCTIONS.contains(&name) {
        out.push(DYNAMIC_SQL);
    }
    out
}

/// Features whose facts depend on a literal: a file path, SQL inside a
/// string (analysed as nested statements), a code body the cache key
/// reduces to a placeholder.
const LITERAL_DEPENDENT_FEATURES: &[&str] = &[
    COPY_TO_PROGRAM,
    COPY_TO_FILE,
    COPY_FROM_PROGRAM,
    COPY_FROM_FILE,
    INTO_OUTFILE,
    INTO_DUMPFILE,
    LOAD_DATA_INFILE,
    SERVER_FILE_FUNCTION,
    DBLINK,
    FOREIGN_DATA,
    DYNAMIC_SQL,
    CODE_BLOCK,
];

pub(super) fn literal_dependent(features: &[String], functions: &[String]) -> bool {
    features
        .iter()
        .any(|f| LITERAL_DEPENDENT_FEATURES.contains(&f.as_str()))
        || functions
            .iter()
            .any(|f| LITERAL_DEPENDENT_FUNCTIONS.contains(&f.as_str()))
}
