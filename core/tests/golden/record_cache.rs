//! Record-cache vectors (kind `record_cache`): sequences of requests through
//! core's host loop with the engine's `record_cache`, each vector on a fresh
//! engine. Each step pins the decision and what the host was asked: how many
//! lookups reached its store, whether it saved an upgraded record and wrote the
//! last use; each vector ends with the cache's counters.

use chrono::{DateTime, Duration, Utc};
use keyproof::{Action, Completion, Engine, EngineConfig, Hasher, KeyRecord, Request};
use serde_json::{json, Value};

use super::{bearer, req, t0, Suite, VectorFile};

const PEPPER_HEX: &str = "6b657970726f6f662d746573742d7065707065722d33322d62797465732d2121";

/// The engine of one vector: the file's config with the vector's `record_cache`.
fn engine_for(file_config: &Value, v: &Value) -> Engine {
    let mut config = file_config.clone();
    config["record_cache"] = v["record_cache"].clone();
    Engine::from_config(EngineConfig::from_json(&config.to_string()).unwrap(), None).unwrap()
}

/// Runs a vector's steps as a host would: the store is the file's records,
/// changed by each step's `before` operations; returns each step's result and
/// the cache's counters at the end.
pub fn host(file_config: &Value, records: &[KeyRecord], v: &Value) -> (Vec<Value>, Value) {
    let engine = engine_for(file_config, v);
    let mut store = records.to_vec();
    let mut results = Vec::new();
    for step in v["steps"].as_array().unwrap() {
        for op in step["before"].as_array().into_iter().flatten() {
            if let Some(id) = op["delete"].as_str() {
                store.retain(|r| r.id != id);
            }
            if let Some(id) = op["invalidate"].as_str() {
                engine.record_cache().unwrap().invalidate(id);
            }
        }
        let request: Request = serde_json::from_value(step["request"].clone()).unwrap();
        let now = keyproof::timestamp::parse_timestamp(step["now"].as_str().unwrap()).unwrap();
        let (mut lookups, mut saved, mut touched) = (0, false, false);
        let mut c = Completion::new(engine.begin_request(&request, now));
        let decision = loop {
            match c.next_action() {
                Action::LookupRecord(hash) => {
                    lookups += 1;
                    let found = store.iter().find(|r| r.hash == hash).cloned();
                    c.record(found);
                }
                Action::LoadRateState(_) => c.rate_state(None),
                Action::CompareAndSet(_) => c.written(true),
                Action::SaveRecord(record) => {
                    let record = record.clone();
                    store.iter_mut().filter(|r| r.id == record.id).for_each(|r| *r = record.clone());
                    saved = true;
                    c.saved();
                }
                Action::TouchLastUsed { key_id, at } => {
                    store.iter_mut().filter(|r| r.id == key_id).for_each(|r| r.last_used_at = Some(at));
                    touched = true;
                    c.touched();
                }
                Action::CountRequest { .. } => c.counted(),
                Action::StoreContended => panic!("no rate limits here"),
                Action::Done(decision) => break decision.clone(),
            }
        };
        results.push(json!({"code": decision.code, "status": decision.status, "lookups": lookups,
            "saved": saved, "touched": touched}));
    }
    (results, serde_json::to_value(engine.record_cache().unwrap().stats()).unwrap())
}

/// Runs every vector of a `record_cache` file; the codes it covers.
pub fn run(file: &Value) -> Vec<String> {
    let records: Vec<KeyRecord> =
        file["records"].as_array().unwrap().iter().map(|r| KeyRecord::from_json(&r.to_string()).unwrap()).collect();
    let mut codes = Vec::new();
    for v in file["vectors"].as_array().unwrap() {
        let (results, stats) = host(&file["config"], &records, v);
        for (step, got) in v["steps"].as_array().unwrap().iter().zip(&results) {
            assert_eq!(got, &step["expected"], "{}", v["name"]);
            codes.push(got["code"].as_str().unwrap().to_string());
        }
        assert_eq!(stats, v["stats"], "{}: stats", v["name"]);
    }
    codes
}

/// A step: at `t0 + seconds`, `request`, which must end in `code` after `lookups` store lookups.
fn step(seconds: i64, request: &Request, code: &str, lookups: u32) -> Value {
    let now: DateTime<Utc> = t0() + Duration::seconds(seconds);
    json!({"now": keyproof::timestamp::format_timestamp(&now), "request": request,
        "expected": {"code": code, "lookups": lookups}})
}

/// `step` after the host changed its store (`{"delete": id}`) or told the cache (`{"invalidate": id}`).
fn step_after(before: Value, seconds: i64, request: &Request, code: &str, lookups: u32) -> Value {
    let mut s = step(seconds, request, code, lookups);
    s["before"] = before;
    s
}

pub fn suite() -> VectorFile {
    let config = json!({
        "formats": ["keyproof_live"],
        "hashing": {"algorithm": "hmac-sha256", "pepper_hex": PEPPER_HEX},
        "policy": {"unknown_routes": "authenticate"}
    });
    let mut s = Suite::new("record_cache", "", config.clone());
    let named = |name: &str| json!({"name": name});
    let a = s.mint("a", "keyproof_live", named("Key A"));
    let b = s.mint("b", "keyproof_live", named("Key B"));
    let expiring = s.mint_with("expiring", "keyproof_live", named("Expiring"), |r| {
        r.expires_at = Some(t0() + Duration::seconds(20));
    });
    let revoked = s.mint_with("revoked", "keyproof_live", named("Revoked"), |r| {
        r.revoke(t0() - Duration::days(1)).unwrap();
    });
    let legacy = s.mint("legacy", "keyproof_live", named("Legacy sha256"));
    let legacy_parsed = s.engine.parse(&legacy).unwrap();
    let plain = Hasher::default().hash(legacy_parsed.format(), &legacy_parsed).unwrap();
    let record = s.records.last_mut().unwrap();
    (record.hash, record.fingerprint) = (plain.clone(), keyproof::fingerprint(&plain));
    let id = |i: usize| s.records[i].id.clone();
    let (a_id, b_id) = (id(0), id(1));
    // Well-formed keys no store holds: minted, their records dropped.
    let mut unstored = |label: &str| {
        let key = s.mint(label, "keyproof_live", named(label));
        s.records.pop();
        key
    };
    let (unknown, x) = (unstored("unknown"), unstored("x"));
    let get = |key: &str| req("GET", "/v1/things", bearer(key));
    let (ga, gb, gx, gu) = (get(&a), get(&b), get(&x), get(&unknown));
    // Unknown keys are looked up under both hashes (HMAC, then the legacy SHA-256).
    let vectors = vec![
        (
            "a record answers lookups for ttl_seconds",
            json!({}),
            vec![step(0, &ga, "ok", 1), step(10, &ga, "ok", 0), step(29, &ga, "ok", 0), step(30, &ga, "ok", 1)],
        ),
        (
            "a key deleted elsewhere still answers until its entry expires",
            json!({}),
            vec![
                step(0, &ga, "ok", 1),
                step_after(json!([{"delete": a_id}]), 10, &ga, "ok", 0),
                step(30, &ga, "unknown_key", 2),
            ],
        ),
        (
            "invalidate forgets a key at once",
            json!({}),
            vec![
                step(0, &ga, "ok", 1),
                step_after(json!([{"delete": a_id}, {"invalidate": a_id}]), 1, &ga, "unknown_key", 2),
            ],
        ),
        (
            "unknown keys are remembered for absent_ttl_seconds",
            json!({}),
            vec![step(0, &gu, "unknown_key", 2), step(4, &gu, "unknown_key", 0), step(5, &gu, "unknown_key", 2)],
        ),
        (
            "absent_ttl_seconds 0 remembers no unknown key",
            json!({"absent_ttl_seconds": 0}),
            vec![step(0, &gu, "unknown_key", 2), step(1, &gu, "unknown_key", 2)],
        ),
        (
            "the last use written through the cache is remembered",
            json!({"ttl_seconds": 300}),
            vec![step(0, &gb, "ok", 1), step(30, &gb, "ok", 0), step(60, &gb, "ok", 0), step(90, &gb, "ok", 0)],
        ),
        (
            "a saved hash upgrade replaces the cached entries",
            json!({}),
            vec![step(0, &get(&legacy), "ok", 2), step(1, &get(&legacy), "ok", 0)],
        ),
        (
            "the least recently used record makes room",
            json!({"max_records": 1}),
            vec![step(0, &ga, "ok", 1), step(1, &gb, "ok", 1), step(2, &ga, "ok", 1)],
        ),
        (
            "unknown keys never evict a record",
            json!({"max_records": 1, "max_absent": 1}),
            vec![
                step(0, &ga, "ok", 1),
                step(1, &gx, "unknown_key", 2),
                step(2, &gu, "unknown_key", 2),
                step(3, &ga, "ok", 0),
                step(4, &gx, "unknown_key", 2),
            ],
        ),
        (
            "expiry is judged at each request, not when the record was cached",
            json!({}),
            vec![step(0, &get(&expiring), "ok", 1), step(20, &get(&expiring), "key_expired", 0)],
        ),
        (
            "a revoked record is cached like any other",
            json!({}),
            vec![step(0, &get(&revoked), "key_revoked", 1), step(1, &get(&revoked), "key_revoked", 0)],
        ),
        (
            "a key invalidated for another key's change stays cached",
            json!({}),
            vec![step(0, &ga, "ok", 1), step_after(json!([{"invalidate": b_id}]), 1, &ga, "ok", 0)],
        ),
    ];
    let mut out = Vec::new();
    for (name, cache, steps) in vectors {
        let mut v = json!({"name": name, "record_cache": cache, "steps": steps});
        let (results, stats) = host(&config, &s.records, &v);
        for (step, got) in v["steps"].as_array_mut().unwrap().iter_mut().zip(results) {
            let stated = &step["expected"];
            assert_eq!((&got["code"], &got["lookups"]), (&stated["code"], &stated["lookups"]), "{name}");
            step["expected"] = got;
        }
        v["stats"] = stats;
        out.push(v);
    }
    let records: Vec<Value> = s.records.iter().map(|r| serde_json::from_str(&r.to_json()).unwrap()).collect();
    let count = out.len();
    VectorFile {
        name: "record_cache".into(),
        json: json!({
            "kind": "record_cache",
            "description": "The engine's record_cache through the host loop: each vector is a fresh engine whose \
                requests run in order; each step pins the decision, the lookups that reached the store and whether \
                the host saved or touched the record; the vector ends with the cache's counters",
            "config": config,
            "records": records,
            "vectors": out,
        }),
        count,
    }
}
