//! Any request (method, path, headers, IP) through a full engine (built once
//! per process) with no record found: the early steps 1–5. Every peer is a
//! trusted proxy, so a fuzzed X-Forwarded-For is always read.
//!
//! Input: `method \x01 path \x01 ip \x01 name \x01 value …` (lossy UTF-8).
//! Invariants: no panic; the decision is a denial keeping every decision
//! invariant; `decide()` and the verification step agree.
#![no_main]

use std::sync::OnceLock;

use keyproof::{Engine, Step};
use keyproof_fuzz::check_decision;
use libfuzzer_sys::fuzz_target;

const CONFIG: &str = r#"{"formats": ["keyproof_live", "matatika_client_secret"],
  "policy": {"credentials": {"methods": ["bearer", "basic", "api_key_header", "sdk_token"]},
    "routes": [{"method": "GET", "path": "/v1/{id}/x", "all_of": ["a:b"]}, {"method": "*", "path": "/v2/**"}],
    "plans": {"p": {"limit": 5, "burst": 2}}, "default_plan": "p",
    "client_ip": {"trusted_proxies": ["0.0.0.0/0", "::/0"]}}}"#;

fn engine() -> &'static Engine {
    static CELL: OnceLock<Engine> = OnceLock::new();
    CELL.get_or_init(|| Engine::from_json(CONFIG).expect("decide engine"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{1}');
    let method = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or_default();
    let ip = parts.next();
    let rest: Vec<&str> = parts.collect();
    let headers: Vec<(&str, &str)> = rest
        .chunks(2)
        .map(|c| (c.first().copied().unwrap_or_default(), c.get(1).copied().unwrap_or_default()))
        .collect();
    let engine = engine();
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap_or_default();
    let prepared = engine.prepare(method, path, &headers, ip);
    let decision = engine.decide(&prepared, None, now, None);
    assert!(!decision.allowed);
    check_decision(engine.policy(), &decision);

    let mut v = engine.begin(method, path, &headers, ip, now);
    while let Step::LookupRecord(_) = v.next_step() {
        v.record(None);
    }
    assert_eq!(v.next_step(), Step::Done);
    let outcome = v.finish();
    assert!(outcome.decision == decision, "step and decide() disagree");
    assert!(outcome.rate_write.is_none() && outcome.upgraded_record.is_none());
});
