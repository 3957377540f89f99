//! The built-in detectors. Each module is entered from the single scanning
//! loop in `scan.rs` at a byte that can start (or anchor) its kind of match
//! and reports the spans it confirms into a [`Sink`].

pub(crate) mod assign;
pub(crate) mod contact;
pub(crate) mod digits;
pub(crate) mod iban;
pub(crate) mod jwt;
pub(crate) mod net;
pub(crate) mod pem;
pub(crate) mod phone;
pub(crate) mod tokens;
pub(crate) mod url;

use std::cell::Cell;

/// Built-in detectors, in priority order: when two matches start at the
/// same byte and are equally long, the more specific (earlier) one names
/// the finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Builtin {
    PrivateKey,
    Jwt,
    AwsAccessKeyId,
    AwsSecretAccessKey,
    GcpApiKey,
    GithubToken,
    SlackToken,
    StripeKey,
    OpenaiApiKey,
    PasswordInUrl,
    CreditCard,
    Iban,
    UsSsn,
    Email,
    Phone,
    Ipv4,
    Ipv6,
    GenericSecret,
}

pub(crate) const COUNT: usize = 18;

pub(crate) const ALL: [Builtin; COUNT] = [
    Builtin::PrivateKey,
    Builtin::Jwt,
    Builtin::AwsAccessKeyId,
    Builtin::AwsSecretAccessKey,
    Builtin::GcpApiKey,
    Builtin::GithubToken,
    Builtin::SlackToken,
    Builtin::StripeKey,
    Builtin::OpenaiApiKey,
    Builtin::PasswordInUrl,
    Builtin::CreditCard,
    Builtin::Iban,
    Builtin::UsSsn,
    Builtin::Email,
    Builtin::Phone,
    Builtin::Ipv4,
    Builtin::Ipv6,
    Builtin::GenericSecret,
];

/// Names in the order of [`ALL`] (the index is the detector id).
pub(crate) static NAMES: [&str; COUNT] = [
    "private_key",
    "jwt",
    "aws_access_key_id",
    "aws_secret_access_key",
    "gcp_api_key",
    "github_token",
    "slack_token",
    "stripe_key",
    "openai_api_key",
    "password_in_url",
    "credit_card",
    "iban",
    "us_ssn",
    "email",
    "phone",
    "ipv4",
    "ipv6",
    "generic_secret",
];

impl Builtin {
    pub(crate) fn id(self) -> u16 {
        u16::from(self as u8)
    }

    pub(crate) fn from_name(name: &str) -> Option<Builtin> {
        NAMES.iter().position(|n| *n == name).map(|i| ALL[i])
    }

    /// IP addresses are everywhere in logs and rarely personal in a
    /// database result, so they are opt-in.
    pub(crate) fn on_by_default(self) -> bool {
        !matches!(self, Builtin::Ipv4 | Builtin::Ipv6)
    }
}

/// The set of enabled built-ins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct On(pub(crate) u32);

impl On {
    pub(crate) fn has(self, b: Builtin) -> bool {
        self.0 & (1 << (b as u32)) != 0
    }

    pub(crate) fn with(self, b: Builtin) -> On {
        On(self.0 | (1 << (b as u32)))
    }

    pub(crate) fn without(self, b: Builtin) -> On {
        On(self.0 & !(1 << (b as u32)))
    }

    pub(crate) fn any(self, bs: &[Builtin]) -> bool {
        bs.iter().any(|b| self.has(*b))
    }
}

/// One match: byte span and detector id (built-ins first, then customs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hit {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) det: u16,
}

/// Where detectors report; drops what is disabled so that detectors which
/// share a trigger need not each ask.
pub(crate) struct Sink<'o> {
    pub(crate) on: On,
    pub(crate) out: &'o mut Vec<Hit>,
}

impl Sink<'_> {
    pub(crate) fn push(&mut self, b: Builtin, start: usize, end: usize) {
        if self.on.has(b) && start < end {
            if self.out.capacity() == 0 {
                *self.out = spare_hits();
            }
            self.out.push(Hit {
                start,
                end,
                det: b.id(),
            });
        }
    }
}

thread_local! {
    static SPARE: Cell<Vec<Hit>> = const { Cell::new(Vec::new()) };
}

/// A value with more matches than this gives its hit buffer back to the
/// allocator instead of keeping it for the thread's next call.
const MAX_KEPT_HITS: usize = 1024;

/// The thread's spare hit buffer (empty), taken when a value's first
/// match is reported: a value without any touches neither the buffer nor
/// the allocator, and one with matches usually allocates nothing.
#[cold]
#[inline(never)]
pub(crate) fn spare_hits() -> Vec<Hit> {
    let mut hits = SPARE.try_with(Cell::take).unwrap_or_default();
    hits.clear();
    hits
}

/// Keeps `hits`' allocation as the thread's spare buffer for a later
/// value (see [`spare_hits`]).
#[inline(never)]
pub(crate) fn recycle_hits(hits: Vec<Hit>) {
    if hits.capacity() <= MAX_KEPT_HITS {
        // Fails only while the thread is being torn down: then the
        // buffer is simply dropped.
        let _ = SPARE.try_with(|cell| cell.set(hits));
    }
}

static WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'_';
        b += 1;
    }
    t
};

/// Bytes that continue a word: a match must not start or end inside one.
pub(crate) fn is_word(b: u8) -> bool {
    WORD[usize::from(b)]
}

pub(crate) fn word_before(hay: &[u8], i: usize) -> bool {
    i > 0 && is_word(hay[i - 1])
}

pub(crate) fn word_at(hay: &[u8], i: usize) -> bool {
    hay.get(i).is_some_and(|b| is_word(*b))
}

/// End of the run of bytes from `from` satisfying `pred`, looking at no
/// more than `max` bytes.
pub(crate) fn take_while(hay: &[u8], from: usize, max: usize, pred: impl Fn(u8) -> bool) -> usize {
    let limit = hay.len().min(from.saturating_add(max));
    let Some(run) = hay.get(from..limit) else {
        return from;
    };
    from + run.iter().position(|b| !pred(*b)).unwrap_or(run.len())
}

/// Whether a value already is one of our replacements: re-masking output
/// must find nothing, and assignment-like detectors would otherwise mask
/// their own tokens.
pub(crate) fn is_mask_token(value: &[u8]) -> bool {
    value.starts_with(b"<masked:")
        || value.starts_with(b"<hash:")
        || value.starts_with(crate::style::REDACTED.as_bytes())
        || value.starts_with(crate::style::PARTIAL_PREFIX.as_bytes())
}
