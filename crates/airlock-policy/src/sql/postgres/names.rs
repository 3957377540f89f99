//! Names as facts spell them, from PostgreSQL parse-tree pieces. The
//! parser has already folded unquoted identifiers to lower case and kept
//! quoted ones as written, which is exactly how the server resolves them.

use pg_query::protobuf::{Node, RangeVar, node::Node as NodeEnum};

/// `catalog.schema.table`, with the parts the text gave.
pub(super) fn relation(rv: &RangeVar) -> String {
    join([&rv.catalogname, &rv.schemaname, &rv.relname])
}

/// Whether the relation is written without schema or catalog, the only
/// form that can name a CTE.
pub(super) fn unqualified(rv: &RangeVar) -> bool {
    rv.catalogname.is_empty() && rv.schemaname.is_empty()
}

/// The strings of a list of `String` nodes (a qualified name such as a
/// function's or a dropped table's), or `None` when a part is not a string.
pub(super) fn strings(nodes: &[Node]) -> Option<Vec<&str>> {
    nodes
        .iter()
        .map(|n| match &n.node {
            Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
            _ => None,
        })
        .collect()
}

/// A qualified name from a list of `String` nodes, joined with dots.
pub(super) fn qualified(nodes: &[Node]) -> Option<String> {
    strings(nodes)
        .filter(|parts| !parts.is_empty())
        .map(|parts| parts.join("."))
}

/// A function's bare name: the last part, so that `pg_catalog.lo_export`
/// and `lo_export` are the same fact.
pub(super) fn function(nodes: &[Node]) -> Option<&str> {
    nodes.last().and_then(|n| match &n.node {
        Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
        _ => None,
    })
}

fn join<'a>(parts: impl IntoIterator<Item = &'a String>) -> String {
    let mut out = String::new();
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(part);
    }
    out
}
