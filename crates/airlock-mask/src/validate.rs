//! Checksums and structural checks shared by the built-in detectors and
//! offered to custom detectors by name.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::IgnoredAny;

/// A validator a custom detector can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Validator {
    Luhn,
    Iban,
    UsSsn,
    Jwt,
}

impl Validator {
    pub(crate) fn from_name(name: &str) -> Option<Validator> {
        match name {
            "luhn" => Some(Validator::Luhn),
            "iban" => Some(Validator::Iban),
            "us_ssn" => Some(Validator::UsSsn),
            "jwt" => Some(Validator::Jwt),
            _ => None,
        }
    }

    /// Validates a whole match; separators (space, dash) are allowed
    /// between digits where the format has them.
    pub(crate) fn check(self, m: &[u8]) -> bool {
        match self {
            Validator::Luhn => {
                let seps_only = m
                    .iter()
                    .all(|b| b.is_ascii_digit() || *b == b' ' || *b == b'-');
                seps_only && m.iter().filter(|b| b.is_ascii_digit()).count() >= 2 && luhn(m)
            }
            Validator::Iban => iban(m),
            Validator::UsSsn => {
                let mut d = [0u8; 9];
                let mut n = 0;
                for &b in m {
                    match b {
                        b'0'..=b'9' if n < 9 => {
                            d[n] = b - b'0';
                            n += 1;
                        }
                        b' ' | b'-' => {}
                        _ => return false,
                    }
                }
                let num = |r: std::ops::Range<usize>| {
                    d[r].iter().fold(0u32, |a, x| a * 10 + u32::from(*x))
                };
                n == 9
                    && m.iter().filter(|b| b.is_ascii_digit()).count() == 9
                    && us_ssn(num(0..3), num(3..5), num(5..9))
            }
            Validator::Jwt => {
                let mut parts = m.split(|b| *b == b'.');
                let header = parts.next().unwrap_or_default();
                let payload = parts.next().unwrap_or_default();
                let _signature = parts.next();
                parts.next().is_none() && !payload.is_empty() && jwt_header(header)
            }
        }
    }
}

/// Luhn over the digits of `m` (other bytes ignored).
pub(crate) fn luhn(m: &[u8]) -> bool {
    let mut sum = 0u32;
    let mut double = false;
    for &b in m.iter().rev() {
        if !b.is_ascii_digit() {
            continue;
        }
        let mut d = u32::from(b - b'0');
        if double {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        double = !double;
    }
    sum.is_multiple_of(10)
}

/// Whether a card number with this many digits and these leading digits
/// (up to six, `prefix6` right-aligned to `known` digits) belongs to an
/// issuer range. Numbers outside all ranges are order numbers and the like.
pub(crate) fn card_issuer(prefix6: u32, len: usize) -> bool {
    let p = |k: u32| prefix6 / 10u32.pow(6 - k);
    let (p1, p2, p3, p4) = (p(1), p(2), p(3), p(4));
    let len16_19 = (16..=19).contains(&len);
    match p1 {
        4 => matches!(len, 13 | 16 | 19),
        5 => match p2 {
            51..=55 => len == 16,
            50 | 56..=59 => (13..=19).contains(&len),
            _ => false,
        },
        2 => (2221..=2720).contains(&p4) && len == 16 || (2200..=2204).contains(&p4) && len16_19,
        3 => {
            (p2 == 34 || p2 == 37) && len == 15
                || (300..=305).contains(&p3) && (14..=19).contains(&len)
                || (p2 == 36 || p2 == 38 || p2 == 39) && (14..=19).contains(&len)
                || (3528..=3589).contains(&p4) && len16_19
        }
        // Discover (6011, 644-649, 65), UnionPay (62) and Maestro (6x) share
        // the 6 range; all of it is issued.
        6 => (13..=19).contains(&len),
        _ => false,
    }
}

/// SSA rules: area 001-899 except 666, group 01-99, serial 0001-9999, and
/// the numbers made famous by wallet inserts and advertising.
pub(crate) fn us_ssn(area: u32, group: u32, serial: u32) -> bool {
    let famous = (area, group, serial) == (78, 5, 1120) || (area, group, serial) == (219, 9, 9999);
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 && !famous
}

/// IBAN length per country (SWIFT registry); countries not listed are not
/// recognised, which keeps mod-97's 1-in-97 chance from matching codes.
pub(crate) fn iban_length(cc: [u8; 2]) -> Option<usize> {
    let len = match &cc {
        b"NO" => 15,
        b"BE" => 16,
        b"DK" | b"FI" | b"FO" | b"GL" | b"NL" => 18,
        b"MK" | b"SI" => 19,
        b"AT" | b"BA" | b"EE" | b"KZ" | b"LT" | b"LU" | b"XK" => 20,
        b"CH" | b"HR" | b"LI" | b"LV" => 21,
        b"BG" | b"BH" | b"CR" | b"DE" | b"GB" | b"GE" | b"IE" | b"ME" | b"RS" | b"VA" => 22,
        b"AE" | b"GI" | b"IL" | b"IQ" | b"TL" => 23,
        b"AD" | b"CZ" | b"ES" | b"MD" | b"PK" | b"RO" | b"SA" | b"SE" | b"SK" | b"TN" | b"VG" => 24,
        b"PT" | b"ST" => 25,
        b"IS" | b"TR" => 26,
        b"FR" | b"GR" | b"IT" | b"MC" | b"MR" | b"SM" => 27,
        b"AL" | b"AZ" | b"BY" | b"CY" | b"DO" | b"GT" | b"HU" | b"LB" | b"PL" | b"SV" => 28,
        b"BR" | b"EG" | b"PS" | b"QA" | b"UA" => 29,
        b"JO" | b"KW" | b"MU" => 30,
        b"MT" | b"SC" => 31,
        b"LC" => 32,
        _ => return None,
    };
    Some(len)
}

/// ISO 13616 check over a compact IBAN (no spaces): rotate the first four
/// characters to the end, read letters as 10..35, the number mod 97 is 1.
pub(crate) fn iban_mod97(compact: &[u8]) -> bool {
    if compact.len() < 5 {
        return false;
    }
    let (head, rest) = compact.split_at(4);
    mod97_feed(0, rest)
        .and_then(|acc| mod97_feed(acc, head))
        .is_some_and(|acc| acc % 97 == 1)
}

/// `acc` followed by the characters of `bytes` (digits, or letters read
/// as 10..35), reduced mod 97 only when it passes 2^50 (every dozen
/// characters or so) instead of at every character: below 2^50, one more
/// character (×100 + 35 at most) cannot overflow a u64. `None` for any
/// other byte.
fn mod97_feed(mut acc: u64, bytes: &[u8]) -> Option<u64> {
    for &b in bytes {
        acc = match b {
            b'0'..=b'9' => acc * 10 + u64::from(b - b'0'),
            b'A'..=b'Z' => acc * 100 + u64::from(b - b'A' + 10),
            _ => return None,
        };
        if acc >= 1 << 50 {
            acc %= 97;
        }
    }
    Some(acc)
}

/// A whole IBAN, compact or in groups of four separated by single spaces.
pub(crate) fn iban(m: &[u8]) -> bool {
    let mut compact = [0u8; 34];
    let mut n = 0;
    let mut group = 0;
    for (i, &b) in m.iter().enumerate() {
        if b == b' ' {
            // only between groups of four
            if group != 4 || i + 1 == m.len() || m.get(i + 1) == Some(&b' ') {
                return false;
            }
            group = 0;
            continue;
        }
        group += 1;
        if n == compact.len() || !(b.is_ascii_uppercase() || b.is_ascii_digit()) {
            return false;
        }
        compact[n] = b;
        n += 1;
    }
    n >= 5
        && compact[..2].iter().all(u8::is_ascii_uppercase)
        && compact[2..4].iter().all(u8::is_ascii_digit)
        && iban_length([compact[0], compact[1]]) == Some(n)
        && iban_mod97(&compact[..n])
}

#[derive(Deserialize)]
struct JwtHeader {
    #[serde(rename = "alg")]
    _alg: IgnoredAny,
}

/// Longest header we decode (on the stack); real headers are < 300 bytes.
const MAX_HEADER: usize = 2048;

/// A JWT header: base64url of a JSON object that has an `alg` member.
/// Decoded on the stack so that a failed candidate allocates nothing.
pub(crate) fn jwt_header(part: &[u8]) -> bool {
    if part.len() < 4 || part.len() > MAX_HEADER {
        return false;
    }
    let mut buf = [0u8; MAX_HEADER / 4 * 3 + 3];
    let Ok(n) = URL_SAFE_NO_PAD.decode_slice(part, &mut buf) else {
        return false;
    };
    let json = &buf[..n];
    let object = json.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    object && serde_json::from_slice::<JwtHeader>(json).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_known() {
        assert!(luhn(b"4111111111111111"));
        assert!(luhn(b"4111-1111-1111-1111"));
        assert!(!luhn(b"4111111111111112"));
    }

    #[test]
    fn issuers() {
        assert!(card_issuer(411111, 16));
        assert!(card_issuer(378282, 15));
        assert!(!card_issuer(378282, 16));
        assert!(card_issuer(222100, 16));
        assert!(!card_issuer(272100, 16));
        assert!(card_issuer(353011, 16));
        assert!(!card_issuer(123456, 16));
    }

    /// The deferred remainder against one taken at every character.
    #[test]
    fn mod97_equals_the_remainder_at_every_character() {
        fn reference(compact: &[u8]) -> bool {
            let (head, rest) = compact.split_at(4);
            let mut acc = 0u32;
            for &b in rest.iter().chain(head) {
                acc = match b {
                    b'0'..=b'9' => (acc * 10 + u32::from(b - b'0')) % 97,
                    b'A'..=b'Z' => (acc * 100 + u32::from(b - b'A' + 10)) % 97,
                    _ => return false,
                };
            }
            acc == 1
        }
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut ones = 0;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = 5 + (x % 30) as usize;
            let compact: Vec<u8> = (0..len)
                .map(|k| {
                    let r = (x >> (k % 8 * 8)) as u8 ^ k as u8;
                    match r % 40 {
                        0..=25 => b'A' + r % 26,
                        26..=38 => b'0' + r % 10,
                        _ => b' ',
                    }
                })
                .collect();
            let want = reference(&compact);
            ones += usize::from(want);
            assert_eq!(iban_mod97(&compact), want, "{compact:?}");
        }
        // Every 97th or so is valid: both outcomes are exercised.
        assert!(ones > 100, "{ones}");
    }

    #[test]
    fn ibans() {
        assert!(iban(b"DE89370400440532013000"));
        assert!(iban(b"DE89 3704 0044 0532 0130 00"));
        assert!(iban(b"GB82WEST12345698765432"));
        assert!(!iban(b"DE89370400440532013001"));
        assert!(!iban(b"DE89 37040044 0532 0130 00"));
        assert!(!iban(b"ZZ89370400440532013000"));
    }

    #[test]
    fn ssns() {
        assert!(us_ssn(123, 45, 6789));
        assert!(!us_ssn(0, 45, 6789));
        assert!(!us_ssn(666, 45, 6789));
        assert!(!us_ssn(900, 45, 6789));
        assert!(!us_ssn(123, 0, 6789));
        assert!(!us_ssn(123, 45, 0));
        assert!(!us_ssn(78, 5, 1120));
        assert!(Validator::UsSsn.check(b"123-45-6789"));
        assert!(!Validator::UsSsn.check(b"123-45-67890"));
    }

    #[test]
    fn jwt_headers() {
        // {"alg":"HS256","typ":"JWT"}
        assert!(jwt_header(b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"));
        // {"typ":"JWT"}
        assert!(!jwt_header(b"eyJ0eXAiOiJKV1QifQ"));
        assert!(!jwt_header(b"eyJ!!"));
    }
}
