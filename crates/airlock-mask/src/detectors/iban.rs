//! IBANs: country code, two check digits, the country's BBAN length,
//! compact or printed in groups of four; confirmed by mod-97.

use super::{Builtin, Sink, word_at};
use crate::validate::{iban_length, iban_mod97};

static IBAN_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_uppercase() || c.is_ascii_digit();
        b += 1;
    }
    t
};

fn iban_char(b: u8) -> bool {
    IBAN_CHAR[usize::from(b)]
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
    let mut j = i;
    // Groups of four, each followed by a single space while the groups
    // are spaced, then the rest without spaces: read a group at a time.
    let mut spaced = true;
    while n < len {
        let take = (len - n).min(4);
        let group = hay.get(j..j + take)?;
        if !group.iter().all(|b| iban_char(*b)) {
            return None;
        }
        compact.get_mut(n..n + take)?.copy_from_slice(group);
        n += take;
        j += take;
        if n < len {
            if spaced
                && take == 4
                && hay.get(j) == Some(&b' ')
                && hay.get(j + 1).is_some_and(|c| iban_char(*c))
            {
                j += 1;
            } else {
                spaced = false;
            }
        }
    }
    if word_at(hay, j) || !iban_mod97(&compact[..n]) {
        return None;
    }
    sink.push(Builtin::Iban, i, j);
    Some(j)
}

#[cfg(test)]
mod tests {
    use super::{at, iban_char};
    use crate::detectors::{Builtin, Hit, On, Sink, word_at};
    use crate::validate::{iban_length, iban_mod97};

    /// The byte-at-a-time reading `at` replaced.
    fn reference(hay: &[u8], i: usize) -> Option<usize> {
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
        Some(j)
    }

    /// Group-at-a-time reading against the reference, on IBANs with
    /// spaces moved, dropped, doubled, and characters changed.
    #[test]
    fn group_reading_equals_the_reference() {
        let valid = [
            "DE89 3704 0044 0532 0130 00",
            "GB82 WEST 1234 5698 7654 32",
            "FR14 2004 1010 0505 0001 3M02 606",
            "NO93 8601 1117 947",
            "BE68 5390 0754 7034",
            "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut found = 0;
        for _ in 0..100_000 {
            let mut v = valid[(next() % valid.len() as u64) as usize]
                .as_bytes()
                .to_vec();
            for _ in 0..next() % 4 {
                let k = (next() % v.len() as u64) as usize;
                match next() % 5 {
                    0 => {
                        v.remove(k);
                    }
                    1 => v.insert(k, b' '),
                    2 => v[k] = b"0123456789AZ x-"[(next() % 15) as usize],
                    _ => v.retain(|b| *b != b' ' || next() % 3 != 0),
                }
            }
            if next() % 2 == 0 {
                v.extend_from_slice(b" 12");
            }
            let mut hits: Vec<Hit> = Vec::new();
            let mut sink = Sink {
                on: On::default().with(Builtin::Iban),
                out: &mut hits,
            };
            let got = at(&mut sink, &v, 0);
            let want = reference(&v, 0);
            found += usize::from(want.is_some());
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&v));
        }
        assert!(found > 10_000, "{found}");
    }
}
