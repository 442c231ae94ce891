//! Loading any text as a record, policy, format, engine config or mint options must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = keyproof::KeyRecord::from_json(text);
        let _ = keyproof::Policy::from_json(text).and_then(|p| p.compile());
        let _ = keyproof::KeyFormat::from_json(text);
        let _ = keyproof::Engine::from_json(text);
        let _ = keyproof::MintOptions::from_json(text);
        let _ = keyproof::RateLimitState::from_json(text);
    }
});
