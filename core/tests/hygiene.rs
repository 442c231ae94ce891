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
    };
    let prepared = engine.prepare_request(&request);
    let denied = engine.decide(&prepared, Some(&minted.record), now, None);
    assert_eq!(denied.code, "insufficient_scope");
    let wrong = engine.decide(&prepared, None, now, None);
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
