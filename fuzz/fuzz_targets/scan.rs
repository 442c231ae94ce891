//! Scanning and redacting any text (the scanner is built once per process).
//!
//! Invariants: no panic; findings lie on character boundaries in order, their
//! text parses with their format; redaction removes every finding (scanning
//! the redacted text finds nothing) and is idempotent.
#![no_main]

use std::sync::OnceLock;

use keyproof::{FormatSet, Scanner};
use libfuzzer_sys::fuzz_target;

fn world() -> &'static (FormatSet, Scanner) {
    static CELL: OnceLock<(FormatSet, Scanner)> = OnceLock::new();
    CELL.get_or_init(|| {
        let set = keyproof::presets::all_set().expect("presets load");
        let scanner = Scanner::new(&set);
        (set, scanner)
    })
}

fuzz_target!(|data: &[u8]| {
    let (set, scanner) = world();
    let text = String::from_utf8_lossy(data);
    let findings = scanner.scan(&text);
    let mut last_end = 0;
    for f in &findings {
        assert!(f.start >= last_end && f.start < f.end, "overlapping or empty finding");
        last_end = f.end;
        let key = text.get(f.start..f.end).expect("a finding lies on character boundaries");
        let format = set.get(&f.format_id).expect("a finding names a loaded format");
        assert!(keyproof::parse_with(format, key).is_ok(), "a finding does not parse: {key:?}");
        assert_eq!(f.char_end - f.char_start, key.chars().count());
    }
    let redacted = scanner.redact(&text);
    let rescanned = scanner.scan(&redacted);
    assert!(rescanned.is_empty(), "redaction left keys: {rescanned:?}");
    assert_eq!(scanner.redact(&redacted), redacted, "redaction is not idempotent");
});
