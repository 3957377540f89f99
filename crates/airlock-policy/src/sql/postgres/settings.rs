//! Where the server's reading of a text depends on session settings that
//! the text does not show. The analyser reads every text as UTF-8 with
//! `standard_conforming_strings` on; the server reads it in the session's
//! `client_encoding`, with the session's `standard_conforming_strings`.
//! Where those differ, one text can be two different statements: with
//! `standard_conforming_strings` off, `select '\' ; select ' ; delete from
//! t; -- '` is two SELECTs to the analyser and a SELECT and a DELETE to the
//! server.

use pg_query::protobuf::Token;

use crate::sql::SettingsDependence;

pub(super) fn dependence(text: &str) -> SettingsDependence {
    SettingsDependence {
        backslash_in_plain_string: text.contains('\\') && backslash_in_plain_string(text),
        non_ascii: !text.is_ascii(),
    }
}

/// Is there a backslash inside a `'…'` (or `N'…'`) string? With
/// `standard_conforming_strings` off such a string is an escape string, so
/// its backslashes escape and it may end elsewhere. `E'…'` strings read the
/// same either way; dollar quotes, identifiers and comments do not treat
/// backslashes specially. Up to the first such string the two readings
/// agree token for token, so the analyser's tokens find it. A text that
/// does not tokenize may hold one anywhere.
fn backslash_in_plain_string(text: &str) -> bool {
    // (Never called on whitespace alone, which `scan_tokens` mishandles:
    // the text holds a backslash.)
    let Ok(tokens) = pg_query::scan_tokens(text) else {
        return true;
    };
    tokens.iter().any(|token| {
        if Token::try_from(token.token) != Ok(Token::Sconst) {
            return false;
        }
        let raw = usize::try_from(token.start)
            .ok()
            .zip(usize::try_from(token.end).ok())
            .and_then(|(start, end)| text.get(start..end));
        match raw {
            Some(raw) => {
                (raw.starts_with('\'') || raw.starts_with("N'") || raw.starts_with("n'"))
                    && raw.contains('\\')
            }
            None => true,
        }
    })
}
