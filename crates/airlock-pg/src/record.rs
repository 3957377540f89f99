//! What the audit trail keeps of a command beyond its text: the values
//! bound to its parameters and the first rows of its result, both as the
//! client sent or received them, after masking.

use std::borrow::Cow;
use std::sync::Arc;

use airlock_store::Preview;

use crate::wire::{Malformed, Reader};

/// Longest parameter value kept whole; a longer one is cut, with its
/// length noted, so one bulk upload does not bloat every recording.
const MAX_PARAM_CHARS: usize = 1024;

/// What stands in for the values of a statement that names a masked
/// column: they may be exactly what the mask protects.
pub const WITHHELD: &str = "<withheld: the statement names a masked column>";

/// The values of a Bind, decoded for the record: text-format values as
/// text (run through `scrub`), binary ones as [`binary_value`] shows them,
/// NULL as `None`. A malformed value list yields what could be read: the server
/// rejects such a Bind anyway.
pub fn bind_params(
    formats: &[u8],
    count: usize,
    values: &[u8],
    scrub: impl for<'s> Fn(&'s str) -> Cow<'s, str>,
) -> Vec<Option<String>> {
    let format_of = |i: usize| -> i16 {
        let n = formats.len() / 2;
        let at = match n {
            0 => return 0,
            1 => 0,
            _ if i < n => i,
            _ => return 0,
        };
        i16::from_be_bytes([formats[2 * at], formats[2 * at + 1]])
    };
    let mut r = Reader::new(values, "Bind");
    let mut out = Vec::with_capacity(count.min(1024));
    for i in 0..count {
        let Ok(len) = r.i32() else { break };
        if len < 0 {
            out.push(None);
            continue;
        }
        let Ok(bytes) = r.take(len as usize) else {
            break;
        };
        out.push(Some(if format_of(i) == 1 {
            binary_value(bytes, &scrub)
        } else {
            cut(scrub(&String::from_utf8_lossy(bytes)))
        }));
    }
    out
}

/// A binary-format value as a recording shows it. Its type is not known
/// here, and a driver sends text in binary format as its plain bytes
/// (tokio-postgres does), so hex alone would carry a secret past the
/// masker: printable UTF-8 is shown, and scrubbed, as text; anything else
/// as `\x` and hex, unless a detector finds something in it, and then not
/// at all.
pub fn binary_value(bytes: &[u8], scrub: &impl for<'s> Fn(&'s str) -> Cow<'s, str>) -> String {
    if let Ok(text) = std::str::from_utf8(bytes)
        && !text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return cut(scrub(text));
    }
    let lossy = String::from_utf8_lossy(bytes);
    if scrub(&lossy) != lossy {
        return format!(
            "<binary value withheld: {} bytes, a detector matched in it>",
            bytes.len()
        );
    }
    hex(bytes)
}

/// `text` as recorded: whole up to `MAX_PARAM_CHARS` characters (taken
/// over as it is, with no copy when the scrub made one already).
fn cut(text: Cow<'_, str>) -> String {
    match text.char_indices().nth(MAX_PARAM_CHARS) {
        None => text.into_owned(),
        Some((at, _)) => format!("{}… ({} bytes)", &text[..at], text.len()),
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let shown = &bytes[..bytes.len().min(MAX_PARAM_CHARS / 2)];
    let mut s = String::with_capacity(2 + 2 * shown.len());
    s.push_str("\\x");
    for b in shown {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    if shown.len() < bytes.len() {
        s.push_str(&format!("… ({} bytes)", bytes.len()));
    }
    s
}

/// A previewed value as it arrived: rendered only when the preview is
/// recorded, with the masking policy at hand.
#[derive(Debug)]
enum Raw {
    Text(String),
    Binary(Vec<u8>),
}

/// Longest RowDescription [`Shapes`] keeps to compare the next one with.
const MAX_KEPT_DESCRIPTION: usize = 4096;

/// The column names and formats of the last RowDescription a session
/// previewed. A session that runs one statement shape after another gets
/// the same description each time: it shares the names and formats read
/// from the first instead of reading them into new strings every time.
#[derive(Debug, Default)]
pub struct Shapes {
    last: Option<(Vec<u8>, Shape)>,
}

/// Column names and formats, shared by the previews of one result shape.
type Shape = (Arc<[String]>, Arc<[i16]>);

impl Shapes {
    fn of(&mut self, body: &[u8]) -> Result<Shape, Malformed> {
        if let Some((seen, shape)) = &self.last
            && seen.as_slice() == body
        {
            return Ok(shape.clone());
        }
        let (names, formats) = names_and_formats(body)?;
        let shape: Shape = (names.into(), formats.into());
        self.last = (body.len() <= MAX_KEPT_DESCRIPTION).then(|| (body.to_vec(), shape.clone()));
        Ok(shape)
    }
}

/// The first rows of a command's first result, collected as they pass.
#[derive(Debug)]
pub struct PreviewBuf {
    /// The first result's columns, once its RowDescription is seen.
    shape: Option<Shape>,
    rows: Vec<Vec<Option<Raw>>>,
    truncated: bool,
    max_rows: usize,
    max_bytes: usize,
    bytes: usize,
    /// The first result is complete: later ones are not previewed.
    closed: bool,
}

impl PreviewBuf {
    pub fn new(max_rows: usize, max_bytes: usize) -> PreviewBuf {
        PreviewBuf {
            shape: None,
            rows: Vec::new(),
            truncated: false,
            max_rows,
            max_bytes,
            bytes: 0,
            closed: false,
        }
    }

    /// A RowDescription of the rows to come (only the first counts).
    pub fn describe(&mut self, body: &[u8], shapes: &mut Shapes) {
        if self.closed || self.shape.is_some() || !self.rows.is_empty() {
            return;
        }
        if let Ok(shape) = shapes.of(body) {
            self.shape = Some(shape);
        }
    }

    /// A DataRow as the client received it.
    pub fn row(&mut self, body: &[u8]) {
        if self.closed {
            return;
        }
        if self.rows.len() >= self.max_rows || self.bytes >= self.max_bytes {
            self.truncated = true;
            return;
        }
        let formats = self.shape.as_ref().map_or(&[][..], |(_, f)| f);
        let Ok(values) = row_values(body, formats) else {
            return;
        };
        let size: usize = values
            .iter()
            .flatten()
            .map(|v| match v {
                Raw::Text(t) => t.len(),
                Raw::Binary(b) => b.len(),
            })
            .sum();
        if self.bytes + size > self.max_bytes {
            self.truncated = true;
            self.bytes = self.max_bytes;
            return;
        }
        self.bytes += size;
        self.rows.push(values);
    }

    /// The first result ended (CommandComplete).
    pub fn close(&mut self) {
        self.closed = true;
    }

    /// The preview as recorded: `scrub` masks what the client may have
    /// received unmasked (a value in binary format, which only text-like
    /// types are scanned in).
    pub fn finish(self, scrub: impl for<'s> Fn(&'s str) -> Cow<'s, str>) -> Option<Preview> {
        if self
            .shape
            .as_ref()
            .is_none_or(|(names, _)| names.is_empty())
            && self.rows.is_empty()
        {
            return None;
        }
        let rows = self
            .rows
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|v| {
                        v.map(|v| match v {
                            Raw::Text(t) => t,
                            Raw::Binary(b) => binary_value(&b, &scrub),
                        })
                    })
                    .collect()
            })
            .collect();
        Some(Preview {
            columns: self.shape.map(|(names, _)| names).unwrap_or_default(),
            rows,
            truncated: self.truncated,
        })
    }
}

fn names_and_formats(body: &[u8]) -> Result<(Vec<String>, Vec<i16>), Malformed> {
    let mut r = Reader::new(body, "RowDescription");
    let count = r.i16()?.max(0) as usize;
    let mut names = Vec::with_capacity(count.min(1024));
    let mut formats = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        names.push(r.cstr()?.to_string());
        r.take(4 + 2 + 4 + 2 + 4)?;
        formats.push(r.i16()?);
    }
    Ok((names, formats))
}

fn row_values(body: &[u8], formats: &[i16]) -> Result<Vec<Option<Raw>>, Malformed> {
    let mut r = Reader::new(body, "DataRow");
    let count = r.i16()?.max(0) as usize;
    let mut values = Vec::with_capacity(count.min(1024));
    for i in 0..count {
        let len = r.i32()?;
        if len < 0 {
            values.push(None);
            continue;
        }
        let bytes = r.take(len as usize)?;
        values.push(Some(match formats.get(i) {
            Some(1) => Raw::Binary(bytes.to_vec()),
            _ => Raw::Text(String::from_utf8_lossy(bytes).into_owned()),
        }));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind_values(values: &[Option<&[u8]>]) -> Vec<u8> {
        let mut out = Vec::new();
        for v in values {
            match v {
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(b) => {
                    out.extend_from_slice(&(b.len() as i32).to_be_bytes());
                    out.extend_from_slice(b);
                }
            }
        }
        out
    }

    #[test]
    fn params_are_scrubbed_text_hex_or_null() {
        let values = bind_values(&[Some(b"bob@example.com"), None, Some(&[0xff, 0xfe])]);
        // Formats: text, text, binary.
        let formats = [0, 0, 0, 0, 0, 1];
        let got = bind_params(&formats, 3, &values, |s| s.replace("bob", "***").into());
        assert_eq!(
            got,
            vec![
                Some("***@example.com".to_string()),
                None,
                Some("\\xfffe".to_string())
            ]
        );
        // One format code applies to every parameter; text sent in binary
        // format (as tokio-postgres does) is scrubbed like text.
        let got = bind_params(&[0, 1], 1, &bind_values(&[Some(b"bob@x")]), |s| {
            s.replace("bob", "***").into()
        });
        assert_eq!(got, vec![Some("***@x".to_string())]);
        // Binary that is not text: hex, unless a detector matches in it.
        let int = 7i32.to_be_bytes();
        let got = bind_params(&[0, 1], 1, &bind_values(&[Some(&int)]), |s| s.into());
        assert_eq!(got, vec![Some("\\x00000007".to_string())]);
        let mut blob = vec![0u8, 1];
        blob.extend_from_slice(b"bob@x");
        let got = bind_params(&[0, 1], 1, &bind_values(&[Some(&blob)]), |s| {
            s.replace("bob", "***").into()
        });
        let shown = got[0].as_deref().unwrap_or_default();
        assert!(
            shown.starts_with("<binary value withheld: 7 bytes"),
            "{shown}"
        );
        // Truncated input: what could be read, no panic.
        let got = bind_params(&[], 2, &values[..6], |s| s.into());
        assert!(got.is_empty());
    }

    #[test]
    fn long_params_are_cut_with_their_length() {
        let long = "x".repeat(5000);
        let got = bind_params(&[], 1, &bind_values(&[Some(long.as_bytes())]), |s| s.into());
        let kept = got[0].as_deref().unwrap_or_default();
        assert!(kept.ends_with("… (5000 bytes)"), "{kept}");
        assert!(kept.len() < 1100);
    }

    fn row_description(names: &[&str]) -> Vec<u8> {
        let mut b = (names.len() as i16).to_be_bytes().to_vec();
        for n in names {
            b.extend_from_slice(n.as_bytes());
            b.push(0);
            b.extend_from_slice(&[0; 16]);
            b.extend_from_slice(&0i16.to_be_bytes());
        }
        b
    }

    /// A RowDescription of one column in the given format (0 text, 1 binary).
    fn one_column(name: &str, format: i16) -> Vec<u8> {
        let mut b = 1i16.to_be_bytes().to_vec();
        b.extend_from_slice(name.as_bytes());
        b.push(0);
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(&format.to_be_bytes());
        b
    }

    fn preview_of(description: &[u8], row: &[u8], shapes: &mut Shapes) -> Preview {
        let mut p = PreviewBuf::new(20, 1000);
        p.describe(description, shapes);
        p.row(row);
        p.finish(|s| s.into()).unwrap_or_default()
    }

    #[test]
    fn previews_of_one_shape_share_its_columns_and_a_new_shape_is_read_anew() {
        let shapes = &mut Shapes::default();
        let first = preview_of(&one_column("n", 0), &data_row(&["7"]), shapes);
        let again = preview_of(&one_column("n", 0), &data_row(&["8"]), shapes);
        assert!(Arc::ptr_eq(&first.columns, &again.columns));
        assert_eq!(again.rows, vec![vec![Some("8".to_string())]]);
        // Same name, binary format: the values are read as binary.
        let binary = preview_of(&one_column("n", 1), &data_row(&["\u{1}"]), shapes);
        assert!(!Arc::ptr_eq(&first.columns, &binary.columns));
        assert_eq!(binary.rows, vec![vec![Some("\\x01".to_string())]]);
        let renamed = preview_of(&one_column("m", 0), &data_row(&["9"]), shapes);
        assert_eq!(*renamed.columns, ["m"]);
    }

    fn data_row(values: &[&str]) -> Vec<u8> {
        let mut b = (values.len() as i16).to_be_bytes().to_vec();
        b.extend_from_slice(&bind_values(
            &values
                .iter()
                .map(|v| Some(v.as_bytes()))
                .collect::<Vec<_>>(),
        ));
        b
    }

    #[test]
    fn preview_keeps_the_first_rows_within_its_limits() {
        let shapes = &mut Shapes::default();
        let mut p = PreviewBuf::new(2, 1000);
        p.describe(&row_description(&["id", "email"]), shapes);
        for i in 0..5 {
            p.row(&data_row(&[&i.to_string(), "<masked:email>"]));
        }
        p.close();
        p.describe(&row_description(&["other"]), shapes);
        p.row(&data_row(&["later result"]));
        let got = p.finish(|s| s.into()).unwrap_or_default();
        assert_eq!(*got.columns, ["id", "email"]);
        assert_eq!(got.rows.len(), 2);
        assert_eq!(got.rows[1][1].as_deref(), Some("<masked:email>"));
        assert!(got.truncated);

        let mut p = PreviewBuf::new(20, 10);
        p.row(&data_row(&["12345"]));
        p.row(&data_row(&["678901"]));
        let got = p.finish(|s| s.into()).unwrap_or_default();
        assert_eq!(got.rows.len(), 1, "the byte budget ends the preview");
        assert!(got.truncated);
        assert!(PreviewBuf::new(20, 10).finish(|s| s.into()).is_none());
    }
}
