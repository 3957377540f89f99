//! Words: quoting and quote removal, backquotes.

use super::{Lexer, Sub, Word, WordBuf, lex};
use crate::shell::is_name;

impl Lexer {
    pub(super) fn word(&mut self) -> Result<Word, String> {
        let start = self.pos;
        let mut w = WordBuf::default();
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | ')' => break,
                '<' | '>' if self.pos == start && self.peek_at(1) == Some('(') => {
                    // Process substitution: a command whose output (or
                    // input) is a file name.
                    self.advance(2);
                    let toks = self.list(true)?;
                    w.subs.push(Sub(toks));
                    w.raw(&self.src[start..self.pos]);
                }
                '<' | '>' => break,
                '(' if extglob_or_array(&w) => {
                    let from = self.pos;
                    self.advance(1);
                    self.group('(', ')', 1, &mut w.subs)?;
                    w.raw(&self.src[from..self.pos]);
                }
                '(' => break,
                '\\' => match self.peek_at(1) {
                    Some('\n') => self.advance(2),
                    Some(next) => {
                        w.quoted(next);
                        self.advance(2);
                    }
                    None => {
                        w.plain('\\');
                        self.advance(1);
                    }
                },
                '\'' => {
                    self.advance(1);
                    self.single_quoted(&mut w)?;
                }
                '"' => {
                    self.advance(1);
                    self.double_quoted(&mut w)?;
                }
                '$' => self.dollar(&mut w, false)?,
                '`' => self.backquote(&mut w, false)?,
                _ => {
                    w.plain(c);
                    self.advance(1);
                }
            }
        }
        Ok(w.finish())
    }

    pub(super) fn single_quoted(&mut self, w: &mut WordBuf) -> Result<(), String> {
        w.quoted = true;
        w.not_plain = true;
        loop {
            match self.peek() {
                None => return Err("unterminated single quote".into()),
                Some('\'') => {
                    self.advance(1);
                    return Ok(());
                }
                Some(c) => {
                    w.quoted(c);
                    self.advance(1);
                }
            }
        }
    }

    pub(super) fn double_quoted(&mut self, w: &mut WordBuf) -> Result<(), String> {
        w.quoted = true;
        w.not_plain = true;
        loop {
            let Some(c) = self.peek() else {
                return Err("unterminated double quote".into());
            };
            match c {
                '"' => {
                    self.advance(1);
                    return Ok(());
                }
                // Inside double quotes a backslash only escapes these.
                '\\' => match self.peek_at(1) {
                    Some('\n') => self.advance(2),
                    Some(next @ ('$' | '`' | '"' | '\\')) => {
                        w.quoted(next);
                        self.advance(2);
                    }
                    _ => {
                        w.quoted('\\');
                        self.advance(1);
                    }
                },
                '$' => self.dollar(w, true)?,
                '`' => self.backquote(w, true)?,
                _ => {
                    w.quoted(c);
                    self.advance(1);
                }
            }
        }
    }

    /// At a backquote: the command runs like `$(…)`. Its text is first
    /// unescaped (`\$`, ``\` ``, `\\`, and `\"` within double quotes) and
    /// then lexed on its own.
    pub(super) fn backquote(&mut self, w: &mut WordBuf, in_dquote: bool) -> Result<(), String> {
        let start = self.pos;
        self.advance(1);
        let mut inner = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err("unterminated backquote".into());
            };
            self.advance(1);
            match c {
                '`' => break,
                '\\' => match self.peek() {
                    Some(next @ ('$' | '`' | '\\')) => {
                        inner.push(next);
                        self.advance(1);
                    }
                    Some('"') if in_dquote => {
                        inner.push('"');
                        self.advance(1);
                    }
                    Some('\n') => self.advance(1),
                    _ => inner.push('\\'),
                },
                _ => inner.push(c),
            }
        }
        let toks = lex(&inner, self.depth)?;
        w.subs.push(Sub(toks));
        w.raw(&self.src[start..self.pos]);
        Ok(())
    }
}

/// A `(` inside a word that does not end it: an extglob pattern
/// (`!(x)`, `@(a|b)`) or an array assignment (`a=(1 2)`).
fn extglob_or_array(w: &WordBuf) -> bool {
    if w.text.ends_with(['@', '!', '+', '*', '?']) {
        return true;
    }
    let Some(name) = w.text.strip_suffix('=') else {
        return false;
    };
    let name = name.strip_suffix('+').unwrap_or(name);
    w.plain_prefix == w.text.len() && is_name(name)
}
