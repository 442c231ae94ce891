//! Golden-vector generator: fixed seeds, fixed clock, hand-stated expectations.
//! Every case names the code it must produce; the generator refuses to write a
//! vector whose decision disagrees, then records the full decision as the contract.

pub mod charges;
pub mod generic;
pub mod hardening;
pub mod hostile;
pub mod last_used;
pub mod lifecycle;
pub mod origins;
pub mod proxies;
pub mod quotas;
pub mod rate_store;
pub mod record_cache;
pub mod resources;
pub mod scope;
pub mod seeds;
pub mod seeds_more;
pub mod token_requests;
pub mod tokens;
pub mod usage;
pub mod vendor;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use keyproof::{Action, Engine, EngineConfig, KeyRecord, MintOptions, RateLimitState, RateStoreFailure, Request};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The fixed clock of every vector: 2026-03-18T10:30:00Z (seed 000's example date).
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-18T10:30:00Z").unwrap().with_timezone(&Utc)
}

/// Deterministic "random" bytes for a label.
pub fn seeded(label: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"keyproof/golden-vectors/v1\0");
    h.update(label.as_bytes());
    h.finalize().to_vec()
}

/// One vector file.
pub struct VectorFile {
    pub name: String,
    pub json: Value,
    pub count: usize,
}

/// A decision suite: one config, one record store, many requests.
pub struct Suite {
    name: String,
    description: String,
    config: Value,
    pub engine: Engine,
    pub records: Vec<KeyRecord>,
    vectors: Vec<Value>,
    /// Each vector also pins the outcome's `touch_last_used` (the last-used suite).
    pub pin_touch: bool,
    /// The host's rate-limit store fails: `LoadRateState` is answered with
    /// `rate_state_unavailable(…)` (pinned as the vector's `rate_store_failure`).
    pub store_failure: Option<StoreFailure>,
}

/// How a vector's host answers for its failed rate-limit store.
#[derive(Clone, Copy)]
pub enum StoreFailure {
    /// It names the answer (the vector pins it as an object).
    Named(RateStoreFailure),
    /// It leaves the answer to the policy's `rate_store_failure` (pinned as `"policy"`).
    Policy,
}

impl StoreFailure {
    /// What the host passes to `rate_state_unavailable`.
    pub fn named(self) -> Option<RateStoreFailure> {
        match self {
            Self::Named(f) => Some(f),
            Self::Policy => None,
        }
    }
}

pub fn bearer(key: &str) -> Vec<(String, String)> {
    vec![("Authorization".into(), format!("Bearer {key}"))]
}

pub fn req(method: &str, path: &str, headers: Vec<(String, String)>) -> Request {
    Request { method: method.into(), path: path.into(), headers, client_ip: None, usage_cost: None }
}

pub fn req_ip(method: &str, path: &str, headers: Vec<(String, String)>, ip: &str) -> Request {
    Request { client_ip: Some(ip.into()), ..req(method, path, headers) }
}

impl Suite {
    pub fn new(name: &str, description: &str, config: Value) -> Self {
        let parsed = EngineConfig::from_json(&config.to_string()).unwrap();
        let engine = Engine::from_config(parsed, None).unwrap();
        Self {
            name: name.into(),
            description: description.into(),
            config,
            engine,
            records: Vec::new(),
            vectors: Vec::new(),
            pin_touch: false,
            store_failure: None,
        }
    }

    /// Mints a key of `format` with `options` (JSON), minted 30 days before t0; returns the plaintext.
    pub fn mint(&mut self, label: &str, format: &str, options: Value) -> String {
        self.mint_with(label, format, options, |_| {})
    }

    /// The suite's engine config, as its vector file records it.
    pub fn config(&self) -> &Value {
        &self.config
    }

    /// Replaces the suite's config (and engine) before its first vector: a
    /// setting that names something minted or issued first (a token's `jti`).
    pub fn reconfigure(&mut self, config: Value) {
        assert!(self.vectors.is_empty(), "{}: reconfigured after a vector", self.name);
        let parsed = EngineConfig::from_json(&config.to_string()).unwrap();
        self.engine = Engine::from_config(parsed, None).unwrap();
        self.config = config;
    }

    /// Mints, then lets `edit` change the stored record (revoke, rotate, …).
    pub fn mint_with(
        &mut self,
        label: &str,
        format: &str,
        options: Value,
        edit: impl FnOnce(&mut KeyRecord),
    ) -> String {
        let options = MintOptions::from_json(&options.to_string()).unwrap();
        let format = self.engine.formats().get(format).unwrap().clone();
        let minted = keyproof::mint(
            &format,
            self.engine.hasher(),
            &options,
            &seeded(&format!("{}/{label}", self.name)),
            t0() - Duration::days(30),
        )
        .unwrap();
        let mut record = minted.record;
        edit(&mut record);
        record.validate().unwrap();
        self.records.push(record);
        minted.key.expose().to_string()
    }

    /// Adds a case that must end with `expect` (a code, or `ok`); returns the decision's rate-limit state.
    pub fn case(&mut self, name: &str, expect: &str, request: Request) -> Option<RateLimitState> {
        self.case_full(name, expect, request, t0(), None, None)
    }

    /// Adds a case at `now` with a stored rate-limit state and, optionally, a
    /// record the host supplies by id instead of by hash lookup.
    pub fn case_full(
        &mut self,
        name: &str,
        expect: &str,
        request: Request,
        now: DateTime<Utc>,
        state: Option<RateLimitState>,
        record_id: Option<&str>,
    ) -> Option<RateLimitState> {
        // Drive the I/O-free step exactly as a host would; `record_id` hands a record over by id.
        let mut v = self.engine.begin_request(&request, now);
        loop {
            match v.next_step() {
                keyproof::Step::LookupRecord(hash) => {
                    let found = match record_id {
                        Some(id) => self.records.iter().find(|r| r.id == id),
                        None => self.records.iter().find(|r| r.hash == hash),
                    };
                    v.record(found.cloned());
                }
                keyproof::Step::LoadRateState(_) => match self.store_failure {
                    Some(failure) => v.rate_state_unavailable(failure.named()),
                    None => v.rate_state(state),
                },
                keyproof::Step::Done => break,
            }
        }
        let outcome = v.finish();
        let decision = outcome.decision;
        // The one-call form must agree with the step (it has no store to fail).
        let prepared = self.engine.prepare_request(&request);
        let record = match record_id {
            Some(id) => self.records.iter().find(|r| r.id == id),
            None => self.records.iter().find(|r| prepared.lookup_hashes().contains(&r.hash)),
        };
        if self.store_failure.is_none() {
            assert_eq!(self.engine.decide(&prepared, record, now, state), decision, "{name}");
        }
        if let Some(rl) = decision.rate_limit.as_ref().filter(|_| decision.allowed) {
            let write = outcome.rate_write.as_ref().expect("an allowed rate-limited request writes state");
            assert_eq!((write.key.as_str(), write.new, write.expected), (rl.key.as_str(), rl.outcome.state, state));
        } else if outcome.rate_write.is_some() {
            // Only a repaired (clamped) corrupt state is written back on a denial.
            assert!(decision.detail.contains("clamped"), "{name}: a denied request writes no rate-limit state");
        }
        assert_eq!(decision.code, expect, "{}: {name}: {}", self.name, decision.detail);
        assert!(self.vectors.iter().all(|v| v["name"] != name), "duplicate vector name {name}");
        let mut vector = json!({
            "name": name,
            "request": request,
            "now": keyproof::timestamp::format_timestamp(&now),
            "rate_limit_state": state,
            "expected": serde_json::from_str::<Value>(&decision.to_json()).unwrap(),
        });
        if let Some(id) = record_id {
            vector["record_id"] = json!(id);
        }
        match self.store_failure {
            Some(StoreFailure::Named(failure)) => vector["rate_store_failure"] = json!(failure),
            Some(StoreFailure::Policy) => vector["rate_store_failure"] = json!("policy"),
            None => {}
        }
        if self.pin_touch {
            vector["touch_last_used"] =
                json!(outcome.touch_last_used.map(|t| keyproof::timestamp::format_timestamp(&t)));
        } else {
            assert!(
                outcome.touch_last_used.is_none() || decision.allowed,
                "{name}: a denial asks for no last-used write"
            );
        }
        self.vectors.push(vector);
        decision.rate_limit.map(|r| r.outcome.state)
    }

    /// Adds a case whose counters (rate-limit buckets and usage counters) are
    /// stored by key in `states`, run through core's whole host loop
    /// ([`keyproof::Completion`], compare-and-set against the map); returns the
    /// states after its writes. The vector carries them as `rate_states`.
    pub fn case_stored(
        &mut self,
        name: &str,
        expect: &str,
        request: Request,
        now: DateTime<Utc>,
        states: &BTreeMap<String, RateLimitState>,
    ) -> BTreeMap<String, RateLimitState> {
        let mut after = states.clone();
        let mut c = keyproof::Completion::new(self.engine.begin_request(&request, now));
        let decision = loop {
            match c.next_action() {
                Action::LookupRecord(hash) => {
                    let found = self.records.iter().find(|r| r.hash == hash).cloned();
                    c.record(found);
                }
                Action::LoadRateState(key) => {
                    let state = after.get(key).copied();
                    c.rate_state(state);
                }
                Action::CompareAndSet(w) => {
                    let won = after.get(&w.key).copied() == w.expected;
                    assert!(won, "{name}: nothing else writes here");
                    after.insert(w.key.clone(), w.new);
                    c.written(won);
                }
                Action::SaveRecord(_) => c.saved(),
                Action::TouchLastUsed { .. } => c.touched(),
                Action::CountRequest { .. } => c.counted(),
                Action::StoreContended => panic!("{name}: contended"),
                Action::Done(decision) => break decision.clone(),
            }
        };
        assert_eq!(decision.code, expect, "{}: {name}: {}", self.name, decision.detail);
        if !decision.allowed {
            assert_eq!(&after, states, "{name}: a denied request writes no counter");
        }
        assert!(self.vectors.iter().all(|v| v["name"] != name), "duplicate vector name {name}");
        self.vectors.push(json!({
            "name": name,
            "request": request,
            "now": keyproof::timestamp::format_timestamp(&now),
            "rate_limit_state": null,
            "rate_states": states,
            "expected": serde_json::from_str::<Value>(&decision.to_json()).unwrap(),
        }));
        after
    }

    pub fn finish(self) -> VectorFile {
        let records: Vec<Value> = self.records.iter().map(|r| serde_json::from_str(&r.to_json()).unwrap()).collect();
        let count = self.vectors.len();
        VectorFile {
            name: self.name.clone(),
            json: json!({
                "kind": "decisions",
                "description": self.description,
                "config": self.config,
                "records": records,
                "vectors": self.vectors,
            }),
            count,
        }
    }
}

/// Every vector file, generated from scratch.
pub fn generate_all() -> Vec<VectorFile> {
    let mut files = Vec::new();
    files.extend(seeds::all());
    files.extend(seeds_more::all());
    files.extend(generic::all());
    files.extend(lifecycle::all());
    files.extend(hardening::all());
    files.extend(vendor::all());
    files.extend(hostile::all());
    files.extend(tokens::all());
    files.push(token_requests::suite());
    files.push(last_used::suite());
    files.push(rate_store::suite());
    files.push(rate_store::policy_suite());
    files.push(proxies::suite());
    files.push(proxies::single_header_suite());
    files.push(quotas::suite());
    files.push(usage::suite());
    files.push(charges::suite());
    files.push(scope::suite());
    files.push(record_cache::suite());
    files.push(resources::suite());
    files.push(origins::suite());
    files
}
