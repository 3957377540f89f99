//! The cache contract: same key → same facts, unless `literal_sensitive`.

use proptest::prelude::*;

use crate::sql::{Dialect, analyse, literal_sensitive, normalize};

fn key(dialect: Dialect, text: &str) -> String {
    normalize(dialect, text).unwrap_or_else(|| panic!("no key for {text}"))
}

#[test]
fn literals_do_not_change_the_key() {
    for dialect in [Dialect::Postgres, Dialect::MySql] {
        let a = "select * from t where id = 1 and name = 'a'";
        let b = "select * from t where id = 2 and name = 'it''s'";
        assert_eq!(key(dialect, a), key(dialect, b));
        assert_eq!(analyse(dialect, a), analyse(dialect, b));
        assert!(!literal_sensitive(&analyse(dialect, a)));
        // Comments and spacing are not part of the grammar either.
        assert_eq!(key(dialect, "select  1 /* x */"), key(dialect, "select 2"));
    }
}

#[test]
fn what_decides_facts_stays_in_the_key() {
    let pg = |text| key(Dialect::Postgres, text);
    // pg_query::normalize would turn all three into `LIMIT $1`.
    assert_ne!(
        pg("select * from t limit 5"),
        pg("select * from t limit all")
    );
    assert_ne!(
        pg("select * from t limit 5"),
        pg("select * from t limit null")
    );
    assert_ne!(pg("select $1"), pg("select 1"));
    assert_ne!(pg(r#"select * from "Users""#), pg("select * from users"));
    assert_ne!(pg(r#"select "a b""#), pg(r#"select "a" b"#));
    assert_ne!(pg("select 1"), pg("select '1'"));
    let my = |text| key(Dialect::MySql, text);
    assert_ne!(
        my("SELECT * FROM t LIMIT 5"),
        my("SELECT * FROM t LIMIT NULL")
    );
    assert_ne!(my("SELECT * FROM `t`"), my("SELECT * FROM `T`"));
    assert_ne!(my(r#"SELECT * FROM "t""#), my(r#"SELECT * FROM "u""#));
    assert_eq!(normalize(Dialect::MySql, "SELECT 1 /*!, 2 */"), None);
    assert_eq!(normalize(Dialect::Postgres, "select 'unterminated"), None);
}

#[test]
fn facts_that_depend_on_literals_are_marked() {
    for text in [
        "COPY t TO '/tmp/a'",
        "COPY t FROM PROGRAM 'id'",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT query_to_xml('select * from secrets', true, true, '')",
        "SELECT set_config('search_path', 'evil', false)",
        "SELECT nextval('s')",
        "DO $$ BEGIN END $$",
        "CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql",
        "SELEC 1",
    ] {
        assert!(
            literal_sensitive(&analyse(Dialect::Postgres, text)),
            "{text}"
        );
    }
    for text in [
        "SELECT * FROM t INTO OUTFILE '/tmp/x'",
        "LOAD DATA INFILE '/x' INTO TABLE t",
        "PREPARE s FROM 'DELETE FROM t'",
        "SELECT LOAD_FILE('/etc/passwd')",
        "SELECT 1 1",
    ] {
        assert!(literal_sensitive(&analyse(Dialect::MySql, text)), "{text}");
    }
    for text in [
        "SELECT * FROM t WHERE a = 1 LIMIT 10",
        "UPDATE t SET a = 'x' WHERE id = 3",
    ] {
        assert!(
            !literal_sensitive(&analyse(Dialect::Postgres, text)),
            "{text}"
        );
        assert!(!literal_sensitive(&analyse(Dialect::MySql, text)), "{text}");
    }
}

/// Texts with literal slots (`#`), and literals to fill them with.
const TEMPLATES: &[&str] = &[
    "SELECT a, b FROM t WHERE id = # AND name <> # LIMIT #",
    "SELECT * FROM t ORDER BY a OFFSET # LIMIT #",
    "UPDATE t SET a = #, b = # WHERE id IN (#, #)",
    "DELETE FROM t WHERE created < # AND kind = #",
    "INSERT INTO t (a, b) VALUES (#, #), (#, #)",
    "SELECT x FROM (SELECT # AS x FROM u WHERE u.k = #) s WHERE x > #",
    "COPY t TO #",
    "SELECT query_to_xml(#, true, true, '')",
    "SELECT * FROM t WHERE a = # UNION SELECT * FROM u LIMIT #",
];

fn literal() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..100_000).prop_map(|n| n.to_string()),
        "[a-z/ ]{0,12}".prop_map(|s| format!("'{s}'")),
        Just("'select * from secrets'".to_owned()),
        Just("'/etc/passwd'".to_owned()),
        Just("1.5".to_owned()),
    ]
}

fn fill(template: &str, literals: &[String]) -> String {
    let mut out = String::new();
    let mut literals = literals.iter().cycle();
    for (i, part) in template.split('#').enumerate() {
        if i > 0 {
            out.push_str(literals.next().map_or("1", String::as_str));
        }
        out.push_str(part);
    }
    out
}

proptest! {
    #[test]
    fn same_key_same_facts_unless_literal_sensitive(
        template in prop::sample::select(TEMPLATES),
        a in prop::collection::vec(literal(), 1..6),
        b in prop::collection::vec(literal(), 1..6),
        mysql in any::<bool>(),
    ) {
        let dialect = if mysql { Dialect::MySql } else { Dialect::Postgres };
        let (a, b) = (fill(template, &a), fill(template, &b));
        if let (Some(key_a), Some(key_b)) = (normalize(dialect, &a), normalize(dialect, &b))
            && key_a == key_b
        {
            let (facts_a, facts_b) = (analyse(dialect, &a), analyse(dialect, &b));
            if !literal_sensitive(&facts_a) {
                prop_assert_eq!(facts_a, facts_b, "{} / {}", a, b);
            }
        }
    }
}
