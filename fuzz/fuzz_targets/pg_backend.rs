//! What a PostgreSQL server sends, as the adapter decodes it on the way to
//! the client: `RowDescription` (`mask/fields.rs`) and the masking plan
//! built from it (`mask/plan.rs`), `DataRow` rewriting against that plan
//! (`mask/rewrite.rs::data_row`), `ErrorResponse`/`NoticeResponse`
//! rewriting (`error_or_notice`) and reading (`wire::error_fields`),
//! `CopyData` rewriting.
//!
//! Input: a selector byte (which masking policy, column rules, catalog
//! names and lineage the plan is built with), then the server's bytes,
//! cut into messages as the relay cuts them.
//!
//! Properties: never panics; a rewritten message is well-formed (its
//! length field matches, a DataRow keeps its field count, every value
//! length is consistent, NULLs stay NULL, passed columns are unchanged)
//! and is accepted again by the same code; a message is refused exactly
//! when an independent reading finds it malformed; with a plan of
//! detectors only, masking a rewritten message again changes nothing, and
//! a message left alone holds nothing a detector finds.
#![no_main]

use std::sync::{Arc, LazyLock};

use airlock_core::masking::{
    ColumnPattern, ColumnRule, MaskPolicy, Masker, MaskingConfig, Style, StyleName, StyleSpec,
};
use airlock_pg::fuzzing::{
    Action, ColumnName, RowPlan, Shape, TypeClass, copy_data, data_row, error_fields,
    error_or_notice, plan, row_description, take_frame,
};
use airlock_policy::sql::{OutputColumn, output_columns};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

const MAX_MESSAGE: usize = 1 << 24;

/// Detectors on with the default style; on with `partial` and the IP
/// detectors; off. (No `hash` style: building it would read a key file.)
static POLICIES: LazyLock<Vec<Arc<MaskPolicy>>> = LazyLock::new(|| {
    let dir = std::path::Path::new("/nonexistent-fuzz-unused");
    let default = MaskingConfig::default();
    let mut partial = MaskingConfig::default();
    partial.detectors.enable = vec!["ipv4".into(), "ipv6".into()];
    for d in Masker::builtin_detectors() {
        partial.detectors.styles.insert(
            d.to_string(),
            StyleSpec {
                style: StyleName::Partial,
                keep: Some(4),
            },
        );
    }
    let mut off = MaskingConfig::default();
    off.detectors.enabled = false;
    [default, partial, off]
        .iter()
        .map(|c| Arc::new(MaskPolicy::build(c, dir).expect("a valid masking policy")))
        .collect()
});

fn rule(pattern: &str, style: Style) -> ColumnRule {
    ColumnRule {
        pattern: ColumnPattern::parse(pattern).expect("a valid pattern"),
        style,
    }
}

static RULES: LazyLock<Vec<Vec<ColumnRule>>> = LazyLock::new(|| {
    vec![
        vec![],
        vec![rule("fuzz_users.email", Style::Label)],
        vec![
            rule("public.fuzz_users.note", Style::Redact),
            rule("*.e*", Style::Partial { keep: 2 }),
        ],
        vec![rule("*.*", Style::Hash)],
    ]
});

static LINEAGE: LazyLock<Vec<Option<Vec<OutputColumn>>>> = LazyLock::new(|| {
    [
        "SELECT id, email, note, doc, meta, paid, at FROM fuzz_users WHERE id = $1",
        "SELECT * FROM fuzz_users",
        "SELECT id, upper(email) AS e, note || '!' FROM fuzz_users",
    ]
    .iter()
    .map(|q| output_columns(q))
    .chain([None])
    .collect()
});

const COLUMNS: [&str; 7] = ["id", "email", "note", "doc", "meta", "paid", "at"];

/// A DataRow body read independently: its values, or `None` when it is
/// malformed.
fn values(body: &[u8]) -> Option<Vec<Option<&[u8]>>> {
    let count = i16::from_be_bytes(body.get(..2)?.try_into().ok()?);
    if count < 0 {
        return None;
    }
    let mut pos = 2;
    let mut out = Vec::new();
    for _ in 0..count {
        let len = i32::from_be_bytes(body.get(pos..pos + 4)?.try_into().ok()?);
        pos += 4;
        if len < 0 {
            out.push(None);
            continue;
        }
        out.push(Some(body.get(pos..pos + len as usize)?));
        pos += len as usize;
    }
    (pos == body.len()).then_some(out)
}

/// ErrorResponse/NoticeResponse fields read independently, or `None`
/// when there is no terminator.
fn notice_fields(body: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    let mut rest = body;
    loop {
        let (&code, tail) = rest.split_first()?;
        if code == 0 {
            return Some(out);
        }
        let end = tail.iter().position(|&b| b == 0)?;
        out.push((code, &tail[..end]));
        rest = &tail[end + 1..];
    }
}

/// The body of a framed message whose length field must be right.
fn unframe(msg: &BytesMut, tag: u8) -> &[u8] {
    assert_eq!(msg[0], tag);
    let len = i32::from_be_bytes([msg[1], msg[2], msg[3], msg[4]]);
    assert_eq!(len as usize + 1, msg.len(), "length field");
    &msg[5..]
}

fn detector_only(plan: &RowPlan) -> bool {
    plan.actions
        .iter()
        .all(|a| matches!(a, Action::Pass | Action::Scan { .. }))
}

fn check_data_row(plan: &RowPlan, body: &[u8]) {
    let original = values(body).filter(|v| v.len() == plan.actions.len());
    let result = data_row(plan, body);
    let Some(original) = original else {
        assert!(result.is_err(), "a malformed DataRow was accepted");
        return;
    };
    let masker = plan.policy.masker();
    match result.expect("a well-formed DataRow was refused") {
        Some(msg) => {
            let new_body = unframe(&msg, b'D');
            let new = values(new_body).expect("the rewritten DataRow re-parses");
            assert_eq!(new.len(), original.len(), "field count");
            for ((action, old), new) in plan.actions.iter().zip(&original).zip(&new) {
                let Some(old) = old else {
                    assert!(new.is_none(), "NULL became a value");
                    continue;
                };
                match action {
                    Action::Pass => assert_eq!(Some(*old), *new, "a passed column changed"),
                    Action::Scan { skip } => {
                        let new = new.expect("a scanned value became NULL");
                        if old.len() >= *skip {
                            assert_eq!(new[..*skip], old[..*skip], "skipped prefix changed");
                        } else {
                            assert_eq!(new, *old);
                        }
                    }
                    Action::Whole { class, binary, .. } => {
                        let nulled = matches!(
                            (class, binary),
                            (TypeClass::Opaque, _) | (TypeClass::Other, true)
                        );
                        assert_eq!(new.is_none(), nulled, "{class:?} binary={binary}");
                    }
                }
            }
            let again = data_row(plan, new_body).expect("the rewritten DataRow is accepted");
            if detector_only(plan) {
                assert!(again.is_none(), "masking a masked DataRow changed it again");
            }
        }
        None => {
            if detector_only(plan) {
                for (action, value) in plan.actions.iter().zip(&original) {
                    if let (Action::Scan { skip }, Some(v)) = (action, value)
                        && v.len() >= *skip
                    {
                        assert!(masker.findings(&v[*skip..]).is_empty(), "left a finding");
                    }
                }
            }
        }
    }
}

fn check_notice(masker: &Masker, tag: u8, body: &[u8]) {
    let (code, _) = error_fields(body);
    let original = notice_fields(body);
    let result = error_or_notice(masker, tag, body);
    let Some(original) = original else {
        assert!(
            result.is_err(),
            "an unterminated {} was accepted",
            tag as char
        );
        return;
    };
    let masked = |c: u8| matches!(c, b'M' | b'D' | b'H' | b'W' | b'q');
    match result.expect("a well-formed message was refused") {
        Some(msg) => {
            let new_body = unframe(&msg, tag);
            let new = notice_fields(new_body).expect("the rewritten message re-parses");
            assert_eq!(new.len(), original.len(), "field count");
            for ((c, old), (n, new)) in original.iter().zip(&new) {
                assert_eq!(c, n, "field codes");
                if !masked(*c) {
                    assert_eq!(old, new, "field {} changed", *c as char);
                }
            }
            // Whatever followed the terminator is carried over.
            assert_eq!(
                error_fields(new_body).0,
                code,
                "the SQLSTATE changed in rewriting"
            );
            let again = error_or_notice(masker, tag, new_body).expect("accepted again");
            assert!(again.is_none(), "masking a masked message changed it again");
        }
        None => {
            for (c, v) in &original {
                if masked(*c) {
                    assert!(masker.findings(v).is_empty(), "left a finding");
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, stream)) = data.split_first() else {
        return;
    };
    let policy = &POLICIES[usize::from(sel & 3) % POLICIES.len()];
    let rules = &RULES[usize::from(sel >> 2) & 3];
    let resolved = sel & 0x10 != 0;
    let lineage = LINEAGE[usize::from(sel >> 5) & 3].as_deref();
    let mentions_masked = sel & 0x80 != 0;

    let mut buf = BytesMut::from(stream);
    let mut current: Option<RowPlan> = None;
    while let Ok(Some(frame)) = take_frame(&mut buf, MAX_MESSAGE) {
        let body = &frame.body[..];
        match frame.tag {
            b'T' => {
                let Ok(fields) = row_description(body) else {
                    current = None;
                    continue;
                };
                assert_eq!(
                    fields.len(),
                    i16::from_be_bytes([body[0], body[1]]) as usize
                );
                let names: Vec<Option<ColumnName>> = fields
                    .iter()
                    .map(|f| {
                        (resolved && f.table_oid != 0).then(|| ColumnName {
                            schema: "public".into(),
                            table: "fuzz_users".into(),
                            column: COLUMNS[f.attnum.unsigned_abs() as usize % COLUMNS.len()]
                                .into(),
                        })
                    })
                    .collect();
                let shape = Shape {
                    fields: &fields,
                    names: &names,
                    rules,
                    lineage,
                    mentions_masked,
                };
                let p = plan(Arc::clone(policy), &shape);
                assert_eq!(p.actions.len(), fields.len());
                if rules.is_empty() && !policy.detectors_on() {
                    assert!(!p.is_active(), "a plan without rules or detectors acts");
                }
                current = Some(p);
            }
            b'D' => {
                if let Some(p) = &current {
                    check_data_row(p, body);
                }
            }
            b'E' | b'N' => check_notice(policy.masker(), frame.tag, body),
            b'd' => {
                if let Some(msg) = copy_data(policy.masker(), body) {
                    let new = unframe(&msg, b'd');
                    assert!(copy_data(policy.masker(), new).is_none(), "CopyData again");
                }
            }
            // A new result (CommandComplete, ReadyForQuery) ends the shape.
            b'C' | b'Z' | b'I' | b's' => current = None,
            _ => {}
        }
    }
});
