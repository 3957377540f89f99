//! Target lists, stars and column references, resolved against the
//! FROM items in scope.

use pg_query::protobuf::{ColumnRef, Node, node::Node as NodeEnum};

use super::names::{figure, is_star, star_prefix, strings};
use super::scope::{Col, Item, Kind, collapse, lookup, source};
use super::{Lineage, Result, Unsupported};
use crate::sql::lineage::{ColumnSource, normalize};

impl Lineage {
    pub(super) fn targets(&mut self, targets: &[Node]) -> Result<Vec<Col>> {
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

    pub(super) fn column_ref(&self, column: &ColumnRef) -> Result<Vec<ColumnSource>> {
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
}
