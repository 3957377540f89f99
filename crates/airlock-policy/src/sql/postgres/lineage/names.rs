//! Names the analyser reads or derives: aliases and their column lists,
//! star prefixes, the names of function items, and the names PostgreSQL
//! gives result columns (`FigureColname`).

use pg_query::protobuf::{
    ColumnRef, Node, SelectStmt, SqlValueFunctionOp, SubLinkType, XmlExprOp, node::Node as NodeEnum,
};

use super::{Result, Unsupported};
use crate::sql::postgres::names;

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

pub(super) fn strings(nodes: &[Node]) -> Result<Vec<String>> {
    names::strings(nodes)
        .map(|v| v.into_iter().map(str::to_owned).collect())
        .ok_or(Unsupported)
}

pub(super) fn alias(
    alias: Option<&pg_query::protobuf::Alias>,
) -> Result<(Option<String>, Vec<String>)> {
    match alias {
        Some(a) => Ok((Some(a.aliasname.clone()), strings(&a.colnames)?)),
        None => Ok((None, Vec::new())),
    }
}

pub(super) fn is_star(column: &ColumnRef) -> bool {
    matches!(
        column.fields.last().and_then(|n| n.node.as_ref()),
        Some(NodeEnum::AStar(_))
    )
}

/// The names before the `*` of a star reference.
pub(super) fn star_prefix(column: &ColumnRef) -> Result<Vec<String>> {
    let (_, prefix) = column.fields.split_last().ok_or(Unsupported)?;
    strings(prefix)
}

pub(super) fn function_name(call: &Node) -> Option<&str> {
    match &call.node {
        Some(NodeEnum::FuncCall(f)) => names::function(&f.funcname),
        _ => None,
    }
}

/// The column name of a known one-column set-returning function.
pub(super) fn scalar_function(call: &Node) -> Option<&str> {
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
pub(super) enum Figure {
    Named(String, u8),
    /// `?column?`.
    Unnamed,
    /// The analyser cannot be sure.
    Unknown,
}

impl Figure {
    pub(super) fn name(self) -> Option<String> {
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

pub(super) fn figure(node: &Node) -> Figure {
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
