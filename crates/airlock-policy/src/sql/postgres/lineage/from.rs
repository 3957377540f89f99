//! FROM items: relations, CTEs (recursive ones by a fixed point),
//! subqueries, functions and joins.

use pg_query::NodeRef;
use pg_query::protobuf::{
    CommonTableExpr, JoinExpr, Node, RangeFunction, RangeVar, WithClause, node::Node as NodeEnum,
};

use super::names::{alias, function_name, scalar_function, strings};
use super::scope::{Col, Item, Kind, rename, source};
use super::{Lineage, Result, Unsupported};
use crate::sql::lineage::{ColumnSource, OutputColumn, normalize};
use crate::sql::postgres::names;

/// Rounds a recursive CTE gets to reach a fixed point.
const RECURSION_ROUNDS: usize = 8;

impl Lineage {
    pub(super) fn with_clause(&mut self, with: &WithClause) -> Result<()> {
        let ctes: Vec<&CommonTableExpr> = with
            .ctes
            .iter()
            .map(|n| match &n.node {
                Some(NodeEnum::CommonTableExpr(c)) => Ok(&**c),
                _ => Err(Unsupported),
            })
            .collect::<Result<_>>()?;
        if !with.recursive {
            for cte in ctes {
                let cols = self.cte_body(cte)?;
                self.ctes.push((cte.ctename.clone(), Some(cols)));
            }
            return Ok(());
        }
        let base = self.ctes.len();
        for cte in &ctes {
            self.ctes.push((cte.ctename.clone(), None));
        }
        for (i, cte) in ctes.into_iter().enumerate() {
            let cols = self.recursive_cte(cte, base + i)?;
            self.set_cte(base + i, cols)?;
        }
        Ok(())
    }

    fn set_cte(&mut self, slot: usize, cols: Vec<Col>) -> Result<()> {
        let entry = self.ctes.get_mut(slot).ok_or(Unsupported)?;
        entry.1 = Some(cols);
        Ok(())
    }

    fn cte_body(&mut self, cte: &CommonTableExpr) -> Result<Vec<Col>> {
        let cols = self.cte_query(cte)?;
        Ok(search_and_cycle(cte, cols))
    }

    /// The body's columns under the CTE's column names, without the
    /// columns SEARCH and CYCLE add.
    fn cte_query(&mut self, cte: &CommonTableExpr) -> Result<Vec<Col>> {
        let body = cte.ctequery.as_deref().ok_or(Unsupported)?;
        let cols = self.query_node(body)?;
        Ok(rename(cols, &strings(&cte.aliascolnames)?))
    }

    /// A CTE that may refer to itself: its lineage is the fixed point of
    /// evaluating the body with the previous round's columns as its own,
    /// starting from the non-recursive arm.
    fn recursive_cte(&mut self, cte: &CommonTableExpr, slot: usize) -> Result<Vec<Col>> {
        let seed = match cte.ctequery.as_deref().and_then(|n| n.node.as_ref()) {
            Some(NodeEnum::SelectStmt(s)) if s.larg.is_some() => {
                let left = s.larg.as_deref().ok_or(Unsupported)?;
                let saved = self.ctes.len();
                if let Some(with) = &s.with_clause {
                    self.with_clause(with)?;
                }
                let seed = self.select(left);
                self.ctes.truncate(saved);
                rename(seed?, &strings(&cte.aliascolnames)?)
            }
            _ => return self.cte_body(cte),
        };
        let mut current: Vec<Col> = seed;
        for _ in 0..RECURSION_ROUNDS {
            self.set_cte(slot, current.clone())?;
            let next = self.cte_query(cte)?;
            if settled(&next) == settled(&current) {
                return Ok(search_and_cycle(cte, next));
            }
            current = next;
        }
        Err(Unsupported)
    }

    fn cte(&self, name: &str) -> Option<Result<Vec<Col>>> {
        self.ctes
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, cols)| cols.clone().ok_or(Unsupported))
    }

    pub(super) fn source_item(&mut self, node: &Node) -> Result<Item> {
        self.enter()?;
        let result = self.source_item_inner(node);
        self.depth -= 1;
        result
    }

    fn source_item_inner(&mut self, node: &Node) -> Result<Item> {
        match node.node.as_ref().ok_or(Unsupported)? {
            NodeEnum::RangeVar(rv) => self.relation(rv),
            NodeEnum::RangeSubselect(sub) => {
                let query = sub.subquery.as_deref().ok_or(Unsupported)?;
                let cols = if sub.lateral {
                    self.query_node(query)?
                } else {
                    // Only LATERAL sees the FROM items before it.
                    let partial = self.frames.pop();
                    let cols = self.query_node(query);
                    self.frames.extend(partial);
                    cols?
                };
                let (name, colnames) = alias(sub.alias.as_ref())?;
                Ok(Item::new(name, Kind::Derived(rename(cols, &colnames))))
            }
            NodeEnum::RangeFunction(f) => self.function_item(f),
            NodeEnum::RangeTableFunc(f) => {
                let mut sources = Vec::new();
                self.expr_children(NodeRef::RangeTableFunc(f), &mut sources)?;
                let name = f.alias.as_ref().map(|a| a.aliasname.clone());
                Ok(Item::new(
                    name,
                    Kind::Opaque {
                        sources: normalize(sources),
                        columns: None,
                        by_name: true,
                    },
                ))
            }
            NodeEnum::JsonTable(t) => {
                let mut sources = Vec::new();
                self.expr_children(NodeRef::JsonTable(t), &mut sources)?;
                let name = t.alias.as_ref().map(|a| a.aliasname.clone());
                Ok(Item::new(
                    name,
                    Kind::Opaque {
                        sources: normalize(sources),
                        columns: None,
                        by_name: true,
                    },
                ))
            }
            NodeEnum::RangeTableSample(sample) => {
                let relation = sample.relation.as_deref().ok_or(Unsupported)?;
                self.source_item(relation)
            }
            NodeEnum::JoinExpr(join) => self.join(join),
            _ => Err(Unsupported),
        }
    }

    fn relation(&mut self, rv: &RangeVar) -> Result<Item> {
        let (alias, colnames) = alias(rv.alias.as_ref())?;
        if names::unqualified(rv)
            && let Some(cols) = self.cte(&rv.relname)
        {
            let name = alias.unwrap_or_else(|| rv.relname.clone());
            return Ok(Item::new(
                Some(name),
                Kind::Derived(rename(cols?, &colnames)),
            ));
        }
        let table = names::relation(rv);
        let mut item = match alias {
            Some(alias) => Item::new(Some(alias), Kind::Table(table.clone())),
            None => Item {
                qualified: Some(table.clone()),
                ..Item::new(Some(rv.relname.clone()), Kind::Table(table.clone()))
            },
        };
        if !colnames.is_empty() {
            // `users AS u(a, b)` renames columns whose names are unknown.
            item.kind = Kind::Derived(vec![Col::Star {
                sources: vec![source(vec![table], "*")],
                named: false,
            }]);
        }
        Ok(item)
    }

    fn function_item(&mut self, f: &RangeFunction) -> Result<Item> {
        let mut sources = Vec::new();
        let mut calls = Vec::new();
        let mut coldefs: Vec<String> = Vec::new();
        for entry in &f.functions {
            let Some(NodeEnum::List(pair)) = &entry.node else {
                return Err(Unsupported);
            };
            let mut parts = pair.items.iter();
            let call = parts.next().ok_or(Unsupported)?;
            self.expr_node(call, &mut sources)?;
            calls.push(call);
            if let Some(Node {
                node: Some(NodeEnum::List(defs)),
            }) = parts.next()
            {
                for def in &defs.items {
                    match &def.node {
                        Some(NodeEnum::ColumnDef(c)) => coldefs.push(c.colname.clone()),
                        _ => return Err(Unsupported),
                    }
                }
            }
        }
        for def in &f.coldeflist {
            match &def.node {
                Some(NodeEnum::ColumnDef(c)) => coldefs.push(c.colname.clone()),
                _ => return Err(Unsupported),
            }
        }
        let (alias, colnames) = alias(f.alias.as_ref())?;
        let scalar = match calls.as_slice() {
            [call] => scalar_function(call),
            _ => None,
        };
        let mut columns = if !coldefs.is_empty() && calls.len() == 1 {
            Some(coldefs)
        } else {
            // A one-column function's column is named like the item.
            scalar.map(|name| vec![alias.clone().unwrap_or_else(|| name.to_owned())])
        };
        if let Some(columns) = &mut columns {
            if f.ordinality {
                columns.push("ordinality".to_owned());
            }
            for (column, new) in columns.iter_mut().zip(&colnames) {
                new.clone_into(column);
            }
        }
        // Unaliased, a function is named after itself.
        let name = alias.or_else(|| match calls.as_slice() {
            [call] => function_name(call).map(str::to_owned),
            _ => None,
        });
        let by_name = scalar.is_none();
        // Deduplicated here, not only at the end: a function in FROM sees
        // the items before it, so each one's sources include those of every
        // earlier one, and kept with repeats they would double per item.
        Ok(Item::new(
            name,
            Kind::Opaque {
                sources: normalize(sources),
                columns,
                by_name,
            },
        ))
    }

    fn join(&mut self, join: &JoinExpr) -> Result<Item> {
        let left = join.larg.as_deref().ok_or(Unsupported)?;
        let right = join.rarg.as_deref().ok_or(Unsupported)?;
        let left = self.source_item(left)?;
        // The right side may be LATERAL over the left.
        self.top()?.push(left);
        let right = self.source_item(right);
        let left = self.top()?.pop().ok_or(Unsupported)?;
        let (name, colnames) = alias(join.alias.as_ref())?;
        let mut item = Item::new(
            name,
            Kind::Join {
                sides: vec![left, right?],
                using: strings(&join.using_clause)?,
                natural: join.is_natural,
                using_alias: join.join_using_alias.as_ref().map(|a| a.aliasname.clone()),
            },
        );
        if !colnames.is_empty() {
            let cols = rename(item.expand()?, &colnames);
            item.kind = Kind::Derived(cols);
        }
        Ok(item)
    }
}

/// SEARCH and CYCLE add columns made of the listed ones; take them all.
fn search_and_cycle(cte: &CommonTableExpr, mut cols: Vec<Col>) -> Vec<Col> {
    let all: Vec<ColumnSource> = cols.iter().flat_map(|c| c.sources().to_vec()).collect();
    if let Some(search) = &cte.search_clause {
        cols.push(Col::expr(
            Some(search.search_seq_column.clone()),
            all.clone(),
        ));
    }
    if let Some(cycle) = &cte.cycle_clause {
        for name in [&cycle.cycle_mark_column, &cycle.cycle_path_column] {
            cols.push(Col::expr(Some(name.clone()), all.clone()));
        }
    }
    cols
}

fn settled(cols: &[Col]) -> Vec<OutputColumn> {
    cols.iter().cloned().map(Col::into_output).collect()
}
