//! Minting (`keyproof::mint`) from fuzzed mint-options JSON, random bytes and
//! clocks for every preset format (and a seam format), plus expiry presets
//! (`expiry_from_preset`) on any clock.
//!
//! Invariants: no panic; an accepted preset is `[1-9][0-9]*[dwmy]`, lands after
//! the clock and at most ten years (and a month) later, and is monotone in its
//! number; a minted key parses with its format, hashes to the record's hash,
//! matches the record's preview, format and environment; the record validates,
//! round-trips through JSON and never contains the key or its secret part; its
//! expiry lies after the clock; the same inputs mint the same key.
#![no_main]

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use keyproof::{expiry_from_preset, mint, parse_with, FormatSet, Hasher, KeyFormat, KeyRecord, MintOptions};
use keyproof_fuzz::{clock, Input};
use libfuzzer_sys::fuzz_target;

struct World {
    formats: Vec<KeyFormat>,
    set: FormatSet,
    hashers: Vec<Hasher>,
}

fn world() -> &'static World {
    static CELL: OnceLock<World> = OnceLock::new();
    CELL.get_or_init(|| {
        let mut formats = keyproof::presets::all();
        formats.push(keyproof::presets::seam_format("seam_fuzz", "fuzz_", "live"));
        let set = FormatSet::new(formats.clone()).expect("preset set");
        let hashers = vec![
            Hasher::default(),
            Hasher::new(keyproof::HashAlgorithm::HmacSha256, Some(&[7u8; 32])).expect("hmac hasher"),
        ];
        World { formats, set, hashers }
    })
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let w = world();
    let format = &w.formats[input.choose(w.formats.len())];
    let hasher = &w.hashers[input.choose(w.hashers.len())];
    let now = clock(&mut input);
    let random_len = usize::from(input.u8() % 64);
    let mut random = Vec::with_capacity(random_len);
    for _ in 0..random_len {
        random.push(input.u8());
    }
    let options_json = input.field();
    let preset = input.field();

    check_preset(&preset, now);
    for p in keyproof::EXPIRY_PRESETS {
        check_preset(p, now);
    }

    let Ok(options) = MintOptions::from_json(&options_json) else { return };
    // MintOptions serializes: what a binding hands over survives the trip.
    let text = serde_json::to_string(&options).expect("options serialize");
    assert_eq!(MintOptions::from_json(&text).ok().as_ref(), Some(&options), "options do not round-trip: {text}");

    let Ok(minted) = mint(format, hasher, &options, &random, now) else { return };
    let key = minted.key.expose();
    let record = &minted.record;
    let parsed = parse_with(format, key).expect("a minted key parses with its format");
    let check = hasher.verify(format, &parsed, &record.hash).expect("the record's hash is well-formed");
    assert!(check.matched && !check.should_rehash, "the minted key does not match its record");
    // With every preset loaded at once, the key is still recognised as its own format.
    let by_set = keyproof::parse_key(&w.set, key).map(|p| p.format_id().to_string());
    assert_eq!(by_set.as_ref().ok(), Some(&format.id), "{} key read as {by_set:?}", format.id);
    assert_eq!(record.preview, parsed.preview());
    assert_eq!(
        (record.format.as_str(), record.environment.as_str()),
        (format.id.as_str(), format.environment.as_str())
    );
    assert_eq!(record.fingerprint, keyproof::fingerprint(&record.hash));
    assert_eq!((record.created_at, record.updated_at), (now, now));
    assert!(record.expires_at.is_none_or(|e| e > now), "minted an expired key");
    record.validate().expect("a minted record validates");
    let json = record.to_json();
    // The fuzzer learns the key from these comparisons and may put it into the
    // options (a name, a role): only text core wrote itself must not hold it.
    assert!(options_json.contains(key) || !json.contains(key), "the record holds the key");
    let echoed = options_json.contains(parsed.secret_part());
    assert!(
        parsed.secret_part().len() < 16 || echoed || !json.contains(parsed.secret_part()),
        "the record holds the secret"
    );
    // Finding F1 (artifacts-found/README.md): a minted record always loads back.
    match KeyRecord::from_json(&json) {
        Ok(again) => assert!(again == *record, "the minted record changed in a round trip: {json}"),
        Err(e) => panic!("a minted record does not load ({}: {}): {json}", e.code(), e.message()),
    }
    let again = mint(format, hasher, &options, &random, now).expect("minting is deterministic");
    assert_eq!(again.key.expose(), key);
    assert!(again.record == *record);
});

fn check_preset(preset: &str, now: DateTime<Utc>) {
    let Ok(at) = expiry_from_preset(preset, now) else { return };
    let (number, unit) = preset.split_at(preset.len() - 1);
    assert!(matches!(unit, "d" | "w" | "m" | "y"), "accepted {preset:?}");
    assert!(!number.starts_with('0') && !number.is_empty() && number.bytes().all(|c| c.is_ascii_digit()));
    assert!(at > now, "{preset} from {now} gives {at}");
    let span = at.signed_duration_since(now);
    assert!(span <= chrono::TimeDelta::days(3660 + 31), "{preset} is more than ten years");
    // One unit more never lands earlier.
    if let Ok(n) = number.parse::<u32>() {
        if let Ok(later) = expiry_from_preset(&format!("{}{unit}", n + 1), now) {
            assert!(later > at, "{preset}: {at}; one more: {later}");
        }
    }
}
