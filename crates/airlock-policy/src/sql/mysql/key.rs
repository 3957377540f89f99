//! The MySQL cache key, from sqlparser's MySQL tokenizer.
//!
//! Double-quoted strings stay in the key: sqlparser reads `"t"` as a name
//! in some places (`FROM "t"`), so its text can decide a fact. Texts with
//! executable comments get no key: the comment's version number decides
//! whether they parse, and the tokenizer drops it.

use sqlparser::dialect::MySqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::sql::key::KeyBuilder;

pub(super) fn key(text: &str) -> Option<String> {
    if text.contains("/*!") || text.contains("/*M!") || text.contains("/*m!") {
        return None;
    }
    let tokens = Tokenizer::new(&MySqlDialect {}, text).tokenize().ok()?;
    let mut key = KeyBuilder::with_capacity(text.len());
    for token in tokens {
        let placeholder = match token {
            Token::Whitespace(_) | Token::EOF => continue,
            Token::Number(..) => 'n',
            Token::SingleQuotedString(_) => 's',
            Token::NationalStringLiteral(_) => 'N',
            Token::HexStringLiteral(_) => 'x',
            Token::SingleQuotedByteStringLiteral(_) => 'b',
            Token::EscapedStringLiteral(_) => 'e',
            other => {
                key.display(&other);
                continue;
            }
        };
        key.literal(placeholder);
    }
    Some(key.finish())
}
