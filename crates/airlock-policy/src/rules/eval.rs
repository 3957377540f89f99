//! Compiling a rule set once, and evaluating it per command.

use std::sync::Arc;

use cel::{Context, Program, Value};

use crate::facts::Facts;

use super::check::{self, Schema};
use super::spec::{Action, RuleError, RuleSpec};
use super::{ConnectionView, IdentityView, SessionCounters};

struct Rule {
    spec: RuleSpec,
    program: Program,
    reads_session: bool,
}

/// A compiled rule set. Building the CEL root context registers every
/// standard function (tens of microseconds), so it is built once here and
/// each evaluation only adds an inner scope with the command's variables.
pub struct RuleSet {
    rules: Vec<Rule>,
    root: Context<'static, 'static>,
}

/// What one evaluation sees.
pub struct Input<'a> {
    pub identity: &'a IdentityView,
    pub connection: &'a ConnectionView,
    pub facts: &'a Facts,
    pub session: SessionCounters,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Fired {
    pub rule: String,
    pub action: Action,
    pub message: Option<String>,
    /// Set when the condition could not be evaluated (the rule then blocks).
    pub error: Option<String>,
}

/// The outcome of evaluating every rule against one command.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Decision {
    /// The most restrictive action among the rules that fired; `allow`
    /// when none did.
    pub action: Action,
    pub fired: Vec<Fired>,
    /// For `review`: reviewers of every review rule that fired.
    pub reviewers: Vec<String>,
    /// For `review`: the largest `approvals` among them (at least 1).
    pub approvals: u32,
    /// For `mask`: column patterns of every mask rule that fired.
    pub mask_columns: Vec<String>,
}

impl Decision {
    /// Combines two decisions over disjoint sets of rules.
    pub fn merge(mut self, other: Decision) -> Decision {
        self.action = self.action.max(other.action);
        self.fired.extend(other.fired);
        self.reviewers.extend(other.reviewers);
        self.reviewers.sort();
        self.reviewers.dedup();
        self.approvals = self.approvals.max(other.approvals);
        self.mask_columns.extend(other.mask_columns);
        self.mask_columns.sort();
        self.mask_columns.dedup();
        self
    }

    /// The fired rules with the deciding action, strongest first.
    pub fn deciding(&self) -> impl Iterator<Item = &Fired> {
        self.fired.iter().filter(move |f| f.action == self.action)
    }
}

impl RuleSet {
    pub fn compile(specs: &[RuleSpec]) -> Result<RuleSet, RuleError> {
        let schema = Schema::new();
        let env = Arc::new(super::functions::environment().map_err(|e| RuleError {
            index: 0,
            name: String::new(),
            message: format!("the rule environment could not be built: {e}"),
        })?);
        let mut rules = Vec::with_capacity(specs.len());
        let mut names = std::collections::HashSet::new();
        for (index, spec) in specs.iter().enumerate() {
            let fail = |message: String| RuleError {
                index,
                name: spec.name.clone(),
                message,
            };
            if spec.name.trim().is_empty() {
                return Err(fail("a rule needs a name".into()));
            }
            if !names.insert(spec.name.as_str()) {
                return Err(fail("two rules have this name".into()));
            }
            let program = env
                .compile(&spec.when)
                .map_err(|e| fail(format!("`when` does not compile: {e}")))?;
            schema
                .check(program.expression())
                .map_err(|m| fail(format!("`when`: {m}")))?;
            match spec.action {
                Action::Review if spec.reviewers.is_empty() => {
                    return Err(fail("action review needs `reviewers`".into()));
                }
                Action::Mask if spec.columns.is_empty() => {
                    return Err(fail("action mask needs `columns`".into()));
                }
                Action::Allow | Action::Block
                    if !spec.columns.is_empty() || !spec.reviewers.is_empty() =>
                {
                    return Err(fail(format!(
                        "`columns` and `reviewers` do not apply to action {}",
                        spec.action.as_str()
                    )));
                }
                _ => {}
            }
            if spec.approvals == Some(0) {
                return Err(fail("`approvals` must be at least 1".into()));
            }
            rules.push(Rule {
                reads_session: check::reads_session(program.expression()),
                spec: spec.clone(),
                program,
            });
        }
        Ok(RuleSet {
            rules,
            root: Context::with_env(env),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether any rule reads `session` counters (whose decisions therefore
    /// cannot be cached by command alone).
    pub fn reads_session(&self) -> bool {
        self.rules.iter().any(|r| r.reads_session)
    }

    /// Evaluates every rule.
    pub fn evaluate(&self, input: &Input<'_>) -> Decision {
        self.evaluate_where(input, |_| true)
    }

    /// Evaluates only the rules that do not read `session`: their decision
    /// depends on the command, the identity and the connection alone, so
    /// callers may cache it.
    pub fn evaluate_sessionless(&self, input: &Input<'_>) -> Decision {
        self.evaluate_where(input, |r| !r.reads_session)
    }

    /// Evaluates only the rules that read `session`.
    pub fn evaluate_session_rules(&self, input: &Input<'_>) -> Decision {
        self.evaluate_where(input, |r| r.reads_session)
    }

    fn evaluate_where(&self, input: &Input<'_>, include: impl Fn(&Rule) -> bool) -> Decision {
        let mut decision = Decision {
            action: Action::Allow,
            fired: Vec::new(),
            reviewers: Vec::new(),
            approvals: 1,
            mask_columns: Vec::new(),
        };
        if !self.rules.iter().any(&include) {
            return decision;
        }
        let mut scope = self.root.new_inner_scope();
        let variables = [
            ("identity", cel::to_value(input.identity)),
            ("connection", cel::to_value(input.connection)),
            ("facts", cel::to_value(input.facts)),
            ("session", cel::to_value(input.session)),
        ];
        for (name, value) in variables {
            match value {
                Ok(v) => scope.add_variable_from_value(name, v),
                Err(e) => {
                    // Cannot happen for these plain types; if it ever does,
                    // no rule can be trusted for this command.
                    decision.action = Action::Block;
                    decision.fired.push(Fired {
                        rule: "airlock:facts".into(),
                        action: Action::Block,
                        message: None,
                        error: Some(format!("facts could not be prepared for rules: {e}")),
                    });
                    return decision;
                }
            }
        }
        for rule in self.rules.iter().filter(|r| include(r)) {
            let (fires, error) = match rule.program.execute(&scope) {
                Ok(Value::Bool(b)) => (b, None),
                Ok(other) => (
                    true,
                    Some(format!("condition gave {other:?}, not a boolean")),
                ),
                Err(e) => (true, Some(e.to_string())),
            };
            if !fires {
                continue;
            }
            let action = if error.is_some() {
                Action::Block
            } else {
                rule.spec.action
            };
            decision.action = decision.action.max(action);
            if error.is_none() {
                match action {
                    Action::Review => {
                        decision
                            .reviewers
                            .extend(rule.spec.reviewers.iter().cloned());
                        decision.approvals =
                            decision.approvals.max(rule.spec.approvals.unwrap_or(1));
                    }
                    Action::Mask => decision
                        .mask_columns
                        .extend(rule.spec.columns.iter().cloned()),
                    _ => {}
                }
            }
            decision.fired.push(Fired {
                rule: rule.spec.name.clone(),
                action,
                message: rule.spec.message.clone(),
                error,
            });
        }
        decision.reviewers.sort();
        decision.reviewers.dedup();
        decision.mask_columns.sort();
        decision.mask_columns.dedup();
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{SqlFacts, Statement};

    fn spec(name: &str, when: &str, action: Action) -> RuleSpec {
        RuleSpec {
            name: name.into(),
            when: when.into(),
            action,
            reviewers: if action == Action::Review {
                vec!["group:dba".into()]
            } else {
                vec![]
            },
            approvals: None,
            columns: if action == Action::Mask {
                vec!["*.email".into()]
            } else {
                vec![]
            },
            message: None,
        }
    }

    fn delete_without_where() -> Facts {
        Facts {
            kind: "sql".into(),
            sql: SqlFacts {
                statements: vec![
                    Statement {
                        kind: "delete".into(),
                        has_where: false,
                        ..Statement::default()
                    },
                    Statement {
                        kind: "update".into(),
                        has_where: true,
                        ..Statement::default()
                    },
                ],
                kinds: vec!["delete".into(), "update".into()],
                statement_count: 2,
                ..SqlFacts::default()
            },
            ..Facts::default()
        }
    }

    fn eval(rules: &RuleSet, facts: &Facts) -> Decision {
        let identity = IdentityView {
            name: "alice".into(),
            kind: "user".into(),
            groups: vec!["eng".into()],
        };
        let connection = ConnectionView {
            name: "db".into(),
            kind: "postgres".into(),
            strict: true,
        };
        rules.evaluate(&Input {
            identity: &identity,
            connection: &connection,
            facts,
            session: SessionCounters::default(),
        })
    }

    #[test]
    fn most_restrictive_action_wins_and_every_fired_rule_is_named() {
        let rules = RuleSet::compile(&[
            spec(
                "unbounded",
                "facts.sql.statements.exists(s, s.kind in ['update','delete'] && !s.has_where)",
                Action::Block,
            ),
            spec("any-delete", "'delete' in facts.sql.kinds", Action::Review),
            spec("eng", "'eng' in identity.groups", Action::Mask),
            spec("never", "facts.sql.statement_count > 10", Action::Block),
        ])
        .unwrap();
        let d = eval(&rules, &delete_without_where());
        assert_eq!(d.action, Action::Block);
        let names: Vec<_> = d.fired.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(names, ["unbounded", "any-delete", "eng"]);
        assert_eq!(d.reviewers, ["group:dba"]);
        assert_eq!(d.mask_columns, ["*.email"]);
    }

    #[test]
    fn per_statement_facts_do_not_mix() {
        // The update has a WHERE, the delete has none: a rule asking for a
        // statement that is an update without WHERE must not fire.
        let rules = RuleSet::compile(&[spec(
            "update-no-where",
            "facts.sql.statements.exists(s, s.kind == 'update' && !s.has_where)",
            Action::Block,
        )])
        .unwrap();
        assert_eq!(eval(&rules, &delete_without_where()).action, Action::Allow);
    }

    #[test]
    fn unknown_facts_and_bad_syntax_fail_at_compile_time() {
        for (when, needle) in [
            ("facts.sql.has_wehre", "unknown fact `facts.sql.has_wehre`"),
            (
                "facts.sql.statements.exists(s, s.hass_where)",
                "s.hass_where",
            ),
            ("false && facts.bogus == 1", "facts.bogus"),
            ("user.name == 'x'", "unknown name `user`"),
            ("facts.sql.kinds.exists(k, k.foo)", "cannot select"),
            ("1 +", "does not compile"),
        ] {
            let err = RuleSet::compile(&[spec("r", when, Action::Block)])
                .err()
                .map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.contains(needle)),
                "{when}: {err:?}"
            );
        }
        // Dynamic maps accept any key.
        assert!(
            RuleSet::compile(&[spec(
                "cols",
                "facts.sql.statements.exists(s, 'email' in s.columns.users)",
                Action::Block
            )])
            .is_ok()
        );
    }

    #[test]
    fn a_rule_that_errors_at_run_time_blocks() {
        let rules = RuleSet::compile(&[spec(
            "bad-index",
            "facts.sql.kinds[5] == 'x'",
            Action::Allow,
        )])
        .unwrap();
        let d = eval(&rules, &delete_without_where());
        assert_eq!(d.action, Action::Block);
        assert!(d.fired[0].error.is_some());
    }

    #[test]
    fn review_and_mask_need_their_parameters() {
        let mut r = spec("r", "true", Action::Review);
        r.reviewers.clear();
        assert!(RuleSet::compile(&[r]).is_err());
        let mut m = spec("m", "true", Action::Mask);
        m.columns.clear();
        assert!(RuleSet::compile(&[m]).is_err());
    }

    #[test]
    fn split_evaluation_merges_to_the_full_one() {
        let rules = RuleSet::compile(&[
            spec(
                "a",
                "session.rows > 10 || 'delete' in facts.sql.kinds",
                Action::Review,
            ),
            spec("b", "facts.sql.statement_count > 1", Action::Block),
            spec("c", "'eng' in identity.groups", Action::Mask),
        ])
        .unwrap();
        let facts = delete_without_where();
        let full = eval(&rules, &facts);
        let identity = IdentityView {
            name: "alice".into(),
            kind: "user".into(),
            groups: vec!["eng".into()],
        };
        let connection = ConnectionView {
            name: "db".into(),
            kind: "postgres".into(),
            strict: true,
        };
        let input = Input {
            identity: &identity,
            connection: &connection,
            facts: &facts,
            session: SessionCounters::default(),
        };
        let split = rules
            .evaluate_sessionless(&input)
            .merge(rules.evaluate_session_rules(&input));
        assert_eq!(split.action, full.action);
        let mut names: Vec<_> = split.fired.iter().map(|f| f.rule.clone()).collect();
        names.sort();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(split.reviewers, full.reviewers);
        assert_eq!(split.mask_columns, full.mask_columns);
    }

    #[test]
    fn session_reading_rules_are_known() {
        let a = RuleSet::compile(&[spec("a", "session.rows > 1000", Action::Block)]).unwrap();
        let b =
            RuleSet::compile(&[spec("b", "facts.sql.statement_count > 1", Action::Block)]).unwrap();
        assert!(a.reads_session());
        assert!(!b.reads_session());
    }
}
