//! Passwords in URLs: `scheme://user:password@host` masks `password` only,
//! so the DSN stays readable.

use super::{Builtin, Sink, is_mask_token};

/// Longest authority we look at; longer is not a URL a person wrote.
const MAX_AUTHORITY: usize = 512;

static ENDS_AUTHORITY: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_whitespace() || matches!(c, b'/' | b'?' | b'#' | b'"' | b'\'' | b'`');
        b += 1;
    }
    t
};

fn ends_authority(b: u8) -> bool {
    ENDS_AUTHORITY[usize::from(b)]
}

/// Entered at the `:` of `://`; returns where scanning resumes.
/// The password, if any, is reported to `sink`.
pub(crate) fn at_scheme(sink: &mut Sink<'_>, hay: &[u8], i: usize) -> Option<usize> {
    if !hay[i..].starts_with(b"://") || i == 0 || !hay[i - 1].is_ascii_alphanumeric() {
        return None;
    }
    let from = i + 3;
    let limit = hay.len().min(from + MAX_AUTHORITY);
    let stop = hay[from..limit]
        .iter()
        .position(|b| ends_authority(*b))
        .map_or(limit, |k| from + k);
    // The last `@` ends the user information: hosts have none.
    let at = memchr::memrchr(b'@', &hay[from..stop]).map(|k| from + k)?;
    let colon = memchr::memchr(b':', &hay[from..at]).map(|k| from + k)?;
    let password = &hay[colon + 1..at];
    if password.is_empty() || at + 1 >= stop || is_mask_token(password) {
        return Some(at + 1);
    }
    sink.push(Builtin::PasswordInUrl, colon + 1, at);
    Some(at + 1)
}

/// Whether [`at_scheme`] finds nothing at the `://` at `gap[i]`, whatever
/// follows `gap`, for a stretch of masked output that is followed by a
/// `<masked:NAME>` label or by the value's end (see `Masker::masked`).
/// Before `gap` stands a label's `>` or the value's start: no scheme.
/// After the `://`, up to the authority's end: no `@` at all (no user
/// information), or only after a `:` that ends the gap (the password then
/// starts with the label, a mask token, and holds no `@` of the label's).
pub(crate) fn quiet_at(gap: &[u8], i: usize) -> bool {
    if i == 0 || !gap[i - 1].is_ascii_alphanumeric() {
        return true;
    }
    let rest = &gap[(i + 3).min(gap.len())..];
    let mut colon = false;
    for (k, &b) in rest.iter().enumerate() {
        if ends_authority(b) {
            return true;
        }
        match b {
            b'@' => return false,
            b':' if !colon && k + 1 == rest.len() => return true,
            b':' => colon = true,
            _ => {}
        }
    }
    false
}
