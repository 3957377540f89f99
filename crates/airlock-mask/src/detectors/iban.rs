//! IBANs: country code, two check digits, the country's BBAN length,
//! compact or printed in groups of four; confirmed by mod-97.

use super::{Builtin, Sink, word_at};
use crate::validate::{iban_length, iban_mod97};

fn iban_char(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

/// Entered at an uppercase letter that starts a word.
pub(crate) fn at(sink: &mut Sink<'_>, hay: &[u8], i: usize) -> Option<usize> {
    let head = hay.get(i..i + 4)?;
    if !(head[1].is_ascii_uppercase() && head[2].is_ascii_digit() && head[3].is_ascii_digit()) {
        return None;
    }
    let len = iban_length([head[0], head[1]])?;
    let mut compact = [0u8; 34];
    let mut n = 0;
    let mut group = 0;
    let mut j = i;
    while n < len && j < hay.len() {
        let b = hay[j];
        if iban_char(b) {
            compact[n] = b;
            n += 1;
            group += 1;
        } else if b == b' ' && group == 4 && hay.get(j + 1).is_some_and(|c| iban_char(*c)) {
            group = 0;
        } else {
            break;
        }
        j += 1;
    }
    if n != len || word_at(hay, j) || !iban_mod97(&compact[..n]) {
        return None;
    }
    sink.push(Builtin::Iban, i, j);
    Some(j)
}
