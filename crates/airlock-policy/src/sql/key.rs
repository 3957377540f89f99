//! Cache keys built from a token stream: every token as written except
//! literals, which become a placeholder naming only the literal's token
//! kind. Two texts with the same key are the same token sequence up to
//! literal values, so a parser (which decides on token kinds) gives them
//! the same tree up to those values.

/// Starts a placeholder; escaped wherever it occurs in a real token, so no
/// token can imitate a placeholder.
const PLACEHOLDER: char = '\u{1}';
const SEPARATOR: char = ' ';
const ESCAPE: char = '\\';

#[derive(Debug, Default)]
pub(super) struct KeyBuilder {
    key: String,
}

impl KeyBuilder {
    pub(super) fn with_capacity(capacity: usize) -> KeyBuilder {
        KeyBuilder {
            key: String::with_capacity(capacity),
        }
    }

    /// A token kept as written. Separators and escapes inside it (a quoted
    /// identifier may hold anything) are escaped, so token boundaries
    /// survive in the key.
    pub(super) fn token(&mut self, text: &str) {
        self.push_escaped(text);
        self.key.push(SEPARATOR);
    }

    /// A token that cannot hold a separator, escape or placeholder (a
    /// bare name, a number, an operator): copied without looking for them.
    pub(super) fn plain_token(&mut self, text: &str) {
        debug_assert!(!text.contains([PLACEHOLDER, SEPARATOR, ESCAPE]));
        self.key.push_str(text);
        self.key.push(SEPARATOR);
    }

    /// A token kept as its `Display` writes it, without an intermediate
    /// string.
    pub(super) fn display(&mut self, token: &impl std::fmt::Display) {
        use std::fmt::Write;
        // Writing to a String cannot fail.
        let _ = write!(Escaping(self), "{token}");
        self.key.push(SEPARATOR);
    }

    fn push_escaped(&mut self, text: &str) {
        // The three are ASCII, and an ASCII byte in UTF-8 is always a
        // character of its own: runs between them are copied whole rather
        // than a character at a time (every statement's every token).
        let mut rest = text;
        while let Some(at) = rest
            .bytes()
            .position(|b| b == PLACEHOLDER as u8 || b == SEPARATOR as u8 || b == ESCAPE as u8)
        {
            let (plain, special) = rest.split_at(at);
            self.key.push_str(plain);
            let mut chars = special.chars();
            if let Some(c) = chars.next() {
                self.key.push(ESCAPE);
                self.key.push(c);
            }
            rest = chars.as_str();
        }
        self.key.push_str(rest);
    }

    /// A literal of the given kind (`i` integer, `s` string, …).
    pub(super) fn literal(&mut self, kind: char) {
        self.key.push(PLACEHOLDER);
        self.key.push(kind);
        self.key.push(SEPARATOR);
    }

    pub(super) fn finish(self) -> String {
        self.key
    }
}

/// Whether a key has a placeholder, i.e. its text had a literal value.
pub(super) fn has_literal(key: &str) -> bool {
    let mut chars = key.chars();
    while let Some(c) = chars.next() {
        match c {
            ESCAPE => {
                chars.next();
            }
            PLACEHOLDER => return true,
            _ => {}
        }
    }
    false
}

struct Escaping<'k>(&'k mut KeyBuilder);

impl std::fmt::Write for Escaping<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.push_escaped(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_escaped_character_by_character() {
        fn one_at_a_time(text: &str) -> String {
            let mut key = String::new();
            for c in text.chars() {
                if matches!(c, PLACEHOLDER | SEPARATOR | ESCAPE) {
                    key.push(ESCAPE);
                }
                key.push(c);
            }
            key.push(SEPARATOR);
            key
        }
        for text in [
            "",
            "select",
            "\"a b\"",
            "\\",
            "\u{1}",
            "\"\u{1}i\\ x\"",
            "ünïcödé ☃ \\\u{1}  end ",
            "  ",
            "\u{1}\u{1}",
        ] {
            let mut key = KeyBuilder::default();
            key.token(text);
            assert_eq!(key.finish(), one_at_a_time(text), "{text:?}");
        }
    }

    #[test]
    fn a_key_has_a_literal_only_where_one_was_written() {
        let mut with = KeyBuilder::default();
        with.token("select");
        with.literal('i');
        assert!(has_literal(&with.finish()));
        // A token holding the placeholder character is escaped, not taken
        // for a literal.
        let mut without = KeyBuilder::default();
        without.token("select");
        without.token("\"\u{1}i\"");
        without.token("$1");
        assert!(!has_literal(&without.finish()));
    }
}
