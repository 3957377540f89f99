//! Shell command lines → [`ShellFacts`].
//!
//! A hand-written lexer (`lexer`) and parser (`parser`) for the POSIX
//! sh / bash subset typed in an SSH session or passed to exec. What matters
//! to a rule is which programs run, with which arguments, which files they
//! write and which hosts they reach, wherever the program hides: behind
//! quotes, in `$(…)`, in a `sh -c '…'` string, behind `sudo` or `xargs`.
//! `wrappers` unwraps the programs that run other programs; `net` reads
//! the hosts of the tools that move data over the network.
//!
//! What the facts hold:
//!
//! * `commands`, in the order of the text: each simple command, then what
//!   it runs through wrappers and scripts, then what its substitutions run
//!   (so `echo $(id)` lists `echo`, then `id`). A substitution in a
//!   double-quoted `sh -c "…$(id)"` string is listed twice: once where the
//!   outer shell expands it, once in the script as the inner shell reads it.
//! * `argv` after quote removal, brace expansion (`{curl,x}` runs
//!   `curl x`) and splitting at unquoted `$IFS` (`curl${IFS}x` too);
//!   parameters, substitutions, globs and `~` are left as written, since
//!   their value is not known here.
//! * `program`, the basename of `argv[0]`.
//! * A here-document's substitutions run whatever reads it; its text is
//!   analysed as a script when a shell reads it (`bash <<EOF`, `sh -s <<<`).
//!
//! Fail closed: input the parser cannot read (an unterminated quote, an
//! unbalanced `$(`, a stray `fi`, nesting deeper than `MAX_DEPTH`, a line
//! whose analysis would cost more than linear time) sets `has_parse_error`,
//! and the facts gathered so far are kept for display.

mod braces;
mod fields;
mod lexer;
mod net;
mod opts;
mod parser;
mod wrappers;

#[cfg(test)]
mod tests;

use crate::facts::{Facts, ShellFacts, SimpleCommand};

use lexer::Redir;
use wrappers::Inner;

/// How deeply substitutions, `sh -c` strings and `${…}` may nest. Real
/// command lines stay far below; beyond it the line is refused.
pub(crate) const MAX_DEPTH: usize = 16;

/// Analyses one shell command line (several lines are several commands).
/// Never panics. Unparseable input (unterminated quote, unbalanced `$( )`,
/// nesting too deep) yields `kind: "shell"`, `has_parse_error` and the
/// reason in `parse_error`.
pub fn analyse_shell(line: &str) -> Facts {
    let mut out = Collector {
        budget: line
            .len()
            .saturating_mul(MAX_DEPTH)
            .saturating_add(BUDGET_SLACK),
        ..Collector::default()
    };
    let result = analyse_text(line, 0, &mut out);
    let mut programs: Vec<String> = out.commands.iter().map(|c| c.program.clone()).collect();
    sort_dedup(&mut programs);
    sort_dedup(&mut out.writes);
    sort_dedup(&mut out.hosts);
    let (has_parse_error, parse_error) = match result {
        Ok(()) => (false, String::new()),
        Err(e) => (true, e),
    };
    Facts {
        kind: "shell".into(),
        shell: ShellFacts {
            commands: out.commands,
            programs,
            writes: out.writes,
            hosts: out.hosts,
            has_pipe: out.has_pipe,
            has_substitution: out.has_substitution,
        },
        has_parse_error,
        parse_error,
        ..Facts::default()
    }
}

/// Bytes of text lexed (and of arguments built) beyond `MAX_DEPTH` times
/// the line's own length.
const BUDGET_SLACK: usize = 64 * 1024;

/// Why a line whose analysis would outgrow its budget is refused.
pub(crate) const TOO_COMPLEX: &str = "command line too complex to analyse";

/// Lexes and parses `text` found at nesting level `depth` (0 for the line
/// itself, more for a `sh -c` string inside it).
fn analyse_text(text: &str, depth: usize, out: &mut Collector) -> Result<(), String> {
    // A script is text the line already holds, so it is read again at each
    // level it is nested in; substitutions inside `sh -c "…"` strings are
    // read both where they stand and in the script. Nested on purpose, that
    // doubling would multiply the work by 2^MAX_DEPTH: a budget keeps the
    // cost linear in the line and refuses the rest.
    out.budget = out.budget.checked_sub(text.len()).ok_or(TOO_COMPLEX)?;
    let toks = lexer::lex(text, depth)?;
    parser::parse(&toks, depth + 1, out)
}

/// What the parser learns, accumulated across nested command lines.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    commands: Vec<SimpleCommand>,
    writes: Vec<String>,
    hosts: Vec<String>,
    has_pipe: bool,
    has_substitution: bool,
    /// Bytes that may still be lexed (see [`analyse_text`]).
    budget: usize,
}

impl Collector {
    /// Records a simple command, then every command it runs in turn: the
    /// program behind `sudo`/`env`/`xargs`…, the script of `sh -c`/`eval`.
    /// Returns whether one of them is a shell reading its script from
    /// standard input.
    fn command(&mut self, argv: Vec<String>, depth: usize) -> Result<bool, String> {
        let mut reads_script = false;
        // Depth-first so that the order is that of the text. Each unwrapped
        // argv is a strict part of its wrapper's, so the loop ends; a chain
        // of wrappers is bounded like any nesting (`sudo sudo … x` would
        // otherwise copy the line once per `sudo`); scripts recurse one
        // level deeper and so meet MAX_DEPTH too.
        let mut stack = vec![(Inner::Argv(argv), 0)];
        while let Some((next, level)) = stack.pop() {
            if level > MAX_DEPTH {
                return Err(lexer::too_deep());
            }
            let argv = match next {
                // What a wrapper runs is a copy of part of its argv: paid
                // for again, or `sudo sudo … x` with many words would
                // build their square.
                Inner::Argv(argv) if level > 0 => {
                    let size: usize = argv.iter().map(|a| a.len() + fields::WORD_OVERHEAD).sum();
                    self.budget = self.budget.checked_sub(size).ok_or(TOO_COMPLEX)?;
                    argv
                }
                Inner::Argv(argv) => argv,
                Inner::Script(text) => {
                    analyse_text(&text, depth, self)?;
                    continue;
                }
            };
            let Some(first) = argv.first() else {
                continue;
            };
            let program = basename(first).to_string();
            net::hosts(&program, &argv[1..], &mut self.hosts);
            if program == "tee" {
                self.writes.extend(tee_files(&argv[1..]));
            }
            reads_script |= wrappers::reads_script_from_stdin(&program, &argv[1..]);
            let inner = wrappers::unwrap(&program, &argv[1..]);
            self.commands.push(SimpleCommand { program, argv });
            stack.extend(inner.into_iter().rev().map(|i| (i, level + 1)));
        }
        Ok(reads_script)
    }

    /// Records what a redirection writes to or connects to.
    fn redirect(&mut self, redir: Redir, target: &str, is_process_substitution: bool) {
        if let Some(host) = net::dev_tcp_host(target) {
            self.hosts.push(host);
        }
        let writes = match redir {
            Redir::Out
            | Redir::Append
            | Redir::Clobber
            | Redir::ReadWrite
            | Redir::OutBoth
            | Redir::AppendBoth => true,
            // `2>&1`, `>&-`, `>&3-` copy or close descriptors; `>& file`
            // is bash for `&> file`.
            Redir::DupOut => {
                let fd = target.strip_suffix('-').unwrap_or(target);
                !fd.is_empty() && !fd.bytes().all(|b| b.is_ascii_digit())
            }
            Redir::In | Redir::DupIn | Redir::Heredoc | Redir::HereString => false,
        };
        // `> >(tee x)` writes to a pipe, not a file; the command inside is
        // analysed on its own.
        if writes && !is_process_substitution {
            self.writes.push(target.to_string());
        }
    }
}

/// `tee`'s file operands (its options take no separate value).
fn tee_files(args: &[String]) -> impl Iterator<Item = String> + '_ {
    let mut options_done = false;
    args.iter().filter_map(move |a| {
        if !options_done && a == "--" {
            options_done = true;
            return None;
        }
        if !options_done && a.starts_with('-') && a.len() > 1 {
            return None;
        }
        Some(a.clone())
    })
}

/// The program name a rule sees: `/usr/bin/curl` → `curl`.
pub(crate) fn basename(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rsplit('/').next() {
        Some(name) if !name.is_empty() => name,
        _ => path,
    }
}

/// A shell variable name.
pub(crate) fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `NAME=value`, `NAME+=value`, `NAME[i]=value`, given the length of the
/// word's unquoted start (`plain_prefix`, which must cover the `=`).
pub(crate) fn is_assignment(text: &str, plain_prefix: usize) -> bool {
    let Some(eq) = text.find('=') else {
        return false;
    };
    if eq >= plain_prefix {
        return false;
    }
    let name = &text[..eq];
    let name = name.strip_suffix('+').unwrap_or(name);
    let name = match name.split_once('[') {
        Some((base, rest)) if rest.ends_with(']') => base,
        _ => name,
    };
    is_name(name)
}

fn sort_dedup(v: &mut Vec<String>) {
    v.sort();
    v.dedup();
}
