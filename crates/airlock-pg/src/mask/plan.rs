//! What to do with each column of a result, decided once per
//! RowDescription and then applied to every row.

use std::sync::Arc;

use airlock_core::masking::{ColumnRule, MaskPolicy, Style};
use airlock_policy::sql::{ColumnSource, OutputColumn};

use super::catalog::ColumnName;
use super::fields::{Field, TypeClass, type_class};

#[derive(Debug, Clone)]
pub enum Action {
    Pass,
    /// Detectors over the value; `skip` leading bytes are not text (the
    /// version byte of binary jsonb).
    Scan {
        skip: usize,
    },
    /// A column rule: the value is replaced whole.
    Whole {
        style: Style,
        label: Arc<str>,
        class: TypeClass,
        binary: bool,
    },
}

/// The masking of one result shape.
#[derive(Debug)]
pub struct RowPlan {
    pub actions: Vec<Action>,
    pub policy: Arc<MaskPolicy>,
}

impl RowPlan {
    /// Does any column need looking at?
    pub fn is_active(&self) -> bool {
        self.actions.iter().any(|a| !matches!(a, Action::Pass))
    }
}

/// Everything known about a result's columns when its RowDescription
/// arrives.
pub struct Shape<'a> {
    pub fields: &'a [Field],
    /// Catalog names of the columns with a table OID; `None` where the
    /// catalog could not say (such a column is masked whole when any column
    /// rule is in force: it might be one of theirs).
    pub names: &'a [Option<ColumnName>],
    /// Column rules in force for this statement (configured and from
    /// `action: mask` rules).
    pub rules: &'a [ColumnRule],
    /// The analyser's lineage of the statement's result, when it has one.
    pub lineage: Option<&'a [OutputColumn]>,
    /// The statement names a column some rule covers: without lineage,
    /// every computed column is then masked.
    pub mentions_masked: bool,
}

pub fn plan(policy: Arc<MaskPolicy>, shape: &Shape<'_>) -> RowPlan {
    let sources = shape.lineage.and_then(|l| align(l, shape.fields.len()));
    let actions = shape
        .fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let class = type_class(field.type_oid);
            let binary = field.format == 1;
            let whole = |style: Style, label: &str| Action::Whole {
                style,
                label: Arc::from(label),
                class,
                binary,
            };
            if !shape.rules.is_empty() {
                if field.table_oid != 0 {
                    match shape.names.get(i).and_then(|n| n.as_ref()) {
                        Some(name) => {
                            if let Some(rule) = shape.rules.iter().find(|r| {
                                r.pattern.matches(&name.schema, &name.table, &name.column)
                            }) {
                                return whole(rule.style.clone(), rule.pattern.as_str());
                            }
                        }
                        None => return whole(Style::Label, "unresolved"),
                    }
                } else {
                    match &sources {
                        Some(sources) => {
                            if let Some(rule) = covering(shape.rules, &sources[i]) {
                                return whole(rule.style.clone(), rule.pattern.as_str());
                            }
                        }
                        None if shape.mentions_masked => {
                            return whole(Style::Label, "expression");
                        }
                        None => {}
                    }
                }
            }
            if !policy.detectors_on() {
                return Action::Pass;
            }
            match (class, binary) {
                (TypeClass::Opaque, _) => Action::Pass,
                (TypeClass::Jsonb, true) => Action::Scan { skip: 1 },
                (TypeClass::Other, true) => Action::Pass,
                _ => Action::Scan { skip: 0 },
            }
        })
        .collect();
    RowPlan { actions, policy }
}

fn covering<'r>(rules: &'r [ColumnRule], sources: &[ColumnSource]) -> Option<&'r ColumnRule> {
    rules.iter().find(|r| {
        sources
            .iter()
            .any(|s| r.pattern.covers_source(&s.tables, &s.column))
    })
}

/// The sources of each of `n` result columns: entries before the first
/// star by position from the front, after the last star from the back,
/// and everything between from the union of the entries there. `None`
/// when the lineage cannot describe `n` columns.
fn align(lineage: &[OutputColumn], n: usize) -> Option<Vec<Vec<ColumnSource>>> {
    let sources = |c: &OutputColumn| match c {
        OutputColumn::Expr(s) | OutputColumn::Star(s) => s.clone(),
    };
    let is_star = |c: &&OutputColumn| matches!(c, OutputColumn::Star(_));
    let Some(first) = lineage.iter().position(|c| is_star(&c)) else {
        return (lineage.len() == n).then(|| lineage.iter().map(sources).collect());
    };
    let last = lineage.iter().rposition(|c| is_star(&c)).unwrap_or(first);
    let tail = lineage.len() - 1 - last;
    if first + tail > n {
        return None;
    }
    let middle: Vec<ColumnSource> = lineage[first..=last].iter().flat_map(sources).collect();
    let mut out = Vec::with_capacity(n);
    out.extend(lineage[..first].iter().map(sources));
    out.extend(std::iter::repeat_n(middle, n - first - tail));
    out.extend(lineage[last + 1..].iter().map(sources));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(table: &str, column: &str) -> ColumnSource {
        ColumnSource {
            tables: vec![table.into()],
            column: column.into(),
        }
    }

    #[test]
    fn stars_absorb_the_columns_between_front_and_back() {
        let lineage = vec![
            OutputColumn::Expr(vec![src("users", "id")]),
            OutputColumn::Star(vec![src("users", "*")]),
            OutputColumn::Expr(vec![src("users", "email")]),
        ];
        let aligned = align(&lineage, 5).unwrap();
        assert_eq!(aligned[0], vec![src("users", "id")]);
        assert_eq!(aligned[1], vec![src("users", "*")]);
        assert_eq!(aligned[3], vec![src("users", "*")]);
        assert_eq!(aligned[4], vec![src("users", "email")]);
        assert!(align(&lineage, 1).is_none());
        let plain = vec![OutputColumn::Expr(vec![]), OutputColumn::Expr(vec![])];
        assert!(align(&plain, 2).is_some());
        assert!(
            align(&plain, 3).is_none(),
            "a count mismatch is not guessed at"
        );
    }
}

#[cfg(test)]
mod plan_tests {
    use airlock_core::masking::{ColumnPattern, MaskingConfig};

    use super::*;

    fn policy() -> Arc<MaskPolicy> {
        Arc::new(
            MaskPolicy::build(&MaskingConfig::default(), std::path::Path::new("/unused")).unwrap(),
        )
    }

    fn rule(p: &str) -> ColumnRule {
        ColumnRule {
            pattern: ColumnPattern::parse(p).unwrap(),
            style: Style::Label,
        }
    }

    fn field(table_oid: u32, type_oid: u32) -> Field {
        Field {
            table_oid,
            attnum: 1,
            type_oid,
            format: 0,
        }
    }

    fn name(t: &str, c: &str) -> Option<ColumnName> {
        Some(ColumnName {
            schema: "public".into(),
            table: t.into(),
            column: c.into(),
        })
    }

    fn label(a: &Action) -> Option<&str> {
        match a {
            Action::Whole { label, .. } => Some(label),
            _ => None,
        }
    }

    #[test]
    fn catalog_names_decide_plain_columns_and_unknown_ones_are_masked() {
        let fields = [field(1, 25), field(1, 25), field(2, 25), field(1, 23)];
        let names = [
            name("users", "email"),
            name("users", "name"),
            None,
            name("users", "id"),
        ];
        let rules = [rule("users.email")];
        let plan = plan(
            policy(),
            &Shape {
                fields: &fields,
                names: &names,
                rules: &rules,
                lineage: None,
                mentions_masked: true,
            },
        );
        assert_eq!(label(&plan.actions[0]), Some("users.email"));
        assert!(matches!(plan.actions[1], Action::Scan { .. }));
        assert_eq!(label(&plan.actions[2]), Some("unresolved"), "fail closed");
        assert!(
            matches!(plan.actions[3], Action::Pass),
            "numbers are not scanned"
        );
    }

    #[test]
    fn computed_columns_follow_lineage_or_are_masked_when_it_is_unknown() {
        let fields = [field(0, 25), field(0, 20)];
        let names = [None, None];
        let rules = [rule("users.email")];
        let src = |c: &str| ColumnSource {
            tables: vec!["users".into()],
            column: c.into(),
        };
        let lineage = [
            OutputColumn::Expr(vec![src("email")]),
            OutputColumn::Expr(vec![]),
        ];
        let shape = |lineage, mentions| Shape {
            fields: &fields,
            names: &names,
            rules: &rules,
            lineage,
            mentions_masked: mentions,
        };
        let p = plan(policy(), &shape(Some(&lineage), true));
        assert_eq!(label(&p.actions[0]), Some("users.email"));
        assert!(matches!(p.actions[1], Action::Pass));
        let p = plan(policy(), &shape(None, true));
        assert_eq!(label(&p.actions[0]), Some("expression"));
        assert_eq!(label(&p.actions[1]), Some("expression"));
        let p = plan(policy(), &shape(None, false));
        assert!(label(&p.actions[0]).is_none());
    }
}
