//! The analysers never panic, and give the same facts for the same text.

use proptest::prelude::*;

use crate::sql::{Dialect, analyse, literal_sensitive, normalize};

fn check(text: &str) -> Result<(), TestCaseError> {
    for dialect in [Dialect::Postgres, Dialect::MySql] {
        let facts = analyse(dialect, text);
        prop_assert_eq!(&facts, &analyse(dialect, text));
        prop_assert_eq!(normalize(dialect, text), normalize(dialect, text));
        literal_sensitive(&facts);
        prop_assert_eq!(facts.kind.as_str(), "sql");
        prop_assert!(facts.has_parse_error || facts.parse_error.is_empty());
        prop_assert!(!facts.has_parse_error || facts.sql.statements.is_empty());
        for list in [
            &facts.sql.kinds,
            &facts.sql.tables,
            &facts.sql.functions,
            &facts.sql.features,
        ] {
            prop_assert!(list.windows(2).all(|w| w[0] < w[1]), "unsorted {:?}", list);
        }
    }
    Ok(())
}

/// Pieces of SQL, so that random texts often parse and reach the walkers.
const PIECES: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "(",
    ")",
    "*",
    ",",
    ";",
    "t",
    "u.x",
    "'s'",
    "1",
    "$1",
    "?",
    "WITH",
    "x",
    "AS",
    "DELETE",
    "INSERT INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "=",
    "UNION",
    "LIMIT",
    "ALL",
    "NULL",
    "JOIN",
    "ON",
    "RETURNING",
    "EXPLAIN ANALYZE",
    "PREPARE p AS",
    "COPY",
    "TO",
    "PROGRAM",
    "STDOUT",
    "DO $$ x $$",
    "pg_read_file(",
    "query_to_xml('select 1',",
    "INTO OUTFILE '/x'",
    "LOAD DATA INFILE 'f' INTO TABLE",
    "PREPARE s FROM",
    "/*!",
    "*/",
    "--",
    "\n",
    "`b`",
    "\"Q\"",
    "LATERAL",
    "ORDER BY",
    "GROUP BY",
    "FOR UPDATE",
    "RECURSIVE",
    "CREATE TABLE",
    "DROP TABLE",
    "TABLE",
    "MERGE INTO",
    "USING",
    "WHEN MATCHED THEN",
    "+",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn sql_like_text(pieces in prop::collection::vec(prop::sample::select(PIECES), 0..40)) {
        check(&pieces.join(" "))?;
    }
}

/// libpg_query keeps its state per thread: concurrent parses must agree
/// with sequential ones.
#[test]
fn postgres_analysis_is_thread_safe() {
    let texts: Vec<String> = (0..200)
        .map(|i| match i % 3 {
            0 => format!(
                "WITH d AS (DELETE FROM t{i} RETURNING *) SELECT u.a, {i} FROM users u JOIN d ON d.id = u.id"
            ),
            1 => format!("SELECT pg_read_file('/f{i}') LIMIT {i}; SELECT query_to_xml('TABLE s{i}', true, true, '')"),
            _ => format!("SELEC {i}"),
        })
        .collect();
    let expected: Vec<_> = texts
        .iter()
        .map(|t| {
            (
                analyse(Dialect::Postgres, t),
                normalize(Dialect::Postgres, t),
            )
        })
        .collect();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..5 {
                    for (text, expected) in texts.iter().zip(&expected) {
                        let got = (
                            analyse(Dialect::Postgres, text),
                            normalize(Dialect::Postgres, text),
                        );
                        assert_eq!(&got, expected);
                    }
                }
            });
        }
    });
}
