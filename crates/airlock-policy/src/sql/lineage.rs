//! Output-column lineage: which table columns each result column of a
//! statement is computed from. Masking needs it for result columns that
//! the server describes without a table (expressions), where the
//! protocol alone cannot tell `upper(email)` from `1`.
//!
//! A wrong answer here leaks data, so the analysis is conservative: where
//! it cannot be sure how many columns a part of the result has it says
//! [`OutputColumn::Star`], and where it cannot follow the statement at all
//! it says nothing (`None`), so that the caller masks everything.

/// One column a result value is computed from. `tables` are the candidate base tables
/// (as the analyser names tables elsewhere: schema-qualified when the text qualifies,
/// case-normalised as PostgreSQL does); several when an unqualified column name could
/// come from several tables in scope; empty when the analyser cannot tell which table
/// (the caller then matches on the column name alone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSource {
    pub tables: Vec<String>,
    pub column: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputColumn {
    /// One result column computed from these sources (empty: from none).
    Expr(Vec<ColumnSource>),
    /// `*` or `t.*`: expands to an unknown number of result columns; every one of
    /// them is computed from (a subset of) these sources. `column == "*"` in a
    /// source means "any column of those tables" (a star over a base table).
    Star(Vec<ColumnSource>),
}

/// The result columns of a single PostgreSQL statement, in order, or `None` when
/// the text is not exactly one statement that returns rows in a shape the analyser
/// follows (parse error, several statements, EXPLAIN, FETCH from a cursor, a call of a
/// set-returning function whose columns it cannot know, …). Never panics.
///
/// Functions are taken to compute their result from their arguments only
/// (a user-defined function that reads a table is not seen), and a view
/// is a table like any other; functions that run SQL given as text
/// (`query_to_xml`, `dblink`, …) give `None`.
pub fn output_columns(text: &str) -> Option<Vec<OutputColumn>> {
    super::postgres::output_columns(text)
}

/// Sorted, without duplicates, and without a column that a star over the
/// same tables already covers, so equal lineages compare equal.
pub(super) fn normalize(mut sources: Vec<ColumnSource>) -> Vec<ColumnSource> {
    for source in &mut sources {
        source.tables.sort();
        source.tables.dedup();
    }
    sources.sort_by(|a, b| (&a.tables, &a.column).cmp(&(&b.tables, &b.column)));
    sources.dedup();
    let stars: Vec<Vec<String>> = sources
        .iter()
        .filter(|s| s.column == "*")
        .map(|s| s.tables.clone())
        .collect();
    sources.retain(|s| {
        s.column == "*"
            || s.tables.is_empty()
            || !stars
                .iter()
                .any(|star| s.tables.iter().all(|t| star.contains(t)))
    });
    sources
}
