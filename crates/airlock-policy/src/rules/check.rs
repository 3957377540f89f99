//! Static checking of rule conditions against the shape of the facts.
//!
//! CEL reports a misspelt field (`facts.sql.has_wehre`) only when evaluation
//! reaches it — and `&&`/`||` may never reach it. A rule that names an
//! unknown fact must instead fail at start, so conditions are walked once
//! at compile time: every field selected from a known variable must exist.

use std::collections::BTreeMap;

use cel::Value;
use cel::common::ast::{Expr, IdedExpr};

use crate::facts::{Facts, HttpFacts, ShellFacts, SimpleCommand, SqlFacts, Statement};

use super::{ConnectionView, IdentityView, SessionCounters};

/// The shape of a value rules can see.
#[derive(Debug, Clone)]
pub enum Shape {
    Scalar,
    List(Box<Shape>),
    /// A struct: only these fields exist.
    Object(BTreeMap<String, Shape>),
    /// A map with data-dependent keys (`s.columns`), or anything the checker
    /// cannot know statically.
    Any,
}

/// Maps whose keys are data, not field names.
const DYNAMIC_MAPS: &[&str] = &["facts.sql.statements.columns"];

pub struct Schema {
    roots: BTreeMap<String, Shape>,
}

impl Schema {
    pub fn new() -> Schema {
        let mut roots = BTreeMap::new();
        roots.insert(
            "identity".into(),
            shape_of(&IdentityView::default(), "identity"),
        );
        roots.insert(
            "connection".into(),
            shape_of(&ConnectionView::default(), "connection"),
        );
        roots.insert(
            "session".into(),
            shape_of(&SessionCounters::default(), "session"),
        );
        roots.insert("facts".into(), shape_of(&sample_facts(), "facts"));
        Schema { roots }
    }

    /// Checks one compiled expression; returns the first problem found.
    pub fn check(&self, expr: &IdedExpr) -> Result<(), String> {
        let mut scope = Vec::new();
        self.walk(expr, &mut scope).map(|_| ())
    }

    fn walk(&self, e: &IdedExpr, scope: &mut Vec<(String, Shape)>) -> Result<Shape, String> {
        match &e.expr {
            Expr::Ident(name) => {
                if let Some((_, s)) = scope.iter().rev().find(|(n, _)| n == name) {
                    return Ok(s.clone());
                }
                self.roots.get(name).cloned().ok_or_else(|| {
                    format!(
                        "unknown name `{name}` (rules see identity, connection, facts, session)"
                    )
                })
            }
            Expr::Select(sel) => {
                let operand = self.walk(&sel.operand, scope)?;
                match operand {
                    Shape::Object(fields) => match fields.get(&sel.field) {
                        Some(s) => Ok(s.clone()),
                        None if sel.test => Ok(Shape::Scalar),
                        None => Err(format!(
                            "unknown fact `{}`; known here: {}",
                            path_of(e),
                            fields.keys().cloned().collect::<Vec<_>>().join(", ")
                        )),
                    },
                    Shape::Scalar | Shape::List(_) if !sel.test => Err(format!(
                        "`{}`: cannot select a field of a value without fields",
                        path_of(e)
                    )),
                    _ => Ok(Shape::Any),
                }
            }
            Expr::Call(call) => {
                if let Some(t) = &call.target {
                    self.walk(t, scope)?;
                }
                for a in &call.args {
                    self.walk(a, scope)?;
                }
                Ok(Shape::Any)
            }
            Expr::Comprehension(c) => {
                let range = self.walk(&c.iter_range, scope)?;
                let element = match range {
                    Shape::List(el) => *el,
                    Shape::Object(_) | Shape::Scalar => Shape::Scalar,
                    Shape::Any => Shape::Any,
                };
                self.walk(&c.accu_init, scope)?;
                let depth = scope.len();
                scope.push((c.iter_var.clone(), element));
                if let Some(v2) = &c.iter_var2 {
                    scope.push((v2.clone(), Shape::Any));
                }
                scope.push((c.accu_var.clone(), Shape::Any));
                let result = self
                    .walk(&c.loop_cond, scope)
                    .and_then(|_| self.walk(&c.loop_step, scope))
                    .and_then(|_| self.walk(&c.result, scope));
                scope.truncate(depth);
                result.map(|_| Shape::Any)
            }
            Expr::List(list) => {
                for el in &list.elements {
                    self.walk(el, scope)?;
                }
                Ok(Shape::Any)
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let cel::common::ast::EntryExpr::MapEntry(m) = &entry.expr {
                        self.walk(&m.key, scope)?;
                        self.walk(&m.value, scope)?;
                    }
                }
                Ok(Shape::Any)
            }
            Expr::Literal(_) => Ok(Shape::Scalar),
            Expr::Struct(_) | Expr::Unspecified => Ok(Shape::Any),
        }
    }
}

fn path_of(e: &IdedExpr) -> String {
    match &e.expr {
        Expr::Ident(n) => n.clone(),
        Expr::Select(s) => format!("{}.{}", path_of(&s.operand), s.field),
        _ => "…".into(),
    }
}

fn shape_of<T: serde::Serialize>(value: &T, root: &str) -> Shape {
    match cel::to_value(value) {
        Ok(v) => shape_of_value(&v, root),
        Err(_) => Shape::Any,
    }
}

fn shape_of_value(v: &Value, path: &str) -> Shape {
    match v {
        Value::List(items) => match items.first() {
            Some(first) => Shape::List(Box::new(shape_of_value(first, path))),
            None => Shape::List(Box::new(Shape::Any)),
        },
        Value::Map(_) if DYNAMIC_MAPS.contains(&path) => Shape::Any,
        Value::Map(m) => {
            let mut fields = BTreeMap::new();
            for (k, v) in m.map.iter() {
                if let cel::objects::Key::String(name) = k {
                    let child = format!("{path}.{name}");
                    fields.insert(name.to_string(), shape_of_value(v, &child));
                }
            }
            Shape::Object(fields)
        }
        _ => Shape::Scalar,
    }
}

/// Facts with one element in every list, so the schema knows the shape of
/// list elements.
fn sample_facts() -> Facts {
    let one = || vec![String::new()];
    let statement = Statement {
        tables_read: one(),
        tables_written: one(),
        columns: BTreeMap::from([(String::new(), one())]),
        functions: one(),
        features: one(),
        ..Statement::default()
    };
    Facts {
        sql: SqlFacts {
            statements: vec![statement],
            kinds: one(),
            tables_read: one(),
            tables_written: one(),
            tables: one(),
            functions: one(),
            features: one(),
            ..SqlFacts::default()
        },
        shell: ShellFacts {
            commands: vec![SimpleCommand {
                program: String::new(),
                argv: one(),
            }],
            programs: one(),
            writes: one(),
            hosts: one(),
            ..ShellFacts::default()
        },
        http: HttpFacts {
            query_keys: one(),
            header_names: one(),
            ..HttpFacts::default()
        },
        ..Facts::default()
    }
}

/// Which root variables a condition reads (for caching: a rule that does
/// not read `session` gives the same answer for the same facts).
pub fn reads_session(expr: &IdedExpr) -> bool {
    let mut found = false;
    visit_idents(expr, &mut |name| found |= name == "session");
    found
}

fn visit_idents(e: &IdedExpr, f: &mut dyn FnMut(&str)) {
    match &e.expr {
        Expr::Ident(n) => f(n),
        Expr::Select(s) => visit_idents(&s.operand, f),
        Expr::Call(c) => {
            if let Some(t) = &c.target {
                visit_idents(t, f);
            }
            c.args.iter().for_each(|a| visit_idents(a, f));
        }
        Expr::Comprehension(c) => {
            for x in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                visit_idents(x, f);
            }
        }
        Expr::List(l) => l.elements.iter().for_each(|x| visit_idents(x, f)),
        Expr::Map(m) => {
            for entry in &m.entries {
                if let cel::common::ast::EntryExpr::MapEntry(me) = &entry.expr {
                    visit_idents(&me.key, f);
                    visit_idents(&me.value, f);
                }
            }
        }
        _ => {}
    }
}
