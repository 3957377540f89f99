#![allow(dead_code)]

use airlock_mask::{Masker, MaskerConfig};

pub fn masker() -> Masker {
    Masker::new(&MaskerConfig::default()).expect("default config builds")
}

pub fn masker_with_ips() -> Masker {
    let config = MaskerConfig {
        enable: vec!["ipv4".into(), "ipv6".into()],
        ..MaskerConfig::default()
    };
    Masker::new(&config).expect("config with IPs builds")
}

/// Detector names found in `text`, with the matched text.
pub fn found(m: &Masker, text: &str) -> Vec<(String, String)> {
    m.findings(text.as_bytes())
        .into_iter()
        .map(|f| (f.detector.to_string(), text[f.start..f.end].to_string()))
        .collect()
}

/// Tiny deterministic PRNG (xorshift64*), enough for corpora.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn digit(&mut self) -> char {
        char::from(b'0' + self.below(10) as u8)
    }

    pub fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| self.digit()).collect()
    }

    pub fn chars_of(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| char::from(*self.pick(alphabet))).collect()
    }

    pub fn alnum(&mut self, n: usize) -> String {
        self.chars_of(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            n,
        )
    }

    pub fn hex(&mut self, n: usize) -> String {
        self.chars_of(b"0123456789abcdef", n)
    }
}
