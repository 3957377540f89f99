//! IP addresses (off by default).

use std::net::Ipv6Addr;
use std::str::FromStr;

use super::digits::Run;
use super::{Builtin, Sink, is_word, word_at, word_before};

/// Four dotted groups of at most three digits, each ≤ 255.
pub(crate) fn ipv4_in_run(run: &Run<'_>, s: usize) -> Option<usize> {
    let e = s + 4;
    let ok = e <= run.n
        && run.seps_are(s, e, b'.')
        && (s..e).all(|k| (1..=3).contains(&run.len(k)) && run.value(k) <= 255)
        && run.standalone(s, e);
    ok.then_some(e)
}

static IPV6_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_hexdigit() || c == b':' || c == b'.';
        b += 1;
    }
    t
};

fn ipv6_byte(b: u8) -> bool {
    IPV6_BYTE[usize::from(b)]
}

/// Entered at `:` when `ipv6` is on: the hex-and-colon token around it,
/// confirmed by the standard library's parser (which rejects times, MAC
/// addresses and `Type::path`). Returns the token's end either way: its
/// other colons need no second look.
pub(crate) fn at_colon(sink: &mut Sink<'_>, hay: &[u8], i: usize) -> usize {
    let (end, addr) = token(hay, i);
    if let Some(start) = addr {
        sink.push(Builtin::Ipv6, start, end);
    }
    end.max(i + 1)
}

/// Where the hex-and-colon token that starts at `start` and holds the `:`
/// at `i` ends (at most 45 bytes in all, a trailing `.` not included).
pub(crate) fn token_end(hay: &[u8], i: usize, start: usize) -> usize {
    let limit = hay.len().min(start + 45);
    let mut end = hay[i..limit]
        .iter()
        .position(|b| !ipv6_byte(*b))
        .map_or(limit, |p| i + p);
    while end > i + 1 && hay[end - 1] == b'.' {
        end -= 1;
    }
    end
}

fn token(hay: &[u8], i: usize) -> (usize, Option<usize>) {
    // At most 45 bytes back from `i`, and at most 45 bytes in all.
    let lo = i.saturating_sub(45);
    // A word byte that is no hex digit right before the colon (`app:`,
    // `host:5432`): the token starts at the colon, glued to that word.
    if i > 0 && is_word(hay[i - 1]) && !ipv6_byte(hay[i - 1]) {
        return (token_end(hay, i, i), None);
    }
    let start = hay[lo..i]
        .iter()
        .rposition(|b| !ipv6_byte(*b))
        .map_or(lo, |p| lo + p + 1);
    let end = token_end(hay, i, start);
    // ISO times (`…T10:22:33`) are glued to a word: rejected before the
    // shape test.
    if word_before(hay, start) || word_at(hay, end) {
        return (end, None);
    }
    let text = &hay[start..end];
    // Cheap shape test before parsing: times and MACs have neither `::`
    // nor eight groups.
    let colons = text.iter().filter(|b| **b == b':').count();
    let shaped = colons >= 7 || text.windows(2).any(|w| w == b"::");
    let addr = shaped
        && std::str::from_utf8(text)
            .ok()
            .and_then(|t| Ipv6Addr::from_str(t).ok())
            .is_some_and(|a| !a.is_unspecified());
    (end, addr.then_some(start))
}
