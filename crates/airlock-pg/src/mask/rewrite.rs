//! Applying masking to messages on their way to the client. A message
//! that needs no change is left where it is (the caller forwards the
//! target's bytes); only a changed one is written anew.

use std::borrow::Cow;

use bytes::{BufMut, BytesMut};

use airlock_core::masking::Masker;

use super::fields::TypeClass;
use super::plan::{Action, RowPlan};
use crate::wire::Malformed;

/// Masks one DataRow body. Returns the whole new message (type byte and
/// length included) when a value changed.
pub fn data_row(plan: &RowPlan, body: &[u8]) -> Result<Option<BytesMut>, Malformed> {
    let bad = || Malformed("DataRow");
    if body.len() < 2 {
        return Err(bad());
    }
    let count = i16::from_be_bytes([body[0], body[1]]);
    if count < 0 || count as usize != plan.actions.len() {
        return Err(bad());
    }
    let masker = plan.policy.masker();
    let mut pos = 2;
    // The rewritten body, once a value has changed; `copied` is how far
    // the original has been carried over into it.
    let mut out: Option<BytesMut> = None;
    let mut copied = 0;
    for action in &plan.actions {
        let len_at = pos;
        let len_bytes = body.get(pos..pos + 4).ok_or_else(bad)?;
        let len = i32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
        pos += 4;
        if len < 0 {
            continue;
        }
        let value = body.get(pos..pos + len as usize).ok_or_else(bad)?;
        pos += len as usize;
        let replaced: Option<Option<Cow<'_, [u8]>>> = match action {
            Action::Pass => None,
            Action::Scan { skip } => {
                if value.len() < *skip {
                    None
                } else {
                    match masker.mask_bytes(&value[*skip..]) {
                        Cow::Borrowed(_) => None,
                        Cow::Owned(masked) => {
                            let mut v = value[..*skip].to_vec();
                            v.extend_from_slice(&masked);
                            Some(Some(Cow::Owned(v)))
                        }
                    }
                }
            }
            Action::Whole {
                style,
                label,
                class,
                binary,
            } => Some(whole(masker, value, style, label, *class, *binary)),
        };
        let Some(new_value) = replaced else { continue };
        let o = out.get_or_insert_with(|| BytesMut::with_capacity(body.len() + 64));
        o.put_slice(&body[copied..len_at]);
        match new_value {
            None => o.put_i32(-1),
            Some(v) => {
                o.put_i32(v.len() as i32);
                o.put_slice(&v);
            }
        }
        copied = pos;
    }
    if pos != body.len() {
        return Err(bad());
    }
    Ok(out.map(|mut o| {
        o.put_slice(&body[copied..]);
        framed(b'D', &o)
    }))
}

/// The replacement of a whole value, in a form its column's type and
/// format can carry; `None` is SQL NULL.
fn whole<'a>(
    masker: &Masker,
    value: &[u8],
    style: &airlock_core::masking::Style,
    label: &str,
    class: TypeClass,
    binary: bool,
) -> Option<Cow<'a, [u8]>> {
    let text = |v: &[u8]| masker.replace_whole(v, label, style);
    match (class, binary) {
        (TypeClass::Opaque, _) | (TypeClass::Other, true) => None,
        (TypeClass::Text, _) | (TypeClass::Other, false) => Some(Cow::Owned(text(value))),
        (TypeClass::Json, _) | (TypeClass::Jsonb, false) => {
            Some(Cow::Owned(json_string(&text(value))))
        }
        (TypeClass::Jsonb, true) => {
            let inner = value.get(1..).unwrap_or_default();
            let mut v = vec![1u8];
            v.extend_from_slice(&json_string(&text(inner)));
            Some(Cow::Owned(v))
        }
    }
}

/// `s` as a JSON string literal, so a masked json value stays JSON.
fn json_string(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0..=0x1f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
    out
}

/// Masks the human-readable fields of an ErrorResponse or NoticeResponse
/// (message, detail, hint, context, the query text the server quotes): a
/// failing INSERT echoes the value it could not store.
pub fn error_or_notice(
    masker: &Masker,
    tag: u8,
    body: &[u8],
) -> Result<Option<BytesMut>, Malformed> {
    let bad = || {
        Malformed(if tag == b'E' {
            "ErrorResponse"
        } else {
            "NoticeResponse"
        })
    };
    let mut out: Option<BytesMut> = None;
    let mut pos = 0;
    let mut copied = 0;
    while pos < body.len() && body[pos] != 0 {
        let code = body[pos];
        let start = pos + 1;
        let end = start + body[start..].iter().position(|&b| b == 0).ok_or_else(bad)?;
        pos = end + 1;
        if !matches!(code, b'M' | b'D' | b'H' | b'W' | b'q') {
            continue;
        }
        if let Cow::Owned(masked) = masker.mask_bytes(&body[start..end]) {
            let o = out.get_or_insert_with(|| BytesMut::with_capacity(body.len() + 64));
            o.put_slice(&body[copied..start]);
            o.put_slice(&masked);
            copied = end;
        }
    }
    if pos >= body.len() {
        return Err(bad());
    }
    Ok(out.map(|mut o| {
        o.put_slice(&body[copied..]);
        framed(tag, &o)
    }))
}

/// Masks one CopyData row of a COPY TO STDOUT (text or CSV format).
pub fn copy_data(masker: &Masker, body: &[u8]) -> Option<BytesMut> {
    match masker.mask_bytes(body) {
        Cow::Borrowed(_) => None,
        Cow::Owned(masked) => Some(framed(b'd', &masked)),
    }
}

fn framed(tag: u8, body: &[u8]) -> BytesMut {
    let mut m = BytesMut::with_capacity(5 + body.len());
    m.put_u8(tag);
    m.put_i32(4 + body.len() as i32);
    m.put_slice(body);
    m
}
