//! Property tests: mint/parse/hash/verify round trips and no-panic guarantees.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use chrono::{DateTime, TimeZone, Utc};
use keyproof::credential::{extract, CredentialMethod, ExtractionConfig};
use keyproof::format::{FormatSet, KeyFormat};
use keyproof::hash::{HashAlgorithm, Hasher};
use keyproof::{mint, parse_key, presets, redact, scan, ErrorKind, MintOptions, MintedKey};
use proptest::prelude::*;

fn all_set() -> FormatSet {
    presets::all_set().unwrap()
}

fn any_preset() -> impl Strategy<Value = KeyFormat> {
    prop::sample::select(presets::all())
}

fn prefixed_preset() -> impl Strategy<Value = KeyFormat> {
    prop::sample::select(presets::all().into_iter().filter(|f| !f.prefix.is_empty()).collect::<Vec<_>>())
}

fn seed() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 16..80)
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 2001-09-09 .. 2033-05-18
    (1_000_000_000i64..2_000_000_000).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

fn hashers() -> [Hasher; 2] {
    [Hasher::default(), Hasher::new(HashAlgorithm::HmacSha256, Some(b"property-test-pepper-0123456789")).unwrap()]
}

fn mint_one(format: &KeyFormat, hasher: &Hasher, seed: &[u8], now: DateTime<Utc>) -> MintedKey {
    mint(format, hasher, &MintOptions::named("property key"), seed, now).unwrap()
}

/// Characters that can never be part of a key, so they delimit one in text.
fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![" ", "\n", "\r\n", ",", "\"", "'", "(", ")", ":", "=", "\t", "é", "…", "/", "."])
}

/// Text built from pieces that stress the scanner: prefixes, keys, near-keys, noise.
fn scanner_text() -> impl Strategy<Value = String> {
    let prefixes: Vec<String> = presets::all().into_iter().map(|f| f.prefix).filter(|p| !p.is_empty()).collect();
    let piece = prop_oneof![
        prop::sample::select(prefixes),
        "[A-Za-z0-9]{0,50}",
        "[ _\\-\n,.é]{1,3}",
        ".{0,8}",
        Just("kp_live_3AHOVcjqx4BIPWdkry5CJQXelsz6DK2pvSoZ".to_string()),
        Just("seam_nu29GPWd_18FNVcjry6DLTahpw4BJRYfn".to_string()),
        Just("sk_prod_b2907e5c3a18f6d4b2907e5c3a18f6d4".to_string()),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "Authorization",
            "authorization",
            "X-API-KEY",
            "x-api-key",
            "X-CLIENT-ID",
            "x-client-id",
            "X-SDK-TOKEN",
            "x-sdk-token",
            "Content-Type",
        ])
        .prop_map(String::from),
        ".{0,20}",
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,64}",
        "(Bearer|bearer|Basic|basic|Token)[ \t]{0,3}[A-Za-z0-9+/=:._~\\-]{0,60}",
        "[\\x00-\\x7f]{0,40}",
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        (0usize..6000).prop_map(|n| "k".repeat(n)),
        Just("kp_live_3AHOVcjqx4BIPWdkry5CJQXelsz6DK2pvSoZ".to_string()),
    ]
}

fn extraction_config() -> impl Strategy<Value = ExtractionConfig> {
    let methods = prop::sample::subsequence(
        vec![
            CredentialMethod::Bearer,
            CredentialMethod::ApiKeyHeader,
            CredentialMethod::Basic,
            CredentialMethod::SdkToken,
        ],
        0..=4,
    );
    (methods, 0usize..70_000).prop_map(|(methods, max_header_bytes)| ExtractionConfig {
        methods,
        max_header_bytes,
        ..ExtractionConfig::default()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mint_parse_hash_verify_round_trips(seed in seed(), now in instant()) {
        let set = all_set();
        // Every preset on every case, so none is left to chance.
        for (format, hasher) in presets::all().into_iter().flat_map(|f| hashers().map(|h| (f.clone(), h))) {
            let m = mint_one(&format, &hasher, &seed, now);
            let key = m.key.expose();
            prop_assert_eq!(key.len(), format.key_length());
            prop_assert!(key.starts_with(format.prefix.as_str()));
            let parsed = parse_key(&set, key).unwrap();
            prop_assert_eq!(parsed.format_id(), m.record.format.as_str());
            prop_assert_eq!(parsed.format_id(), format.id.as_str());
            prop_assert_eq!(parsed.environment(), m.record.environment.as_str());
            prop_assert_eq!(parsed.kind(), m.record.kind);
            prop_assert_eq!(&parsed.preview(), &m.record.preview);
            prop_assert_eq!(m.record.created_at, now);
            let check = hasher.verify(&format, &parsed, &m.record.hash).unwrap();
            prop_assert!(check.matched);
            prop_assert!(!check.should_rehash);
            prop_assert_eq!(hasher.hash(&format, &parsed).unwrap(), m.record.hash.clone());
            let debug = format!("{m:?}");
            prop_assert!(!debug.contains(key));
            prop_assert!(!m.record.to_json().contains(key));
        }
    }

    #[test]
    fn a_different_key_does_not_verify(format in any_preset(), seed in seed(), flip in any::<usize>()) {
        let set = all_set();
        let now = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        let mut other_seed = seed.clone();
        let i = flip % other_seed.len();
        other_seed[i] ^= 0x01;
        for hasher in hashers() {
            let a = mint_one(&format, &hasher, &seed, now);
            let b = mint_one(&format, &hasher, &other_seed, now);
            prop_assert_ne!(a.key.expose(), b.key.expose());
            let parsed_b = parse_key(&set, b.key.expose()).unwrap();
            prop_assert!(!hasher.verify(&format, &parsed_b, &a.record.hash).unwrap().matched);
            prop_assert_ne!(&a.record.hash, &b.record.hash);
        }
    }

    #[test]
    fn a_mutated_checksummed_key_never_verifies(
        format in any_preset().prop_filter("checksummed", |f| f.checksum.is_some()),
        seed in seed(),
        position in any::<prop::sample::Index>(),
        replacement in "[A-Za-z0-9]",
    ) {
        let set = all_set();
        let now = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        let m = mint_one(&format, &Hasher::default(), &seed, now);
        let key = m.key.expose();
        let body_start = format.prefix.len();
        let i = body_start + position.index(key.len() - body_start);
        prop_assume!(key[i..=i] != replacement);
        let mutated = format!("{}{replacement}{}", &key[..i], &key[i + 1..]);
        let err = parse_key(&set, &mutated).err().map(|e| e.kind());
        prop_assert_eq!(err, Some(ErrorKind::BadChecksum));
    }

    #[test]
    fn mint_needs_sixteen_random_bytes(seed in prop::collection::vec(any::<u8>(), 0..16)) {
        let now = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        for (format, hasher) in presets::all().into_iter().flat_map(|f| hashers().map(|h| (f.clone(), h))) {
            let err = mint(&format, &hasher, &MintOptions::named("short seed"), &seed, now).err().map(|e| e.kind());
            prop_assert_eq!(err, Some(ErrorKind::InsufficientRandomness));
        }
    }

    #[test]
    fn parse_key_never_panics_on_strings(text in ".{0,700}") {
        let _ = parse_key(&all_set(), &text);
    }

    #[test]
    fn parse_key_never_panics_on_prefixed_strings(format in any_preset(), tail in ".{0,80}") {
        let text = format!("{}{tail}", format.prefix);
        let set = all_set();
        if let Ok(p) = parse_key(&set, &text) {
            prop_assert_eq!(p.key().expose(), text.as_str());
            let debug = format!("{p:?}");
            prop_assert!(!debug.contains(&text[format.prefix.len()..]) || tail.is_empty());
        }
    }

    #[test]
    fn parse_key_never_panics_on_near_keys(
        format in any_preset(),
        seed in seed(),
        position in any::<prop::sample::Index>(),
        replacement in any::<char>(),
    ) {
        // A valid key with one character replaced by any character (possibly multi-byte).
        let now = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        let m = mint_one(&format, &Hasher::default(), &seed, now);
        let key = m.key.expose();
        let i = position.index(key.len());
        let mutated = format!("{}{replacement}{}", &key[..i], &key[i + 1..]);
        let result = parse_key(&all_set(), &mutated);
        // A character outside every format's alphabet and the separators must be refused
        // (`-` belongs to base64url: an unprefixed base64url format may accept the result).
        let set = all_set();
        let in_alphabet =
            u8::try_from(replacement).is_ok_and(|c| set.formats().iter().any(|f| f.alphabet.contains(c)));
        if !replacement.is_ascii_alphanumeric() && replacement != '_' && !in_alphabet {
            prop_assert!(result.is_err(), "{} accepted", mutated);
        }
    }

    #[test]
    fn parse_key_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..700)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_key(&all_set(), &text);
    }

    #[test]
    fn extract_never_panics(
        config in extraction_config(),
        headers in prop::collection::vec((header_name(), header_value()), 0..6),
    ) {
        if let Ok(c) = extract(&config, &headers) {
            prop_assert!(!c.secret.is_empty());
            prop_assert!(config.methods.contains(&c.method));
            prop_assert!(c.secret.len() <= config.max_header_bytes);
        }
    }

    #[test]
    fn scan_and_redact_never_panic(text in scanner_text()) {
        let set = all_set();
        let findings = scan(&set, &text);
        let mut last_end = 0;
        for f in &findings {
            prop_assert!(f.start >= last_end && f.end > f.start && f.end <= text.len());
            prop_assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
            prop_assert!(parse_key(&set, &text[f.start..f.end]).is_ok());
            last_end = f.end;
        }
        let redacted = redact(&set, &text);
        prop_assert!(scan(&set, &redacted).is_empty(), "redacted text still has keys: {:?}", redacted);
    }

    #[test]
    fn scan_never_panics_on_arbitrary_text(text in ".{0,400}") {
        let set = all_set();
        let _ = scan(&set, &text);
        let _ = redact(&set, &text);
    }

    #[test]
    fn redacted_text_contains_no_minted_key(
        format in prefixed_preset(),
        seed in seed(),
        before in scanner_text(),
        after in scanner_text(),
        sep_before in separator(),
        sep_after in separator(),
    ) {
        let now = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        let m = mint_one(&format, &Hasher::default(), &seed, now);
        let key = m.key.expose();
        let text = format!("{before}{sep_before}{key}{sep_after}{after}");
        let set = all_set();
        let start = before.len() + sep_before.len();
        let findings = scan(&set, &text);
        let found = findings.iter().find(|f| f.start == start);
        prop_assert!(found.is_some(), "key not found in {:?}", text);
        let found = found.unwrap();
        prop_assert_eq!(&found.format_id, &format.id);
        prop_assert_eq!(found.end, start + key.len());
        prop_assert_eq!(&found.preview, &m.record.preview);
        let line = 1 + text[..start].matches('\n').count();
        let column = 1 + text[..start].rsplit('\n').next().unwrap().chars().count();
        prop_assert_eq!((found.line, found.column), (line, column));
        let redacted = redact(&set, &text);
        prop_assert!(!redacted.contains(key));
        prop_assert!(redacted.contains(&m.record.preview));
    }
}

/// Hardening II finding 6: compiling a large policy and checking large scope
/// lists are linear (a functional check at a size the quadratic code took
/// seconds for; speed itself is measured in the bench, not here).
#[test]
fn large_policies_compile_and_decide() {
    let routes: Vec<serde_json::Value> = (0..40_000)
        .map(|i| serde_json::json!({"method": "GET", "path": format!("/v1/r{i}/{{id}}"), "all_of": [format!("s{i}:read")]}))
        .collect();
    let policy = keyproof::Policy::from_json(&serde_json::json!({"routes": routes}).to_string()).unwrap();
    let compiled = policy.compile().unwrap();
    assert_eq!(compiled.routes().find("GET", "/v1/r39999/7").map(|r| r.all_of[0].as_str()), Some("s39999:read"));
    let held: Vec<String> = (0..20_000).map(|i| format!("s{i}:read")).collect();
    let required: Vec<String> = (0..20_000).map(|i| format!("s{i}:read")).collect();
    assert_eq!(keyproof::scope::missing_scope(&held, &required, &[]), None);
    let mut short = held.clone();
    short.pop();
    assert_eq!(keyproof::scope::missing_scope(&short, &required, &[]).as_deref(), Some("s19999:read"));
}
