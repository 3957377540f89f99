//! Email addresses, anchored at `@`: a plain local part (no quoted forms)
//! and a domain of at least two labels ending in an alphabetic TLD.

use super::{Builtin, Sink};

/// Bit 0: a local-part byte; bit 1: a domain label byte; bit 2: a byte
/// that ends the token before an address (see [`in_url_authority`]).
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-') {
            t[b] |= 1;
        }
        if c.is_ascii_alphanumeric() || c == b'-' {
            t[b] |= 2;
        }
        if c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'/') {
            t[b] |= 4;
        }
        b += 1;
    }
    t
};

/// A byte of an address's local part.
pub(crate) fn local(b: u8) -> bool {
    CLASS[usize::from(b)] & 1 != 0
}

fn label(b: u8) -> bool {
    CLASS[usize::from(b)] & 2 != 0
}

/// Entered at `@`; returns where scanning resumes.
pub(crate) fn at_sign(sink: &mut Sink<'_>, hay: &[u8], at: usize) -> usize {
    if !sink.on.has(Builtin::Email) {
        return at + 1;
    }
    // At most 65 bytes back (a 64-byte local part and the byte before).
    let window = &hay[at.saturating_sub(65)..at];
    let start = at - window.iter().rev().take_while(|b| local(**b)).count();
    let local_part = &hay[start..at];
    // `*` before the local part is a Partial replacement of ours.
    let bad_left = start > 0 && (local(hay[start - 1]) || hay[start - 1] == b'*');
    if local_part.is_empty()
        || bad_left
        || local_part[0] == b'.'
        || local_part[local_part.len() - 1] == b'.'
        || in_url_authority(hay, start)
    {
        return at + 1;
    }
    let Some(end) = domain_end(hay, at + 1) else {
        return at + 1;
    };
    sink.push(Builtin::Email, start, end);
    end
}

/// End of `label(.label)+` with an alphabetic TLD of two or more letters.
fn domain_end(hay: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    let mut labels = 0;
    let mut last_label;
    let limit = hay.len().min(from + 253);
    loop {
        let s = i;
        i += hay[s.min(limit)..limit]
            .iter()
            .take_while(|b| label(**b))
            .count();
        let l = &hay[s..i];
        if l.is_empty() || l.len() > 63 || l[0] == b'-' || l[l.len() - 1] == b'-' {
            return None;
        }
        labels += 1;
        last_label = s;
        if hay.get(i) == Some(&b'.') && hay.get(i + 1).is_some_and(|b| label(*b)) {
            i += 1;
        } else {
            break;
        }
    }
    let tld = &hay[last_label..i];
    let ok = labels >= 2
        && tld.len() >= 2
        && tld.iter().all(u8::is_ascii_alphabetic)
        && !hay.get(i).is_some_and(|b| *b == b'@' || *b == b'_');
    ok.then_some(i)
}

/// `scheme://user:pass@host` is the URL detector's; `user@host` there is
/// a login, not an address.
fn in_url_authority(hay: &[u8], start: usize) -> bool {
    let from = start.saturating_sub(512);
    let window = &hay[from..start];
    let token_start = window
        .iter()
        .rposition(|b| CLASS[usize::from(*b)] & 4 != 0)
        .map_or(0, |k| k + 1);
    // The last slash (if that is where the token starts) must be `://`.
    window[..token_start].ends_with(b"://")
}
