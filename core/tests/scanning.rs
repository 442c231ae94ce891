//! Leak scanning and redaction over text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use keyproof::format::FormatSet;
use keyproof::{presets, redact, scan, Alphabet, Finding};

// Hand-built keys (see presets.rs for how the checksums were computed independently).
const KP: &str = "kp_live_3AHOVcjqx4BIPWdkry5CJQXelsz6DK2pvSoZ";
const KP_PREVIEW: &str = "kp_live_3AHO…vSoZ";
const KP_TEST: &str = "kp_test_GNUbipw3AHOVcjqx4BIPWdkry5CJQX0ERy6x";
const KP_TEST_PREVIEW: &str = "kp_test_GNUb…Ry6x";
const GHP: &str = "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";
const AMK: &str = "amk_live_w3AHOVcjqx4BIPWdkry5CJQXelsz6DKRYfmt07EL40ni6X";
const AMK_PREVIEW: &str = "amk_live_w3AH…ni6X";
const HEX: &str = "sk_prod_b2907e5c3a18f6d4b2907e5c3a18f6d4";
const HEX_PREVIEW: &str = "sk_prod_b290…f6d4";
const MK: &str = "mk_live_Tahov29GNUbipw3AHOVcjqx4BIPWdkry";
const SEAM: &str = "seam_nu29GPWd_18FNVcjry6DLTahpw4BJRYfn";
const SEAM_PREVIEW: &str = "seam_nu29…RYfn";
const MATATIKA: &str = "Wdkry5CJQXelsz6DKRYfmt07ELSZgnu18FMTahov29GNUbipw3AHOVcjqx4BIPWd";

fn set() -> FormatSet {
    presets::all_set().unwrap()
}

fn ids(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.format_id.as_str()).collect()
}

/// (format id, byte start, line, column) of each finding.
fn places(findings: &[Finding]) -> Vec<(&str, usize, usize, usize)> {
    findings.iter().map(|f| (f.format_id.as_str(), f.start, f.line, f.column)).collect()
}

#[test]
fn key_at_the_start_of_the_text() {
    for (text, id, preview, verified) in [
        (KP, "keyproof_live", KP_PREVIEW, true),
        (HEX, "tmmate_prod", HEX_PREVIEW, false),
        (SEAM, "seam", SEAM_PREVIEW, false),
    ] {
        for text in [text.to_string(), format!("{text} is the key"), format!("{text}\nnext line")] {
            let f = scan(&set(), &text);
            assert_eq!(f.len(), 1, "{text}");
            let f = &f[0];
            assert_eq!(f.format_id, id);
            assert_eq!((f.start, f.end, f.line, f.column), (0, text.find(['\n', ' ']).unwrap_or(text.len()), 1, 1));
            assert_eq!(f.preview, preview);
            assert_eq!(f.checksum_verified, verified);
        }
    }
}

#[test]
fn key_after_punctuation() {
    for sep in
        ['=', ':', '(', '"', '\'', '`', ',', ';', '<', '>', '/', '.', '@', '!', '[', '{', '|', '*', '\t', '#', '&']
    {
        let text = format!("token{sep}{KP}{sep}");
        let f = scan(&set(), &text);
        assert_eq!(places(&f), vec![("keyproof_live", 6, 1, 7)], "{text:?}");
        assert_eq!(f[0].end, 6 + KP.len());
        assert_eq!(redact(&set(), &text), format!("token{sep}{KP_PREVIEW}{sep}"));
    }
}

#[test]
fn key_inside_json() {
    let text = format!(r#"{{"api_key":"{KP}","n":1,"other":"{HEX}"}}"#);
    let f = scan(&set(), &text);
    // Byte offsets: `{"api_key":"` is 12 bytes; the hex key follows `","n":1,"other":"`.
    let hex_start = 12 + KP.len() + r#"","n":1,"other":""#.len();
    assert_eq!(places(&f), vec![("keyproof_live", 12, 1, 13), ("tmmate_prod", hex_start, 1, hex_start + 1)]);
    assert_eq!(redact(&set(), &text), format!(r#"{{"api_key":"{KP_PREVIEW}","n":1,"other":"{HEX_PREVIEW}"}}"#));
    let pretty = format!("{{\n  \"key\": \"{KP}\"\n}}\n");
    assert_eq!(places(&scan(&set(), &pretty)), vec![("keyproof_live", 12, 2, 11)]);
}

#[test]
fn several_keys_on_one_line() {
    let text = format!("a={KP}, b={GHP}; c=({SEAM}) d {AMK}");
    let f = scan(&set(), &text);
    let b = 2 + KP.len() + 4;
    let c = b + GHP.len() + 5;
    let d = c + SEAM.len() + 4;
    assert_eq!(
        places(&f),
        vec![
            ("keyproof_live", 2, 1, 3),
            ("github_pat", b, 1, b + 1),
            ("seam", c, 1, c + 1),
            ("authmatech_api_key", d, 1, d + 1)
        ]
    );
    // Sanity: the offsets really point at the keys.
    for (finding, key) in f.iter().zip([KP, GHP, SEAM, AMK]) {
        assert_eq!(&text[finding.start..finding.end], key);
    }
}

#[test]
fn keys_on_several_lines_with_character_columns() {
    // Columns count characters: `é`, `→` and `🔑` are 2, 3 and 4 bytes but one column each.
    let text = format!("first line\r\n  export KEY={KP}\n\nnaïve → 🔑 {KP_TEST}\n\t{MK} end\n");
    let f = scan(&set(), &text);
    let expected = vec![
        ("keyproof_live", text.find(KP).unwrap(), 2, 14),
        ("keyproof_test", text.find(KP_TEST).unwrap(), 4, 11),
        ("matchii_live", text.find(MK).unwrap(), 5, 2),
    ];
    assert_eq!(places(&f), expected);
    assert_eq!(ids(&f), vec!["keyproof_live", "keyproof_test", "matchii_live"]);
    let redacted = redact(&set(), &text);
    assert_eq!(
        redacted,
        format!("first line\r\n  export KEY={KP_PREVIEW}\n\nnaïve → 🔑 {KP_TEST_PREVIEW}\n\tmk_live_Taho…dkry end\n")
    );
}

#[test]
fn overlapping_prefixes_report_the_longest_key_once() {
    // `amk_live_…` contains `mk_live_` one byte in.
    let f = scan(&set(), &format!(" {AMK} "));
    assert_eq!(places(&f), vec![("authmatech_api_key", 1, 1, 2)]);
    assert_eq!(f[0].preview, AMK_PREVIEW);
}

#[test]
fn a_flipped_checksummed_key_is_not_reported() {
    for (key, prefix_len) in [(KP, 8), (KP_TEST, 8), (GHP, 4), (AMK, 9)] {
        for index in [prefix_len, prefix_len + 10, key.len() - 7, key.len() - 1] {
            let original = key[index..].chars().next().unwrap();
            let replacement = Alphabet::Base62.chars().chars().find(|c| *c != original).unwrap();
            let flipped = format!("{}{replacement}{}", &key[..index], &key[index + 1..]);
            let text = format!("leak: {flipped}\n");
            assert!(scan(&set(), &text).is_empty(), "{flipped}");
            assert_eq!(redact(&set(), &text), text);
        }
    }
}

#[test]
fn unchecksummed_keys_match_by_shape_only() {
    let flipped = HEX.replace("b2907", "b2908");
    let f = scan(&set(), &format!("x {flipped}"));
    assert_eq!(ids(&f), vec!["tmmate_prod"]);
    assert!(!f[0].checksum_verified);
    // Wrong alphabet or length: nothing.
    for bad in [HEX.replace("b2907", "B2907"), HEX[..HEX.len() - 1].to_string(), format!("{HEX}0")] {
        assert!(scan(&set(), &format!("x {bad} y")).is_empty(), "{bad}");
    }
}

#[test]
fn key_boundaries_follow_the_alphabet_not_whitespace() {
    for key in [KP, HEX, SEAM, GHP, MK] {
        // Anything may come before a key; a non-alphabet character may follow it.
        for text in [format!("x{key}"), format!("_{key}"), format!("-{key}"), format!("9{key}"), format!("{key}-")] {
            let found = scan(&set(), &text);
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(&text[found[0].start..found[0].end], key, "{text}");
            assert_ne!(redact(&set(), &text), text);
        }
        // A longer run of alphabet characters is not this key.
        for text in [format!("{key}x"), format!("{key}0"), format!("a {key}Z b")] {
            assert!(scan(&set(), &text).is_empty(), "{text}");
            assert_eq!(redact(&set(), &text), text);
        }
    }
}

#[test]
fn unprefixed_formats_are_not_scanned() {
    assert!(scan(&set(), &format!("secret = {MATATIKA}\n")).is_empty());
}

#[test]
fn redact_replaces_every_key_with_its_preview() {
    let text = format!("{KP} and {HEX}\n{SEAM}");
    let redacted = redact(&set(), &text);
    assert_eq!(redacted, format!("{KP_PREVIEW} and {HEX_PREVIEW}\n{SEAM_PREVIEW}"));
    for key in [KP, HEX, SEAM] {
        assert!(!redacted.contains(key));
    }
    // Redacting twice changes nothing more, and text without keys is unchanged.
    assert_eq!(redact(&set(), &redacted), redacted);
    assert_eq!(redact(&set(), "no keys here, kp_live_ alone"), "no keys here, kp_live_ alone");
    assert_eq!(redact(&set(), ""), "");
}

#[test]
fn findings_hold_no_secret() {
    let text = format!("{KP} {SEAM} {HEX}");
    let f = scan(&set(), &text);
    assert_eq!(f.len(), 3);
    let json = serde_json::to_string(&f).unwrap();
    let debug = format!("{f:?}");
    for key in [KP, SEAM, HEX] {
        assert!(!json.contains(key) && !debug.contains(key), "{key}");
    }
    assert!(!json.contains("18FNVcjry6DLTahpw4BJRYfn"), "seam long token leaked");
}

#[test]
fn hostile_megabyte_inputs_finish() {
    let set = set();
    let mb = 1 << 20;
    let repeated = |unit: &str| unit.repeat(mb / unit.len() + 1);
    for unit in ["kp_live_", "kp_live_kp_test_", "seam_", "seam_12345678_", "amk_live_mk_live_", "a", "é_", "_"] {
        let text = repeated(unit);
        assert!(text.len() >= mb);
        assert!(scan(&set, &text).is_empty(), "{unit}");
        assert_eq!(redact(&set, &text).len(), text.len());
    }
    // Near-miss keys: right prefix, one character short, over and over.
    let near = format!("{} ", &KP[..KP.len() - 1]).repeat(mb / KP.len());
    assert!(scan(&set, &near).is_empty());
    // A megabyte of real keys is found in full.
    let many = format!("{KP} ").repeat(mb / (KP.len() + 1));
    let count = mb / (KP.len() + 1);
    let f = scan(&set, &many);
    assert_eq!(f.len(), count);
    assert_eq!(f.last().map(|f| (f.line, f.start)), Some((1, (count - 1) * (KP.len() + 1))));
    let redacted = redact(&set, &many);
    assert!(!redacted.contains(KP));
    assert_eq!(redacted, format!("{KP_PREVIEW} ").repeat(count));
}

#[test]
fn glued_keys_are_found_by_their_alphabet_boundaries() {
    let set = keyproof::presets::all_set().unwrap();
    let format = keyproof::presets::get("keyproof_live").unwrap();
    let key = keyproof::mint(
        &format,
        &keyproof::Hasher::default(),
        &keyproof::MintOptions::named("Glued"),
        &[3; 32],
        chrono::DateTime::UNIX_EPOCH,
    )
    .unwrap()
    .key
    .expose()
    .to_string();
    for text in
        [format!("api_key%3D{key}"), format!("{key}_old"), format!("{key}-v2"), format!("x{key}"), format!("\"{key}\"")]
    {
        let found = keyproof::scan(&set, &text);
        assert_eq!(found.len(), 1, "{text:?}");
        assert_eq!(&text[found[0].start..found[0].end], key);
    }
    // A longer token of the same alphabet is not this key.
    assert!(keyproof::scan(&set, &format!("{key}A")).is_empty());
    // UTF-16 and character offsets for JavaScript and Python.
    let text = format!("😀é{key}");
    let f = &keyproof::scan(&set, &text)[0];
    assert_eq!((f.start, f.char_start, f.utf16_start), (6, 2, 3));
    assert_eq!((f.char_end - f.char_start, f.utf16_end - f.utf16_start), (key.len(), key.len()));
}
