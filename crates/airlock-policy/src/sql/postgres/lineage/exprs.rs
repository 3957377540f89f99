//! Expressions: the columns a value is computed from, through function
//! calls and subqueries.

use pg_query::NodeRef;
use pg_query::protobuf::{FuncCall, Node, SubLink, SubLinkType};

use super::{Lineage, Result, Unsupported};
use crate::sql::features;
use crate::sql::lineage::ColumnSource;
use crate::sql::postgres::{children, kinds, names};

impl Lineage {
    pub(super) fn expr_node(&mut self, node: &Node, out: &mut Vec<ColumnSource>) -> Result<()> {
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

    pub(super) fn expr_children(
        &mut self,
        node: NodeRef<'_>,
        out: &mut Vec<ColumnSource>,
    ) -> Result<()> {
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
