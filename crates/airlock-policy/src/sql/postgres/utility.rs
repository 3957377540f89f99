//! COPY and the utility statements (DDL, maintenance, privileges, …):
//! which relation a statement changes, and the features it implies. The
//! rest of each statement is walked generically.
//!
//! A relation a statement changes — its data, storage, definition or
//! privileges (ALTER, DROP, TRUNCATE, CREATE INDEX ON, VACUUM, CLUSTER,
//! REINDEX, REFRESH, COMMENT ON, GRANT ON) — is in `tables_written`; one it
//! only looks at or locks (ANALYZE, LOCK) in `tables_read`.

use pg_query::NodeRef;
use pg_query::protobuf::{
    CommentStmt, CopyStmt, DropStmt, ObjectType, RangeVar, node::Node as NodeEnum,
};

use super::names;
use super::walk::Walker;
use crate::sql::features::{
    ALTER_SYSTEM, CODE_BLOCK, COPY_FROM_FILE, COPY_FROM_PROGRAM, COPY_TO_FILE, COPY_TO_PROGRAM,
    DBLINK, FOREIGN_DATA, SERVER_FILE_FUNCTION,
};
use crate::sql::scope::Source;

#[derive(Clone, Copy)]
enum Role {
    Read,
    Written,
}

/// Object types whose names are relations.
const RELATION_OBJECTS: &[ObjectType] = &[
    ObjectType::ObjectTable,
    ObjectType::ObjectView,
    ObjectType::ObjectMatview,
    ObjectType::ObjectIndex,
    ObjectType::ObjectSequence,
    ObjectType::ObjectForeignTable,
];

impl Walker {
    pub(super) fn copy(&mut self, s: &CopyStmt) {
        let CopyStmt {
            relation,
            query,
            attlist,
            is_from,
            is_program,
            filename,
            options,
            where_clause,
        } = s;
        // STDIN and STDOUT leave the file name empty.
        let feature = match (*is_from, *is_program, !filename.is_empty()) {
            (false, true, _) => Some(COPY_TO_PROGRAM),
            (false, false, true) => Some(COPY_TO_FILE),
            (true, true, _) => Some(COPY_FROM_PROGRAM),
            (true, false, true) => Some(COPY_FROM_FILE),
            (_, false, false) => None,
        };
        if let Some(feature) = feature {
            self.out.feature(feature);
        }
        if let Some(rv) = relation {
            let name = if *is_from {
                self.mark_written(rv)
            } else {
                self.mark_read(rv)
            };
            let columns = names::strings(attlist).unwrap_or_default();
            if columns.is_empty() {
                self.out.column(&name, "*");
            }
            for column in columns {
                self.out.column(&name, column);
            }
            self.scope
                .push_frame(vec![Source::table(name, None, &rv.relname)]);
        }
        self.opt(query);
        self.list(options);
        self.opt(where_clause);
    }

    /// Any statement without a handler of its own.
    pub(super) fn utility(&mut self, node: NodeRef<'_>) {
        use NodeRef as N;
        match node {
            N::DoStmt(_) | N::CreateFunctionStmt(_) | N::LoadStmt(_) => {
                self.out.feature(CODE_BLOCK);
            }
            // Their VariableSetStmt is the setting being stored, not a SET
            // run now; nothing else in them can read or call anything.
            N::AlterSystemStmt(_) => {
                self.out.feature(ALTER_SYSTEM);
                return;
            }
            N::AlterDatabaseSetStmt(_) | N::AlterRoleSetStmt(_) => return,
            N::CreateForeignTableStmt(s) => {
                self.out.feature(FOREIGN_DATA);
                // The CreateStmt inside is this statement, not a nested one.
                if let Some(base) = &s.base_stmt {
                    self.relations_and_children(N::CreateStmt(base));
                }
                self.list(&s.options);
                return;
            }
            N::CreateForeignServerStmt(_)
            | N::AlterForeignServerStmt(_)
            | N::CreateUserMappingStmt(_)
            | N::AlterUserMappingStmt(_)
            | N::DropUserMappingStmt(_)
            | N::ImportForeignSchemaStmt(_)
            | N::CreateFdwStmt(_)
            | N::AlterFdwStmt(_) => self.out.feature(FOREIGN_DATA),
            N::CreateExtensionStmt(s) => self.extension(&s.extname),
            // The trigger's function runs later, on every change: name it.
            N::CreateTrigStmt(s) => {
                if let Some(name) = names::function(&s.funcname) {
                    self.out.function(name);
                }
            }
            N::CreateEventTrigStmt(s) => {
                if let Some(name) = names::function(&s.funcname) {
                    self.out.function(name);
                }
            }
            N::DropStmt(s) => self.dropped(s),
            N::CommentStmt(s) => self.commented(s),
            _ => {}
        }
        self.relations_and_children(node);
    }

    /// Records the relations the statement acts on, makes them the
    /// sources its expressions' columns belong to, and walks the rest.
    fn relations_and_children(&mut self, node: NodeRef<'_>) {
        let mut sources = Vec::new();
        for (rv, role) in relations(node) {
            let name = match role {
                Role::Written => self.mark_written(rv),
                Role::Read => self.mark_read(rv),
            };
            let alias = rv.alias.as_ref().map(|a| a.aliasname.as_str());
            // Rule actions and trigger conditions name the row NEW / OLD.
            if matches!(node, NodeRef::RuleStmt(_) | NodeRef::CreateTrigStmt(_)) {
                sources.push(Source::table(name.clone(), Some("new"), ""));
                sources.push(Source::table(name.clone(), Some("old"), ""));
            }
            sources.push(Source::table(name, alias, &rv.relname));
        }
        self.scope.push_frame(sources);
        self.children(node);
    }

    fn extension(&mut self, name: &str) {
        match name {
            "dblink" => self.out.feature(DBLINK),
            "adminpack" => self.out.feature(SERVER_FILE_FUNCTION),
            "file_fdw" => {
                self.out.feature(FOREIGN_DATA);
                self.out.feature(SERVER_FILE_FUNCTION);
            }
            _ if name.ends_with("_fdw") => self.out.feature(FOREIGN_DATA),
            _ => {}
        }
    }

    fn dropped(&mut self, s: &DropStmt) {
        if !is_relation_type(s.remove_type) {
            return;
        }
        for object in &s.objects {
            if let Some(NodeEnum::List(list)) = &object.node
                && let Some(name) = names::qualified(&list.items)
            {
                self.out.written(name);
            }
        }
    }

    fn commented(&mut self, s: &CommentStmt) {
        let Some(NodeEnum::List(list)) = s.object.as_deref().and_then(|o| o.node.as_ref()) else {
            return;
        };
        let Some(parts) = names::strings(&list.items) else {
            return;
        };
        if is_relation_type(s.objtype) {
            self.out.written(parts.join("."));
        } else if s.objtype == ObjectType::ObjectColumn as i32
            && let Some((column, table)) = parts.split_last()
            && !table.is_empty()
        {
            let table = table.join(".");
            self.out.column(&table, column);
            self.out.written(table);
        }
    }
}

fn is_relation_type(object_type: i32) -> bool {
    RELATION_OBJECTS.iter().any(|t| *t as i32 == object_type)
}

/// The relations a utility statement acts on, with how.
fn relations(node: NodeRef<'_>) -> Vec<(&RangeVar, Role)> {
    use NodeRef as N;
    use Role::{Read, Written};
    match node {
        N::CreateStmt(s) => one(&s.relation, Written),
        N::IndexStmt(s) => one(&s.relation, Written),
        N::AlterTableStmt(s) => one(&s.relation, Written),
        N::CreateTrigStmt(s) => one(&s.relation, Written),
        N::RuleStmt(s) => one(&s.relation, Written),
        N::CreatePolicyStmt(s) => one(&s.table, Written),
        N::AlterPolicyStmt(s) => one(&s.table, Written),
        N::RefreshMatViewStmt(s) => one(&s.relation, Written),
        N::ClusterStmt(s) => one(&s.relation, Written),
        N::ReindexStmt(s) => one(&s.relation, Written),
        N::RenameStmt(s) => one(&s.relation, Written),
        N::AlterObjectSchemaStmt(s) => one(&s.relation, Written),
        N::AlterOwnerStmt(s) => one(&s.relation, Written),
        N::CreateSeqStmt(s) => one(&s.sequence, Written),
        N::AlterSeqStmt(s) => one(&s.sequence, Written),
        N::ViewStmt(s) => one(&s.view, Written),
        N::CreateTableAsStmt(s) => s
            .into
            .as_ref()
            .and_then(|into| into.rel.as_ref())
            .map(|rv| (rv, Written))
            .into_iter()
            .collect(),
        N::TruncateStmt(s) => range_vars(&s.relations, Written),
        N::GrantStmt(s) => range_vars(&s.objects, Written),
        N::LockStmt(s) => range_vars(&s.relations, Read),
        N::VacuumStmt(s) => {
            let role = if s.is_vacuumcmd { Written } else { Read };
            s.rels
                .iter()
                .filter_map(|n| match &n.node {
                    Some(NodeEnum::VacuumRelation(v)) => v.relation.as_ref(),
                    _ => None,
                })
                .map(|rv| (rv, role))
                .collect()
        }
        _ => Vec::new(),
    }
}

fn one(rv: &Option<RangeVar>, role: Role) -> Vec<(&RangeVar, Role)> {
    rv.iter().map(|r| (r, role)).collect()
}

fn range_vars(nodes: &[pg_query::protobuf::Node], role: Role) -> Vec<(&RangeVar, Role)> {
    nodes
        .iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::RangeVar(rv)) => Some((rv, role)),
            _ => None,
        })
        .collect()
}
