use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub(crate) type KeyedHash = Hmac<Sha256>;

/// The text of [`Style::Redact`].
pub const REDACTED: &str = "<redacted>";
/// What [`Style::Partial`] puts before the kept tail; fixed so that the
/// length of the hidden part is not revealed.
pub const PARTIAL_PREFIX: &str = "****";

const HEX: &[u8; 16] = b"0123456789abcdef";
/// How many bytes of the HMAC are shown (as twice as many hex digits).
const HASH_BYTES: usize = 8;

/// How a match (or a whole value) is replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Style {
    /// `<masked:DETECTOR>`.
    #[default]
    Label,
    /// [`REDACTED`], the same for every detector.
    Redact,
    /// [`PARTIAL_PREFIX`] then the last `keep` characters, at most half of
    /// the match so a generous `keep` never reveals a whole secret; an email
    /// keeps its domain instead: `****@example.com`.
    Partial { keep: usize },
    /// `<hash:` + the first 16 hex digits of HMAC-SHA256(key, match) + `>`:
    /// equal inputs give equal tokens (joins and counts still work), and
    /// without the key nobody can test a guess.
    Hash,
}

/// Appends the replacement of `matched` to `out`.
pub(crate) fn render(
    out: &mut Vec<u8>,
    style: &Style,
    label: &str,
    email: bool,
    matched: &[u8],
    mac: &KeyedHash,
) {
    match style {
        Style::Label => {
            out.extend_from_slice(b"<masked:");
            push_label(out, label);
            out.push(b'>');
        }
        Style::Redact => out.extend_from_slice(REDACTED.as_bytes()),
        Style::Partial { keep } => {
            out.extend_from_slice(PARTIAL_PREFIX.as_bytes());
            match email.then(|| email_domain(matched)).flatten() {
                Some(domain) => out.extend_from_slice(domain),
                None => out.extend_from_slice(tail(matched, *keep)),
            }
        }
        Style::Hash => {
            let digest = mac.clone().chain_update(matched).finalize().into_bytes();
            out.extend_from_slice(b"<hash:");
            for byte in digest.iter().take(HASH_BYTES) {
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0x0f)]);
            }
            out.push(b'>');
        }
    }
}

/// Labels come from configuration (detector names, column patterns); only
/// printable ASCII other than the delimiters may pass so that the output
/// stays ASCII and the token stays one token.
fn push_label(out: &mut Vec<u8>, label: &str) {
    for &b in label.as_bytes() {
        let ok = b.is_ascii_graphic() && b != b'<' && b != b'>';
        out.push(if ok { b } else { b'_' });
    }
}

/// `@domain` of an address-looking value, `None` otherwise.
pub(crate) fn email_domain(value: &[u8]) -> Option<&[u8]> {
    let at = memchr::memrchr(b'@', value)?;
    let domain = &value[at + 1..];
    let plausible = at > 0
        && domain.contains(&b'.')
        && domain
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'-');
    plausible.then_some(&value[at..])
}

/// The last `keep` characters, never more than half of the value; on
/// invalid UTF-8 only a trailing ASCII part is kept so the output stays
/// valid.
fn tail(value: &[u8], keep: usize) -> &[u8] {
    match std::str::from_utf8(value) {
        Ok(text) => {
            let k = keep.min(text.chars().count() / 2);
            if k == 0 {
                return &[];
            }
            text.char_indices()
                .rev()
                .nth(k - 1)
                .map_or(&[][..], |(at, _)| &value[at..])
        }
        Err(_) => {
            let k = keep.min(value.len() / 2);
            let ascii = value
                .iter()
                .rev()
                .take(k)
                .take_while(|b| b.is_ascii())
                .count();
            &value[value.len() - ascii..]
        }
    }
}
