//! Full verification of one request — the host loop over the I/O-free step, as
//! every binding runs it — and the three common denials, against the floor:
//! SHA-256 of the key plus a constant-time compare with the stored digest.
//! Goal: full verify ≤ 2× the floor. Run: `cargo bench -p keyproof-bench`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::HashMap;
use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use keyproof::{Engine, KeyRecord, MintOptions, RateLimitState, Step};
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
    let mut options = MintOptions::named("Bench key");
    options.scopes = vec!["briefs:read".into(), "matches:read".into()];
    options.plan = Some("pro".into());
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
    let minted = engine.mint("matchii_live", &options, &[42u8; 32], now).unwrap();
    (engine, minted.key.expose().to_string(), minted.record)
}

/// The host loop: records from a map of `Arc`s (shared out, as a cache would), state from a map.
fn verify(
    engine: &Engine,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    ip: Option<&str>,
    db: &HashMap<String, Arc<KeyRecord>>,
    rates: &mut HashMap<String, RateLimitState>,
) -> u16 {
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
    let mut v = engine.begin(method, path, headers, ip, now);
    loop {
        match v.next_step() {
            Step::LookupRecord(hash) => {
                let found = db.get(hash).cloned();
                v.shared_record(found);
            }
            Step::LoadRateState(key) => {
                let state = rates.get(key).copied();
                v.rate_state(state);
            }
            Step::Done => break,
        }
    }
    let outcome = v.finish();
    for w in [outcome.rate_write, outcome.usage_write].into_iter().flatten() {
        // Keep the bucket and the usage counter from filling: the bench measures the work, not a 429.
        rates.remove(&w.key);
    }
    outcome.decision.status
}

fn bench(c: &mut Criterion) {
    let (engine, key, record) = setup(CONFIG);
    let stored: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    let bearer = |k: &str| [("authorization".to_string(), format!("Bearer {k}"))];
    let headers = bearer(&key);
    let db = HashMap::from([(record.hash.clone(), Arc::new(record.clone()))]);
    let mut rates = HashMap::new();
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
            verify(&engine, black_box("GET"), black_box("/v1/briefs"), black_box(&headers), None, &db, &mut rates)
        })
    });
    group.bench_function("full_verify_borrowed_record", |b| {
        b.iter(|| {
            let prepared = engine.prepare(black_box("GET"), black_box("/v1/briefs"), black_box(&headers), None);
            let found = prepared.lookup_hashes().first().is_some_and(|h| *h == record.hash);
            black_box(engine.decide(&prepared, found.then_some(&record), now, None).status)
        })
    });
    let bad = bearer("mk_live_tooShort");
    group.bench_function("deny_malformed_key", |b| {
        b.iter(|| verify(&engine, "GET", "/v1/briefs", black_box(&bad), None, &db, &mut rates))
    });
    let unknown = bearer(&format!("{}A", &key[..key.len() - 1]));
    group.bench_function("deny_unknown_key", |b| {
        b.iter(|| verify(&engine, "GET", "/v1/briefs", black_box(&unknown), None, &db, &mut rates))
    });
    group.bench_function("deny_insufficient_scope", |b| {
        b.iter(|| verify(&engine, "POST", "/v1/api-keys/key_1/rotate", black_box(&headers), None, &db, &mut rates))
    });
    let limited =
        CONFIG.replace("\"environments\"", "\"plans\": {\"pro\": {\"limit\": 300, \"burst\": 50}}, \"environments\"");
    let (engine_rl, key_rl, record_rl) = setup(&limited);
    let headers_rl = bearer(&key_rl);
    let db_rl = HashMap::from([(record_rl.hash.clone(), Arc::new(record_rl))]);
    group.bench_function("full_verify_with_rate_limit_and_ip", |b| {
        b.iter(|| {
            verify(&engine_rl, "GET", "/v1/briefs", black_box(&headers_rl), Some("203.0.113.7"), &db_rl, &mut rates)
        })
    });
    // The same with a usage limit too: a second counter read and written per request.
    let (engine_usage, key_usage, mut record_usage) = setup(&limited);
    record_usage.usage_limit = Some(keyproof::UsageLimit { limit: 1_000_000_000, period: None, counter: None });
    let headers_usage = bearer(&key_usage);
    let db_usage = HashMap::from([(record_usage.hash.clone(), Arc::new(record_usage))]);
    group.bench_function("full_verify_with_rate_and_usage_limit", |b| {
        b.iter(|| {
            verify(
                &engine_usage,
                "GET",
                "/v1/briefs",
                black_box(&headers_usage),
                Some("203.0.113.7"),
                &db_usage,
                &mut rates,
            )
        })
    });
    // Core's whole host loop (`Completion`) over an engine with a record cache: after
    // the first request the record comes from the cache; the host's map stays empty.
    let cached_config = CONFIG.replacen('{', r#"{"record_cache": {"ttl_seconds": 3600},"#, 1);
    let (engine_cached, key_cached, record_cached) = setup(&cached_config);
    let headers_cached = bearer(&key_cached);
    let cache = engine_cached.record_cache().unwrap();
    let record_cached = Arc::new(record_cached);
    cache.put(&record_cached.hash, Some(Arc::clone(&record_cached)), now);
    group.bench_function("full_verify_completion_cached", |b| {
        b.iter(|| {
            let v = engine_cached.begin("GET", "/v1/briefs", black_box(&headers_cached), None, now);
            let mut c = keyproof::Completion::new(v);
            c.set_host_writes(false, false);
            match c.next_action() {
                keyproof::Action::Done(d) => d.status,
                other => panic!("the cache answers every lookup: {other:?}"),
            }
        })
    });
    group.finish();

    let mut build = c.benchmark_group("engine_build");
    for routes in [10usize, 100, 1_000, 10_000] {
        let table: Vec<String> = (0..routes)
            .map(|i| format!(r#"{{"method": "GET", "path": "/v1/r{i}/{{id}}", "all_of": ["s{i}:read"]}}"#))
            .collect();
        let config = format!(r#"{{"formats": ["matchii_live"], "policy": {{"routes": [{}]}}}}"#, table.join(","));
        build.bench_function(format!("routes_{routes}"), |b| b.iter(|| Engine::from_json(black_box(&config)).unwrap()));
    }
    build.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
