//! The block test written lane by lane over fixed-size arrays, without
//! table or branch, so that the compiler vectorises it for whatever the
//! baseline target offers (SSE2, NEON). Also the reference the AVX2 test
//! is checked against.

use super::{Block, Gates, LANES, WINDOW};

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
fn bits(v: &[u8; LANES]) -> u64 {
    use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_movemask_epi8};
    v.chunks_exact(16).enumerate().fold(0, |m, (j, c)| {
        // SAFETY: SSE2 is enabled for this build (see the `cfg`), and the
        // unaligned load reads the 16 bytes of `c`.
        let lane = unsafe { _mm_movemask_epi8(_mm_loadu_si128(c.as_ptr().cast::<__m128i>())) };
        m | (u64::from(lane as u16) << (16 * j))
    })
}

/// Lane flags (0 or 0xFF) to a bitmask, portably: a multiplication
/// gathers the top bit of eight bytes without carries.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn bits(v: &[u8; LANES]) -> u64 {
    v.chunks_exact(8).enumerate().fold(0, |m, (j, c)| {
        let mut lane = [0u8; 8];
        lane.copy_from_slice(c);
        let ones = u64::from_le_bytes(lane) & 0x0101_0101_0101_0101;
        m | ((ones.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * j))
    })
}

#[inline(always)]
fn flag(b: bool) -> u8 {
    0u8.wrapping_sub(u8::from(b))
}

/// The stops of one window.
#[inline(always)]
pub(crate) fn stops(w: &[u8; WINDOW], g: Gates) -> Block {
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
    // window's last two bytes are those at the top bit and past it.
    let top = LANES as u32 - 1;
    let words = (!(starts >> 1) & !(1 << top)) | (u64::from(word(w[WINDOW - 2])) << top);
    let next_digit = (digits >> 1) | (u64::from(digit(w[WINDOW - 1])) << top);
    Block {
        numbers: digits & starts & 0u64.wrapping_sub(u64::from(g.numbers)),
        anchors: bits(&anchors),
        literals: bits(&literals),
        digits,
        words,
        runs: digits | (bits(&seps) & next_digit),
    }
}
