//! The bodies of command and outcome records written as JSON by hand, in
//! exactly the bytes `serde_json` writes for the `Serialize` structs in
//! `body.rs` (a property test holds them to it).
//!
//! Every audited statement costs one such body, and through serde it cost
//! about 4 900 instructions (callgrind, `write_cost`): serde_json looks up
//! every byte of every string in its escape table. Most strings here (SQL
//! text, values of a preview) hold nothing to escape; eight bytes at a
//! time tell so, and they are copied whole.

use crate::{Preview, ReviewRef};

/// A command record's body: `CommandOut` in `body.rs`, field for field.
pub(crate) struct Command<'a> {
    pub command: &'a str,
    pub params: &'a [Option<String>],
    pub verdict: &'a str,
    pub rules: &'a [String],
    pub review: Option<&'a ReviewRef>,
    pub outcome: Option<Finished<'a>>,
    /// The run's later commands (`ThenOut` in `body.rs`); empty but in
    /// the first command of a run.
    pub then: Vec<Then<'a>>,
}

/// A later command of a run: `ThenOut` in `body.rs`.
pub(crate) struct Then<'a> {
    pub id: &'a str,
    pub at: i64,
    pub command: Command<'a>,
}

/// `FinishedOut` in `body.rs`.
pub(crate) struct Finished<'a> {
    pub at: i64,
    pub duration_us: i64,
    pub rows: i64,
    pub bytes: i64,
    pub error: Option<&'a str>,
    pub preview: Option<&'a Preview>,
}

/// `OutcomeOut` in `body.rs`.
pub(crate) struct Outcome<'a> {
    pub event_id: &'a str,
    pub duration_us: i64,
    pub rows: i64,
    pub bytes: i64,
    pub error: Option<&'a str>,
    pub preview: Option<&'a Preview>,
}

pub(crate) fn command(c: &Command<'_>) -> Result<String, serde_json::Error> {
    // Room for everything but escapes: growing the string mid-way copies
    // what is written so far.
    let then_room: usize = c
        .then
        .iter()
        .map(|t| 48 + t.id.len() + room(&t.command))
        .sum();
    let mut out = String::with_capacity(room(c) + then_room);
    out.push('{');
    fields(&mut out, c)?;
    if !c.then.is_empty() {
        out.push_str(",\"then\":[");
        for (i, t) in c.then.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"id\":");
            string(&mut out, t.id);
            out.push_str(",\"at\":");
            integer(&mut out, t.at);
            out.push(',');
            fields(&mut out, &t.command)?;
            out.push('}');
        }
        out.push(']');
    }
    out.push('}');
    Ok(out)
}

fn room(c: &Command<'_>) -> usize {
    let outcome_room = c.outcome.as_ref().map_or(0, |f| {
        128 + f.error.map_or(0, str::len) + f.preview.map_or(0, preview_room)
    });
    128 + c.command.len() + outcome_room
}

/// A command's own fields, without the braces around them.
fn fields(out: &mut String, c: &Command<'_>) -> Result<(), serde_json::Error> {
    out.push_str("\"command\":");
    string(out, c.command);
    out.push_str(",\"params\":");
    array(out, c.params, |out, p| optional_string(out, p.as_deref()));
    out.push_str(",\"verdict\":");
    string(out, c.verdict);
    out.push_str(",\"rules\":");
    array(out, c.rules, |out, r| string(out, r));
    if let Some(review) = c.review {
        // Rare (only commands a review gated) and nested: serde's own.
        out.push_str(",\"review\":");
        out.push_str(&serde_json::to_string(review)?);
    }
    if let Some(f) = &c.outcome {
        out.push_str(",\"outcome\":{\"at\":");
        integer(out, f.at);
        result(out, f.duration_us, f.rows, f.bytes, f.error, f.preview);
        out.push('}');
    }
    Ok(())
}

pub(crate) fn outcome(o: &Outcome<'_>) -> String {
    let room = o.event_id.len() + o.error.map_or(0, str::len) + o.preview.map_or(0, preview_room);
    let mut out = String::with_capacity(128 + room);
    out.push_str("{\"event_id\":");
    string(&mut out, o.event_id);
    result(&mut out, o.duration_us, o.rows, o.bytes, o.error, o.preview);
    out.push('}');
    out
}

/// The fields of a finished command that both kinds of body carry, in
/// the same order, each after a comma.
fn result(
    out: &mut String,
    duration_us: i64,
    rows: i64,
    bytes: i64,
    error: Option<&str>,
    preview: Option<&Preview>,
) {
    out.push_str(",\"duration_us\":");
    integer(out, duration_us);
    out.push_str(",\"rows\":");
    integer(out, rows);
    out.push_str(",\"bytes\":");
    integer(out, bytes);
    out.push_str(",\"error\":");
    optional_string(out, error);
    out.push_str(",\"preview\":");
    optional_preview(out, preview);
}

/// About what a preview takes written out, escapes aside.
fn preview_room(p: &Preview) -> usize {
    let names: usize = p.columns.iter().map(|c| c.len() + 3).sum();
    let values: usize = p
        .rows
        .iter()
        .map(|row| {
            2 + row
                .iter()
                .map(|v| v.as_deref().map_or(4, str::len) + 3)
                .sum::<usize>()
        })
        .sum();
    48 + names + values
}

fn optional_preview(out: &mut String, preview: Option<&Preview>) {
    let Some(p) = preview else {
        out.push_str("null");
        return;
    };
    out.push_str("{\"columns\":");
    array(out, &p.columns, |out, c| string(out, c));
    out.push_str(",\"rows\":");
    array(out, &p.rows, |out, row| {
        array(out, row, |out, v| optional_string(out, v.as_deref()))
    });
    out.push_str(",\"truncated\":");
    out.push_str(if p.truncated { "true" } else { "false" });
    out.push('}');
}

fn array<T>(out: &mut String, items: &[T], mut each: impl FnMut(&mut String, &T)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
    out.push(']');
}

fn integer(out: &mut String, n: i64) {
    out.push_str(itoa::Buffer::new().format(n));
}

fn optional_string(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => string(out, s),
        None => out.push_str("null"),
    }
}

/// A JSON string, escaped as serde_json escapes: `"` and `\` with a
/// backslash, the control characters below 0x20 as `\b \t \n \f \r` or
/// `\u00xx`, everything else (DEL and all of Unicode included) as it is.
fn string(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut plain_from = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time while none of them needs escaping.
        if let Some(chunk) = bytes
            .get(i..i + 8)
            .and_then(|c| <[u8; 8]>::try_from(c).ok())
            && !needs_escape(u64::from_le_bytes(chunk))
        {
            i += 8;
            continue;
        }
        let b = bytes[i];
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0x00..=0x1f => None,
            _ => {
                i += 1;
                continue;
            }
        };
        // `i` is at an ASCII byte, so both slices end on char boundaries.
        out.push_str(&s[plain_from..i]);
        match escape {
            Some(e) => out.push_str(e),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
        }
        i += 1;
        plain_from = i;
    }
    out.push_str(&s[plain_from..]);
    out.push('"');
}

/// Whether any of the eight bytes is below 0x20, a `"` or a `\`. Bytes of
/// 0x80 and above (UTF-8 beyond ASCII) never count.
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte's high bit comes out set where the byte is zero (or below
    // `n`, for `word - n * ONES`); masking with `!word` drops bytes that
    // had it set already. Borrows can mark a byte above a true match, but
    // never when there is none, which is all this answers.
    let below = |w: u64, n: u64| w.wrapping_sub(n * ONES) & !w & HIGH;
    let zero = |w: u64| below(w, 1);
    below(word, 0x20) | zero(word ^ (b'"' as u64 * ONES)) | zero(word ^ (b'\\' as u64 * ONES)) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_string(s: &str) -> String {
        serde_json::to_string(s).unwrap()
    }

    fn ours(s: &str) -> String {
        let mut out = String::new();
        string(&mut out, s);
        out
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut cases: Vec<String> = vec![
            String::new(),
            "SELECT abalance FROM pgbench_accounts WHERE aid = 231070;".into(),
            "say \"hi\" \\ there".into(),
            "line\nbreak\r\ttab\u{8}\u{c}".into(),
            "\u{0}\u{1}\u{1f}\u{7f} é 東京 🙂".into(),
            "exactly8".into(),
            "exactly8\"".into(),
            "\"exactly8".into(),
        ];
        // Every byte value that can stand alone in a str, at every offset
        // within and around an eight-byte chunk.
        for c in (0u8..0x80).map(char::from).chain(['é', '\u{2028}', '🙂']) {
            for at in 0..17 {
                let mut s = "a".repeat(at);
                s.push(c);
                s.push_str("bcdefghijk");
                cases.push(s);
            }
        }
        for s in &cases {
            assert_eq!(ours(s), serde_string(s), "{s:?}");
        }
    }

    #[test]
    fn the_word_test_finds_each_byte_that_needs_escaping_in_any_lane() {
        for lane in 0..8 {
            for b in 0u16..=255 {
                let b = b as u8;
                let mut bytes = [b'a'; 8];
                bytes[lane] = b;
                let expected = b < 0x20 || b == b'"' || b == b'\\';
                assert_eq!(
                    needs_escape(u64::from_le_bytes(bytes)),
                    expected,
                    "byte {b:#x} in lane {lane}"
                );
            }
        }
    }
}
