//! The `kind` fact of each PostgreSQL statement node. A node that is not a
//! statement gets `None`, and the walker treats it as part of the
//! statement around it.

use pg_query::NodeRef;
use pg_query::protobuf::{TransactionStmtKind, VariableSetKind};

/// The kind of a statement node. Every `…Stmt` node of pg_query 18 is
/// listed (but `RawStmt`, the wrapper, and `SetOperationStmt`, which only
/// analysed trees hold); one a later version adds is walked as part of its
/// parent until it is added here.
pub(super) fn statement_kind(node: NodeRef<'_>) -> Option<&'static str> {
    use NodeRef as N;
    let kind = match node {
        // SELECT … INTO t is CREATE TABLE t AS SELECT in the server.
        N::SelectStmt(s) if s.into_clause.is_some() => "create",
        N::SelectStmt(_) => "select",
        N::InsertStmt(_) => "insert",
        N::UpdateStmt(_) => "update",
        N::DeleteStmt(_) => "delete",
        N::MergeStmt(_) => "merge",
        N::CopyStmt(_) => "copy",
        N::TruncateStmt(_) => "truncate",
        N::GrantStmt(s) => grant_or_revoke(s.is_grant),
        N::GrantRoleStmt(s) => grant_or_revoke(s.is_grant),
        N::VariableSetStmt(s) => set_or_reset(s.kind),
        N::VariableShowStmt(_) => "show",
        N::CallStmt(_) => "call",
        N::DoStmt(_) => "do",
        N::TransactionStmt(s) => transaction(s.kind),
        N::ExplainStmt(_) => "explain",
        N::PrepareStmt(_) => "prepare",
        N::ExecuteStmt(_) => "execute",
        N::DeallocateStmt(_) => "deallocate",
        N::VacuumStmt(s) if s.is_vacuumcmd => "vacuum",
        N::VacuumStmt(_) => "analyze",
        N::LockStmt(_) => "lock",
        N::ListenStmt(_) => "listen",
        N::UnlistenStmt(_) => "unlisten",
        N::NotifyStmt(_) => "notify",
        N::DeclareCursorStmt(_) => "declare",
        N::FetchStmt(_) => "fetch",
        N::ClosePortalStmt(_) => "close",
        N::DiscardStmt(_) => "discard",
        N::CommentStmt(_) | N::SecLabelStmt(_) => "comment",
        N::RefreshMatViewStmt(_) => "refresh",
        N::ReindexStmt(_) => "reindex",
        N::ClusterStmt(_) => "cluster",
        N::CheckPointStmt(_) => "checkpoint",
        N::LoadStmt(_) => "load",
        N::ConstraintsSetStmt(_) => "set",
        N::CreateStmt(_)
        | N::CreateTableAsStmt(_)
        | N::ViewStmt(_)
        | N::IndexStmt(_)
        | N::CreateSchemaStmt(_)
        | N::CreateSeqStmt(_)
        | N::CreateFunctionStmt(_)
        | N::CreateTrigStmt(_)
        | N::CreateEventTrigStmt(_)
        | N::CreateRoleStmt(_)
        | N::CreateDomainStmt(_)
        | N::CreateExtensionStmt(_)
        | N::CreateForeignServerStmt(_)
        | N::CreateForeignTableStmt(_)
        | N::ImportForeignSchemaStmt(_)
        | N::CreateUserMappingStmt(_)
        | N::CreateFdwStmt(_)
        | N::CreatedbStmt(_)
        | N::CreateEnumStmt(_)
        | N::CreateRangeStmt(_)
        | N::CompositeTypeStmt(_)
        | N::DefineStmt(_)
        | N::RuleStmt(_)
        | N::CreatePolicyStmt(_)
        | N::CreateCastStmt(_)
        | N::CreateConversionStmt(_)
        | N::CreateOpClassStmt(_)
        | N::CreateOpFamilyStmt(_)
        | N::CreatePlangStmt(_)
        | N::CreatePublicationStmt(_)
        | N::CreateSubscriptionStmt(_)
        | N::CreateStatsStmt(_)
        | N::CreateTableSpaceStmt(_)
        | N::CreateTransformStmt(_)
        | N::CreateAmStmt(_) => "create",
        N::AlterTableStmt(_)
        | N::AlterSystemStmt(_)
        | N::AlterDomainStmt(_)
        | N::AlterDefaultPrivilegesStmt(_)
        | N::AlterFunctionStmt(_)
        | N::RenameStmt(_)
        | N::AlterSeqStmt(_)
        | N::AlterRoleStmt(_)
        | N::AlterRoleSetStmt(_)
        | N::AlterDatabaseStmt(_)
        | N::AlterDatabaseSetStmt(_)
        | N::AlterDatabaseRefreshCollStmt(_)
        | N::AlterOpFamilyStmt(_)
        | N::AlterObjectDependsStmt(_)
        | N::AlterObjectSchemaStmt(_)
        | N::AlterOwnerStmt(_)
        | N::AlterOperatorStmt(_)
        | N::AlterTypeStmt(_)
        | N::AlterEnumStmt(_)
        | N::AlterTsdictionaryStmt(_)
        | N::AlterTsconfigurationStmt(_)
        | N::AlterFdwStmt(_)
        | N::AlterForeignServerStmt(_)
        | N::AlterUserMappingStmt(_)
        | N::AlterTableSpaceOptionsStmt(_)
        | N::AlterTableMoveAllStmt(_)
        | N::AlterExtensionStmt(_)
        | N::AlterExtensionContentsStmt(_)
        | N::AlterEventTrigStmt(_)
        | N::AlterPolicyStmt(_)
        | N::AlterPublicationStmt(_)
        | N::AlterSubscriptionStmt(_)
        | N::AlterCollationStmt(_)
        | N::AlterStatsStmt(_)
        | N::ReassignOwnedStmt(_) => "alter",
        N::DropStmt(_)
        | N::DropRoleStmt(_)
        | N::DropdbStmt(_)
        | N::DropOwnedStmt(_)
        | N::DropUserMappingStmt(_)
        | N::DropTableSpaceStmt(_)
        | N::DropSubscriptionStmt(_) => "drop",
        // PL/pgSQL-only nodes: the top-level grammar never produces them.
        N::ReturnStmt(_) | N::PlassignStmt(_) | N::ReplicaIdentityStmt(_) => "other",
        // SetOperationStmt and Query belong to analysed trees, which a
        // raw parse never contains; they are walked like any other node.
        _ => return None,
    };
    Some(kind)
}

fn grant_or_revoke(is_grant: bool) -> &'static str {
    if is_grant { "grant" } else { "revoke" }
}

fn set_or_reset(kind: i32) -> &'static str {
    match VariableSetKind::try_from(kind) {
        Ok(VariableSetKind::VarReset | VariableSetKind::VarResetAll) => "reset",
        _ => "set",
    }
}

/// `savepoint` and `release` are kinds of their own; `prepare transaction`
/// (two-phase commit) is `commit`'s first half, so rules on `commit` see it.
fn transaction(kind: i32) -> &'static str {
    use TransactionStmtKind as K;
    match K::try_from(kind) {
        Ok(K::TransStmtBegin | K::TransStmtStart) => "begin",
        Ok(K::TransStmtCommit | K::TransStmtCommitPrepared | K::TransStmtPrepare) => "commit",
        Ok(K::TransStmtRollback | K::TransStmtRollbackTo | K::TransStmtRollbackPrepared) => {
            "rollback"
        }
        Ok(K::TransStmtSavepoint) => "savepoint",
        Ok(K::TransStmtRelease) => "release",
        Ok(K::Undefined) | Err(_) => "other",
    }
}
