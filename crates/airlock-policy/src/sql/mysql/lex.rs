//! Token-level work sqlparser's MySQL dialect needs help with: executable
//! comments, splitting statements, and three statements it cannot parse
//! but the gateway must see (`SELECT … INTO OUTFILE/DUMPFILE`, `LOAD DATA
//! INFILE`, `PREPARE … FROM`).

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::sql::features::{INTO_DUMPFILE, INTO_OUTFILE};

/// Newest MySQL version whose `/*!NNNNN … */` comments every supported
/// server (MySQL 8.0 and later, MariaDB 10 and later) executes.
const EXECUTED_EVERYWHERE: u32 = 80000;

/// Why a text with executable comments cannot be analysed, if it cannot.
/// `/*! … */` runs as code; with a version number, only on servers at
/// least that new, and MariaDB runs `/*M! … */` where MySQL sees a
/// comment. When servers could disagree about the text, the gateway cannot
/// know which reading the server will pick, so it refuses to guess.
/// (sqlparser expands `/*!` comments it keeps, which matches every server
/// that passes this check.) Matches inside string literals are refused
/// too: a false alarm costs a parse error, a miss an evasion.
pub(super) fn executable_comment_problem(text: &str) -> Option<String> {
    for (at, _) in text.match_indices("/*") {
        let rest = text.get(at + 2..).unwrap_or_default();
        if rest.starts_with("M!") || rest.starts_with("m!") {
            return Some(
                "MariaDB executable comment /*M! … */ runs on MariaDB only; not analysed".into(),
            );
        }
        let Some(body) = rest.strip_prefix('!') else {
            continue;
        };
        let digits: String = body.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            continue;
        }
        let executed_everywhere = digits.len() == 5
            && digits
                .parse::<u32>()
                .is_ok_and(|version| version <= EXECUTED_EVERYWHERE);
        if !executed_everywhere {
            return Some(format!(
                "executable comment /*!{digits} … */ runs only on some server versions; not analysed"
            ));
        }
    }
    None
}

/// Longest chain of terms sqlparser is given (see [`too_deep`]).
const MAX_CHAIN: usize = 5000;

/// Why a statement is too deep to parse safely, if it is. sqlparser
/// limits recursion, but builds `a + b + c …` (any infix or postfix
/// operator) as a left-deep tree in a loop: 100 000 terms make a tree
/// whose recursive walk and drop overflow the stack, which aborts the
/// process. A chain can be no longer than the tokens between commas at one
/// parenthesis level, summed over the enclosing levels, so that sum bounds
/// the depth.
pub(super) fn too_deep(tokens: &[TokenWithSpan]) -> Option<String> {
    let mut runs = vec![0usize];
    let mut total = 0usize;
    for token in tokens {
        match &token.token {
            Token::LParen | Token::LBracket | Token::LBrace => runs.push(0),
            Token::RParen | Token::RBracket | Token::RBrace if runs.len() > 1 => {
                total -= runs.pop().unwrap_or_default();
            }
            Token::Comma => {
                if let Some(run) = runs.last_mut() {
                    total -= *run;
                    *run = 0;
                }
            }
            other if significant(other) => {
                if let Some(run) = runs.last_mut() {
                    *run += 1;
                    total += 1;
                }
                if total > MAX_CHAIN {
                    return Some(format!(
                        "expression chain longer than {MAX_CHAIN} terms; not analysed"
                    ));
                }
            }
            _ => {}
        }
    }
    None
}

/// The tokens of each statement, split at `;`. Whitespace and comments
/// are kept (the parser skips them); empty statements are dropped.
pub(super) fn split(tokens: Vec<TokenWithSpan>) -> Vec<Vec<TokenWithSpan>> {
    let mut statements = Vec::new();
    let mut current = Vec::new();
    for token in tokens {
        if token.token == Token::SemiColon {
            statements.push(std::mem::take(&mut current));
        } else {
            current.push(token);
        }
    }
    statements.push(current);
    statements.retain(|s| s.iter().any(|t| significant(&t.token)));
    statements
}

fn significant(token: &Token) -> bool {
    !matches!(token, Token::Whitespace(_) | Token::EOF)
}

/// The significant tokens of a statement.
fn words(tokens: &[TokenWithSpan]) -> Vec<&Token> {
    tokens
        .iter()
        .map(|t| &t.token)
        .filter(|t| significant(t))
        .collect()
}

fn is_word(token: Option<&&Token>, word: &str) -> bool {
    matches!(token, Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

fn is_keyword(token: Option<&&Token>, keyword: Keyword) -> bool {
    matches!(token, Some(Token::Word(w)) if w.quote_style.is_none() && w.keyword == keyword)
}

/// A string literal's value, as MySQL reads one in default SQL mode.
fn string(token: Option<&&Token>) -> Option<String> {
    match token? {
        Token::SingleQuotedString(s)
        | Token::DoubleQuotedString(s)
        | Token::NationalStringLiteral(s) => Some(s.clone()),
        _ => None,
    }
}

/// A statement sqlparser cannot parse, read from its tokens.
#[derive(Debug, PartialEq)]
pub(super) enum Special {
    /// `LOAD DATA|XML … INFILE 'f' … INTO TABLE t …`; `set` holds the
    /// tokens after a top-level `SET`, if any.
    LoadData {
        table: String,
        set: Option<Vec<TokenWithSpan>>,
    },
    /// `PREPARE s FROM 'sql'` (`Some`) or `FROM @variable` (`None`).
    Prepare { sql: Option<String> },
}

/// Recognises the special statements; `Err` for one that starts like them
/// but does not follow their grammar.
pub(super) fn special(tokens: &[TokenWithSpan]) -> Result<Option<Special>, String> {
    let words = words(tokens);
    let first = words.first();
    if is_keyword(first, Keyword::LOAD)
        && (is_keyword(words.get(1), Keyword::DATA) || is_word(words.get(1), "XML"))
    {
        return load_data(tokens, &words).map(Some);
    }
    if is_keyword(first, Keyword::PREPARE) && is_keyword(words.get(2), Keyword::FROM) {
        if words.len() != 4 {
            return Err("PREPARE … FROM takes one string or variable".into());
        }
        return Ok(Some(Special::Prepare {
            sql: string(words.get(3)),
        }));
    }
    Ok(None)
}

fn load_data(tokens: &[TokenWithSpan], words: &[&Token]) -> Result<Special, String> {
    let bad = || {
        "LOAD DATA: expected [LOW_PRIORITY|CONCURRENT] [LOCAL] INFILE 'file' [REPLACE|IGNORE] INTO TABLE name".to_owned()
    };
    let mut i = 2;
    while is_word(words.get(i), "LOW_PRIORITY")
        || is_word(words.get(i), "CONCURRENT")
        || is_word(words.get(i), "LOCAL")
    {
        i += 1;
    }
    if !is_word(words.get(i), "INFILE") || string(words.get(i + 1)).is_none() {
        return Err(bad());
    }
    i += 2;
    if is_word(words.get(i), "REPLACE") || is_word(words.get(i), "IGNORE") {
        i += 1;
    }
    if !is_keyword(words.get(i), Keyword::INTO) || !is_keyword(words.get(i + 1), Keyword::TABLE) {
        return Err(bad());
    }
    i += 2;
    let mut table = match words.get(i) {
        Some(Token::Word(w)) => w.value.clone(),
        _ => return Err(bad()),
    };
    if words.get(i + 1) == Some(&&Token::Period) {
        match words.get(i + 2) {
            Some(Token::Word(w)) => {
                table.push('.');
                table.push_str(&w.value);
            }
            _ => return Err(bad()),
        }
    }
    Ok(Special::LoadData {
        table,
        set: set_clause(tokens),
    })
}

/// The tokens after a `SET` outside parentheses.
fn set_clause(tokens: &[TokenWithSpan]) -> Option<Vec<TokenWithSpan>> {
    let mut depth = 0usize;
    for (at, token) in tokens.iter().enumerate() {
        match &token.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Word(w)
                if depth == 0 && w.quote_style.is_none() && w.keyword == Keyword::SET =>
            {
                return Some(tokens.get(at + 1..).unwrap_or_default().to_vec());
            }
            _ => {}
        }
    }
    None
}

/// Removes `INTO OUTFILE 'f' [export options]` and `INTO DUMPFILE 'f'`
/// (which sqlparser does not know), returning the features they imply.
/// Only that exact grammar is removed; anything else is left for the
/// parser to accept or reject.
pub(super) fn strip_into_file(tokens: &mut Vec<TokenWithSpan>) -> Vec<&'static str> {
    let mut features = Vec::new();
    loop {
        let positions: Vec<usize> = tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| significant(&t.token))
            .map(|(i, _)| i)
            .collect();
        let words: Vec<&Token> = positions
            .iter()
            .filter_map(|&i| tokens.get(i))
            .map(|t| &t.token)
            .collect();
        let found = (0..words.len()).find_map(|i| {
            if !is_keyword(words.get(i), Keyword::INTO) || string(words.get(i + 2)).is_none() {
                return None;
            }
            if is_word(words.get(i + 1), "DUMPFILE") {
                Some((i, i + 3, INTO_DUMPFILE))
            } else if is_word(words.get(i + 1), "OUTFILE") {
                Some((i, export_options_end(&words, i + 3), INTO_OUTFILE))
            } else {
                None
            }
        });
        let Some((start, end, feature)) = found else {
            return features;
        };
        features.push(feature);
        let (Some(&first), Some(&last)) = (positions.get(start), positions.get(end - 1)) else {
            return features;
        };
        tokens.drain(first..=last);
    }
}

/// Where `[CHARACTER SET cs] [{FIELDS|COLUMNS} …] [LINES …]` after
/// `INTO OUTFILE 'f'` ends.
fn export_options_end(words: &[&Token], mut i: usize) -> usize {
    if is_word(words.get(i), "CHARACTER") && is_keyword(words.get(i + 1), Keyword::SET) {
        match words.get(i + 2) {
            Some(Token::Word(_)) => i += 3,
            token if string(token).is_some() => i += 3,
            _ => return i,
        }
    }
    if is_word(words.get(i), "FIELDS") || is_word(words.get(i), "COLUMNS") {
        let mut j = i + 1;
        loop {
            if is_word(words.get(j), "OPTIONALLY") && is_word(words.get(j + 1), "ENCLOSED") {
                j += 1;
            }
            let option = is_word(words.get(j), "TERMINATED")
                || is_word(words.get(j), "ENCLOSED")
                || is_word(words.get(j), "ESCAPED");
            if option
                && is_keyword(words.get(j + 1), Keyword::BY)
                && string(words.get(j + 2)).is_some()
            {
                j += 3;
            } else {
                break;
            }
        }
        if j > i + 1 {
            i = j;
        }
    }
    if is_word(words.get(i), "LINES") {
        let mut j = i + 1;
        while (is_word(words.get(j), "STARTING") || is_word(words.get(j), "TERMINATED"))
            && is_keyword(words.get(j + 1), Keyword::BY)
            && string(words.get(j + 2)).is_some()
        {
            j += 3;
        }
        if j > i + 1 {
            i = j;
        }
    }
    i
}
