//! Runs of digit groups (`4111 1111 1111 1111`, `123-45-6789`,
//! `555.123.4567`, `10.0.0.1`): parsed once, then every way of reading a
//! few consecutive groups is offered to the card, SSN, phone and IPv4
//! checks (IBANs are entered here too, at their first digit). Most runs in clean text (dates, times, amounts, hex) fail the
//! group-shape tests before any checksum runs.

use super::{Builtin, Sink, iban, is_word, net, phone, word_at, word_before};
use crate::candidates::{Block, LANES};
use crate::validate::{card_issuer, luhn, us_ssn};

const MAX_GROUPS: usize = 8;

pub(crate) const USES_RUNS: [Builtin; 4] = [
    Builtin::CreditCard,
    Builtin::UsSsn,
    Builtin::Phone,
    Builtin::Ipv4,
];

/// Digit groups separated by single ` `, `-` or `.`.
pub(crate) struct Run<'h> {
    pub(crate) hay: &'h [u8],
    pub(crate) n: usize,
    pub(crate) gs: [usize; MAX_GROUPS],
    pub(crate) ge: [usize; MAX_GROUPS],
    /// `sep[k]` follows group `k` (0 after the last group of the run).
    pub(crate) sep: [u8; MAX_GROUPS],
    glued_start: bool,
    glued_end: bool,
}

impl<'h> Run<'h> {
    pub(crate) fn parse(hay: &'h [u8], start: usize) -> Run<'h> {
        let mut run = Run {
            hay,
            n: 0,
            gs: [0; MAX_GROUPS],
            ge: [0; MAX_GROUPS],
            sep: [0; MAX_GROUPS],
            glued_start: glued_start(hay, start),
            glued_end: false,
        };
        let mut i = start;
        loop {
            let g = i;
            while i < hay.len() && hay[i].is_ascii_digit() {
                i += 1;
            }
            run.gs[run.n] = g;
            run.ge[run.n] = i;
            run.n += 1;
            let sep = hay.get(i).copied().unwrap_or(0);
            let continues =
                matches!(sep, b' ' | b'-' | b'.') && hay.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !continues {
                // `1,234` and `12abc` go on past us: the last group is not whole.
                run.glued_end = word_at_or_decimal(hay, i);
                break;
            }
            run.sep[run.n - 1] = sep;
            if run.n == MAX_GROUPS {
                break;
            }
            i += 1;
        }
        run
    }

    pub(crate) fn end(&self) -> usize {
        self.ge[self.n - 1]
    }

    pub(crate) fn len(&self, k: usize) -> usize {
        self.ge[k] - self.gs[k]
    }

    pub(crate) fn span(&self, s: usize, e: usize) -> &'h [u8] {
        &self.hay[self.gs[s]..self.ge[e - 1]]
    }

    pub(crate) fn value(&self, k: usize) -> u64 {
        self.hay[self.gs[k]..self.ge[k]]
            .iter()
            .take(19)
            .fold(0u64, |a, b| a * 10 + u64::from(b - b'0'))
    }

    /// Separators inside groups `s..e` are all `sep`.
    pub(crate) fn seps_are(&self, s: usize, e: usize, sep: u8) -> bool {
        (s..e - 1).all(|k| self.sep[k] == sep)
    }

    /// Groups `s..e` stand alone: at the edge of the run or set off by a
    /// space, so they are not a piece of a longer dashed or dotted number.
    pub(crate) fn standalone(&self, s: usize, e: usize) -> bool {
        let before = if s == 0 {
            !self.glued_start
        } else {
            self.sep[s - 1] == b' '
        };
        let after = match self.sep[e - 1] {
            0 => !self.glued_end,
            sep => sep == b' ',
        };
        before && after
    }

    /// Groups `s..e` are the whole run.
    pub(crate) fn whole(&self, s: usize, e: usize) -> bool {
        s == 0 && e == self.n && !self.glued_start && !self.glued_end && self.sep[self.n - 1] == 0
    }
}

fn word_at_or_decimal(hay: &[u8], i: usize) -> bool {
    match hay.get(i) {
        Some(b) if is_word(*b) => true,
        Some(b',' | b'.') => hay.get(i + 1).is_some_and(u8::is_ascii_digit),
        _ => false,
    }
}

/// Whether the run at `start` continues something before it: a decimal
/// (`1,4111…`) or one of our hash tokens (`<hash:4111…>`, whose hex can be
/// all digits).
fn glued_start(hay: &[u8], start: usize) -> bool {
    if start == 0 {
        return false;
    }
    match hay[start - 1] {
        b',' | b'.' => start >= 2 && hay[start - 2].is_ascii_digit(),
        b':' => hay[..start - 1].ends_with(b"<hash"),
        _ => false,
    }
}

/// Entered at a digit; returns where scanning resumes.
pub(crate) fn at_digit(sink: &mut Sink<'_>, hay: &[u8], i: usize) -> usize {
    // An IBAN's digits start after its two-letter country code.
    if i >= 2
        && sink.on.has(Builtin::Iban)
        && hay[i - 1].is_ascii_uppercase()
        && hay[i - 2].is_ascii_uppercase()
        && !word_before(hay, i - 2)
        && let Some(end) = iban::at(sink, hay, i - 2)
    {
        return end;
    }
    // Inside a word, or a word that starts with digits (hex, identifiers):
    // not a number. The scan stops at no other digit of the word except
    // after two uppercase letters, which cannot start an IBAN mid-word,
    // so there is no need to skip the rest of the word here.
    if word_before(hay, i) || !sink.on.any(&USES_RUNS) {
        return i + 1;
    }
    let first_end = i + hay[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    if word_at(hay, first_end) {
        return first_end;
    }
    if let Some(end) = too_short(hay, i, sink.on.has(Builtin::Ipv4)) {
        return end;
    }
    let run = Run::parse(hay, i);
    let mut s = 0;
    while s < run.n {
        match candidate(sink, &run, s) {
            Some(e) => s = e,
            None => s += 1,
        }
    }
    run.end()
}

/// The same decision as [`at_digit`] for a number that starts a word at
/// bit `k` of a block, from the block's class masks alone, for the common
/// case of a run too short for any detector: returns the bit where
/// scanning resumes, or `None` when the run reaches the block's end or
/// may hold a match (then [`at_digit`] decides).
#[inline(always)]
pub(crate) fn dismiss(block: &Block, k: u32, first: u8, ipv4: bool) -> Option<u32> {
    let first_end = k + (!block.digits >> k).trailing_zeros();
    if first_end >= LANES as u32 {
        return None;
    }
    if block.words >> first_end & 1 != 0 {
        // `12abc`: not a number.
        return Some(first_end);
    }
    let end = k + (!block.runs >> k).trailing_zeros();
    if end >= LANES as u32 {
        return None;
    }
    let run = (u64::MAX << k) & !(u64::MAX << end);
    let digits = (run & block.digits).count_ones();
    let groups = (run & !block.digits).count_ones() + 1;
    let promising = if groups == 1 {
        // Only a card is one group: 13-19 digits from an issuer (2-6).
        (13..=19).contains(&digits) && (b'2'..=b'6').contains(&first)
    } else {
        digits >= 9 || ipv4 && groups >= 4 && digits >= 4
    };
    (!promising && groups <= MAX_GROUPS as u32).then_some(end)
}

/// Most runs in clean text (dates, times, amounts, counters) are too short
/// for anything we detect: at least 9 digits (an SSN), or four dotted
/// groups (an IPv4 address). Measured in a tight loop before the full
/// parse; returns the run's end when it can be skipped.
fn too_short(hay: &[u8], start: usize, ipv4: bool) -> Option<usize> {
    let mut i = start;
    let mut digits = 0;
    let mut groups = 1;
    loop {
        while i < hay.len() && hay[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
        let continues = matches!(hay.get(i), Some(b' ' | b'-' | b'.'))
            && hay.get(i + 1).is_some_and(u8::is_ascii_digit);
        if !continues || groups == MAX_GROUPS {
            break;
        }
        groups += 1;
        i += 1;
    }
    let promising = digits >= 9 || ipv4 && groups >= 4 && digits >= 4;
    (!promising).then_some(i)
}

/// Tries every detector on groups starting at `s`; returns the group after
/// the first match.
fn candidate(sink: &mut Sink<'_>, run: &Run<'_>, s: usize) -> Option<usize> {
    let on = sink.on;
    if on.has(Builtin::UsSsn)
        && let Some(e) = ssn(run, s)
    {
        sink.push(Builtin::UsSsn, run.gs[s], run.ge[e - 1]);
        return Some(e);
    }
    if on.has(Builtin::Phone)
        && let Some(e) = phone::in_run(run, s)
    {
        sink.push(Builtin::Phone, run.gs[s], run.ge[e - 1]);
        return Some(e);
    }
    if on.has(Builtin::CreditCard)
        && let Some(e) = card(run, s)
    {
        sink.push(Builtin::CreditCard, run.gs[s], run.ge[e - 1]);
        return Some(e);
    }
    if on.has(Builtin::Ipv4)
        && let Some(e) = net::ipv4_in_run(run, s)
    {
        sink.push(Builtin::Ipv4, run.gs[s], run.ge[e - 1]);
        return Some(e);
    }
    None
}

/// `AAA-GG-SSSS` or `AAA GG SSSS`; a space-separated one must be the whole
/// run, as spaces also separate unrelated numbers.
fn ssn(run: &Run<'_>, s: usize) -> Option<usize> {
    let e = s + 3;
    if e > run.n || run.len(s) != 3 || run.len(s + 1) != 2 || run.len(s + 2) != 4 {
        return None;
    }
    let sep = run.sep[s];
    let shaped = match sep {
        b'-' => run.seps_are(s, e, b'-') && run.standalone(s, e),
        b' ' => run.seps_are(s, e, b' ') && run.whole(s, e),
        _ => false,
    };
    let (a, g, n) = (run.value(s), run.value(s + 1), run.value(s + 2));
    let valid = shaped && us_ssn(a as u32, g as u32, n as u32);
    valid.then_some(e)
}

/// 13-19 digits, either one group or groups of 3-6 digits (the first of
/// four) joined by one kind of separator; issuer range and Luhn.
fn card(run: &Run<'_>, s: usize) -> Option<usize> {
    let max_e = run.n.min(s + 5);
    for e in (s + 1..=max_e).rev() {
        if !run.standalone(s, e) {
            continue;
        }
        let digits: usize = (s..e).map(|k| run.len(k)).sum();
        if !(13..=19).contains(&digits) {
            continue;
        }
        if e - s > 1 {
            let sep = run.sep[s];
            let grouped = (sep == b' ' || sep == b'-')
                && run.seps_are(s, e, sep)
                && run.len(s) == 4
                && (s..e).all(|k| (3..=6).contains(&run.len(k)));
            if !grouped {
                continue;
            }
        }
        let span = run.span(s, e);
        let prefix6 = span
            .iter()
            .filter(|b| b.is_ascii_digit())
            .take(6)
            .fold(0u32, |a, b| a * 10 + u32::from(b - b'0'));
        if card_issuer(prefix6, digits) && luhn(span) {
            return Some(e);
        }
    }
    None
}
