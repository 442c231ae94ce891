//! Several `keyproof` processes writing one store at once: nothing is lost,
//! nothing is applied twice (SQLite's single writer; PostgreSQL's row and
//! advisory locks).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::sync::Barrier;

use common::Env;
use serde_json::Value;

const PROCESSES: usize = 6;
const MINTS_EACH: usize = 5;

/// Runs `keyproof --json ARGS` from `runs` threads released together; (exit code, stdout JSON) each.
fn at_once(env: &Env, runs: usize, args: &[&str]) -> Vec<(i32, Value)> {
    let barrier = Barrier::new(runs);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..runs)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    env.json(args)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Processes minting into a store nobody created yet: every key is stored once.
fn concurrent_mints_lose_nothing(env: &Env) {
    let barrier = Barrier::new(PROCESSES);
    let keys: Vec<(String, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..PROCESSES)
            .map(|p| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    (0..MINTS_EACH)
                        .map(|i| env.mint(&["--format", "keyproof_live", "--name", &format!("p{p} k{i}")]))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let total = PROCESSES * MINTS_EACH;
    assert_eq!(keys.len(), total);
    let (code, list) = env.json(&["list"]);
    assert_eq!(code, 0, "{list}");
    let stored = list["keys"].as_array().unwrap();
    assert_eq!(stored.len(), total, "{list}");
    let ids: BTreeSet<&str> = stored.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let hashes: BTreeSet<&str> = stored.iter().map(|r| r["hash"].as_str().unwrap()).collect();
    let names: BTreeSet<&str> = stored.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!((ids.len(), hashes.len(), names.len()), (total, total, total));
    // Every printed key is the one stored under its record.
    for (key, record) in keys.iter().step_by(7) {
        let (code, v) = env.json(&["inspect", key]);
        assert_eq!((code, &v["record"]["id"]), (0, &record["id"]), "{v}");
    }
}

/// Processes rotating the same key at once: exactly one rotation happens.
fn concurrent_rotations_of_one_key_rotate_it_once(env: &Env) {
    let (_, old) = env.mint(&["--format", "keyproof_live", "--name", "rotate me once"]);
    let id = old["id"].as_str().unwrap();
    let results = at_once(env, PROCESSES, &["rotate", id]);
    let winners: Vec<&Value> = results.iter().filter(|(code, _)| *code == 0).map(|(_, v)| v).collect();
    let outcomes: Vec<(i32, &Value)> = results.iter().map(|(code, v)| (*code, &v["error"]["code"])).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    for (code, v) in results.iter().filter(|(code, _)| *code != 0) {
        // Refused before anything was printed: already rotated, or changed while rotating.
        assert!(matches!(*code, 2 | 3), "{code}: {}", v["error"]);
        assert!(v.get("key").is_none(), "a losing rotation printed a key");
    }
    let (_, list) = env.json(&["list"]);
    assert_eq!(list["keys"].as_array().unwrap().len(), 2, "{list}");
    let (_, now) = env.json(&["show", id]);
    assert_eq!(now["rotation"]["replaced_by"], winners[0]["record"]["id"]);
}

const TINY_PLAN: &str = r#"{
  "formats": ["keyproof_live"],
  "policy": {
    "routes": [{ "method": "GET", "path": "/v1/briefs" }],
    "plans": { "tiny": { "limit": 1, "period_seconds": 3600, "burst": 3 } },
    "default_plan": "tiny"
  }
}"#;

/// Requests verified at the same instant by concurrent processes: the burst is
/// spent exactly once (no rate-limit update is lost).
fn concurrent_verifies_spend_the_burst_exactly(env: &Env) {
    env.write("policy.json", TINY_PLAN);
    let (key, _) = env.mint(&["--format", "keyproof_live", "--name", "busy"]);
    let auth = format!("Authorization: Bearer {key}");
    let args =
        ["--now", "2030-01-01T00:00:00Z", "verify", "--policy", "policy.json", "-H", &auth, "--path", "/v1/briefs"];
    let results = at_once(env, 8, &args);
    let statuses: Vec<u64> = results.iter().map(|(_, v)| v["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 3, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 5, "{statuses:?}");
}

common::on_every_store!(
    concurrent_mints_lose_nothing,
    concurrent_rotations_of_one_key_rotate_it_once,
    concurrent_verifies_spend_the_burst_exactly,
);
