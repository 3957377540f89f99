//! Scanning one value in a single pass over blocks of positions: a
//! vectorised test per block (`candidates.rs`) marks the few positions
//! where a credential literal, a PEM or URL anchor, a number or an
//! anchoring punctuation mark may start, and only those run a detector.
//!
//! Two cursors keep the semantics of two independent passes: literals
//! are matched leftmost-first without overlap (what the literal search
//! always did), anchors skip what their last handler consumed; the two
//! never hide each other's matches (overlaps are merged by [`resolve`]).

use std::cmp::Reverse;

use crate::candidates::{self, Block, Gates, LANES, WINDOW, portable};
use crate::detectors::{Builtin, Hit, On, Sink, assign, contact, digits, net, phone, tokens};
use crate::error::MaskError;

const NONE: u8 = 0;
const DIGIT: u8 = 1;
const AT: u8 = 2;
const COLON: u8 = 3;
const EQUALS: u8 = 4;
const PLUS: u8 = 5;
const PAREN: u8 = 6;

type Table = [u8; 256];

/// Everything a [`crate::Masker`] needs to scan, built once.
#[derive(Debug)]
pub(crate) struct Scanner {
    on: On,
    table: Table,
    gates: Gates,
    /// Present when the CPU runs AVX2 (asked once, here): the block test
    /// then takes a third of the instructions.
    #[cfg(target_arch = "x86_64")]
    avx2: Option<candidates::avx2::Tables>,
}

impl Scanner {
    pub(crate) fn new(on: On) -> Result<Scanner, MaskError> {
        Ok(Scanner::with_avx2(on, true))
    }

    /// `avx2: false` forces the portable block test (tests run both).
    pub(crate) fn with_avx2(on: On, avx2: bool) -> Scanner {
        let gates = gates(on);
        #[cfg(not(target_arch = "x86_64"))]
        let _ = avx2;
        Scanner {
            on,
            table: table(on),
            gates,
            #[cfg(target_arch = "x86_64")]
            avx2: (avx2 && std::arch::is_x86_feature_detected!("avx2"))
                .then(|| candidates::avx2::Tables::new(gates)),
        }
    }

    pub(crate) fn on(&self) -> On {
        self.on
    }

    /// Appends the built-in detectors' matches in `hay` to `out`
    /// (unordered, possibly overlapping: see [`resolve`]). Returns, for a
    /// value of one block, every position the scan may stop at (bit `k`
    /// for `hay[k]`): no handler runs anywhere else.
    #[inline]
    pub(crate) fn scan(&self, hay: &[u8], out: &mut Vec<Hit>) -> Option<u64> {
        #[cfg(target_arch = "x86_64")]
        if let Some(tables) = &self.avx2 {
            // SAFETY: the tables are only built when the CPU reported AVX2.
            return unsafe { self.scan_avx2(hay, out, tables) };
        }
        self.scan_portable(hay, out)
    }

    /// [`Self::scan_blocks`] with the portable block test; kept out of
    /// line so that the caller stays small when AVX2 is there.
    #[inline(never)]
    fn scan_portable(&self, hay: &[u8], out: &mut Vec<Hit>) -> Option<u64> {
        let gates = self.gates;
        self.scan_blocks(hay, out, |w, _| portable::stops(w, gates))
    }

    /// [`Self::scan_blocks`] with the AVX2 block test.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn scan_avx2(
        &self,
        hay: &[u8],
        out: &mut Vec<Hit>,
        tables: &candidates::avx2::Tables,
    ) -> Option<u64> {
        self.scan_blocks(hay, out, |w, short| {
            candidates::avx2::stops(w, tables, short)
        })
    }

    #[inline(always)]
    fn scan_blocks(
        &self,
        hay: &[u8],
        out: &mut Vec<Hit>,
        stops: impl Fn(&[u8; WINDOW], bool) -> Block,
    ) -> Option<u64> {
        if hay.is_empty() {
            return None;
        }
        let mut sink = Sink { on: self.on, out };
        let mut cursors = Cursors {
            anchor_next: 0,
            literal_next: 0,
        };
        // The first block is peeled off the loop: a value of up to a
        // block (the common case) then runs it with its base and cursors
        // known to be 0, and without the loop's set-up.
        let (mut base, first) = self.block(&mut sink, hay, 0, &mut cursors, &stops);
        if hay.len() <= LANES {
            return Some(first);
        }
        while base < hay.len() {
            base = self.block(&mut sink, hay, base, &mut cursors, &stops).0;
        }
        None
    }

    /// Runs the stops of the block at `base`; returns the next block's
    /// base and the block's stops.
    #[inline(always)]
    fn block(
        &self,
        sink: &mut Sink<'_>,
        hay: &[u8],
        base: usize,
        cursors: &mut Cursors,
        stops: &impl Fn(&[u8; WINDOW], bool) -> Block,
    ) -> (usize, u64) {
        let ipv4 = self.on.has(Builtin::Ipv4);
        // Anchors before `anchor_next` were consumed by a handler; literal
        // matches resume at `literal_next`.
        let Cursors {
            mut anchor_next,
            mut literal_next,
        } = *cursors;
        let (at, block) = candidates::block(hay, base, stops);
        let mut anchors = (block.anchors | block.numbers) & from(anchor_next, at);
        let mut literals = block.literals & from(literal_next, at);
        while anchors | literals != 0 {
            let k = (anchors | literals).trailing_zeros();
            let bit = 1u64 << k;
            let i = at + k as usize;
            if literals & bit != 0 {
                literal_next = tokens::at_candidate(sink, hay, i, literal_next);
                literals &= !bit & from(literal_next, at);
            }
            if anchors & bit != 0 {
                anchor_next = if block.numbers & bit != 0 {
                    match digits::dismiss(&block, k, hay[i], ipv4) {
                        Some(end) => at + end as usize,
                        None => digits::at_digit(sink, hay, i),
                    }
                } else {
                    self.anchor(sink, hay, i)
                };
                anchors &= !bit & from(anchor_next, at);
            }
        }
        *cursors = Cursors {
            anchor_next,
            literal_next,
        };
        let next = (at + LANES).max(anchor_next.min(literal_next));
        (next, block.anchors | block.numbers | block.literals)
    }

    /// Runs the detector a byte-class anchor at `i` belongs to; returns
    /// where anchors resume.
    fn anchor(&self, sink: &mut Sink<'_>, hay: &[u8], i: usize) -> usize {
        let next = match self.table[usize::from(hay[i])] {
            DIGIT => digits::at_digit(sink, hay, i),
            AT => contact::at_sign(sink, hay, i),
            COLON => at_colon(sink, hay, i),
            EQUALS => assign::at_separator(sink, hay, i).unwrap_or(i + 1),
            PLUS => phone::at_plus(sink, hay, i),
            PAREN => phone::at_paren(sink, hay, i),
            _ => i + 1,
        };
        // Every handler moves forward; this keeps a mistake from looping.
        next.max(i + 1)
    }
}

/// Where the two cursors of a scan are (see [`Scanner::block`]).
#[derive(Clone, Copy)]
struct Cursors {
    anchor_next: usize,
    literal_next: usize,
}

/// Bits of a block at `at` for positions at or after `cursor`.
#[inline(always)]
fn from(cursor: usize, at: usize) -> u64 {
    match cursor.saturating_sub(at) {
        0 => u64::MAX,
        d if d >= LANES => 0,
        d => u64::MAX << d,
    }
}

/// The stops the block test marks for a set of enabled detectors.
fn gates(on: On) -> Gates {
    let secrets = on.any(&[Builtin::GenericSecret, Builtin::AwsSecretAccessKey]);
    Gates {
        numbers: on.any(&digits::USES_RUNS),
        iban: on.has(Builtin::Iban),
        email: on.has(Builtin::Email),
        ipv6: on.has(Builtin::Ipv6),
        secrets,
        phone: on.has(Builtin::Phone),
        credentials: tokens::LITERALS.iter().any(|(_, det)| {
            !matches!(det, Builtin::PrivateKey | Builtin::PasswordInUrl) && on.has(*det)
        }),
        pem: on.has(Builtin::PrivateKey),
        url: on.has(Builtin::PasswordInUrl),
    }
}

/// The byte classes for a set of enabled detectors: anchors of disabled
/// detectors stay `NONE` so that turning detectors off also saves time.
fn table(on: On) -> Table {
    let mut t = [NONE; 256];
    let mut set = |b: u8, class: u8, when: bool| {
        if when {
            t[usize::from(b)] = class;
        }
    };
    let runs = on.any(&[
        Builtin::CreditCard,
        Builtin::UsSsn,
        Builtin::Phone,
        Builtin::Ipv4,
        Builtin::Iban,
    ]);
    for d in b'0'..=b'9' {
        set(d, DIGIT, runs);
    }
    let secrets = on.any(&[Builtin::GenericSecret, Builtin::AwsSecretAccessKey]);
    set(b'@', AT, on.has(Builtin::Email));
    set(b':', COLON, secrets || on.has(Builtin::Ipv6));
    set(b'=', EQUALS, secrets);
    set(b'+', PLUS, on.has(Builtin::Phone));
    set(b'(', PAREN, on.has(Builtin::Phone));
    t
}

fn at_colon(sink: &mut Sink<'_>, hay: &[u8], i: usize) -> usize {
    let on = sink.on;
    // The colon of a `<masked:NAME>` label, in every output that masking
    // scans again: `…ed` ends no secret's key (`assign` rejects the pair
    // `ed`), and the hex run `ed` is glued to the word byte `k`, which
    // `net` rejects before its shape test. So neither finds anything, and
    // the IPv6 handler would resume at the end of the hex-and-colon run
    // from `ed`: the same result without the two calls.
    if i >= 3 && hay[i - 3..i] == *b"ked" {
        return if on.has(Builtin::Ipv6) {
            net::token_end(hay, i, i - 2)
        } else {
            i + 1
        };
    }
    if on.any(&[Builtin::GenericSecret, Builtin::AwsSecretAccessKey])
        && let Some(next) = assign::at_separator(sink, hay, i)
    {
        return next;
    }
    if on.has(Builtin::Ipv6) {
        return net::at_colon(sink, hay, i);
    }
    i + 1
}

/// Orders hits and merges overlapping ones, so that every detected byte
/// is masked exactly once; the earliest (then longest, then most specific)
/// hit names a merged span.
pub(crate) fn resolve(hits: &mut Vec<Hit>) {
    if hits.len() < 2 {
        return;
    }
    hits.sort_unstable_by_key(|h| (h.start, Reverse(h.end), h.det));
    let mut w = 0;
    for r in 0..hits.len() {
        let h = hits[r];
        if w > 0 && h.start < hits[w - 1].end {
            let last = &mut hits[w - 1];
            last.end = last.end.max(h.end);
        } else {
            hits[w] = h;
            w += 1;
        }
    }
    hits.truncate(w);
}
