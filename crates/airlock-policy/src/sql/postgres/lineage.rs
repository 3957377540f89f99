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

use pg_query::NodeRef;
use pg_query::protobuf::{
    ColumnRef, CommonTableExpr, DeleteStmt, FuncCall, InsertStmt, JoinExpr, MergeStmt, Node,
    RangeFunction, RangeVar, ReturningClause, ReturningOptionKind, SelectStmt, SetOperation,
    SqlValueFunctionOp, SubLink, SubLinkType, UpdateStmt, WithClause, XmlExprOp,
    node::Node as NodeEnum,
};

use super::{children, kinds, names};
use crate::sql::features;
use crate::sql::lineage::{ColumnSource, OutputColumn, normalize};

/// Nesting of queries and expressions followed before giving up.
const MAX_DEPTH: u32 = 128;
/// Nodes visited before giving up: recursive CTEs are evaluated several
/// times, and nesting them multiplies the work.
const BUDGET: u32 = 200_000;
/// Rounds a recursive CTE gets to reach a fixed point.
const RECURSION_ROUNDS: usize = 8;
/// Set-returning functions of one column that depends on their arguments
/// only, so a star or a whole-row reference over them is that column.
const SCALAR_SET_FUNCTIONS: &[&str] = &[
    "generate_series",
    "generate_subscripts",
    "unnest",
    "regexp_split_to_table",
    "string_to_table",
    "json_array_elements",
    "json_array_elements_text",
    "jsonb_array_elements",
    "jsonb_array_elements_text",
    "json_object_keys",
    "jsonb_object_keys",
];

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

/// A result column, or a run of them, of a query level.
#[derive(Debug, Clone, PartialEq)]
enum Col {
    /// `name` is `None` when the analyser cannot be sure of the name the
    /// server gives it; a lookup by name then counts it as a match.
    Expr {
        name: Option<String>,
        sources: Vec<ColumnSource>,
    },
    /// `named`: the columns keep the names of the table columns they come
    /// from, so a lookup of `x` in it narrows `t.*` to `t.x`.
    Star {
        sources: Vec<ColumnSource>,
        named: bool,
    },
}

impl Col {
    fn expr(name: Option<String>, sources: Vec<ColumnSource>) -> Col {
        Col::Expr {
            name,
            sources: normalize(sources),
        }
    }

    fn sources(&self) -> &[ColumnSource] {
        match self {
            Col::Expr { sources, .. } | Col::Star { sources, .. } => sources,
        }
    }

    fn is_star(&self) -> bool {
        matches!(self, Col::Star { .. })
    }

    fn into_output(self) -> OutputColumn {
        match self {
            Col::Expr { sources, .. } => OutputColumn::Expr(normalize(sources)),
            Col::Star { sources, .. } => OutputColumn::Star(normalize(sources)),
        }
    }
}

/// A FROM item, or a name a DML statement adds (`excluded`, `old`, `new`).
#[derive(Debug, Clone)]
struct Item {
    /// The name columns qualify it by: the alias, else the relation name.
    name: Option<String>,
    /// The schema-qualified name when written without an alias.
    qualified: Option<String>,
    kind: Kind,
    /// Reachable only by its name: not in `*`, not searched for
    /// unqualified columns.
    hidden: bool,
    /// What a statement writes into this table: its RETURNING values may
    /// be those.
    written: Vec<ColumnSource>,
}

#[derive(Debug, Clone)]
enum Kind {
    Table(String),
    Derived(Vec<Col>),
    /// A function or table function: its columns come from `sources`
    /// (its arguments); `columns` when their number and names are known.
    /// `by_name`: a function that may return rows of a table (any but a
    /// few built-ins), so its columns also match table columns by name.
    Opaque {
        sources: Vec<ColumnSource>,
        columns: Option<Vec<String>>,
        by_name: bool,
    },
    Join {
        sides: Vec<Item>,
        using: Vec<String>,
        natural: bool,
        using_alias: Option<String>,
    },
}

impl Item {
    fn new(name: Option<String>, kind: Kind) -> Item {
        Item {
            name,
            qualified: None,
            kind,
            hidden: false,
            written: Vec::new(),
        }
    }

    fn find(&self, qualifier: &str) -> Option<&Item> {
        if self.name.as_deref() == Some(qualifier) || self.qualified.as_deref() == Some(qualifier) {
            return Some(self);
        }
        if let Kind::Join {
            sides, using_alias, ..
        } = &self.kind
        {
            if using_alias.as_deref() == Some(qualifier) {
                return Some(self);
            }
            return sides.iter().find_map(|s| s.find(qualifier));
        }
        None
    }

    /// The sources of column `name` of this item, and whether the item
    /// may have such a column at all.
    fn column(&self, name: &str) -> (Vec<ColumnSource>, bool) {
        let (mut sources, found) = match &self.kind {
            Kind::Table(table) => (vec![source(vec![table.clone()], name)], true),
            Kind::Derived(cols) => lookup(cols, name),
            Kind::Opaque {
                sources, by_name, ..
            } => {
                let mut out = sources.clone();
                if *by_name {
                    out.push(source(Vec::new(), name));
                }
                (out, true)
            }
            Kind::Join { sides, .. } => {
                let mut out = Vec::new();
                let mut found = false;
                for side in sides {
                    let (s, f) = side.column(name);
                    out.extend(s);
                    found |= f;
                }
                (out, found)
            }
        };
        sources.extend(self.written.iter().cloned());
        (sources, found)
    }

    /// The sources of the item as a whole row (`row_to_json(u)`).
    fn whole_row(&self) -> Result<Vec<ColumnSource>> {
        let mut out = match &self.kind {
            Kind::Table(table) => vec![source(vec![table.clone()], "*")],
            Kind::Derived(cols) => cols.iter().flat_map(|c| c.sources().to_vec()).collect(),
            Kind::Opaque {
                sources,
                columns: Some(columns),
                by_name,
            } => {
                let mut out = sources.clone();
                if *by_name {
                    out.extend(columns.iter().map(|c| source(Vec::new(), c)));
                }
                out
            }
            Kind::Opaque { columns: None, .. } => return Err(Unsupported),
            Kind::Join { sides, .. } => {
                let mut out = Vec::new();
                for side in sides {
                    out.extend(side.whole_row()?);
                }
                out
            }
        };
        out.extend(self.written.iter().cloned());
        Ok(out)
    }

    /// The columns `*` yields for this item.
    fn expand(&self) -> Result<Vec<Col>> {
        match &self.kind {
            Kind::Table(table) => {
                let mut sources = vec![source(vec![table.clone()], "*")];
                sources.extend(self.written.iter().cloned());
                Ok(vec![Col::Star {
                    sources,
                    named: true,
                }])
            }
            Kind::Derived(cols) => Ok(cols.clone()),
            Kind::Opaque {
                sources,
                columns: Some(columns),
                by_name,
            } => Ok(columns
                .iter()
                .map(|c| {
                    let mut s = sources.clone();
                    if *by_name {
                        s.push(source(Vec::new(), c));
                    }
                    Col::expr(Some(c.clone()), s)
                })
                .collect()),
            Kind::Opaque { columns: None, .. } => Err(Unsupported),
            Kind::Join {
                sides,
                using,
                natural,
                ..
            } => expand_join(sides, using, *natural),
        }
    }

    /// The items an unqualified column may belong to.
    fn leaves<'i>(&'i self, out: &mut Vec<&'i Item>) {
        match &self.kind {
            Kind::Join { sides, .. } => sides.iter().for_each(|s| s.leaves(out)),
            _ => out.push(self),
        }
    }
}

/// `*` over a join: USING (and NATURAL) columns once, first, then the
/// rest of each side.
fn expand_join(sides: &[Item], using: &[String], natural: bool) -> Result<Vec<Col>> {
    let mut parts = Vec::new();
    for side in sides {
        parts.push(side.expand()?);
    }
    let all: Vec<Col> = parts.iter().flatten().cloned().collect();
    let known = |cols: &[Col]| -> Option<Vec<String>> {
        cols.iter()
            .map(|c| match c {
                Col::Expr { name, .. } => name.clone(),
                Col::Star { .. } => None,
            })
            .collect()
    };
    let using: Vec<String> = if natural {
        // Which names the sides share is unknown once a side has a star.
        match parts.as_slice() {
            [left, right] => match (known(left), known(right)) {
                (Some(l), Some(r)) => l.into_iter().filter(|n| r.contains(n)).collect(),
                _ => return Ok(vec![collapse(&all)]),
            },
            _ => return Err(Unsupported),
        }
    } else {
        using.to_vec()
    };
    if using.is_empty() {
        return Ok(all);
    }
    // A column whose name is unsure may be a USING column, which would
    // change the count.
    if all
        .iter()
        .any(|c| matches!(c, Col::Expr { name: None, .. }))
    {
        return Ok(vec![collapse(&all)]);
    }
    let mut out: Vec<Col> = using
        .iter()
        .map(|u| {
            let sources = parts.iter().flat_map(|p| lookup(p, u).0).collect();
            Col::expr(Some(u.clone()), sources)
        })
        .collect();
    out.extend(all.into_iter().filter(|c| match c {
        Col::Expr { name: Some(n), .. } => !using.contains(n),
        _ => true,
    }));
    Ok(out)
}

/// One star for columns whose count or order is unknown.
fn collapse(cols: &[Col]) -> Col {
    Col::Star {
        sources: normalize(cols.iter().flat_map(|c| c.sources().to_vec()).collect()),
        named: false,
    }
}

/// The sources of the column called `name` among `cols`, and whether any
/// of them may be it.
fn lookup(cols: &[Col], name: &str) -> (Vec<ColumnSource>, bool) {
    let mut out = Vec::new();
    let mut found = false;
    for col in cols {
        match col {
            Col::Expr {
                name: Some(n),
                sources,
            } if n == name => {
                out.extend(sources.iter().cloned());
                found = true;
            }
            Col::Expr { name: Some(_), .. } => {}
            Col::Expr {
                name: None,
                sources,
            }
            | Col::Star {
                sources,
                named: false,
            } => {
                out.extend(sources.iter().cloned());
                found = true;
            }
            Col::Star {
                sources,
                named: true,
            } => {
                out.extend(sources.iter().map(|s| {
                    if s.column == "*" {
                        source(s.tables.clone(), name)
                    } else {
                        s.clone()
                    }
                }));
                found = true;
            }
        }
    }
    (out, found)
}

fn source(tables: Vec<String>, column: &str) -> ColumnSource {
    ColumnSource {
        tables,
        column: column.to_owned(),
    }
}

/// Renames the first columns as an alias's column list does. Past a star
/// the positions are unknown, so the names there become unsure.
fn rename(mut cols: Vec<Col>, names: &[String]) -> Vec<Col> {
    let mut names = names.iter();
    let mut star_at = None;
    for (i, col) in cols.iter_mut().enumerate() {
        match col {
            Col::Expr { name, .. } => match names.next() {
                Some(new) => *name = Some(new.clone()),
                None => return cols,
            },
            Col::Star { .. } => {
                star_at = Some(i);
                break;
            }
        }
    }
    if let Some(start) = star_at
        && names.len() > 0
    {
        for col in cols.iter_mut().skip(start) {
            match col {
                Col::Expr { name, .. } => *name = None,
                Col::Star { named, .. } => *named = false,
            }
        }
    }
    cols
}

fn strings(nodes: &[Node]) -> Result<Vec<String>> {
    names::strings(nodes)
        .map(|v| v.into_iter().map(str::to_owned).collect())
        .ok_or(Unsupported)
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

    fn with_clause(&mut self, with: &WithClause) -> Result<()> {
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

    fn source_item(&mut self, node: &Node) -> Result<Item> {
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
                        sources,
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
                        sources,
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
        Ok(Item::new(
            name,
            Kind::Opaque {
                sources,
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

    fn targets(&mut self, targets: &[Node]) -> Result<Vec<Col>> {
        let mut cols = Vec::new();
        for target in targets {
            let Some(NodeEnum::ResTarget(rt)) = &target.node else {
                return Err(Unsupported);
            };
            let value = rt.val.as_deref().ok_or(Unsupported)?;
            match &value.node {
                Some(NodeEnum::ColumnRef(c)) if is_star(c) => cols.extend(self.star(c)?),
                // `(expr).*`: as many columns as the composite has.
                Some(NodeEnum::AIndirection(ind))
                    if matches!(
                        ind.indirection.last().and_then(|n| n.node.as_ref()),
                        Some(NodeEnum::AStar(_))
                    ) =>
                {
                    let mut sources = Vec::new();
                    if let Some(arg) = &ind.arg {
                        self.expr_node(arg, &mut sources)?;
                    }
                    cols.push(Col::Star {
                        sources: normalize(sources),
                        named: false,
                    });
                }
                _ => {
                    let mut sources = Vec::new();
                    self.expr_node(value, &mut sources)?;
                    let name = if rt.name.is_empty() {
                        figure(value).name()
                    } else {
                        Some(rt.name.clone())
                    };
                    cols.push(Col::expr(name, sources));
                }
            }
        }
        Ok(cols)
    }

    /// The columns `*`, `t.*` or `composite.*` yields.
    fn star(&self, column: &ColumnRef) -> Result<Vec<Col>> {
        let parts = star_prefix(column)?;
        if parts.is_empty() {
            let items = self.frames.last().ok_or(Unsupported)?;
            if items.is_empty() {
                return Err(Unsupported);
            }
            let visible: Vec<&Item> = items.iter().filter(|i| !i.hidden).collect();
            let mut cols = Vec::new();
            for item in &visible {
                cols.extend(item.expand()?);
            }
            // Whether RETURNING * covers FROM and USING items as well as
            // the target is not this analyser's to get wrong.
            if self.in_returning && visible.len() > 1 {
                return Ok(vec![collapse(&cols)]);
            }
            return Ok(cols);
        }
        if let Some(item) = self.find_item(&parts.join(".")) {
            return item.expand();
        }
        Ok(vec![Col::Star {
            sources: normalize(self.column_sources(&parts)?),
            named: false,
        }])
    }

    fn find_item(&self, qualifier: &str) -> Option<&Item> {
        self.frames
            .iter()
            .rev()
            .find_map(|items| items.iter().find_map(|i| i.find(qualifier)))
    }

    fn column_ref(&self, column: &ColumnRef) -> Result<Vec<ColumnSource>> {
        if is_star(column) {
            let cols = self.star(column)?;
            return Ok(cols.iter().flat_map(|c| c.sources().to_vec()).collect());
        }
        let parts = strings(&column.fields)?;
        self.column_sources(&parts)
    }

    /// A dotted name: `column`, `t.column`, `schema.t.column`, or a
    /// field of a composite column, as PostgreSQL tries them.
    fn column_sources(&self, parts: &[String]) -> Result<Vec<ColumnSource>> {
        let (last, qualifier) = parts.split_last().ok_or(Unsupported)?;
        if qualifier.is_empty() {
            let mut out = self.unqualified(last);
            // A bare name may also be a whole row (`row_to_json(u)`).
            if let Some(item) = self.find_item(last) {
                out.extend(item.whole_row()?);
            }
            return Ok(out);
        }
        for k in (1..=qualifier.len().min(3)).rev() {
            let Some(item) = self.find_item(&parts[..k].join(".")) else {
                continue;
            };
            let column = &parts[k];
            let (sources, found) = item.column(column);
            // `t.f` with no column f is f(t), a function of the whole row.
            return if found { Ok(sources) } else { item.whole_row() };
        }
        // A composite column's field, or a qualifier not resolved here:
        // match by the column name too.
        let mut out = self.unqualified(&parts[0]);
        out.push(source(Vec::new(), last));
        Ok(out)
    }

    /// Every source an unqualified column could be: all tables of the
    /// innermost level, and outward until a level surely has the name.
    fn unqualified(&self, name: &str) -> Vec<ColumnSource> {
        let mut tables = Vec::new();
        let mut out = Vec::new();
        let mut matched = false;
        for items in self.frames.iter().rev() {
            let mut leaves = Vec::new();
            for item in items.iter().filter(|i| !i.hidden) {
                item.leaves(&mut leaves);
            }
            let mut sure = false;
            for leaf in leaves {
                match &leaf.kind {
                    Kind::Table(table) => {
                        tables.push(table.clone());
                        out.extend(leaf.written.iter().cloned());
                    }
                    Kind::Derived(cols) => {
                        let (sources, found) = lookup(cols, name);
                        sure |= cols
                            .iter()
                            .any(|c| matches!(c, Col::Expr { name: Some(n), .. } if n == name));
                        matched |= found;
                        out.extend(sources);
                    }
                    _ => {
                        let (sources, found) = leaf.column(name);
                        matched |= found;
                        out.extend(sources);
                    }
                }
            }
            if sure {
                break;
            }
        }
        // No item has the name: match by the name alone.
        if !tables.is_empty() || !matched {
            out.push(source(tables, name));
        }
        out
    }

    fn insert(&mut self, s: &InsertStmt) -> Result<Vec<Col>> {
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

    fn update(&mut self, s: &UpdateStmt) -> Result<Vec<Col>> {
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

    fn delete(&mut self, s: &DeleteStmt) -> Result<Vec<Col>> {
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

    fn merge(&mut self, s: &MergeStmt) -> Result<Vec<Col>> {
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

    fn expr_node(&mut self, node: &Node, out: &mut Vec<ColumnSource>) -> Result<()> {
        match &node.node {
            Some(inner) => self.expr(inner.to_ref(), out),
            None => Ok(()),
        }
    }

    /// Adds the sources of an expression's value to `out`.
    fn expr(&mut self, node: NodeRef<'_>, out: &mut Vec<ColumnSource>) -> Result<()> {
        self.enter()?;
        let result = self.expr_inner(node, out);
        self.depth -= 1;
        result
    }

    fn expr_inner(&mut self, node: NodeRef<'_>, out: &mut Vec<ColumnSource>) -> Result<()> {
        match node {
            NodeRef::ColumnRef(column) => out.extend(self.column_ref(column)?),
            NodeRef::FuncCall(call) => self.call(call, out)?,
            NodeRef::SubLink(link) => self.sublink(link, out)?,
            NodeRef::SelectStmt(_)
            | NodeRef::InsertStmt(_)
            | NodeRef::UpdateStmt(_)
            | NodeRef::DeleteStmt(_)
            | NodeRef::MergeStmt(_) => {
                for col in self.query(node)? {
                    out.extend(col.sources().iter().cloned());
                }
            }
            // Not an expression: nothing the analyser knows how to follow.
            NodeRef::RangeVar(_) | NodeRef::JoinExpr(_) | NodeRef::RangeSubselect(_) => {
                return Err(Unsupported);
            }
            _ if kinds::statement_kind(node).is_some() => return Err(Unsupported),
            _ => self.expr_children(node, out)?,
        }
        Ok(())
    }

    fn expr_children(&mut self, node: NodeRef<'_>, out: &mut Vec<ColumnSource>) -> Result<()> {
        let mut kids = Vec::new();
        children::for_each_child(node, &mut |child| kids.push(child));
        for child in kids {
            self.expr(child, out)?;
        }
        Ok(())
    }

    /// A call's value comes from its arguments (and, for an ordered-set
    /// aggregate, the WITHIN GROUP column); FILTER and OVER only choose
    /// rows, as WHERE does.
    fn call(&mut self, call: &FuncCall, out: &mut Vec<ColumnSource>) -> Result<()> {
        if let Some(name) = names::function(&call.funcname) {
            let reasons = features::of_function(&name.to_lowercase());
            if reasons.iter().any(|f| {
                [
                    features::DYNAMIC_SQL,
                    features::DBLINK,
                    features::FOREIGN_DATA,
                ]
                .contains(f)
            }) {
                return Err(Unsupported);
            }
        }
        for arg in &call.args {
            self.expr_node(arg, out)?;
        }
        if call.agg_within_group {
            for order in &call.agg_order {
                self.expr_node(order, out)?;
            }
        }
        Ok(())
    }

    fn sublink(&mut self, link: &SubLink, out: &mut Vec<ColumnSource>) -> Result<()> {
        let subselect = link.subselect.as_deref().ok_or(Unsupported)?;
        match SubLinkType::try_from(link.sub_link_type) {
            // True or false by whether rows exist, as WHERE decides.
            Ok(SubLinkType::ExistsSublink) => {}
            Ok(
                SubLinkType::ExprSublink
                | SubLinkType::ArraySublink
                | SubLinkType::MultiexprSublink,
            ) => {
                out.extend(self.query_sources(subselect)?);
            }
            Ok(
                SubLinkType::AnySublink | SubLinkType::AllSublink | SubLinkType::RowcompareSublink,
            ) => {
                if let Some(test) = &link.testexpr {
                    self.expr_node(test, out)?;
                }
                out.extend(self.query_sources(subselect)?);
            }
            _ => return Err(Unsupported),
        }
        Ok(())
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

fn alias(alias: Option<&pg_query::protobuf::Alias>) -> Result<(Option<String>, Vec<String>)> {
    match alias {
        Some(a) => Ok((Some(a.aliasname.clone()), strings(&a.colnames)?)),
        None => Ok((None, Vec::new())),
    }
}

fn is_star(column: &ColumnRef) -> bool {
    matches!(
        column.fields.last().and_then(|n| n.node.as_ref()),
        Some(NodeEnum::AStar(_))
    )
}

/// The names before the `*` of a star reference.
fn star_prefix(column: &ColumnRef) -> Result<Vec<String>> {
    let (_, prefix) = column.fields.split_last().ok_or(Unsupported)?;
    strings(prefix)
}

fn function_name(call: &Node) -> Option<&str> {
    match &call.node {
        Some(NodeEnum::FuncCall(f)) => names::function(&f.funcname),
        _ => None,
    }
}

/// The column name of a known one-column set-returning function.
fn scalar_function(call: &Node) -> Option<&str> {
    let Some(NodeEnum::FuncCall(f)) = &call.node else {
        return None;
    };
    let parts = names::strings(&f.funcname)?;
    let (name, schema) = parts.split_last()?;
    let builtin = schema.is_empty() || schema == ["pg_catalog"];
    // unnest of several arrays gives several columns.
    let one_column = *name != "unnest" || f.args.len() == 1;
    (builtin && one_column && SCALAR_SET_FUNCTIONS.contains(name)).then_some(*name)
}

/// A result column's name as PostgreSQL derives it from an expression
/// (`FigureColname`), with the strength it uses to prefer one over another.
enum Figure {
    Named(String, u8),
    /// `?column?`.
    Unnamed,
    /// The analyser cannot be sure.
    Unknown,
}

impl Figure {
    fn name(self) -> Option<String> {
        match self {
            Figure::Named(name, _) => Some(name),
            Figure::Unnamed => Some("?column?".to_owned()),
            Figure::Unknown => None,
        }
    }

    fn strong(name: &str) -> Figure {
        Figure::Named(name.to_owned(), 2)
    }
}

fn figure(node: &Node) -> Figure {
    let Some(inner) = &node.node else {
        return Figure::Unknown;
    };
    match inner {
        NodeEnum::ColumnRef(c) => match c.fields.last().and_then(|n| n.node.as_ref()) {
            Some(NodeEnum::String(s)) => Figure::strong(&s.sval),
            _ => Figure::Unknown,
        },
        NodeEnum::AIndirection(ind) => {
            let field = ind.indirection.iter().rev().find_map(|n| match &n.node {
                Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
                _ => None,
            });
            match (field, &ind.arg) {
                (Some(field), _) => Figure::strong(field),
                (None, Some(arg)) => figure(arg),
                (None, None) => Figure::Unknown,
            }
        }
        NodeEnum::FuncCall(f) => match names::function(&f.funcname) {
            Some(name) => Figure::strong(name),
            None => Figure::Unknown,
        },
        NodeEnum::AExpr(e) => {
            if e.kind == pg_query::protobuf::AExprKind::AexprNullif as i32 {
                Figure::strong("nullif")
            } else {
                Figure::Unnamed
            }
        }
        NodeEnum::TypeCast(cast) => {
            let inner = cast.arg.as_deref().map_or(Figure::Unnamed, figure);
            match inner {
                Figure::Named(_, 2) | Figure::Unknown => inner,
                Figure::Named(..) | Figure::Unnamed => {
                    match cast
                        .type_name
                        .as_ref()
                        .and_then(|t| names::function(&t.names))
                    {
                        Some(name) => Figure::Named(name.to_owned(), 1),
                        None => inner,
                    }
                }
            }
        }
        NodeEnum::CollateClause(c) => c.arg.as_deref().map_or(Figure::Unknown, figure),
        NodeEnum::GroupingFunc(_) => Figure::strong("grouping"),
        NodeEnum::MergeSupportFunc(_) => Figure::strong("merge_action"),
        NodeEnum::SubLink(link) => match SubLinkType::try_from(link.sub_link_type) {
            Ok(SubLinkType::ExistsSublink) => Figure::strong("exists"),
            Ok(SubLinkType::ArraySublink) => Figure::strong("array"),
            Ok(SubLinkType::ExprSublink) => match link.subselect.as_deref() {
                Some(select) => match first_target(select) {
                    Some(name) => Figure::strong(&name),
                    None => Figure::Unknown,
                },
                None => Figure::Unknown,
            },
            Ok(_) => Figure::Unnamed,
            Err(_) => Figure::Unknown,
        },
        NodeEnum::CaseExpr(case) => {
            let default = case.defresult.as_deref().map_or(Figure::Unnamed, figure);
            match default {
                Figure::Named(_, 2) | Figure::Unknown => default,
                _ => Figure::Named("case".to_owned(), 1),
            }
        }
        NodeEnum::AArrayExpr(_) => Figure::strong("array"),
        NodeEnum::RowExpr(_) => Figure::strong("row"),
        NodeEnum::CoalesceExpr(_) => Figure::strong("coalesce"),
        NodeEnum::MinMaxExpr(m) => match pg_query::protobuf::MinMaxOp::try_from(m.op) {
            Ok(pg_query::protobuf::MinMaxOp::IsGreatest) => Figure::strong("greatest"),
            Ok(pg_query::protobuf::MinMaxOp::IsLeast) => Figure::strong("least"),
            _ => Figure::Unknown,
        },
        NodeEnum::SqlvalueFunction(f) => sql_value_function(f.op),
        NodeEnum::XmlExpr(x) => match XmlExprOp::try_from(x.op) {
            Ok(XmlExprOp::IsXmlconcat) => Figure::strong("xmlconcat"),
            Ok(XmlExprOp::IsXmlelement) => Figure::strong("xmlelement"),
            Ok(XmlExprOp::IsXmlforest) => Figure::strong("xmlforest"),
            Ok(XmlExprOp::IsXmlparse) => Figure::strong("xmlparse"),
            Ok(XmlExprOp::IsXmlpi) => Figure::strong("xmlpi"),
            Ok(XmlExprOp::IsXmlroot) => Figure::strong("xmlroot"),
            Ok(XmlExprOp::IsXmlserialize) => Figure::strong("xmlserialize"),
            Ok(XmlExprOp::IsDocument) => Figure::Unnamed,
            _ => Figure::Unknown,
        },
        NodeEnum::XmlSerialize(_) => Figure::strong("xmlserialize"),
        NodeEnum::AConst(_)
        | NodeEnum::ParamRef(_)
        | NodeEnum::BoolExpr(_)
        | NodeEnum::NullTest(_)
        | NodeEnum::BooleanTest(_) => Figure::Unnamed,
        _ => Figure::Unknown,
    }
}

fn sql_value_function(op: i32) -> Figure {
    use SqlValueFunctionOp as Op;
    let name = match Op::try_from(op) {
        Ok(Op::SvfopCurrentDate) => "current_date",
        Ok(Op::SvfopCurrentTime | Op::SvfopCurrentTimeN) => "current_time",
        Ok(Op::SvfopCurrentTimestamp | Op::SvfopCurrentTimestampN) => "current_timestamp",
        Ok(Op::SvfopLocaltime | Op::SvfopLocaltimeN) => "localtime",
        Ok(Op::SvfopLocaltimestamp | Op::SvfopLocaltimestampN) => "localtimestamp",
        Ok(Op::SvfopCurrentRole) => "current_role",
        Ok(Op::SvfopCurrentUser) => "current_user",
        Ok(Op::SvfopUser) => "user",
        Ok(Op::SvfopSessionUser) => "session_user",
        Ok(Op::SvfopCurrentCatalog) => "current_catalog",
        Ok(Op::SvfopCurrentSchema) => "current_schema",
        _ => return Figure::Unknown,
    };
    Figure::strong(name)
}

/// The name of a scalar subquery's column: its first target's, from the
/// leftmost arm of a set operation.
fn first_target(select: &Node) -> Option<String> {
    match &select.node {
        Some(NodeEnum::SelectStmt(s)) => first_target_of(s),
        _ => None,
    }
}

fn first_target_of(s: &SelectStmt) -> Option<String> {
    if let Some(left) = &s.larg {
        return first_target_of(left);
    }
    if !s.values_lists.is_empty() {
        return Some("column1".to_owned());
    }
    let Some(NodeEnum::ResTarget(rt)) = s.target_list.first().and_then(|t| t.node.as_ref()) else {
        return None;
    };
    if !rt.name.is_empty() {
        return Some(rt.name.clone());
    }
    match rt.val.as_deref() {
        Some(Node {
            node: Some(NodeEnum::ColumnRef(c)),
        }) if is_star(c) => None,
        Some(value) => figure(value).name(),
        None => None,
    }
}
