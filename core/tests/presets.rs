//! Every built-in preset against hand-built keys and independently computed answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::BTreeSet;

use keyproof::format::{CredentialKind, FormatSet, KeyFormat, Layout};
use keyproof::hash::{fingerprint, HashAlgorithm, Hasher};
use keyproof::{parse_key, presets, Alphabet, ErrorKind, ParsedKey, Result};

/// One hand-built key per preset.
///
/// Bodies are fixed strings of the preset's alphabet. For checksummed formats the
/// last 6 characters are CRC32 (IEEE) of the random part in base62
/// (`0-9A-Za-z`, zero-padded to 6), computed outside keyproof with:
///
/// ```text
/// python3 -c 'import zlib
/// B="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
/// def b62(v):
///     s=""
///     while v: s=B[v%62]+s; v//=62
///     return s.rjust(6,"0")
/// print(b62(zlib.crc32(b"3AHOVcjqx4BIPWdkry5CJQXelsz6DK")))'   # -> 2pvSoZ
/// ```
///
/// (2599554263 -> 2pvSoZ, 213534631 -> 0ERy6x, 3676378941 -> 40ni6X,
/// 4132019045 -> 4VdWuT, 764064107 -> 0phvyd, 3047009660 -> 3KCwP6.)
/// Previews are the prefix, the first 4 and the last 4 body characters.
struct Case {
    id: &'static str,
    prefix: &'static str,
    key: &'static str,
    environment: &'static str,
    kind: CredentialKind,
    preview: &'static str,
    /// Length of the random part (checksum excluded).
    random_len: usize,
    checksum: bool,
    alphabet: Alphabet,
}

#[allow(clippy::too_many_arguments)]
const fn case(
    id: &'static str,
    prefix: &'static str,
    key: &'static str,
    environment: &'static str,
    kind: CredentialKind,
    preview: &'static str,
    random_len: usize,
    checksum: bool,
) -> Case {
    Case { id, prefix, key, environment, kind, preview, random_len, checksum, alphabet: Alphabet::Base62 }
}

use CredentialKind::{ClientSecret, Publishable, Restricted, SdkToken, Secret};

const PLAIN_CASES: &[Case] = &[
    case(
        "keyproof_live",
        "kp_live_",
        "kp_live_3AHOVcjqx4BIPWdkry5CJQXelsz6DK2pvSoZ",
        "live",
        Secret,
        "kp_live_3AHO…vSoZ",
        30,
        true,
    ),
    case(
        "keyproof_test",
        "kp_test_",
        "kp_test_GNUbipw3AHOVcjqx4BIPWdkry5CJQX0ERy6x",
        "test",
        Secret,
        "kp_test_GNUb…Ry6x",
        30,
        true,
    ),
    case(
        "matchii_live",
        "mk_live_",
        "mk_live_Tahov29GNUbipw3AHOVcjqx4BIPWdkry",
        "live",
        Secret,
        "mk_live_Taho…dkry",
        32,
        false,
    ),
    case(
        "matchii_test",
        "mk_test_",
        "mk_test_gnu18FMTahov29GNUbipw3AHOVcjqx4B",
        "test",
        Secret,
        "mk_test_gnu1…qx4B",
        32,
        false,
    ),
    case(
        "matcraft_live",
        "mc_live_sk_",
        "mc_live_sk_t07ELSZgnu18FMTahov29GNUbipw3AHO",
        "live",
        Secret,
        "mc_live_sk_t07E…3AHO",
        32,
        false,
    ),
    case(
        "matcraft_test",
        "mc_test_sk_",
        "mc_test_sk_6DKRYfmt07ELSZgnu18FMTahov29GNUb",
        "test",
        Secret,
        "mc_test_sk_6DKR…GNUb",
        32,
        false,
    ),
    case(
        "matcraft_ci",
        "mc_ci_sk_",
        "mc_ci_sk_JQXelsz6DKRYfmt07ELSZgnu18FMTaho",
        "ci",
        Secret,
        "mc_ci_sk_JQXe…Taho",
        32,
        false,
    ),
    Case {
        alphabet: Alphabet::Base64url,
        ..case(
            "matatika_client_secret",
            "",
            "Wdkry5CJQXelsz6DKRYfmt07ELSZgnu18FMTahov29GNUbipw3AHOVcjqx4BIPWd",
            "live",
            ClientSecret,
            "Wdkr…IPWd",
            64,
            false,
        )
    },
    Case {
        id: "tmmate_prod",
        prefix: "sk_prod_",
        key: "sk_prod_b2907e5c3a18f6d4b2907e5c3a18f6d4",
        environment: "prod",
        kind: Secret,
        preview: "sk_prod_b290…f6d4",
        random_len: 32,
        checksum: false,
        alphabet: Alphabet::Hex,
    },
    case(
        "authmatech_api_key",
        "amk_live_",
        "amk_live_w3AHOVcjqx4BIPWdkry5CJQXelsz6DKRYfmt07EL40ni6X",
        "live",
        Secret,
        "amk_live_w3AH…ni6X",
        40,
        true,
    ),
    case(
        "authmatech_sdk_token",
        "amk_sdk_",
        "amk_sdk_9GNUbipw3AHOVcjqx4BIPWdkry5CJQXelsz6DKRY4VdWuT",
        "live",
        SdkToken,
        "amk_sdk_9GNU…dWuT",
        40,
        true,
    ),
    case(
        "authmatech_client_secret",
        "amk_cs_",
        "amk_cs_MTahov29GNUbipw3AHOVcjqx4BIPWdkry5CJQXelsz6DKRYf0phvyd",
        "live",
        ClientSecret,
        "amk_cs_MTah…hvyd",
        48,
        true,
    ),
    case(
        "stripe_secret_live",
        "sk_live_",
        "sk_live_Zgnu18FMTahov29GNUbipw3AHOVcjqx4",
        "live",
        Secret,
        "sk_live_Zgnu…jqx4",
        32,
        false,
    ),
    case(
        "stripe_secret_test",
        "sk_test_",
        "sk_test_mt07ELSZgnu18FMTahov29GNUbipw3AH",
        "test",
        Secret,
        "sk_test_mt07…w3AH",
        32,
        false,
    ),
    case(
        "stripe_publishable_live",
        "pk_live_",
        "pk_live_z6DKRYfmt07ELSZgnu18FMTahov29GNU",
        "live",
        Publishable,
        "pk_live_z6DK…9GNU",
        32,
        false,
    ),
    case(
        "stripe_publishable_test",
        "pk_test_",
        "pk_test_CJQXelsz6DKRYfmt07ELSZgnu18FMTah",
        "test",
        Publishable,
        "pk_test_CJQX…MTah",
        32,
        false,
    ),
    case(
        "stripe_restricted_live",
        "rk_live_",
        "rk_live_PWdkry5CJQXelsz6DKRYfmt07ELSZgnu",
        "live",
        Restricted,
        "rk_live_PWdk…Zgnu",
        32,
        false,
    ),
    case(
        "stripe_restricted_test",
        "rk_test_",
        "rk_test_cjqx4BIPWdkry5CJQXelsz6DKRYfmt07",
        "test",
        Restricted,
        "rk_test_cjqx…mt07",
        32,
        false,
    ),
    case("github_pat", "ghp_", "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", "live", Secret, "ghp_pw3A…CwP6", 30, true),
];

/// The `seam` preset: `seam_` + 8 base58 + `_` + 24 base58.
const SEAM_KEY: &str = "seam_nu29GPWd_18FNVcjry6DLTahpw4BJRYfn";
/// python3 -c 'import hashlib; print(hashlib.sha256(b"18FNVcjry6DLTahpw4BJRYfn").hexdigest())'
const SEAM_LONG_SHA256: &str = "2737d2453a0c8b989f0123dd8ec50a1dd7b04a9eeb094cbb378ca43d92a57194";

fn kind_of(r: Result<ParsedKey>) -> Option<ErrorKind> {
    r.err().map(|e| e.kind())
}

fn single(id: &str) -> FormatSet {
    presets::set(&[id]).unwrap()
}

/// Every preset that has a prefix (the unprefixed one matches any text).
fn prefixed_set() -> FormatSet {
    FormatSet::new(presets::all().into_iter().filter(|f| !f.prefix.is_empty()).collect()).unwrap()
}

/// `key` with the byte at `index` replaced by `c`.
fn replace_at(key: &str, index: usize, c: char) -> String {
    let mut out = String::new();
    out.push_str(&key[..index]);
    out.push(c);
    out.push_str(&key[index + 1..]);
    out
}

/// Another character of `alphabet` than `c`.
fn other_char(alphabet: Alphabet, c: char) -> char {
    alphabet.chars().chars().find(|x| *x != c).unwrap()
}

#[test]
fn the_cases_cover_every_preset() {
    let mut expected: BTreeSet<String> = PLAIN_CASES.iter().map(|c| c.id.to_string()).collect();
    expected.insert("seam".to_string());
    let actual: BTreeSet<String> = presets::ids().into_iter().collect();
    assert_eq!(actual, expected, "a preset was added or removed: add a hand-built case for it");
    assert_eq!(presets::ids().len(), PLAIN_CASES.len() + 1, "duplicate preset ids");
    assert!(presets::all_set().is_ok());
}

#[test]
fn preset_definitions_match_the_hand_built_keys() {
    for c in PLAIN_CASES {
        let f = presets::get(c.id).unwrap();
        assert_eq!(f.prefix, c.prefix, "{}", c.id);
        assert_eq!(f.key_length(), c.key.len(), "{}", c.id);
        assert_eq!(f.length, c.random_len, "{}", c.id);
        assert_eq!(f.alphabet, c.alphabet, "{}", c.id);
        assert_eq!(f.checksum.is_some(), c.checksum, "{}", c.id);
        assert_eq!(f.layout, Layout::Plain, "{}", c.id);
        assert!(f.entropy_bits() >= 128.0, "{}", c.id);
        assert!(f.validate().is_ok(), "{}", c.id);
        // The hand-built key really is made of the declared alphabet.
        let body = &c.key[c.prefix.len()..];
        assert!(body.bytes().all(|b| c.alphabet.contains(b)), "{}", c.id);
    }
    assert!(matches!(presets::get("nope").map_err(|e| e.kind()), Err(ErrorKind::UnknownFormat)));
}

#[test]
fn every_preset_parses_its_hand_built_key() {
    let all = presets::all_set().unwrap();
    for c in PLAIN_CASES {
        for set in [single(c.id), all.clone()] {
            let p = parse_key(&set, c.key).unwrap_or_else(|e| panic!("{}: {e}", c.id));
            assert_eq!(p.format_id(), c.id);
            assert_eq!(p.environment(), c.environment, "{}", c.id);
            assert_eq!(p.kind(), c.kind, "{}", c.id);
            assert_eq!(p.preview(), c.preview, "{}", c.id);
            assert_eq!(p.public_part(), c.prefix, "{}", c.id);
            assert_eq!(p.has_checksum(), c.checksum, "{}", c.id);
            assert_eq!(p.key().expose(), c.key, "{}", c.id);
            assert_eq!(p.secret_part(), c.key, "{}", c.id);
            let debug = format!("{p:?}");
            assert!(!debug.contains(&c.key[c.prefix.len()..]), "{}: Debug leaks the key: {debug}", c.id);
        }
    }
}

#[test]
fn wrong_length_for_every_preset() {
    for c in PLAIN_CASES {
        let set = single(c.id);
        let extra = c.alphabet.chars().chars().next().unwrap();
        let short = &c.key[..c.key.len() - 1];
        let long = format!("{}{extra}", c.key);
        let much_longer = format!("{}{}", c.key, c.key);
        for bad in [short, long.as_str(), much_longer.as_str(), c.prefix] {
            assert_eq!(kind_of(parse_key(&set, bad)), Some(ErrorKind::WrongLength), "{}: {bad:?}", c.id);
        }
    }
}

#[test]
fn empty_and_oversized_inputs_are_wrong_length() {
    let all = presets::all_set().unwrap();
    assert_eq!(kind_of(parse_key(&all, "")), Some(ErrorKind::WrongLength));
    let huge = format!("kp_live_{}", "a".repeat(600));
    assert_eq!(kind_of(parse_key(&all, &huge)), Some(ErrorKind::WrongLength));
}

#[test]
fn bad_character_for_every_preset() {
    for c in PLAIN_CASES {
        let set = single(c.id);
        let p = c.prefix.len();
        // Positions in the random part: first, middle, last.
        for index in [p, p + c.random_len / 2, p + c.random_len - 1] {
            for bad in ['!', '_', '-', ' ', '+'].into_iter().filter(|b| !c.alphabet.contains(*b as u8)) {
                let key = replace_at(c.key, index, bad);
                assert_eq!(kind_of(parse_key(&set, &key)), Some(ErrorKind::BadCharacter), "{}: {key:?}", c.id);
            }
        }
        if c.checksum {
            // A bad character inside the checksum itself.
            let key = replace_at(c.key, c.key.len() - 2, '!');
            assert_eq!(kind_of(parse_key(&set, &key)), Some(ErrorKind::BadCharacter), "{}: {key:?}", c.id);
        }
    }
}

#[test]
fn alphabet_specific_bad_characters() {
    // Hex is lower case only: `g` and upper-case digits are outside it.
    let set = single("tmmate_prod");
    for bad in ['g', 'G', 'A', 'z'] {
        let key = replace_at("sk_prod_b2907e5c3a18f6d4b2907e5c3a18f6d4", 10, bad);
        assert_eq!(kind_of(parse_key(&set, &key)), Some(ErrorKind::BadCharacter), "{key}");
    }
    // Upper-case hex is still rejected.
    let upper = "sk_prod_B2907E5C3A18F6D4B2907E5C3A18F6D4";
    assert_eq!(kind_of(parse_key(&set, upper)), Some(ErrorKind::BadCharacter));
}

#[test]
fn non_ascii_in_a_plain_body_is_bad_character() {
    // Same byte length as the real body, one character replaced by a 2-byte one.
    for c in PLAIN_CASES.iter().filter(|c| !c.checksum) {
        let set = single(c.id);
        let key = format!("{}é{}", c.prefix, &c.key[c.prefix.len() + 2..]);
        assert_eq!(key.len(), c.key.len());
        assert_eq!(kind_of(parse_key(&set, &key)), Some(ErrorKind::BadCharacter), "{}: {key:?}", c.id);
    }
}

#[test]
fn non_ascii_across_the_checksum_boundary_is_bad_character() {
    // kp_live_: 30 random + 6 checksum bytes. Put `é` (2 bytes) on bytes 29-30 of the body.
    let c = &PLAIN_CASES[0];
    let body = &c.key[c.prefix.len()..];
    let key = format!("{}{}é{}", c.prefix, &body[..29], &body[31..]);
    assert_eq!(key.len(), c.key.len());
    assert_eq!(kind_of(parse_key(&single(c.id), &key)), Some(ErrorKind::BadCharacter), "{key:?}");
}

#[test]
fn non_ascii_inside_a_checksummed_random_part_is_bad_character() {
    for c in PLAIN_CASES.iter().filter(|c| c.checksum) {
        let key = format!("{}é{}", c.prefix, &c.key[c.prefix.len() + 2..]);
        assert_eq!(key.len(), c.key.len());
        assert_eq!(kind_of(parse_key(&single(c.id), &key)), Some(ErrorKind::BadCharacter), "{}: {key:?}", c.id);
    }
}

#[test]
fn bad_checksum_for_every_checksummed_preset() {
    let mut checked = 0;
    for c in PLAIN_CASES.iter().filter(|c| c.checksum) {
        let set = single(c.id);
        let p = c.prefix.len();
        let total = c.key.len();
        // Flip one character: in the random part (start, middle, end) or in the checksum.
        for index in [p, p + 7, p + c.random_len - 1, p + c.random_len, total - 1] {
            let original = c.key[index..].chars().next().unwrap();
            let key = replace_at(c.key, index, other_char(Alphabet::Base62, original));
            assert_eq!(kind_of(parse_key(&set, &key)), Some(ErrorKind::BadChecksum), "{}: {key}", c.id);
        }
        // Swapping two different adjacent characters is caught too.
        let mut bytes = c.key.as_bytes().to_vec();
        let i = (p..p + c.random_len - 1).find(|i| bytes[*i] != bytes[*i + 1]).unwrap();
        bytes.swap(i, i + 1);
        let swapped = String::from_utf8(bytes).unwrap();
        assert_eq!(kind_of(parse_key(&set, &swapped)), Some(ErrorKind::BadChecksum), "{}: {swapped}", c.id);
        checked += 1;
    }
    assert_eq!(checked, 6);
}

#[test]
fn unchecksummed_presets_accept_any_body_of_their_alphabet() {
    // Without a checksum a flipped character is just another valid key.
    for c in PLAIN_CASES.iter().filter(|c| !c.checksum) {
        let index = c.prefix.len() + 3;
        let original = c.key[index..].chars().next().unwrap();
        let key = replace_at(c.key, index, other_char(c.alphabet, original));
        assert_eq!(parse_key(&single(c.id), &key).map(|p| p.format_id().to_string()).ok().as_deref(), Some(c.id));
    }
}

#[test]
fn unknown_prefix_for_every_prefixed_preset() {
    let prefixed = prefixed_set();
    for c in PLAIN_CASES.iter().filter(|c| !c.prefix.is_empty()) {
        let body = &c.key[c.prefix.len()..];
        let upper = format!("{}{body}", c.prefix.to_ascii_uppercase());
        let other = format!("zz_{body}");
        let dropped_first = c.key[1..].to_string();
        for bad in [upper, other, dropped_first, body.to_string()] {
            assert_eq!(kind_of(parse_key(&single(c.id), &bad)), Some(ErrorKind::UnknownPrefix), "{}: {bad}", c.id);
            // `amk_live_` minus its first character is `mk_live_`, a real prefix.
            if !PLAIN_CASES.iter().any(|o| !o.prefix.is_empty() && bad.starts_with(o.prefix)) {
                assert_eq!(kind_of(parse_key(&prefixed, &bad)), Some(ErrorKind::UnknownPrefix), "{}: {bad}", c.id);
            }
        }
    }
}

#[test]
fn the_unprefixed_preset_is_the_fallback_in_the_full_set() {
    // With `matatika_client_secret` (empty prefix) in the set, unknown prefixes fall
    // through to it; when it rejects them too, the answer is unknown_prefix.
    let all = presets::all_set().unwrap();
    assert_eq!(
        kind_of(parse_key(&all, "zz_live_3AHOVcjqx4BIPWdkry5CJQXelsz6DK2pvSoZ")),
        Some(ErrorKind::UnknownPrefix)
    );
    let odd = format!("zz.{}", "a".repeat(61));
    assert_eq!(kind_of(parse_key(&all, &odd)), Some(ErrorKind::UnknownPrefix));
    // Alone, the unprefixed format keeps its precise errors.
    let only = presets::set(&["matatika_client_secret"]).unwrap();
    assert_eq!(kind_of(parse_key(&only, "short")), Some(ErrorKind::WrongLength));
}

#[test]
fn longest_prefix_wins() {
    // `amk_live_` contains `mk_live_`, `mc_live_sk_` ends like a `sk_` key: the full
    // set must still pick the right format.
    let all = presets::all_set().unwrap();
    for id in ["authmatech_api_key", "matchii_live", "matcraft_live", "stripe_secret_live", "tmmate_prod"] {
        let c = PLAIN_CASES.iter().find(|c| c.id == id).unwrap();
        assert_eq!(parse_key(&all, c.key).unwrap().format_id(), id);
    }
}

#[test]
fn seam_preset_parses_and_rejects() {
    let f = presets::get("seam").unwrap();
    assert_eq!(f.layout, Layout::Seam);
    assert_eq!(f.alphabet, Alphabet::Base58);
    assert_eq!(f.key_length(), SEAM_KEY.len());
    for set in [single("seam"), presets::all_set().unwrap()] {
        let p = parse_key(&set, SEAM_KEY).unwrap();
        assert_eq!(p.format_id(), "seam");
        assert_eq!(p.environment(), "live");
        assert_eq!(p.kind(), CredentialKind::Secret);
        assert_eq!(p.public_part(), "seam_nu29GPWd");
        assert_eq!(p.secret_part(), "18FNVcjry6DLTahpw4BJRYfn");
        assert_eq!(p.preview(), "seam_nu29…RYfn");
        assert!(!p.has_checksum());
    }
    let set = single("seam");
    // Separator replaced by a base58 character: malformed.
    assert_eq!(kind_of(parse_key(&set, &replace_at(SEAM_KEY, 13, 'x'))), Some(ErrorKind::MalformedKey));
    // Base58 excludes 0, O, I and l: in the short token and in the long token.
    for bad in ['0', 'O', 'I', 'l', '!'] {
        for index in [5, 12, 14, 37] {
            let key = replace_at(SEAM_KEY, index, bad);
            assert_eq!(kind_of(parse_key(&set, &key)), Some(ErrorKind::BadCharacter), "{key}");
        }
    }
    assert_eq!(kind_of(parse_key(&set, &SEAM_KEY[..SEAM_KEY.len() - 1])), Some(ErrorKind::WrongLength));
    assert_eq!(kind_of(parse_key(&set, &format!("{SEAM_KEY}z"))), Some(ErrorKind::WrongLength));
    assert_eq!(kind_of(parse_key(&set, "seem_nu29GPWd_18FNVcjry6DLTahpw4BJRYfn")), Some(ErrorKind::UnknownPrefix));
}

fn parsed(id: &str, key: &str) -> (KeyFormat, ParsedKey) {
    let f = presets::get(id).unwrap();
    let p = parse_key(&single(id), key).unwrap();
    (f, p)
}

// python3 -c 'import hashlib; print(hashlib.sha256(b"kp_live_3AHOVcjqx4BIPWdkry5CJQXelsz6DK2pvSoZ").hexdigest())'
const KP_SHA256: &str = "sha256:d80c97789bbe2d4a71f60f4c41d217af64383ddc86624303fdaf1947b8cc6e50";
// python3 -c 'import hashlib; print(hashlib.sha256(b"sk_prod_b2907e5c3a18f6d4b2907e5c3a18f6d4").hexdigest())'
const TMMATE_SHA256: &str = "sha256:95856f683d01eb7c2cf61ac7927bd430bd3519db0a33b29266b4ee97dff36787";
// python3 -c 'import hashlib; print(hashlib.sha256(b"Wdkry5CJ…BIPWd").hexdigest())' (the matatika key above)
const MATATIKA_SHA256: &str = "sha256:0de935232fb3daf11ef1273cee62a421c7838a6511d83016f03786acc9522191";

const PEPPER: &[u8] = b"keyproof-test-pepper-0123456789";
// python3 -c 'import hmac,hashlib; print(hmac.new(b"keyproof-test-pepper-0123456789",
//   b"kp_live_3AHOVcjqx4BIPWdkry5CJQXelsz6DK2pvSoZ", hashlib.sha256).hexdigest())'
const KP_HMAC: &str = "hmac-sha256:a49d064a547f14602001b2db48df620ee598c0503d47a06ff24610ddc35c553b";
// Same command with b"sk_prod_b2907e5c3a18f6d4b2907e5c3a18f6d4".
const TMMATE_HMAC: &str = "hmac-sha256:5a5f9eeb59bc8c455ce516091fd8e4d948aefb87de2c20217947ad22662763f7";
// Same command with the matatika key.
const MATATIKA_HMAC: &str = "hmac-sha256:bad8eeeb077efe2067e78f0eafb1dc348aa61546171cad7e75383d22ad7f8173";

#[test]
fn sha256_known_answers() {
    let hasher = Hasher::default();
    for (id, key, expected) in [
        ("keyproof_live", PLAIN_CASES[0].key, KP_SHA256),
        ("tmmate_prod", "sk_prod_b2907e5c3a18f6d4b2907e5c3a18f6d4", TMMATE_SHA256),
        ("matatika_client_secret", PLAIN_CASES[7].key, MATATIKA_SHA256),
    ] {
        let (f, p) = parsed(id, key);
        assert_eq!(hasher.hash(&f, &p).unwrap(), expected, "{id}");
        assert_eq!(hasher.hash_with(HashAlgorithm::Sha256, &p).unwrap(), expected, "{id}");
        let check = hasher.verify(&f, &p, expected).unwrap();
        assert!(check.matched && !check.should_rehash, "{id}");
    }
}

#[test]
fn hmac_sha256_known_answers() {
    let hasher = Hasher::new(HashAlgorithm::HmacSha256, Some(PEPPER)).unwrap();
    let other = Hasher::new(HashAlgorithm::HmacSha256, Some(b"another-pepper-of-32-bytes-00000")).unwrap();
    for (id, key, expected, sha) in [
        ("keyproof_live", PLAIN_CASES[0].key, KP_HMAC, KP_SHA256),
        ("tmmate_prod", "sk_prod_b2907e5c3a18f6d4b2907e5c3a18f6d4", TMMATE_HMAC, TMMATE_SHA256),
        ("matatika_client_secret", PLAIN_CASES[7].key, MATATIKA_HMAC, MATATIKA_SHA256),
    ] {
        let (f, p) = parsed(id, key);
        assert_eq!(hasher.hash(&f, &p).unwrap(), expected, "{id}");
        let check = hasher.verify(&f, &p, expected).unwrap();
        assert!(check.matched && !check.should_rehash, "{id}");
        // A different pepper does not match.
        assert!(!other.verify(&f, &p, expected).unwrap().matched, "{id}");
        // A plain-SHA-256 record still matches and asks for a rehash.
        let check = hasher.verify(&f, &p, sha).unwrap();
        assert!(check.matched && check.should_rehash, "{id}");
        // Without the pepper an HMAC record cannot be checked.
        assert_eq!(Hasher::default().verify(&f, &p, expected).err().map(|e| e.kind()), Some(ErrorKind::MissingPepper));
        // Both hashes are offered for lookup, preferred first.
        let lookups = hasher.lookup_hashes(&f, &p);
        assert_eq!(lookups.first().map(String::as_str), Some(expected));
        assert!(lookups.iter().any(|h| h == sha));
    }
}

#[test]
fn seam_preset_known_answer() {
    let (f, p) = parsed("seam", SEAM_KEY);
    let expected = format!("seam-sha256:{SEAM_LONG_SHA256}");
    assert_eq!(Hasher::default().hash(&f, &p).unwrap(), expected);
    assert!(Hasher::default().verify(&f, &p, &expected).unwrap().matched);
}

#[test]
fn a_different_key_does_not_verify() {
    let hasher = Hasher::default();
    let (f, p) = parsed("keyproof_test", PLAIN_CASES[1].key);
    assert!(!hasher.verify(&f, &p, KP_SHA256).unwrap().matched);
    let tampered = KP_SHA256.replace("d80c", "d80d");
    let (f, p) = parsed("keyproof_live", PLAIN_CASES[0].key);
    assert!(!hasher.verify(&f, &p, &tampered).unwrap().matched);
    for bad in ["", "sha256:", "md5:d80c", &KP_SHA256.to_uppercase(), &KP_SHA256[..KP_SHA256.len() - 1]] {
        assert_eq!(hasher.verify(&f, &p, bad).err().map(|e| e.kind()), Some(ErrorKind::InvalidHash), "{bad}");
    }
}

// python3 -c 'import hashlib; print("fp_"+hashlib.sha256(b"keyproof/fingerprint/v1\0"
//   + b"sha256:d80c…6e50").hexdigest()[:16])'   (the full KP_SHA256 / KP_HMAC strings)
const KP_SHA256_FP: &str = "fp_e1aa8c5c5ab9937b";
const KP_HMAC_FP: &str = "fp_1f0c2d57f39c7cc1";

#[test]
fn fingerprints_are_stable_and_do_not_contain_the_hash() {
    assert_eq!(fingerprint(KP_SHA256), KP_SHA256_FP);
    assert_eq!(fingerprint(KP_HMAC), KP_HMAC_FP);
    assert_eq!(fingerprint(KP_SHA256), fingerprint(KP_SHA256));
    assert_ne!(fingerprint(KP_SHA256), fingerprint(TMMATE_SHA256));
    for h in [KP_SHA256, KP_HMAC, TMMATE_SHA256, TMMATE_HMAC, MATATIKA_SHA256] {
        let fp = fingerprint(h);
        let hex = h.split_once(':').unwrap().1;
        assert!(!h.contains(&fp[3..]), "{fp} is a piece of {h}");
        // No 8-character run of the digest appears in the fingerprint.
        assert!((0..=hex.len() - 8).all(|i| !fp.contains(&hex[i..i + 8])), "{fp} vs {h}");
        assert!(!fp.contains(hex));
    }
}

/// Vendor fidelity: seed 002's own example client secret (64 base64url
/// characters) parses with the matatika preset and verifies against its hash.
#[test]
fn matatika_example_client_secret_parses_and_verifies() {
    let secret = "bMcS-8JxF-vCxP7IfGElGz-RShzR1ogCtja-kK8YaIiPZrAd_CuOQb_-WqKxDCyQ";
    let set = keyproof::presets::set(&["matatika_client_secret"]).unwrap();
    let parsed = keyproof::parse_key(&set, secret).unwrap();
    assert_eq!(parsed.format_id(), "matatika_client_secret");
    let hasher = keyproof::Hasher::default();
    let hash = hasher.hash(parsed.format(), &parsed).unwrap();
    assert!(hasher.verify(parsed.format(), &parsed, &hash).unwrap().matched);
    let mut wrong = secret.to_string();
    wrong.replace_range(0..1, "c");
    let other = keyproof::parse_key(&set, &wrong).unwrap();
    assert!(!hasher.verify(other.format(), &other, &hash).unwrap().matched);
    assert_eq!(keyproof::parse_key(&set, &secret.replace('-', "+")).unwrap_err().code(), "bad_character");
}

#[test]
fn mint_without_a_format_takes_the_first_listed() {
    let listed = vec![presets::get("matchii_live").unwrap(), presets::get("keyproof_live").unwrap()];
    let set = FormatSet::new(listed).unwrap();
    // The set sorts by prefix length, then id; the default is still the one listed first.
    assert_eq!(set.formats()[0].id, "keyproof_live");
    assert_eq!(set.named_or_first(None).unwrap().id, "matchii_live");
    assert_eq!(set.named_or_first(Some("keyproof_live")).unwrap().id, "keyproof_live");
    assert_eq!(set.named_or_first(Some("nope")).unwrap_err().kind(), ErrorKind::UnknownFormat);
    assert_eq!(FormatSet::new(Vec::new()).unwrap().named_or_first(None).unwrap_err().kind(), ErrorKind::UnknownFormat);

    let engine = keyproof::Engine::from_json(r#"{"formats": ["matchii_live", "keyproof_live"]}"#).unwrap();
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
    let minted = engine.mint(None, &keyproof::MintOptions::named("Default key"), &[3; 32], now).unwrap();
    assert_eq!(minted.record.format, "matchii_live");
}
