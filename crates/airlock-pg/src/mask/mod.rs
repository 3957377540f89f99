//! Masking of results in the PostgreSQL data path: which columns of a
//! result are masked and how (`plan`), the catalog names behind table
//! OIDs (`catalog`), and the rewriting of messages (`rewrite`).

pub mod catalog;
pub mod fields;
pub mod plan;
pub mod rewrite;

use airlock_core::masking::{ColumnRule, MaskPolicy};
use airlock_policy::Facts;

/// What masking a statement's results are subject to, decided with its
/// verdict.
#[derive(Debug)]
pub struct StatementMask {
    /// Configured column rules and those of `action: mask` rules.
    pub rules: Vec<ColumnRule>,
    /// The statement names a column some rule covers (see
    /// [`plan::Shape::mentions_masked`]).
    pub mentions_masked: bool,
}

impl StatementMask {
    /// The mask of a statement no column rule applies to: its results are
    /// scanned by the detectors alone. What `new` makes without rules.
    pub fn unruled() -> StatementMask {
        StatementMask {
            rules: Vec::new(),
            mentions_masked: false,
        }
    }

    pub fn new(policy: &MaskPolicy, verdict_columns: &[String], facts: &Facts) -> StatementMask {
        let mut rules = policy.column_rules().to_vec();
        // Patterns were checked when the configuration loaded.
        rules.extend(
            verdict_columns
                .iter()
                .filter_map(|c| ColumnRule::labelled(c).ok()),
        );
        let mentions_masked = !rules.is_empty()
            && facts.sql.statements.iter().any(|s| {
                s.columns.iter().any(|(table, columns)| {
                    columns.iter().any(|c| {
                        rules
                            .iter()
                            .any(|r| r.pattern.covers_source(std::slice::from_ref(table), c))
                    })
                })
            });
        StatementMask {
            rules,
            mentions_masked,
        }
    }

    /// The (table, columns) a COPY … TO STDOUT in these facts sends
    /// (`*`: every column of the table), or `None` when there is no such
    /// COPY. COPY output is not split into columns on the way, so no
    /// column rule may cover any of them. (COPY FROM STDIN sends data the
    /// other way.)
    pub fn copy_out_columns(facts: &Facts) -> Option<Vec<(String, Vec<String>)>> {
        let copy_out = facts
            .sql
            .statements
            .iter()
            .any(|s| s.kind == "copy" && s.tables_written.is_empty());
        copy_out.then(|| {
            facts
                .sql
                .statements
                .iter()
                .flat_map(|s| s.columns.iter())
                .map(|(t, c)| (t.clone(), c.clone()))
                .collect()
        })
    }

    /// The first rule covering `table.column` as the analyser names it.
    pub fn covering(&self, table: &str, column: &str) -> Option<&ColumnRule> {
        self.rules.iter().find(|r| {
            r.pattern
                .covers_source(std::slice::from_ref(&table.to_string()), column)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock_core::masking::MaskingConfig;
    use airlock_policy::sql::{self, Dialect};

    #[test]
    fn without_column_rules_every_statement_gets_the_unruled_mask() {
        let policy =
            MaskPolicy::build(&MaskingConfig::default(), std::path::Path::new("/unused")).unwrap();
        assert!(policy.column_rules().is_empty());
        let unruled = StatementMask::unruled();
        for text in [
            "select card, email from customers",
            "select * from secrets where id = 1",
            "update users set password = 'x' where id = 2",
        ] {
            let facts = sql::analyse(Dialect::Postgres, text);
            let mask = StatementMask::new(&policy, &[], &facts);
            assert_eq!(mask.rules.len(), unruled.rules.len(), "{text}");
            assert_eq!(mask.mentions_masked, unruled.mentions_masked, "{text}");
        }
        // A verdict's mask columns make it a ruled mask.
        let facts = sql::analyse(Dialect::Postgres, "select card from customers");
        let ruled = StatementMask::new(&policy, &["customers.card".to_string()], &facts);
        assert!(!ruled.rules.is_empty() && ruled.mentions_masked);
    }
}
