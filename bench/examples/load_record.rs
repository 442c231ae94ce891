//! A loop loading one stored record from its JSON text, for `perf record` (not run
//! by tests): what a lookup that returns stored text or a host object costs in core.
//! `cargo build --release -p keyproof-bench --example load_record && perf record target/release/examples/load_record`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use keyproof::{Engine, KeyRecord, MintOptions};

fn main() {
    let engine = Engine::from_json(r#"{"formats": ["keyproof_live"]}"#).unwrap();
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
    let mut options = MintOptions::named("Bench key");
    options.scopes = vec!["briefs:read".into()];
    options.allowed_ips = vec!["10.0.0.0/8".parse().unwrap()];
    let minted = engine.mint("keyproof_live", &options, &[42u8; 32], now).unwrap();
    let text = minted.record.to_json();
    let n = 1_000_000u32;
    let start = std::time::Instant::now();
    let mut total = 0usize;
    for _ in 0..n {
        total += KeyRecord::from_json(&text).unwrap().scopes.len();
    }
    println!("{:.0} ns per load ({total})", start.elapsed().as_nanos() as f64 / f64::from(n));
}
