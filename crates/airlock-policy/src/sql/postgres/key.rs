//! The PostgreSQL cache key, from the server's own lexer (or, for a plain
//! text, from `plain_key`, which keys it the same way).
//!
//! Not `pg_query::normalize`: it turns `LIMIT ALL` and `LIMIT NULL` into
//! the same `$n` as `LIMIT 10`, so an unbounded SELECT would share a key
//! (and cached `has_limit` facts) with a bounded one. Keywords such as
//! NULL, ALL, TRUE stay in this key; only literal tokens are replaced.

use pg_query::protobuf::Token;

use crate::sql::key::KeyBuilder;

pub(super) fn key(text: &str) -> Option<String> {
    super::plain_key::key(text).or_else(|| lexed(text))
}

/// The key from the lexer's tokens: for any text, and the reference the
/// plain scanner is tested against.
pub(super) fn lexed(text: &str) -> Option<String> {
    // `scan_tokens` (4x faster than `scan`, which goes through protobuf)
    // builds a slice from the C array even when it is empty and null:
    // undefined behaviour, a panic in debug builds. Only whitespace has no
    // tokens; the lexer makes every other character a token or an error.
    if blank(text) {
        return Some(String::new());
    }
    let tokens = pg_query::scan_tokens(text).ok()?;
    let mut key = KeyBuilder::with_capacity(text.len());
    for token in tokens {
        let kind = Token::try_from(token.token).ok()?;
        let placeholder = match kind {
            // Comments are whitespace to the grammar.
            Token::SqlComment | Token::CComment => continue,
            Token::Iconst => 'i',
            Token::Fconst => 'f',
            Token::Sconst | Token::Usconst => 's',
            Token::Bconst => 'b',
            Token::Xconst => 'x',
            _ => {
                let start = usize::try_from(token.start).ok()?;
                let end = usize::try_from(token.end).ok()?;
                key.token(text.get(start..end)?);
                continue;
            }
        };
        key.literal(placeholder);
    }
    Some(key.finish())
}

/// Whitespace only (or nothing): what `scan_tokens` must never be given.
pub(super) fn blank(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c'))
}
