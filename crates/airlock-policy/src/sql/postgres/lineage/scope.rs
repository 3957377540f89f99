//! The scope a query level resolves names in: its result columns
//! ([`Col`]) and its FROM items ([`Item`]), with what `*`, a qualified
//! column or a whole row of an item stands for.

use super::{Result, Unsupported};
use crate::sql::lineage::{ColumnSource, OutputColumn, normalize};

/// A result column, or a run of them, of a query level.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Col {
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
    pub(super) fn expr(name: Option<String>, sources: Vec<ColumnSource>) -> Col {
        Col::Expr {
            name,
            sources: normalize(sources),
        }
    }

    pub(super) fn sources(&self) -> &[ColumnSource] {
        match self {
            Col::Expr { sources, .. } | Col::Star { sources, .. } => sources,
        }
    }

    pub(super) fn is_star(&self) -> bool {
        matches!(self, Col::Star { .. })
    }

    pub(super) fn into_output(self) -> OutputColumn {
        match self {
            Col::Expr { sources, .. } => OutputColumn::Expr(normalize(sources)),
            Col::Star { sources, .. } => OutputColumn::Star(normalize(sources)),
        }
    }
}

/// A FROM item, or a name a DML statement adds (`excluded`, `old`, `new`).
#[derive(Debug, Clone)]
pub(super) struct Item {
    /// The name columns qualify it by: the alias, else the relation name.
    pub(super) name: Option<String>,
    /// The schema-qualified name when written without an alias.
    pub(super) qualified: Option<String>,
    pub(super) kind: Kind,
    /// Reachable only by its name: not in `*`, not searched for
    /// unqualified columns.
    pub(super) hidden: bool,
    /// What a statement writes into this table: its RETURNING values may
    /// be those.
    pub(super) written: Vec<ColumnSource>,
}

#[derive(Debug, Clone)]
pub(super) enum Kind {
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
    pub(super) fn new(name: Option<String>, kind: Kind) -> Item {
        Item {
            name,
            qualified: None,
            kind,
            hidden: false,
            written: Vec::new(),
        }
    }

    pub(super) fn find(&self, qualifier: &str) -> Option<&Item> {
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
    pub(super) fn column(&self, name: &str) -> (Vec<ColumnSource>, bool) {
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
    pub(super) fn whole_row(&self) -> Result<Vec<ColumnSource>> {
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
    pub(super) fn expand(&self) -> Result<Vec<Col>> {
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
    pub(super) fn leaves<'i>(&'i self, out: &mut Vec<&'i Item>) {
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
pub(super) fn collapse(cols: &[Col]) -> Col {
    Col::Star {
        sources: normalize(cols.iter().flat_map(|c| c.sources().to_vec()).collect()),
        named: false,
    }
}

/// The sources of the column called `name` among `cols`, and whether any
/// of them may be it.
pub(super) fn lookup(cols: &[Col], name: &str) -> (Vec<ColumnSource>, bool) {
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

pub(super) fn source(tables: Vec<String>, column: &str) -> ColumnSource {
    ColumnSource {
        tables,
        column: column.to_owned(),
    }
}

/// Renames the first columns as an alias's column list does. Past a star
/// the positions are unknown, so the names there become unsure.
pub(super) fn rename(mut cols: Vec<Col>, names: &[String]) -> Vec<Col> {
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
