//! Compatibility with keys and hashes produced by Seam's real `prefixed-api-key`
//! npm package (tests/fixtures/seam, see NOTES.md there).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::BTreeSet;

use keyproof::format::{FormatSet, KeyFormat};
use keyproof::hash::{HashAlgorithm, Hasher};
use keyproof::{parse_key, presets, Alphabet, ErrorKind};
use serde_json::Value;

struct FixtureKey {
    key_prefix: String,
    token: String,
    short_token: String,
    long_token: String,
    long_token_hash: String,
    package_check: bool,
    package_extract_short_token: String,
}

fn fixture() -> Vec<FixtureKey> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/seam/keys.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["package"], "prefixed-api-key");
    let field = |k: &Value, name: &str| k[name].as_str().unwrap_or_else(|| panic!("missing {name}")).to_string();
    let keys: Vec<FixtureKey> = json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| FixtureKey {
            key_prefix: field(k, "key_prefix"),
            token: field(k, "token"),
            short_token: field(k, "short_token"),
            long_token: field(k, "long_token"),
            long_token_hash: field(k, "long_token_hash"),
            package_check: k["package_check"].as_bool().unwrap(),
            package_extract_short_token: field(k, "package_extract_short_token"),
        })
        .collect();
    assert!(keys.len() >= 12, "the fixture has 12 keys");
    keys
}

fn format_id(key_prefix: &str) -> String {
    format!("seam_compat_{key_prefix}")
}

fn formats(keys: &[FixtureKey]) -> Vec<KeyFormat> {
    let prefixes: BTreeSet<&str> = keys.iter().map(|k| k.key_prefix.as_str()).collect();
    prefixes.into_iter().map(|p| presets::seam_format(&format_id(p), p, "live")).collect()
}

fn set(keys: &[FixtureKey]) -> FormatSet {
    FormatSet::new(formats(keys)).unwrap()
}

/// `s` with the character at byte `index` replaced by another base58 character.
fn tamper(s: &str, index: usize) -> String {
    let original = s[index..].chars().next().unwrap();
    let replacement = Alphabet::Base58.chars().chars().find(|c| *c != original).unwrap();
    format!("{}{replacement}{}", &s[..index], &s[index + 1..])
}

#[test]
fn the_fixture_covers_the_interesting_prefixes() {
    let keys = fixture();
    let prefixes: BTreeSet<&str> = keys.iter().map(|k| k.key_prefix.as_str()).collect();
    for p in ["mycompany", "seam", "my_company"] {
        assert!(prefixes.contains(p), "{p}");
    }
    for k in &keys {
        // Internal consistency of the fixture, independent of keyproof.
        assert_eq!(k.token, format!("{}_{}_{}", k.key_prefix, k.short_token, k.long_token));
        assert_eq!(k.short_token.len(), 8);
        assert_eq!(k.long_token.len(), 24);
        assert_eq!(k.long_token_hash.len(), 64);
        assert!(k.package_check);
    }
}

#[test]
fn every_fixture_key_parses_with_its_seam_format() {
    let keys = fixture();
    let set = set(&keys);
    for k in &keys {
        let p = parse_key(&set, &k.token).unwrap_or_else(|e| panic!("{}: {e}", k.token));
        assert_eq!(p.format_id(), format_id(&k.key_prefix), "{}", k.token);
        assert_eq!(p.environment(), "live");
        assert_eq!(p.public_part(), format!("{}_{}", k.key_prefix, k.short_token), "{}", k.token);
        assert_eq!(p.secret_part(), k.long_token, "{}", k.token);
        assert_eq!(p.key().expose(), k.token);
        assert!(!format!("{p:?}").contains(&k.long_token), "Debug leaks the long token");
        // Each format parses its keys alone too.
        let own = presets::seam_format(&format_id(&k.key_prefix), &k.key_prefix, "live");
        let alone = FormatSet::new(vec![own]).unwrap();
        assert_eq!(parse_key(&alone, &k.token).unwrap().public_part(), p.public_part());
    }
}

#[test]
fn underscore_prefixes_get_the_real_short_token_unlike_the_package() {
    let keys = fixture();
    let set = set(&keys);
    let mut seen = 0;
    for k in keys.iter().filter(|k| k.key_prefix.contains('_')) {
        let p = parse_key(&set, &k.token).unwrap();
        // The package's extractShortToken returns the second `_` segment ("company").
        assert_eq!(k.package_extract_short_token, "company");
        assert_ne!(p.public_part(), format!("{}_{}", k.key_prefix, k.package_extract_short_token));
        assert_eq!(p.public_part(), format!("my_company_{}", k.short_token));
        seen += 1;
    }
    assert!(seen >= 4);
}

#[test]
fn hashes_equal_the_package_long_token_hash() {
    let keys = fixture();
    let set = set(&keys);
    let hasher = Hasher::default();
    let peppered = Hasher::new(HashAlgorithm::HmacSha256, Some(b"0123456789abcdef0123456789abcdef")).unwrap();
    for k in &keys {
        let p = parse_key(&set, &k.token).unwrap();
        let format = set.get(p.format_id()).unwrap();
        let expected = format!("seam-sha256:{}", k.long_token_hash);
        assert_eq!(hasher.hash(format, &p).unwrap(), expected, "{}", k.token);
        // The format pins seam-sha256 whatever the engine default is.
        assert_eq!(peppered.hash(format, &p).unwrap(), expected, "{}", k.token);
        let check = hasher.verify(format, &p, &expected).unwrap();
        assert!(check.matched, "{}", k.token);
        assert!(!check.should_rehash, "{}", k.token);
        assert_eq!(hasher.lookup_hashes(format, &p).first(), Some(&expected));
    }
}

#[test]
fn a_tampered_long_token_does_not_match() {
    let keys = fixture();
    let set = set(&keys);
    let hasher = Hasher::default();
    for k in &keys {
        let expected = format!("seam-sha256:{}", k.long_token_hash);
        let long_start = k.token.len() - 24;
        for index in [long_start, long_start + 11, k.token.len() - 1] {
            let tampered = tamper(&k.token, index);
            let p = parse_key(&set, &tampered).unwrap();
            let format = set.get(p.format_id()).unwrap();
            assert_ne!(hasher.hash(format, &p).unwrap(), expected, "{tampered}");
            assert!(!hasher.verify(format, &p, &expected).unwrap().matched, "{tampered}");
        }
        // Another fixture key's hash does not match either.
        let other = keys.iter().find(|o| o.long_token != k.long_token).unwrap();
        let p = parse_key(&set, &k.token).unwrap();
        let format = set.get(p.format_id()).unwrap();
        assert!(!hasher.verify(format, &p, &format!("seam-sha256:{}", other.long_token_hash)).unwrap().matched);
    }
}

#[test]
fn seam_hash_is_not_a_whole_key_hash() {
    // A plain sha256 record holding the package's hash does not match: the tag matters.
    let keys = fixture();
    let set = set(&keys);
    let hasher = Hasher::default();
    let k = &keys[0];
    let p = parse_key(&set, &k.token).unwrap();
    let format = set.get(p.format_id()).unwrap();
    let mislabelled = format!("sha256:{}", k.long_token_hash);
    let check = hasher.verify(format, &p, &mislabelled).unwrap();
    assert!(!check.matched);
    assert!(check.should_rehash);
}

#[test]
fn malformed_fixture_variants_are_rejected() {
    let keys = fixture();
    let set = set(&keys);
    let k = keys.iter().find(|k| k.key_prefix == "my_company").unwrap();
    // Separator between short and long token replaced.
    let sep = k.token.len() - 25;
    assert_eq!(&k.token[sep..=sep], "_");
    let no_sep = format!("{}x{}", &k.token[..sep], &k.token[sep + 1..]);
    assert_eq!(parse_key(&set, &no_sep).err().map(|e| e.kind()), Some(ErrorKind::MalformedKey));
    // A character outside base58 in the long token.
    let bad = format!("{}0", &k.token[..k.token.len() - 1]);
    assert_eq!(parse_key(&set, &bad).err().map(|e| e.kind()), Some(ErrorKind::BadCharacter));
    // Truncated long token.
    let short = &k.token[..k.token.len() - 1];
    assert_eq!(parse_key(&set, short).err().map(|e| e.kind()), Some(ErrorKind::WrongLength));
    // Unknown key prefix.
    let other = k.token.replacen("my_company_", "your_company_", 1);
    assert_eq!(parse_key(&set, &other).err().map(|e| e.kind()), Some(ErrorKind::UnknownPrefix));
}

#[test]
fn the_builtin_seam_preset_reads_the_seam_prefixed_fixture_keys() {
    let keys = fixture();
    let all = presets::all_set().unwrap();
    let mut seen = 0;
    for k in keys.iter().filter(|k| k.key_prefix == "seam") {
        let p = parse_key(&all, &k.token).unwrap();
        assert_eq!(p.format_id(), "seam");
        let format = all.get("seam").unwrap();
        assert_eq!(Hasher::default().hash(format, &p).unwrap(), format!("seam-sha256:{}", k.long_token_hash));
        seen += 1;
    }
    assert!(seen >= 4);
}
