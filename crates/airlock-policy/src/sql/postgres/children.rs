//! The children of every PostgreSQL parse-tree node, so that the walker
//! can descend into any node it has no specific rule for.
//!
//! Generated from pg_query 18.1's `src/protobuf.rs` (a script listed every
//! field of every node struct; scalar fields are bound to `_`). Each struct
//! is destructured without `..`: when a pg_query upgrade adds a field, this
//! file stops compiling instead of silently hiding a subtree (and whatever
//! DELETE or pg_read_file() sits in it) from the analyser. Regenerate, or
//! add the field by hand, then.

use pg_query::NodeRef;
use pg_query::protobuf as pb;

/// Calls `f` on each direct child of `node`, in field order.
pub(super) fn for_each_child<'a>(node: NodeRef<'a>, f: &mut dyn FnMut(NodeRef<'a>)) {
    match node {
        NodeRef::Alias(pb::Alias { aliasname: _, colnames }) => { colnames.each(f); }
        NodeRef::RangeVar(pb::RangeVar { catalogname: _, schemaname: _, relname: _, inh: _, relpersistence: _, alias, location: _ }) => { alias.each(f); }
        NodeRef::TableFunc(pb::TableFunc { functype: _, ns_uris, ns_names, docexpr, rowexpr, colnames, coltypes, coltypmods, colcollations, colexprs, coldefexprs, colvalexprs, passingvalexprs, notnulls: _, plan, ordinalitycol: _, location: _ }) => { ns_uris.each(f); ns_names.each(f); docexpr.each(f); rowexpr.each(f); colnames.each(f); coltypes.each(f); coltypmods.each(f); colcollations.each(f); colexprs.each(f); coldefexprs.each(f); colvalexprs.each(f); passingvalexprs.each(f); plan.each(f); }
        NodeRef::Var(pb::Var { xpr, varno: _, varattno: _, vartype: _, vartypmod: _, varcollid: _, varnullingrels: _, varlevelsup: _, varreturningtype: _, location: _ }) => { xpr.each(f); }
        NodeRef::Param(pb::Param { xpr, paramkind: _, paramid: _, paramtype: _, paramtypmod: _, paramcollid: _, location: _ }) => { xpr.each(f); }
        NodeRef::Aggref(pb::Aggref { xpr, aggfnoid: _, aggtype: _, aggcollid: _, inputcollid: _, aggargtypes, aggdirectargs, args, aggorder, aggdistinct, aggfilter, aggstar: _, aggvariadic: _, aggkind: _, agglevelsup: _, aggsplit: _, aggno: _, aggtransno: _, location: _ }) => { xpr.each(f); aggargtypes.each(f); aggdirectargs.each(f); args.each(f); aggorder.each(f); aggdistinct.each(f); aggfilter.each(f); }
        NodeRef::GroupingFunc(pb::GroupingFunc { xpr, args, refs, agglevelsup: _, location: _ }) => { xpr.each(f); args.each(f); refs.each(f); }
        NodeRef::WindowFunc(pb::WindowFunc { xpr, winfnoid: _, wintype: _, wincollid: _, inputcollid: _, args, aggfilter, run_condition, winref: _, winstar: _, winagg: _, location: _ }) => { xpr.each(f); args.each(f); aggfilter.each(f); run_condition.each(f); }
        NodeRef::SubscriptingRef(pb::SubscriptingRef { xpr, refcontainertype: _, refelemtype: _, refrestype: _, reftypmod: _, refcollid: _, refupperindexpr, reflowerindexpr, refexpr, refassgnexpr }) => { xpr.each(f); refupperindexpr.each(f); reflowerindexpr.each(f); refexpr.each(f); refassgnexpr.each(f); }
        NodeRef::FuncExpr(pb::FuncExpr { xpr, funcid: _, funcresulttype: _, funcretset: _, funcvariadic: _, funcformat: _, funccollid: _, inputcollid: _, args, location: _ }) => { xpr.each(f); args.each(f); }
        NodeRef::NamedArgExpr(pb::NamedArgExpr { xpr, arg, name: _, argnumber: _, location: _ }) => { xpr.each(f); arg.each(f); }
        NodeRef::OpExpr(pb::OpExpr { xpr, opno: _, opresulttype: _, opretset: _, opcollid: _, inputcollid: _, args, location: _ }) => { xpr.each(f); args.each(f); }
        NodeRef::DistinctExpr(pb::DistinctExpr { xpr, opno: _, opresulttype: _, opretset: _, opcollid: _, inputcollid: _, args, location: _ }) => { xpr.each(f); args.each(f); }
        NodeRef::NullIfExpr(pb::NullIfExpr { xpr, opno: _, opresulttype: _, opretset: _, opcollid: _, inputcollid: _, args, location: _ }) => { xpr.each(f); args.each(f); }
        NodeRef::ScalarArrayOpExpr(pb::ScalarArrayOpExpr { xpr, opno: _, use_or: _, inputcollid: _, args, location: _ }) => { xpr.each(f); args.each(f); }
        NodeRef::BoolExpr(pb::BoolExpr { xpr, boolop: _, args, location: _ }) => { xpr.each(f); args.each(f); }
        NodeRef::SubLink(pb::SubLink { xpr, sub_link_type: _, sub_link_id: _, testexpr, oper_name, subselect, location: _ }) => { xpr.each(f); testexpr.each(f); oper_name.each(f); subselect.each(f); }
        NodeRef::SubPlan(pb::SubPlan { xpr, sub_link_type: _, testexpr, param_ids, plan_id: _, plan_name: _, first_col_type: _, first_col_typmod: _, first_col_collation: _, use_hash_table: _, unknown_eq_false: _, parallel_safe: _, set_param, par_param, args, startup_cost: _, per_call_cost: _ }) => { xpr.each(f); testexpr.each(f); param_ids.each(f); set_param.each(f); par_param.each(f); args.each(f); }
        NodeRef::AlternativeSubPlan(pb::AlternativeSubPlan { xpr, subplans }) => { xpr.each(f); subplans.each(f); }
        NodeRef::FieldSelect(pb::FieldSelect { xpr, arg, fieldnum: _, resulttype: _, resulttypmod: _, resultcollid: _ }) => { xpr.each(f); arg.each(f); }
        NodeRef::FieldStore(pb::FieldStore { xpr, arg, newvals, fieldnums, resulttype: _ }) => { xpr.each(f); arg.each(f); newvals.each(f); fieldnums.each(f); }
        NodeRef::RelabelType(pb::RelabelType { xpr, arg, resulttype: _, resulttypmod: _, resultcollid: _, relabelformat: _, location: _ }) => { xpr.each(f); arg.each(f); }
        NodeRef::CoerceViaIo(pb::CoerceViaIo { xpr, arg, resulttype: _, resultcollid: _, coerceformat: _, location: _ }) => { xpr.each(f); arg.each(f); }
        NodeRef::ArrayCoerceExpr(pb::ArrayCoerceExpr { xpr, arg, elemexpr, resulttype: _, resulttypmod: _, resultcollid: _, coerceformat: _, location: _ }) => { xpr.each(f); arg.each(f); elemexpr.each(f); }
        NodeRef::ConvertRowtypeExpr(pb::ConvertRowtypeExpr { xpr, arg, resulttype: _, convertformat: _, location: _ }) => { xpr.each(f); arg.each(f); }
        NodeRef::CollateExpr(pb::CollateExpr { xpr, arg, coll_oid: _, location: _ }) => { xpr.each(f); arg.each(f); }
        NodeRef::CaseExpr(pb::CaseExpr { xpr, casetype: _, casecollid: _, arg, args, defresult, location: _ }) => { xpr.each(f); arg.each(f); args.each(f); defresult.each(f); }
        NodeRef::CaseWhen(pb::CaseWhen { xpr, expr, result, location: _ }) => { xpr.each(f); expr.each(f); result.each(f); }
        NodeRef::CaseTestExpr(pb::CaseTestExpr { xpr, type_id: _, type_mod: _, collation: _ }) => { xpr.each(f); }
        NodeRef::ArrayExpr(pb::ArrayExpr { xpr, array_typeid: _, array_collid: _, element_typeid: _, elements, multidims: _, list_start: _, list_end: _, location: _ }) => { xpr.each(f); elements.each(f); }
        NodeRef::RowExpr(pb::RowExpr { xpr, args, row_typeid: _, row_format: _, colnames, location: _ }) => { xpr.each(f); args.each(f); colnames.each(f); }
        NodeRef::RowCompareExpr(pb::RowCompareExpr { xpr, cmptype: _, opnos, opfamilies, inputcollids, largs, rargs }) => { xpr.each(f); opnos.each(f); opfamilies.each(f); inputcollids.each(f); largs.each(f); rargs.each(f); }
        NodeRef::CoalesceExpr(pb::CoalesceExpr { xpr, coalescetype: _, coalescecollid: _, args, location: _ }) => { xpr.each(f); args.each(f); }
        NodeRef::MinMaxExpr(pb::MinMaxExpr { xpr, minmaxtype: _, minmaxcollid: _, inputcollid: _, op: _, args, location: _ }) => { xpr.each(f); args.each(f); }
        NodeRef::SqlvalueFunction(pb::SqlValueFunction { xpr, op: _, r#type: _, typmod: _, location: _ }) => { xpr.each(f); }
        NodeRef::XmlExpr(pb::XmlExpr { xpr, op: _, name: _, named_args, arg_names, args, xmloption: _, indent: _, r#type: _, typmod: _, location: _ }) => { xpr.each(f); named_args.each(f); arg_names.each(f); args.each(f); }
        NodeRef::NullTest(pb::NullTest { xpr, arg, nulltesttype: _, argisrow: _, location: _ }) => { xpr.each(f); arg.each(f); }
        NodeRef::BooleanTest(pb::BooleanTest { xpr, arg, booltesttype: _, location: _ }) => { xpr.each(f); arg.each(f); }
        NodeRef::CoerceToDomain(pb::CoerceToDomain { xpr, arg, resulttype: _, resulttypmod: _, resultcollid: _, coercionformat: _, location: _ }) => { xpr.each(f); arg.each(f); }
        NodeRef::CoerceToDomainValue(pb::CoerceToDomainValue { xpr, type_id: _, type_mod: _, collation: _, location: _ }) => { xpr.each(f); }
        NodeRef::SetToDefault(pb::SetToDefault { xpr, type_id: _, type_mod: _, collation: _, location: _ }) => { xpr.each(f); }
        NodeRef::CurrentOfExpr(pb::CurrentOfExpr { xpr, cvarno: _, cursor_name: _, cursor_param: _ }) => { xpr.each(f); }
        NodeRef::NextValueExpr(pb::NextValueExpr { xpr, seqid: _, type_id: _ }) => { xpr.each(f); }
        NodeRef::InferenceElem(pb::InferenceElem { xpr, expr, infercollid: _, inferopclass: _ }) => { xpr.each(f); expr.each(f); }
        NodeRef::TargetEntry(pb::TargetEntry { xpr, expr, resno: _, resname: _, ressortgroupref: _, resorigtbl: _, resorigcol: _, resjunk: _ }) => { xpr.each(f); expr.each(f); }
        NodeRef::RangeTblRef(pb::RangeTblRef { rtindex: _ }) => {  }
        NodeRef::JoinExpr(pb::JoinExpr { jointype: _, is_natural: _, larg, rarg, using_clause, join_using_alias, quals, alias, rtindex: _ }) => { larg.each(f); rarg.each(f); using_clause.each(f); join_using_alias.each(f); quals.each(f); alias.each(f); }
        NodeRef::FromExpr(pb::FromExpr { fromlist, quals }) => { fromlist.each(f); quals.each(f); }
        NodeRef::OnConflictExpr(pb::OnConflictExpr { action: _, arbiter_elems, arbiter_where, constraint: _, on_conflict_set, on_conflict_where, excl_rel_index: _, excl_rel_tlist }) => { arbiter_elems.each(f); arbiter_where.each(f); on_conflict_set.each(f); on_conflict_where.each(f); excl_rel_tlist.each(f); }
        NodeRef::IntoClause(pb::IntoClause { rel, col_names, access_method: _, options, on_commit: _, table_space_name: _, view_query, skip_data: _ }) => { rel.each(f); col_names.each(f); options.each(f); view_query.each(f); }
        NodeRef::RawStmt(pb::RawStmt { stmt, stmt_location: _, stmt_len: _ }) => { stmt.each(f); }
        NodeRef::Query(pb::Query { command_type: _, query_source: _, can_set_tag: _, utility_stmt, result_relation: _, has_aggs: _, has_window_funcs: _, has_target_srfs: _, has_sub_links: _, has_distinct_on: _, has_recursive: _, has_modifying_cte: _, has_for_update: _, has_row_security: _, has_group_rte: _, is_return: _, cte_list, rtable, rteperminfos, jointree, merge_action_list, merge_target_relation: _, merge_join_condition, target_list, r#override: _, on_conflict, returning_old_alias: _, returning_new_alias: _, returning_list, group_clause, group_distinct: _, grouping_sets, having_qual, window_clause, distinct_clause, sort_clause, limit_offset, limit_count, limit_option: _, row_marks, set_operations, constraint_deps, with_check_options, stmt_location: _, stmt_len: _ }) => { utility_stmt.each(f); cte_list.each(f); rtable.each(f); rteperminfos.each(f); jointree.each(f); merge_action_list.each(f); merge_join_condition.each(f); target_list.each(f); on_conflict.each(f); returning_list.each(f); group_clause.each(f); grouping_sets.each(f); having_qual.each(f); window_clause.each(f); distinct_clause.each(f); sort_clause.each(f); limit_offset.each(f); limit_count.each(f); row_marks.each(f); set_operations.each(f); constraint_deps.each(f); with_check_options.each(f); }
        NodeRef::InsertStmt(pb::InsertStmt { relation, cols, select_stmt, on_conflict_clause, returning_clause, with_clause, r#override: _ }) => { relation.each(f); cols.each(f); select_stmt.each(f); on_conflict_clause.each(f); returning_clause.each(f); with_clause.each(f); }
        NodeRef::DeleteStmt(pb::DeleteStmt { relation, using_clause, where_clause, returning_clause, with_clause }) => { relation.each(f); using_clause.each(f); where_clause.each(f); returning_clause.each(f); with_clause.each(f); }
        NodeRef::UpdateStmt(pb::UpdateStmt { relation, target_list, where_clause, from_clause, returning_clause, with_clause }) => { relation.each(f); target_list.each(f); where_clause.each(f); from_clause.each(f); returning_clause.each(f); with_clause.each(f); }
        NodeRef::SelectStmt(pb::SelectStmt { distinct_clause, into_clause, target_list, from_clause, where_clause, group_clause, group_distinct: _, having_clause, window_clause, values_lists, sort_clause, limit_offset, limit_count, limit_option: _, locking_clause, with_clause, op: _, all: _, larg, rarg }) => { distinct_clause.each(f); into_clause.each(f); target_list.each(f); from_clause.each(f); where_clause.each(f); group_clause.each(f); having_clause.each(f); window_clause.each(f); values_lists.each(f); sort_clause.each(f); limit_offset.each(f); limit_count.each(f); locking_clause.each(f); with_clause.each(f); larg.each(f); rarg.each(f); }
        NodeRef::AlterTableStmt(pb::AlterTableStmt { relation, cmds, objtype: _, missing_ok: _ }) => { relation.each(f); cmds.each(f); }
        NodeRef::AlterTableCmd(pb::AlterTableCmd { subtype: _, name: _, num: _, newowner, def, behavior: _, missing_ok: _, recurse: _ }) => { newowner.each(f); def.each(f); }
        NodeRef::AlterDomainStmt(pb::AlterDomainStmt { subtype: _, type_name, name: _, def, behavior: _, missing_ok: _ }) => { type_name.each(f); def.each(f); }
        NodeRef::SetOperationStmt(pb::SetOperationStmt { op: _, all: _, larg, rarg, col_types, col_typmods, col_collations, group_clauses }) => { larg.each(f); rarg.each(f); col_types.each(f); col_typmods.each(f); col_collations.each(f); group_clauses.each(f); }
        NodeRef::GrantStmt(pb::GrantStmt { is_grant: _, targtype: _, objtype: _, objects, privileges, grantees, grant_option: _, grantor, behavior: _ }) => { objects.each(f); privileges.each(f); grantees.each(f); grantor.each(f); }
        NodeRef::GrantRoleStmt(pb::GrantRoleStmt { granted_roles, grantee_roles, is_grant: _, opt, grantor, behavior: _ }) => { granted_roles.each(f); grantee_roles.each(f); opt.each(f); grantor.each(f); }
        NodeRef::AlterDefaultPrivilegesStmt(pb::AlterDefaultPrivilegesStmt { options, action }) => { options.each(f); action.each(f); }
        NodeRef::ClosePortalStmt(pb::ClosePortalStmt { portalname: _ }) => {  }
        NodeRef::ClusterStmt(pb::ClusterStmt { relation, indexname: _, params }) => { relation.each(f); params.each(f); }
        NodeRef::CopyStmt(pb::CopyStmt { relation, query, attlist, is_from: _, is_program: _, filename: _, options, where_clause }) => { relation.each(f); query.each(f); attlist.each(f); options.each(f); where_clause.each(f); }
        NodeRef::CreateStmt(pb::CreateStmt { relation, table_elts, inh_relations, partbound, partspec, of_typename, constraints, nnconstraints, options, oncommit: _, tablespacename: _, access_method: _, if_not_exists: _ }) => { relation.each(f); table_elts.each(f); inh_relations.each(f); partbound.each(f); partspec.each(f); of_typename.each(f); constraints.each(f); nnconstraints.each(f); options.each(f); }
        NodeRef::DefineStmt(pb::DefineStmt { kind: _, oldstyle: _, defnames, args, definition, if_not_exists: _, replace: _ }) => { defnames.each(f); args.each(f); definition.each(f); }
        NodeRef::DropStmt(pb::DropStmt { objects, remove_type: _, behavior: _, missing_ok: _, concurrent: _ }) => { objects.each(f); }
        NodeRef::TruncateStmt(pb::TruncateStmt { relations, restart_seqs: _, behavior: _ }) => { relations.each(f); }
        NodeRef::CommentStmt(pb::CommentStmt { objtype: _, object, comment: _ }) => { object.each(f); }
        NodeRef::FetchStmt(pb::FetchStmt { direction: _, how_many: _, portalname: _, ismove: _ }) => {  }
        NodeRef::IndexStmt(pb::IndexStmt { idxname: _, relation, access_method: _, table_space: _, index_params, index_including_params, options, where_clause, exclude_op_names, idxcomment: _, index_oid: _, old_number: _, old_create_subid: _, old_first_relfilelocator_subid: _, unique: _, nulls_not_distinct: _, primary: _, isconstraint: _, iswithoutoverlaps: _, deferrable: _, initdeferred: _, transformed: _, concurrent: _, if_not_exists: _, reset_default_tblspc: _ }) => { relation.each(f); index_params.each(f); index_including_params.each(f); options.each(f); where_clause.each(f); exclude_op_names.each(f); }
        NodeRef::CreateFunctionStmt(pb::CreateFunctionStmt { is_procedure: _, replace: _, funcname, parameters, return_type, options, sql_body }) => { funcname.each(f); parameters.each(f); return_type.each(f); options.each(f); sql_body.each(f); }
        NodeRef::AlterFunctionStmt(pb::AlterFunctionStmt { objtype: _, func, actions }) => { func.each(f); actions.each(f); }
        NodeRef::DoStmt(pb::DoStmt { args }) => { args.each(f); }
        NodeRef::RenameStmt(pb::RenameStmt { rename_type: _, relation_type: _, relation, object, subname: _, newname: _, behavior: _, missing_ok: _ }) => { relation.each(f); object.each(f); }
        NodeRef::RuleStmt(pb::RuleStmt { relation, rulename: _, where_clause, event: _, instead: _, actions, replace: _ }) => { relation.each(f); where_clause.each(f); actions.each(f); }
        NodeRef::NotifyStmt(pb::NotifyStmt { conditionname: _, payload: _, payload_location: _ }) => {  }
        NodeRef::ListenStmt(pb::ListenStmt { conditionname: _ }) => {  }
        NodeRef::UnlistenStmt(pb::UnlistenStmt { conditionname: _ }) => {  }
        NodeRef::TransactionStmt(pb::TransactionStmt { kind: _, options, savepoint_name: _, gid: _, chain: _, location: _ }) => { options.each(f); }
        NodeRef::ViewStmt(pb::ViewStmt { view, aliases, query, replace: _, options, with_check_option: _ }) => { view.each(f); aliases.each(f); query.each(f); options.each(f); }
        NodeRef::LoadStmt(pb::LoadStmt { filename: _ }) => {  }
        NodeRef::CreateDomainStmt(pb::CreateDomainStmt { domainname, type_name, coll_clause, constraints }) => { domainname.each(f); type_name.each(f); coll_clause.each(f); constraints.each(f); }
        NodeRef::CreatedbStmt(pb::CreatedbStmt { dbname: _, options }) => { options.each(f); }
        NodeRef::DropdbStmt(pb::DropdbStmt { dbname: _, missing_ok: _, options }) => { options.each(f); }
        NodeRef::VacuumStmt(pb::VacuumStmt { options, rels, is_vacuumcmd: _ }) => { options.each(f); rels.each(f); }
        NodeRef::ExplainStmt(pb::ExplainStmt { query, options }) => { query.each(f); options.each(f); }
        NodeRef::CreateTableAsStmt(pb::CreateTableAsStmt { query, into, objtype: _, is_select_into: _, if_not_exists: _ }) => { query.each(f); into.each(f); }
        NodeRef::CreateSeqStmt(pb::CreateSeqStmt { sequence, options, owner_id: _, for_identity: _, if_not_exists: _ }) => { sequence.each(f); options.each(f); }
        NodeRef::AlterSeqStmt(pb::AlterSeqStmt { sequence, options, for_identity: _, missing_ok: _ }) => { sequence.each(f); options.each(f); }
        NodeRef::VariableSetStmt(pb::VariableSetStmt { kind: _, name: _, args, jumble_args: _, is_local: _, location: _ }) => { args.each(f); }
        NodeRef::VariableShowStmt(pb::VariableShowStmt { name: _ }) => {  }
        NodeRef::DiscardStmt(pb::DiscardStmt { target: _ }) => {  }
        NodeRef::CreateTrigStmt(pb::CreateTrigStmt { replace: _, isconstraint: _, trigname: _, relation, funcname, args, row: _, timing: _, events: _, columns, when_clause, transition_rels, deferrable: _, initdeferred: _, constrrel }) => { relation.each(f); funcname.each(f); args.each(f); columns.each(f); when_clause.each(f); transition_rels.each(f); constrrel.each(f); }
        NodeRef::CreatePlangStmt(pb::CreatePLangStmt { replace: _, plname: _, plhandler, plinline, plvalidator, pltrusted: _ }) => { plhandler.each(f); plinline.each(f); plvalidator.each(f); }
        NodeRef::CreateRoleStmt(pb::CreateRoleStmt { stmt_type: _, role: _, options }) => { options.each(f); }
        NodeRef::AlterRoleStmt(pb::AlterRoleStmt { role, options, action: _ }) => { role.each(f); options.each(f); }
        NodeRef::DropRoleStmt(pb::DropRoleStmt { roles, missing_ok: _ }) => { roles.each(f); }
        NodeRef::LockStmt(pb::LockStmt { relations, mode: _, nowait: _ }) => { relations.each(f); }
        NodeRef::ConstraintsSetStmt(pb::ConstraintsSetStmt { constraints, deferred: _ }) => { constraints.each(f); }
        NodeRef::ReindexStmt(pb::ReindexStmt { kind: _, relation, name: _, params }) => { relation.each(f); params.each(f); }
        NodeRef::CheckPointStmt(pb::CheckPointStmt {  }) => {  }
        NodeRef::CreateSchemaStmt(pb::CreateSchemaStmt { schemaname: _, authrole, schema_elts, if_not_exists: _ }) => { authrole.each(f); schema_elts.each(f); }
        NodeRef::AlterDatabaseStmt(pb::AlterDatabaseStmt { dbname: _, options }) => { options.each(f); }
        NodeRef::AlterDatabaseSetStmt(pb::AlterDatabaseSetStmt { dbname: _, setstmt }) => { setstmt.each(f); }
        NodeRef::AlterRoleSetStmt(pb::AlterRoleSetStmt { role, database: _, setstmt }) => { role.each(f); setstmt.each(f); }
        NodeRef::CreateConversionStmt(pb::CreateConversionStmt { conversion_name, for_encoding_name: _, to_encoding_name: _, func_name, def: _ }) => { conversion_name.each(f); func_name.each(f); }
        NodeRef::CreateCastStmt(pb::CreateCastStmt { sourcetype, targettype, func, context: _, inout: _ }) => { sourcetype.each(f); targettype.each(f); func.each(f); }
        NodeRef::CreateOpClassStmt(pb::CreateOpClassStmt { opclassname, opfamilyname, amname: _, datatype, items, is_default: _ }) => { opclassname.each(f); opfamilyname.each(f); datatype.each(f); items.each(f); }
        NodeRef::CreateOpFamilyStmt(pb::CreateOpFamilyStmt { opfamilyname, amname: _ }) => { opfamilyname.each(f); }
        NodeRef::AlterOpFamilyStmt(pb::AlterOpFamilyStmt { opfamilyname, amname: _, is_drop: _, items }) => { opfamilyname.each(f); items.each(f); }
        NodeRef::PrepareStmt(pb::PrepareStmt { name: _, argtypes, query }) => { argtypes.each(f); query.each(f); }
        NodeRef::ExecuteStmt(pb::ExecuteStmt { name: _, params }) => { params.each(f); }
        NodeRef::DeallocateStmt(pb::DeallocateStmt { name: _, isall: _, location: _ }) => {  }
        NodeRef::DeclareCursorStmt(pb::DeclareCursorStmt { portalname: _, options: _, query }) => { query.each(f); }
        NodeRef::CreateTableSpaceStmt(pb::CreateTableSpaceStmt { tablespacename: _, owner, location: _, options }) => { owner.each(f); options.each(f); }
        NodeRef::DropTableSpaceStmt(pb::DropTableSpaceStmt { tablespacename: _, missing_ok: _ }) => {  }
        NodeRef::AlterObjectDependsStmt(pb::AlterObjectDependsStmt { object_type: _, relation, object, extname, remove: _ }) => { relation.each(f); object.each(f); extname.each(f); }
        NodeRef::AlterObjectSchemaStmt(pb::AlterObjectSchemaStmt { object_type: _, relation, object, newschema: _, missing_ok: _ }) => { relation.each(f); object.each(f); }
        NodeRef::AlterOwnerStmt(pb::AlterOwnerStmt { object_type: _, relation, object, newowner }) => { relation.each(f); object.each(f); newowner.each(f); }
        NodeRef::AlterOperatorStmt(pb::AlterOperatorStmt { opername, options }) => { opername.each(f); options.each(f); }
        NodeRef::AlterTypeStmt(pb::AlterTypeStmt { type_name, options }) => { type_name.each(f); options.each(f); }
        NodeRef::AtalterConstraint(pb::AtAlterConstraint { conname: _, alter_enforceability: _, is_enforced: _, alter_deferrability: _, deferrable: _, initdeferred: _, alter_inheritability: _, noinherit: _ }) => {  }
        NodeRef::DropOwnedStmt(pb::DropOwnedStmt { roles, behavior: _ }) => { roles.each(f); }
        NodeRef::ReassignOwnedStmt(pb::ReassignOwnedStmt { roles, newrole }) => { roles.each(f); newrole.each(f); }
        NodeRef::CompositeTypeStmt(pb::CompositeTypeStmt { typevar, coldeflist }) => { typevar.each(f); coldeflist.each(f); }
        NodeRef::CreateEnumStmt(pb::CreateEnumStmt { type_name, vals }) => { type_name.each(f); vals.each(f); }
        NodeRef::CreateRangeStmt(pb::CreateRangeStmt { type_name, params }) => { type_name.each(f); params.each(f); }
        NodeRef::AlterEnumStmt(pb::AlterEnumStmt { type_name, old_val: _, new_val: _, new_val_neighbor: _, new_val_is_after: _, skip_if_new_val_exists: _ }) => { type_name.each(f); }
        NodeRef::AlterTsdictionaryStmt(pb::AlterTsDictionaryStmt { dictname, options }) => { dictname.each(f); options.each(f); }
        NodeRef::AlterTsconfigurationStmt(pb::AlterTsConfigurationStmt { kind: _, cfgname, tokentype, dicts, r#override: _, replace: _, missing_ok: _ }) => { cfgname.each(f); tokentype.each(f); dicts.each(f); }
        NodeRef::CreateFdwStmt(pb::CreateFdwStmt { fdwname: _, func_options, options }) => { func_options.each(f); options.each(f); }
        NodeRef::AlterFdwStmt(pb::AlterFdwStmt { fdwname: _, func_options, options }) => { func_options.each(f); options.each(f); }
        NodeRef::CreateForeignServerStmt(pb::CreateForeignServerStmt { servername: _, servertype: _, version: _, fdwname: _, if_not_exists: _, options }) => { options.each(f); }
        NodeRef::AlterForeignServerStmt(pb::AlterForeignServerStmt { servername: _, version: _, options, has_version: _ }) => { options.each(f); }
        NodeRef::CreateUserMappingStmt(pb::CreateUserMappingStmt { user, servername: _, if_not_exists: _, options }) => { user.each(f); options.each(f); }
        NodeRef::AlterUserMappingStmt(pb::AlterUserMappingStmt { user, servername: _, options }) => { user.each(f); options.each(f); }
        NodeRef::DropUserMappingStmt(pb::DropUserMappingStmt { user, servername: _, missing_ok: _ }) => { user.each(f); }
        NodeRef::AlterTableSpaceOptionsStmt(pb::AlterTableSpaceOptionsStmt { tablespacename: _, options, is_reset: _ }) => { options.each(f); }
        NodeRef::AlterTableMoveAllStmt(pb::AlterTableMoveAllStmt { orig_tablespacename: _, objtype: _, roles, new_tablespacename: _, nowait: _ }) => { roles.each(f); }
        NodeRef::SecLabelStmt(pb::SecLabelStmt { objtype: _, object, provider: _, label: _ }) => { object.each(f); }
        NodeRef::CreateForeignTableStmt(pb::CreateForeignTableStmt { base_stmt, servername: _, options }) => { base_stmt.each(f); options.each(f); }
        NodeRef::ImportForeignSchemaStmt(pb::ImportForeignSchemaStmt { server_name: _, remote_schema: _, local_schema: _, list_type: _, table_list, options }) => { table_list.each(f); options.each(f); }
        NodeRef::CreateExtensionStmt(pb::CreateExtensionStmt { extname: _, if_not_exists: _, options }) => { options.each(f); }
        NodeRef::AlterExtensionStmt(pb::AlterExtensionStmt { extname: _, options }) => { options.each(f); }
        NodeRef::AlterExtensionContentsStmt(pb::AlterExtensionContentsStmt { extname: _, action: _, objtype: _, object }) => { object.each(f); }
        NodeRef::CreateEventTrigStmt(pb::CreateEventTrigStmt { trigname: _, eventname: _, whenclause, funcname }) => { whenclause.each(f); funcname.each(f); }
        NodeRef::AlterEventTrigStmt(pb::AlterEventTrigStmt { trigname: _, tgenabled: _ }) => {  }
        NodeRef::RefreshMatViewStmt(pb::RefreshMatViewStmt { concurrent: _, skip_data: _, relation }) => { relation.each(f); }
        NodeRef::ReplicaIdentityStmt(pb::ReplicaIdentityStmt { identity_type: _, name: _ }) => {  }
        NodeRef::AlterSystemStmt(pb::AlterSystemStmt { setstmt }) => { setstmt.each(f); }
        NodeRef::CreatePolicyStmt(pb::CreatePolicyStmt { policy_name: _, table, cmd_name: _, permissive: _, roles, qual, with_check }) => { table.each(f); roles.each(f); qual.each(f); with_check.each(f); }
        NodeRef::AlterPolicyStmt(pb::AlterPolicyStmt { policy_name: _, table, roles, qual, with_check }) => { table.each(f); roles.each(f); qual.each(f); with_check.each(f); }
        NodeRef::CreateTransformStmt(pb::CreateTransformStmt { replace: _, type_name, lang: _, fromsql, tosql }) => { type_name.each(f); fromsql.each(f); tosql.each(f); }
        NodeRef::CreateAmStmt(pb::CreateAmStmt { amname: _, handler_name, amtype: _ }) => { handler_name.each(f); }
        NodeRef::CreatePublicationStmt(pb::CreatePublicationStmt { pubname: _, options, pubobjects, for_all_tables: _ }) => { options.each(f); pubobjects.each(f); }
        NodeRef::AlterPublicationStmt(pb::AlterPublicationStmt { pubname: _, options, pubobjects, for_all_tables: _, action: _ }) => { options.each(f); pubobjects.each(f); }
        NodeRef::CreateSubscriptionStmt(pb::CreateSubscriptionStmt { subname: _, conninfo: _, publication, options, conninfo_location: _ }) => { publication.each(f); options.each(f); }
        NodeRef::AlterSubscriptionStmt(pb::AlterSubscriptionStmt { kind: _, subname: _, conninfo: _, publication, options, conninfo_location: _ }) => { publication.each(f); options.each(f); }
        NodeRef::DropSubscriptionStmt(pb::DropSubscriptionStmt { subname: _, missing_ok: _, behavior: _ }) => {  }
        NodeRef::CreateStatsStmt(pb::CreateStatsStmt { defnames, stat_types, exprs, relations, stxcomment: _, transformed: _, if_not_exists: _ }) => { defnames.each(f); stat_types.each(f); exprs.each(f); relations.each(f); }
        NodeRef::AlterCollationStmt(pb::AlterCollationStmt { collname }) => { collname.each(f); }
        NodeRef::CallStmt(pb::CallStmt { funccall, funcexpr, outargs }) => { funccall.each(f); funcexpr.each(f); outargs.each(f); }
        NodeRef::AlterStatsStmt(pb::AlterStatsStmt { defnames, stxstattarget, missing_ok: _ }) => { defnames.each(f); stxstattarget.each(f); }
        NodeRef::AExpr(pb::AExpr { kind: _, name, lexpr, rexpr, rexpr_list_start: _, rexpr_list_end: _, location: _ }) => { name.each(f); lexpr.each(f); rexpr.each(f); }
        NodeRef::ColumnRef(pb::ColumnRef { fields, location: _ }) => { fields.each(f); }
        NodeRef::ParamRef(pb::ParamRef { number: _, location: _ }) => {  }
        NodeRef::AConst(pb::AConst { isnull: _, location: _, val: _ }) => {  }
        NodeRef::FuncCall(pb::FuncCall { funcname, args, agg_order, agg_filter, over, agg_within_group: _, agg_star: _, agg_distinct: _, func_variadic: _, funcformat: _, location: _ }) => { funcname.each(f); args.each(f); agg_order.each(f); agg_filter.each(f); over.each(f); }
        NodeRef::AStar(pb::AStar {  }) => {  }
        NodeRef::AIndices(pb::AIndices { is_slice: _, lidx, uidx }) => { lidx.each(f); uidx.each(f); }
        NodeRef::AIndirection(pb::AIndirection { arg, indirection }) => { arg.each(f); indirection.each(f); }
        NodeRef::AArrayExpr(pb::AArrayExpr { elements, list_start: _, list_end: _, location: _ }) => { elements.each(f); }
        NodeRef::ResTarget(pb::ResTarget { name: _, indirection, val, location: _ }) => { indirection.each(f); val.each(f); }
        NodeRef::MultiAssignRef(pb::MultiAssignRef { source, colno: _, ncolumns: _ }) => { source.each(f); }
        NodeRef::TypeCast(pb::TypeCast { arg, type_name, location: _ }) => { arg.each(f); type_name.each(f); }
        NodeRef::CollateClause(pb::CollateClause { arg, collname, location: _ }) => { arg.each(f); collname.each(f); }
        NodeRef::SortBy(pb::SortBy { node, sortby_dir: _, sortby_nulls: _, use_op, location: _ }) => { node.each(f); use_op.each(f); }
        NodeRef::WindowDef(pb::WindowDef { name: _, refname: _, partition_clause, order_clause, frame_options: _, start_offset, end_offset, location: _ }) => { partition_clause.each(f); order_clause.each(f); start_offset.each(f); end_offset.each(f); }
        NodeRef::RangeSubselect(pb::RangeSubselect { lateral: _, subquery, alias }) => { subquery.each(f); alias.each(f); }
        NodeRef::RangeFunction(pb::RangeFunction { lateral: _, ordinality: _, is_rowsfrom: _, functions, alias, coldeflist }) => { functions.each(f); alias.each(f); coldeflist.each(f); }
        NodeRef::RangeTableSample(pb::RangeTableSample { relation, method, args, repeatable, location: _ }) => { relation.each(f); method.each(f); args.each(f); repeatable.each(f); }
        NodeRef::RangeTableFunc(pb::RangeTableFunc { lateral: _, docexpr, rowexpr, namespaces, columns, alias, location: _ }) => { docexpr.each(f); rowexpr.each(f); namespaces.each(f); columns.each(f); alias.each(f); }
        NodeRef::RangeTableFuncCol(pb::RangeTableFuncCol { colname: _, type_name, for_ordinality: _, is_not_null: _, colexpr, coldefexpr, location: _ }) => { type_name.each(f); colexpr.each(f); coldefexpr.each(f); }
        NodeRef::TypeName(pb::TypeName { names, type_oid: _, setof: _, pct_type: _, typmods, typemod: _, array_bounds, location: _ }) => { names.each(f); typmods.each(f); array_bounds.each(f); }
        NodeRef::ColumnDef(pb::ColumnDef { colname: _, type_name, compression: _, inhcount: _, is_local: _, is_not_null: _, is_from_type: _, storage: _, storage_name: _, raw_default, cooked_default, identity: _, identity_sequence, generated: _, coll_clause, coll_oid: _, constraints, fdwoptions, location: _ }) => { type_name.each(f); raw_default.each(f); cooked_default.each(f); identity_sequence.each(f); coll_clause.each(f); constraints.each(f); fdwoptions.each(f); }
        NodeRef::IndexElem(pb::IndexElem { name: _, expr, indexcolname: _, collation, opclass, opclassopts, ordering: _, nulls_ordering: _ }) => { expr.each(f); collation.each(f); opclass.each(f); opclassopts.each(f); }
        NodeRef::Constraint(pb::Constraint { contype: _, conname: _, deferrable: _, initdeferred: _, is_enforced: _, skip_validation: _, initially_valid: _, is_no_inherit: _, raw_expr, cooked_expr: _, generated_when: _, generated_kind: _, nulls_not_distinct: _, keys, without_overlaps: _, including, exclusions, options, indexname: _, indexspace: _, reset_default_tblspc: _, access_method: _, where_clause, pktable, fk_attrs, pk_attrs, fk_with_period: _, pk_with_period: _, fk_matchtype: _, fk_upd_action: _, fk_del_action: _, fk_del_set_cols, old_conpfeqop, old_pktable_oid: _, location: _ }) => { raw_expr.each(f); keys.each(f); including.each(f); exclusions.each(f); options.each(f); where_clause.each(f); pktable.each(f); fk_attrs.each(f); pk_attrs.each(f); fk_del_set_cols.each(f); old_conpfeqop.each(f); }
        NodeRef::DefElem(pb::DefElem { defnamespace: _, defname: _, arg, defaction: _, location: _, arg_location: _ }) => { arg.each(f); }
        NodeRef::RangeTblEntry(pb::RangeTblEntry { alias, eref, rtekind: _, relid: _, inh: _, relkind: _, rellockmode: _, perminfoindex: _, tablesample, subquery, security_barrier: _, jointype: _, joinmergedcols: _, joinaliasvars, joinleftcols, joinrightcols, join_using_alias, functions, funcordinality: _, tablefunc, values_lists, ctename: _, ctelevelsup: _, self_reference: _, coltypes, coltypmods, colcollations, enrname: _, enrtuples: _, groupexprs, lateral: _, in_from_cl: _, security_quals }) => { alias.each(f); eref.each(f); tablesample.each(f); subquery.each(f); joinaliasvars.each(f); joinleftcols.each(f); joinrightcols.each(f); join_using_alias.each(f); functions.each(f); tablefunc.each(f); values_lists.each(f); coltypes.each(f); coltypmods.each(f); colcollations.each(f); groupexprs.each(f); security_quals.each(f); }
        NodeRef::RangeTblFunction(pb::RangeTblFunction { funcexpr, funccolcount: _, funccolnames, funccoltypes, funccoltypmods, funccolcollations, funcparams: _ }) => { funcexpr.each(f); funccolnames.each(f); funccoltypes.each(f); funccoltypmods.each(f); funccolcollations.each(f); }
        NodeRef::TableSampleClause(pb::TableSampleClause { tsmhandler: _, args, repeatable }) => { args.each(f); repeatable.each(f); }
        NodeRef::WithCheckOption(pb::WithCheckOption { kind: _, relname: _, polname: _, qual, cascaded: _ }) => { qual.each(f); }
        NodeRef::SortGroupClause(pb::SortGroupClause { tle_sort_group_ref: _, eqop: _, sortop: _, reverse_sort: _, nulls_first: _, hashable: _ }) => {  }
        NodeRef::GroupingSet(pb::GroupingSet { kind: _, content, location: _ }) => { content.each(f); }
        NodeRef::WindowClause(pb::WindowClause { name: _, refname: _, partition_clause, order_clause, frame_options: _, start_offset, end_offset, start_in_range_func: _, end_in_range_func: _, in_range_coll: _, in_range_asc: _, in_range_nulls_first: _, winref: _, copied_order: _ }) => { partition_clause.each(f); order_clause.each(f); start_offset.each(f); end_offset.each(f); }
        NodeRef::ObjectWithArgs(pb::ObjectWithArgs { objname, objargs, objfuncargs, args_unspecified: _ }) => { objname.each(f); objargs.each(f); objfuncargs.each(f); }
        NodeRef::AccessPriv(pb::AccessPriv { priv_name: _, cols }) => { cols.each(f); }
        NodeRef::CreateOpClassItem(pb::CreateOpClassItem { itemtype: _, name, number: _, order_family, class_args, storedtype }) => { name.each(f); order_family.each(f); class_args.each(f); storedtype.each(f); }
        NodeRef::TableLikeClause(pb::TableLikeClause { relation, options: _, relation_oid: _ }) => { relation.each(f); }
        NodeRef::FunctionParameter(pb::FunctionParameter { name: _, arg_type, mode: _, defexpr, location: _ }) => { arg_type.each(f); defexpr.each(f); }
        NodeRef::LockingClause(pb::LockingClause { locked_rels, strength: _, wait_policy: _ }) => { locked_rels.each(f); }
        NodeRef::RowMarkClause(pb::RowMarkClause { rti: _, strength: _, wait_policy: _, pushed_down: _ }) => {  }
        NodeRef::XmlSerialize(pb::XmlSerialize { xmloption: _, expr, type_name, indent: _, location: _ }) => { expr.each(f); type_name.each(f); }
        NodeRef::WithClause(pb::WithClause { ctes, recursive: _, location: _ }) => { ctes.each(f); }
        NodeRef::InferClause(pb::InferClause { index_elems, where_clause, conname: _, location: _ }) => { index_elems.each(f); where_clause.each(f); }
        NodeRef::OnConflictClause(pb::OnConflictClause { action: _, infer, target_list, where_clause, location: _ }) => { infer.each(f); target_list.each(f); where_clause.each(f); }
        NodeRef::CommonTableExpr(pb::CommonTableExpr { ctename: _, aliascolnames, ctematerialized: _, ctequery, search_clause, cycle_clause, location: _, cterecursive: _, cterefcount: _, ctecolnames, ctecoltypes, ctecoltypmods, ctecolcollations }) => { aliascolnames.each(f); ctequery.each(f); search_clause.each(f); cycle_clause.each(f); ctecolnames.each(f); ctecoltypes.each(f); ctecoltypmods.each(f); ctecolcollations.each(f); }
        NodeRef::RoleSpec(pb::RoleSpec { roletype: _, rolename: _, location: _ }) => {  }
        NodeRef::TriggerTransition(pb::TriggerTransition { name: _, is_new: _, is_table: _ }) => {  }
        NodeRef::PartitionElem(pb::PartitionElem { name: _, expr, collation, opclass, location: _ }) => { expr.each(f); collation.each(f); opclass.each(f); }
        NodeRef::PartitionSpec(pb::PartitionSpec { strategy: _, part_params, location: _ }) => { part_params.each(f); }
        NodeRef::PartitionBoundSpec(pb::PartitionBoundSpec { strategy: _, is_default: _, modulus: _, remainder: _, listdatums, lowerdatums, upperdatums, location: _ }) => { listdatums.each(f); lowerdatums.each(f); upperdatums.each(f); }
        NodeRef::PartitionRangeDatum(pb::PartitionRangeDatum { kind: _, value, location: _ }) => { value.each(f); }
        NodeRef::PartitionCmd(pb::PartitionCmd { name, bound, concurrent: _ }) => { name.each(f); bound.each(f); }
        NodeRef::VacuumRelation(pb::VacuumRelation { relation, oid: _, va_cols }) => { relation.each(f); va_cols.each(f); }
        NodeRef::InlineCodeBlock(pb::InlineCodeBlock { source_text: _, lang_oid: _, lang_is_trusted: _, atomic: _ }) => {  }
        NodeRef::CallContext(pb::CallContext { atomic: _ }) => {  }
        NodeRef::Integer(pb::Integer { ival: _ }) => {  }
        NodeRef::Float(pb::Float { fval: _ }) => {  }
        NodeRef::Boolean(pb::Boolean { boolval: _ }) => {  }
        NodeRef::String(pb::String { sval: _ }) => {  }
        NodeRef::BitString(pb::BitString { bsval: _ }) => {  }
        NodeRef::List(pb::List { items }) => { items.each(f); }
        NodeRef::IntList(pb::IntList { items }) => { items.each(f); }
        NodeRef::OidList(pb::OidList { items }) => { items.each(f); }
        NodeRef::MergeStmt(pb::MergeStmt { relation, source_relation, join_condition, merge_when_clauses, returning_clause, with_clause }) => { relation.each(f); source_relation.each(f); join_condition.each(f); merge_when_clauses.each(f); returning_clause.each(f); with_clause.each(f); }
        NodeRef::MergeAction(pb::MergeAction { match_kind: _, command_type: _, r#override: _, qual, target_list, update_colnos }) => { qual.each(f); target_list.each(f); update_colnos.each(f); }
        NodeRef::AlterDatabaseRefreshCollStmt(pb::AlterDatabaseRefreshCollStmt { dbname: _ }) => {  }
        NodeRef::ReturnStmt(pb::ReturnStmt { returnval }) => { returnval.each(f); }
        NodeRef::ReturningClause(pb::ReturningClause { options, exprs }) => { options.each(f); exprs.each(f); }
        NodeRef::ReturningExpr(pb::ReturningExpr { xpr, retlevelsup: _, retold: _, retexpr }) => { xpr.each(f); retexpr.each(f); }
        NodeRef::ReturningOption(pb::ReturningOption { option: _, value: _, location: _ }) => {  }
        NodeRef::PlassignStmt(pb::PlAssignStmt { name: _, indirection, nnames: _, val, location: _ }) => { indirection.each(f); val.each(f); }
        NodeRef::StatsElem(pb::StatsElem { name: _, expr }) => { expr.each(f); }
        NodeRef::CtesearchClause(pb::CteSearchClause { search_col_list, search_breadth_first: _, search_seq_column: _, location: _ }) => { search_col_list.each(f); }
        NodeRef::CtecycleClause(pb::CteCycleClause { cycle_col_list, cycle_mark_column: _, cycle_mark_value, cycle_mark_default, cycle_path_column: _, location: _, cycle_mark_type: _, cycle_mark_typmod: _, cycle_mark_collation: _, cycle_mark_neop: _ }) => { cycle_col_list.each(f); cycle_mark_value.each(f); cycle_mark_default.each(f); }
        NodeRef::MergeWhenClause(pb::MergeWhenClause { match_kind: _, command_type: _, r#override: _, condition, target_list, values }) => { condition.each(f); target_list.each(f); values.each(f); }
        NodeRef::PublicationObjSpec(pb::PublicationObjSpec { pubobjtype: _, name: _, pubtable, location: _ }) => { pubtable.each(f); }
        NodeRef::PublicationTable(pb::PublicationTable { relation, where_clause, columns }) => { relation.each(f); where_clause.each(f); columns.each(f); }
        NodeRef::JsonFormat(pb::JsonFormat { format_type: _, encoding: _, location: _ }) => {  }
        NodeRef::JsonReturning(pb::JsonReturning { format, typid: _, typmod: _ }) => { format.each(f); }
        NodeRef::JsonValueExpr(pb::JsonValueExpr { raw_expr, formatted_expr, format }) => { raw_expr.each(f); formatted_expr.each(f); format.each(f); }
        NodeRef::JsonConstructorExpr(pb::JsonConstructorExpr { xpr, r#type: _, args, func, coercion, returning, absent_on_null: _, unique: _, location: _ }) => { xpr.each(f); args.each(f); func.each(f); coercion.each(f); returning.each(f); }
        NodeRef::JsonIsPredicate(pb::JsonIsPredicate { expr, format, item_type: _, unique_keys: _, location: _ }) => { expr.each(f); format.each(f); }
        NodeRef::JsonOutput(pb::JsonOutput { type_name, returning }) => { type_name.each(f); returning.each(f); }
        NodeRef::JsonKeyValue(pb::JsonKeyValue { key, value }) => { key.each(f); value.each(f); }
        NodeRef::JsonObjectConstructor(pb::JsonObjectConstructor { exprs, output, absent_on_null: _, unique: _, location: _ }) => { exprs.each(f); output.each(f); }
        NodeRef::JsonArrayConstructor(pb::JsonArrayConstructor { exprs, output, absent_on_null: _, location: _ }) => { exprs.each(f); output.each(f); }
        NodeRef::JsonArrayQueryConstructor(pb::JsonArrayQueryConstructor { query, output, format, absent_on_null: _, location: _ }) => { query.each(f); output.each(f); format.each(f); }
        NodeRef::JsonAggConstructor(pb::JsonAggConstructor { output, agg_filter, agg_order, over, location: _ }) => { output.each(f); agg_filter.each(f); agg_order.each(f); over.each(f); }
        NodeRef::JsonObjectAgg(pb::JsonObjectAgg { constructor, arg, absent_on_null: _, unique: _ }) => { constructor.each(f); arg.each(f); }
        NodeRef::JsonArrayAgg(pb::JsonArrayAgg { constructor, arg, absent_on_null: _ }) => { constructor.each(f); arg.each(f); }
        NodeRef::RtepermissionInfo(pb::RtePermissionInfo { relid: _, inh: _, required_perms: _, check_as_user: _, selected_cols: _, inserted_cols: _, updated_cols: _ }) => {  }
        NodeRef::WindowFuncRunCondition(pb::WindowFuncRunCondition { xpr, opno: _, inputcollid: _, wfunc_left: _, arg }) => { xpr.each(f); arg.each(f); }
        NodeRef::MergeSupportFunc(pb::MergeSupportFunc { xpr, msftype: _, msfcollid: _, location: _ }) => { xpr.each(f); }
        NodeRef::JsonBehavior(pb::JsonBehavior { btype: _, expr, coerce: _, location: _ }) => { expr.each(f); }
        NodeRef::JsonExpr(pb::JsonExpr { xpr, op: _, column_name: _, formatted_expr, format, path_spec, returning, passing_names, passing_values, on_empty, on_error, use_io_coercion: _, use_json_coercion: _, wrapper: _, omit_quotes: _, collation: _, location: _ }) => { xpr.each(f); formatted_expr.each(f); format.each(f); path_spec.each(f); returning.each(f); passing_names.each(f); passing_values.each(f); on_empty.each(f); on_error.each(f); }
        NodeRef::JsonTablePath(pb::JsonTablePath { name: _ }) => {  }
        NodeRef::JsonTablePathScan(pb::JsonTablePathScan { plan, path, error_on_error: _, child, col_min: _, col_max: _ }) => { plan.each(f); path.each(f); child.each(f); }
        NodeRef::JsonTableSiblingJoin(pb::JsonTableSiblingJoin { plan, lplan, rplan }) => { plan.each(f); lplan.each(f); rplan.each(f); }
        NodeRef::JsonArgument(pb::JsonArgument { val, name: _ }) => { val.each(f); }
        NodeRef::JsonFuncExpr(pb::JsonFuncExpr { op: _, column_name: _, context_item, pathspec, passing, output, on_empty, on_error, wrapper: _, quotes: _, location: _ }) => { context_item.each(f); pathspec.each(f); passing.each(f); output.each(f); on_empty.each(f); on_error.each(f); }
        NodeRef::JsonTablePathSpec(pb::JsonTablePathSpec { string, name: _, name_location: _, location: _ }) => { string.each(f); }
        NodeRef::JsonTable(pb::JsonTable { context_item, pathspec, passing, columns, on_error, alias, lateral: _, location: _ }) => { context_item.each(f); pathspec.each(f); passing.each(f); columns.each(f); on_error.each(f); alias.each(f); }
        NodeRef::JsonTableColumn(pb::JsonTableColumn { coltype: _, name: _, type_name, pathspec, format, wrapper: _, quotes: _, columns, on_empty, on_error, location: _ }) => { type_name.each(f); pathspec.each(f); format.each(f); columns.each(f); on_empty.each(f); on_error.each(f); }
        NodeRef::JsonParseExpr(pb::JsonParseExpr { expr, output, unique_keys: _, location: _ }) => { expr.each(f); output.each(f); }
        NodeRef::JsonScalarExpr(pb::JsonScalarExpr { expr, output, location: _ }) => { expr.each(f); output.each(f); }
        NodeRef::JsonSerializeExpr(pb::JsonSerializeExpr { expr, output, location: _ }) => { expr.each(f); output.each(f); }
    }
}

/// A field that may hold nodes: a `Node`, a typed node struct, or an
/// `Option`/`Box`/`Vec` of one.
trait Each {
    fn each<'a>(&'a self, f: &mut dyn FnMut(NodeRef<'a>));
}

impl Each for pb::Node {
    fn each<'a>(&'a self, f: &mut dyn FnMut(NodeRef<'a>)) {
        if let Some(node) = &self.node {
            f(node.to_ref());
        }
    }
}

impl<T: Each> Each for Option<T> {
    fn each<'a>(&'a self, f: &mut dyn FnMut(NodeRef<'a>)) {
        if let Some(inner) = self {
            inner.each(f);
        }
    }
}

impl<T: Each> Each for Box<T> {
    fn each<'a>(&'a self, f: &mut dyn FnMut(NodeRef<'a>)) {
        (**self).each(f);
    }
}

impl<T: Each> Each for Vec<T> {
    fn each<'a>(&'a self, f: &mut dyn FnMut(NodeRef<'a>)) {
        for item in self {
            item.each(f);
        }
    }
}

/// Node structs that appear as typed fields rather than wrapped in `Node`.
macro_rules! typed_nodes {
    ($($name:ident => $variant:ident),* $(,)?) => {$(
        impl Each for pb::$name {
            fn each<'a>(&'a self, f: &mut dyn FnMut(NodeRef<'a>)) {
                f(NodeRef::$variant(self));
            }
        }
    )*};
}

typed_nodes!(
    Alias => Alias,
    CollateClause => CollateClause,
    CreateStmt => CreateStmt,
    CteCycleClause => CtecycleClause,
    CteSearchClause => CtesearchClause,
    FromExpr => FromExpr,
    FuncCall => FuncCall,
    FuncExpr => FuncExpr,
    GrantStmt => GrantStmt,
    InferClause => InferClause,
    IntoClause => IntoClause,
    JsonAggConstructor => JsonAggConstructor,
    JsonBehavior => JsonBehavior,
    JsonFormat => JsonFormat,
    JsonKeyValue => JsonKeyValue,
    JsonOutput => JsonOutput,
    JsonReturning => JsonReturning,
    JsonTablePath => JsonTablePath,
    JsonTablePathSpec => JsonTablePathSpec,
    JsonValueExpr => JsonValueExpr,
    ObjectWithArgs => ObjectWithArgs,
    OnConflictClause => OnConflictClause,
    OnConflictExpr => OnConflictExpr,
    PartitionBoundSpec => PartitionBoundSpec,
    PartitionSpec => PartitionSpec,
    PublicationTable => PublicationTable,
    Query => Query,
    RangeVar => RangeVar,
    ReturningClause => ReturningClause,
    RoleSpec => RoleSpec,
    SelectStmt => SelectStmt,
    String => String,
    TableFunc => TableFunc,
    TableSampleClause => TableSampleClause,
    TypeName => TypeName,
    VariableSetStmt => VariableSetStmt,
    WindowDef => WindowDef,
    WithClause => WithClause,
);
