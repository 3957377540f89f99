//! Throughput of `Masker::mask_bytes` with every built-in detector on, on
//! clean and PII-dense text, as one 64 KiB buffer and as many ~40-byte
//! values (a DataRow field), where per-call overhead dominates.

use std::hint::black_box;
use std::time::Duration;

use airlock_mask::{Masker, MaskerConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "common/inputs.rs"]
mod inputs;
use inputs::{LONG, Lcg, clean_value, pii_value, values};

fn long(values: &[Vec<u8>]) -> Vec<u8> {
    let mut buf = values.join(&b'\n');
    buf.truncate(LONG);
    buf
}

fn masker() -> Masker {
    let config = MaskerConfig {
        enable: vec!["ipv4".into(), "ipv6".into()],
        ..MaskerConfig::default()
    };
    match Masker::new(&config) {
        Ok(m) => m,
        Err(e) => panic!("bench config: {e}"),
    }
}

fn bench(c: &mut Criterion) {
    let m = masker();
    let mut group = c.benchmark_group("mask_bytes");
    group
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30);
    for (name, make) in [
        ("clean", clean_value as fn(&mut Lcg) -> String),
        ("pii", pii_value),
    ] {
        let short = values(7, make, LONG);
        let buf = long(&short);
        group.throughput(Throughput::Bytes(buf.len() as u64));
        group.bench_function(format!("{name}/64KiB"), |b| {
            b.iter(|| m.mask_bytes(black_box(&buf)).len())
        });
        let bytes: usize = short.iter().map(Vec::len).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(
            format!("{name}/short_values(avg {}B)", bytes / short.len()),
            |b| {
                b.iter(|| {
                    short
                        .iter()
                        .map(|v| m.mask_bytes(black_box(v)).len())
                        .sum::<usize>()
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
