//! SELECT, INSERT, UPDATE, DELETE and MERGE: the statements whose FROM
//! clauses, CTEs, aliases and targets decide which tables are read or
//! written and which table a column belongs to. Each struct is destructured
//! without `..`, so a field added by a pg_query upgrade is a compile error
//! here rather than a subtree the walk silently skips.

use pg_query::NodeRef;
use pg_query::protobuf::{
    CommonTableExpr, DeleteStmt, InsertStmt, IntoClause, JoinExpr, MergeStmt, MergeWhenClause,
    Node, OnConflictClause, RangeVar, ReturningClause, SelectStmt, UpdateStmt, WithClause,
    node::Node as NodeEnum,
};

use super::names;
use super::walk::Walker;
use crate::sql::scope::{Source, Target};

impl Walker {
    /// A SELECT. `own_statement` is false for the arms of a UNION, which
    /// belong to the statement of the set operation around them.
    pub(super) fn select(&mut self, s: &SelectStmt, own_statement: bool) {
        let SelectStmt {
            distinct_clause,
            into_clause: _,
            target_list,
            from_clause,
            where_clause,
            group_clause,
            group_distinct: _,
            having_clause,
            window_clause,
            values_lists,
            sort_clause,
            limit_offset,
            limit_count,
            limit_option: _,
            // `FOR UPDATE OF u` names aliases, not tables.
            locking_clause: _,
            with_clause,
            op: _,
            all: _,
            larg,
            rarg,
        } = s;
        let mark = self.scope.mark();
        if let Some(with) = with_clause {
            self.with_clause(with);
        }
        let outputs = if larg.is_some() || rarg.is_some() {
            for arm in [larg, rarg].into_iter().flatten() {
                self.select(arm, false);
            }
            self.scope.push_opaque_frame();
            Vec::new()
        } else {
            self.walk_from(Vec::new(), from_clause);
            let outputs = self.select_targets(target_list);
            self.list(distinct_clause);
            self.opt(where_clause);
            self.ordering(group_clause, &outputs);
            self.opt(having_clause);
            self.list(window_clause);
            self.list(values_lists);
            outputs
        };
        self.ordering(sort_clause, &outputs);
        self.opt(limit_offset);
        self.opt(limit_count);
        if own_statement {
            self.out.has_limit(bounded(limit_count.as_deref()));
        }
        self.scope.restore(mark);
    }

    /// `SELECT … INTO t`: the server runs it as CREATE TABLE t AS SELECT,
    /// so it is reported the same way, a create with the select nested.
    pub(super) fn select_into(&mut self, s: &SelectStmt, into: &IntoClause) {
        if let Some(rel) = &into.rel {
            self.mark_written(rel);
        }
        let saved = self.out.open("select");
        self.select(s, true);
        self.out.close(saved);
    }

    /// The select list; returns the output names ORDER BY may refer to.
    fn select_targets(&mut self, targets: &[Node]) -> Vec<String> {
        let mut outputs = Vec::new();
        for target in targets {
            match &target.node {
                Some(NodeEnum::ResTarget(rt)) => {
                    if !rt.name.is_empty() {
                        outputs.push(rt.name.clone());
                    }
                    self.list(&rt.indirection);
                    self.opt(&rt.val);
                }
                Some(other) => self.node(other.to_ref()),
                None => {}
            }
        }
        outputs
    }

    /// ORDER BY / GROUP BY items; a bare name that is an output column is
    /// not a table column.
    fn ordering(&mut self, items: &[Node], outputs: &[String]) {
        for item in items {
            let expr = match &item.node {
                Some(NodeEnum::SortBy(sort)) => sort.node.as_deref(),
                _ => Some(item),
            };
            if let Some(name) = expr.and_then(bare_column)
                && outputs.iter().any(|o| o == name)
            {
                continue;
            }
            self.wrapped(item);
        }
    }

    pub(super) fn with_clause(&mut self, with: &WithClause) {
        let WithClause {
            ctes,
            recursive,
            location: _,
        } = with;
        let ctes: Vec<&CommonTableExpr> = ctes
            .iter()
            .filter_map(|n| match &n.node {
                Some(NodeEnum::CommonTableExpr(c)) => Some(&**c),
                _ => None,
            })
            .collect();
        // WITH RECURSIVE makes every name visible in every body; otherwise
        // a body sees only the CTEs before it, and a name of its own or a
        // later one is a real table (`WITH t AS (SELECT * FROM t)` reads t).
        if *recursive {
            for cte in &ctes {
                self.scope.add_cte(&cte.ctename);
            }
        }
        for cte in ctes {
            self.children(NodeRef::CommonTableExpr(cte));
            if !*recursive {
                self.scope.add_cte(&cte.ctename);
            }
        }
    }

    /// Reads the FROM items into a new frame (after `sources` already
    /// known, such as an UPDATE's target), then walks what they contain
    /// (subqueries, function arguments, join conditions) with the frame in
    /// place, so LATERAL and ON clauses resolve their columns.
    pub(super) fn walk_from<'a>(
        &mut self,
        mut sources: Vec<Source>,
        items: impl IntoIterator<Item = &'a Node>,
    ) {
        let mut deferred = Vec::new();
        for item in items {
            if let Some(node) = &item.node {
                self.walk_from_item(node.to_ref(), &mut sources, &mut deferred);
            }
        }
        self.scope.push_frame(sources);
        for node in deferred {
            self.node(node);
        }
    }

    fn walk_from_item<'a>(
        &mut self,
        node: NodeRef<'a>,
        sources: &mut Vec<Source>,
        deferred: &mut Vec<NodeRef<'a>>,
    ) {
        match node {
            NodeRef::RangeVar(rv) => sources.push(self.table_in_from(rv)),
            NodeRef::RangeSubselect(sub) => {
                let name = sub.alias.as_ref().map_or("", |a| a.aliasname.as_str());
                sources.push(Source::other(name, Target::Derived));
                deferred.push(node);
            }
            NodeRef::RangeFunction(function) => {
                let name = function.alias.as_ref().map_or("", |a| a.aliasname.as_str());
                sources.push(Source::other(name, Target::Derived));
                deferred.push(node);
            }
            NodeRef::JoinExpr(join) => self.join(join, sources, deferred),
            NodeRef::RangeTableSample(sample) => {
                if let Some(inner) = sample.relation.as_deref().and_then(|n| n.node.as_ref()) {
                    self.walk_from_item(inner.to_ref(), sources, deferred);
                }
                deferred.extend(
                    sample
                        .args
                        .iter()
                        .filter_map(|n| n.node.as_ref().map(|n| n.to_ref())),
                );
                if let Some(repeatable) = sample.repeatable.as_deref().and_then(|n| n.node.as_ref())
                {
                    deferred.push(repeatable.to_ref());
                }
            }
            NodeRef::RangeTableFunc(function) => {
                let name = function.alias.as_ref().map_or("", |a| a.aliasname.as_str());
                sources.push(Source::other(name, Target::Derived));
                deferred.push(node);
            }
            NodeRef::JsonTable(table) => {
                let name = table.alias.as_ref().map_or("", |a| a.aliasname.as_str());
                sources.push(Source::other(name, Target::Derived));
                deferred.push(node);
            }
            _ => deferred.push(node),
        }
    }

    fn join<'a>(
        &mut self,
        join: &'a JoinExpr,
        sources: &mut Vec<Source>,
        deferred: &mut Vec<NodeRef<'a>>,
    ) {
        let JoinExpr {
            jointype: _,
            is_natural: _,
            larg,
            rarg,
            // Column names, resolved by the server against both sides.
            using_clause: _,
            join_using_alias,
            quals,
            alias,
            rtindex: _,
        } = join;
        for side in [larg, rarg].into_iter().flatten() {
            if let Some(node) = &side.node {
                self.walk_from_item(node.to_ref(), sources, deferred);
            }
        }
        for alias in [alias, join_using_alias].into_iter().flatten() {
            sources.push(Source::other(&alias.aliasname, Target::Join));
        }
        if let Some(quals) = quals.as_deref().and_then(|n| n.node.as_ref()) {
            deferred.push(quals.to_ref());
        }
    }

    /// A relation in FROM: a CTE reference, or a table read.
    fn table_in_from(&mut self, rv: &RangeVar) -> Source {
        let alias = rv.alias.as_ref().map(|a| a.aliasname.as_str());
        if names::unqualified(rv) && self.scope.is_cte(&rv.relname) {
            return Source::other(alias.unwrap_or(&rv.relname), Target::Derived);
        }
        let name = names::relation(rv);
        self.out.read(name.clone());
        Source::table(name, alias, &rv.relname)
    }

    /// The relation an INSERT, UPDATE, DELETE or MERGE writes. Never a
    /// CTE: the grammar only allows a table there.
    fn write_target(&mut self, rv: &RangeVar) -> Source {
        let name = self.mark_written(rv);
        let alias = rv.alias.as_ref().map(|a| a.aliasname.as_str());
        Source::table(name, alias, &rv.relname)
    }

    pub(super) fn insert(&mut self, s: &InsertStmt) {
        let InsertStmt {
            relation,
            cols,
            select_stmt,
            on_conflict_clause,
            returning_clause,
            with_clause,
            r#override: _,
        } = s;
        if let Some(with) = with_clause {
            self.with_clause(with);
        }
        let target = relation.as_ref().map(|rv| self.write_target(rv));
        let table = table_of(target.as_ref());
        self.assignments(cols, table.as_deref());
        match select_stmt.as_deref().and_then(|n| n.node.as_ref()) {
            // VALUES rows are part of the INSERT, not a query of their own.
            Some(NodeEnum::SelectStmt(values)) if is_plain_values(values) => {
                self.list(&values.values_lists);
            }
            Some(source) => self.node(source.to_ref()),
            None => {}
        }
        let mut sources: Vec<Source> = target.into_iter().collect();
        if let Some(table) = &table {
            // ON CONFLICT … DO UPDATE names the proposed row `excluded`.
            sources.push(Source::table(table.clone(), Some("excluded"), ""));
        }
        self.scope.push_frame(sources);
        if let Some(clause) = on_conflict_clause {
            self.on_conflict(clause, table.as_deref());
        }
        self.returning(returning_clause.as_ref());
    }

    fn on_conflict(&mut self, clause: &OnConflictClause, table: Option<&str>) {
        let OnConflictClause {
            action: _,
            infer,
            target_list,
            where_clause,
            location: _,
        } = clause;
        if let Some(infer) = infer {
            self.children(NodeRef::InferClause(infer));
        }
        self.assignments(target_list, table);
        self.opt(where_clause);
    }

    pub(super) fn update(&mut self, s: &UpdateStmt) {
        let UpdateStmt {
            relation,
            target_list,
            where_clause,
            from_clause,
            returning_clause,
            with_clause,
        } = s;
        if let Some(with) = with_clause {
            self.with_clause(with);
        }
        let target = relation.as_ref().map(|rv| self.write_target(rv));
        let table = table_of(target.as_ref());
        self.walk_from(target.into_iter().collect(), from_clause);
        self.assignments(target_list, table.as_deref());
        self.out.has_where(where_clause.is_some());
        self.opt(where_clause);
        self.returning(returning_clause.as_ref());
    }

    pub(super) fn delete(&mut self, s: &DeleteStmt) {
        let DeleteStmt {
            relation,
            using_clause,
            where_clause,
            returning_clause,
            with_clause,
        } = s;
        if let Some(with) = with_clause {
            self.with_clause(with);
        }
        let target = relation.as_ref().map(|rv| self.write_target(rv));
        self.walk_from(target.into_iter().collect(), using_clause);
        self.out.has_where(where_clause.is_some());
        self.opt(where_clause);
        self.returning(returning_clause.as_ref());
    }

    pub(super) fn merge(&mut self, s: &MergeStmt) {
        let MergeStmt {
            relation,
            source_relation,
            join_condition,
            merge_when_clauses,
            returning_clause,
            with_clause,
        } = s;
        if let Some(with) = with_clause {
            self.with_clause(with);
        }
        let target = relation.as_ref().map(|rv| self.write_target(rv));
        let table = table_of(target.as_ref());
        self.walk_from(target.into_iter().collect(), source_relation.as_deref());
        self.opt(join_condition);
        for clause in merge_when_clauses {
            match &clause.node {
                Some(NodeEnum::MergeWhenClause(when)) => self.merge_when(when, table.as_deref()),
                Some(other) => self.node(other.to_ref()),
                None => {}
            }
        }
        self.returning(returning_clause.as_ref());
    }

    fn merge_when(&mut self, when: &MergeWhenClause, table: Option<&str>) {
        let MergeWhenClause {
            match_kind: _,
            command_type: _,
            r#override: _,
            condition,
            target_list,
            values,
        } = when;
        self.opt(condition);
        self.assignments(target_list, table);
        self.list(values);
    }

    /// `SET col = …`, an INSERT column list: the names are columns of the
    /// target; the values are expressions.
    fn assignments(&mut self, targets: &[Node], table: Option<&str>) {
        for target in targets {
            match &target.node {
                Some(NodeEnum::ResTarget(rt)) => {
                    if let Some(table) = table
                        && !rt.name.is_empty()
                    {
                        self.out.column(table, &rt.name);
                    }
                    self.list(&rt.indirection);
                    self.opt(&rt.val);
                }
                Some(other) => self.node(other.to_ref()),
                None => {}
            }
        }
    }

    fn returning(&mut self, clause: Option<&ReturningClause>) {
        if let Some(clause) = clause {
            self.children(NodeRef::ReturningClause(clause));
        }
    }
}

fn table_of(source: Option<&Source>) -> Option<String> {
    match source.map(|s| &s.target) {
        Some(Target::Table(t)) => Some(t.clone()),
        _ => None,
    }
}

/// `VALUES (…), (…)` with nothing around it.
fn is_plain_values(s: &SelectStmt) -> bool {
    !s.values_lists.is_empty()
        && s.from_clause.is_empty()
        && s.with_clause.is_none()
        && s.larg.is_none()
        && s.rarg.is_none()
}

/// The name of an unqualified column reference.
fn bare_column(node: &Node) -> Option<&str> {
    match &node.node {
        Some(NodeEnum::ColumnRef(c)) => match names::strings(&c.fields)?.as_slice() {
            [name] => Some(name),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a LIMIT / FETCH FIRST count bounds the result: a constant other
/// than NULL (`LIMIT ALL` is a NULL constant too), or a parameter, seen
/// through casts. Any other expression might evaluate to NULL, so it does
/// not count. The value never matters (only NULL-ness, which the cache key
/// keeps), so facts stay the same when literals change.
fn bounded(count: Option<&Node>) -> bool {
    match count.and_then(|n| n.node.as_ref()) {
        Some(NodeEnum::AConst(c)) => !c.isnull,
        Some(NodeEnum::ParamRef(_)) => true,
        Some(NodeEnum::TypeCast(cast)) => bounded(cast.arg.as_deref()),
        _ => false,
    }
}
