//! A loop over one verification path, for `perf record` (not run by tests):
//! `cargo build --release -p keyproof-bench --example profile && perf record target/release/examples/profile full`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use keyproof::{Engine, MintOptions, Step};

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "full".into());
    let engine = Engine::from_json(
        r#"{"formats": ["matchii_live"], "policy": {"environments": ["live"], "routes": [
            {"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]},
            {"method": "POST", "path": "/v1/api-keys/{id}/rotate", "all_of": ["admin"]}]}}"#,
    )
    .unwrap();
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
    let mut options = MintOptions::named("Bench key");
    options.scopes = vec!["briefs:read".into()];
    let minted = engine.mint("matchii_live", &options, &[42u8; 32], now).unwrap();
    let key = match which.as_str() {
        "malformed" => "mk_live_tooShort".to_string(),
        _ => minted.key.expose().to_string(),
    };
    let (method, path) = if which == "scope" { ("POST", "/v1/api-keys/k/rotate") } else { ("GET", "/v1/briefs") };
    let headers = [("authorization".to_string(), format!("Bearer {key}"))];
    let shared = std::sync::Arc::new(minted.record.clone());
    let mut total = 0u64;
    for _ in 0..3_000_000 {
        if which == "borrowed" {
            // `decide` on a borrowed record: the engine's own work, no record clone.
            let prepared = engine.prepare(method, path, &headers, None);
            let found = prepared.lookup_hashes().first().is_some_and(|h| *h == minted.record.hash);
            total += u64::from(engine.decide(&prepared, found.then_some(&minted.record), now, None).status);
            continue;
        }
        let mut v = engine.begin(method, path, &headers, None, now);
        while let Step::LookupRecord(hash) = v.next_step() {
            let found = (hash == minted.record.hash).then(|| std::sync::Arc::clone(&shared));
            v.shared_record(found);
        }
        total += u64::from(v.finish().decision.status);
    }
    println!("{total}");
}
