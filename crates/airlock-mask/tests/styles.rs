//! Replacement styles, the key's secrecy, configuration errors and custom
//! detectors.

use std::borrow::Cow;
use std::collections::BTreeMap;

use airlock_mask::{CustomDetector, MaskError, Masker, MaskerConfig, Style};

fn with_style(detector: &str, style: Style, key: [u8; 32]) -> Masker {
    let config = MaskerConfig {
        styles: BTreeMap::from([(detector.to_owned(), style)]),
        hash_key: key,
        ..MaskerConfig::default()
    };
    Masker::new(&config).expect("valid config")
}

#[test]
fn label_redact_partial() {
    let m = with_style("credit_card", Style::Partial { keep: 4 }, [0; 32]);
    assert_eq!(m.mask_str("card 4111 1111 1111 1111."), "card ****1111.");
    let m = with_style("email", Style::Partial { keep: 4 }, [0; 32]);
    assert_eq!(m.mask_str("to jane@example.com"), "to ****@example.com");
    let m = with_style("us_ssn", Style::Redact, [0; 32]);
    assert_eq!(m.mask_str("ssn 123-45-6789"), "ssn <redacted>");
    let m = with_style("us_ssn", Style::Label, [0; 32]);
    assert_eq!(m.mask_str("ssn 123-45-6789"), "ssn <masked:us_ssn>");
    // A generous keep never reveals more than half.
    let m = with_style("us_ssn", Style::Partial { keep: 100 }, [0; 32]);
    assert_eq!(m.mask_str("123-45-6789"), "****-6789");
}

#[test]
fn borrowed_when_clean() {
    let m = Masker::new(&MaskerConfig::default()).expect("default");
    assert!(matches!(
        m.mask_str("nothing to see 2026-11-28"),
        Cow::Borrowed(_)
    ));
    assert!(matches!(m.mask_bytes(b"\xff\xfe plain"), Cow::Borrowed(_)));
}

#[test]
fn hash_is_keyed_and_stable() {
    let key = [7u8; 32];
    let m = with_style("email", Style::Hash, key);
    let a1 = m.mask_str("a@example.com").into_owned();
    let a2 = m.mask_str("a@example.com").into_owned();
    let b = m.mask_str("b@example.com").into_owned();
    assert_eq!(a1, a2);
    assert_ne!(a1, b);
    assert!(
        a1.starts_with("<hash:") && a1.ends_with('>') && a1.len() == "<hash:>".len() + 16,
        "{a1}"
    );
    let other = with_style("email", Style::Hash, [8u8; 32]);
    assert_ne!(other.mask_str("a@example.com"), a1);
    let key_hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!a1.contains(&key_hex));
    let whole = m.replace_whole(b"Jane Doe", "users.name", &Style::Hash);
    assert!(whole.starts_with(b"<hash:"));
    assert_eq!(whole, m.replace_whole(b"Jane Doe", "other", &Style::Hash));
}

#[test]
fn debug_hides_key() {
    let key = [0xabu8; 32];
    let config = MaskerConfig {
        hash_key: key,
        ..MaskerConfig::default()
    };
    let text = format!("{config:?}");
    assert!(
        !text.contains("171") && !text.contains("ab, ab") && !text.contains("abab"),
        "{text}"
    );
    let m = Masker::new(&config).expect("valid");
    let text = format!("{m:?}");
    assert!(!text.contains("abab") && !text.contains("171"), "{text}");
}

#[test]
fn replace_whole_styles() {
    let m = Masker::new(&MaskerConfig::default()).expect("default");
    assert_eq!(
        m.replace_whole(b"Jane", "users.name", &Style::Label),
        b"<masked:users.name>"
    );
    assert_eq!(m.replace_whole(b"Jane", "x", &Style::Redact), b"<redacted>");
    assert_eq!(
        m.replace_whole(b"Jane Doe", "x", &Style::Partial { keep: 3 }),
        b"****Doe"
    );
    assert_eq!(
        m.replace_whole(b"jane@example.com", "x", &Style::Partial { keep: 3 }),
        b"****@example.com"
    );
}

#[test]
fn config_errors() {
    let err = |c: MaskerConfig| Masker::new(&c).err();
    assert_eq!(
        err(MaskerConfig {
            disable: vec!["nope".into()],
            ..MaskerConfig::default()
        }),
        Some(MaskError::UnknownDetector("nope".into()))
    );
    let styles = BTreeMap::from([("nope".to_owned(), Style::Redact)]);
    assert!(matches!(
        err(MaskerConfig {
            styles,
            ..MaskerConfig::default()
        }),
        Some(MaskError::UnknownDetector(_))
    ));
    let custom = |name: &str, pattern: &str, validator: Option<&str>| CustomDetector {
        name: name.into(),
        pattern: pattern.into(),
        validator: validator.map(Into::into),
    };
    match err(MaskerConfig {
        custom: vec![custom("order_id", "ORD-(", None)],
        ..MaskerConfig::default()
    }) {
        Some(MaskError::BadPattern { name, .. }) => assert_eq!(name, "order_id"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        err(MaskerConfig {
            custom: vec![custom("x", "a", Some("crc32"))],
            ..MaskerConfig::default()
        }),
        Some(MaskError::UnknownValidator { .. })
    ));
    assert!(matches!(
        err(MaskerConfig {
            custom: vec![custom("email", "a", None)],
            ..MaskerConfig::default()
        }),
        Some(MaskError::DuplicateDetector(_))
    ));
    assert!(matches!(
        err(MaskerConfig {
            custom: vec![custom("Bad Name", "a", None)],
            ..MaskerConfig::default()
        }),
        Some(MaskError::BadName { .. })
    ));
}

#[test]
fn custom_detector_with_validator() {
    let config = MaskerConfig {
        custom: vec![
            CustomDetector {
                name: "loyalty_card".into(),
                pattern: r"LC-\d{16}".into(),
                validator: None,
            },
            CustomDetector {
                name: "imei".into(),
                pattern: r"\b\d{15}\b".into(),
                validator: Some("luhn".into()),
            },
        ],
        styles: BTreeMap::from([("imei".to_owned(), Style::Redact)]),
        ..MaskerConfig::default()
    };
    let m = Masker::new(&config).expect("valid");
    assert!(m.enabled_detectors().contains(&"imei"));
    assert_eq!(m.mask_str("LC-1234567812345678"), "<masked:loyalty_card>");
    assert_eq!(m.mask_str("imei 490154203237518"), "imei <redacted>");
    assert_eq!(m.mask_str("imei 490154203237519"), "imei 490154203237519");
}

#[test]
fn detector_lists() {
    assert_eq!(Masker::builtin_detectors().len(), 18);
    let m = Masker::new(&MaskerConfig::default()).expect("default");
    let on = m.enabled_detectors();
    assert!(!on.contains(&"ipv4") && !on.contains(&"ipv6") && on.contains(&"email"));
    let config = MaskerConfig {
        disable: vec!["email".into()],
        enable: vec!["ipv4".into()],
        ..MaskerConfig::default()
    };
    let m = Masker::new(&config).expect("valid");
    assert!(m.enabled_detectors().contains(&"ipv4") && !m.enabled_detectors().contains(&"email"));
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Masker>();
}

/// Inputs the fuzzer found (fuzz/seeds/masker/partial-boundary and
/// digit-neighbour): a replacement made its neighbour a match. The output
/// of masking holds no match, whatever the style.
#[test]
fn masked_output_never_holds_a_match_even_where_replacing_makes_one() {
    let all = |style: Style| {
        let config = MaskerConfig {
            enable: vec!["ipv4".into(), "ipv6".into()],
            styles: Masker::builtin_detectors()
                .iter()
                .map(|d| (d.to_string(), style.clone()))
                .collect(),
            hash_key: [7; 32],
            ..MaskerConfig::default()
        };
        Masker::new(&config).expect("valid config")
    };
    for style in [
        Style::Label,
        Style::Redact,
        Style::Partial { keep: 4 },
        Style::Hash,
    ] {
        let m = all(style.clone());
        for input in [
            "::D123-45-6789",
            "11 541 111 1111 4111 1111 1111 1111",
            "card11 541 111 1111 4111 1111 1111 1111 a",
        ] {
            let out = m.mask_str(input);
            assert!(
                m.findings(out.as_bytes()).is_empty(),
                "{style:?}: {input:?} -> {out:?} still holds {:?}",
                m.findings(out.as_bytes())
            );
            assert!(matches!(m.mask_str(&out), Cow::Borrowed(_)));
        }
    }
}
