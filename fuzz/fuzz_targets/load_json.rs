//! Loading any text as every JSON value a host hands core: record, policy
//! (compiled), format, engine config, mint options, rate-limit state, quota,
//! extraction config, record update, request.
//!
//! Invariants: no panic; errors carry their loader's documented code family.
#![no_main]

use keyproof::ErrorFamily;
use libfuzzer_sys::fuzz_target;

fn config_error<T>(r: keyproof::Result<T>) {
    if let Err(e) = r {
        assert_eq!(e.kind().family(), ErrorFamily::Config, "{}: {}", e.code(), e.message());
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    config_error(keyproof::KeyRecord::from_json(text));
    config_error(keyproof::Policy::from_json(text).and_then(|p| p.compile()));
    config_error(keyproof::KeyFormat::from_json(text));
    config_error(keyproof::Engine::from_json(text));
    config_error(keyproof::MintOptions::from_json(text));
    config_error(keyproof::RateLimitState::from_json(text));
    config_error(keyproof::Quota::from_json(text));
    config_error(keyproof::ExtractionConfig::from_json(text));
    config_error(keyproof::RecordUpdate::from_json(text));
    let _ = keyproof::Request::from_json(text);
});
