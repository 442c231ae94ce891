//! No key, secret, hash or pepper in any `Debug`/`Display` output or error message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use keyproof::{Engine, EngineConfig, MintOptions, Request};

const PEPPER_HEX: &str = "70657070657270657070657270657070";

#[test]
fn nothing_secret_is_ever_printed() {
    let config_json = format!(
        r#"{{"formats": ["keyproof_live"], "hashing": {{"algorithm": "hmac-sha256", "pepper_hex": "{PEPPER_HEX}"}},
            "policy": {{"routes": [{{"method": "GET", "path": "/v1/x", "all_of": ["x:read"]}}]}}}}"#
    );
    let config = EngineConfig::from_json(&config_json).unwrap();
    let engine = Engine::from_config(config.clone(), None).unwrap();
    let format = engine.formats().get("keyproof_live").unwrap().clone();
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
    let minted = keyproof::mint(&format, engine.hasher(), &MintOptions::named("Hygiene"), &[9; 32], now).unwrap();
    let key = minted.key.expose().to_string();
    let hash_hex = minted.record.hash.split_once(':').unwrap().1.to_string();
    let request = Request {
        method: "GET".into(),
        path: "/v1/x".into(),
        headers: vec![("Authorization".into(), format!("Bearer {key}"))],
        client_ip: None,
        usage_cost: None,
    };
    let prepared = engine.prepare_request(&request);
    let denied = engine.decide(&prepared, Some(&minted.record), now, None);
    assert_eq!(denied.code, "insufficient_scope");
    let wrong = engine.decide(&prepared, None, now, None);
    let mut granted = minted.record.clone();
    granted.scopes = vec!["x:read".into()];
    let allowed = engine.decide(&prepared, Some(&granted), now, None);
    assert!(allowed.allowed && allowed.principal.is_some());
    let parse_error = engine.parse(&format!("{}x", &key[..key.len() - 1])).unwrap_err();
    let printed = [
        format!("{minted:?}"),
        format!("{:?}", minted.record),
        format!("{:?}", minted.key),
        format!("{}", minted.key),
        format!("{prepared:?}"),
        format!("{request:?}"),
        format!("{config:?}"),
        format!("{engine:?}"),
        format!("{denied:?}"),
        format!("{wrong:?}"),
        // The principal shares the accepted record, hash and all: its Debug shows grants only.
        format!("{allowed:?}"),
        allowed.to_json(),
        denied.to_json(),
        wrong.to_json(),
        format!("{parse_error} {parse_error:?}"),
        format!("{:?}", prepared.parsed_key()),
    ];
    for text in printed {
        assert!(!text.contains(&key), "key leaked: {text}");
        assert!(!text.contains(&key["kp_live_".len()..]), "key body leaked: {text}");
        assert!(!text.contains(&hash_hex), "hash leaked: {text}");
        assert!(!text.contains(PEPPER_HEX), "pepper leaked: {text}");
    }
}

/// Hardening II finding 8: a key pasted where a preset id, a CIDR, a record
/// field or a format belongs is echoed only as its preview.
#[test]
fn keys_in_the_wrong_field_show_only_their_preview() {
    let format = keyproof::presets::get("keyproof_live").unwrap();
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
    let minted =
        keyproof::mint(&format, &keyproof::Hasher::default(), &MintOptions::named("Misplaced"), &[5; 32], now).unwrap();
    let key = minted.key.expose().to_string();
    let preview = minted.record.preview.clone();
    let errors: Vec<keyproof::Error> = vec![
        keyproof::presets::get(&key).unwrap_err(),
        EngineConfig::from_json(&format!(r#"{{"formats": ["{key}"]}}"#))
            .and_then(|c| Engine::from_config(c, None))
            .unwrap_err(),
        MintOptions::from_json(&format!(r#"{{"name": "x", "allowed_ips": ["{key}"]}}"#))
            .and_then(|o| keyproof::mint(&format, &keyproof::Hasher::default(), &o, &[5; 32], now))
            .unwrap_err(),
        keyproof::KeyRecord::from_json(&format!(r#"{{"id": "{key}"}}"#)).unwrap_err(),
        keyproof::Policy::from_json(&format!(r#"{{"unknown_routes": "{key}"}}"#)).unwrap_err(),
        keyproof::RecordUpdate::from_json(&format!(r#"{{"allowed_ips": ["{key}"], "x": 1}}"#)).unwrap_err(),
        keyproof::Policy::from_json(&format!(r#"{{"{key}": 1}}"#)).unwrap_err(),
    ];
    for e in errors {
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(&key), "{shown}");
        assert!(!shown.contains(&key[8..]), "{shown}");
        assert!(shown.contains(&preview) || !shown.contains("kp_live_"), "{shown}");
    }
}

/// Hardening II finding 12: secrets core owns are zeroed when dropped.
#[test]
fn secrets_zeroize_on_drop() {
    fn zeroized_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    zeroized_on_drop::<keyproof::Secret>();
    zeroized_on_drop::<keyproof::random::ByteStream>();
    // A clone is independent: dropping one leaves the other intact.
    let a = keyproof::Secret::new("kp_live_secret");
    let b = a.clone();
    drop(a);
    assert_eq!(b.expose(), "kp_live_secret");
}

/// A denial names the presented key once it was identified (`Decision::key_id`,
/// for the host's logs and counts) without the caller learning anything: a
/// revoked key and an unknown one still get the same answer.
#[test]
fn identified_denials_name_their_key_only_to_the_host() {
    let engine = Engine::from_json(
        r#"{"formats": ["keyproof_live"], "policy": {"routes": [{"method": "GET", "path": "/v1/x", "all_of": ["x:read"]}]}}"#,
    )
    .unwrap();
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
    let mut options = MintOptions::named("Identified");
    options.scopes = vec!["x:read".into()];
    let minted = engine.mint(None, &options, &[5; 32], now).unwrap();
    let key = minted.key.expose();
    let decide = |method: &str, presented: &str, record: Option<&keyproof::KeyRecord>| {
        let prepared = engine.prepare(method, "/v1/x", &[("Authorization", format!("Bearer {presented}"))], None);
        engine.decide(&prepared, record, now, None)
    };
    let allowed = decide("GET", key, Some(&minted.record));
    assert_eq!(allowed.key_id(), Some(minted.record.id.as_str()));
    let revoked_record = {
        let mut r = minted.record.clone();
        r.revoke(now).unwrap();
        r
    };
    let revoked = decide("GET", key, Some(&revoked_record));
    let unknown = decide("GET", key, None);
    let other = engine.mint(None, &options, &[6; 32], now).unwrap();
    let mismatched = decide("GET", other.key.expose(), Some(&minted.record));
    assert_eq!((revoked.code, unknown.code, mismatched.code), ("key_revoked", "unknown_key", "key_mismatch"));
    assert_eq!(revoked.key_id(), Some(minted.record.id.as_str()), "identified: its hash matched");
    assert_eq!((unknown.key_id(), mismatched.key_id()), (None, None), "never identified");
    for d in [&unknown, &mismatched] {
        assert_eq!((d.status, &d.headers, &d.body), (revoked.status, &revoked.headers, &revoked.body));
        assert!(!d.body.as_deref().unwrap_or_default().contains(&minted.record.id));
    }
    assert!(!revoked.headers.iter().any(|(_, v)| v.contains(&minted.record.id)));
    let out_of_scope = decide("POST", key, Some(&minted.record));
    assert_eq!((out_of_scope.code, out_of_scope.key_id()), ("route_not_allowed", Some(minted.record.id.as_str())));
}
