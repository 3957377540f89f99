//! Per-statement knowledge for MySQL: each statement's kind, which of its
//! relations it writes, and the frame its expressions' columns resolve in.
//! Relations sqlparser's visitor does not visit (DROP, RENAME, GRANT, the
//! target list of a multi-table DELETE, …) are recorded here directly.

use sqlparser::ast::{
    AssignmentTarget, ContextModifier, CreateTableLikeKind, FromTable, GrantObjects, ObjectName,
    ObjectType, OnInsert, Set, SetExpr, Statement, TableFactor, TableObject, TableWithJoins,
};

use super::walk::{Inline, Walker, address, object_name};
use crate::sql::features::{ALTER_SYSTEM, CODE_BLOCK, FOREIGN_DATA};
use crate::sql::scope::{Resolved, Source, Target, UNKNOWN_TABLE};

pub(super) fn kind(statement: &Statement) -> &'static str {
    use Statement as S;
    match statement {
        S::Query(_) => "select",
        S::Insert(_) => "insert",
        S::Update(_) => "update",
        S::Delete(_) => "delete",
        S::Merge(_) => "merge",
        S::Copy { .. } => "copy",
        S::Truncate(_) => "truncate",
        S::Grant(_) | S::GrantRole(_) => "grant",
        S::Revoke(_) | S::RevokeRole(_) => "revoke",
        S::Set(_) => "set",
        S::Call(_) => "call",
        S::StartTransaction { .. } => "begin",
        S::Commit { .. } => "commit",
        S::Rollback { .. } => "rollback",
        S::Savepoint { .. } => "savepoint",
        S::ReleaseSavepoint { .. } => "release",
        S::Explain { .. } => "explain",
        S::Prepare { .. } => "prepare",
        S::Execute { .. } => "execute",
        S::Deallocate { .. } => "deallocate",
        S::Analyze(_) => "analyze",
        S::Lock(_) | S::LockTables { .. } => "lock",
        S::UnlockTables => "unlock",
        S::Comment { .. } => "comment",
        S::Declare { .. } => "declare",
        S::Fetch { .. } => "fetch",
        S::Close { .. } => "close",
        S::Discard { .. } => "discard",
        S::Use(_) => "use",
        S::Kill { .. } => "kill",
        S::Flush { .. } => "flush",
        S::ExplainTable { .. }
        | S::ShowFunctions { .. }
        | S::ShowVariable { .. }
        | S::ShowStatus { .. }
        | S::ShowVariables { .. }
        | S::ShowCreate { .. }
        | S::ShowColumns { .. }
        | S::ShowCatalogs { .. }
        | S::ShowDatabases { .. }
        | S::ShowProcessList { .. }
        | S::ShowSchemas { .. }
        | S::ShowCharset(_)
        | S::ShowObjects(_)
        | S::ShowTables { .. }
        | S::ShowViews { .. }
        | S::ShowCollation { .. } => "show",
        S::CreateView(_)
        | S::CreateTable(_)
        | S::CreateIndex(_)
        | S::CreateRole(_)
        | S::CreateServer(_)
        | S::CreateSchema { .. }
        | S::CreateDatabase { .. }
        | S::CreateFunction(_)
        | S::CreateTrigger(_)
        | S::CreateProcedure { .. }
        | S::CreateSequence { .. }
        | S::CreateType { .. }
        | S::CreateUser(_)
        | S::CreateExtension(_) => "create",
        S::AlterTable(_)
        | S::AlterIndex { .. }
        | S::AlterView(_)
        | S::AlterRole { .. }
        | S::AlterUser(_)
        | S::AlterSchema(_)
        | S::AlterFunction(_)
        | S::AlterType(_)
        | S::RenameTable(_) => "alter",
        S::Drop { .. }
        | S::DropFunction(_)
        | S::DropProcedure { .. }
        | S::DropTrigger(_)
        | S::DropExtension(_) => "drop",
        _ => "other",
    }
}

impl Walker {
    /// Marks and records what `statement` writes and pushes the frame its
    /// own expressions resolve in. Runs before the visitor descends.
    pub(super) fn setup(&mut self, statement: &Statement) -> Result<(), String> {
        use Statement as S;
        match statement {
            S::Query(query) => {
                self.inline.insert(address(&**query), Inline::Statement);
            }
            S::Insert(insert) => {
                let mut sources = Vec::new();
                if let TableObject::TableName(name) = &insert.table {
                    let table = self.write(name)?;
                    for column in &insert.columns {
                        if let Some(column) = super::walk::last_part(column) {
                            self.out.column(&table, &column.to_lowercase());
                        }
                    }
                    // `INSERT … SET a = 1` and `ON DUPLICATE KEY UPDATE a = …`.
                    let mut assignments: Vec<&AssignmentTarget> =
                        insert.assignments.iter().map(|a| &a.target).collect();
                    if let Some(OnInsert::DuplicateKeyUpdate(more)) = &insert.on {
                        assignments.extend(more.iter().map(|a| &a.target));
                    }
                    self.assign(&assignments, &table);
                    sources.push(Source::table(table, None, &last(name)));
                }
                if let Some(source) = &insert.source
                    && matches!(*source.body, SetExpr::Values(_))
                {
                    self.inline.insert(address(&**source), Inline::Part);
                }
                self.scope.push_frame(sources);
            }
            S::Update(update) => {
                let from = std::iter::once(&update.table)
                    .chain(update.from.as_ref().map(update_from).unwrap_or_default());
                let sources = self.sources(from)?;
                let tables: Vec<String> = sources
                    .iter()
                    .filter_map(|s| match &s.target {
                        Target::Table(t) => Some(t.clone()),
                        _ => None,
                    })
                    .collect();
                self.scope.push_frame(sources);
                // A multi-table UPDATE writes the tables whose columns it
                // assigns; an unqualified column could be any of them.
                let mut written = Vec::new();
                for assignment in &update.assignments {
                    for target in target_names(&assignment.target) {
                        let (table, column) = self.target_column(target, &tables)?;
                        match table {
                            Some(table) => {
                                self.out.column(&table, &column);
                                written.push(table);
                            }
                            None => {
                                self.out.column(UNKNOWN_TABLE, &column);
                                written.extend(tables.iter().cloned());
                            }
                        }
                    }
                }
                self.mark_written_in(std::slice::from_ref(&update.table), &written)?;
                self.out.has_where(update.selection.is_some());
            }
            S::Delete(delete) => {
                let from = match &delete.from {
                    FromTable::WithFromKeyword(tables) | FromTable::WithoutKeyword(tables) => {
                        tables
                    }
                };
                let using = delete.using.as_deref().unwrap_or_default();
                let sources = self.sources(from.iter().chain(using))?;
                self.scope.push_frame(sources);
                let written: Vec<String> = if delete.tables.is_empty() {
                    // `DELETE FROM t …`, `DELETE FROM t USING …`: the
                    // tables after FROM.
                    from.iter()
                        .filter_map(|t| match &t.relation {
                            TableFactor::Table { name, .. } => Some(object_name(name)),
                            _ => None,
                        })
                        .collect::<Result<_, _>>()?
                } else {
                    // `DELETE t1, t2 FROM …`: names (or aliases) listed
                    // before FROM.
                    let mut tables = Vec::new();
                    for name in &delete.tables {
                        let qualifier = object_name(name)?;
                        match self.scope.resolve_qualified(&qualifier) {
                            Resolved::Table(t) => tables.push(t.to_owned()),
                            _ => tables.push(qualifier),
                        }
                    }
                    tables
                };
                for table in &written {
                    self.out.written(table.clone());
                }
                self.mark_written_in(from.iter().chain(using), &written)?;
                self.out.has_where(delete.selection.is_some());
            }
            S::CreateTable(create) => {
                let table = self.write(&create.name)?;
                if let Some(like) = &create.like {
                    let name = match like {
                        CreateTableLikeKind::Parenthesized(like)
                        | CreateTableLikeKind::Plain(like) => &like.name,
                    };
                    self.out.read(object_name(name)?);
                }
                if let Some(clone) = &create.clone {
                    self.out.read(object_name(clone)?);
                }
                let options = create.table_options.to_string().to_ascii_uppercase();
                if options.contains("FEDERATED") || options.contains("CONNECTION") {
                    self.out.feature(FOREIGN_DATA);
                }
                self.scope
                    .push_frame(vec![Source::table(table, None, &last(&create.name))]);
            }
            S::CreateView(view) => {
                self.write(&view.name)?;
            }
            S::CreateIndex(index) => {
                let table = self.write(&index.table_name)?;
                self.scope
                    .push_frame(vec![Source::table(table, None, &last(&index.table_name))]);
            }
            S::AlterTable(alter) => {
                let table = self.write(&alter.name)?;
                self.scope
                    .push_frame(vec![Source::table(table, None, &last(&alter.name))]);
            }
            S::Truncate(truncate) => {
                for target in &truncate.table_names {
                    self.write(&target.name)?;
                }
            }
            S::Drop {
                object_type, names, ..
            } => {
                if matches!(
                    object_type,
                    ObjectType::Table | ObjectType::View | ObjectType::MaterializedView
                ) {
                    for name in names {
                        self.out.written(object_name(name)?);
                    }
                }
            }
            S::RenameTable(renames) => {
                for rename in renames {
                    self.out.written(object_name(&rename.old_name)?);
                    self.out.written(object_name(&rename.new_name)?);
                }
            }
            S::Grant(grant) => self.granted(grant.objects.as_ref())?,
            S::Revoke(revoke) => self.granted(revoke.objects.as_ref())?,
            S::LockTables { tables } => {
                for table in tables {
                    self.out
                        .read(super::walk::ident_text(&table.table)?.to_owned());
                }
            }
            S::Call(function) => {
                if let Some(name) = super::walk::last_part(&function.name) {
                    self.out.function(&name);
                }
            }
            S::CreateServer(_) => self.out.feature(FOREIGN_DATA),
            S::CreateFunction(_) | S::CreateProcedure { .. } | S::CreateTrigger(_) => {
                self.out.feature(CODE_BLOCK);
            }
            S::Set(set) if global(set) => self.out.feature(ALTER_SYSTEM),
            _ => {}
        }
        Ok(())
    }

    /// Marks a relation the visitor will reach as written.
    fn write(&mut self, name: &ObjectName) -> Result<String, String> {
        self.written.insert(address(name));
        object_name(name)
    }

    /// Marks the relations among `from` whose names are in `tables`.
    fn mark_written_in<'t>(
        &mut self,
        from: impl IntoIterator<Item = &'t TableWithJoins>,
        tables: &[String],
    ) -> Result<(), String> {
        for table in from {
            let factors =
                std::iter::once(&table.relation).chain(table.joins.iter().map(|j| &j.relation));
            for factor in factors {
                if let TableFactor::Table { name, .. } = factor
                    && tables.contains(&object_name(name)?)
                {
                    self.written.insert(address(name));
                }
            }
        }
        Ok(())
    }

    fn assign(&mut self, targets: &[&AssignmentTarget], table: &str) {
        for target in targets {
            for name in target_names(target) {
                if let Some(column) = super::walk::last_part(name) {
                    self.out.column(table, &column.to_lowercase());
                }
            }
        }
    }

    /// The table and column an UPDATE assignment target names: by its
    /// qualifier, or the only table; `None` when it could be several.
    fn target_column(
        &self,
        target: &ObjectName,
        tables: &[String],
    ) -> Result<(Option<String>, String), String> {
        let full = object_name(target)?;
        let (qualifier, column) = match full.rsplit_once('.') {
            Some((q, c)) => (Some(q), c),
            None => (None, full.as_str()),
        };
        let table = match (qualifier, tables) {
            (None, [only]) => Some(only.clone()),
            (None, _) => None,
            (Some(q), _) => match self.scope.resolve_qualified(q) {
                Resolved::Table(t) => Some(t.to_owned()),
                _ => None,
            },
        };
        Ok((table, column.to_lowercase()))
    }

    fn granted(&mut self, objects: Option<&GrantObjects>) -> Result<(), String> {
        if let Some(GrantObjects::Tables(names) | GrantObjects::Views(names)) = objects {
            for name in names {
                self.out.written(object_name(name)?);
            }
        }
        Ok(())
    }
}

fn target_names(target: &AssignmentTarget) -> Vec<&ObjectName> {
    match target {
        AssignmentTarget::ColumnName(name) => vec![name],
        AssignmentTarget::Tuple(names) => names.iter().collect(),
    }
}

fn update_from(kind: &sqlparser::ast::UpdateTableFromKind) -> &[TableWithJoins] {
    match kind {
        sqlparser::ast::UpdateTableFromKind::BeforeSet(tables)
        | sqlparser::ast::UpdateTableFromKind::AfterSet(tables) => tables,
    }
}

fn last(name: &ObjectName) -> String {
    super::walk::last_part(name).unwrap_or_default()
}

/// `SET GLOBAL x = …` / `SET @@global.x = …` change the server for every
/// session (and `general_log_file` can write any file): like ALTER SYSTEM.
fn global(set: &Set) -> bool {
    let text = set.to_string().to_ascii_uppercase();
    matches!(
        set,
        Set::SingleAssignment {
            scope: Some(ContextModifier::Global),
            ..
        }
    ) || text.contains("@@GLOBAL.")
        || text.contains("@@PERSIST")
        || text.starts_with("SET GLOBAL ")
        || text.starts_with("SET PERSIST")
}
