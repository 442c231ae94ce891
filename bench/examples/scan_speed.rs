//! Leak-scan throughput: writes a generated text of `MiB` mebibytes (random
//! words, every preset's key sprinkled in) to `path`, scans it with every
//! preset and prints `{"bytes": …, "seconds": …, "findings": …}` (best of 3).
//! Used by `bench/run`, which times ripgrep and Python `re` on the same file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::Write;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "target/scan-bench.txt".into());
    let mib: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(32);
    let set = keyproof::presets::all_set().unwrap();
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
    let keys: Vec<String> = keyproof::presets::all()
        .iter()
        .filter(|f| !f.prefix.is_empty())
        .enumerate()
        .map(|(i, f)| {
            let m = keyproof::mint(
                f,
                &keyproof::Hasher::default(),
                &keyproof::MintOptions::named("Bench"),
                &[i as u8 + 1; 32],
                now,
            );
            m.unwrap().key.expose().to_string()
        })
        .collect();
    let words =
        ["the", "quick", "config", "token", "value", "export", "API_KEY=", "sk_", "kp_", "user_id", "error", "ghp"];
    let mut text = String::with_capacity(mib << 20);
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    while text.len() < mib << 20 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        if rng % 97 == 0 {
            text.push_str(&keys[(rng >> 8) as usize % keys.len()]);
        } else {
            text.push_str(words[(rng >> 8) as usize % words.len()]);
        }
        text.push(if rng % 11 == 0 { '\n' } else { ' ' });
    }
    std::fs::File::create(&path).unwrap().write_all(text.as_bytes()).unwrap();
    let scanner = keyproof::Scanner::new(&set);
    let mut best = f64::MAX;
    let mut findings = 0;
    for _ in 0..3 {
        let start = Instant::now();
        findings = scanner.scan(&text).len();
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!("{{\"bytes\": {}, \"seconds\": {best:.6}, \"findings\": {findings}}}", text.len());
}
