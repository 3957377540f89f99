//! The shell parser: tokens → simple commands, fed to the [`Collector`].
//!
//! It does not build a tree: the facts need each simple command, the
//! redirections and the substitutions, plus the certainty that the line is
//! well formed. Compound commands (`if`, loops, `case`, `{ }`, `( )`) are
//! tracked on a stack only to reject what the shell would reject (a stray
//! `fi`, an unclosed `(`): a line the gateway reads differently from the
//! shell is an evasion, so such lines fail closed.

use std::collections::VecDeque;

use super::lexer::{HeredocBody, Op, Redir, Sub, Tok, Word};
use super::{Collector, analyse_text, fields, is_assignment};

/// Parses one token list at nesting level `depth`.
pub(crate) fn parse(toks: &[Tok], depth: usize, out: &mut Collector) -> Result<(), String> {
    let mut parser = Parser {
        toks,
        i: 0,
        depth,
        out,
        stack: Vec::new(),
        state: State::Start,
        need_cmd: false,
        cmd: Cmd::default(),
        awaited_bodies: VecDeque::new(),
    };
    parser.run()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Paren,
    Brace,
    If(IfPart),
    /// `body`: past `do` (so `done` may come).
    Loop {
        body: bool,
    },
    /// `pattern`: reading `case` patterns rather than commands.
    Case {
        pattern: bool,
    },
}

impl Ctx {
    fn closer(self) -> &'static str {
        match self {
            Ctx::Paren => ")",
            Ctx::Brace => "}",
            Ctx::If(_) => "fi",
            Ctx::Loop { .. } => "done",
            Ctx::Case { .. } => "esac",
        }
    }
}

/// Where in `if … then … [elif … then …] [else …] fi` the parser is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IfPart {
    Condition,
    Then,
    Else,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Where a command may begin (reserved words are recognised).
    Start,
    /// Inside a simple command.
    InCmd,
    /// Right after a compound command: only redirections and operators.
    After,
}

#[derive(Default)]
struct Cmd<'t> {
    argv: Vec<&'t Word>,
    /// Substitutions to analyse once the command itself is recorded, so
    /// that `commands` follows the order of the text.
    subs: Vec<&'t Sub>,
    /// Has a word, an assignment or a redirection.
    started: bool,
    /// `<<` redirections, and the bodies that arrived before the command
    /// ended (a body follows the line, so usually all of them).
    heredocs: usize,
    bodies: Vec<&'t HeredocBody>,
    /// `<<<` strings.
    here_strings: Vec<&'t Word>,
}

struct Parser<'t, 'c> {
    toks: &'t [Tok],
    i: usize,
    depth: usize,
    out: &'c mut Collector,
    stack: Vec<Ctx>,
    state: State,
    /// After `|`, `&&`, `||`, `then`, `do`, `{`, `(`: a command must follow.
    need_cmd: bool,
    cmd: Cmd<'t>,
    /// For each here-document of an ended command whose body has not come
    /// yet, in order: whether a shell reads it as its script.
    awaited_bodies: VecDeque<bool>,
}

impl<'t> Parser<'t, '_> {
    fn run(&mut self) -> Result<(), String> {
        while let Some(tok) = self.toks.get(self.i) {
            self.i += 1;
            if let Some(Ctx::Case { pattern: true }) = self.stack.last() {
                self.case_pattern(tok)?;
                continue;
            }
            match tok {
                Tok::Word(w) => self.word(w)?,
                Tok::Redir(r) => self.redir(*r)?,
                Tok::Op(op) => self.op(*op)?,
                Tok::Heredoc(body) => self.body_arrived(body)?,
                Tok::Arith(subs) => {
                    self.begin_compound("((")?;
                    self.cmd.subs.extend(subs);
                    self.state = State::After;
                }
            }
        }
        self.finish()?;
        if self.need_cmd {
            return Err("unexpected end of input: a command was expected".into());
        }
        if let Some(ctx) = self.stack.last() {
            return Err(format!(
                "unexpected end of input: missing `{}`",
                ctx.closer()
            ));
        }
        Ok(())
    }

    /// Records the simple command read so far, then what its substitutions run.
    fn finish(&mut self) -> Result<(), String> {
        let cmd = std::mem::take(&mut self.cmd);
        let mut reads_script = false;
        if !cmd.argv.is_empty() {
            let mut argv = Vec::with_capacity(cmd.argv.len());
            for word in &cmd.argv {
                fields::expand(word, &mut argv, &mut self.out.budget)?;
            }
            reads_script = self.out.command(argv, self.depth)?;
        }
        // `bash <<EOF`, `sudo sh -s <<< "…"`: the shell runs that text.
        for body in &cmd.bodies {
            self.heredoc_body(body, reads_script)?;
        }
        for _ in cmd.bodies.len()..cmd.heredocs {
            self.awaited_bodies.push_back(reads_script);
        }
        if reads_script {
            for text in &cmd.here_strings {
                analyse_text(&text.text, self.depth, self.out)?;
            }
        }
        self.analyse_subs(cmd.subs)
    }

    /// Bodies come in the order of their `<<`: first those of ended
    /// commands, then the current command's.
    fn body_arrived(&mut self, body: &'t HeredocBody) -> Result<(), String> {
        match self.awaited_bodies.pop_front() {
            Some(is_script) => self.heredoc_body(body, is_script),
            None => {
                self.cmd.bodies.push(body);
                Ok(())
            }
        }
    }

    /// A here-document's substitutions run whatever reads it; its text runs
    /// too when a shell reads it as a script.
    fn heredoc_body(&mut self, body: &HeredocBody, is_script: bool) -> Result<(), String> {
        self.analyse_subs(&body.subs)?;
        if is_script {
            analyse_text(&body.text, self.depth, self.out)?;
        }
        Ok(())
    }

    fn analyse_subs<'s>(&mut self, subs: impl IntoIterator<Item = &'s Sub>) -> Result<(), String> {
        for sub in subs {
            self.out.has_substitution = true;
            parse(&sub.0, self.depth + 1, self.out)?;
        }
        Ok(())
    }

    fn word(&mut self, w: &'t Word) -> Result<(), String> {
        let reserved = !w.quoted && !self.cmd.started;
        if self.state == State::After
            && !(reserved
                && ["}", "fi", "done", "esac", "then", "do", "else", "elif"]
                    .contains(&w.text.as_str()))
        {
            return Err(format!(
                "unexpected word `{}` after a compound command",
                w.text
            ));
        }
        if reserved && self.reserved(w)? {
            return Ok(());
        }
        // `name () { …; }` defines a function: its body is analysed (it is
        // there to be called) but `name` is not a program run here.
        if !self.cmd.started
            && matches!(self.toks.get(self.i), Some(Tok::Op(Op::LParen)))
            && matches!(self.toks.get(self.i + 1), Some(Tok::Op(Op::RParen)))
        {
            self.i += 2;
            return self.function_body();
        }
        self.start_simple();
        if self.cmd.argv.is_empty() && is_assignment(&w.text, w.plain_prefix) {
            // `FOO=1 cmd`: not the program; what it expands still runs.
        } else {
            self.cmd.argv.push(w);
        }
        self.cmd.subs.extend(&w.subs);
        Ok(())
    }

    fn start_simple(&mut self) {
        if self.state == State::Start {
            self.state = State::InCmd;
        }
        self.cmd.started = true;
        self.need_cmd = false;
    }

    /// Handles a reserved word; `false` when `w` is not one.
    fn reserved(&mut self, w: &'t Word) -> Result<bool, String> {
        match w.text.as_str() {
            "{" => self.open(Ctx::Brace, "{")?,
            "if" => self.open(Ctx::If(IfPart::Condition), "if")?,
            "while" | "until" => self.open(Ctx::Loop { body: false }, &w.text)?,
            "then" => self.middle(Ctx::If(IfPart::Condition), Ctx::If(IfPart::Then), "then")?,
            "elif" => self.middle(Ctx::If(IfPart::Then), Ctx::If(IfPart::Condition), "elif")?,
            "else" => self.middle(Ctx::If(IfPart::Then), Ctx::If(IfPart::Else), "else")?,
            "do" => self.middle(Ctx::Loop { body: false }, Ctx::Loop { body: true }, "do")?,
            "}" => self.close(Ctx::Brace, "}")?,
            "fi" if self.stack.last() == Some(&Ctx::If(IfPart::Else)) => {
                self.close(Ctx::If(IfPart::Else), "fi")?;
            }
            "fi" => self.close(Ctx::If(IfPart::Then), "fi")?,
            "done" => self.close(Ctx::Loop { body: true }, "done")?,
            "esac" => self.close(Ctx::Case { pattern: false }, "esac")?,
            "for" | "select" => {
                self.begin_compound(&w.text)?;
                self.for_header(&w.text)?;
                self.stack.push(Ctx::Loop { body: false });
            }
            "case" => {
                self.begin_compound("case")?;
                self.case_header()?;
                self.stack.push(Ctx::Case { pattern: true });
            }
            // `!` negates the pipeline that follows (bash accepts it alone,
            // even after `&&`).
            "!" => self.need_cmd = false,
            // Reserved words that cannot start a command.
            "in" | "]]" => return Err(format!("unexpected `{}`", w.text)),
            "function" => {
                self.begin_compound("function")?;
                match self.toks.get(self.i) {
                    Some(Tok::Word(_)) => self.i += 1,
                    _ => return Err("`function` without a name".into()),
                }
                if matches!(self.toks.get(self.i), Some(Tok::Op(Op::LParen)))
                    && matches!(self.toks.get(self.i + 1), Some(Tok::Op(Op::RParen)))
                {
                    self.i += 2;
                }
                self.function_body()?;
            }
            "[[" => {
                self.begin_compound("[[")?;
                self.conditional(w)?;
                self.state = State::After;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// After `name ()` or `function name`: the body must be a compound
    /// command, which the main loop then reads.
    fn function_body(&mut self) -> Result<(), String> {
        self.skip_newlines();
        let compound = match self.toks.get(self.i) {
            Some(Tok::Word(w)) => {
                !w.quoted
                    && ["{", "if", "while", "until", "for", "select", "case", "[["]
                        .contains(&w.text.as_str())
            }
            Some(Tok::Op(Op::LParen) | Tok::Arith(_)) => true,
            _ => false,
        };
        if !compound {
            return Err("a function body must be a compound command".into());
        }
        Ok(())
    }

    /// A compound command may begin only where a command may.
    fn begin_compound(&mut self, what: &str) -> Result<(), String> {
        if self.state != State::Start || self.cmd.started {
            return Err(format!("unexpected `{what}`"));
        }
        self.need_cmd = false;
        Ok(())
    }

    fn open(&mut self, ctx: Ctx, what: &str) -> Result<(), String> {
        self.begin_compound(what)?;
        self.stack.push(ctx);
        self.need_cmd = true;
        Ok(())
    }

    /// `then`, `elif`, `else`, `do`: only inside their own compound, at
    /// their place in it (`expect`), which they move on (`next`).
    fn middle(&mut self, expect: Ctx, next: Ctx, what: &str) -> Result<(), String> {
        self.finish()?;
        if self.need_cmd || self.stack.last() != Some(&expect) {
            return Err(format!("unexpected `{what}`"));
        }
        self.stack.pop();
        self.stack.push(next);
        self.state = State::Start;
        self.need_cmd = true;
        Ok(())
    }

    fn close(&mut self, ctx: Ctx, what: &str) -> Result<(), String> {
        self.finish()?;
        if self.need_cmd || self.stack.last() != Some(&ctx) {
            return Err(format!("unexpected `{what}`"));
        }
        self.stack.pop();
        self.state = State::After;
        Ok(())
    }

    /// `for NAME [in WORDS…] ;` or `for ((…;…;…)) ;` — up to `do`.
    fn for_header(&mut self, what: &str) -> Result<(), String> {
        match self.toks.get(self.i) {
            Some(Tok::Word(_)) => self.i += 1,
            Some(Tok::Arith(subs)) => {
                self.i += 1;
                self.analyse_subs(subs)?;
            }
            _ => return Err(format!("`{what}` without a variable name")),
        }
        self.skip_newlines();
        if let Some(Tok::Word(w)) = self.toks.get(self.i)
            && !w.quoted
            && w.text == "in"
        {
            self.i += 1;
            while let Some(Tok::Word(item)) = self.toks.get(self.i) {
                self.i += 1;
                self.analyse_subs(&item.subs)?;
            }
        }
        if matches!(self.toks.get(self.i), Some(Tok::Op(Op::Semi | Op::Newline))) {
            self.i += 1;
        }
        self.skip_newlines();
        Ok(())
    }

    /// `case WORD in`.
    fn case_header(&mut self) -> Result<(), String> {
        let Some(Tok::Word(subject)) = self.toks.get(self.i) else {
            return Err("`case` without a word".into());
        };
        self.i += 1;
        self.analyse_subs(&subject.subs)?;
        self.skip_newlines();
        match self.toks.get(self.i) {
            Some(Tok::Word(w)) if !w.quoted && w.text == "in" => {
                self.i += 1;
                Ok(())
            }
            _ => Err("`case` without `in`".into()),
        }
    }

    /// Inside `case … in`, where a pattern list `[(] p1 | p2 )` or `esac`
    /// is expected.
    fn case_pattern(&mut self, tok: &'t Tok) -> Result<(), String> {
        match tok {
            Tok::Op(Op::Newline | Op::LParen | Op::Pipe) => Ok(()),
            Tok::Op(Op::RParen) => {
                self.stack.pop();
                self.stack.push(Ctx::Case { pattern: false });
                self.state = State::Start;
                Ok(())
            }
            Tok::Word(w) if !w.quoted && w.text == "esac" => {
                self.stack.pop();
                self.state = State::After;
                Ok(())
            }
            Tok::Word(w) => self.analyse_subs(&w.subs),
            Tok::Heredoc(body) => self.body_arrived(body),
            _ => Err("unexpected token in a `case` pattern".into()),
        }
    }

    /// `[[ … ]]`: its words are a condition, where `<`, `>`, `&&`, `(`
    /// are operators of the test rather than of the shell. Recorded as a
    /// command named `[[` so its arguments are visible to rules.
    fn conditional(&mut self, open: &'t Word) -> Result<(), String> {
        let mut argv = vec![open.text.clone()];
        let mut subs = Vec::new();
        loop {
            let Some(tok) = self.toks.get(self.i) else {
                return Err("unterminated `[[`: missing `]]`".into());
            };
            self.i += 1;
            match tok {
                Tok::Word(w) => {
                    argv.push(w.text.clone());
                    subs.extend(&w.subs);
                    if !w.quoted && w.text == "]]" {
                        break;
                    }
                }
                Tok::Op(Op::Newline) => {}
                Tok::Op(op) => argv.push(op_text(*op).to_string()),
                Tok::Redir(Redir::In) => argv.push("<".into()),
                Tok::Redir(Redir::Out) => argv.push(">".into()),
                _ => return Err("unexpected token in `[[ … ]]`".into()),
            }
        }
        self.out.command(argv, self.depth)?;
        self.analyse_subs(subs)
    }

    fn skip_newlines(&mut self) {
        while matches!(self.toks.get(self.i), Some(Tok::Op(Op::Newline))) {
            self.i += 1;
        }
    }

    fn redir(&mut self, redir: Redir) -> Result<(), String> {
        let Some(Tok::Word(target)) = self.toks.get(self.i) else {
            return Err("redirection without a target".into());
        };
        self.i += 1;
        if self.state != State::After {
            self.start_simple();
        }
        match redir {
            // A compound command's input is not read as a script here.
            Redir::Heredoc if self.state == State::After => self.awaited_bodies.push_back(false),
            Redir::Heredoc => self.cmd.heredocs += 1,
            Redir::HereString if self.state != State::After => self.cmd.here_strings.push(target),
            _ => {}
        }
        let process_substitution = target.text.starts_with(['<', '>']) && !target.subs.is_empty();
        self.out.redirect(redir, &target.text, process_substitution);
        self.cmd.subs.extend(&target.subs);
        Ok(())
    }

    fn op(&mut self, op: Op) -> Result<(), String> {
        let empty = self.state == State::Start && !self.cmd.started;
        match op {
            Op::Newline => {
                self.finish()?;
                self.state = State::Start;
            }
            Op::Semi | Op::Amp => {
                if empty || self.need_cmd {
                    return Err(format!("unexpected `{}`", op_text(op)));
                }
                self.finish()?;
                self.state = State::Start;
            }
            Op::Pipe | Op::PipeAmp | Op::AndIf | Op::OrIf => {
                if empty || self.need_cmd {
                    return Err(format!("unexpected `{}`", op_text(op)));
                }
                if matches!(op, Op::Pipe | Op::PipeAmp) {
                    self.out.has_pipe = true;
                }
                self.finish()?;
                self.state = State::Start;
                self.need_cmd = true;
            }
            Op::CaseEnd => {
                self.finish()?;
                if self.need_cmd || self.stack.last() != Some(&Ctx::Case { pattern: false }) {
                    return Err(format!("unexpected `{}`", op_text(op)));
                }
                self.stack.pop();
                self.stack.push(Ctx::Case { pattern: true });
                self.state = State::Start;
            }
            Op::LParen => self.open(Ctx::Paren, "(")?,
            Op::RParen => self.close(Ctx::Paren, ")")?,
        }
        Ok(())
    }
}

fn op_text(op: Op) -> &'static str {
    match op {
        Op::Newline => "newline",
        Op::Semi => ";",
        Op::Amp => "&",
        Op::AndIf => "&&",
        Op::OrIf => "||",
        Op::Pipe => "|",
        Op::PipeAmp => "|&",
        Op::LParen => "(",
        Op::RParen => ")",
        Op::CaseEnd => ";;",
    }
}
