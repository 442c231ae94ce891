//! Scanning and redacting any text must never panic, and redaction must remove every finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(set) = keyproof::presets::all_set() {
        let redacted = keyproof::redact(&set, &text);
        assert!(keyproof::scan(&set, &redacted).iter().all(|f| f.preview.contains('…')));
    }
});
