//! Name resolution shared by both dialects: which CTE names are visible
//! (a reference to one is not a table), and which table a column reference
//! belongs to (through aliases, and outward for correlated subqueries).

/// What a name in a FROM clause stands for.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Target {
    /// A table (or view), by the name facts use.
    Table(String),
    /// A subquery, CTE or function: its own statement names its columns.
    Derived,
    /// A join given an alias: its columns come from several tables.
    Join,
}

#[derive(Debug, Clone)]
pub(super) struct Source {
    /// The name columns qualify it by: the alias, else the table name.
    pub(super) name: String,
    /// The name as written with its schema, when it has no alias, so that
    /// `public.users.email` resolves too.
    pub(super) qualified: Option<String>,
    pub(super) target: Target,
}

impl Source {
    pub(super) fn table(table: String, alias: Option<&str>, relname: &str) -> Source {
        match alias {
            Some(alias) => Source {
                name: alias.to_owned(),
                qualified: None,
                target: Target::Table(table),
            },
            None => Source {
                name: relname.to_owned(),
                qualified: Some(table.clone()),
                target: Target::Table(table),
            },
        }
    }

    pub(super) fn other(name: &str, target: Target) -> Source {
        Source {
            name: name.to_owned(),
            qualified: None,
            target,
        }
    }
}

/// The sources of one SELECT (or UPDATE, DELETE, …) level.
#[derive(Debug, Default)]
struct Frame {
    sources: Vec<Source>,
    /// Unqualified names stop here instead of reaching outer levels: the
    /// ORDER BY of a UNION names output columns, not any table's.
    opaque: bool,
}

/// Where a column reference goes.
#[derive(Debug, PartialEq)]
pub(super) enum Resolved<'s> {
    /// `columns[table]` gets the column.
    Table(&'s str),
    /// Ambiguous: `columns["?"]` gets it.
    Unknown,
    /// A subquery or CTE column (that statement names the real one), or a
    /// name outside any FROM: no fact.
    Nothing,
}

pub(super) const UNKNOWN_TABLE: &str = "?";

/// Lexical scope during a walk. Marks returned by `mark` let a walker
/// restore the scope after a nested statement, whatever it pushed.
#[derive(Debug, Default)]
pub(super) struct Scope {
    frames: Vec<Frame>,
    /// Visible CTE names, innermost last.
    ctes: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Mark {
    frames: usize,
    ctes: usize,
}

impl Scope {
    pub(super) fn mark(&self) -> Mark {
        Mark {
            frames: self.frames.len(),
            ctes: self.ctes.len(),
        }
    }

    pub(super) fn restore(&mut self, mark: Mark) {
        self.frames.truncate(mark.frames);
        self.ctes.truncate(mark.ctes);
    }

    /// A scope for SQL that runs on its own (text inside a string literal):
    /// nothing of the enclosing statement is visible to it.
    pub(super) fn take(&mut self) -> Scope {
        std::mem::take(self)
    }

    pub(super) fn put_back(&mut self, scope: Scope) {
        *self = scope;
    }

    pub(super) fn add_cte(&mut self, name: &str) {
        self.ctes.push(name.to_owned());
    }

    /// Whether an unqualified relation name refers to a CTE in scope.
    pub(super) fn is_cte(&self, name: &str) -> bool {
        self.ctes.iter().any(|c| c == name)
    }

    pub(super) fn push_frame(&mut self, sources: Vec<Source>) {
        self.frames.push(Frame {
            sources,
            opaque: false,
        });
    }

    pub(super) fn push_opaque_frame(&mut self) {
        self.frames.push(Frame {
            sources: Vec::new(),
            opaque: true,
        });
    }

    /// The table an unqualified column belongs to: the single table of the
    /// nearest level that has sources (a correlated subquery without FROM
    /// reaches its parent's).
    pub(super) fn resolve_unqualified(&self) -> Resolved<'_> {
        for frame in self.frames.iter().rev() {
            if frame.opaque {
                return Resolved::Nothing;
            }
            let mut sources = frame.sources.iter().filter(|s| s.target != Target::Join);
            let Some(first) = sources.next() else {
                continue;
            };
            if sources.next().is_some() {
                return Resolved::Unknown;
            }
            return match &first.target {
                Target::Table(t) => Resolved::Table(t),
                Target::Derived | Target::Join => Resolved::Nothing,
            };
        }
        Resolved::Nothing
    }

    /// The table `qualifier.column` belongs to, searching outward.
    /// Qualifiers compare exactly as written (PostgreSQL's parser has
    /// already folded unquoted names; MySQL aliases are case-sensitive).
    pub(super) fn resolve_qualified(&self, qualifier: &str) -> Resolved<'_> {
        for frame in self.frames.iter().rev() {
            let found = frame
                .sources
                .iter()
                .find(|s| s.name == qualifier || s.qualified.as_deref() == Some(qualifier));
            if let Some(source) = found {
                return match &source.target {
                    Target::Table(t) => Resolved::Table(t),
                    Target::Derived => Resolved::Nothing,
                    Target::Join => Resolved::Unknown,
                };
            }
        }
        Resolved::Unknown
    }

    /// The table a bare name refers to as a whole row (`row_to_json(u)`
    /// with `users u`), if it names one: every column leaves with it.
    pub(super) fn whole_row(&self, name: &str) -> Option<&str> {
        self.frames.iter().rev().find_map(|frame| {
            frame.sources.iter().find_map(|s| match &s.target {
                Target::Table(t) if s.name == name => Some(t.as_str()),
                _ => None,
            })
        })
    }

    /// Tables `*` expands to: every table of the innermost frame.
    pub(super) fn star_tables(&self) -> Vec<&str> {
        self.frames
            .iter()
            .rev()
            .find(|f| f.opaque || !f.sources.is_empty())
            .map(|f| {
                f.sources
                    .iter()
                    .filter_map(|s| match &s.target {
                        Target::Table(t) => Some(t.as_str()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}
