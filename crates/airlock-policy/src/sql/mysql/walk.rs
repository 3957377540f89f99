//! The walk over a sqlparser AST. sqlparser's derived `Visitor` reaches
//! every statement, query, relation and expression however deeply nested;
//! this file turns what it reaches into facts, using marks (by address)
//! that statement setup leaves on the nodes it understood (write targets,
//! queries that are part of their statement rather than nested in it).

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, GroupByExpr, Ident, LimitClause, ObjectName, ObjectNamePart, OrderByExpr, Query, Select,
    SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement, TableFactor, TableWithJoins,
    Value, Visitor,
};

use crate::sql::collect::{Collector, Saved};
use crate::sql::scope::{Mark, Resolved, Scope, Source, Target, UNKNOWN_TABLE};

/// How a query relates to the statement it is in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Inline {
    /// The statement itself (`SELECT …` as a statement): it sets has_limit.
    Statement,
    /// A part of the statement: VALUES rows of an INSERT, a parenthesised
    /// arm of a UNION.
    Part,
}

struct QueryState {
    saved: Option<Saved>,
    mark: Mark,
    set_operation: bool,
    /// Output names of the select list, which ORDER BY / GROUP BY may use.
    outputs: Vec<String>,
}

pub(super) struct Walker {
    pub(super) out: Collector,
    pub(super) scope: Scope,
    /// Relations the current statement writes, by address.
    pub(super) written: HashSet<usize>,
    /// Queries that do not open a statement of their own, by address.
    pub(super) inline: HashMap<usize, Inline>,
    /// Expressions that are output names rather than columns, by address.
    outputs_used: HashSet<usize>,
    /// Non-recursive CTE bodies, by address, with the name they define:
    /// the name becomes visible once the body has been walked.
    cte_bodies: HashMap<usize, String>,
    statements: Vec<(Saved, Mark)>,
    queries: Vec<QueryState>,
    /// Features for the next statement opened (INTO OUTFILE, removed from
    /// the tokens before parsing).
    pub(super) pending_features: Vec<&'static str>,
}

pub(super) fn address<T>(value: &T) -> usize {
    std::ptr::from_ref(value) as usize
}

impl Walker {
    pub(super) fn new() -> Walker {
        Walker {
            out: Collector::default(),
            scope: Scope::default(),
            written: HashSet::new(),
            inline: HashMap::new(),
            outputs_used: HashSet::new(),
            cte_bodies: HashMap::new(),
            statements: Vec::new(),
            queries: Vec::new(),
            pending_features: Vec::new(),
        }
    }

    /// Drops the marks of a statement whose AST is gone: its addresses may
    /// be reused by the next statement's nodes.
    pub(super) fn forget_marks(&mut self) {
        self.written.clear();
        self.inline.clear();
        self.outputs_used.clear();
        self.cte_bodies.clear();
    }

    /// Sources of a FROM clause, for column resolution. Reads are recorded
    /// by `pre_visit_relation`, which sees every relation, not here.
    pub(super) fn sources<'t>(
        &self,
        from: impl IntoIterator<Item = &'t TableWithJoins>,
    ) -> Result<Vec<Source>, String> {
        let mut sources = Vec::new();
        for table in from {
            self.factor_sources(&table.relation, &mut sources)?;
            for join in &table.joins {
                self.factor_sources(&join.relation, &mut sources)?;
            }
        }
        Ok(sources)
    }

    fn factor_sources(
        &self,
        factor: &TableFactor,
        sources: &mut Vec<Source>,
    ) -> Result<(), String> {
        match factor {
            TableFactor::Table { name, alias, .. } => {
                let alias = alias.as_ref().map(|a| a.name.value.as_str());
                let relation = object_name(name)?;
                let last = last_part(name).unwrap_or_default();
                if name.0.len() == 1 && self.scope.is_cte(&relation) {
                    sources.push(Source::other(alias.unwrap_or(&relation), Target::Derived));
                } else {
                    sources.push(Source::table(relation, alias, &last));
                }
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                sources.extend(self.sources([&**table_with_joins])?);
                if let Some(alias) = alias {
                    sources.push(Source::other(&alias.name.value, Target::Join));
                }
            }
            other => {
                let alias = table_factor_alias(other).unwrap_or_default();
                sources.push(Source::other(&alias, Target::Derived));
            }
        }
        Ok(())
    }

    fn query_state(&mut self) -> Option<&mut QueryState> {
        self.queries.last_mut()
    }

    fn select_list(&mut self, select: &Select) -> Result<(), String> {
        let mut outputs = Vec::new();
        for item in &select.projection {
            match item {
                SelectItem::Wildcard(_) => {
                    for table in self.scope.star_tables() {
                        self.out.column(table, "*");
                    }
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(name),
                    _,
                ) => {
                    let qualifier = object_name(name)?;
                    let resolved = self.scope.resolve_qualified(&qualifier);
                    record_star(&mut self.out, resolved);
                }
                // `AS 'alias'` is a string the cache key hides; using it
                // would make facts depend on a literal.
                SelectItem::ExprWithAlias { alias, .. } if alias.quote_style != Some('\'') => {
                    outputs.push(alias.value.to_lowercase());
                }
                _ => {}
            }
        }
        if let Some(state) = self.query_state() {
            state.outputs.extend(outputs);
        }
        Ok(())
    }

    /// Marks ORDER BY / GROUP BY items that name an output column.
    fn mark_outputs<'e>(&mut self, exprs: impl IntoIterator<Item = &'e Expr>) {
        let Some(state) = self.queries.last() else {
            return;
        };
        let used: Vec<usize> = exprs
            .into_iter()
            .filter(|e| matches!(e, Expr::Identifier(id) if state.outputs.contains(&id.value.to_lowercase())))
            .map(address)
            .collect();
        self.outputs_used.extend(used);
    }
}

impl Visitor for Walker {
    type Break = String;

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<String> {
        let saved = self.out.open(super::statements::kind(statement));
        self.statements.push((saved, self.scope.mark()));
        for feature in std::mem::take(&mut self.pending_features) {
            self.out.feature(feature);
        }
        match self.setup(statement) {
            Ok(()) => ControlFlow::Continue(()),
            Err(message) => ControlFlow::Break(message),
        }
    }

    fn post_visit_statement(&mut self, _: &Statement) -> ControlFlow<String> {
        if let Some((saved, mark)) = self.statements.pop() {
            self.scope.restore(mark);
            self.out.close(saved);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<String> {
        let inline = self.inline.remove(&address(query));
        let saved = match inline {
            Some(_) => None,
            None => Some(self.out.open("select")),
        };
        if inline != Some(Inline::Part) {
            self.out.has_limit(bounded(query));
        }
        let mark = self.scope.mark();
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                if let Err(message) = ident_text(&cte.alias.name) {
                    return ControlFlow::Break(message);
                }
                if with.recursive {
                    self.scope.add_cte(&cte.alias.name.value);
                } else {
                    self.cte_bodies
                        .insert(address(&*cte.query), cte.alias.name.value.clone());
                }
            }
        }
        mark_arms(&query.body, &mut self.inline);
        self.queries.push(QueryState {
            saved,
            mark,
            set_operation: matches!(*query.body, SetExpr::SetOperation { .. }),
            outputs: Vec::new(),
        });
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &Query) -> ControlFlow<String> {
        if let Some(state) = self.queries.pop() {
            self.scope.restore(state.mark);
            if let Some(saved) = state.saved {
                self.out.close(saved);
            }
        }
        if let Some(name) = self.cte_bodies.remove(&address(query)) {
            self.scope.add_cte(&name);
        }
        ControlFlow::Continue(())
    }

    /// The frame stays until the query ends, so ORDER BY (a part of the
    /// query, visited after the select) still resolves against it.
    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<String> {
        let result = self.sources(&select.from).and_then(|sources| {
            self.scope.push_frame(sources);
            self.select_list(select)
        });
        match result {
            Ok(()) => ControlFlow::Continue(()),
            Err(message) => ControlFlow::Break(message),
        }
    }

    fn pre_visit_order_by(&mut self, _: &sqlparser::ast::OrderBy) -> ControlFlow<String> {
        // The ORDER BY of a UNION names output columns of no one table.
        if self.queries.last().is_some_and(|q| q.set_operation) {
            self.scope.push_opaque_frame();
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_order_by_expr(&mut self, item: &OrderByExpr) -> ControlFlow<String> {
        self.mark_outputs([&item.expr]);
        ControlFlow::Continue(())
    }

    fn pre_visit_group_by(&mut self, group_by: &GroupByExpr) -> ControlFlow<String> {
        if let GroupByExpr::Expressions(exprs, _) = group_by {
            self.mark_outputs(exprs);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<String> {
        let name = match object_name(relation) {
            Ok(name) => name,
            Err(message) => return ControlFlow::Break(message),
        };
        if self.written.contains(&address(relation)) {
            self.out.written(name);
        } else if !(relation.0.len() == 1 && self.scope.is_cte(&name)) {
            self.out.read(name);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<String> {
        // A table function named in FROM is a call.
        if let TableFactor::Function { name, .. } = factor
            && let Some(last) = last_part(name)
        {
            self.out.function(&last);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<String> {
        if self.outputs_used.remove(&address(expr)) {
            return ControlFlow::Continue(());
        }
        match expr {
            Expr::Function(function) => {
                if let Some(name) = last_part(&function.name) {
                    self.out.function(&name);
                }
            }
            Expr::Identifier(ident) if is_column(ident) => {
                if let Err(message) = ident_text(ident) {
                    return ControlFlow::Break(message);
                }
                record(
                    &mut self.out,
                    self.scope.resolve_unqualified(),
                    &ident.value,
                );
            }
            Expr::CompoundIdentifier(idents) => {
                let Some((column, qualifier)) = idents.split_last() else {
                    return ControlFlow::Continue(());
                };
                if qualifier
                    .iter()
                    .chain([column])
                    .any(|i| i.value.starts_with('@'))
                {
                    return ControlFlow::Continue(());
                }
                let qualifier = match idents_text(qualifier) {
                    Ok(q) => q,
                    Err(message) => return ControlFlow::Break(message),
                };
                let resolved = self.scope.resolve_qualified(&qualifier);
                record(&mut self.out, resolved, &column.value);
            }
            Expr::QualifiedWildcard(name, _) => {
                let qualifier = match object_name(name) {
                    Ok(q) => q,
                    Err(message) => return ControlFlow::Break(message),
                };
                let resolved = self.scope.resolve_qualified(&qualifier);
                record_star(&mut self.out, resolved);
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

fn record(out: &mut Collector, resolved: Resolved<'_>, column: &str) {
    // MySQL column names are case-insensitive; facts use lower case.
    let column = column.to_lowercase();
    match resolved {
        Resolved::Table(table) => out.column(table, &column),
        Resolved::Unknown => out.column(UNKNOWN_TABLE, &column),
        Resolved::Nothing => {}
    }
}

fn record_star(out: &mut Collector, resolved: Resolved<'_>) {
    match resolved {
        Resolved::Table(table) => out.column(table, "*"),
        Resolved::Unknown => out.column(UNKNOWN_TABLE, "*"),
        Resolved::Nothing => {}
    }
}

/// Parenthesised arms of a UNION are part of its statement.
fn mark_arms(body: &SetExpr, inline: &mut HashMap<usize, Inline>) {
    if let SetExpr::SetOperation { left, right, .. } = body {
        for arm in [left, right] {
            match &**arm {
                SetExpr::Query(query) => {
                    inline.insert(address(&**query), Inline::Part);
                }
                nested => mark_arms(nested, inline),
            }
        }
    }
}

/// Whether a LIMIT / FETCH bounds the result: a literal other than NULL,
/// or a placeholder, seen through parentheses and casts. The literal's
/// value never matters, so facts stay the same when literals change.
fn bounded(query: &Query) -> bool {
    match &query.limit_clause {
        Some(LimitClause::LimitOffset {
            limit: Some(limit), ..
        })
        | Some(LimitClause::OffsetCommaLimit { limit, .. }) => bounded_expr(limit),
        _ => query
            .fetch
            .as_ref()
            .is_some_and(|fetch| fetch.quantity.as_ref().is_none_or(bounded_expr)),
    }
}

fn bounded_expr(expr: &Expr) -> bool {
    match expr {
        Expr::Value(value) => !matches!(value.value, Value::Null),
        Expr::Nested(inner) => bounded_expr(inner),
        Expr::Cast { expr, .. } => bounded_expr(expr),
        _ => false,
    }
}

/// User variables (`@v`), system variables (`@@x`) and `DEFAULT` are not
/// columns.
fn is_column(ident: &Ident) -> bool {
    let variable = ident.value.starts_with('@');
    let default = ident.quote_style.is_none() && ident.value.eq_ignore_ascii_case("default");
    !(variable || default)
}

/// An identifier's text. sqlparser accepts a single-quoted string where
/// MySQL wants a name (`DROP TABLE 'x'`); MySQL rejects that, and the
/// cache key hides string values, so it is a parse error here too.
pub(super) fn ident_text(ident: &Ident) -> Result<&str, String> {
    if ident.quote_style == Some('\'') {
        return Err(format!(
            "string literal '{}' used as a name; MySQL rejects it",
            ident.value
        ));
    }
    Ok(&ident.value)
}

fn idents_text(idents: &[Ident]) -> Result<String, String> {
    let parts: Result<Vec<&str>, String> = idents.iter().map(ident_text).collect();
    Ok(parts?.join("."))
}

/// `db.table` as written (MySQL table names are case-sensitive on Linux).
pub(super) fn object_name(name: &ObjectName) -> Result<String, String> {
    let mut parts = Vec::with_capacity(name.0.len());
    for part in &name.0 {
        match part {
            ObjectNamePart::Identifier(ident) => parts.push(ident_text(ident)?),
            ObjectNamePart::Function(_) => return Err("computed object name".to_owned()),
        }
    }
    Ok(parts.join("."))
}

pub(super) fn last_part(name: &ObjectName) -> Option<String> {
    match name.0.last()? {
        ObjectNamePart::Identifier(ident) => Some(ident.value.clone()),
        ObjectNamePart::Function(_) => None,
    }
}

fn table_factor_alias(factor: &TableFactor) -> Option<String> {
    let alias = match factor {
        TableFactor::Derived { alias, .. }
        | TableFactor::TableFunction { alias, .. }
        | TableFactor::Function { alias, .. }
        | TableFactor::UNNEST { alias, .. }
        | TableFactor::JsonTable { alias, .. }
        | TableFactor::OpenJsonTable { alias, .. }
        | TableFactor::Pivot { alias, .. }
        | TableFactor::Unpivot { alias, .. }
        | TableFactor::MatchRecognize { alias, .. }
        | TableFactor::XmlTable { alias, .. }
        | TableFactor::SemanticView { alias, .. } => alias.as_ref(),
        _ => None,
    };
    alias.map(|a| a.name.value.clone())
}
