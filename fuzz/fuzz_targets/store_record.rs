//! What the CLI store reads back from SQLite: key records (`KeyRecord::from_json`)
//! and custom formats (`KeyFormat::from_json`) from fuzzed text.
//!
//! Invariants: no panic; a record that loads validates, and `to_json` →
//! `from_json` gives the same record (and the same text again); a format that
//! loads round-trips the same way; `effective_status` answers on any clock.
#![no_main]

use keyproof::{KeyFormat, KeyRecord};
use keyproof_fuzz::Input;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Plain text inputs (the golden records) and framed ones both work: the
    // first field is the JSON, the control bytes pick a clock.
    let mut input = Input::new(data);
    let secs = input.i64();
    let texts = [std::str::from_utf8(data).ok().map(std::borrow::Cow::Borrowed), Some(input.field())];
    for text in texts.into_iter().flatten() {
        if let Ok(record) = KeyRecord::from_json(&text) {
            record.validate().expect("a loaded record validates");
            let json = record.to_json();
            let again = KeyRecord::from_json(&json);
            match &again {
                Ok(r) => assert!(*r == record, "the record changed in a round trip:\n{text}\n{json}"),
                Err(e) => {
                    panic!("a loaded record does not load again ({}: {}):\n{text}\n{json}", e.code(), e.message())
                }
            }
            assert_eq!(again.map(|r| r.to_json()).ok().as_deref(), Some(json.as_str()), "unstable JSON");
            let now = chrono::DateTime::from_timestamp(secs % 250_000_000_000, 0).unwrap_or_default();
            let status = record.effective_status(now);
            assert!(["active", "disabled", "revoked", "expired", "rotated", "rotating"].contains(&status));
        }
        if let Ok(format) = KeyFormat::from_json(&text) {
            let json = format.to_json();
            let again = KeyFormat::from_json(&json);
            assert!(again.as_ref().ok() == Some(&format), "the format changed in a round trip:\n{text}\n{json}");
        }
    }
});
