//! Where the scan must stop: for a block of [`LANES`] positions, one bit
//! per position that may start a match, plus the byte-class masks the
//! number check needs. Two implementations compute the same [`Block`]:
//! `avx2.rs` (nibble-table lookups, chosen once when the scanner is built
//! on a CPU that has AVX2) and `portable.rs` (lane-by-lane code that the
//! compiler vectorises for the baseline target).

pub(crate) mod portable;

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;

/// Positions per block: a value of up to 64 bytes is one block.
pub(crate) const LANES: usize = 64;

/// A block's window: the two bytes before its first position, its
/// positions, the byte after its last one. Bytes outside the value read
/// as 0, which is no word byte and starts nothing.
pub(crate) const WINDOW: usize = LANES + 3;

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Block {
    /// Digits that start a number (after a non-word byte).
    pub(crate) numbers: u64,
    /// Digits after an IBAN's country code and the punctuation anchors
    /// `@ : = + (`.
    pub(crate) anchors: u64,
    /// Where a literal of [`crate::detectors::tokens::LITERALS`] may start:
    /// a credential prefix's first two bytes at the start of a word, `--`
    /// (a PEM line) or `:/` (a URL scheme).
    pub(crate) literals: u64,
    /// Digits.
    pub(crate) digits: u64,
    /// Word bytes (`[A-Za-z0-9_]`).
    pub(crate) words: u64,
    /// Digits, and single ` `, `-` or `.` followed by a digit: the bytes a
    /// run of digit groups is made of.
    pub(crate) runs: u64,
}

/// The stops at `base..base + LANES` (positions past the end have none),
/// computed by `stops` from the block's window (and whether the window's
/// bytes after its first half are all 0). Returns the block's
/// actual base, which is earlier than `base` for the last block of a value
/// longer than a block: that block then ends at the value's end, and
/// positions before `base` are left out of its stops.
#[inline(always)]
pub(crate) fn block(
    hay: &[u8],
    base: usize,
    stops: impl Fn(&[u8; WINDOW], bool) -> Block,
) -> (usize, Block) {
    let at = if base == 0 || base + LANES <= hay.len() {
        base
    } else {
        hay.len().saturating_sub(LANES).min(base)
    };
    // A block inside the value is read in place; only the edges are
    // copied into a zero-padded window. One call site, so that the test
    // is inlined into the scan loop.
    let mut edge = [0u8; WINDOW];
    let w = match at
        .checked_sub(2)
        .and_then(|from| hay.get(from..))
        .and_then(<[u8]>::first_chunk::<WINDOW>)
    {
        Some(inner) => inner,
        None => {
            edge_window(&mut edge, hay, at);
            &edge
        }
    };
    // A value of at most half a block leaves the upper half of its only
    // window zero: `stops` may skip it.
    let mut b = stops(w, at == 0 && hay.len() <= LANES / 2);
    let keep = u32::try_from(base - at)
        .ok()
        .and_then(|skip| u64::MAX.checked_shl(skip))
        .unwrap_or(0);
    b.numbers &= keep & long_runs(b.runs);
    b.anchors &= keep;
    b.literals &= keep;
    (at, b)
}

/// The positions where at least 7 bytes of a digit run start (a run
/// that reaches the block's end counts as long). A number whose run is
/// shorter has at most 6 digits in at most 3 groups: no card, SSN, phone
/// or IPv4 address, and neither has any number that starts inside it, so
/// dropping those stops in bulk finds the same matches as dismissing them
/// one by one (`digits::dismiss`), for a few instructions per block.
#[inline(always)]
fn long_runs(runs: u64) -> u64 {
    // Bit k of `ahead(x, j)` is bit k + j of x, 1 past the block's end.
    let ahead = |x: u64, j: u32| (x >> j) | !(u64::MAX >> j);
    let two = runs & ahead(runs, 1);
    let four = two & ahead(two, 2);
    four & ahead(four, 3)
}

/// Fills `w` with the bytes at `at - 2 .. at + LANES + 1` of a block at
/// an edge of the value (`w` is zero, which stands for the bytes outside
/// the value). Fixed-size copies for the common cases (a whole short
/// value, the first and the last block of a long one) instead of a
/// `memcpy` call.
#[inline(always)]
fn edge_window(w: &mut [u8; WINDOW], hay: &[u8], at: usize) {
    if at == 0 {
        if let Some(head) = hay.first_chunk::<{ WINDOW - 2 }>() {
            w[2..].copy_from_slice(head);
        } else {
            place(&mut w[2..], hay);
        }
    } else if let Some(tail) = hay
        .get(at - at.min(2)..)
        .and_then(<[u8]>::first_chunk::<{ WINDOW - 1 }>)
        .filter(|_| at >= 2)
    {
        w[..WINDOW - 1].copy_from_slice(tail);
    } else {
        for (j, slot) in w.iter_mut().enumerate() {
            if let Some(b) = (at + j).checked_sub(2).and_then(|x| hay.get(x)) {
                *slot = *b;
            }
        }
    }
}

/// Copies `src` (at most [`LANES`] bytes) to the start of `dst` with two
/// overlapping fixed-size copies.
#[inline(always)]
fn place(dst: &mut [u8], src: &[u8]) {
    macro_rules! two {
        ($n:literal) => {
            if let (Some(head), Some(tail)) = (src.first_chunk::<$n>(), src.last_chunk::<$n>()) {
                let n = src.len();
                if let Some(d) = dst.first_chunk_mut::<$n>() {
                    *d = *head;
                }
                if let Some(d) = dst
                    .get_mut(n - $n..)
                    .and_then(<[u8]>::first_chunk_mut::<$n>)
                {
                    *d = *tail;
                }
                return;
            }
        };
    }
    two!(32);
    two!(16);
    two!(8);
    two!(4);
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

#[cfg(test)]
mod tests;
