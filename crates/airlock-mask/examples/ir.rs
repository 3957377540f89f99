//! Instruction-count harness for callgrind: masks the bench's inputs
//! (`benches/masker.rs`, same generator and seed) `N` times, for one case.
//! Instructions per value or byte are the difference of two runs with
//! different `N`, divided by the extra work, which cancels start-up:
//!
//! ```text
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/ir.%p \
//!     /work/target-mask/release/examples/ir pii-short 3
//! ```
//!
//! Cases: `clean-long`, `clean-short`, `pii-long`, `pii-short`; a third
//! argument keeps only the short values starting with it (one shape).

use std::hint::black_box;

use airlock_mask::{Masker, MaskerConfig};

#[path = "../benches/common/inputs.rs"]
mod inputs;
use inputs::{LONG, clean_value, pii_value, values};

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "pii-short".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let config = MaskerConfig {
        enable: vec!["ipv4".into(), "ipv6".into()],
        ..MaskerConfig::default()
    };
    let m = Masker::new(&config).expect("bench config");
    let (kind, len) = case
        .split_once('-')
        .expect("case: clean-long, pii-short, …");
    let make = if kind == "clean" {
        clean_value
    } else {
        pii_value
    };
    let mut short = values(7, make, LONG);
    // Optional: only the values that start with this text (one shape).
    if let Some(prefix) = args.next() {
        short.retain(|v| v.starts_with(prefix.as_bytes()));
    }
    let mut buf = short.join(&b'\n');
    buf.truncate(LONG);
    let mut total = 0usize;
    for _ in 0..n {
        total += match len {
            "long" => m.mask_bytes(black_box(&buf)).len(),
            _ => short
                .iter()
                .map(|v| m.mask_bytes(black_box(v)).len())
                .sum::<usize>(),
        };
    }
    let bytes: usize = short.iter().map(Vec::len).sum();
    println!(
        "{case} x{n}: {} values, {bytes} bytes (short), {} bytes (long), out {total}",
        short.len(),
        buf.len()
    );
}
