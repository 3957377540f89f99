//! Where the scan must stop: for a block of [`LANES`] positions, one bit
//! per position that may start a match. The tests look at the byte, the
//! one before and the one after, without table or branch, so that the
//! compiler turns a block into a few dozen vector instructions: clean
//! text costs well under one instruction per byte outside the stops.

/// Positions per block.
pub(crate) const LANES: usize = 32;

/// A block's window: the byte before its first position, its positions,
/// the byte after its last one. Bytes outside the value read as 0, which
/// is no word byte and starts nothing.
const WINDOW: usize = LANES + 2;

/// Stops in one block; bit `k` is position `base + k`.
#[derive(Clone, Copy)]
pub(crate) struct Block {
    /// Digits that may start a number (after a non-word byte, or after
    /// the uppercase letters of an IBAN's country code) and the punctuation
    /// anchors `@ : = + (`.
    pub(crate) anchors: u32,
    /// Where a literal of [`crate::detectors::tokens::LITERALS`] may start:
    /// a credential prefix's first two bytes at the start of a word, `--`
    /// (a PEM line) or `:/` (a URL scheme).
    pub(crate) literals: u32,
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

/// Gathers the low bit of each of eight bytes (each 0 or 1) into one byte:
/// the multiplier places byte `k`'s bit at `56 + k` without carries.
#[inline(always)]
fn pack8(v: u64) -> u32 {
    (v.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
}

#[inline(always)]
fn bits(v: &[u8; LANES]) -> u32 {
    v.chunks_exact(8).enumerate().fold(0, |m, (j, c)| {
        let mut lane = [0u8; 8];
        lane.copy_from_slice(c);
        m | (pack8(u64::from_le_bytes(lane)) << (8 * j))
    })
}

/// The stops of one window. Written lane by lane over fixed-size arrays
/// (and packed with a multiplication) so that it vectorises with baseline
/// SSE2 or NEON, and twice as wide where the scan is compiled for AVX2.
#[inline(always)]
fn stops(w: &[u8; WINDOW]) -> Block {
    let mut anchors = [0u8; LANES];
    let mut literals = [0u8; LANES];
    for k in 0..LANES {
        let (p, a, b) = (w[k], w[k + 1], w[k + 2]);
        let start = !word(p);
        let anchor = (digit(a) & (start | upper(p)))
            | (a == b'@')
            | (a == b':')
            | (a == b'=')
            | (a == b'+')
            | (a == b'(');
        // First two bytes of AKIA… AIza, ghp_ gho_ … github_pat_, xoxb- …
        // xapp-, sk- sk_ rk_ pk_, eyJ.
        let credential = ((a == b'A') & upper(b))
            | ((a == b'g') & ((b == b'h') | (b == b'i')))
            | ((a == b'x') & ((b == b'o') | (b == b'a')))
            | (((a == b's') | (a == b'r') | (a == b'p')) & (b == b'k'))
            | ((a == b'e') & (b == b'y'));
        let literal =
            (start & credential) | ((a == b'-') & (b == b'-')) | ((a == b':') & (b == b'/'));
        anchors[k] = u8::from(anchor);
        literals[k] = u8::from(literal);
    }
    Block {
        anchors: bits(&anchors),
        literals: bits(&literals),
    }
}

/// The stops at `base..base + LANES` (positions past the end have none).
/// Returns the block's actual base, which is earlier than `base` for the
/// last block of a value longer than a window: that block then ends at the
/// value's end, and positions before `base` are left out of its bits.
#[inline(always)]
pub(crate) fn block(hay: &[u8], base: usize) -> (usize, Block) {
    let mut w = [0u8; WINDOW];
    let inner = base
        .checked_sub(1)
        .and_then(|from| hay.get(from..))
        .and_then(<[u8]>::first_chunk::<WINDOW>);
    let (at, skip) = if let Some(chunk) = inner {
        w = *chunk;
        (base, 0)
    } else if let Some(head) = hay.first_chunk::<{ WINDOW - 1 }>()
        && base == 0
    {
        w[1..].copy_from_slice(head);
        (0, 0)
    } else if let Some(tail) = hay.last_chunk::<{ WINDOW - 1 }>() {
        // The window ends at the value's end (its last "next" byte stays
        // 0); positions before `base` were another block's.
        w[..WINDOW - 1].copy_from_slice(tail);
        let at = hay.len() - LANES;
        (at, base.saturating_sub(at))
    } else {
        // A value shorter than a window, scanned in one block.
        w[1..=hay.len()].copy_from_slice(hay);
        (0, 0)
    };
    let mut b = stops(&w);
    let keep = u32::MAX << skip;
    b.anchors &= keep;
    b.literals &= keep;
    (at, b)
}
