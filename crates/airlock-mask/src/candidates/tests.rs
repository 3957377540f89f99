//! The AVX2 block test against the portable one, and a scan with each of
//! them: the two must agree bit for bit on every window and gate set.

use crate::detectors::{ALL, Hit, On};
use crate::scan::Scanner;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Bytes every class of the block test cares about, and some it does not.
const BYTES: &[u8] = b"0123456789 -.:=@+(/_\"'AZazDdEeNnTtYyghixoaskrpeySQ\x00\x7f\x80\xc3\xff\t,";

fn random_bytes(r: &mut Rng, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            if r.below(6) == 0 {
                r.next() as u8
            } else {
                BYTES[r.below(BYTES.len())]
            }
        })
        .collect()
}

#[cfg(target_arch = "x86_64")]
fn gates(bits: u64) -> super::Gates {
    let g = |k: u32| bits >> k & 1 != 0;
    super::Gates {
        numbers: g(0),
        iban: g(1),
        email: g(2),
        ipv6: g(3),
        secrets: g(4),
        phone: g(5),
        credentials: g(6),
        pem: g(7),
        url: g(8),
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn avx2_block_test_equals_portable() {
    if !std::arch::is_x86_feature_detected!("avx2") {
        return;
    }
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..20_000 {
        let g = gates(if round < 512 { round } else { r.next() });
        let tables = super::avx2::Tables::new(g);
        let bytes = random_bytes(&mut r, super::WINDOW);
        let mut w = [0u8; super::WINDOW];
        w.copy_from_slice(&bytes);
        // Every other window is one of a value of at most 32 bytes.
        let short = round % 2 == 1;
        if short {
            w[2 + 32..].fill(0);
        }
        // SAFETY: the CPU reported AVX2 above.
        let fast = unsafe { super::avx2::stops(&w, &tables, short) };
        assert_eq!(fast, super::portable::stops(&w, g), "{g:?} {w:?}");
    }
}

const PIECES: &[&str] = &[
    " ",
    "-",
    "--",
    ":",
    "://",
    "@",
    "=",
    "+",
    "(",
    ".",
    "_",
    "\"",
    "4111 1111 1111 1111",
    "123-45-6789",
    "(555) 123-4567",
    "+44 20 7946 0958",
    "DE89 3704 0044 0532 0130 00",
    "jane@example.com",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "password=",
    "token: ",
    "s3cret",
    "postgres://app:pw@db:5432/x",
    "10.0.0.1",
    "fe80::1",
    "2001:db8::1",
    "2026-11-28T10:11:12.123Z",
    "1732790000000",
    "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----",
    "the",
    "IBAN",
    "v10.0.1",
];

fn scan(s: &Scanner, v: &[u8]) -> Vec<Hit> {
    let mut out = Vec::new();
    s.scan(v, &mut out);
    crate::scan::resolve(&mut out);
    out
}

#[test]
fn scans_with_either_block_test_agree() {
    let mut r = Rng(0x2545_F491_4F6C_DD1D);
    let all = ALL.iter().fold(On::default(), |on, b| on.with(*b));
    let sets = [all, On(all.0 & 0x5555), On(all.0 & 0xAAAA), On::default()];
    let scanners: Vec<_> = sets
        .iter()
        .map(|on| {
            (
                Scanner::with_avx2(*on, true),
                Scanner::with_avx2(*on, false),
            )
        })
        .collect();
    for _ in 0..20_000 {
        let mut v = Vec::new();
        for _ in 0..1 + r.below(12) {
            if r.below(3) == 0 {
                let n = r.below(20);
                v.extend(random_bytes(&mut r, n));
            } else {
                v.extend_from_slice(PIECES[r.below(PIECES.len())].as_bytes());
            }
        }
        for (fast, portable) in &scanners {
            assert_eq!(
                scan(fast, &v),
                scan(portable, &v),
                "{:?}",
                String::from_utf8_lossy(&v)
            );
        }
    }
}
