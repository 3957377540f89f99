//! Column patterns: `users.email`, `*.password`, `billing.*.card_number`.
//!
//! Two parts name a table and a column in any schema; three parts add the
//! schema. A part is a name, compared as the catalog spells it (unquoted
//! names are lower-case in PostgreSQL), `*` for any, or a name with `*`
//! standing for any run of characters (`*_address`, `card_*`).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnPattern {
    text: String,
    schema: Part,
    table: Part,
    column: Part,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Any,
    Name(String),
    Glob(String),
}

impl Part {
    fn parse(s: &str) -> Result<Part, String> {
        match s {
            "" => Err("an empty part".into()),
            "*" => Ok(Part::Any),
            glob if glob.contains('*') => Ok(Part::Glob(glob.to_string())),
            name => Ok(Part::Name(name.to_string())),
        }
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            Part::Any => true,
            Part::Name(n) => n == name,
            Part::Glob(g) => glob_matches(g.as_bytes(), name.as_bytes()),
        }
    }
}

/// `*` matches any run of bytes; everything else matches itself. Greedy
/// with backtracking to the last star: linear enough for names.
fn glob_matches(glob: &[u8], name: &[u8]) -> bool {
    let (mut g, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if g < glob.len() && glob[g] == b'*' {
            star = Some((g, n));
            g += 1;
        } else if g < glob.len() && glob[g] == name[n] {
            g += 1;
            n += 1;
        } else if let Some((sg, sn)) = star {
            g = sg + 1;
            n = sn + 1;
            star = Some((sg, sn + 1));
        } else {
            return false;
        }
    }
    glob[g..].iter().all(|&b| b == b'*')
}

impl ColumnPattern {
    pub fn parse(text: &str) -> Result<ColumnPattern, String> {
        let parts: Vec<&str> = text.split('.').collect();
        let bad = |why: String| format!("column pattern {text:?}: {why}");
        let (schema, table, column) = match parts.as_slice() {
            [t, c] => (Part::Any, Part::parse(t), Part::parse(c)),
            [s, t, c] => (Part::parse(s).map_err(bad)?, Part::parse(t), Part::parse(c)),
            _ => {
                return Err(bad(
                    "expected table.column or schema.table.column".to_string()
                ));
            }
        };
        Ok(ColumnPattern {
            text: text.to_string(),
            schema,
            table: table.map_err(bad)?,
            column: column.map_err(bad)?,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Does the pattern cover this catalog column?
    pub fn matches(&self, schema: &str, table: &str, column: &str) -> bool {
        self.schema.matches(schema) && self.table.matches(table) && self.column.matches(column)
    }

    /// Does the pattern cover a column the analyser traced a result value
    /// to? Its knowledge is partial, so doubt counts as a match: `tables`
    /// empty means any table, a table without a schema any schema, and a
    /// column `*` (a whole row, a star) any column of those tables.
    pub fn covers_source(&self, tables: &[String], column: &str) -> bool {
        if column != "*" && !self.column.matches(column) {
            return false;
        }
        if tables.is_empty() {
            return true;
        }
        tables.iter().any(|t| match t.rsplit_once('.') {
            Some((schema, table)) => self.schema.matches(schema) && self.table.matches(table),
            None => self.table.matches(t),
        })
    }

    /// Could the pattern cover some column of this table (as the analyser
    /// names it: `schema.table` or `table`)?
    pub fn covers_table(&self, table: &str) -> bool {
        self.covers_source(&[table.to_string()], "*")
    }
}

impl fmt::Display for ColumnPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ColumnPattern {
        ColumnPattern::parse(s).unwrap()
    }

    #[test]
    fn two_parts_match_any_schema() {
        assert!(p("users.email").matches("public", "users", "email"));
        assert!(p("users.email").matches("crm", "users", "email"));
        assert!(!p("users.email").matches("public", "users", "name"));
        assert!(!p("users.email").matches("public", "admins", "email"));
    }

    #[test]
    fn stars_stand_for_whole_parts() {
        assert!(p("*.password").matches("public", "accounts", "password"));
        assert!(p("billing.*.card_number").matches("billing", "cards", "card_number"));
        assert!(!p("billing.*.card_number").matches("public", "cards", "card_number"));
        assert!(p("users.pass*").matches("public", "users", "password"));
        assert!(p("customers.*_address").matches("crm", "customers", "home_address"));
        assert!(!p("customers.*_address").matches("crm", "customers", "address_id"));
        assert!(p("*.*secret*").matches("s", "t", "client_secret_hash"));
        assert!(!p("*.a*b").matches("s", "t", "ac"));
        assert!(ColumnPattern::parse("email").is_err());
        assert!(ColumnPattern::parse("a.b.c.d").is_err());
        assert!(ColumnPattern::parse("users.").is_err());
    }

    #[test]
    fn analyser_sources_match_on_doubt() {
        let email = p("users.email");
        assert!(email.covers_source(&["users".into()], "email"));
        assert!(email.covers_source(&["public.users".into()], "email"));
        assert!(email.covers_source(&[], "email"));
        assert!(email.covers_source(&["users".into()], "*"));
        assert!(!email.covers_source(&["orders".into()], "email"));
        assert!(!email.covers_source(&["users".into()], "name"));
        let billing = p("billing.*.card_number");
        assert!(billing.covers_source(&["cards".into()], "card_number"));
        assert!(!billing.covers_source(&["public.cards".into()], "card_number"));
        assert!(billing.covers_table("billing.cards"));
        assert!(!billing.covers_table("public.cards"));
    }
}
