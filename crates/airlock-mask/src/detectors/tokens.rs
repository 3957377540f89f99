//! Vendor credentials recognisable by a literal prefix at the start of a
//! word, plus the literal anchors of PEM blocks and URLs. The scan's block
//! test marks the positions where one may start; only there are the
//! literals compared, and only a literal hit runs the checks below.

use super::{Builtin, On, Sink, is_word, jwt, pem, take_while, url, word_at, word_before};

const OPENAI_LONG_PREFIXES: [&[u8]; 3] = [b"sk-proj-", b"sk-svcacct-", b"sk-admin-"];

/// Appears in the middle of every OpenAI key since 2023 (base64 of "OpenAI").
const OPENAI_MARK: &[u8] = b"T3BlbkFJ";

/// Longest token body we follow; longer runs are data, not credentials.
const MAX_BODY: usize = 512;

/// [`CLASS`] bits: token bodies are read a byte per table lookup.
const ALNUM: u8 = 1;
const URL_SAFE: u8 = 2;
const UPPER_DIGIT: u8 = 4;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() {
            t[b] |= ALNUM | URL_SAFE;
        }
        if c == b'_' || c == b'-' {
            t[b] |= URL_SAFE;
        }
        if c.is_ascii_uppercase() || c.is_ascii_digit() {
            t[b] |= UPPER_DIGIT;
        }
        b += 1;
    }
    t
};

fn alnum(b: u8) -> bool {
    CLASS[usize::from(b)] & ALNUM != 0
}

fn url_safe(b: u8) -> bool {
    CLASS[usize::from(b)] & URL_SAFE != 0
}

/// The literals that start a credential (or anchor a detector that is not
/// word-based). No literal is a prefix of another, so at most one matches
/// at a position.
pub(crate) const LITERALS: [(&str, Builtin); 30] = [
    ("AKIA", Builtin::AwsAccessKeyId),
    ("ASIA", Builtin::AwsAccessKeyId),
    ("AGPA", Builtin::AwsAccessKeyId),
    ("AIDA", Builtin::AwsAccessKeyId),
    ("AROA", Builtin::AwsAccessKeyId),
    ("ANPA", Builtin::AwsAccessKeyId),
    ("ANVA", Builtin::AwsAccessKeyId),
    ("AIPA", Builtin::AwsAccessKeyId),
    ("AIza", Builtin::GcpApiKey),
    ("ghp_", Builtin::GithubToken),
    ("gho_", Builtin::GithubToken),
    ("ghu_", Builtin::GithubToken),
    ("ghs_", Builtin::GithubToken),
    ("ghr_", Builtin::GithubToken),
    ("github_pat_", Builtin::GithubToken),
    ("xoxb-", Builtin::SlackToken),
    ("xoxp-", Builtin::SlackToken),
    ("xoxa-", Builtin::SlackToken),
    ("xoxr-", Builtin::SlackToken),
    ("xoxs-", Builtin::SlackToken),
    ("xapp-", Builtin::SlackToken),
    ("sk_live_", Builtin::StripeKey),
    ("sk_test_", Builtin::StripeKey),
    ("rk_live_", Builtin::StripeKey),
    ("rk_test_", Builtin::StripeKey),
    ("pk_live_", Builtin::StripeKey),
    ("sk-", Builtin::OpenaiApiKey),
    ("eyJ", Builtin::Jwt),
    ("-----BEGIN ", Builtin::PrivateKey),
    ("://", Builtin::PasswordInUrl),
];

/// Entered at a position the block test marked, at or after `next`;
/// returns where literal matching resumes. Literals match leftmost-first
/// without overlap, as a multi-pattern search reports them: after a
/// literal, the next one is looked for past it (or past the credential
/// it started).
pub(crate) fn at_candidate(sink: &mut Sink<'_>, hay: &[u8], i: usize, next: usize) -> usize {
    let on = sink.on;
    let Some(lit) = literal_at(&hay[i..], on) else {
        return next;
    };
    let len = LITERALS[lit].0.len();
    if LITERALS[lit].1 == Builtin::PrivateKey && dash_ended_before(hay, i, next, on) {
        return i + 1;
    }
    at_literal(sink, hay, i, lit).map_or(i + len, |end| end.max(i + len))
}

/// The enabled literal `rest` starts with. Only the literals that share
/// its first byte are compared, byte by byte (no `memcmp` call for a few
/// bytes): the slow part of a stop used to be trying all 30.
pub(crate) fn literal_at(rest: &[u8], on: On) -> Option<usize> {
    let range = match rest.first()? {
        b'A' => 0..9,
        b'g' => 9..15,
        b'x' => 15..21,
        b's' | b'r' | b'p' => 21..27,
        b'e' => 27..28,
        b'-' => 28..29,
        b':' => 29..30,
        _ => return None,
    };
    range.into_iter().find(|&k| {
        let (lit, det) = LITERALS[k];
        let lit = lit.as_bytes();
        rest.len() >= lit.len() && lit.iter().zip(rest).all(|(a, b)| a == b) && on.has(det)
    })
}

/// Whether a credential literal in the middle of a word (which the block
/// test does not mark, as it cannot match) ends with the first `-` of a
/// PEM line at `i`: found first, it would have hidden that line.
fn dash_ended_before(hay: &[u8], i: usize, next: usize, on: On) -> bool {
    LITERALS.iter().any(|(l, det)| {
        *det != Builtin::PrivateKey
            && l.ends_with('-')
            && (i + 1)
                .checked_sub(l.len())
                .is_some_and(|q| q >= next && hay[q..].starts_with(l.as_bytes()) && on.has(*det))
    })
}

/// Entered where literal `lit` (an index into [`LITERALS`]) starts at `i`;
/// returns the end of what matched.
pub(crate) fn at_literal(sink: &mut Sink<'_>, hay: &[u8], i: usize, lit: usize) -> Option<usize> {
    let det = LITERALS[lit].1;
    if !sink.on.has(det) {
        return None;
    }
    let end = match det {
        Builtin::PrivateKey => pem::at(hay, i)?,
        Builtin::PasswordInUrl => return url::at_scheme(sink, hay, i),
        // Credentials start a word: `xAKIA…` or `task-…` are not ours.
        _ if word_before(hay, i) => return None,
        Builtin::AwsAccessKeyId => aws_key_id(hay, i)?,
        Builtin::GcpApiKey => {
            let end = take_while(hay, i + 4, MAX_BODY, url_safe);
            (end - i == 39).then_some(end)?
        }
        Builtin::GithubToken => github(hay, i)?,
        Builtin::SlackToken => {
            let end = take_while(hay, i + 5, MAX_BODY, |b| alnum(b) || b == b'-');
            (end - (i + 5) >= 10 && !word_at(hay, end)).then_some(end)?
        }
        Builtin::StripeKey => {
            let end = take_while(hay, i + 8, MAX_BODY, alnum);
            (end - (i + 8) >= 16 && !word_at(hay, end)).then_some(end)?
        }
        Builtin::OpenaiApiKey => openai(hay, i)?,
        Builtin::Jwt => jwt::at(hay, i)?,
        _ => return None,
    };
    sink.push(det, i, end);
    Some(end)
}

fn aws_key_id(hay: &[u8], i: usize) -> Option<usize> {
    let end = take_while(hay, i + 4, 17, |b| CLASS[usize::from(b)] & UPPER_DIGIT != 0);
    (end - i == 20 && !word_at(hay, end)).then_some(end)
}

/// `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` + 36 alphanumerics (newer tokens
/// may be longer), or `github_pat_` + 82 of `[A-Za-z0-9_]`.
fn github(hay: &[u8], i: usize) -> Option<usize> {
    let rest = &hay[i..];
    if rest.len() >= 4 && rest.starts_with(b"gh") && b"pousr".contains(&rest[2]) && rest[3] == b'_'
    {
        let end = take_while(hay, i + 4, MAX_BODY, alnum);
        return (end - (i + 4) >= 36 && !word_at(hay, end)).then_some(end);
    }
    if rest.starts_with(b"github_pat_") {
        let end = take_while(hay, i + 11, MAX_BODY, is_word);
        return (end - (i + 11) >= 82).then_some(end);
    }
    None
}

/// `sk-proj-`, `sk-svcacct-`, `sk-admin-` + ≥ 40 url-safe characters;
/// legacy `sk-` + 48 alphanumerics; any `sk-` + ≥ 40 url-safe characters
/// carrying the OpenAI mark. Stripe's `sk_` uses an underscore, so the two
/// never meet.
fn openai(hay: &[u8], i: usize) -> Option<usize> {
    let rest = &hay[i..];
    let end = take_while(hay, i + 3, MAX_BODY, url_safe);
    if end < hay.len() && url_safe(hay[end]) {
        return None;
    }
    let token = &rest[..end - i];
    if let Some(p) = OPENAI_LONG_PREFIXES.iter().find(|p| token.starts_with(p)) {
        return (token.len() - p.len() >= 40).then_some(end);
    }
    let body = &token[3..];
    let legacy = body.len() == 48 && body.iter().all(|b| alnum(*b));
    let marked = body.len() >= 40 && memchr::memmem::find(body, OPENAI_MARK).is_some();
    (legacy || marked).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::{LITERALS, literal_at};
    use crate::detectors::On;

    /// `literal_at`'s ranges hold every literal with that first byte.
    #[test]
    fn literal_ranges_cover_all_literals() {
        let all = On(u32::MAX);
        for (k, (lit, _)) in LITERALS.iter().enumerate() {
            let text = format!("{lit}xyz");
            assert_eq!(literal_at(text.as_bytes(), all), Some(k), "{lit}");
        }
        assert_eq!(literal_at(b"ghx_", all), None);
        assert_eq!(literal_at(b"", all), None);
    }
}
