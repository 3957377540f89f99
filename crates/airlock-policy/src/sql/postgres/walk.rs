//! The walk over a PostgreSQL parse tree: statement nodes open a statement,
//! relations, calls and column references become facts, and every other
//! node is descended into through [`children`](super::children), so nothing
//! the grammar can nest is skipped by omission.

use std::collections::HashSet;

use pg_query::NodeRef;
use pg_query::protobuf::{ColumnRef, FuncCall, Node, RangeVar, RawStmt, node::Node as NodeEnum};

use super::{children, kinds, names};
use crate::sql::collect::Collector;
use crate::sql::features;
use crate::sql::scope::{Resolved, Scope, UNKNOWN_TABLE};

/// How many levels of SQL inside string literals (`query_to_xml('…')`) are
/// analysed; each level costs a parse.
const LITERAL_SQL_DEPTH: u8 = 3;

pub(super) struct Walker {
    pub(super) out: Collector,
    pub(super) scope: Scope,
    /// Relations a statement handler already recorded (write targets), by
    /// address, so the generic descent does not record them as read too.
    done: HashSet<usize>,
    literal_budget: u8,
}

impl Walker {
    pub(super) fn new() -> Walker {
        Walker {
            out: Collector::default(),
            scope: Scope::default(),
            done: HashSet::new(),
            literal_budget: LITERAL_SQL_DEPTH,
        }
    }

    pub(super) fn raw_statements(&mut self, statements: &[RawStmt]) {
        for raw in statements {
            let Some(node) = raw.stmt.as_deref().and_then(|n| n.node.as_ref()) else {
                continue;
            };
            let node = node.to_ref();
            match kinds::statement_kind(node) {
                Some(kind) => self.statement(node, kind),
                // Not reachable with today's grammar; keep whatever the
                // node holds rather than dropping it.
                None => {
                    let saved = self.out.open("other");
                    self.children(node);
                    self.out.close(saved);
                }
            }
        }
    }

    /// Any node: the single entry point of the descent.
    pub(super) fn node(&mut self, node: NodeRef<'_>) {
        if let Some(kind) = kinds::statement_kind(node) {
            self.statement(node, kind);
            return;
        }
        match node {
            NodeRef::RangeVar(rv) => self.relation_read(rv),
            NodeRef::FuncCall(call) => self.func_call(call),
            NodeRef::ColumnRef(column) => self.column_ref(column),
            _ => self.children(node),
        }
    }

    pub(super) fn children(&mut self, node: NodeRef<'_>) {
        children::for_each_child(node, &mut |child| self.node(child));
    }

    pub(super) fn wrapped(&mut self, node: &Node) {
        if let Some(inner) = &node.node {
            self.node(inner.to_ref());
        }
    }

    pub(super) fn opt(&mut self, node: &Option<Box<Node>>) {
        if let Some(node) = node {
            self.wrapped(node);
        }
    }

    pub(super) fn list(&mut self, nodes: &[Node]) {
        for node in nodes {
            self.wrapped(node);
        }
    }

    fn statement(&mut self, node: NodeRef<'_>, kind: &'static str) {
        let saved = self.out.open(kind);
        let mark = self.scope.mark();
        self.statement_body(node);
        self.scope.restore(mark);
        self.out.close(saved);
    }

    fn statement_body(&mut self, node: NodeRef<'_>) {
        match node {
            NodeRef::SelectStmt(s) => match &s.into_clause {
                Some(into) => self.select_into(s, into),
                None => self.select(s, true),
            },
            NodeRef::InsertStmt(s) => self.insert(s),
            NodeRef::UpdateStmt(s) => self.update(s),
            NodeRef::DeleteStmt(s) => self.delete(s),
            NodeRef::MergeStmt(s) => self.merge(s),
            NodeRef::CopyStmt(s) => self.copy(s),
            _ => self.utility(node),
        }
    }

    /// A relation outside any FROM clause a handler understood (LOCK,
    /// INHERITS, LIKE, …): read, unless it names a CTE or was recorded.
    fn relation_read(&mut self, rv: &RangeVar) {
        if self.done.contains(&address(rv)) {
            return;
        }
        if names::unqualified(rv) && self.scope.is_cte(&rv.relname) {
            return;
        }
        self.out.read(names::relation(rv));
    }

    /// Records a relation the statement writes; the generic descent will
    /// skip it.
    pub(super) fn mark_written(&mut self, rv: &RangeVar) -> String {
        self.done.insert(address(rv));
        let name = names::relation(rv);
        self.out.written(name.clone());
        name
    }

    /// Records a relation the statement reads; the generic descent will
    /// skip it.
    pub(super) fn mark_read(&mut self, rv: &RangeVar) -> String {
        self.done.insert(address(rv));
        let name = names::relation(rv);
        self.out.read(name.clone());
        name
    }

    fn func_call(&mut self, call: &FuncCall) {
        if let Some(name) = names::function(&call.funcname) {
            let name = name.to_lowercase();
            self.out.function(&name);
            if features::SQL_TEXT_FUNCTIONS.contains(&name.as_str())
                && let Some(sql) = call.args.first().and_then(string_literal)
            {
                self.literal_sql(sql);
            }
        }
        self.children(NodeRef::FuncCall(call));
    }

    /// SQL that a function runs from a string literal: analysed as
    /// statements nested in the current one, in a scope of their own.
    fn literal_sql(&mut self, sql: &str) {
        if self.literal_budget == 0 {
            return;
        }
        // Text the server would reject at run time hides nothing; the
        // dynamic_sql feature already marks the call.
        let Ok(parsed) = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT) else {
            return;
        };
        self.literal_budget -= 1;
        let outer = self.scope.take();
        // Marks are addresses: once this tree is dropped, another tree
        // parsed from a later literal may reuse them.
        let outer_done = std::mem::take(&mut self.done);
        self.raw_statements(&parsed.protobuf.stmts);
        self.done = outer_done;
        self.scope.put_back(outer);
        self.literal_budget += 1;
    }

    fn column_ref(&mut self, column: &ColumnRef) {
        let mut parts = Vec::with_capacity(column.fields.len());
        let mut star = false;
        for field in &column.fields {
            match &field.node {
                Some(NodeEnum::String(s)) => parts.push(s.sval.as_str()),
                Some(NodeEnum::AStar(_)) => star = true,
                _ => {}
            }
        }
        match (star, parts.split_last()) {
            (true, None) => {
                for table in self.scope.star_tables() {
                    self.out.column(table, "*");
                }
            }
            (true, Some(_)) => {
                let resolved = self.scope.resolve_qualified(&parts.join("."));
                record(&mut self.out, resolved, "*");
            }
            (false, Some((name, []))) => {
                let resolved = self.scope.resolve_unqualified();
                record(&mut self.out, resolved, name);
                if let Some(table) = self.scope.whole_row(name) {
                    self.out.column(table, "*");
                }
            }
            (false, Some((name, qualifier))) => {
                let resolved = self.scope.resolve_qualified(&qualifier.join("."));
                record(&mut self.out, resolved, name);
            }
            (false, None) => {}
        }
    }
}

fn record(out: &mut Collector, resolved: Resolved<'_>, column: &str) {
    match resolved {
        Resolved::Table(table) => out.column(table, column),
        Resolved::Unknown => out.column(UNKNOWN_TABLE, column),
        Resolved::Nothing => {}
    }
}

fn address<T>(value: &T) -> usize {
    std::ptr::from_ref(value) as usize
}

/// The text of a string constant, through casts and `name => value`.
fn string_literal(node: &Node) -> Option<&str> {
    match node.node.as_ref()? {
        NodeEnum::AConst(c) => match &c.val {
            Some(pg_query::protobuf::a_const::Val::Sval(s)) => Some(&s.sval),
            _ => None,
        },
        NodeEnum::TypeCast(cast) => cast.arg.as_deref().and_then(string_literal),
        NodeEnum::NamedArgExpr(named) => named.arg.as_deref().and_then(string_literal),
        _ => None,
    }
}
