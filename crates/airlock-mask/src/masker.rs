use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use hmac::Mac;

/// Rounds of masking the output again before a value is withheld whole.
const MAX_ROUNDS: usize = 4;

/// Longest value whose masked output is checked for being settled (see
/// [`Masker::masked`]); a longer one is scanned again.
const QUIET_MAX: usize = 256;

use crate::config::MaskerConfig;
use crate::custom::Custom;
use crate::detectors::{
    self, Builtin, Hit, On, contact, is_word, recycle_hits, spare_hits, tokens, url,
};
use crate::error::MaskError;
use crate::scan::{self, Scanner};
use crate::style::{self, KeyedHash, Style};

/// One match: detector name and byte span `start..end` in the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub detector: Arc<str>,
    pub start: usize,
    pub end: usize,
}

/// A configured set of detectors and styles. Build once, share in an
/// `Arc`, call from any thread: scanning needs no locks and no per-call
/// setup.
pub struct Masker {
    scanner: Scanner,
    /// Indexed by detector id: built-ins, then customs.
    names: Vec<Arc<str>>,
    styles: Vec<Style>,
    /// `<masked:NAME>` per detector id, rendered once: the label style is
    /// then one copy per match.
    labels: Vec<Box<[u8]>>,
    /// With their detector id; disabled customs are not kept.
    custom: Vec<(u16, Custom)>,
    mac: KeyedHash,
}

impl Masker {
    pub fn new(config: &MaskerConfig) -> Result<Masker, MaskError> {
        let custom_names: Vec<&str> = config.custom.iter().map(|c| c.name.as_str()).collect();
        let is_custom = |name: &str| custom_names.contains(&name);

        let mut on = detectors::ALL
            .iter()
            .filter(|b| b.on_by_default())
            .fold(On::default(), |on, b| on.with(*b));
        for name in &config.enable {
            match Builtin::from_name(name) {
                Some(b) => on = on.with(b),
                None if is_custom(name) => {}
                None => return Err(MaskError::UnknownDetector(name.clone())),
            }
        }
        for name in &config.disable {
            if config.enable.contains(name) {
                return Err(MaskError::EnabledAndDisabled(name.clone()));
            }
            match Builtin::from_name(name) {
                Some(b) => on = on.without(b),
                None if is_custom(name) => {}
                None => return Err(MaskError::UnknownDetector(name.clone())),
            }
        }

        let mut names: Vec<Arc<str>> = detectors::NAMES.iter().map(|n| Arc::from(*n)).collect();
        let mut custom = Vec::new();
        for def in &config.custom {
            if names.iter().any(|n| **n == *def.name) {
                return Err(MaskError::DuplicateDetector(def.name.clone()));
            }
            let built = Custom::build(def)?;
            let id = u16::try_from(names.len())
                .map_err(|_| MaskError::DuplicateDetector(def.name.clone()))?;
            names.push(Arc::from(def.name.as_str()));
            if !config.disable.contains(&def.name) {
                custom.push((id, built));
            }
        }

        let mut styles = vec![Style::Label; names.len()];
        for (name, style) in &config.styles {
            let id = names
                .iter()
                .position(|n| **n == **name)
                .ok_or_else(|| MaskError::UnknownDetector(name.clone()))?;
            styles[id] = style.clone();
        }

        let mac =
            <KeyedHash as Mac>::new_from_slice(&config.hash_key).map_err(|_| MaskError::HashKey)?;
        let labels = names
            .iter()
            .map(|name| {
                let mut out = Vec::new();
                style::render(&mut out, &Style::Label, name, false, b"", &mac);
                out.into_boxed_slice()
            })
            .collect();
        Ok(Masker {
            scanner: Scanner::new(on)?,
            names,
            styles,
            labels,
            custom,
            mac,
        })
    }

    /// Every built-in detector name, whether on by default or not.
    pub fn builtin_detectors() -> &'static [&'static str] {
        &detectors::NAMES
    }

    /// Names of the detectors this masker runs: built-ins, then customs.
    pub fn enabled_detectors(&self) -> Vec<&str> {
        let builtins = detectors::ALL
            .iter()
            .filter(|b| self.scanner.on().has(**b))
            .map(|b| detectors::NAMES[usize::from(b.id())]);
        let customs = self
            .custom
            .iter()
            .map(|(id, _)| &*self.names[usize::from(*id)]);
        builtins.chain(customs).collect()
    }

    /// Masks every match in `value`; borrowed (and nothing allocated) when
    /// there is none.
    pub fn mask_str<'a>(&self, value: &'a str) -> Cow<'a, str> {
        match self.mask_bytes(value.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(value),
            // Replacements are ASCII and built-in matches are ASCII, so this
            // only falls back when a custom byte pattern split a character.
            Cow::Owned(bytes) => Cow::Owned(
                String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        }
    }

    /// Masks every match in arbitrary bytes (invalid UTF-8 is fine).
    pub fn mask_bytes<'a>(&self, value: &'a [u8]) -> Cow<'a, [u8]> {
        let (hits, stops) = self.scan(value);
        if hits.is_empty() {
            if hits.capacity() != 0 {
                recycle_hits(hits);
            }
            return Cow::Borrowed(value);
        }
        let (mut out, mut settled) = self.masked(value, &hits, stops);
        recycle_hits(hits);
        // A replacement changes what stands next to it: the rest of a
        // digit run that a longer match had hidden can now read as a phone
        // number, a `****` can give a neighbour the word boundary it
        // lacked. Mask again until nothing is found, so that no output ever
        // holds a match of an enabled detector (the fuzzer's property).
        // `settled` says that scanning `out` again provably finds nothing
        // (see [`Masker::masked`]): the scan is then skipped.
        for _ in 0..MAX_ROUNDS {
            if settled {
                return Cow::Owned(out);
            }
            let (hits, stops) = self.scan(&out);
            if hits.is_empty() {
                if hits.capacity() != 0 {
                    recycle_hits(hits);
                }
                return Cow::Owned(out);
            }
            (out, settled) = self.masked(&out, &hits, stops);
            recycle_hits(hits);
        }
        // Never seen; should replacements keep making matches, the value
        // is withheld whole rather than passed with one in it.
        Cow::Owned(crate::style::REDACTED.as_bytes().to_vec())
    }

    /// `value` with every hit (resolved, at least one) replaced, and
    /// whether the result is settled: true only when scanning it again
    /// cannot find anything, which holds when
    ///
    /// - no custom detector runs (a pattern may match anything), and every
    ///   hit became a built-in detector's `<masked:NAME>` label, and
    /// - the stretches between the labels hold no stop whose handler can
    ///   find anything (`quiet`): no digit run of 7 bytes or more, nor one
    ///   right after two uppercase letters (see `short_run_end`); no `@`
    ///   after a local-part byte; no `+` or `(` before a digit; no `=`
    ///   that may end a key (`assign` skips spaces and a quote before it,
    ///   and every key ends in `d e t n y`) unless it starts or ends the
    ///   stretch (then the value's start, a label's `>`, stands before it,
    ///   or a label's `<` or the value's end after it, which `assign` all
    ///   rejects); no `:` but right after a word byte that is no hex digit
    ///   and ends no key (`net` rejects an address glued to a word,
    ///   `assign` the key); and no whole enabled literal of
    ///   [`tokens::LITERALS`] that its handler may accept: a credential at
    ///   a word's start, a PEM line, or a `://` whose authority may hold
    ///   user information (see `url::quiet_at`).
    ///
    /// Every match starts at a stop of the scan: an anchor byte of the
    /// byte table (digits, also the block test's numbers and IBAN digits,
    /// and `@ : = + (`) or a literal stop, whose handler finds nothing
    /// unless the whole literal is there ([`tokens::literal_at`]). The
    /// handlers look past a stretch only through a label, whose `<` and
    /// `>` end every digit run, local part, key and credential: so the
    /// stretch decides. No literal holds `<` or `>`, so one outside the
    /// labels lies inside one stretch, and none lies inside a label (the
    /// names hold none; a test checks). What is left are the anchors
    /// inside labels, which find nothing whatever surrounds them: the `:`
    /// of `<masked:` (see `scan::at_colon`) and the digit of `ipv4`/`ipv6`,
    /// which follows a lowercase letter, so it neither ends an IBAN's
    /// country code nor starts a number.
    ///
    /// `stops`, the scan's stop positions in `value` when it is one block
    /// (see [`Scanner::scan`]), narrows the stretches' check to them.
    fn masked(&self, value: &[u8], hits: &[Hit], stops: Option<u64>) -> (Vec<u8>, bool) {
        // Room for a label such as `<masked:aws_secret_access_key>`
        // per match: no reallocation while building.
        let mut out = Vec::with_capacity(value.len() + hits.len() * 32);
        let on = self.scanner.on();
        // A long value's stretches are walked byte by byte here, but its
        // re-scan runs the vectorised block test: as cheap per byte, and
        // the only way to learn anything when one stretch is not quiet.
        let mut settled = self.custom.is_empty() && value.len() <= QUIET_MAX;
        let mut at = 0;
        // Labels often stand next to each other or at the value's ends:
        // an empty stretch is quiet without a call.
        let quiet_gap = |from: usize, to: usize| {
            from == to
                || match stops {
                    Some(stops) => quiet_stops(&value[from..to], stops >> from, on),
                    None => quiet(&value[from..to], on),
                }
        };
        for h in hits {
            out.extend_from_slice(&value[at..h.start]);
            settled = settled && quiet_gap(at, h.start);
            settled &= self.render(&mut out, h, value);
            at = h.end;
        }
        out.extend_from_slice(&value[at..]);
        settled = settled && quiet_gap(at, value.len());
        (out, settled)
    }

    /// Everything the enabled detectors find, in order, not overlapping.
    pub fn findings(&self, value: &[u8]) -> Vec<Finding> {
        let hits = self.hits(value);
        let found = hits
            .iter()
            .map(|h| Finding {
                detector: Arc::clone(&self.names[usize::from(h.det)]),
                start: h.start,
                end: h.end,
            })
            .collect();
        if hits.capacity() != 0 {
            recycle_hits(hits);
        }
        found
    }

    /// The replacement for a whole value (a column rule); `label` names
    /// the rule in `Style::Label`'s `<masked:LABEL>`.
    pub fn replace_whole(&self, value: &[u8], label: &str, style: &Style) -> Vec<u8> {
        let mut out = Vec::with_capacity(label.len() + 16);
        style::render(&mut out, style, label, true, value, &self.mac);
        out
    }

    /// The resolved hits in `value`.
    fn hits(&self, value: &[u8]) -> Vec<Hit> {
        self.scan(value).0
    }

    /// The resolved hits in `value`, and the scan's stops when it is one
    /// block (see [`Scanner::scan`]). The list starts without an
    /// allocation and takes the thread's spare buffer at the first match
    /// (give it back with [`recycle_hits`]): a clean value touches neither
    /// the buffer nor the allocator, and one with matches usually
    /// allocates nothing for its hits.
    #[inline(always)]
    fn scan(&self, value: &[u8]) -> (Vec<Hit>, Option<u64>) {
        let mut hits = Vec::new();
        let stops = self.scanner.scan(value, &mut hits);
        if !self.custom.is_empty() {
            self.scan_custom(value, &mut hits);
        }
        if hits.len() > 1 {
            scan::resolve(&mut hits);
        }
        (hits, stops)
    }

    fn scan_custom(&self, value: &[u8], hits: &mut Vec<Hit>) {
        if hits.capacity() == 0 {
            *hits = spare_hits();
        }
        for (id, c) in &self.custom {
            c.scan(*id, value, hits);
        }
    }

    /// Appends `h`'s replacement; true when it is a built-in detector's
    /// `<masked:NAME>` label.
    fn render(&self, out: &mut Vec<u8>, h: &Hit, value: &[u8]) -> bool {
        let id = usize::from(h.det);
        if let (Style::Label, Some(label)) = (&self.styles[id], self.labels.get(id)) {
            out.extend_from_slice(label);
            return id < detectors::NAMES.len();
        }
        let email = h.det == Builtin::Email.id();
        style::render(
            out,
            &self.styles[id],
            &self.names[id],
            email,
            &value[h.start..h.end],
            &self.mac,
        );
        false
    }
}

/// Whether `gap`, a stretch of masked output between labels (or the
/// value's ends), holds no stop whose handler can find anything (see
/// [`Masker::masked`]).
fn quiet(gap: &[u8], on: On) -> bool {
    let mut j = 0;
    while j < gap.len() {
        let first = FIRST[usize::from(gap[j])];
        if first == 0 {
            j += 1;
            continue;
        }
        if first & DIGIT != 0 {
            // A whole digit run at once: its other digits are no stop of
            // their own that this one does not cover.
            match short_run_end(gap, j) {
                Some(end) => j = end,
                None => return false,
            }
            continue;
        }
        if !quiet_stop(gap, j, first, on) {
            return false;
        }
        j += 1;
    }
    true
}

/// [`quiet`] from the stops the scan found in the value (`stops`, bit 0
/// for `gap[0]`), for a value of one block: in the output, every byte of
/// the stretch but the first has the same bytes before it as in the
/// value, so the block test marks it there only if it did in the value
/// (a digit run cut by the label is only shorter; the last byte is
/// followed by a `<`, which completes no literal). The first byte follows
/// a label's `>` instead, so it is checked whatever its bit says. Only
/// the stops are then looked at, not every byte.
fn quiet_stops(gap: &[u8], stops: u64, on: On) -> bool {
    let Some(&head) = gap.first() else {
        return true;
    };
    let inside = u64::MAX >> (64 - gap.len().min(64));
    let mut todo = stops & inside & !1 | u64::from(FIRST[usize::from(head)] != 0);
    while todo != 0 {
        let j = todo.trailing_zeros() as usize;
        todo &= todo - 1;
        let first = FIRST[usize::from(gap[j])];
        let ok = if first & DIGIT != 0 {
            short_run_end(gap, j).is_some()
        } else {
            quiet_stop(gap, j, first, on)
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Whether the stop at `gap[j]`, no digit (`first` is its [`FIRST`]
/// entry), can find nothing.
fn quiet_stop(gap: &[u8], j: usize, first: u16, on: On) -> bool {
    // Most bytes here are letters that may start a literal (`e`, `s`,
    // `r`, `p`, …): only their pair with the next byte is tested.
    let next = gap.get(j + 1).copied().unwrap_or(0);
    (first & ANCHORS == 0 || anchor_quiet(gap, j, first, next))
        && (first & SECOND[usize::from(next)] == 0 || literal_quiet(gap, j, on))
}

/// Whether the punctuation anchor at `gap[j]` (`@ + ( = :`, whose
/// [`FIRST`] entry is `first`; `next` follows it) can find nothing.
fn anchor_quiet(gap: &[u8], j: usize, first: u16, next: u8) -> bool {
    let prev = if j > 0 { gap[j - 1] } else { 0 };
    // `contact` needs a local part before `@`: a label's `>` or the
    // value's start is none.
    if first & AT != 0 {
        return j == 0 || !contact::local(prev);
    }
    // `phone` needs a digit right after `+` or `(`; a label's `<` after
    // the gap is none.
    if first & OPENS != 0 {
        return !next.is_ascii_digit();
    }
    if first & EQUALS != 0 {
        return j == 0 || j + 1 == gap.len() || !may_end_key(prev);
    }
    // `:`
    is_word(prev) && !prev.is_ascii_hexdigit() && !may_end_key(prev)
}

/// Whether the literal that may start at `gap[j]` (its first two bytes
/// are a literal's) can find nothing.
fn literal_quiet(gap: &[u8], j: usize, on: On) -> bool {
    let credential = gap[j].is_ascii_alphabetic();
    // A credential must start a word: `at_literal` rejects it after a
    // word byte (a label's `>` is none).
    if credential && j > 0 && is_word(gap[j - 1]) {
        return true;
    }
    match tokens::literal_at(&gap[j..], on) {
        None => true,
        Some(lit) => match tokens::LITERALS[lit].1 {
            Builtin::PasswordInUrl => url::quiet_at(gap, j),
            _ => false,
        },
    }
}

/// Runs shorter than this (digits and single ` `, `-` or `.` before a
/// digit) hold no card, SSN, phone or IPv4 address: `digits::at_digit`
/// needs 9 digits, or 4 dotted groups (7 bytes), in the run from the
/// number's first digit on.
const LONG_RUN: usize = 7;

/// Where the digit run at `gap[j]` ends, when no digit in it can start a
/// match: the run is shorter than [`LONG_RUN`] (so is the run from any
/// digit inside it) and its first digit does not follow two uppercase
/// letters (an IBAN's country code). A run cannot reach past the gap: the
/// labels' `<` and `>` are no run bytes, and a gap's first two bytes
/// follow a `>` or the value's start, so the IBAN test needs only the
/// gap's bytes.
fn short_run_end(gap: &[u8], j: usize) -> Option<usize> {
    if j >= 2 && gap[j - 1].is_ascii_uppercase() && gap[j - 2].is_ascii_uppercase() {
        return None;
    }
    let mut end = j;
    loop {
        while end < gap.len() && gap[end].is_ascii_digit() {
            end += 1;
        }
        let continues = matches!(gap.get(end), Some(b' ' | b'-' | b'.'))
            && gap.get(end + 1).is_some_and(u8::is_ascii_digit);
        if !continues || end - j >= LONG_RUN {
            break;
        }
        end += 1;
    }
    (end - j < LONG_RUN).then_some(end)
}

/// Whether a key that `assign` accepts may end just before a separator
/// after `b`: it skips spaces and a quote, and every key it knows ends in
/// `d`, `e`, `t`, `n` or `y`.
fn may_end_key(b: u8) -> bool {
    matches!(b, b' ' | b'"' | b'\'')
        || matches!(b.to_ascii_lowercase(), b'd' | b'e' | b't' | b'n' | b'y')
}

/// [`FIRST`]'s bit for digits.
const DIGIT: u16 = 1 << 15;
/// [`FIRST`]'s bit for `=`.
const EQUALS: u16 = 1 << 14;
/// [`FIRST`]'s bit for `:`.
const COLON: u16 = 1 << 13;
/// [`FIRST`]'s bit for `@`.
const AT: u16 = 1 << 12;
/// [`FIRST`]'s bit for `+` and `(`, which start phone numbers.
const OPENS: u16 = 1 << 11;
/// The bits of the punctuation anchors.
const ANCHORS: u16 = EQUALS | COLON | AT | OPENS;

/// The distinct first bytes of [`tokens::LITERALS`]; bit `k` of [`FIRST`]
/// and [`SECOND`] stands for `STARTS[k]`.
const STARTS: &[u8] = b"Agxsrpe-:";

/// Per byte: its anchor bit, and the bits of the literals it starts.
static FIRST: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'0'..=b'9' => DIGIT,
            b'@' => AT,
            b'+' | b'(' => OPENS,
            b'=' => EQUALS,
            b':' => COLON,
            _ => 0,
        };
        b += 1;
    }
    let mut k = 0;
    while k < STARTS.len() {
        t[STARTS[k] as usize] |= 1 << k;
        k += 1;
    }
    t
};

/// Per byte: the bits of the first bytes it follows in a literal.
static SECOND: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut k = 0;
    while k < tokens::LITERALS.len() {
        let lit = tokens::LITERALS[k].0.as_bytes();
        let mut s = 0;
        while STARTS[s] != lit[0] {
            s += 1; // out of bounds, so a compile error, if not listed
        }
        t[lit[1] as usize] |= 1 << s;
        k += 1;
    }
    t
};

// The keyed hash state is derived from the key: never print it.
impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Masker")
            .field("enabled", &self.enabled_detectors())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{MAX_ROUNDS, Masker, quiet, quiet_stops, recycle_hits, tokens};
    use crate::config::{CustomDetector, MaskerConfig};
    use crate::detectors::{self, On};
    use crate::style::{REDACTED, Style};

    /// Masking without the shortcut: scan the output again after every
    /// round, as `mask_bytes` did before `settled`.
    fn fixed_point(m: &Masker, value: &[u8]) -> Vec<u8> {
        let (hits, stops) = m.scan(value);
        if hits.is_empty() {
            return value.to_vec();
        }
        let (mut out, _) = m.masked(value, &hits, stops);
        recycle_hits(hits);
        for _ in 0..MAX_ROUNDS {
            let (hits, stops) = m.scan(&out);
            if hits.is_empty() {
                return out;
            }
            out = m.masked(&out, &hits, stops).0;
            recycle_hits(hits);
        }
        REDACTED.as_bytes().to_vec()
    }

    /// The labels the shortcut relies on: no literal inside, and no anchor
    /// byte but the `:` of `<masked:` and digits after a lowercase letter.
    #[test]
    fn builtin_labels_hold_no_stop_that_can_match() {
        let m = Masker::new(&MaskerConfig::default()).unwrap();
        for (id, name) in detectors::NAMES.iter().enumerate() {
            let label = &m.labels[id];
            assert_eq!(**label, *format!("<masked:{name}>").as_bytes());
            for j in 0..label.len() {
                assert!(
                    tokens::literal_at(&label[j..], On(u32::MAX)).is_none(),
                    "{name}"
                );
                let b = label[j];
                let ok = match b {
                    b':' => j == 7,
                    b'0'..=b'9' => label[j - 1].is_ascii_lowercase(),
                    b'@' | b'=' | b'+' | b'(' => false,
                    _ => true,
                };
                assert!(ok, "{name}");
            }
        }
    }

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const FRAGMENTS: &[&str] = &[
        "4111 1111 1111 1111",
        "4111111111111111",
        "5500-0000-0000-0004",
        "123-45-6789",
        "123456789",
        "(555) 252-2445",
        "555-252-2445",
        "+44 20 7946 0958",
        "+1 415 555 0100",
        "jane.doe@example.com",
        "x@y.io",
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "192.168.1.10",
        "10.0.0.1",
        "::D",
        "::1",
        "fe80::1",
        "2001:db8::1",
        "password=",
        "password: ",
        "token=",
        "\"api_key\": \"",
        "AWS_SECRET_ACCESS_KEY=",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AKIAIOSFODNN7EXAMPLE",
        "AIza",
        "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
        "github_pat_",
        "xoxb-1234567890-abcdefghij",
        "sk_live_abcdefghijklmnop1234",
        "sk-",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX3NpZw",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----",
        "postgres://app:s3cret@db.internal:5432/app",
        "https://u:p@h",
        "postgres://app:",
        "://",
        "x_://h:",
        "@db.internal:5432/app",
        "mongodb://u:pw@h/x",
        "-----BEGIN ",
        "<masked:",
        "<masked:ipv4>",
        "<masked:email>",
        "<masked:x>",
        "<hash:",
        "<redacted>",
        "****",
        "ked:",
        "ed",
        "mail",
        "call",
        "ssn",
        "key",
        "IBAN",
        "DE",
        "tel:",
        "exp 12/29",
        "ZZ12",
        "(55",
        "+4",
        "on file",
        "user=bob",
        "the",
        "é",
        "\u{1F600}",
    ];

    const GLUE: &[u8] = b"  \t\n-.,:;/_()+@=<>*\"'#?&[]{}|\\abcxyzAZ";

    fn value(r: &mut Rng) -> Vec<u8> {
        let mut v = Vec::new();
        for _ in 0..1 + r.below(8) {
            match r.below(10) {
                0..=4 => v.extend_from_slice(FRAGMENTS[r.below(FRAGMENTS.len())].as_bytes()),
                5 | 6 => {
                    for _ in 0..1 + r.below(20) {
                        v.push(b"0123456789"[r.below(10)]);
                        if r.below(4) == 0 {
                            v.push(b" -."[r.below(3)]);
                        }
                    }
                }
                7 | 8 => {
                    for _ in 0..1 + r.below(3) {
                        v.push(GLUE[r.below(GLUE.len())]);
                    }
                }
                _ => v.push(r.below(256) as u8),
            }
        }
        v
    }

    fn maskers() -> Vec<Masker> {
        let all = |style: Style| -> BTreeMap<String, Style> {
            detectors::NAMES
                .iter()
                .map(|n| ((*n).to_owned(), style.clone()))
                .collect()
        };
        let mut mixed = all(Style::Label);
        mixed.insert("ipv6".into(), Style::Partial { keep: 4 });
        mixed.insert("credit_card".into(), Style::Hash);
        mixed.insert("email".into(), Style::Partial { keep: 4 });
        let mut configs = Vec::new();
        for ips in [false, true] {
            let enable: Vec<String> = if ips {
                vec!["ipv4".into(), "ipv6".into()]
            } else {
                Vec::new()
            };
            for styles in [
                all(Style::Label),
                all(Style::Redact),
                all(Style::Partial { keep: 4 }),
                all(Style::Hash),
                mixed.clone(),
            ] {
                configs.push(MaskerConfig {
                    enable: enable.clone(),
                    styles,
                    ..MaskerConfig::default()
                });
            }
        }
        configs.push(MaskerConfig {
            enable: vec!["ipv6".into()],
            disable: vec!["generic_secret".into(), "phone".into()],
            ..MaskerConfig::default()
        });
        configs.push(MaskerConfig {
            custom: vec![CustomDetector {
                name: "order".into(),
                pattern: r"ORD-\d{4}".into(),
                validator: None,
            }],
            ..MaskerConfig::default()
        });
        configs.iter().map(|c| Masker::new(c).unwrap()).collect()
    }

    /// The shortcut against the full fixed point, on values built from PII
    /// fragments, digit runs, separators and glue: a settled round must
    /// scan clean, and `mask_bytes` must equal the fixed point everywhere.
    #[test]
    fn settled_output_equals_the_full_fixed_point() {
        // 200 000 values in release builds (`cargo test --release`).
        let n = if cfg!(debug_assertions) {
            20_000
        } else {
            200_000
        };
        let maskers = maskers();
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let mut settled_rounds = 0usize;
        for _ in 0..n {
            let v = value(&mut r);
            for m in &maskers {
                let (hits, stops) = m.scan(&v);
                if !hits.is_empty() {
                    let (out, settled) = m.masked(&v, &hits, stops);
                    if settled {
                        settled_rounds += 1;
                        assert!(
                            m.hits(&out).is_empty(),
                            "settled but not clean: {:?} -> {:?}",
                            String::from_utf8_lossy(&v),
                            String::from_utf8_lossy(&out)
                        );
                    }
                }
                recycle_hits(hits);
                assert_eq!(
                    *m.mask_bytes(&v),
                    *fixed_point(m, &v),
                    "{:?}",
                    String::from_utf8_lossy(&v)
                );
            }
        }
        // The shortcut is taken often enough for the check to mean something.
        assert!(settled_rounds > n / 10, "{settled_rounds}");
    }

    /// The stretch checks on their own: a stretch they call quiet, cut
    /// anywhere out of a random value and put between labels (or at the
    /// value's ends), scans clean. `quiet_stops` is given the stops of
    /// the whole value, as `masked` is.
    #[test]
    fn quiet_stretches_scan_clean_between_labels() {
        let n = if cfg!(debug_assertions) {
            20_000
        } else {
            200_000
        };
        let config = MaskerConfig {
            enable: vec!["ipv4".into(), "ipv6".into()],
            ..MaskerConfig::default()
        };
        let m = Masker::new(&config).unwrap();
        let on = m.scanner.on();
        let labels: [&[u8]; 3] = [b"<masked:email>", b"<masked:ipv4>", b"<masked:iban>"];
        let mut r = Rng(0x2545_f491_4f6c_dd1d);
        let (mut quiet_count, mut stops_count) = (0, 0);
        for _ in 0..n {
            let v = value(&mut r);
            let (hits, stops) = m.scan(&v);
            recycle_hits(hits);
            let a = r.below(v.len() + 1);
            let b = a + r.below(v.len() - a + 1);
            let gap = &v[a..b];
            let mut out = Vec::new();
            if a > 0 {
                out.extend_from_slice(labels[r.below(3)]);
            }
            out.extend_from_slice(gap);
            if b < v.len() {
                out.extend_from_slice(labels[r.below(3)]);
            }
            let clean = || {
                let hits = m.hits(&out);
                let clean = hits.is_empty();
                recycle_hits(hits);
                clean
            };
            let show = || String::from_utf8_lossy(&out).into_owned();
            if quiet(gap, on) {
                quiet_count += 1;
                assert!(clean(), "quiet: {}", show());
            }
            if let Some(stops) = stops
                && quiet_stops(gap, stops.checked_shr(a as u32).unwrap_or(0), on)
            {
                stops_count += 1;
                assert!(clean(), "quiet_stops: {}", show());
            }
        }
        assert!(
            quiet_count > n / 4 && stops_count > n / 4,
            "{quiet_count} {stops_count}"
        );
    }

    #[test]
    fn quiet_gaps() {
        let on = On(u32::MAX);
        assert!(quiet(b"mail ", on));
        assert!(quiet(b" region eu key sk ey", on));
        assert!(quiet(b"exp 12/29", on));
        assert!(quiet(b" 12-345 x 1.2.3 ", on));
        assert!(!quiet(b" 12-345 1.2.3 ", on));
        assert!(!quiet(b"1234-567", on));
        assert!(!quiet(b"1.2.3.4", on));
        assert!(!quiet(b"12 4567 9", on));
        assert!(!quiet(b"DE89", on));
        assert!(quiet(b"D89 E 89", on));
        assert!(!quiet(b"x+1", on));
        assert!(!quiet(b"(555", on));
        assert!(quiet(b"(x +", on));
        assert!(quiet(b"@db.internal:5432/app", on));
        assert!(quiet(b"postgres://app:", on));
        assert!(quiet(b"see https://example.com/x @ y", on));
        assert!(quiet(b"x_://h:", on));
        assert!(!quiet(b"x://a@b", on));
        assert!(!quiet(b"x://a:b:", on));
        assert!(!quiet(b"x://ab", on));
        assert!(quiet(b"region xoxb", on));
        assert!(quiet(b"xeyJ", on));
        assert!(quiet(b" user=bob", on));
        assert!(quiet(b"password=", on));
        assert!(quiet(b"=x", on));
        assert!(!quiet(b"token=x", on));
        assert!(!quiet(b"key =x", on));
        assert!(quiet(b"tel:", on));
        assert!(!quiet(b"fe:", on));
        assert!(!quiet(b"token:", on));
        assert!(!quiet(b":x", on));
        assert!(quiet(b"(office) +x", on));
        assert!(!quiet(b"a@b", on));
        assert!(!quiet(b"x eyJ", on));
        assert!(!quiet(b"a://b", on));
        assert!(!quiet(b"xoxb-", on));
        assert!(!quiet(b"-----BEGIN ", on));
        assert!(quiet(b"xoxb", on));
    }
}
