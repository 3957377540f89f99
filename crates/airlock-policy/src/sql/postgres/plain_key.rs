//! The cache key of a plain text, without calling the server's lexer.
//!
//! Running libpg_query's lexer to build a key was about a fifth of a
//! session thread's own instructions per simple-protocol statement
//! (bench/RESULTS.md, eleventh run): every statement's literals differ,
//! so every text is lexed. Most texts an application sends use a small
//! part of the lexical grammar: ASCII names and keywords, short decimal
//! integers, plain `'…'` strings, `"…"` names, punctuation and one-character
//! operators. For exactly those, this scanner yields the key `key::key`
//! would; anything else (comments, dollar quotes, escapes, prefixed
//! strings, multi-character operators, numbers that may not be an
//! integer constant, non-ASCII outside quotes, control characters) makes
//! it give up, and the caller asks the lexer. Giving up is always safe;
//! a wrong key is not, so the rules below stay on the side of giving up,
//! and a property test holds this scanner to the lexer's keys.

use crate::sql::key::KeyBuilder;

/// The key, or `None` when the text leaves the plain subset.
pub(super) fn key(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut key = KeyBuilder::with_capacity(text.len());
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        let next = bytes.get(at + 1).copied();
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => at += 1,
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                // The first byte is a name's by the arm; counting from the next
                // one keeps the scan moving whatever the table says.
                let end = at + 1 + run(&bytes[at + 1..], |c| NAME[usize::from(c)]);
                // A quote right after a name may make one token of both
                // (`E'…'`, `B'…'`, `N'…'`, `U&"…"`); `$` continues a name.
                if matches!(bytes.get(end), Some(b'\'' | b'"' | b'$')) || !is_ascii(bytes, end) {
                    return None;
                }
                key.plain_token(&text[at..end]);
                at = end;
            }
            b'0'..=b'9' => {
                let len = run(&bytes[at..], |c| c.is_ascii_digit());
                // Nine digits always fit the lexer's int4 (ICONST); more may
                // become a float constant. What may continue a number
                // (`.5`, `e3`, `_000`, `x1F`, trailing junk) is left to it.
                if len > 9
                    || matches!(bytes.get(at + len), Some(c) if c.is_ascii_alphanumeric()
                        || matches!(c, b'_' | b'$' | b'.' | b'\'' | b'"'))
                    || !is_ascii(bytes, at + len)
                {
                    return None;
                }
                key.literal('i');
                at += len;
            }
            b'\'' => {
                at = quoted(bytes, at, b'\'')?;
                // `'a' '…'` across a newline continues the same literal.
                let after = at + run(&bytes[at..], |c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'));
                if bytes.get(after) == Some(&b'\'') {
                    return None;
                }
                key.literal('s');
            }
            b'"' => {
                let end = quoted(bytes, at, b'"')?;
                // `""` is no name at all; the lexer rejects it.
                if end == at + 2 {
                    return None;
                }
                key.token(&text[at..end]);
                at = end;
            }
            b',' | b'(' | b')' | b'[' | b']' | b';' => {
                key.plain_token(&text[at..=at]);
                at += 1;
            }
            // `..`, `.5`
            b'.' if !matches!(next, Some(b'.' | b'0'..=b'9')) => {
                key.plain_token(".");
                at += 1;
            }
            // `::`, `:=`
            b':' if !matches!(next, Some(b':' | b'=')) => {
                key.plain_token(":");
                at += 1;
            }
            // The comparisons of two characters, alone.
            b'<' | b'>' | b'!'
                if matches!(
                    (b, next),
                    (b'<', Some(b'>' | b'=')) | (b'>' | b'!', Some(b'='))
                ) && !bytes.get(at + 2).copied().is_some_and(is_operator_char) =>
            {
                key.plain_token(&text[at..at + 2]);
                at += 2;
            }
            // One operator character alone. Other runs may be one operator,
            // a comment (`--`, `/*`) or `=>`; `&` may follow `U`.
            b'=' | b'<' | b'>' | b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'~' | b'!' | b'@'
            | b'#' | b'|' | b'`' | b'?'
                if !next.is_some_and(is_operator_char) =>
            {
                key.plain_token(&text[at..=at]);
                at += 1;
            }
            _ => return None,
        }
    }
    Some(key.finish())
}

/// Where a `quote`-delimited token that starts at `start` ends (one past
/// its closing quote), if it is plain: no doubled quote inside, no
/// backslash, no control character, closed, and not followed by another
/// quote.
fn quoted(bytes: &[u8], start: usize, quote: u8) -> Option<usize> {
    let body = bytes.get(start + 1..)?;
    let len = body.iter().position(|&c| c == quote)?;
    if body[..len]
        .iter()
        .any(|&c| c == b'\\' || (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r')) || c == 0x7f)
    {
        return None;
    }
    let end = start + 1 + len + 1;
    if matches!(bytes.get(end), Some(b'\'' | b'"')) {
        return None;
    }
    Some(end)
}

fn run(bytes: &[u8], keep: impl Fn(u8) -> bool) -> usize {
    bytes.iter().position(|&c| !keep(c)).unwrap_or(bytes.len())
}

/// The bytes that continue a name (ASCII letters and digits, `_`), looked
/// up rather than tested range by range: names are most of a statement's
/// bytes, and the lookup took the scan from about 13 instructions a byte
/// to about 5 (bench/RESULTS.md, twenty-third run).
const NAME: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        let byte = c as u8;
        table[c] = byte.is_ascii_alphanumeric() || byte == b'_';
        c += 1;
    }
    table
};

/// Whether the byte at `at` (if any) is ASCII: a name or number followed
/// at once by a non-ASCII character is the lexer's to read.
fn is_ascii(bytes: &[u8], at: usize) -> bool {
    bytes.get(at).is_none_or(u8::is_ascii)
}

/// PostgreSQL's `op_chars`.
fn is_operator_char(c: u8) -> bool {
    matches!(
        c,
        b'~' | b'!'
            | b'@'
            | b'#'
            | b'^'
            | b'&'
            | b'|'
            | b'`'
            | b'?'
            | b'+'
            | b'-'
            | b'*'
            | b'/'
            | b'%'
            | b'<'
            | b'>'
            | b'='
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::key;
    use crate::sql::postgres::key::lexed;

    /// What applications send most: each must stay on the plain path, or
    /// the scanner saves nothing.
    #[test]
    fn common_statements_are_plain_and_keyed_as_the_lexer_keys_them() {
        for text in [
            "SELECT abalance FROM pgbench_accounts WHERE aid = 46117;",
            "select * from t where id = 1 and name = 'a'",
            "UPDATE pgbench_accounts SET abalance = abalance + -4077 WHERE aid = 1;",
            "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 2, 3, 4, CURRENT_TIMESTAMP);",
            r#"SELECT "u"."id", "u"."Name" FROM "public"."Users" AS "u" WHERE "u"."id" IN (1, 2, 3) LIMIT 10"#,
            "select count(*) from orders where status = 'café' and total > 100",
            "BEGIN",
            "commit;",
            "select * from t limit all",
            "select a[1] from t where b <> 3 and c >= 2 and d <= 1 and e != 0",
            "",
            "  \n",
        ] {
            let plain = key(text);
            assert!(plain.is_some(), "left the plain path: {text}");
            assert_eq!(plain, lexed(text), "{text}");
        }
    }

    #[test]
    fn what_only_the_lexer_reads_is_left_to_it() {
        for text in [
            "select 1 -- comment",
            "select /* c */ 1",
            "select $1",
            "select $$x$$",
            "select E'a\\nb'",
            "select e'x'",
            "select B'101'",
            "select U&\"d\\0061t\"",
            "select 'it''s'",
            "select 'a'\n'b'",
            "select 'a\\b'",
            "select 1.5",
            "select .5",
            "select 1e3",
            "select 0x1F",
            "select 1_000",
            "select 1234567890",
            "select 123abc",
            "select a::int",
            "select a >=- b",
            "select a <>= b",
            "select f(a => 1)",
            "select \"\"",
            "select é",
            "select a\u{b}",
            "select 'a\0'",
            "select {}",
            "select 'unterminated",
        ] {
            assert_eq!(key(text), None, "{text}");
        }
    }

    /// Mostly pieces the scanner accepts, so that most texts stay plain
    /// and their joins (a prefix letter before a quote, a newline between
    /// two strings, a sign before a number) are what gets tested.
    fn fragment() -> impl Strategy<Value = String> {
        let plain = prop::sample::select(vec![
            "select",
            "t",
            "E",
            "e",
            "b",
            "B",
            "n",
            "N",
            "x",
            "X",
            "U",
            "u",
            "a_b",
            "'a'",
            "'é x'",
            "'",
            "\"A b\"",
            "\"",
            " ",
            "\n",
            "=",
            "<",
            ">",
            "!",
            "-",
            "+",
            "*",
            "/",
            ".",
            ",",
            "(",
            ")",
            ";",
            ":",
            "1",
            "123456789",
            "1234567890",
            "2147483648",
            "&",
            "$",
        ]);
        let tricky = prop::sample::select(vec![
            "SeLeCt", "x1", "$1", "''", "\"\"", "--", "/*", "*/", "<>", "!=", "::", ":=", "=>",
            "..", "[", "]", "|", "#", "?", "`", "~", "@", "^", "%", "\\", "\t", "\r", "\u{b}",
            "\u{c}", "\0", "é", "0", "1.", ".5", "1e", "1_0", "0x", "{", "}",
        ]);
        prop_oneof![
            8 => plain.prop_map(str::to_owned),
            2 => tricky.prop_map(str::to_owned),
            1 => "[ -~]{1,4}",
            1 => (0u64..20_000_000_000).prop_map(|n| n.to_string()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        // Whatever the scanner keys, it keys as the lexer does.
        #[test]
        fn a_plain_key_is_the_lexers_key(parts in prop::collection::vec(fragment(), 0..12)) {
            let text: String = parts.concat();
            if let Some(plain) = key(&text) {
                prop_assert_eq!(Some(plain), lexed(&text), "{:?}", text);
            }
        }
    }
}
