//! Phone numbers, deliberately conservative: international numbers need
//! their `+`, national ones the North American 3-3-4 grouping (optionally
//! with a leading 1 or a parenthesised area code). Bare digit runs, dates,
//! times, versions and amounts have other shapes and stay unmatched.

use super::digits::Run;
use super::{Builtin, Sink, is_word, word_before};

const SEPS: [u8; 3] = [b' ', b'-', b'.'];

/// `555-123-4567`, `555.123.4567`, `555 123 4567`, `1-555-123-4567`.
pub(crate) fn in_run(run: &Run<'_>, s: usize) -> Option<usize> {
    let (e, area) = if run.len(s) == 1 && run.span(s, s + 1) == b"1" {
        (s + 4, s + 1)
    } else {
        (s + 3, s)
    };
    if e > run.n || run.len(area) != 3 || run.len(area + 1) != 3 || run.len(area + 2) != 4 {
        return None;
    }
    let sep = run.sep[s];
    let shaped = match sep {
        b'-' | b'.' => run.seps_are(s, e, sep) && run.standalone(s, e),
        b' ' => run.seps_are(s, e, sep) && run.whole(s, e),
        _ => false,
    };
    // NANP area codes never start with 0 or 1.
    let area_ok = run.hay[run.gs[area]] >= b'2';
    (shaped && area_ok).then_some(e)
}

/// Entered at `+`: E.164, 8-15 digits with optional single separators and
/// one parenthesised group, e.g. `+44 20 7946 0958`, `+1 (555) 123-4567`.
pub(crate) fn at_plus(sink: &mut Sink<'_>, hay: &[u8], i: usize) -> usize {
    if !sink.on.has(Builtin::Phone) || word_before(hay, i) {
        return i + 1;
    }
    if !matches!(hay.get(i + 1), Some(b'1'..=b'9')) {
        return i + 1;
    }
    let mut j = i + 1;
    let mut digits = 0usize;
    let mut last = 0usize;
    let mut parens = 0;
    while j < hay.len() && digits <= 15 {
        let b = hay[j];
        if b.is_ascii_digit() {
            let g = j;
            while j < hay.len() && hay[j].is_ascii_digit() {
                j += 1;
            }
            digits += j - g;
            last = j - g;
        } else if SEPS.contains(&b) && matches!(hay.get(j + 1), Some(b'0'..=b'9' | b'(')) {
            j += 1;
        } else if b == b'(' && parens == 0 {
            let g = j + 1;
            let close = g + hay[g.min(hay.len())..]
                .iter()
                .take(5)
                .take_while(|b| b.is_ascii_digit())
                .count();
            if close == g || hay.get(close) != Some(&b')') {
                break;
            }
            parens += 1;
            digits += close - g;
            last = close - g;
            j = close + 1;
            if matches!(hay.get(j), Some(b' ' | b'-'))
                && hay.get(j + 1).is_some_and(u8::is_ascii_digit)
            {
                j += 1;
            }
        } else {
            break;
        }
    }
    let end = j;
    let ok = (8..=15).contains(&digits) && last >= 3 && !glued_after(hay, end);
    if ok {
        sink.push(Builtin::Phone, i, end);
        end
    } else {
        i + 1
    }
}

/// Entered at `(`: `(555) 123-4567`, `(555)123-4567`.
pub(crate) fn at_paren(sink: &mut Sink<'_>, hay: &[u8], i: usize) -> usize {
    if !sink.on.has(Builtin::Phone) {
        return i + 1;
    }
    let digits_at = |from: usize, n: usize| {
        hay.get(from..from + n)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let mut j = i + 1;
    if !digits_at(j, 3) || hay[j] < b'2' || hay.get(j + 3) != Some(&b')') {
        return i + 1;
    }
    j += 4;
    if hay.get(j) == Some(&b' ') {
        j += 1;
    }
    if !digits_at(j, 3) || !hay.get(j + 3).is_some_and(|b| SEPS.contains(b)) || !digits_at(j + 4, 4)
    {
        return i + 1;
    }
    let end = j + 8;
    if glued_after(hay, end) {
        return i + 1;
    }
    sink.push(Builtin::Phone, i, end);
    end
}

/// The number goes on after `end` (more digits, a decimal part, a word).
fn glued_after(hay: &[u8], end: usize) -> bool {
    match hay.get(end) {
        Some(b) if is_word(*b) => true,
        Some(b) if SEPS.contains(b) || *b == b',' => {
            hay.get(end + 1).is_some_and(u8::is_ascii_digit)
        }
        _ => false,
    }
}
