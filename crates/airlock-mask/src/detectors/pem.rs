//! PEM private keys: the whole block from `-----BEGIN … PRIVATE KEY-----`
//! to the matching END line. A block cut short (a truncated column) is
//! masked to the end of the value: a partial key is still a leak.

use memchr::memmem;

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";
const DASHES: &[u8] = b"-----";

/// Entered at `-`; returns the end of the block.
pub(crate) fn at(hay: &[u8], i: usize) -> Option<usize> {
    if !hay[i..].starts_with(BEGIN) {
        return None;
    }
    let label_start = i + BEGIN.len();
    let label_len = memmem::find(&hay[label_start..hay.len().min(label_start + 64)], DASHES)?;
    let label = &hay[label_start..label_start + label_len];
    memmem::find(label, b"PRIVATE KEY")?;
    let body = label_start + label_len + DASHES.len();
    let Some(end_at) = memmem::find(&hay[body..], END).map(|k| body + k) else {
        return Some(hay.len());
    };
    let tail = end_at + END.len();
    let end = memmem::find(&hay[tail..hay.len().min(tail + 64)], DASHES)
        .map_or(hay.len(), |k| tail + k + DASHES.len());
    Some(end)
}
