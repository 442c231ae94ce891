//! Any request (method, path, headers, IP) through a full engine must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

const CONFIG: &str = r#"{"formats": ["keyproof_live", "matatika_client_secret", "seam"],
  "policy": {"credentials": {"methods": ["bearer", "basic", "api_key_header", "sdk_token"]},
    "routes": [{"method": "GET", "path": "/v1/{id}/x", "all_of": ["a:b"]}, {"method": "*", "path": "/v2/**"}],
    "plans": {"p": {"limit": 5, "burst": 2}}, "default_plan": "p"}}"#;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{1}');
    let method = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or_default();
    let ip = parts.next();
    let rest: Vec<&str> = parts.collect();
    let headers: Vec<(&str, &str)> = rest.chunks(2).map(|c| (c.first().copied().unwrap_or_default(), c.get(1).copied().unwrap_or_default())).collect();
    if let Ok(engine) = keyproof::Engine::from_json(CONFIG) {
        let prepared = engine.prepare(method, path, &headers, ip);
        let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap_or_default();
        let decision = engine.decide(&prepared, None, now, None);
        assert!(!decision.allowed);
    }
});
