//! Expansions: `$…` in all its forms. Their text is kept as written; what
//! they run is lexed.

use super::{Lexer, Sub, WordBuf};

impl Lexer {
    /// At `$`: an expansion. Its text is kept as written; what it runs is
    /// lexed into `w.subs`.
    pub(super) fn dollar(&mut self, w: &mut WordBuf, in_dquote: bool) -> Result<(), String> {
        let start = self.pos;
        match self.peek_at(1) {
            Some('\'') if !in_dquote => {
                self.advance(2);
                self.ansi_c(w)
            }
            Some('"') if !in_dquote => {
                self.advance(2);
                self.double_quoted(w)
            }
            Some('(') => {
                if self.peek_at(2) == Some('(') && self.arith_closes(start + 3)? {
                    self.advance(3);
                    self.group('(', ')', 2, &mut w.subs)?;
                } else {
                    self.advance(2);
                    let toks = self.list(true)?;
                    w.subs.push(Sub(toks));
                }
                w.raw(&self.src[start..self.pos]);
                Ok(())
            }
            Some(open @ ('{' | '[')) => {
                let close = if open == '{' { '}' } else { ']' };
                self.advance(2);
                self.group(open, close, 1, &mut w.subs)?;
                let text = &self.src[start..self.pos];
                let is_ifs = open == '{'
                    && text.get(2..5) == Some(&['I', 'F', 'S'][..])
                    && !text.get(5).is_some_and(|&c| is_name_char(c));
                self.expansion(w, text, is_ifs && !in_dquote);
                Ok(())
            }
            Some('I') if !in_dquote && self.is_bare_ifs() => {
                let text = &self.src[start..start + 4];
                self.expansion(w, text, true);
                self.advance(4);
                Ok(())
            }
            _ => {
                // `$HOME`, `$1`, `$$`, a lone `$`: the name that follows is
                // ordinary text.
                if in_dquote {
                    w.quoted('$');
                } else {
                    w.plain('$');
                }
                self.advance(1);
                Ok(())
            }
        }
    }

    /// At `$`: whether `$IFS` follows, as a whole name.
    fn is_bare_ifs(&self) -> bool {
        self.peek_at(1) == Some('I')
            && self.peek_at(2) == Some('F')
            && self.peek_at(3) == Some('S')
            && !self.peek_at(4).is_some_and(is_name_char)
    }

    /// Appends an expansion's text as written. An unquoted `$IFS` or
    /// `${IFS…}` is noted: the shell splits the word there
    /// (`curl${IFS}evil.example` runs `curl` with one argument).
    fn expansion(&self, w: &mut WordBuf, text: &[char], splits: bool) {
        let from = w.text.len();
        w.raw(text);
        if splits {
            w.ifs.push((from, w.text.len()));
        }
    }

    /// Whether `$((`/`((` starting just before `from` closes with `))`, which
    /// makes it arithmetic; otherwise it is `$(` around a subshell. A
    /// linear scan with no recursion, so trying it costs no more than the
    /// text it reads.
    pub(super) fn arith_closes(&mut self, from: usize) -> Result<bool, String> {
        let mut level = 2usize;
        let mut last_to_one = None;
        let mut i = from;
        let closes = loop {
            let Some(&c) = self.src.get(i) else {
                break false;
            };
            match c {
                '\\' => i += 1,
                '\'' => {
                    i += 1;
                    while self.src.get(i).is_some_and(|&c| c != '\'') {
                        i += 1;
                    }
                }
                '"' => {
                    i += 1;
                    while let Some(&c) = self.src.get(i) {
                        if c == '"' {
                            break;
                        }
                        if c == '\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                }
                '(' => level += 1,
                ')' => {
                    level -= 1;
                    if level == 1 {
                        last_to_one = Some(i);
                    } else if level == 0 {
                        break last_to_one == Some(i - 1);
                    }
                }
                _ => {}
            }
            i += 1;
        };
        // Unbalanced `((` scan to the end of the input each time; many of
        // them would make lexing quadratic.
        self.lookahead_budget = self
            .lookahead_budget
            .checked_sub(i.saturating_sub(from))
            .ok_or("command line too complex to analyse")?;
        Ok(closes)
    }

    /// Skips to the `close` that balances an `open` already consumed
    /// (`level` of them), honouring quotes and nested expansions, and
    /// collects the substitutions met on the way.
    pub(super) fn group(
        &mut self,
        open: char,
        close: char,
        level: usize,
        subs: &mut Vec<Sub>,
    ) -> Result<(), String> {
        self.enter()?;
        let result = self.group_inner(open, close, level, subs);
        self.depth -= 1;
        result
    }

    pub(super) fn group_inner(
        &mut self,
        open: char,
        close: char,
        mut level: usize,
        subs: &mut Vec<Sub>,
    ) -> Result<(), String> {
        loop {
            let Some(c) = self.peek() else {
                return Err(format!("unterminated `{open}`: missing `{close}`"));
            };
            let mut scratch = WordBuf::default();
            match c {
                '\\' => self.advance(2),
                '\'' => {
                    self.advance(1);
                    self.single_quoted(&mut scratch)?;
                }
                '"' => {
                    self.advance(1);
                    self.double_quoted(&mut scratch)?;
                }
                '$' => self.dollar(&mut scratch, false)?,
                '`' => self.backquote(&mut scratch, false)?,
                c if c == open => {
                    level += 1;
                    self.advance(1);
                }
                c if c == close => {
                    level -= 1;
                    self.advance(1);
                    if level == 0 {
                        return Ok(());
                    }
                }
                _ => self.advance(1),
            }
            subs.append(&mut scratch.subs);
        }
    }

    /// `$'…'`: bash's C-style string. Decoded, because `$'\x63url'` runs
    /// `curl`.
    pub(super) fn ansi_c(&mut self, w: &mut WordBuf) -> Result<(), String> {
        w.quoted = true;
        w.not_plain = true;
        loop {
            let Some(c) = self.peek() else {
                return Err("unterminated $'…' string".into());
            };
            self.advance(1);
            match c {
                '\'' => return Ok(()),
                '\\' => self.ansi_escape(w),
                _ => w.quoted(c),
            }
        }
    }

    /// After the backslash of a `$'…'` escape.
    pub(super) fn ansi_escape(&mut self, w: &mut WordBuf) {
        let Some(c) = self.peek() else {
            w.quoted('\\');
            return;
        };
        self.advance(1);
        let simple = match c {
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'e' | 'E' => Some('\u{1b}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            '\\' | '\'' | '"' | '?' => Some(c),
            'c' => {
                let ctl = self.peek();
                self.advance(1);
                ctl.and_then(|ctl| char::from_u32(u32::from(ctl) & 0x1f))
            }
            _ => None,
        };
        if let Some(decoded) = simple {
            w.quoted(decoded);
            return;
        }
        let (radix, max) = match c {
            '0'..='7' => {
                self.pos -= 1;
                (8, 3)
            }
            'x' => (16, 2),
            'u' => (16, 4),
            'U' => (16, 8),
            _ => {
                // Unknown escapes stay as written, backslash included.
                w.quoted('\\');
                w.quoted(c);
                return;
            }
        };
        let mut value: u32 = 0;
        let mut digits = 0;
        while digits < max {
            let Some(d) = self.peek().and_then(|c| c.to_digit(radix)) else {
                break;
            };
            value = value.saturating_mul(radix).saturating_add(d);
            digits += 1;
            self.advance(1);
        }
        if digits == 0 {
            w.quoted('\\');
            w.quoted(c);
        } else if let Some(decoded) = char::from_u32(value) {
            // A value that is no character (a surrogate) yields nothing.
            w.quoted(decoded);
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}
