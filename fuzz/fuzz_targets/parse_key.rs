//! Parsing any text with every preset loaded (the set is built once per process).
//!
//! Invariants: no panic; a parsed key is the input, its format's prefix starts
//! it, its preview and public part never reveal the secret part, and hashing it
//! is deterministic and matches its own lookup hashes.
#![no_main]

use std::sync::OnceLock;

use keyproof::{FormatSet, Hasher};
use libfuzzer_sys::fuzz_target;

fn set() -> &'static FormatSet {
    static CELL: OnceLock<FormatSet> = OnceLock::new();
    CELL.get_or_init(|| keyproof::presets::all_set().expect("presets load"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(parsed) = keyproof::parse_key(set(), text) else { return };
    assert_eq!(parsed.key().expose(), text);
    assert!(text.starts_with(&parsed.format().prefix));
    let secret = parsed.secret_part();
    if secret.len() >= 16 {
        assert!(!parsed.preview().contains(secret), "the preview reveals the secret");
        assert!(!parsed.public_part().contains(secret), "the public part reveals the secret");
    }
    let hasher = Hasher::default();
    let hash = hasher.hash(parsed.format(), &parsed);
    assert_eq!(hash.as_ref().ok(), hasher.hash(parsed.format(), &parsed).as_ref().ok());
    if let Ok(hash) = hash {
        assert_eq!(hasher.lookup_hashes(parsed.format(), &parsed).first(), Some(&hash));
        assert!(hasher.verify(parsed.format(), &parsed, &hash).is_ok_and(|c| c.matched && !c.should_rehash));
    }
});
