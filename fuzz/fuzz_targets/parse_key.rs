//! Parsing any byte string with every preset loaded must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let (Ok(set), Ok(text)) = (keyproof::presets::all_set(), std::str::from_utf8(data)) {
        let _ = keyproof::parse_key(&set, text);
    }
});
