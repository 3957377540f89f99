//! Here-documents: their text is kept (a shell may read it as a script),
//! and scanned for substitutions unless the delimiter was quoted.

use super::{Heredoc, HeredocBody, Lexer, Sub, WordBuf};

impl Lexer {
    /// Reads the bodies of the here-documents announced on the line just
    /// ended. A quoted delimiter makes the body literal; otherwise its
    /// `$(…)` and backquotes run, so they are lexed.
    pub(super) fn heredoc_bodies(
        &mut self,
        pending: &mut Vec<Heredoc>,
    ) -> Result<Vec<HeredocBody>, String> {
        let mut bodies = Vec::new();
        for doc in pending.drain(..) {
            let mut text = String::new();
            let body_start = self.pos;
            let (mut body_end, mut after) = (self.src.len(), self.src.len());
            let mut line = self.pos;
            while line < self.src.len() {
                let end = self.src[line..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(self.src.len(), |n| line + n);
                let mut text_start = line;
                while doc.strip_tabs && self.src.get(text_start) == Some(&'\t') {
                    text_start += 1;
                }
                let content = &self.src[text_start.min(end)..end];
                if content.iter().copied().eq(doc.delim.chars()) {
                    body_end = line;
                    after = (end + 1).min(self.src.len());
                    break;
                }
                text.extend(content);
                text.push('\n');
                line = end + 1;
            }
            let mut subs = Vec::new();
            if !doc.quoted && body_start < body_end {
                let mut body = Lexer::new(self.src[body_start..body_end].to_vec(), self.depth);
                subs = body.heredoc_expansions()?;
            }
            bodies.push(HeredocBody { text, subs });
            self.pos = after;
        }
        Ok(bodies)
    }

    pub(super) fn heredoc_expansions(&mut self) -> Result<Vec<Sub>, String> {
        let mut w = WordBuf::default();
        while let Some(c) = self.peek() {
            match c {
                '\\' => self.advance(2),
                '$' => self.dollar(&mut w, true)?,
                '`' => self.backquote(&mut w, true)?,
                _ => self.advance(1),
            }
        }
        Ok(w.subs)
    }
}
