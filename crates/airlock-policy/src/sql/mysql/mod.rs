//! MySQL, read with sqlparser's MySQL dialect, plus token-level handling
//! of what that parser does not know (see [`lex`]). Table and database
//! names keep their case (MySQL on Linux compares them case-sensitively);
//! column and function names are lower-cased (MySQL ignores their case).
//! Not modelled: the ANSI_QUOTES and NO_BACKSLASH_ESCAPES SQL modes, under
//! which the server tokenizes some texts differently.

mod key;
mod lex;
mod statements;
mod walk;

use std::ops::ControlFlow;

use sqlparser::ast::Visit;
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{TokenWithSpan, Tokenizer};

use crate::facts::Facts;
use crate::sql::collect;
use crate::sql::features::{DYNAMIC_SQL, LOAD_DATA_INFILE};
use crate::sql::scope::Source;

const DIALECT: &str = "mysql";

/// How many levels of `PREPARE s FROM '…'` inside each other are analysed.
const PREPARED_SQL_DEPTH: u8 = 3;

pub(super) fn analyse(text: &str) -> Facts {
    let mut walker = walk::Walker::new();
    match statements_of(text, &mut walker, PREPARED_SQL_DEPTH) {
        Ok(count) => walker.out.finish(DIALECT, count),
        Err(message) => collect::parse_error(DIALECT, message),
    }
}

pub(super) fn normalize(text: &str) -> Option<String> {
    key::key(text)
}

/// Walks every statement of `text` into `walker`; returns how many there
/// are.
fn statements_of(text: &str, walker: &mut walk::Walker, budget: u8) -> Result<usize, String> {
    if let Some(problem) = lex::executable_comment_problem(text) {
        return Err(problem);
    }
    let tokens = Tokenizer::new(&MySqlDialect {}, text)
        .tokenize_with_location()
        .map_err(|e| e.to_string())?;
    let pieces = lex::split(tokens);
    let count = pieces.len();
    for piece in pieces {
        statement(piece, walker, budget)?;
    }
    Ok(count)
}

fn statement(
    mut tokens: Vec<TokenWithSpan>,
    walker: &mut walk::Walker,
    budget: u8,
) -> Result<(), String> {
    walker.forget_marks();
    if let Some(problem) = lex::too_deep(&tokens) {
        return Err(problem);
    }
    match lex::special(&tokens)? {
        Some(lex::Special::LoadData { table, set }) => load_data(walker, table, set),
        Some(lex::Special::Prepare { sql }) => {
            let saved = walker.out.open("prepare");
            walker.out.feature(DYNAMIC_SQL);
            // SQL in the string runs when the statement is executed; it
            // is analysed as nested statements, in a scope of its own.
            if let Some(sql) = sql
                && budget > 0
            {
                let outer = walker.scope.take();
                // Text the server would reject hides nothing.
                let _ = statements_of(&sql, walker, budget - 1);
                walker.scope.put_back(outer);
            }
            walker.out.close(saved);
            Ok(())
        }
        None => {
            let features = lex::strip_into_file(&mut tokens);
            let parsed = Parser::new(&MySqlDialect {})
                .with_tokens_with_locations(tokens)
                .parse_statements()
                .map_err(|e| e.to_string())?;
            for parsed in parsed {
                walker.pending_features.extend(features.iter().copied());
                if let ControlFlow::Break(message) = parsed.visit(walker) {
                    return Err(message);
                }
            }
            Ok(())
        }
    }
}

/// `LOAD DATA … INTO TABLE t … [SET col = expr, …]`: the expressions are
/// parsed as the assignments of an UPDATE of the same table.
fn load_data(
    walker: &mut walk::Walker,
    table: String,
    set: Option<Vec<TokenWithSpan>>,
) -> Result<(), String> {
    let assignments = match set {
        Some(set) => {
            let mut tokens = Tokenizer::new(
                &MySqlDialect {},
                &format!("UPDATE `{}` SET ", table.replace('`', "``")),
            )
            .tokenize_with_location()
            .map_err(|e| e.to_string())?;
            tokens.extend(set);
            let parsed = Parser::new(&MySqlDialect {})
                .with_tokens_with_locations(tokens)
                .parse_statement()
                .map_err(|e| e.to_string())?;
            match parsed {
                sqlparser::ast::Statement::Update(update) => update.assignments,
                _ => Vec::new(),
            }
        }
        None => Vec::new(),
    };
    let saved = walker.out.open("load");
    walker.out.feature(LOAD_DATA_INFILE);
    walker.out.written(table.clone());
    let last = table.rsplit('.').next().unwrap_or_default().to_owned();
    let mark = walker.scope.mark();
    walker
        .scope
        .push_frame(vec![Source::table(table.clone(), None, &last)]);
    let mut result = Ok(());
    for assignment in &assignments {
        if let sqlparser::ast::AssignmentTarget::ColumnName(name) = &assignment.target
            && let Some(column) = walk::last_part(name)
        {
            walker.out.column(&table, &column.to_lowercase());
        }
        if let ControlFlow::Break(message) = assignment.value.visit(walker) {
            result = Err(message);
            break;
        }
    }
    walker.scope.restore(mark);
    walker.out.close(saved);
    result
}
