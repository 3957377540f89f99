//! INSERT, UPDATE, DELETE and MERGE: the columns of their RETURNING
//! lists, with what the statement writes into its target.

use pg_query::protobuf::{
    DeleteStmt, InsertStmt, MergeStmt, Node, RangeVar, ReturningClause, ReturningOptionKind,
    UpdateStmt, node::Node as NodeEnum,
};

use super::names::alias;
use super::scope::{Col, Item, Kind};
use super::{Lineage, Result, Unsupported};
use crate::sql::lineage::ColumnSource;
use crate::sql::postgres::names;

impl Lineage {
    pub(super) fn insert(&mut self, s: &InsertStmt) -> Result<Vec<Col>> {
        if let Some(with) = &s.with_clause {
            self.with_clause(with)?;
        }
        let returning = s.returning_clause.as_ref().ok_or(Unsupported)?;
        let rv = s.relation.as_ref().ok_or(Unsupported)?;
        let mut target = self.target(rv)?;
        if let Some(rows) = s.select_stmt.as_deref() {
            target.written = self.query_sources(rows)?;
        }
        if let Some(conflict) = &s.on_conflict_clause {
            let excluded = Item {
                name: Some("excluded".to_owned()),
                qualified: None,
                hidden: true,
                ..target.clone()
            };
            self.frames.push(vec![target.clone(), excluded]);
            let mut written = Vec::new();
            let assigned = self.assignments(&conflict.target_list, &mut written);
            self.frames.pop();
            assigned?;
            target.written.extend(written);
        }
        self.frames.push(vec![target]);
        self.returning(returning)
    }

    pub(super) fn update(&mut self, s: &UpdateStmt) -> Result<Vec<Col>> {
        if let Some(with) = &s.with_clause {
            self.with_clause(with)?;
        }
        let returning = s.returning_clause.as_ref().ok_or(Unsupported)?;
        let rv = s.relation.as_ref().ok_or(Unsupported)?;
        let target = self.target(rv)?;
        self.frames.push(vec![target]);
        for item in &s.from_clause {
            let item = self.source_item(item)?;
            self.top()?.push(item);
        }
        let mut written = Vec::new();
        self.assignments(&s.target_list, &mut written)?;
        if let Some(target) = self.top()?.first_mut() {
            target.written = written;
        }
        self.returning(returning)
    }

    pub(super) fn delete(&mut self, s: &DeleteStmt) -> Result<Vec<Col>> {
        if let Some(with) = &s.with_clause {
            self.with_clause(with)?;
        }
        let returning = s.returning_clause.as_ref().ok_or(Unsupported)?;
        let rv = s.relation.as_ref().ok_or(Unsupported)?;
        let target = self.target(rv)?;
        self.frames.push(vec![target]);
        for item in &s.using_clause {
            let item = self.source_item(item)?;
            self.top()?.push(item);
        }
        self.returning(returning)
    }

    pub(super) fn merge(&mut self, s: &MergeStmt) -> Result<Vec<Col>> {
        if let Some(with) = &s.with_clause {
            self.with_clause(with)?;
        }
        let returning = s.returning_clause.as_ref().ok_or(Unsupported)?;
        let rv = s.relation.as_ref().ok_or(Unsupported)?;
        let target = self.target(rv)?;
        self.frames.push(vec![target]);
        let source_relation = s.source_relation.as_deref().ok_or(Unsupported)?;
        let item = self.source_item(source_relation)?;
        self.top()?.push(item);
        let mut written = Vec::new();
        for clause in &s.merge_when_clauses {
            let Some(NodeEnum::MergeWhenClause(when)) = &clause.node else {
                return Err(Unsupported);
            };
            self.assignments(&when.target_list, &mut written)?;
            for value in &when.values {
                self.expr_node(value, &mut written)?;
            }
        }
        if let Some(target) = self.top()?.first_mut() {
            target.written = written;
        }
        self.returning(returning)
    }

    fn target(&self, rv: &RangeVar) -> Result<Item> {
        let table = names::relation(rv);
        let (alias, _) = alias(rv.alias.as_ref())?;
        Ok(match alias {
            Some(alias) => Item::new(Some(alias), Kind::Table(table)),
            None => Item {
                qualified: Some(table.clone()),
                ..Item::new(Some(rv.relname.clone()), Kind::Table(table))
            },
        })
    }

    /// `SET col = value` lists: the values' sources.
    fn assignments(&mut self, targets: &[Node], out: &mut Vec<ColumnSource>) -> Result<()> {
        for target in targets {
            match &target.node {
                Some(NodeEnum::ResTarget(rt)) => {
                    if let Some(value) = &rt.val {
                        self.expr_node(value, out)?;
                    }
                }
                _ => return Err(Unsupported),
            }
        }
        Ok(())
    }

    /// RETURNING, with the target in the innermost frame; `old` and `new`
    /// (or their aliases) name the target too.
    fn returning(&mut self, clause: &ReturningClause) -> Result<Vec<Col>> {
        let target = self
            .frames
            .last()
            .and_then(|f| f.first())
            .cloned()
            .ok_or(Unsupported)?;
        let mut old = "old".to_owned();
        let mut new = "new".to_owned();
        for option in &clause.options {
            let Some(NodeEnum::ReturningOption(option)) = &option.node else {
                return Err(Unsupported);
            };
            match ReturningOptionKind::try_from(option.option) {
                Ok(ReturningOptionKind::ReturningOptionOld) => old.clone_from(&option.value),
                Ok(ReturningOptionKind::ReturningOptionNew) => new.clone_from(&option.value),
                _ => return Err(Unsupported),
            }
        }
        for name in [old, new] {
            let item = Item {
                name: Some(name),
                qualified: None,
                hidden: true,
                ..target.clone()
            };
            self.top()?.push(item);
        }
        self.in_returning = true;
        let cols = self.targets(&clause.exprs);
        self.in_returning = false;
        cols
    }
}
