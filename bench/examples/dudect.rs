//! A dudect-style timing check (not a CI gate): does deciding a request take
//! longer when the stored hash differs from the key's in its first byte than in
//! its last? Interleaves the two classes at random, times each decision, and
//! reports Welch's t statistic over cropped samples; |t| < 4.5 is the usual
//! "no leak detected" bound. Run:
//! `cargo run --release -p keyproof-bench --example dudect [samples]`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

use std::time::Instant;

use keyproof::{Engine, KeyRecord, MintOptions};

fn record_with_hash_flipped(record: &KeyRecord, hex_index: usize) -> KeyRecord {
    let mut r = record.clone();
    let (tag, hex) = r.hash.split_once(':').unwrap();
    let mut bytes = hex.as_bytes().to_vec();
    bytes[hex_index] = if bytes[hex_index] == b'0' { b'1' } else { b'0' };
    r.hash = format!("{tag}:{}", String::from_utf8(bytes).unwrap());
    r
}

/// Welch's t over two samples.
fn welch(a: &[f64], b: &[f64]) -> f64 {
    let stats = |x: &[f64]| {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (n, mean, var)
    };
    let (na, ma, va) = stats(a);
    let (nb, mb, vb) = stats(b);
    (ma - mb) / (va / na + vb / nb).sqrt()
}

fn main() {
    let samples: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let engine = Engine::from_json(
        r#"{"formats": ["keyproof_live"], "policy": {"routes": [{"method": "GET", "path": "/v1/x"}]}}"#,
    )
    .unwrap();
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
    let minted = engine.mint("keyproof_live", &MintOptions::named("Timing"), &[1; 32], now).unwrap();
    let headers = [("Authorization".to_string(), format!("Bearer {}", minted.key.expose()))];
    let prepared = engine.prepare("GET", "/v1/x", &headers, None);
    let first = record_with_hash_flipped(&minted.record, 0).hash;
    let last = record_with_hash_flipped(&minted.record, 63).hash;
    // One record, whose hash buffer is rewritten before each sample: both classes
    // read the same memory, so cache-line placement cannot tell them apart.
    let mut record = minted.record.clone();
    let mut class_a = Vec::with_capacity(samples / 2 + 1);
    let mut class_b = Vec::with_capacity(samples / 2 + 1);
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..samples {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let pick_first = rng & 1 == 0;
        record.hash.clear();
        record.hash.push_str(if pick_first { &first } else { &last });
        let start = Instant::now();
        let d = engine.decide(&prepared, Some(&record), now, None);
        let elapsed = start.elapsed().as_nanos() as f64;
        assert_eq!(d.code, "key_mismatch");
        if pick_first {
            class_a.push(elapsed)
        } else {
            class_b.push(elapsed)
        }
    }
    // Crop the slowest 10 % of each class (interrupts, page faults), as dudect does.
    for v in [&mut class_a, &mut class_b] {
        v.sort_by(|x, y| x.partial_cmp(y).unwrap());
        v.truncate(v.len() * 9 / 10);
    }
    let t = welch(&class_a, &class_b);
    let median = |v: &[f64]| v[v.len() / 2];
    println!(
        "samples {samples}: first-byte mismatch median {:.0} ns, last-byte {:.0} ns, Welch |t| = {:.2} ({})",
        median(&class_a),
        median(&class_b),
        t.abs(),
        if t.abs() < 4.5 { "no leak detected" } else { "POSSIBLE LEAK" }
    );
}
