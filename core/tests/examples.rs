//! Runs `examples/*/checks.json`: one worked configuration per seed scheme must
//! load and answer as its seed's document promises.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use keyproof::{Engine, EngineConfig, KeyRecord, MintOptions, Step};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut out: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect();
    out.sort();
    out
}

/// `{label}`, `{label.client_id}`, `{basic:label}` and `{basic:label:other}` in a header value.
fn fill(value: &str, keys: &BTreeMap<String, (String, KeyRecord)>) -> String {
    let mut out = value.to_string();
    for (label, (key, record)) in keys {
        let client_id = record.client_id.clone().unwrap_or_default();
        for (other, (_, other_record)) in keys {
            let other_id = other_record.client_id.clone().unwrap_or_default();
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{other_id}:{key}"));
            out = out.replace(&format!("{{basic:{label}:{other}}}"), &basic);
        }
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{key}"));
        out = out.replace(&format!("{{basic:{label}}}"), &basic);
        out = out.replace(&format!("{{{label}.client_id}}"), &client_id);
        out = out.replace(&format!("{{{label}}}"), key);
    }
    out
}

#[test]
fn every_example_answers_as_its_seed_promises() {
    let mut ran = 0;
    for dir in examples() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let config: EngineConfig =
            keyproof::Load::load_json(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
        let engine = Engine::from_config(config, None).unwrap();
        let checks: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("checks.json")).unwrap()).unwrap();
        let now = keyproof::timestamp::parse_timestamp(checks["now"].as_str().unwrap()).unwrap();
        let mut keys = BTreeMap::new();
        for (label, spec) in checks["keys"].as_object().unwrap() {
            let options = MintOptions::from_json(&spec["options"].to_string()).unwrap();
            let random = Sha256::digest(format!("keyproof/examples/{name}/{label}"));
            let minted = engine.mint(spec["format"].as_str().unwrap(), &options, &random, now).unwrap();
            keys.insert(label.clone(), (minted.key.expose().to_string(), minted.record));
        }
        for check in checks["checks"].as_array().unwrap() {
            let request = &check["request"];
            let headers: Vec<(String, String)> = request["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| (h[0].as_str().unwrap().to_string(), fill(h[1].as_str().unwrap(), &keys)))
                .collect();
            let mut v = engine.begin(
                request["method"].as_str().unwrap(),
                request["path"].as_str().unwrap(),
                &headers,
                request["client_ip"].as_str(),
                now,
            );
            while let Step::LookupRecord(hash) = v.next_step() {
                let found = keys.values().find(|(_, r)| r.hash == hash).map(|(_, r)| r.clone());
                v.record(found);
            }
            if let Step::LoadRateState(_) = v.next_step() {
                v.rate_state(None);
            }
            let decision = v.finish().decision;
            let got = (decision.code, decision.status);
            let want = (check["expect"]["code"].as_str().unwrap(), check["expect"]["status"].as_u64().unwrap() as u16);
            assert_eq!(got, want, "{name}: {}", check["name"]);
            ran += 1;
        }
    }
    assert!(ran >= 25, "only {ran} example checks ran");
}

/// Seed 003 configures names of 3–50 characters; the default accepts seed 002's long names.
#[test]
fn seed_name_rules_apply_at_mint() {
    let load = |dir: &str| {
        let text = std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples").join(dir).join("config.json"),
        )
        .unwrap();
        Engine::from_config(keyproof::Load::load_json(&text).unwrap(), None).unwrap()
    };
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
    let tmmate = load("seed003-tmmate");
    let short = tmmate.mint("tmmate_prod", &MintOptions::named("ab"), &[1; 32], now);
    assert_eq!(short.err().map(|e| e.code()), Some("invalid_name"));
    let matatika = load("seed002-matatika");
    let long = MintOptions::named("SIT-generated api key (2026-01-11T18:58:35.918500330) renamed");
    assert!(matatika.mint("matatika_client_secret", &long, &[1; 32], now).is_ok());
}
