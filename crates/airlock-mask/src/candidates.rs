//! Where the scan must stop: for a block of [`LANES`] positions, one bit
//! per position that may start a match, plus the byte-class masks the
//! number check needs. The tests look at the byte, the two before and the
//! one after, without table or branch, so that the compiler turns a block
//! into a few dozen vector instructions: clean text costs about one
//! instruction per byte outside the stops.

/// Positions per block.
pub(crate) const LANES: usize = 32;

/// A block's window: the two bytes before its first position, its
/// positions, the byte after its last one. Bytes outside the value read
/// as 0, which is no word byte and starts nothing.
const WINDOW: usize = LANES + 3;

/// Which stops the enabled detectors need: a disabled detector's anchors
/// are never marked, so they cost nothing.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Gates {
    /// Card, SSN, phone or IPv4: digits that start a number.
    pub(crate) numbers: bool,
    /// Digits after two uppercase letters (an IBAN's country code).
    pub(crate) iban: bool,
    pub(crate) email: bool,
    pub(crate) ipv6: bool,
    /// Generic or AWS secret: `=` and `:` after a key's last byte.
    pub(crate) secrets: bool,
    /// `+` and `(` (phone).
    pub(crate) phone: bool,
    /// Any vendor credential or JWT: their prefixes at word starts.
    pub(crate) credentials: bool,
    pub(crate) pem: bool,
    pub(crate) url: bool,
}

/// Stops and classes in one block; bit `k` is position `base + k`.
#[derive(Clone, Copy)]
pub(crate) struct Block {
    /// Digits that start a number (after a non-word byte).
    pub(crate) numbers: u32,
    /// Digits after an IBAN's country code and the punctuation anchors
    /// `@ : = + (`.
    pub(crate) anchors: u32,
    /// Where a literal of [`crate::detectors::tokens::LITERALS`] may start:
    /// a credential prefix's first two bytes at the start of a word, `--`
    /// (a PEM line) or `:/` (a URL scheme).
    pub(crate) literals: u32,
    /// Digits.
    pub(crate) digits: u32,
    /// Word bytes (`[A-Za-z0-9_]`).
    pub(crate) words: u32,
    /// Digits, and single ` `, `-` or `.` followed by a digit: the bytes a
    /// run of digit groups is made of.
    pub(crate) runs: u32,
}

#[inline(always)]
fn digit(b: u8) -> bool {
    b.wrapping_sub(b'0') < 10
}

#[inline(always)]
fn upper(b: u8) -> bool {
    b.wrapping_sub(b'A') < 26
}

#[inline(always)]
fn word(b: u8) -> bool {
    digit(b) | ((b | 0x20).wrapping_sub(b'a') < 26) | (b == b'_')
}

/// The last letter of every key the assignment detector knows (any
/// case), a closing quote or a space before the separator.
#[inline(always)]
fn key_end(b: u8) -> bool {
    let l = b | 0x20;
    (l == b'd') | (l == b'e') | (l == b't') | (l == b'n') | (l == b'y')
        || (b == b'"') | (b == b'\'') | (b == b' ')
}

/// Lane flags (0 or 0xFF) to a bitmask: one `pmovmskb` per 16 lanes.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn bits(v: &[u8; LANES]) -> u32 {
    use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_movemask_epi8};
    let (lo, hi) = v.split_at(16);
    // SAFETY: SSE2 is enabled for this build (see the `cfg`), and each
    // unaligned load reads the 16 bytes of one half of `v`.
    let (lo, hi) = unsafe {
        (
            _mm_movemask_epi8(_mm_loadu_si128(lo.as_ptr().cast::<__m128i>())),
            _mm_movemask_epi8(_mm_loadu_si128(hi.as_ptr().cast::<__m128i>())),
        )
    };
    (lo as u32 & 0xFFFF) | ((hi as u32 & 0xFFFF) << 16)
}

/// Lane flags (0 or 0xFF) to a bitmask, portably: a multiplication
/// gathers the top bit of eight bytes without carries.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn bits(v: &[u8; LANES]) -> u32 {
    v.chunks_exact(8).enumerate().fold(0, |m, (j, c)| {
        let mut lane = [0u8; 8];
        lane.copy_from_slice(c);
        let ones = u64::from_le_bytes(lane) & 0x0101_0101_0101_0101;
        m | (((ones.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32) << (8 * j))
    })
}

#[inline(always)]
fn flag(b: bool) -> u8 {
    0u8.wrapping_sub(u8::from(b))
}

/// The stops of one window. Written lane by lane over fixed-size arrays
/// so that it vectorises with baseline SSE2 or NEON, and twice as wide
/// where the scan is compiled for AVX2.
#[inline(always)]
fn stops(w: &[u8; WINDOW], g: Gates) -> Block {
    let mut starts = [0u8; LANES];
    let mut digits = [0u8; LANES];
    let mut seps = [0u8; LANES];
    let mut anchors = [0u8; LANES];
    let mut literals = [0u8; LANES];
    for k in 0..LANES {
        let (pp, p, a, b) = (w[k], w[k + 1], w[k + 2], w[k + 3]);
        let start = !word(p);
        let colon = a == b':';
        let anchor = (digit(a) & upper(p) & upper(pp) & g.iban)
            | ((a == b'@') & g.email)
            | (colon & g.ipv6)
            | (((a == b'=') | colon) & key_end(p) & g.secrets)
            | (((a == b'+') | (a == b'(')) & g.phone);
        // First two bytes of AKIA… AIza, ghp_ gho_ … github_pat_, xoxb- …
        // xapp-, sk- sk_ rk_ pk_, eyJ.
        let credential = ((a == b'A') & upper(b))
            | ((a == b'g') & ((b == b'h') | (b == b'i')))
            | ((a == b'x') & ((b == b'o') | (b == b'a')))
            | (((a == b's') | (a == b'r') | (a == b'p')) & (b == b'k'))
            | ((a == b'e') & (b == b'y'));
        let literal = (start & credential & g.credentials)
            | ((a == b'-') & (b == b'-') & g.pem)
            | (colon & (b == b'/') & g.url);
        starts[k] = flag(start);
        digits[k] = flag(digit(a));
        seps[k] = flag((a == b' ') | (a == b'-') | (a == b'.'));
        anchors[k] = flag(anchor);
        literals[k] = flag(literal);
    }
    let starts = bits(&starts);
    let digits = bits(&digits);
    // Bit k of `starts >> 1` says whether byte k is not a word byte; the
    // window's last two bytes are those at bits 31 and 32.
    let words = (!(starts >> 1) & !(1 << 31)) | (u32::from(word(w[WINDOW - 2])) << 31);
    let next_digit = (digits >> 1) | (u32::from(digit(w[WINDOW - 1])) << 31);
    Block {
        numbers: digits & starts & 0u32.wrapping_sub(u32::from(g.numbers)),
        anchors: bits(&anchors),
        literals: bits(&literals),
        digits,
        words,
        runs: digits | (bits(&seps) & next_digit),
    }
}

/// The stops at `base..base + LANES` (positions past the end have none).
/// Returns the block's actual base, which is earlier than `base` for the
/// last block of a value longer than a window: that block then ends at the
/// value's end, and positions before `base` are left out of its stops.
#[inline(always)]
pub(crate) fn block(hay: &[u8], base: usize, gates: Gates) -> (usize, Block) {
    let at = if base == 0 || base + LANES <= hay.len() {
        base
    } else {
        hay.len().saturating_sub(LANES).min(base)
    };
    let mut b = stops(&window(hay, at), gates);
    let keep = u32::try_from(base - at)
        .ok()
        .and_then(|skip| u32::MAX.checked_shl(skip))
        .unwrap_or(0);
    b.numbers &= keep;
    b.anchors &= keep;
    b.literals &= keep;
    (at, b)
}

/// The bytes at `at - 2 .. at + LANES + 1`, zero outside the value. Fixed
/// size copies for a block inside the value, the first and the last one.
#[inline(always)]
fn window(hay: &[u8], at: usize) -> [u8; WINDOW] {
    let inner = at
        .checked_sub(2)
        .and_then(|from| hay.get(from..))
        .and_then(<[u8]>::first_chunk::<WINDOW>);
    if let Some(chunk) = inner {
        return *chunk;
    }
    let mut w = [0u8; WINDOW];
    if at == 0 {
        if let Some(head) = hay.first_chunk::<{ WINDOW - 2 }>() {
            w[2..].copy_from_slice(head);
        } else {
            // Shorter than a window: the rest stays 0.
            w[2..2 + hay.len()].copy_from_slice(hay);
        }
    } else if at >= 2
        && hay.len() == at + LANES
        && let Some(tail) = hay.last_chunk::<{ WINDOW - 1 }>()
    {
        w[..WINDOW - 1].copy_from_slice(tail);
    } else {
        for (j, slot) in w.iter_mut().enumerate() {
            if let Some(b) = (at + j).checked_sub(2).and_then(|x| hay.get(x)) {
                *slot = *b;
            }
        }
    }
    w
}
