//! Generated corpus: many positives per detector embedded in random text,
//! many realistic negatives; prints recall and false-positive rate per
//! detector (`cargo test -p airlock-mask --test corpus -- --nocapture`).

mod common;

use std::collections::BTreeMap;

use airlock_mask::{Masker, MaskerConfig, Style};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{Rng, masker, masker_with_ips};

const POSITIVES: usize = 400;
const NEGATIVES: usize = 20_000;

const WORDS: &[&str] = &[
    "the", "order", "customer", "shipped", "on", "and", "value", "note:", "ref", "status", "ok",
    "user", "paid", "invoice", "please", "call", "contact", "card", "number", "id", "from", "to",
    "(see", "below)", "-", "|",
];

fn luhn_complete(r: &mut Rng, prefix: &str, len: usize) -> String {
    let mut digits: Vec<u32> = prefix.bytes().map(|b| u32::from(b - b'0')).collect();
    while digits.len() < len - 1 {
        digits.push(r.below(10) as u32);
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(k, d)| {
            if k % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                *d
            }
        })
        .sum();
    digits.push((10 - sum % 10) % 10);
    digits.iter().map(|d| char::from(b'0' + *d as u8)).collect()
}

fn group(digits: &str, sizes: &[usize], sep: char) -> String {
    let mut out = String::new();
    let mut at = 0;
    for (k, s) in sizes.iter().enumerate() {
        if k > 0 {
            out.push(sep);
        }
        out.push_str(&digits[at..at + s]);
        at += s;
    }
    out
}

fn card(r: &mut Rng) -> String {
    let (prefix, len) = *r.pick(&[
        ("4", 16),
        ("4", 13),
        ("51", 16),
        ("55", 16),
        ("2221", 16),
        ("2720", 16),
        ("34", 15),
        ("37", 15),
        ("6011", 16),
        ("65", 16),
        ("644", 16),
        ("36", 14),
        ("38", 14),
        ("300", 14),
        ("305", 14),
        ("3528", 16),
        ("3589", 16),
        ("62", 16),
        ("62", 19),
        ("50", 16),
        ("56", 16),
        ("69", 18),
    ]);
    let digits = luhn_complete(r, prefix, len);
    let sep = *r.pick(&[None, Some(' '), Some('-')]);
    match (sep, len) {
        (None, _) => digits,
        (Some(s), 16) => group(&digits, &[4, 4, 4, 4], s),
        (Some(s), 15) => group(&digits, &[4, 6, 5], s),
        (Some(s), 14) => group(&digits, &[4, 6, 4], s),
        (Some(s), 19) => group(&digits, &[4, 4, 4, 4, 3], s),
        (Some(s), 13) => group(&digits, &[4, 4, 5], s),
        (Some(s), _) => group(&digits, &[4, 4, 4, 6], s),
    }
}

fn iban(r: &mut Rng) -> String {
    let (cc, len, letters) = *r.pick(&[
        ("DE", 22, 0),
        ("GB", 22, 4),
        ("FR", 27, 0),
        ("NL", 18, 4),
        ("ES", 24, 0),
        ("BE", 16, 0),
        ("CH", 21, 0),
        ("PL", 28, 0),
    ]);
    let bban = format!(
        "{}{}",
        r.chars_of(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", letters),
        r.digits(len - 4 - letters)
    );
    let numeric: String = format!("{bban}{cc}00")
        .bytes()
        .map(|b| {
            if b.is_ascii_digit() {
                char::from(b).to_string()
            } else {
                (u32::from(b - b'A') + 10).to_string()
            }
        })
        .collect();
    let rem = numeric
        .bytes()
        .fold(0u32, |a, b| (a * 10 + u32::from(b - b'0')) % 97);
    let compact = format!("{cc}{:02}{bban}", 98 - rem);
    if r.chance(50) {
        compact
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        compact
    }
}

fn ssn(r: &mut Rng) -> String {
    loop {
        let area = r.range(1, 899);
        let (g, s) = (r.range(1, 99), r.range(1, 9999));
        if area == 666 || (area, g, s) == (78, 5, 1120) || (area, g, s) == (219, 9, 9999) {
            continue;
        }
        let sep = if r.chance(80) { '-' } else { ' ' };
        return format!("{area:03}{sep}{g:02}{sep}{s:04}");
    }
}

fn phone(r: &mut Rng) -> String {
    let area = r.range(200, 999);
    let (ex, line) = (r.range(100, 999), r.range(0, 9999));
    match r.below(6) {
        0 => format!("({area}) {ex}-{line:04}"),
        1 => format!("{area}-{ex}-{line:04}"),
        2 => format!("{area}.{ex}.{line:04}"),
        3 => format!("+1 {area} {ex} {line:04}"),
        4 => format!("+44 20 {:04} {:04}", r.range(1000, 9999), r.range(0, 9999)),
        _ => format!("+{}{}", r.range(1, 9), {
            let n = r.range(9, 12);
            r.digits(n)
        }),
    }
}

fn jwt(r: &mut Rng) -> String {
    let header = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"alg":"{}","typ":"JWT"}}"#,
        r.pick(&["HS256", "RS256", "ES256"])
    ));
    let payload = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"sub":"{}","iat":{}}}"#,
        r.alnum(12),
        r.digits(10)
    ));
    let sig = URL_SAFE_NO_PAD.encode(r.alnum(32));
    format!("{header}.{payload}.{sig}")
}

/// (detector, text to embed, the part that must be covered).
fn positive(r: &mut Rng, detector: &str) -> (String, String) {
    let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let same = |s: String| (s.clone(), s);
    match detector {
        "email" => same(format!(
            "{}.{}@{}.{}",
            r.alnum(6),
            r.alnum(4),
            r.alnum(8).to_lowercase(),
            r.pick(&["com", "org", "co.uk", "io"])
        )),
        "credit_card" => same(card(r)),
        "iban" => same(iban(r)),
        "us_ssn" => same(ssn(r)),
        "phone" => same(phone(r)),
        "ipv4" => same(format!(
            "{}.{}.{}.{}",
            r.range(1, 255),
            r.below(256),
            r.below(256),
            r.range(1, 254)
        )),
        "ipv6" => same(format!("2001:db8:{}::{}", r.hex(4), r.hex(3))),
        "aws_access_key_id" => same(format!(
            "{}{}",
            r.pick(&["AKIA", "ASIA", "AROA", "AIDA"]),
            r.chars_of(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
        )),
        "aws_secret_access_key" => {
            let s = r.chars_of(b64, 40);
            let (key, close) = *r.pick(&[
                ("aws_secret_access_key = ", ""),
                ("AWS_SECRET_ACCESS_KEY=", ""),
                ("\"SecretAccessKey\": \"", "\""),
                ("aws_secret: ", ""),
            ]);
            (format!("{key}{s}{close}"), s)
        }
        "gcp_api_key" => same(format!(
            "AIza{}",
            r.chars_of(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
                35
            )
        )),
        "github_token" => same(if r.chance(70) {
            format!("gh{}_{}", r.pick(&['p', 'o', 'u', 's', 'r']), r.alnum(36))
        } else {
            format!("github_pat_{}_{}", r.alnum(22), r.alnum(59))
        }),
        "slack_token" => same(format!(
            "{}-{}-{}-{}",
            r.pick(&["xoxb", "xoxp", "xoxa", "xapp"]),
            r.digits(12),
            r.digits(13),
            r.alnum(24)
        )),
        "stripe_key" => same(format!(
            "{}{}",
            r.pick(&["sk_live_", "sk_test_", "rk_live_", "pk_live_"]),
            {
                let n = r.range(16, 99);
                r.alnum(n)
            }
        )),
        "openai_api_key" => same(if r.chance(50) {
            format!("sk-{}", r.alnum(48))
        } else {
            format!(
                "{}{}T3BlbkFJ{}",
                r.pick(&["sk-proj-", "sk-svcacct-", "sk-admin-"]),
                r.alnum(60),
                r.alnum(60)
            )
        }),
        "jwt" => same(jwt(r)),
        "private_key" => same(format!(
            "-----BEGIN {0}PRIVATE KEY-----\n{1}\n{1}\n-----END {0}PRIVATE KEY-----",
            r.pick(&["", "RSA ", "EC ", "OPENSSH ", "ENCRYPTED "]),
            r.chars_of(b64, 64)
        )),
        "password_in_url" => {
            let n = r.range(6, 20);
            let pw = r.alnum(n);
            (
                format!(
                    "{}://{}:{pw}@{}.internal:5432/db",
                    r.pick(&["postgres", "mysql", "redis", "https"]),
                    r.alnum(5),
                    r.alnum(6).to_lowercase()
                ),
                pw,
            )
        }
        "generic_secret" => {
            let n = r.range(4, 30);
            let v = r.alnum(n);
            let (key, close) = *r.pick(&[
                ("password=", ""),
                ("passwd: ", ""),
                ("secret: ", ""),
                ("token=", ""),
                ("api_key=", ""),
                ("\"password\": \"", "\""),
                ("DB_PASSWORD=", ""),
                ("client_secret = ", ""),
                ("'api-key' => '", "'"),
            ]);
            (format!("{key}{v}{close}"), v)
        }
        other => panic!("no generator for {other}"),
    }
}

fn noise(r: &mut Rng, words: usize) -> String {
    (0..words)
        .map(|_| *r.pick(WORDS))
        .collect::<Vec<_>>()
        .join(" ")
}

/// (category, text): realistic values with nothing to mask.
fn negative(r: &mut Rng) -> (&'static str, String) {
    let cat = *r.pick(&[
        "uuid", "sha256", "sha1", "md5", "git", "iso", "epoch", "order", "version", "image",
        "amount", "ip", "date", "prose", "log",
    ]);
    let text = match cat {
        "uuid" => format!(
            "{}-{}-4{}-a{}-{}",
            r.hex(8),
            r.hex(4),
            r.hex(3),
            r.hex(3),
            r.hex(12)
        ),
        "sha256" => r.hex(64),
        "sha1" => format!("sha1 {}", r.hex(40)),
        "md5" => r.hex(32),
        "git" => format!("commit {} (HEAD)", {
            let n = r.range(7, 12);
            r.hex(n)
        }),
        "iso" => format!(
            "2026-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            r.range(1, 12),
            r.range(1, 28),
            r.below(24),
            r.below(60),
            r.below(60),
            r.below(1000)
        ),
        "epoch" => format!("ts={}", 1_600_000_000_000u64 + r.next() % 200_000_000_000),
        "order" => {
            // 16-digit order numbers that fail Luhn.
            let ok = luhn_complete(r, "4", 16);
            let last = (ok.as_bytes()[15] - b'0' + 1 + r.below(8) as u8) % 10;
            format!("order {}{}", &ok[..15], last)
        }
        "version" => format!(
            "v{}.{}.{}.{} build {}.{}.{}",
            r.below(20),
            r.below(20),
            r.below(20000),
            r.below(100),
            r.below(11),
            r.below(10),
            r.below(99999)
        ),
        "image" => format!(
            "data:image/png;base64,iVBORw0KGgo{}",
            STANDARD.encode((0..300).map(|_| r.next() as u8).collect::<Vec<u8>>())
        ),
        "amount" => format!(
            "total {}.{:02} USD ({},{:03}.{:02})",
            r.below(10_000_000),
            r.below(100),
            r.below(1000),
            r.below(1000),
            r.below(100)
        ),
        "ip" => format!(
            "from {}.{}.{}.{} and fe80::{}:{}",
            r.below(256),
            r.below(256),
            r.below(256),
            r.below(256),
            r.hex(4),
            r.hex(4)
        ),
        "date" => format!(
            "{:02}/{:02}/{} {:02}:{:02} or {}-{:02}-{:02}",
            r.range(1, 12),
            r.range(1, 28),
            r.range(1990, 2030),
            r.below(24),
            r.below(60),
            r.range(1990, 2030),
            r.range(1, 12),
            r.range(1, 28)
        ),
        "prose" => noise(r, 12),
        _ => format!(
            "level=info user_id={} latency_ms={} status={} path=/api/v{}/items/{}",
            r.below(99999),
            r.below(999),
            r.pick(&["200", "404"]),
            r.below(3),
            r.below(1_000_000)
        ),
    };
    (cat, text)
}

fn embed(r: &mut Rng, inner: &str) -> String {
    let (nb, na) = (r.range(0, 4), r.range(0, 4));
    let before = noise(r, nb);
    let after = noise(r, na);
    let end = r.pick(&["", ".", ",", ";", ")"]);
    format!("{before} {inner}{end} {after}")
}

#[test]
fn recall_and_false_positives() {
    let m = masker_with_ips();
    let default = masker();
    let mut r = Rng::new(0x5eed);
    let mut recall: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for det in Masker::builtin_detectors() {
        for _ in 0..POSITIVES {
            let (inner, target) = positive(&mut r, det);
            let text = embed(&mut r, &inner);
            let t0 = text.find(&target).expect("target inside text");
            let t1 = t0 + target.len();
            let hit = m
                .findings(text.as_bytes())
                .iter()
                .any(|f| &*f.detector == *det && f.start <= t0 && f.end >= t1);
            let e = recall.entry(det).or_default();
            e.1 += 1;
            if hit {
                e.0 += 1;
            } else if e.1 - e.0 <= 3 {
                eprintln!("missed {det}: {text:?}");
            }
        }
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut ip_negatives = 0;
    for _ in 0..NEGATIVES {
        let (cat, text) = negative(&mut r);
        let text = embed(&mut r, &text);
        let mut fired: Vec<String> = default
            .findings(text.as_bytes())
            .iter()
            .map(|f| f.detector.to_string())
            .collect();
        // IPs count only on values that hold none (versions look like IPv4).
        if cat != "ip" && cat != "version" {
            ip_negatives += 1;
            fired.extend(
                m.findings(text.as_bytes())
                    .iter()
                    .filter(|f| f.detector.starts_with("ip"))
                    .map(|f| f.detector.to_string()),
            );
        }
        fired.sort();
        fired.dedup();
        for d in fired {
            let n = counts.entry(d.clone()).or_default();
            if *n < 3 {
                eprintln!("false positive {d} in {cat}: {text:?}");
            }
            *n += 1;
        }
    }
    println!("{:<24} {:>8} {:>10}", "detector", "recall", "FP rate");
    let mut failures = Vec::new();
    for det in Masker::builtin_detectors() {
        let (hit, total) = recall[det];
        let rec = hit as f64 / total as f64;
        let denominator = if det.starts_with("ip") {
            ip_negatives
        } else {
            NEGATIVES
        };
        let fpr = counts.get(*det).copied().unwrap_or(0) as f64 / denominator as f64;
        println!("{det:<24} {rec:>8.4} {fpr:>10.5}");
        if rec < 0.99 || fpr > 0.001 {
            failures.push(det.to_string());
        }
    }
    assert!(failures.is_empty(), "below target: {failures:?}");
}

#[test]
fn masking_is_idempotent_and_total() {
    let mut r = Rng::new(42);
    let styles = [
        Style::Label,
        Style::Redact,
        Style::Partial { keep: 4 },
        Style::Hash,
    ];
    let maskers: Vec<Masker> = styles
        .iter()
        .map(|s| {
            let config = MaskerConfig {
                enable: vec!["ipv4".into(), "ipv6".into()],
                styles: Masker::builtin_detectors()
                    .iter()
                    .map(|d| (d.to_string(), s.clone()))
                    .collect(),
                hash_key: [3; 32],
                ..MaskerConfig::default()
            };
            Masker::new(&config).expect("valid")
        })
        .collect();
    for round in 0..3000 {
        let mut text = String::new();
        for _ in 0..r.range(1, 4) {
            let det = *r.pick(Masker::builtin_detectors());
            let (inner, _) = positive(&mut r, det);
            text.push_str(&embed(&mut r, &inner));
            if r.chance(50) {
                text.push_str(&negative(&mut r).1);
            }
        }
        for m in &maskers {
            let once = m.mask_str(&text).into_owned();
            let again = m.findings(once.as_bytes());
            assert!(
                again.is_empty(),
                "round {round}: {again:?} in {once:?} (from {text:?})"
            );
        }
        // Arbitrary bytes, invalid UTF-8 included: must not panic.
        let n = r.range(0, 300);
        let mut bytes: Vec<u8> = (0..n).map(|_| r.next() as u8).collect();
        let splice = r.below(bytes.len() + 1);
        bytes.splice(splice..splice, text.bytes().take(80));
        for m in &maskers {
            let masked = m.mask_bytes(&bytes);
            let _ = m.findings(&masked);
        }
    }
}
