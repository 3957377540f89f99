//! Output-column lineage over the PostgreSQL parse tree (see
//! [`crate::sql::lineage`]). Unlike the facts walker, which only needs to
//! know that a column is touched, this one follows values: a FROM item
//! carries the lineage of its own columns, so `t.e` over a subquery, a CTE
//! or a set operation resolves to the columns `e` was computed from.
//!
//! Every failure is `Unsupported`, which the caller turns into `None`:
//! anything the analyser does not follow (an unknown node in a FROM list,
//! a star over a function whose columns it cannot know, SQL passed as a
//! string) stops the analysis rather than guessing.

mod columns;
mod dml;
mod exprs;
mod from;
mod names;
mod scope;

use pg_query::NodeRef;
use pg_query::protobuf::{Node, SelectStmt, SetOperation, node::Node as NodeEnum};

use crate::sql::lineage::{ColumnSource, OutputColumn};
use scope::{Col, Item, collapse};

/// Nesting of queries and expressions followed before giving up.
const MAX_DEPTH: u32 = 128;
/// Nodes visited before giving up: recursive CTEs are evaluated several
/// times, and nesting them multiplies the work.
const BUDGET: u32 = 200_000;

#[derive(Debug)]
struct Unsupported;

type Result<T> = std::result::Result<T, Unsupported>;

pub(in crate::sql) fn output_columns(text: &str) -> Option<Vec<OutputColumn>> {
    let parsed = pg_query::parse(text, pg_query::ParserOptions::DEFAULT).ok()?;
    let [raw] = parsed.protobuf.stmts.as_slice() else {
        return None;
    };
    let node = raw.stmt.as_deref()?.node.as_ref()?;
    match node {
        // Creates a table and returns no rows.
        NodeEnum::SelectStmt(s) if s.into_clause.is_some() => return None,
        NodeEnum::SelectStmt(_)
        | NodeEnum::InsertStmt(_)
        | NodeEnum::UpdateStmt(_)
        | NodeEnum::DeleteStmt(_)
        | NodeEnum::MergeStmt(_) => {}
        _ => return None,
    }
    let mut lineage = Lineage::default();
    let mut columns = lineage.query(node.to_ref()).ok()?;
    // The caller gives every field between the first and the last star
    // the stars' sources, so whatever lies between them joins one star.
    let first = columns.iter().position(Col::is_star);
    let last = columns.iter().rposition(Col::is_star);
    if let (Some(first), Some(last)) = (first, last)
        && first < last
    {
        let star = collapse(&columns[first..=last]);
        columns.splice(first..=last, [star]);
    }
    Some(columns.into_iter().map(Col::into_output).collect())
}

#[derive(Default)]
struct Lineage {
    /// FROM items of each query level, innermost last.
    frames: Vec<Vec<Item>>,
    /// CTEs in scope, innermost last; `None` while a WITH RECURSIVE body
    /// that may refer to it is not evaluated yet.
    ctes: Vec<(String, Option<Vec<Col>>)>,
    depth: u32,
    spent: u32,
    /// Evaluating a RETURNING list's own targets.
    in_returning: bool,
}

impl Lineage {
    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        self.spent += 1;
        if self.depth > MAX_DEPTH || self.spent > BUDGET {
            return Err(Unsupported);
        }
        Ok(())
    }

    /// The columns a statement returns.
    fn query(&mut self, node: NodeRef<'_>) -> Result<Vec<Col>> {
        self.enter()?;
        let frames = self.frames.len();
        let ctes = self.ctes.len();
        let returning = std::mem::take(&mut self.in_returning);
        let result = match node {
            NodeRef::SelectStmt(s) => self.select(s),
            NodeRef::InsertStmt(s) => self.insert(s),
            NodeRef::UpdateStmt(s) => self.update(s),
            NodeRef::DeleteStmt(s) => self.delete(s),
            NodeRef::MergeStmt(s) => self.merge(s),
            _ => Err(Unsupported),
        };
        self.in_returning = returning;
        self.frames.truncate(frames);
        self.ctes.truncate(ctes);
        self.depth -= 1;
        result
    }

    fn query_node(&mut self, node: &Node) -> Result<Vec<Col>> {
        let inner = node.node.as_ref().ok_or(Unsupported)?;
        self.query(inner.to_ref())
    }

    fn query_sources(&mut self, node: &Node) -> Result<Vec<ColumnSource>> {
        let cols = self.query_node(node)?;
        Ok(cols.iter().flat_map(|c| c.sources().to_vec()).collect())
    }

    /// A SELECT, leaving the scope as it found it.
    fn select(&mut self, s: &SelectStmt) -> Result<Vec<Col>> {
        let frames = self.frames.len();
        let ctes = self.ctes.len();
        let result = self.select_inner(s);
        self.frames.truncate(frames);
        self.ctes.truncate(ctes);
        result
    }

    fn select_inner(&mut self, s: &SelectStmt) -> Result<Vec<Col>> {
        if s.into_clause.is_some() {
            return Err(Unsupported);
        }
        if let Some(with) = &s.with_clause {
            self.with_clause(with)?;
        }
        let set_op = !matches!(
            SetOperation::try_from(s.op),
            Ok(SetOperation::SetopNone | SetOperation::Undefined)
        );
        if set_op || s.larg.is_some() || s.rarg.is_some() {
            let (Some(left), Some(right)) = (&s.larg, &s.rarg) else {
                return Err(Unsupported);
            };
            let left = self.select(left)?;
            let right = self.select(right)?;
            return set_operation(left, right);
        }
        if !s.values_lists.is_empty() {
            return self.values(&s.values_lists);
        }
        self.frames.push(Vec::new());
        for item in &s.from_clause {
            let item = self.source_item(item)?;
            self.top()?.push(item);
        }
        self.targets(&s.target_list)
    }

    fn top(&mut self) -> Result<&mut Vec<Item>> {
        self.frames.last_mut().ok_or(Unsupported)
    }

    fn values(&mut self, rows: &[Node]) -> Result<Vec<Col>> {
        let mut columns: Vec<Vec<ColumnSource>> = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let Some(NodeEnum::List(list)) = &row.node else {
                return Err(Unsupported);
            };
            if i == 0 {
                columns.resize(list.items.len(), Vec::new());
            } else if list.items.len() != columns.len() {
                return Err(Unsupported);
            }
            for (column, value) in columns.iter_mut().zip(&list.items) {
                self.expr_node(value, column)?;
            }
        }
        Ok(columns
            .into_iter()
            .enumerate()
            .map(|(i, sources)| Col::expr(Some(format!("column{}", i + 1)), sources))
            .collect())
    }
}

/// Per position, the union of both arms; names from the left. Stars make
/// positions unknown, so only the columns before the first and after the
/// last star of both arms keep theirs.
fn set_operation(left: Vec<Col>, right: Vec<Col>) -> Result<Vec<Col>> {
    let plain = |cols: &[Col]| !cols.iter().any(Col::is_star);
    if plain(&left) && plain(&right) {
        if left.len() != right.len() {
            return Err(Unsupported);
        }
        return Ok(left
            .into_iter()
            .zip(right)
            .map(|(l, r)| merge(l, &r))
            .collect());
    }
    let leading = |cols: &[Col]| cols.iter().take_while(|c| !c.is_star()).count();
    let trailing = |cols: &[Col]| cols.iter().rev().take_while(|c| !c.is_star()).count();
    let front = leading(&left).min(leading(&right));
    let back = trailing(&left).min(trailing(&right));
    if front + back > left.len().min(right.len()) {
        return Err(Unsupported);
    }
    let mut out = Vec::new();
    for (l, r) in left.iter().zip(&right).take(front) {
        out.push(merge(l.clone(), r));
    }
    let middle: Vec<Col> = left[front..left.len() - back]
        .iter()
        .chain(&right[front..right.len() - back])
        .cloned()
        .collect();
    out.push(collapse(&middle));
    for (l, r) in left[left.len() - back..]
        .iter()
        .zip(&right[right.len() - back..])
    {
        out.push(merge(l.clone(), r));
    }
    Ok(out)
}

fn merge(left: Col, right: &Col) -> Col {
    match left {
        Col::Expr { name, mut sources } => {
            sources.extend(right.sources().iter().cloned());
            Col::expr(name, sources)
        }
        star @ Col::Star { .. } => collapse(&[star, right.clone()]),
    }
}
