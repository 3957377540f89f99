//! `airlock_mask::Masker` with every detector on (the off-by-default IP
//! detectors too), over any bytes, invalid UTF-8 included: never panics;
//! clean input comes back borrowed; masked output holds nothing any
//! detector finds (masking is idempotent), whichever style replaces.
//! The first input byte picks the style.
#![no_main]

use std::borrow::Cow;
use std::sync::LazyLock;

use airlock_mask::{Masker, MaskerConfig, Style};
use libfuzzer_sys::fuzz_target;

static MASKERS: LazyLock<Vec<Masker>> = LazyLock::new(|| {
    [
        Style::Label,
        Style::Redact,
        Style::Partial { keep: 4 },
        Style::Hash,
    ]
    .into_iter()
    .map(|style| {
        let config = MaskerConfig {
            enable: vec!["ipv4".into(), "ipv6".into()],
            styles: Masker::builtin_detectors()
                .iter()
                .map(|d| (d.to_string(), style.clone()))
                .collect(),
            hash_key: [7; 32],
            ..MaskerConfig::default()
        };
        Masker::new(&config).expect("a valid masker configuration")
    })
    .collect()
});

fuzz_target!(|data: &[u8]| {
    let Some((&pick, value)) = data.split_first() else {
        return;
    };
    let masker = &MASKERS[usize::from(pick) % MASKERS.len()];
    let findings = masker.findings(value);
    let masked = masker.mask_bytes(value);
    match &masked {
        Cow::Borrowed(b) => {
            assert!(findings.is_empty(), "borrowed although {findings:?}");
            assert_eq!(*b, value);
        }
        Cow::Owned(_) => assert!(!findings.is_empty(), "owned without findings"),
    }
    let mut end = 0;
    for f in &findings {
        assert!(
            end <= f.start && f.start < f.end && f.end <= value.len(),
            "{findings:?}"
        );
        end = f.end;
    }
    // Masking is idempotent: its output holds nothing any detector finds
    // (seeds/masker/partial-boundary and digit-neighbour are inputs where
    // a replacement once made its neighbour a match).
    let again = masker.findings(&masked);
    assert!(
        again.is_empty(),
        "masked output still matches {again:?}: {:?} -> {:?}",
        String::from_utf8_lossy(value),
        String::from_utf8_lossy(&masked)
    );
    assert!(matches!(masker.mask_bytes(&masked), Cow::Borrowed(_)));
    // The text entry point agrees with the byte one on valid UTF-8.
    if let Ok(text) = std::str::from_utf8(value) {
        let s = masker.mask_str(text);
        assert_eq!(s.as_bytes(), &masked[..]);
        assert_eq!(
            matches!(s, Cow::Borrowed(_)),
            matches!(masked, Cow::Borrowed(_))
        );
    }
});
