//! What a review's grant is bound to: the statement as the server's lexer
//! reads it. Comments and whitespace are not tokens, and keywords and
//! unquoted identifiers fold to lower case as the server folds them, so
//! none of those make two texts differ; every literal stays as written, so
//! `delete … where id = 1` and `… id = 2` do.

use pg_query::protobuf::{KeywordKind, Token};

use crate::sql::key::KeyBuilder;

pub(super) fn fingerprint(text: &str) -> Option<String> {
    if super::key::blank(text) {
        return Some(String::new());
    }
    let tokens = pg_query::scan_tokens(text).ok()?;
    let mut key = KeyBuilder::with_capacity(text.len());
    for token in tokens {
        let kind = Token::try_from(token.token).ok()?;
        if matches!(kind, Token::SqlComment | Token::CComment) {
            continue;
        }
        let start = usize::try_from(token.start).ok()?;
        let end = usize::try_from(token.end).ok()?;
        let written = text.get(start..end)?;
        let folds = kind == Token::Ident && !written.starts_with('"')
            || KeywordKind::try_from(token.keyword_kind).ok()? != KeywordKind::NoKeyword;
        if folds {
            key.token(&written.to_ascii_lowercase());
        } else {
            key.token(written);
        }
    }
    Some(key.finish())
}

#[cfg(test)]
mod tests {
    use super::fingerprint;

    #[test]
    fn layout_comments_and_case_do_not_matter() {
        let a = fingerprint("DELETE FROM orders WHERE id = 7").unwrap();
        let b = fingerprint("delete  from /* c */ Orders\n where ID=7 -- why\n").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn literals_and_quoted_names_do() {
        let a = fingerprint("delete from orders where id = 7").unwrap();
        assert_ne!(a, fingerprint("delete from orders where id = 8").unwrap());
        assert_ne!(a, fingerprint("delete from orders where id = '7'").unwrap());
        assert_ne!(
            fingerprint("select * from \"Orders\"").unwrap(),
            fingerprint("select * from orders").unwrap()
        );
        assert_ne!(
            fingerprint("select 'a b'").unwrap(),
            fingerprint("select 'a' 'b'").unwrap()
        );
    }
}
