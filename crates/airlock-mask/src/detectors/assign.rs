//! Secrets by the name they are assigned to: `password=…`, `token: …`,
//! `"api_key": "…"`, `AWS_SECRET_ACCESS_KEY=…`. Anchored at `=` or `:`; the
//! key before it is compared case-insensitively with `_`, `-` and `.`
//! ignored, and only the value is masked.

use super::{Builtin, Sink, is_mask_token};

/// Keys whose 40-character value is an AWS secret access key.
const AWS_KEYS: [&[u8]; 3] = [b"secretaccesskey", b"awssecretkey", b"awssecret"];

/// Key suffixes whose value is a secret (`db_password`, `auth_token`,
/// `client_secret`, `x-api-key`).
const SECRET_KEYS: [&[u8]; 8] = [
    b"password",
    b"passwd",
    b"passphrase",
    b"secret",
    b"token",
    b"apikey",
    b"secretkey",
    b"secretaccesskey",
];

/// Values that say "no secret here".
const NOT_SECRETS: [&[u8]; 7] = [
    b"true",
    b"false",
    b"null",
    b"none",
    b"nil",
    b"undefined",
    b"yes",
];

const MAX_KEY: usize = 48;
const MAX_VALUE: usize = 4096;

fn key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

fn ends_value(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b',' | b';' | b'&' | b'"' | b'\'' | b'}' | b')' | b']')
}

fn aws_secret(value: &[u8]) -> bool {
    value.len() == 40
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b'='))
}

/// Entered at `=` or `:`; returns the end of a masked value.
pub(crate) fn at_separator(sink: &mut Sink<'_>, hay: &[u8], i: usize) -> Option<usize> {
    let sep = hay[i];
    let prev = if i > 0 { hay[i - 1] } else { 0 };
    let next = hay.get(i + 1).copied().unwrap_or(0);
    if next == sep
        || (sep == b'=' && matches!(prev, b'=' | b'!' | b'<' | b'>'))
        || (sep == b':' && prev == b':')
    {
        return None;
    }
    let (aws, generic) = key_kind(hay, i)?;
    let aws = aws && sink.on.has(Builtin::AwsSecretAccessKey);
    let generic = generic && sink.on.has(Builtin::GenericSecret);
    if !aws && !generic {
        return None;
    }
    // What the value starts with is known before its end is looked for:
    // a mask token (`<masked:…>`, `****…`, masking's own output) or a
    // structure is no secret. None of these bytes ends a value, quoted or
    // not, so the value holds them whole.
    let first = value_start(hay, i + 1);
    if hay
        .get(first)
        .is_some_and(|b| matches!(b, b'{' | b'[' | b'<'))
        || hay[first.min(hay.len())..].starts_with(crate::style::PARTIAL_PREFIX.as_bytes())
    {
        return None;
    }
    let (start, end, resume) = value_span(hay, i + 1)?;
    let value = &hay[start..end];
    if value.is_empty()
        || is_mask_token(value)
        || matches!(value[0], b'{' | b'[' | b'<')
        || NOT_SECRETS.iter().any(|n| value.eq_ignore_ascii_case(n))
    {
        return None;
    }
    // A sentence may end right after an unquoted key.
    let key_len = if value.len() == 41 && value.ends_with(b".") {
        40
    } else {
        value.len()
    };
    if aws && aws_secret(&value[..key_len]) {
        sink.push(Builtin::AwsSecretAccessKey, start, start + key_len);
    } else if generic {
        sink.push(Builtin::GenericSecret, start, end);
    } else {
        return None;
    }
    Some(resume)
}

/// Reads the key that ends just before the separator at `i` (skipping a
/// closing quote and spaces) and says whether it names an AWS secret and
/// whether it names a secret at all.
fn key_kind(hay: &[u8], i: usize) -> Option<(bool, bool)> {
    let mut k = i;
    while k > 0 && i - k < 4 && hay[k - 1] == b' ' {
        k -= 1;
    }
    if k > 0 && matches!(hay[k - 1], b'"' | b'\'') {
        k -= 1;
    }
    // Every key we know ends in one of these letters: most separators in
    // clean text (times, URLs, `k=v` logs) stop here.
    let last = hay.get(k.checked_sub(1)?)?.to_ascii_lowercase();
    if !matches!(last, b'd' | b'e' | b't' | b'n' | b'y') {
        return None;
    }
    // Every key we know ends in one of these pairs: `user_id=` and the
    // like stop here, before the key is read (the same test as in the
    // loop below when the two bytes are the key's last two letters).
    if let Some(b) = k.checked_sub(2).map(|j| hay[j])
        && b.is_ascii_alphanumeric()
        && !matches!(
            [b.to_ascii_lowercase(), last],
            [b'r' | b'w', b'd'] | [b's', b'e'] | [b'e', b't' | b'n' | b'y']
        )
    {
        return None;
    }
    let mut norm = [0u8; MAX_KEY];
    let mut n = 0;
    while k > 0 && key_byte(hay[k - 1]) && n < MAX_KEY {
        k -= 1;
        let b = hay[k];
        if b.is_ascii_alphanumeric() {
            n += 1;
            norm[MAX_KEY - n] = b.to_ascii_lowercase();
            // Every key we know ends in one of these pairs: `user_id=`
            // and the like stop after two bytes.
            if n == 2
                && !matches!(
                    &norm[MAX_KEY - 2..],
                    b"rd" | b"wd" | b"se" | b"et" | b"en" | b"ey"
                )
            {
                return None;
            }
        }
    }
    let key = &norm[MAX_KEY - n..];
    let aws = AWS_KEYS.iter().any(|s| key.ends_with(s));
    let generic = SECRET_KEYS.iter().any(|s| key.ends_with(s));
    (aws || generic).then_some((aws, generic))
}

/// Where [`value_span`]'s value starts (perhaps at or past the end).
fn value_start(hay: &[u8], from: usize) -> usize {
    let mut v = from;
    if hay.get(v) == Some(&b'>') {
        v += 1;
    }
    while v < hay.len() && v - from < 8 && matches!(hay[v], b' ' | b'\t') {
        v += 1;
    }
    match hay.get(v) {
        Some(b'"' | b'\'') => v + 1,
        _ => v,
    }
}

/// The value after the separator: quoted (with backslash escapes) or up to
/// the next delimiter. Returns (start, end, where scanning resumes).
fn value_span(hay: &[u8], from: usize) -> Option<(usize, usize, usize)> {
    let mut v = from;
    if hay.get(v) == Some(&b'>') {
        v += 1; // `=>`
    }
    while v < hay.len() && v - from < 8 && matches!(hay[v], b' ' | b'\t') {
        v += 1;
    }
    let q = *hay.get(v)?;
    if q == b'"' || q == b'\'' {
        let start = v + 1;
        let limit = hay.len().min(start + MAX_VALUE);
        let mut j = start;
        while j < limit {
            match hay[j] {
                b'\\' => j += 2,
                b if b == q => return Some((start, j, j + 1)),
                b'\n' => break,
                _ => j += 1,
            }
        }
        // Unterminated (a truncated value): mask up to the next delimiter.
        v = start;
    }
    let limit = hay.len().min(v + MAX_VALUE);
    let end = hay[v..limit]
        .iter()
        .position(|b| ends_value(*b))
        .map_or(limit, |k| v + k);
    Some((v, end, end))
}
