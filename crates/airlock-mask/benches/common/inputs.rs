//! The inputs the masker is measured on: a fixed pseudo-random mix of
//! clean, log-like values and PII-dense ones. Shared by the criterion
//! bench and the instruction-count harness (`examples/ir.rs`), so both
//! measure the same values.

pub const LONG: usize = 64 * 1024;

pub struct Lcg(u64);

impl Lcg {
    pub fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }

    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[self.next() % 16]))
            .collect()
    }
}

pub fn clean_value(r: &mut Lcg) -> String {
    match r.next() % 10 {
        0 => "The quick brown fox jumps over the lazy dog again".to_owned(),
        1 => format!(
            "2026-11-28T10:{:02}:{:02}.{:03}Z INFO done",
            r.next() % 60,
            r.next() % 60,
            r.next() % 1000
        ),
        2 => format!(
            "{}-{}-4{}-a{}-{}",
            r.hex(8),
            r.hex(4),
            r.hex(3),
            r.hex(3),
            r.hex(12)
        ),
        3 => r.hex(64),
        4 => format!(
            "total {}.{:02} EUR, fee {}.{:02}",
            r.next() % 100_000,
            r.next() % 100,
            r.next() % 100,
            r.next() % 100
        ),
        5 => format!(
            "order ORD-{} qty {} ref {}",
            100_000 + r.next() % 900_000,
            r.next() % 9,
            r.next() % 100_000
        ),
        6 => format!(
            "agent/{}.{}.{} build v10.0.{}",
            r.next() % 10,
            r.next() % 30,
            r.next() % 99,
            19_000 + r.next() % 999
        ),
        7 => format!(
            "level=info user_id={} latency_ms={} path=/api/v1",
            r.next() % 99_999,
            r.next() % 999
        ),
        8 => format!(
            "ts={} commit {}",
            1_732_790_000_000u64 + (r.next() % 1_000_000) as u64,
            r.hex(12)
        ),
        _ => "Customer asked to reschedule the delivery for Tuesday".to_owned(),
    }
}

pub fn pii_value(r: &mut Lcg) -> String {
    match r.next() % 10 {
        0 => format!("mail jane.doe{}@example.com", r.next() % 1000),
        1 => "card 4111 1111 1111 1111 exp 12/29".to_owned(),
        2 => format!(
            "call (555) {:03}-{:04}",
            200 + r.next() % 700,
            r.next() % 10_000
        ),
        3 => "ssn 123-45-6789 on file".to_owned(),
        4 => "postgres://app:s3cret@db.internal:5432/app".to_owned(),
        5 => format!("password={} user=bob", r.hex(12)),
        6 => "key AKIAIOSFODNN7EXAMPLE region eu".to_owned(),
        7 => "IBAN DE89 3704 0044 0532 0130 00".to_owned(),
        8 => format!("ghp_{}", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
        _ => "tel:+44 20 7946 0958 (office)".to_owned(),
    }
}

pub fn values(seed: u64, make: fn(&mut Lcg) -> String, total: usize) -> Vec<Vec<u8>> {
    let mut r = Lcg(seed);
    let mut out = Vec::new();
    let mut size = 0;
    while size < total {
        let v = make(&mut r).into_bytes();
        size += v.len();
        out.push(v);
    }
    out
}
