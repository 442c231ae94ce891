//! Full verification of one request vs the floor: SHA-256 of the key plus a
//! constant-time compare with the stored digest. Goal: full ≤ 2× bare.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use keyproof::{Engine, KeyRecord, MintOptions};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const CONFIG: &str = r#"{
  "formats": ["matchii_live"],
  "policy": {
    "environments": ["live"],
    "routes": [
      {"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]},
      {"method": "POST", "path": "/v1/api-keys/{id}/rotate", "all_of": ["admin"]}
    ]
  }
}"#;

fn setup(config: &str) -> (Engine, String, KeyRecord) {
    let engine = Engine::from_json(config).unwrap();
    let format = engine.formats().get("matchii_live").unwrap().clone();
    let mut options = MintOptions::named("Bench key");
    options.scopes = vec!["briefs:read".into(), "matches:read".into()];
    options.plan = Some("pro".into());
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
    let minted = keyproof::mint(&format, engine.hasher(), &options, &[42u8; 32], now).unwrap();
    (engine, minted.key.expose().to_string(), minted.record)
}

fn bench(c: &mut Criterion) {
    let (engine, key, record) = setup(CONFIG);
    let stored: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    let headers = [("authorization".to_string(), format!("Bearer {key}"))];
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();

    let mut group = c.benchmark_group("verify");
    group.bench_function("bare_sha256_compare", |b| {
        b.iter(|| {
            let digest: [u8; 32] = Sha256::digest(black_box(key.as_bytes())).into();
            bool::from(digest.ct_eq(black_box(&stored)))
        })
    });
    group.bench_function("full_verify", |b| {
        b.iter(|| {
            let prepared = engine.prepare(black_box("GET"), black_box("/v1/briefs"), black_box(&headers), None);
            let found = prepared.lookup_hashes().first().is_some_and(|h| *h == record.hash);
            let decision = engine.decide(&prepared, found.then_some(&record), now, None);
            black_box(decision.allowed)
        })
    });
    group.bench_function("prepare_only", |b| {
        b.iter(|| {
            let prepared = engine.prepare(black_box("GET"), black_box("/v1/briefs"), black_box(&headers), None);
            black_box(prepared.lookup_hashes().len())
        })
    });
    let prepared = engine.prepare("GET", "/v1/briefs", &headers, None);
    group.bench_function("decide_only", |b| {
        b.iter(|| black_box(engine.decide(black_box(&prepared), Some(&record), now, None).allowed))
    });
    let limited =
        CONFIG.replace("\"environments\"", "\"plans\": {\"pro\": {\"limit\": 300, \"burst\": 50}}, \"environments\"");
    let (engine_rl, key_rl, record_rl) = setup(&limited);
    let headers_rl = [("authorization".to_string(), format!("Bearer {key_rl}"))];
    group.bench_function("full_verify_with_rate_limit", |b| {
        b.iter(|| {
            let prepared = engine_rl.prepare("GET", "/v1/briefs", black_box(&headers_rl), Some("203.0.113.7"));
            let found = prepared.lookup_hashes().first().is_some_and(|h| *h == record_rl.hash);
            let decision = engine_rl.decide(&prepared, found.then_some(&record_rl), now, None);
            black_box(decision.allowed)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
