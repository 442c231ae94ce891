//! Core's whole host loop (`Completion`) answered by a fuzzed host: lookups,
//! state loads and compare-and-sets answered right, lost or failed, saves,
//! touches and counts answered in turn or out of turn, hosts that do or do not
//! save, touch or count, keys that are upgraded, rate limited, usage limited,
//! denied for scope or unknown.
//!
//! Input: control bytes (see `keyproof_fuzz::Input`): which key, the host's
//! writes, the stored counters' start, then one byte per host answer (below 12:
//! the right answer, a compare-and-set lost when it is 11; 12–15: `counted`,
//! `touched`, `saved` or a store failure out of turn). Past the control bytes
//! every answer is the right one.
//! Invariants: no panic; the loop ends (a decision or `StoreContended`) within a
//! bound of right answers; only an allowed request asks to save, touch or count,
//! each only of a host that does it, in that order, each once; an allowed
//! request of a counting host is counted, of a touching host (interval 0) is
//! touched, an upgraded one saved; `Done` stays `Done`; the outcome is the
//! decision `Done` showed; every decision invariant.
#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use keyproof::{
    Action, Completion, Engine, Hasher, KeyRecord, MintOptions, RateLimitState, RateStoreFailure, MAX_WRITE_TRIES,
};
use keyproof_fuzz::{check_decision, Input, BASE_SECS};
use libfuzzer_sys::fuzz_target;

const PEPPER: &str = "6b657970726f6f662d746573742d7065707065722d33322d62797465732d2121";

struct World {
    engine: Engine,
    /// Keys and whether their record is stored (the last one's is not).
    keys: Vec<String>,
    records: HashMap<String, KeyRecord>,
    now: DateTime<Utc>,
}

fn world() -> &'static World {
    static CELL: OnceLock<World> = OnceLock::new();
    CELL.get_or_init(|| {
        let engine = Engine::from_json(&format!(
            r#"{{"formats": ["keyproof_live"], "hashing": {{"algorithm": "hmac-sha256", "pepper_hex": "{PEPPER}"}},
            "policy": {{"routes": [{{"method": "GET", "path": "/v1/items", "all_of": ["items:read"]}}],
            "plans": {{"p": {{"limit": 3, "burst": 2}}}}, "default_plan": "p", "last_used_interval_seconds": 0}}}}"#
        ))
        .expect("engine");
        let now = DateTime::from_timestamp(BASE_SECS, 0).unwrap_or_default();
        let format = engine.formats().get("keyproof_live").expect("format").clone();
        let mint = |options: &str, seed: u8, hasher: &Hasher| {
            let options = MintOptions::from_json(options).expect("options");
            keyproof::mint(&format, hasher, &options, &[seed; 32], now).expect("mint")
        };
        // Plain SHA-256 (upgraded by the peppered engine), peppered, usage limited, wrong scope, unknown.
        let minted = [
            mint(r#"{"name": "Plain", "scopes": ["items:read"]}"#, 1, &Hasher::default()),
            mint(r#"{"name": "Peppered", "scopes": ["items:read"]}"#, 2, engine.hasher()),
            mint(r#"{"name": "Metered", "scopes": ["items:read"], "usage_limit": {"limit": 2}}"#, 3, engine.hasher()),
            mint(r#"{"name": "Other", "scopes": ["other:read"]}"#, 4, engine.hasher()),
            mint(r#"{"name": "Unknown", "scopes": ["items:read"]}"#, 5, engine.hasher()),
        ];
        let keys = minted.iter().map(|m| m.key.expose().to_string()).collect();
        let stored = minted.iter().take(4);
        let records = stored.map(|m| (m.record.hash.clone(), m.record.clone())).collect();
        World { engine, keys, records, now }
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asked {
    Save,
    Touch,
    Count,
}

fuzz_target!(|data: &[u8]| run(data));

fn run(data: &[u8]) {
    let w = world();
    let mut input = Input::new(data);
    let key = &w.keys[input.choose(w.keys.len())];
    let writes = input.u8();
    let (saves, touches, counts) = (writes & 1 != 0, writes & 2 != 0, writes & 4 != 0);
    let mut states: HashMap<String, RateLimitState> = HashMap::new();
    let spent = input.u8();
    let headers = [("Authorization", format!("Bearer {key}"))];
    let mut c = Completion::new(w.engine.begin("GET", "/v1/items", &headers, None, w.now));
    c.set_host_writes(saves, touches);
    c.set_host_counts(counts);
    let mut asked: Vec<Asked> = Vec::new();
    let mut right = 0u32;
    // Two counters, each at most MAX_WRITE_TRIES lost writes and re-reads, plus lookups and writes.
    let bound = MAX_WRITE_TRIES.saturating_mul(6).saturating_add(32);
    let decision = loop {
        assert!(right <= bound, "no end after {right} right answers");
        let op = input.u8() % 16;
        match c.next_action() {
            Action::Done(d) => break Some(d.clone()),
            Action::StoreContended if op < 12 => break None,
            action => {
                let seen = match action {
                    Action::SaveRecord(_) => Some(Asked::Save),
                    Action::TouchLastUsed { .. } => Some(Asked::Touch),
                    Action::CountRequest { .. } => Some(Asked::Count),
                    _ => None,
                };
                if let Some(seen) = seen.filter(|s| asked.last() != Some(s)) {
                    asked.push(seen);
                }
            }
        }
        if op >= 12 {
            match op {
                12 => c.counted(),
                13 => c.touched(),
                14 => c.saved(),
                _ if spent & 1 == 0 => c.rate_state_unavailable(None),
                _ => c.rate_state_unavailable(Some(RateStoreFailure::FailOpen)),
            }
            continue;
        }
        right = right.saturating_add(1);
        let lose = op == 11;
        match c.next_action() {
            Action::LookupRecord(hash) => {
                let found = w.records.get(hash).cloned();
                c.record(found);
            }
            Action::LoadRateState(k) => {
                // A bucket starts full, or with `spent` units' worth spent (a usage counter too).
                let k = k.to_string();
                let state = states.get(&k).copied().or_else(|| {
                    (spent >= 128)
                        .then(|| RateLimitState { tat_us: w.now.timestamp_micros() + i64::from(spent) * 7_000_000 })
                });
                c.rate_state(state);
            }
            Action::CompareAndSet(write) => {
                let won = !lose;
                if won {
                    states.insert(write.key.clone(), write.new);
                }
                c.written(won);
            }
            Action::SaveRecord(_) => c.saved(),
            Action::TouchLastUsed { .. } => c.touched(),
            Action::CountRequest { .. } => c.counted(),
            Action::StoreContended | Action::Done(_) => {} // left the loop above
        }
    };
    let Some(d) = decision else {
        assert!(c.into_outcome().is_none(), "a contended loop has no outcome");
        return;
    };
    check_decision(w.engine.policy(), &d);
    for (kind, does) in [(Asked::Save, saves), (Asked::Touch, touches), (Asked::Count, counts)] {
        let times = asked.iter().filter(|a| **a == kind).count();
        assert!(times <= 1, "{kind:?} asked {times} times");
        assert!(times == 0 || (does && d.allowed), "{kind:?} asked of a host that does not, or for a denial");
    }
    let mut order = asked.clone();
    order.sort_by_key(|a| *a as u8);
    assert_eq!(order, asked, "save, touch and count come in that order");
    assert!(matches!(c.next_action(), Action::Done(again) if again.status == d.status), "Done stays Done");
    let outcome = c.into_outcome().expect("a decided loop has its outcome");
    assert_eq!((outcome.decision.status, outcome.decision.code), (d.status, d.code));
    if d.allowed {
        assert_eq!(asked.contains(&Asked::Count), counts, "an allowed request of a counting host is counted");
        assert_eq!(asked.contains(&Asked::Touch), touches, "interval 0: every allowed request is touched");
        let upgraded = outcome.upgraded_record.is_some();
        assert_eq!(asked.contains(&Asked::Save), saves && upgraded, "an upgraded record is saved");
        assert_eq!(upgraded, key == &w.keys[0], "only the plain SHA-256 record is upgraded");
    }
}
