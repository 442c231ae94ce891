//! Golden vectors: regenerates `tests/vectors/*.json` and fails on any difference
//! (`KEYPROOF_BLESS=1 cargo test -p keyproof --test golden_vectors` rewrites them),
//! then runs every file in place through the public API, as each binding does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod golden;

use std::collections::BTreeSet;
use std::path::PathBuf;

use keyproof::{Engine, EngineConfig, ErrorKind, KeyRecord, RateLimitState, RateStoreFailure, Request, Step};
use serde_json::Value;

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn render(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap() + "\n"
}

#[test]
fn vectors_are_up_to_date() {
    let files = golden::generate_all();
    let bless = std::env::var("KEYPROOF_BLESS").is_ok_and(|v| v == "1");
    let total: usize = files.iter().map(|f| f.count).sum();
    assert!(total >= 300, "only {total} vectors");
    let mut stale = Vec::new();
    let mut expected_names = BTreeSet::new();
    for f in &files {
        let path = vector_dir().join(format!("{}.json", f.name));
        expected_names.insert(format!("{}.json", f.name));
        let text = render(&f.json);
        if bless {
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(f.name.clone());
        }
    }
    let on_disk: BTreeSet<String> = std::fs::read_dir(vector_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    assert!(bless || stale.is_empty(), "stale vector files (run with KEYPROOF_BLESS=1 and review the diff): {stale:?}");
    assert_eq!(on_disk, expected_names, "vector files on disk differ from the generated set");
}

fn load_all() -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(vector_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| {
            (
                e.file_name().into_string().unwrap(),
                serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn run_decisions(file: &Value) -> Vec<String> {
    let config: EngineConfig = serde_json::from_value(file["config"].clone()).unwrap();
    let engine = Engine::from_config(config, None).unwrap();
    let records: Vec<KeyRecord> =
        file["records"].as_array().unwrap().iter().map(|r| KeyRecord::from_json(&r.to_string()).unwrap()).collect();
    let mut codes = Vec::new();
    for v in file["vectors"].as_array().unwrap() {
        let request: Request = serde_json::from_value(v["request"].clone()).unwrap();
        let state: Option<RateLimitState> = serde_json::from_value(v["rate_limit_state"].clone()).unwrap();
        let now = keyproof::timestamp::parse_timestamp(v["now"].as_str().unwrap()).unwrap();
        // `rate_store_failure`: the host's rate-limit store failed (rate_store.json).
        // `"policy"`: the host names no answer, the policy's `rate_store_failure` applies.
        let failure = v.get("rate_store_failure").map(|f| match f.as_str() {
            Some("policy") => None,
            _ => Some(RateStoreFailure::from_json(&f.to_string()).unwrap()),
        });
        // The host loop over the verification step, as every binding runs it.
        let mut step = engine.begin_request(&request, now);
        loop {
            match step.next_step() {
                Step::LookupRecord(hash) => {
                    let found = match v["record_id"].as_str() {
                        Some(id) => records.iter().find(|r| r.id == id),
                        None => records.iter().find(|r| r.hash == hash),
                    };
                    step.record(found.cloned());
                }
                // `rate_states` (usage.json): each counter's state by its key.
                Step::LoadRateState(key) => match (failure, v.get("rate_states")) {
                    (Some(failure), _) => step.rate_state_unavailable(failure),
                    (None, Some(states)) => step.rate_state(serde_json::from_value(states[key].clone()).unwrap()),
                    (None, None) => step.rate_state(state),
                },
                Step::Done => break,
            }
        }
        let outcome = step.finish();
        assert!(failure.is_none() || outcome.rate_write.is_none(), "{}: a failed store gets no write", v["name"]);
        let decision = outcome.decision;
        let got: Value = serde_json::from_str(&decision.to_json()).unwrap();
        assert_eq!(got, v["expected"], "{}", v["name"]);
        if let Some(touch) = v.get("touch_last_used") {
            let at = outcome.touch_last_used.map(|t| keyproof::timestamp::format_timestamp(&t));
            assert_eq!(serde_json::json!(at), *touch, "{}", v["name"]);
        }
        codes.push(decision.code.to_string());
    }
    codes
}

/// `charges` (usage_charges.json): `KeyRecord::charge` (or `refund`, per `operation`) of each vector's record, state and units.
fn run_charges(file: &Value) {
    let records: Vec<KeyRecord> =
        file["records"].as_array().unwrap().iter().map(|r| KeyRecord::from_json(&r.to_string()).unwrap()).collect();
    for v in file["vectors"].as_array().unwrap() {
        let record = records.iter().find(|r| r.id == v["record_id"].as_str().unwrap()).unwrap();
        let state: Option<RateLimitState> = serde_json::from_value(v["state"].clone()).unwrap();
        let now = keyproof::timestamp::parse_timestamp(v["now"].as_str().unwrap()).unwrap();
        let units = u32::try_from(v["units"].as_u64().unwrap()).unwrap();
        let settled = match v.get("operation").and_then(Value::as_str) {
            Some("refund") => record.refund(state, units, now),
            _ => record.charge(state, units, now),
        };
        let got = serde_json::to_value(settled).unwrap();
        assert_eq!(got, v["expected"], "{}", v["name"]);
    }
}

#[test]
fn every_vector_file_runs_in_place() {
    if std::env::var("KEYPROOF_BLESS").is_ok_and(|v| v == "1") {
        return; // the other test is rewriting the files
    }
    let mut codes = BTreeSet::new();
    let mut count = 0;
    for (name, file) in load_all() {
        count += file["vectors"].as_array().unwrap().len();
        match file["kind"].as_str().unwrap() {
            "decisions" => codes.extend(run_decisions(&file)),
            "tokens" => codes.extend(golden::token_requests::run(&file)),
            "charges" => run_charges(&file),
            "record_cache" => codes.extend(golden::record_cache::run(&file)),
            "config" | "parse" | "mint" | "rate_limit" | "scan" => {
                for v in file["vectors"].as_array().unwrap() {
                    if let Some(code) = v["expected"]["code"].as_str() {
                        codes.insert(code.to_string());
                    }
                }
            }
            "lifecycle" => {
                for v in file["vectors"].as_array().unwrap() {
                    let mut record = KeyRecord::from_json(&v["record"].to_string()).unwrap();
                    let now = keyproof::timestamp::parse_timestamp(v["now"].as_str().unwrap()).unwrap();
                    let got = match golden::lifecycle::apply(&mut record, &v["operation"], now) {
                        Ok(changed) => serde_json::json!({"ok": true, "changed": changed,
                            "record": serde_json::from_str::<Value>(&record.to_json()).unwrap()}),
                        Err(e) => serde_json::json!({"ok": false, "code": e.code()}),
                    };
                    assert_eq!(got, v["expected"], "{}", v["name"]);
                    codes.insert(v["expected"]["code"].as_str().unwrap_or("ok").to_string());
                }
            }
            other => panic!("{name}: unknown kind {other}"),
        }
    }
    assert!(count >= 300);
    let missing: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.code()).filter(|c| !codes.contains(*c)).collect();
    assert!(missing.is_empty(), "codes no vector covers: {missing:?}");
}
