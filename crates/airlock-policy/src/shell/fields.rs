//! From words to the argument vector a program receives: the `$IFS`
//! splits and brace expansion that the shell applies to unquoted text
//! before it runs anything. Other expansions (parameters, globs, `~`) stay
//! as written: their value is not known here.

use super::braces;
use super::lexer::Word;

/// Appends the arguments `word` becomes to `argv`, charging their bytes
/// to `budget` (the line's analysis budget): brace expansion multiplies
/// words, and a short line must not become megabytes of arguments.
pub(crate) fn expand(
    word: &Word,
    argv: &mut Vec<String>,
    budget: &mut usize,
) -> Result<(), String> {
    let before = argv.len();
    expand_unbounded(word, argv, *budget)?;
    let added: usize = argv[before..].iter().map(|a| a.len() + WORD_OVERHEAD).sum();
    *budget = budget.checked_sub(added).ok_or(super::TOO_COMPLEX)?;
    Ok(())
}

/// What one argument costs besides its bytes (its `String`), so that many
/// empty or one-byte words are not free.
pub(crate) const WORD_OVERHEAD: usize = 24;

fn expand_unbounded(word: &Word, argv: &mut Vec<String>, budget: usize) -> Result<(), String> {
    if word.ifs.is_empty() && word.braces.is_empty() {
        argv.push(word.text.clone());
        return Ok(());
    }
    // Split at each unquoted `$IFS` first, each piece keeping the brace
    // offsets that fall inside it. (The shell expands braces first; a
    // brace list that itself holds `$IFS` is the only case where the order
    // shows, and it still yields the same words.)
    let mut start = 0;
    let mut bounds = word.ifs.clone();
    bounds.push((word.text.len(), word.text.len()));
    for (from, to) in bounds {
        if let Some(piece) = word.text.get(start..from).filter(|p| !p.is_empty()) {
            let offsets: Vec<usize> = word
                .braces
                .iter()
                .filter(|&&b| b >= start && b < from)
                .map(|&b| b - start)
                .collect();
            if offsets.is_empty() {
                argv.push(piece.to_string());
            } else {
                argv.extend(braces::expand(piece, &offsets, budget)?);
            }
        }
        start = to;
    }
    Ok(())
}
