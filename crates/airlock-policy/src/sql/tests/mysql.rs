use super::{columns, list, my, my_error, only};

#[test]
fn into_outfile_and_dumpfile() {
    let facts = my("SELECT * INTO OUTFILE '/tmp/x' FROM t");
    let select = only(&facts, "select");
    assert_eq!(select.features, list(&["into_outfile"]));
    assert_eq!(select.tables_read, list(&["t"]));
    let facts = my(
        "SELECT a FROM t WHERE b = 1 INTO OUTFILE '/var/www/x.php' CHARACTER SET utf8mb4 \
         FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\\n'",
    );
    assert_eq!(facts.sql.features, list(&["into_outfile"]));
    assert_eq!(columns(only(&facts, "select"), "t"), list(&["a", "b"]));
    let facts = my("SELECT secret FROM s INTO DUMPFILE '/tmp/x'");
    assert_eq!(facts.sql.features, list(&["into_dumpfile"]));
    // Not a file: a variable.
    assert!(my("SELECT a INTO @v FROM t").sql.features.is_empty());
}

#[test]
fn load_data_infile() {
    for text in [
        "LOAD DATA INFILE '/etc/passwd' INTO TABLE t",
        "LOAD DATA LOCAL INFILE '/tmp/x' IGNORE INTO TABLE t FIELDS TERMINATED BY ','",
        "load xml low_priority infile 'x.xml' replace into table t",
    ] {
        let facts = my(text);
        let load = only(&facts, "load");
        assert_eq!(load.features, list(&["load_data_infile"]), "{text}");
        assert_eq!(load.tables_written, list(&["t"]));
    }
    // Expressions in its SET clause are read like any others.
    let facts = my(
        "LOAD DATA INFILE '/x' INTO TABLE db.t (a, @b) SET c = LOAD_FILE(@b), d = (SELECT k FROM keys)",
    );
    assert_eq!(facts.sql.tables_written, list(&["db.t"]));
    assert_eq!(facts.sql.tables_read, list(&["keys"]));
    assert_eq!(
        facts.sql.features,
        list(&["load_data_infile", "server_file_function"])
    );
    my_error("LOAD DATA INFILE INTO TABLE t");
}

#[test]
fn load_file_reads_a_server_file() {
    let facts = my("SELECT LOAD_FILE('/etc/passwd')");
    assert_eq!(facts.sql.functions, list(&["load_file"]));
    assert_eq!(facts.sql.features, list(&["server_file_function"]));
}

#[test]
fn backtick_names_keep_their_case() {
    let facts = my("SELECT `Email`, u.Name FROM `Users` u WHERE u.id = 1");
    let select = only(&facts, "select");
    assert_eq!(select.tables_read, list(&["Users"]));
    // Column names are case-insensitive in MySQL.
    assert_eq!(columns(select, "Users"), list(&["email", "id", "name"]));
    assert_eq!(my("SELECT * FROM users").sql.tables_read, list(&["users"]));
    assert_eq!(
        my("SELECT * FROM `db`.`t`").sql.tables_read,
        list(&["db.t"])
    );
}

#[test]
fn delete_without_where() {
    let facts = my("DELETE FROM t");
    let delete = only(&facts, "delete");
    assert!(!delete.has_where);
    assert_eq!(delete.tables_written, list(&["t"]));
    assert!(delete.tables_read.is_empty());
    assert!(only(&my("DELETE FROM t WHERE id = 1 LIMIT 1"), "delete").has_where);
}

#[test]
fn multi_table_writes() {
    let facts = my("DELETE t1 FROM t1 JOIN t2 ON t1.id = t2.id WHERE t2.a = 1");
    let delete = only(&facts, "delete");
    assert_eq!(delete.tables_written, list(&["t1"]));
    assert_eq!(delete.tables_read, list(&["t2"]));
    let facts = my("UPDATE a JOIN b ON a.id = b.id SET b.x = a.y");
    let update = only(&facts, "update");
    assert_eq!(update.tables_written, list(&["b"]));
    assert_eq!(update.tables_read, list(&["a"]));
    assert!(!update.has_where);
}

#[test]
fn every_statement_is_seen() {
    let facts = my("SELECT 1; DROP TABLE t;");
    assert_eq!(facts.sql.statement_count, 2);
    assert_eq!(facts.sql.kinds, list(&["drop", "select"]));
    assert_eq!(facts.sql.tables_written, list(&["t"]));
    // `--` needs a space to start a comment in MySQL: this is 1 - -1.
    let facts = my("SELECT 1--1; DELETE FROM t");
    assert_eq!(facts.sql.kinds, list(&["delete", "select"]));
    let facts = my("SELECT 1 # DELETE FROM t");
    assert_eq!(facts.sql.kinds, list(&["select"]));
}

#[test]
fn comments_end_where_mysql_ends_them() {
    // MySQL does not nest block comments: the subquery is code.
    let facts = my("SELECT 1 /* /* */, (SELECT authentication_string FROM mysql.user) -- */");
    assert_eq!(facts.sql.tables_read, list(&["mysql.user"]));
    // Backslash escapes a quote in MySQL strings.
    let facts = my(r"SELECT 'a\'; DROP TABLE t; '");
    assert_eq!(facts.sql.kinds, list(&["select"]));
}

#[test]
fn executable_comments() {
    // Run by every supported server: analysed as code.
    let facts = my("SELECT 1 /*!, (SELECT authentication_string FROM mysql.user) */");
    assert_eq!(facts.sql.tables_read, list(&["mysql.user"]));
    let facts = my("/*!40101 SET NAMES utf8mb4 */");
    assert_eq!(facts.sql.kinds, list(&["set"]));
    // Run by some servers only: cannot be analysed.
    my_error("DELETE FROM t /*!99999 WHERE id = 1 */");
    my_error("SELECT * FROM a /*M!, secrets */");
}

#[test]
fn a_string_where_a_name_belongs_is_rejected() {
    my_error("DROP TABLE 'secrets'");
    my_error("SELECT * FROM 'secrets'");
    my_error("UPDATE t SET 'a' = 1");
    // A string alias for an output column is MySQL syntax.
    assert_eq!(my("SELECT a AS 'x' FROM t").sql.tables_read, list(&["t"]));
}

#[test]
fn ctes_and_subqueries() {
    let facts = my("WITH d AS (SELECT * FROM secrets) SELECT * FROM d");
    assert_eq!(facts.sql.tables_read, list(&["secrets"]));
    let facts = my("WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets");
    assert_eq!(
        facts
            .sql
            .statements
            .iter()
            .filter(|s| !s.tables_read.is_empty())
            .count(),
        1
    );
    let facts = my("SELECT * FROM t WHERE id IN (SELECT id FROM u) AND EXISTS (SELECT 1 FROM v)");
    assert_eq!(facts.sql.tables_read, list(&["t", "u", "v"]));
    assert_eq!(
        facts.sql.statements.iter().filter(|s| s.depth == 1).count(),
        2
    );
}

#[test]
fn has_limit() {
    assert!(only(&my("SELECT * FROM t LIMIT 10"), "select").has_limit);
    assert!(only(&my("SELECT * FROM t LIMIT 5, 10"), "select").has_limit);
    assert!(only(&my("SELECT * FROM t LIMIT ?"), "select").has_limit);
    assert!(!only(&my("SELECT * FROM t"), "select").has_limit);
    let facts = my("(SELECT a FROM t LIMIT 1) UNION (SELECT b FROM u)");
    assert_eq!(facts.sql.statements.len(), 1);
    assert!(!facts.sql.statements[0].has_limit);
}

#[test]
fn prepare_from_a_string_is_dynamic_sql() {
    let facts = my("PREPARE s FROM 'DELETE FROM t'");
    assert_eq!(only(&facts, "prepare").features, list(&["dynamic_sql"]));
    let delete = only(&facts, "delete");
    assert_eq!(delete.depth, 1);
    assert!(!delete.has_where);
    let facts = my("PREPARE s FROM @q");
    assert_eq!(facts.sql.features, list(&["dynamic_sql"]));
    assert_eq!(facts.sql.statements.len(), 1);
}

#[test]
fn server_wide_settings_and_foreign_tables() {
    assert_eq!(
        my("SET GLOBAL general_log = 'ON'").sql.features,
        list(&["alter_system"])
    );
    assert_eq!(
        my("SET @@global.general_log_file = '/var/www/x.php'")
            .sql
            .features,
        list(&["alter_system"])
    );
    assert!(my("SET @a = 1").sql.features.is_empty());
    let facts = my("CREATE TABLE f (a INT) ENGINE=FEDERATED CONNECTION='mysql://u@evil/db/t'");
    assert_eq!(facts.sql.features, list(&["foreign_data"]));
}

#[test]
fn kinds() {
    let facts = my(
        "START TRANSACTION; COMMIT; ROLLBACK; SHOW TABLES; USE db; CALL p(); \
         EXPLAIN SELECT 1; CREATE VIEW v AS SELECT 1; ALTER TABLE t ADD c INT; TRUNCATE TABLE t; \
         GRANT SELECT ON db.t TO 'u'@'%'; LOCK TABLES t READ",
    );
    assert_eq!(
        facts.sql.kinds,
        list(&[
            "alter", "begin", "call", "commit", "create", "explain", "grant", "lock", "rollback",
            "select", "show", "truncate", "use",
        ])
    );
    assert_eq!(facts.sql.functions, list(&["p"]));
    assert_eq!(facts.sql.dialect, "mysql");
}

#[test]
fn what_sqlparser_cannot_read_is_a_parse_error() {
    let message = my_error("CREATE PROCEDURE p() BEGIN DELETE FROM t; END");
    assert!(message.contains("Expected"), "{message}");
    my_error("HANDLER t READ FIRST");
    let deep = format!("SELECT 1{}", " + 1".repeat(100_000));
    my_error(&deep);
}
