//! Key records: JSON schema, validation, timestamps, expiry presets and redaction.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use chrono::{DateTime, Utc};
use keyproof::hash::{fingerprint, Hasher};
use keyproof::record::KeyRecord;
use keyproof::timestamp::parse_timestamp;
use keyproof::{expiry_from_preset, mint, parse_key, presets, ErrorKind, KeyStatus, MintOptions, MintedKey};
use keyproof::{Result, EXPIRY_PRESETS};
use serde_json::{json, Value};

fn at(text: &str) -> DateTime<Utc> {
    parse_timestamp(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

const SEED: [u8; 32] = [7; 32];

fn now() -> DateTime<Utc> {
    at("2026-01-31T12:00:00Z")
}

fn full_options() -> MintOptions {
    MintOptions::from_json(
        r#"{
            "name": "Production backend",
            "id_style": {"style": "prefixed", "prefix": "key_", "hex_length": 8},
            "owner": {"organization": "org_1", "workspace": "ws_2"},
            "scopes": ["briefs:read", "matches:*"],
            "role": "admin",
            "expires_in": "90d",
            "allowed_ips": ["203.0.113.9/24", "2001:db8::1", "::ffff:10.0.0.0/104"],
            "plan": "pro",
            "features": ["sso"],
            "generate_client_id": true,
            "metadata": {"team": "core", "n": 3, "nested": {"a": [1, 2]}}
        }"#,
    )
    .unwrap()
}

fn minted() -> MintedKey {
    let format = presets::get("keyproof_live").unwrap();
    mint(&format, &Hasher::default(), &full_options(), &SEED, now()).unwrap()
}

fn record_json() -> Value {
    serde_json::from_str(&minted().record.to_json()).unwrap()
}

fn load(value: &Value) -> Result<KeyRecord> {
    KeyRecord::from_json(&value.to_string())
}

fn kind(value: &Value) -> Option<ErrorKind> {
    load(value).err().map(|e| e.kind())
}

#[test]
fn minted_record_has_the_requested_fields() {
    let m = minted();
    let r = &m.record;
    assert!(r.id.starts_with("key_") && r.id.len() == 12, "{}", r.id);
    assert!(r.id[4..].bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert_eq!(r.name, "Production backend");
    assert_eq!(r.format, "keyproof_live");
    assert_eq!(r.environment, "live");
    assert_eq!(r.status, KeyStatus::Active);
    assert_eq!(r.created_at, now());
    assert_eq!(r.updated_at, now());
    assert_eq!(r.expires_at, Some(at("2026-05-01T12:00:00Z")));
    assert_eq!(r.revoked_at, None);
    assert_eq!(r.scopes, vec!["briefs:read".to_string(), "matches:*".to_string()]);
    let ips: Vec<String> = r.allowed_ips.iter().map(ToString::to_string).collect();
    assert_eq!(ips, vec!["203.0.113.0/24", "2001:db8::1/128", "10.0.0.0/8"]);
    let client_id = r.client_id.as_deref().unwrap();
    assert_eq!(client_id.len(), 32);
    assert!(client_id.bytes().all(|c| c.is_ascii_alphanumeric()));
    // Hash, fingerprint and preview agree with the plaintext.
    let set = presets::all_set().unwrap();
    let parsed = parse_key(&set, m.key.expose()).unwrap();
    assert_eq!(r.preview, parsed.preview());
    let format = set.get(&r.format).unwrap();
    assert!(Hasher::default().verify(format, &parsed, &r.hash).unwrap().matched);
    assert_eq!(r.fingerprint, fingerprint(&r.hash));
    assert!(r.validate().is_ok());
}

#[test]
fn minting_is_deterministic_in_its_inputs() {
    let a = minted();
    let b = minted();
    assert_eq!(a.key, b.key);
    assert_eq!(a.record, b.record);
    let format = presets::get("keyproof_live").unwrap();
    let c = mint(&format, &Hasher::default(), &full_options(), &[8; 32], now()).unwrap();
    assert_ne!(a.key, c.key);
    assert_ne!(a.record.id, c.record.id);
    assert_ne!(a.record.hash, c.record.hash);
}

#[test]
fn json_round_trip() {
    let m = minted();
    let text = m.record.to_json();
    let back = KeyRecord::from_json(&text).unwrap();
    assert_eq!(back, m.record);
    assert_eq!(back.to_json(), text);
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["created_at"], "2026-01-31T12:00:00Z");
    assert_eq!(value["expires_at"], "2026-05-01T12:00:00Z");
    assert_eq!(value["status"], "active");
    assert_eq!(value["kind"], "secret");
    assert_eq!(value["allowed_ips"], json!(["203.0.113.0/24", "2001:db8::1/128", "10.0.0.0/8"]));
    assert_eq!(value["metadata"], json!({"team": "core", "n": 3, "nested": {"a": [1, 2]}}));
    assert!(value["hash"].as_str().unwrap().starts_with("sha256:"));
    // Optional fields are omitted when empty.
    let format = presets::get("github_pat").unwrap();
    let bare = mint(&format, &Hasher::default(), &MintOptions::named("bare key"), &SEED, now()).unwrap();
    let value: Value = serde_json::from_str(&bare.record.to_json()).unwrap();
    for absent in ["expires_at", "revoked_at", "rotation", "allowed_ips", "client_id", "plan", "metadata", "role"] {
        assert!(value.get(absent).is_none(), "{absent}");
    }
    assert_eq!(KeyRecord::from_json(&bare.record.to_json()).unwrap(), bare.record);
}

#[test]
fn lifecycle_changes_round_trip() {
    let mut r = minted().record;
    r.rotate("key_ffffffff", at("2026-02-01T00:00:00Z"), chrono::Duration::hours(24)).unwrap();
    assert!(r.revoke(at("2026-02-03T00:00:00Z")).unwrap());
    let value: Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(value["status"], "revoked");
    assert_eq!(value["revoked_at"], "2026-02-03T00:00:00Z");
    assert_eq!(value["rotation"]["grace_until"], "2026-02-02T00:00:00Z");
    assert_eq!(KeyRecord::from_json(&r.to_json()).unwrap(), r);
    assert_eq!(r.enable(at("2026-02-04T00:00:00Z")).err().map(|e| e.kind()), Some(ErrorKind::InvalidTransition));
}

#[test]
fn unknown_fields_are_invalid_records() {
    let mut v = record_json();
    v["extra"] = json!(1);
    assert_eq!(kind(&v), Some(ErrorKind::InvalidRecord));
    let mut v = record_json();
    v["owner"]["team"] = json!("x");
    assert_eq!(kind(&v), Some(ErrorKind::InvalidRecord));
    let mut v = record_json();
    v["rotation"] = json!({"grace_until": "2026-02-02T00:00:00Z", "why": "x"});
    assert_eq!(kind(&v), Some(ErrorKind::InvalidRecord));
    // Unknown MintOptions fields too.
    assert_eq!(
        MintOptions::from_json(r#"{"name": "abc", "nmae": "x"}"#).err().map(|e| e.kind()),
        Some(ErrorKind::InvalidRecord)
    );
}

#[test]
fn other_schema_violations() {
    let mut v = record_json();
    v.as_object_mut().unwrap().remove("hash");
    assert_eq!(kind(&v), Some(ErrorKind::InvalidRecord));
    let mut v = record_json();
    v["status"] = json!("paused");
    assert_eq!(kind(&v), Some(ErrorKind::InvalidRecord));
    let mut v = record_json();
    v["hash"] = json!("md5:abc");
    assert_eq!(kind(&v), Some(ErrorKind::InvalidHash));
    let mut v = record_json();
    v["id"] = json!("key 1");
    assert_eq!(kind(&v), Some(ErrorKind::InvalidId));
    let mut v = record_json();
    v["scopes"] = json!(["briefs read"]);
    assert_eq!(kind(&v), Some(ErrorKind::InvalidScope));
    let mut v = record_json();
    v["updated_at"] = json!("2026-01-30T00:00:00Z");
    assert_eq!(kind(&v), Some(ErrorKind::InvalidRecord));
    let mut v = record_json();
    v["status"] = json!("revoked");
    assert_eq!(kind(&v), Some(ErrorKind::InvalidRecord));
    assert!(KeyRecord::from_json("{not json").is_err());
    assert!(KeyRecord::from_json("").is_err());
}

#[test]
fn bad_timestamps() {
    for field in ["created_at", "updated_at", "expires_at", "revoked_at"] {
        for bad in ["yesterday", "2026-13-01T00:00:00Z", "2026-03-18", "2026-02-30T00:00:00Z", ""] {
            let mut v = record_json();
            v[field] = json!(bad);
            assert_eq!(kind(&v), Some(ErrorKind::InvalidTimestamp), "{field}: {bad:?}");
        }
    }
    let mut v = record_json();
    v["rotation"] = json!({"grace_until": "soon"});
    assert_eq!(kind(&v), Some(ErrorKind::InvalidTimestamp));
    let mut v = record_json();
    v["rotation"] = json!({"grace_until": "2026-02-02T00:00:00Z", "rotated_at": "2026/02/01"});
    assert_eq!(kind(&v), Some(ErrorKind::InvalidTimestamp));
    assert_eq!(
        MintOptions::from_json(r#"{"name": "abc", "expires_at": "tomorrow"}"#).err().map(|e| e.kind()),
        Some(ErrorKind::InvalidTimestamp)
    );
}

#[test]
fn bad_cidrs() {
    for bad in ["10.0.0.0/33", "abc", "300.1.1.1", "10.0.0.0/", "1.2.3.4/24/1", "2001:db8::/129", ""] {
        let mut v = record_json();
        v["allowed_ips"] = json!(["203.0.113.0/24", bad]);
        assert_eq!(kind(&v), Some(ErrorKind::InvalidCidr), "{bad:?}");
        let options = MintOptions { allowed_ips: vec![bad.to_string()], ..MintOptions::named("cidr test") };
        let format = presets::get("keyproof_live").unwrap();
        let err = mint(&format, &Hasher::default(), &options, &SEED, now()).err().map(|e| e.kind());
        assert_eq!(err, Some(ErrorKind::InvalidCidr), "{bad:?}");
    }
}

#[test]
fn name_lengths() {
    let format = presets::get("keyproof_live").unwrap();
    let mint_named = |name: &str| mint(&format, &Hasher::default(), &MintOptions::named(name), &SEED, now());
    // Default rules: 1–200 characters, no control characters, no surrounding spaces.
    for bad in ["x".repeat(201), String::new(), " abc".into(), "abc ".into(), "ab\ncd".into()] {
        assert_eq!(mint_named(&bad).err().map(|e| e.kind()), Some(ErrorKind::InvalidName), "{bad:?}");
    }
    // Seed 002's own example names (53 and 63 characters) mint; length counts characters.
    for good in [
        "a".to_string(),
        "SIT-generated api key (2026-01-11T18:58:35.918500330)".into(),
        "x".repeat(200),
        "é".repeat(200),
        "a b".into(),
    ] {
        let mut v = record_json();
        v["name"] = json!(good);
        assert_eq!(load(&v).unwrap().name, good);
        assert!(mint_named(&good).is_ok(), "{good:?}");
    }
    // A deployment's rules (seed 003 tmmate: 3–50) apply at mint and update.
    let tmmate = keyproof::NameRules { min_length: 3, max_length: 50 };
    let with_rules = |name: &str| {
        keyproof::mint_with_rules(&format, &Hasher::default(), &MintOptions::named(name), &SEED, now(), &tmmate)
    };
    for bad in ["ab".to_string(), "x".repeat(51), "é".repeat(51)] {
        assert_eq!(with_rules(&bad).err().map(|e| e.kind()), Some(ErrorKind::InvalidName), "{bad:?}");
    }
    assert!(with_rules("abc").is_ok() && with_rules(&"é".repeat(50)).is_ok());
    let mut r = minted().record;
    let rename = keyproof::RecordUpdate { name: Some("ab".into()), ..Default::default() };
    assert_eq!(r.update_with_rules(&rename, now(), &tmmate).err().map(|e| e.kind()), Some(ErrorKind::InvalidName));
    assert!(r.update(&rename, now()).unwrap());
    // Stored records accept any name a deployment's rules could allow (up to 1000).
    let mut v = record_json();
    v["name"] = json!("n".repeat(1001));
    assert_eq!(kind(&v), Some(ErrorKind::InvalidName));
}

#[test]
fn naive_and_offset_timestamps_are_read_as_utc() {
    let mut v = record_json();
    v["created_at"] = json!("2026-01-31T12:00:00");
    v["updated_at"] = json!("2026-01-31T14:30:00+02:00");
    v["expires_at"] = json!("2026-05-01T12:00:00.250");
    let r = load(&v).unwrap();
    assert_eq!(r.created_at, at("2026-01-31T12:00:00Z"));
    assert_eq!(r.updated_at, at("2026-01-31T12:30:00Z"));
    assert_eq!(r.expires_at, Some(at("2026-05-01T12:00:00.250Z")));
    let out: Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(out["created_at"], "2026-01-31T12:00:00Z");
    assert_eq!(out["updated_at"], "2026-01-31T12:30:00Z");
    assert_eq!(out["expires_at"], "2026-05-01T12:00:00.250Z");
    // Seed 002 stores microseconds without a zone.
    let mut v = record_json();
    v["created_at"] = json!("2026-01-11T18:58:35.961074");
    v["updated_at"] = json!("2026-01-11T18:58:35.961074");
    let r = load(&v).unwrap();
    let out: Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(out["created_at"], "2026-01-11T18:58:35.961074Z");
}

/// Expected instants computed outside keyproof with Python's datetime:
/// days with `timedelta`, months by clamping the day to the target month's length
/// (`calendar.monthrange`).
#[test]
fn expiry_presets_use_calendar_months() {
    assert_eq!(EXPIRY_PRESETS, &["15d", "25d", "45d", "90d", "6m", "1y"]);
    let table: [(&str, [&str; 6]); 4] = [
        (
            "2026-01-31T12:00:00Z",
            [
                "2026-02-15T12:00:00Z",
                "2026-02-25T12:00:00Z",
                "2026-03-17T12:00:00Z",
                "2026-05-01T12:00:00Z",
                "2026-07-31T12:00:00Z",
                "2027-01-31T12:00:00Z",
            ],
        ),
        (
            "2025-08-31T23:59:59Z",
            [
                "2025-09-15T23:59:59Z",
                "2025-09-25T23:59:59Z",
                "2025-10-15T23:59:59Z",
                "2025-11-29T23:59:59Z",
                "2026-02-28T23:59:59Z",
                "2026-08-31T23:59:59Z",
            ],
        ),
        (
            "2027-11-30T06:07:08Z",
            [
                "2027-12-15T06:07:08Z",
                "2027-12-25T06:07:08Z",
                "2028-01-14T06:07:08Z",
                "2028-02-28T06:07:08Z",
                "2028-05-30T06:07:08Z",
                "2028-11-30T06:07:08Z",
            ],
        ),
        (
            "2027-08-31T00:00:00Z",
            [
                "2027-09-15T00:00:00Z",
                "2027-09-25T00:00:00Z",
                "2027-10-15T00:00:00Z",
                "2027-11-29T00:00:00Z",
                "2028-02-29T00:00:00Z",
                "2028-08-31T00:00:00Z",
            ],
        ),
    ];
    let format = presets::get("keyproof_live").unwrap();
    for (from, expected) in table {
        for (preset, want) in ["15d", "25d", "45d", "90d", "6m", "1y"].into_iter().zip(expected) {
            assert_eq!(expiry_from_preset(preset, at(from)).unwrap(), at(want), "{preset} from {from}");
            let options = MintOptions { expires_in: Some(preset.into()), ..MintOptions::named("expiring") };
            let m = mint(&format, &Hasher::default(), &options, &SEED, at(from)).unwrap();
            assert_eq!(m.record.expires_at, Some(at(want)), "{preset} from {from}");
        }
    }
}

#[test]
fn bad_expiry_options() {
    let format = presets::get("keyproof_live").unwrap();
    let run = |options: MintOptions| mint(&format, &Hasher::default(), &options, &SEED, now()).err().map(|e| e.kind());
    let both = MintOptions {
        expires_in: Some("90d".into()),
        expires_at: Some(at("2027-01-01T00:00:00Z")),
        ..MintOptions::named("both set")
    };
    assert_eq!(run(both), Some(ErrorKind::InvalidExpiry));
    let past = MintOptions { expires_at: Some(now()), ..MintOptions::named("in the past") };
    assert_eq!(run(past), Some(ErrorKind::InvalidExpiry));
    for bad in ["0d", "15", "1.5m", "11y", "90D"] {
        let o = MintOptions { expires_in: Some(bad.into()), ..MintOptions::named("bad preset") };
        assert_eq!(run(o), Some(ErrorKind::InvalidExpiry), "{bad}");
    }
}

#[test]
fn debug_never_shows_the_plaintext_key() {
    for id in presets::ids() {
        let format = presets::get(&id).unwrap();
        let m = mint(&format, &Hasher::default(), &full_options(), &SEED, now()).unwrap();
        let key = m.key.expose().to_string();
        let body = &key[format.prefix.len()..];
        for text in [format!("{m:?}"), format!("{m:#?}"), format!("{:?}", m.record), m.record.to_json()] {
            assert!(!text.contains(&key), "{id}: {text}");
            // No 12-character run of the secret body either (previews show 4 + 4).
            for i in 0..=body.len() - 12 {
                assert!(!text.contains(&body[i..i + 12]), "{id}: {text}");
            }
        }
    }
}

/// Every field error names the field path.
#[test]
fn load_errors_name_the_field_path() {
    let e = keyproof::EngineConfig::from_json(
        r#"{"formats": ["keyproof_live"], "policy": {"routes": [{"method": "GET", "path": "/a"}, {"method": "GET", "path": "/b", "all_of": "x"}]}}"#,
    )
    .unwrap_err();
    assert!(e.message().starts_with("policy.routes[1].all_of: "), "{}", e.message());
    let e = load(&json!({"id": "key_1", "name": "x", "created_at": "yesterday"})).unwrap_err();
    assert_eq!(e.code(), "invalid_timestamp");
    assert!(e.message().starts_with("created_at: "), "{}", e.message());
    let e = keyproof::Policy::from_json(r#"{"plans": {"starter": {"limit": 1, "burst": 1, "extra": 2}}}"#).unwrap_err();
    assert!(e.message().starts_with("plans.starter"), "{}", e.message());
}
