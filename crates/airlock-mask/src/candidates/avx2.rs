//! The block test with AVX2: every byte of a 32-byte half is classified
//! by two nibble-indexed `vpshufb` lookups per table (a class bit holds for
//! a byte when both its high-nibble and its low-nibble entries have it),
//! the classes become bitmasks with `vpmovmskb`, and the neighbour
//! conditions (the byte before, the two before) are shifts of those
//! masks. About 100 instructions per 32 positions with the mask
//! arithmetic (callgrind), against about 155 for the portable test as
//! the compiler vectorises it for AVX2.

use std::arch::x86_64::{
    __m256i, _mm256_adds_epu8, _mm256_and_si256, _mm256_loadu_si256, _mm256_movemask_epi8,
    _mm256_set1_epi8, _mm256_shuffle_epi8, _mm256_slli_epi16, _mm256_srli_epi16,
};

use super::{Block, Gates, LANES, WINDOW};

/// A class: bit `bit` of a table holds for the bytes whose high nibble is
/// in `hi` and low nibble in `lo`.
struct Class {
    bit: u8,
    hi: &'static [u8],
    lo: &'static [u8],
}

const fn class(bit: u8, hi: &'static [u8], lo: &'static [u8]) -> Class {
    Class { bit, hi, lo }
}

const DIGITS: &[u8] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const FROM_1: &[u8] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const TO_10: &[u8] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

// Table A (anchors), on the byte itself. The top bit is the digit class
// so that `vpmovmskb` reads digits without another instruction.
const A_EMAIL: u8 = 0x01; // @
const A_IPV6: u8 = 0x02; // :
const A_PHONE: u8 = 0x04; // + (
const A_ASSIGN: u8 = 0x08; // = :
const A_SEP: u8 = 0x10; // space - .
const A_KEY: u8 = 0x20; // space " ' (a key's end, with table W's letters)
const A_DIGIT: u8 = 0x80;

// Table W (words), on the byte itself; shifted by one or two positions
// it describes the bytes before.
const W_WORD: u8 = 0x9F; // digit, letters, _
const W_UPPER: u8 = 0x18;
const W_KEY: u8 = 0x60; // d e n t y, any case

// Tables F (first byte of a literal) and S (second byte): a literal may
// start where a bit is in both F of the byte and S of the next one.
const F_CREDENTIAL: u8 = 0x3F;
const F_PEM: u8 = 0x40;
const F_URL: u8 = 0x80;

/// A table's high-nibble and low-nibble halves, each repeated for both
/// 128-bit lanes (`vpshufb` looks up within a lane).
type Pair = [[u8; 32]; 2];

/// The nibble tables for one set of enabled detectors, built once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tables {
    a: Pair,
    w: Pair,
    f: Pair,
    s: Pair,
    iban: u64,
    numbers: u64,
}

fn build(classes: &[Class]) -> Pair {
    let mut t = [[0u8; 32]; 2];
    for c in classes {
        for lane in [0, 16] {
            for &h in c.hi {
                t[0][lane + usize::from(h)] |= c.bit;
            }
            for &l in c.lo {
                t[1][lane + usize::from(l)] |= c.bit;
            }
        }
    }
    t
}

/// Keeps the bits of disabled detectors out of a table's classes.
fn gated(mut t: Pair, keep: u8) -> Pair {
    for e in &mut t[0] {
        *e &= keep;
    }
    t
}

impl Tables {
    pub(crate) fn new(g: Gates) -> Tables {
        let on = |bit: u8, when: bool| if when { bit } else { 0 };
        let a = build(&[
            class(A_EMAIL, &[4], &[0]),
            class(A_IPV6, &[3], &[10]),
            class(A_PHONE, &[2], &[8, 11]),
            class(A_ASSIGN, &[3], &[10, 13]),
            class(A_SEP, &[2], &[0, 13, 14]),
            class(A_KEY, &[2], &[0, 2, 7]),
            class(A_DIGIT, &[3], DIGITS),
        ]);
        let a_keep = !(A_EMAIL | A_IPV6 | A_PHONE | A_ASSIGN)
            | on(A_EMAIL, g.email)
            | on(A_IPV6, g.ipv6)
            | on(A_PHONE, g.phone)
            | on(A_ASSIGN, g.secrets);
        let w = build(&[
            class(0x01, &[3], DIGITS),
            class(0x02, &[6], FROM_1),         // a-o
            class(0x04, &[7], TO_10),          // p-z
            class(0x08, &[4], FROM_1),         // A-O
            class(0x10, &[5], TO_10),          // P-Z
            class(0x20, &[4, 6], &[4, 5, 14]), // D E N d e n
            class(0x40, &[5, 7], &[4, 9]),     // T Y t y
            class(0x80, &[5], &[15]),          // _
        ]);
        // Credential prefixes: A + uppercase (two classes), g + h i,
        // x + o a, p r s + k, e + y; then `--` and `:/`.
        let f = build(&[
            class(0x01, &[4], &[1]),
            class(0x02, &[4], &[1]),
            class(0x04, &[6], &[7]),
            class(0x08, &[7], &[8]),
            class(0x10, &[7], &[0, 2, 3]),
            class(0x20, &[6], &[5]),
            class(F_PEM, &[2], &[13]),
            class(F_URL, &[3], &[10]),
        ]);
        let f_keep = on(F_CREDENTIAL, g.credentials) | on(F_PEM, g.pem) | on(F_URL, g.url);
        let s = build(&[
            class(0x01, &[4], FROM_1),
            class(0x02, &[5], TO_10),
            class(0x04, &[6], &[8, 9]),
            class(0x08, &[6], &[1, 15]),
            class(0x10, &[6], &[11]),
            class(0x20, &[7], &[9]),
            class(F_PEM, &[2], &[13]),
            class(F_URL, &[2], &[15]),
        ]);
        Tables {
            a: gated(a, a_keep),
            w,
            f: gated(f, f_keep),
            s,
            iban: 0u64.wrapping_sub(u64::from(g.iban)),
            numbers: 0u64.wrapping_sub(u64::from(g.numbers)),
        }
    }

    /// A byte's class in table `t`, for the bytes around a block.
    fn scalar(t: &Pair, b: u8) -> u8 {
        t[0][usize::from(b >> 4)] & t[1][usize::from(b & 15)]
    }
}

/// One 32-byte half: the class bitmasks of its positions.
#[derive(Default)]
struct Half {
    digits: u32,
    anchors: u32,
    assign: u32,
    seps: u32,
    key_a: u32,
    words: u32,
    upper: u32,
    key_w: u32,
    credentials: u32,
    others: u32,
}

#[inline]
#[target_feature(enable = "avx2")]
fn table(t: &Pair) -> [__m256i; 2] {
    // SAFETY: each unaligned load reads the 32 bytes of one of `t`'s arrays.
    unsafe {
        [
            _mm256_loadu_si256(t[0].as_ptr().cast()),
            _mm256_loadu_si256(t[1].as_ptr().cast()),
        ]
    }
}

/// Class bits of every byte of `v` (`hi`, `lo`: its nibbles).
#[inline]
#[target_feature(enable = "avx2")]
fn lookup(t: &[__m256i; 2], hi: __m256i, lo: __m256i) -> __m256i {
    _mm256_and_si256(_mm256_shuffle_epi8(t[0], hi), _mm256_shuffle_epi8(t[1], lo))
}

/// Bit per byte: whether any of `bits` is set in it.
#[inline]
#[target_feature(enable = "avx2")]
fn any(v: __m256i, bits: u8) -> u32 {
    // Saturating 0x7F + x sets the top bit exactly when x is not 0.
    let x = _mm256_and_si256(v, _mm256_set1_epi8(bits as i8));
    _mm256_movemask_epi8(_mm256_adds_epu8(x, _mm256_set1_epi8(0x7F))) as u32
}

#[inline]
#[target_feature(enable = "avx2")]
fn nibbles(v: __m256i) -> (__m256i, __m256i) {
    let m = _mm256_set1_epi8(0x0F);
    (
        _mm256_and_si256(_mm256_srli_epi16::<4>(v), m),
        _mm256_and_si256(v, m),
    )
}

#[inline]
#[target_feature(enable = "avx2")]
fn half(t: &Tables, w: &[u8; WINDOW], at: usize) -> Half {
    let (a, b) = match (w.get(at..at + 32), w.get(at + 1..at + 33)) {
        // SAFETY: each unaligned load reads the 32 bytes of its slice.
        (Some(a), Some(b)) => unsafe {
            (
                _mm256_loadu_si256(a.as_ptr().cast()),
                _mm256_loadu_si256(b.as_ptr().cast()),
            )
        },
        // `at` is 2 or 34 and the window is 67 bytes long.
        _ => return Half::default(),
    };
    let (ahi, alo) = nibbles(a);
    let (bhi, blo) = nibbles(b);
    let ta = lookup(&table(&t.a), ahi, alo);
    let tw = lookup(&table(&t.w), ahi, alo);
    let fs = _mm256_and_si256(
        lookup(&table(&t.f), ahi, alo),
        lookup(&table(&t.s), bhi, blo),
    );
    Half {
        digits: _mm256_movemask_epi8(ta) as u32,
        anchors: any(ta, A_EMAIL | A_IPV6 | A_PHONE),
        // Shifting 16-bit lanes left moves a byte's bit to its top bit.
        assign: _mm256_movemask_epi8(_mm256_slli_epi16::<4>(ta)) as u32,
        seps: _mm256_movemask_epi8(_mm256_slli_epi16::<3>(ta)) as u32,
        key_a: _mm256_movemask_epi8(_mm256_slli_epi16::<2>(ta)) as u32,
        words: any(tw, W_WORD),
        upper: any(tw, W_UPPER),
        key_w: any(tw, W_KEY),
        credentials: any(fs, F_CREDENTIAL),
        others: any(fs, F_PEM | F_URL),
    }
}

/// The stops of one window; the same [`Block`] as the portable test.
/// `short`: the window's bytes from `w[2 + 32]` on are all 0 (a value of
/// at most 32 bytes), so its upper half has no class and is not computed.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn stops(w: &[u8; WINDOW], t: &Tables, short: bool) -> Block {
    let l = half(t, w, 2);
    let h = if short {
        Half::default()
    } else {
        half(t, w, 2 + 32)
    };
    let join = |f: fn(&Half) -> u32| u64::from(f(&l)) | (u64::from(f(&h)) << 32);
    let digits = join(|x| x.digits);
    let words = join(|x| x.words);
    let upper = join(|x| x.upper);
    let key = join(|x| x.key_a | x.key_w);
    // The bytes before the block: 1 is the one right before it.
    let class = |b: u8| {
        let w = Tables::scalar(&t.w, b);
        let key = w & W_KEY != 0 || Tables::scalar(&t.a, b) & A_KEY != 0;
        (w & W_WORD != 0, w & W_UPPER != 0, key)
    };
    let (word1, upper1, key1) = class(w[1]);
    let (_, upper2, _) = class(w[0]);
    let starts = !((words << 1) | u64::from(word1));
    let upper_p = (upper << 1) | u64::from(upper1);
    let upper_pp = (upper << 2) | (u64::from(upper1) << 1) | u64::from(upper2);
    let key_p = (key << 1) | u64::from(key1);
    let anchors =
        join(|x| x.anchors) | (join(|x| x.assign) & key_p) | (digits & upper_p & upper_pp & t.iban);
    let top = LANES as u32 - 1;
    let after = w[WINDOW - 1];
    let next_digit = (digits >> 1) | (u64::from(after.wrapping_sub(b'0') < 10) << top);
    Block {
        numbers: digits & starts & t.numbers,
        anchors,
        literals: (join(|x| x.credentials) & starts) | join(|x| x.others),
        digits,
        words,
        runs: digits | (join(|x| x.seps) & next_digit),
    }
}
