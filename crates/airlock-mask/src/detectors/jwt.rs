//! JSON Web Tokens (and five-part JWEs): `eyJ` starts the base64url of a
//! JSON object, the header, which must have an `alg` member.

use super::{take_while, word_at};
use crate::validate::jwt_header;

fn b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

const MAX_PART: usize = 16 * 1024;

/// Entered at `e` starting a word; returns the end of the token.
pub(crate) fn at(hay: &[u8], i: usize) -> Option<usize> {
    if !hay[i..].starts_with(b"eyJ") {
        return None;
    }
    let header_end = take_while(hay, i, MAX_PART, b64url);
    if hay.get(header_end) != Some(&b'.') {
        return None;
    }
    let payload_end = take_while(hay, header_end + 1, MAX_PART, b64url);
    if payload_end - header_end < 3 || hay.get(payload_end) != Some(&b'.') {
        return None;
    }
    // The signature may be empty (`alg: none`).
    let mut end = take_while(hay, payload_end + 1, MAX_PART, b64url);
    let mut parts = 3;
    while parts < 5 && hay.get(end) == Some(&b'.') && hay.get(end + 1).is_some_and(|b| b64url(*b)) {
        end = take_while(hay, end + 1, MAX_PART, b64url);
        parts += 1;
    }
    if word_at(hay, end) || !jwt_header(&hay[i..header_end]) {
        return None;
    }
    Some(end)
}
