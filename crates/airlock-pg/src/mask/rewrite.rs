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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use airlock_core::masking::{MaskPolicy, MaskingConfig, Style};

    use super::*;

    fn policy() -> Arc<MaskPolicy> {
        let dir = std::path::Path::new("/nonexistent-unused");
        Arc::new(MaskPolicy::build(&MaskingConfig::default(), dir).unwrap())
    }

    fn row(values: &[Option<&[u8]>]) -> Vec<u8> {
        let mut b = BytesMut::new();
        b.put_i16(values.len() as i16);
        for v in values {
            match v {
                None => b.put_i32(-1),
                Some(v) => {
                    b.put_i32(v.len() as i32);
                    b.put_slice(v);
                }
            }
        }
        b.to_vec()
    }

    fn values(message: &[u8]) -> Vec<Option<Vec<u8>>> {
        assert_eq!(message[0], b'D');
        let len = i32::from_be_bytes([message[1], message[2], message[3], message[4]]) as usize;
        assert_eq!(len + 1, message.len(), "length field must be rewritten");
        let body = &message[5..];
        let n = i16::from_be_bytes([body[0], body[1]]);
        let mut pos = 2;
        (0..n)
            .map(|_| {
                let l =
                    i32::from_be_bytes([body[pos], body[pos + 1], body[pos + 2], body[pos + 3]]);
                pos += 4;
                if l < 0 {
                    return None;
                }
                let v = body[pos..pos + l as usize].to_vec();
                pos += l as usize;
                Some(v)
            })
            .collect()
    }

    fn whole(class: TypeClass, binary: bool) -> Action {
        Action::Whole {
            style: Style::Label,
            label: Arc::from("users.email"),
            class,
            binary,
        }
    }

    #[test]
    fn a_row_with_nothing_to_mask_is_left_to_be_forwarded_as_is() {
        let plan = RowPlan {
            actions: vec![Action::Scan { skip: 0 }, Action::Pass],
            policy: policy(),
        };
        let body = row(&[Some(b"hello world"), Some(b"\x00\x00\x00\x01")]);
        assert!(data_row(&plan, &body).unwrap().is_none());
    }

    #[test]
    fn values_are_replaced_in_place_with_lengths_rewritten() {
        let plan = RowPlan {
            actions: vec![
                Action::Pass,
                Action::Scan { skip: 0 },
                whole(TypeClass::Text, false),
                whole(TypeClass::Opaque, true),
                whole(TypeClass::Jsonb, true),
                Action::Scan { skip: 0 },
            ],
            policy: policy(),
        };
        let body = row(&[
            Some(b"1"),
            Some(b"card 4111 1111 1111 1111 ok"),
            Some(b"alice@example.com"),
            Some(b"\x00\x00\x00\x07"),
            Some(b"\x01{\"a\": 1}"),
            None,
        ]);
        let out = data_row(&plan, &body).unwrap().expect("changed");
        let v = values(&out);
        assert_eq!(v[0].as_deref(), Some(&b"1"[..]));
        assert_eq!(v[1].as_deref(), Some(&b"card <masked:credit_card> ok"[..]));
        assert_eq!(v[2].as_deref(), Some(&b"<masked:users.email>"[..]));
        assert_eq!(v[3], None, "a masked number becomes NULL");
        assert_eq!(v[4].as_deref(), Some(&b"\x01\"<masked:users.email>\""[..]));
        assert_eq!(v[5], None);
    }

    #[test]
    fn malformed_rows_are_errors_not_panics() {
        let plan = RowPlan {
            actions: vec![Action::Scan { skip: 0 }],
            policy: policy(),
        };
        let good = row(&[Some(b"abc")]);
        for cut in 0..good.len() {
            assert!(data_row(&plan, &good[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = good.clone();
        long.push(0);
        assert!(data_row(&plan, &long).is_err(), "trailing bytes");
        assert!(
            data_row(&plan, &row(&[Some(b"a"), Some(b"b")])).is_err(),
            "field count"
        );
        let mut huge = row(&[Some(b"abc")]);
        huge[2..6].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(data_row(&plan, &huge).is_err(), "length past the end");
    }

    #[test]
    fn error_fields_that_echo_values_are_masked_and_codes_are_kept() {
        let mut body = Vec::new();
        for (code, text) in [
            (b'S', "ERROR"),
            (b'C', "23505"),
            (b'M', "duplicate key"),
            (
                b'D',
                "Key (note)=(card 4111 1111 1111 1111) already exists.",
            ),
        ] {
            body.push(code);
            body.extend_from_slice(text.as_bytes());
            body.push(0);
        }
        body.push(0);
        let p = policy();
        let out = error_or_notice(p.masker(), b'E', &body)
            .unwrap()
            .expect("masked");
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.contains("23505") && text.contains("<masked:credit_card>"),
            "{text}"
        );
        assert!(!text.contains("4111"), "{text}");
        assert!(error_or_notice(p.masker(), b'E', &body[..body.len() - 1]).is_err());
        assert!(
            error_or_notice(p.masker(), b'N', b"Mplain\0\0")
                .unwrap()
                .is_none()
        );
    }
}
