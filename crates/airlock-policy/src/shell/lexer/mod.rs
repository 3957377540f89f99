//! The shell lexer: a command line becomes words and operators.
//!
//! Quoting is resolved here (a word's `text` is what the program would
//! receive, expansions left as written), so `c'ur'l`, `"cu"rl` and `c\url`
//! all read as `curl` and `echo 'a;b'` stays one command. Command
//! substitutions (`$(…)`, backquotes, `<(…)`, `>(…)`) are lexed recursively
//! into their own token lists, attached to the word that holds them, so the
//! parser can analyse what they run.
//!
//! Every recursion (nested lists, `${…}`, `$((…))`) goes through
//! [`Lexer::enter`], which fails past [`MAX_DEPTH`]: a hostile line cannot
//! exhaust the stack, and what is too deep to read is an error, not an allow.

mod expand;
mod heredoc;
mod words;

use super::MAX_DEPTH;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Word(Word),
    Op(Op),
    Redir(Redir),
    /// `(( … ))`: an arithmetic command. It runs no program, but the
    /// substitutions inside it do.
    Arith(Vec<Sub>),
    /// The body of a here-document, one token per `<<`, in their order, right
    /// after the line that announced them (before its newline token).
    Heredoc(HeredocBody),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Newline,
    Semi,
    Amp,
    AndIf,
    OrIf,
    Pipe,
    /// `|&`: a pipe that carries stderr too.
    PipeAmp,
    LParen,
    RParen,
    /// `;;`, `;&`, `;;&`: the end of a `case` item.
    CaseEnd,
}

/// A redirection operator; the file descriptor number before it (`2>`)
/// does not change what the analysis learns, so it is not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Redir {
    In,
    Out,
    Append,
    /// `>|`
    Clobber,
    /// `<>`: opens for reading and writing, creating the file.
    ReadWrite,
    /// `&>`
    OutBoth,
    /// `&>>`
    AppendBoth,
    /// `>&`: a descriptor copy (`2>&1`), or a file (`>& out`).
    DupOut,
    DupIn,
    Heredoc,
    HereString,
}

/// One shell word after quote removal.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Word {
    /// The word as the program receives it; expansions (`$HOME`, `$(…)`)
    /// are left as written since their value is unknown here.
    pub text: String,
    /// Length in bytes of the start of `text` made only of plain, unquoted
    /// characters. An assignment's name must lie in it: `A=1 cmd` assigns,
    /// `"A=1" cmd` runs a program called `A=1`.
    pub plain_prefix: usize,
    /// Some part was quoted or escaped: such a word is never a reserved
    /// word (`"if"` is a command) and makes a here-document literal.
    pub quoted: bool,
    /// Command and process substitutions inside the word, in order.
    pub subs: Vec<Sub>,
    /// Byte offsets in `text` of the unquoted `{`, `,` and `}`: only those
    /// take part in brace expansion.
    pub braces: Vec<usize>,
    /// Byte ranges in `text` of unquoted `$IFS` / `${IFS…}`, where the
    /// shell splits the word.
    pub ifs: Vec<(usize, usize)>,
}

/// A here-document's text, and the substitutions in it when its delimiter
/// was unquoted (those run even when the body is just data).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeredocBody {
    pub text: String,
    pub subs: Vec<Sub>,
}

/// The tokens of one command or process substitution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sub(pub Vec<Tok>);

/// Words after which the next word is again in command position; the lexer
/// needs this (and only this) to tell an arithmetic command `((…))` from two
/// nested subshells, and to know when `case` patterns are being read.
const COMMAND_PREFIXES: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "{", "time", "for", "in", "coproc",
];

/// Lexes a whole command line (or a nested one: a backquoted command, a
/// `sh -c` string). `depth` is the nesting level of the caller.
pub(crate) fn lex(text: &str, depth: usize) -> Result<Vec<Tok>, String> {
    let mut lexer = Lexer::new(text.chars().collect(), depth);
    lexer.list(false)
}

pub(crate) fn too_deep() -> String {
    format!("nesting deeper than {MAX_DEPTH} levels")
}

struct Lexer {
    src: Vec<char>,
    pos: usize,
    depth: usize,
    /// Characters that look-ahead scans ([`Lexer::arith_closes`]) may still
    /// read: a few times the input, so lexing stays linear.
    lookahead_budget: usize,
}

/// Per-list lexing state: each `$(…)` has its own.
struct ListState {
    cmd_pos: bool,
    parens: usize,
    cases: usize,
    heredocs: Vec<Heredoc>,
    /// The previous token was `<<` or `<<-` (`true` strips tabs): the next
    /// word is a here-document delimiter.
    want_delim: Option<bool>,
}

struct Heredoc {
    delim: String,
    quoted: bool,
    strip_tabs: bool,
}

/// Accumulates one word.
#[derive(Default)]
struct WordBuf {
    text: String,
    plain_prefix: usize,
    not_plain: bool,
    quoted: bool,
    subs: Vec<Sub>,
    braces: Vec<usize>,
    ifs: Vec<(usize, usize)>,
}

impl WordBuf {
    fn plain(&mut self, c: char) {
        if matches!(c, '{' | ',' | '}') {
            self.braces.push(self.text.len());
        }
        self.text.push(c);
        if !self.not_plain {
            self.plain_prefix = self.text.len();
        }
    }

    fn quoted(&mut self, c: char) {
        self.not_plain = true;
        self.quoted = true;
        self.text.push(c);
    }

    /// Text kept as written (an expansion).
    fn raw(&mut self, chars: &[char]) {
        self.not_plain = true;
        self.text.extend(chars);
    }

    fn finish(self) -> Word {
        Word {
            text: self.text,
            plain_prefix: self.plain_prefix,
            quoted: self.quoted,
            subs: self.subs,
            braces: self.braces,
            ifs: self.ifs,
        }
    }
}

impl Lexer {
    fn new(src: Vec<char>, depth: usize) -> Self {
        let lookahead_budget = src.len().saturating_mul(4).saturating_add(4096);
        Self {
            src,
            pos: 0,
            depth,
            lookahead_budget,
        }
    }

    fn peek(&self) -> Option<char> {
        self.src.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src.get(self.pos + n).copied()
    }

    fn looking_at(&self, s: &str) -> bool {
        let mut ahead = self.src.get(self.pos..).unwrap_or_default().iter();
        s.chars().all(|c| ahead.next() == Some(&c))
    }

    fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.src.len());
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(too_deep());
        }
        Ok(())
    }

    /// A list of commands: the whole input, or (`in_subst`) the inside of a
    /// `$(`, `<(` or `>(` up to its closing parenthesis.
    fn list(&mut self, in_subst: bool) -> Result<Vec<Tok>, String> {
        self.enter()?;
        let result = self.list_inner(in_subst);
        self.depth -= 1;
        result
    }

    fn list_inner(&mut self, in_subst: bool) -> Result<Vec<Tok>, String> {
        let mut toks = Vec::new();
        let mut st = ListState {
            cmd_pos: true,
            parens: 0,
            cases: 0,
            heredocs: Vec::new(),
            want_delim: None,
        };
        loop {
            self.skip_blanks();
            let Some(c) = self.peek() else {
                if in_subst {
                    return Err("unterminated `$(`: missing `)`".into());
                }
                // A here-document cut short by the end of input runs anyway
                // (bash warns), so an unfinished one is not an error.
                return Ok(toks);
            };
            let op = match c {
                '\n' => {
                    self.advance(1);
                    for body in self.heredoc_bodies(&mut st.heredocs)? {
                        toks.push(Tok::Heredoc(body));
                    }
                    Some(Op::Newline)
                }
                '#' => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.advance(1);
                    }
                    continue;
                }
                ';' => Some(self.semicolon()),
                '|' => Some(self.bar()),
                '&' if self.looking_at("&&") => {
                    self.advance(2);
                    Some(Op::AndIf)
                }
                '&' if self.peek_at(1) == Some('>') => {
                    toks.push(Tok::Redir(self.redir()));
                    continue;
                }
                '&' => {
                    self.advance(1);
                    Some(Op::Amp)
                }
                '(' => {
                    if st.cmd_pos
                        && self.peek_at(1) == Some('(')
                        && self.arith_closes(self.pos + 2)?
                    {
                        self.advance(2);
                        let mut subs = Vec::new();
                        self.group('(', ')', 2, &mut subs)?;
                        toks.push(Tok::Arith(subs));
                        st.cmd_pos = false;
                        continue;
                    }
                    self.advance(1);
                    st.parens += 1;
                    Some(Op::LParen)
                }
                ')' => {
                    if in_subst && st.parens == 0 && st.cases == 0 {
                        self.advance(1);
                        return Ok(toks);
                    }
                    self.advance(1);
                    st.parens = st.parens.saturating_sub(1);
                    toks.push(Tok::Op(Op::RParen));
                    // After a `case` pattern's `)` a command follows.
                    st.cmd_pos = st.cases > 0;
                    continue;
                }
                '<' | '>' if self.peek_at(1) != Some('(') => {
                    let redir = self.redir();
                    if matches!(redir, Redir::Heredoc) {
                        st.want_delim = Some(self.peek() == Some('-'));
                        if self.peek() == Some('-') {
                            self.advance(1);
                        }
                    }
                    toks.push(Tok::Redir(redir));
                    continue;
                }
                d if d.is_ascii_digit() && self.io_number() => {
                    while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                        self.advance(1);
                    }
                    toks.push(Tok::Redir(self.redir()));
                    continue;
                }
                _ => None,
            };
            if let Some(op) = op {
                toks.push(Tok::Op(op));
                st.cmd_pos = true;
                continue;
            }
            let start = self.pos;
            let word = self.word()?;
            if self.pos == start {
                // Cannot happen (every branch above consumes input), but a
                // lexer that stops advancing must fail, not loop.
                return Err(format!("unexpected character `{c}`"));
            }
            self.note_word(&word, &mut st);
            toks.push(Tok::Word(word));
        }
    }

    fn note_word(&mut self, word: &Word, st: &mut ListState) {
        if let Some(strip_tabs) = st.want_delim.take() {
            st.heredocs.push(Heredoc {
                delim: word.text.clone(),
                quoted: word.quoted,
                strip_tabs,
            });
            return;
        }
        let text = if word.quoted { "" } else { word.text.as_str() };
        if st.cmd_pos && text == "case" {
            st.cases += 1;
        } else if st.cmd_pos && text == "esac" && st.cases > 0 {
            st.cases -= 1;
        }
        st.cmd_pos = COMMAND_PREFIXES.contains(&text);
    }

    fn skip_blanks(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\r') => self.advance(1),
                Some('\\') if self.peek_at(1) == Some('\n') => self.advance(2),
                _ => return,
            }
        }
    }

    fn semicolon(&mut self) -> Op {
        for (s, op) in [
            (";;&", Op::CaseEnd),
            (";;", Op::CaseEnd),
            (";&", Op::CaseEnd),
        ] {
            if self.looking_at(s) {
                self.advance(s.chars().count());
                return op;
            }
        }
        self.advance(1);
        Op::Semi
    }

    fn bar(&mut self) -> Op {
        for (s, op) in [("||", Op::OrIf), ("|&", Op::PipeAmp)] {
            if self.looking_at(s) {
                self.advance(2);
                return op;
            }
        }
        self.advance(1);
        Op::Pipe
    }

    /// Digits directly followed by `<` or `>` are a file descriptor number.
    fn io_number(&self) -> bool {
        let mut i = self.pos;
        while self.src.get(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        matches!(self.src.get(i), Some('<' | '>')) && self.src.get(i + 1) != Some(&'(')
    }

    /// At `<`, `>` or `&>`. Longest operator first.
    fn redir(&mut self) -> Redir {
        const OPS: &[(&str, Redir)] = &[
            ("&>>", Redir::AppendBoth),
            ("&>", Redir::OutBoth),
            ("<<<", Redir::HereString),
            ("<<", Redir::Heredoc),
            ("<&", Redir::DupIn),
            ("<>", Redir::ReadWrite),
            ("<", Redir::In),
            (">>", Redir::Append),
            (">&", Redir::DupOut),
            (">|", Redir::Clobber),
            (">", Redir::Out),
        ];
        for (s, r) in OPS {
            if self.looking_at(s) {
                self.advance(s.chars().count());
                return *r;
            }
        }
        // Unreachable from `list_inner`, which only calls this at one of
        // the operators above; consume a character so lexing still ends.
        self.advance(1);
        Redir::In
    }
}
