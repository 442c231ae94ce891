//! The verification step: one request judged without I/O, in the sans-I/O
//! style of h11 or rustls. The host asks [`Verification::next_step`] what it
//! needs, does that I/O itself (a database read, a Redis GET …) and feeds the
//! answer back, until the step is [`Step::Done`]; [`Verification::finish`] then
//! returns the decision and everything the host should write.
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::Arc;
//! use keyproof::{mint, Engine, KeyRecord, MintOptions, RateLimitState, Step};
//!
//! let engine = Engine::from_json(r#"{"formats": ["matchii_live"], "policy": {
//!     "routes": [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}],
//!     "plans": {"starter": {"limit": 60, "burst": 10}}, "default_plan": "starter"}}"#)?;
//! let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap_or_default();
//! let options = MintOptions::from_json(r#"{"name": "Docs key", "scopes": ["briefs:read"]}"#)?;
//! let format = engine.formats().get("matchii_live")?;
//! let minted = mint(format, engine.hasher(), &options, &[7; 32], now)?;
//! // Records kept in `Arc`s: the decision shares the one it accepts, no copy per request.
//! let mut db: HashMap<String, Arc<KeyRecord>> = HashMap::from([(minted.record.hash.clone(), Arc::new(minted.record))]);
//! let mut rates: HashMap<String, RateLimitState> = HashMap::new();
//!
//! // The host's loop: the only I/O is the two map reads and the writes after it.
//! let headers = [("Authorization", format!("Bearer {}", minted.key.expose()))];
//! let mut v = engine.begin("GET", "/v1/briefs", &headers, None, now);
//! loop {
//!     match v.next_step() {
//!         Step::LookupRecord(hash) => { let found = db.get(hash).cloned(); v.shared_record(found); }
//!         Step::LoadRateState(key) => { let state = rates.get(key).copied(); v.rate_state(state); }
//!         Step::Done => break,
//!     }
//! }
//! let outcome = v.finish();
//! for w in [&outcome.rate_write, &outcome.usage_write].into_iter().flatten() {
//!     rates.insert(w.key.clone(), w.new); // a shared store: compare-and-set against w.expected
//! }
//! if let Some(record) = outcome.upgraded_record {
//!     db.insert(record.hash.clone(), Arc::from(record)); // finishes a hash migration
//! }
//! assert_eq!(outcome.decision.status, 200);
//! assert_eq!(outcome.decision.principal.as_ref().map(|p| p.name()), Some("Docs key"));
//! assert_eq!(outcome.decision.header("RateLimit"), Some("\"starter\";r=9;t=1"));
//! # Ok::<(), keyproof::Error>(())
//! ```

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::decide::Passed;
use super::deny::{store_unavailable, Deny};
use super::meters::{Counter, Meters, RateWrite};
use super::request::Prepared;
use super::Engine;
use crate::answers::RateStoreFailure;
use crate::decision::{Decision, Warning};
use crate::ratelimit::RateLimitState;
use crate::record::KeyRecord;
use crate::token::Gate;

/// What the host must do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// Look a record up under this storage hash and pass it (or `None`) to
    /// [`Verification::record`]. Asked once per lookup hash, preferred first,
    /// until a record is found. For an access token under `confirm_record` the
    /// value is the token's key id, a record id (ids never contain `:`, storage
    /// hashes always do; [`crate::ids::is_record_id`] tells them apart): look the
    /// record up by id.
    LookupRecord(&'a str),
    /// Load the rate-limit state stored under this key and pass it (or `None`)
    /// to [`Verification::rate_state`].
    LoadRateState(&'a str),
    /// The decision is made: call [`Verification::finish`].
    Done,
}

/// Everything a finished verification hands back.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The decision: status, headers, body, principal, warnings.
    pub decision: Decision,
    /// The rate-limit state to store, when a quota applied and quota was spent.
    pub rate_write: Option<RateWrite>,
    /// The usage counter to store, when the key has a usage limit and the
    /// request spent from it (write it after `rate_write`, the same way).
    pub usage_write: Option<RateWrite>,
    /// The record with its hash upgraded to the preferred algorithm: save it to
    /// finish a hash migration (allowed requests only). Boxed: it is rare, and
    /// inline it would make every outcome a 1.3 KB allocation and copy.
    pub upgraded_record: Option<Box<KeyRecord>>,
    /// Write this instant as the record's `last_used_at` (allowed requests only,
    /// when the stored one is absent or older than the policy's
    /// `last_used_interval_seconds`, so a busy key writes about once a minute).
    /// Write it only if newer than the stored value: concurrent requests race.
    pub touch_last_used: Option<DateTime<Utc>>,
}

#[derive(Debug)]
enum Stage {
    Lookup {
        next: usize,
    },
    Denied(Deny),
    Checked {
        record: Arc<KeyRecord>,
        passed: Passed,
        meters: Meters,
    },
    /// The rate-limit store failed: the request is answered per `on_error`, uncounted.
    StoreFailed {
        record: Arc<KeyRecord>,
        passed: Passed,
        on_error: RateStoreFailure,
    },
    Finished,
}

/// One request being verified. Owns everything it needs (the engine is shared),
/// so a binding can keep it between host calls.
#[derive(Debug)]
pub struct Verification {
    engine: Engine,
    prepared: Prepared,
    now: DateTime<Utc>,
    stage: Stage,
    /// Units of a usage limit the host priced this request at (else its route's cost).
    usage_cost: Option<u32>,
}

impl Verification {
    pub(crate) fn new(engine: Engine, prepared: Prepared, now: DateTime<Utc>) -> Self {
        let mut v = Self { engine, prepared, now, stage: Stage::Lookup { next: 0 }, usage_cost: None };
        match v.engine.token_gate(&v.prepared, now) {
            Some(Gate::Denied(deny)) => v.stage = Stage::Denied(deny),
            Some(Gate::Offline(record)) => v.stage = v.checked(record), // zero lookups
            Some(Gate::Lookup) => {}
            None if v.prepared.lookup_hashes().is_empty() => v.stage = Stage::Denied(v.engine.no_record(&v.prepared)),
            None => {}
        }
        v
    }

    /// The prepared request (credential method, parsed key, client id, route).
    pub fn prepared(&self) -> &Prepared {
        &self.prepared
    }

    /// The engine judging the request.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The instant the request is judged at.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Prices this request for a usage-limited key: it spends `units` of the
    /// key's allowance instead of its route's rate-limit cost (the host knows
    /// what a request costs: a model, a batch size, a page count). `0` spends
    /// nothing and passes while at least one unit is left. Rate limits keep
    /// their route's cost; keys without a usage limit ignore it. Call it before
    /// the usage counter is read (right after [`Engine::begin`]).
    pub fn set_usage_cost(&mut self, units: u32) {
        self.usage_cost = Some(units);
        if let Stage::Checked { meters, .. } = &mut self.stage {
            meters.price_usage(units);
        }
    }

    /// What the host must do next.
    pub fn next_step(&self) -> Step<'_> {
        match &self.stage {
            Stage::Lookup { next } => match self.prepared.lookup_hashes().get(*next) {
                Some(hash) => Step::LookupRecord(hash),
                None => Step::Done,
            },
            Stage::Checked { meters, .. } => match (meters.unread(), meters.rate.as_deref(), meters.usage.as_deref()) {
                (Some(Counter::Rate), Some((bucket, _)), _) => Step::LoadRateState(&bucket.key),
                (Some(Counter::Usage), _, Some((meter, _, _))) => Step::LoadRateState(&meter.key),
                _ => Step::Done,
            },
            _ => Step::Done,
        }
    }

    /// Answers [`Step::LookupRecord`]: the record stored under the hash, or
    /// `None` (the next lookup hash is asked for, if any). Ignored at any other step.
    pub fn record(&mut self, record: Option<KeyRecord>) {
        self.shared_record(record.map(Arc::new));
    }

    /// [`Verification::record`] for a host that keeps its records in `Arc`s (a
    /// cache): the decision's principal shares the record, so an allowed request
    /// copies none of it (a token that narrows its record copies it once).
    pub fn shared_record(&mut self, record: Option<Arc<KeyRecord>>) {
        let Stage::Lookup { next } = self.stage else { return };
        self.stage = match record {
            Some(record) => self.checked(record),
            None if next.saturating_add(1) < self.prepared.lookup_hashes().len() => {
                Stage::Lookup { next: next.saturating_add(1) }
            }
            None => Stage::Denied(self.engine.no_record(&self.prepared)),
        };
    }

    /// The stage after authentication and authorization of `record`.
    fn checked(&self, mut record: Arc<KeyRecord>) -> Stage {
        // A token narrows what its key's record grants (scopes, features, kind).
        self.engine.narrow_shared_for_token(&self.prepared, &mut record);
        match self.engine.check(&self.prepared, &record, self.now) {
            Err(deny) => Stage::Denied(deny),
            Ok(passed) => {
                let meters = Meters::new(
                    self.engine.rate_bucket(&self.prepared, &record),
                    self.engine.usage_meter(&self.prepared, &record, self.now, self.usage_cost),
                );
                Stage::Checked { record, passed, meters }
            }
        }
    }

    /// Answers [`Step::LoadRateState`] with the stored state (or `None`). May be
    /// called again after the decision, with a fresh state, when the host's
    /// compare-and-set of [`Verification::rate_write`] lost a race: that
    /// counter is recomputed.
    pub fn rate_state(&mut self, state: Option<RateLimitState>) {
        if let Stage::Checked { meters, .. } = &mut self.stage {
            meters.spend(state, self.now);
        }
    }

    /// The host's compare-and-set of [`Verification::rate_write`] won: the next
    /// write, if any, is the key's usage counter (after its rate-limit bucket).
    pub fn rate_written(&mut self) {
        if let Stage::Checked { meters, .. } = &mut self.stage {
            match meters.pending_counter() {
                Some(Counter::Rate) => meters.rate_written = true,
                Some(Counter::Usage) => meters.usage_written = true,
                None => {}
            }
        }
    }

    /// Answers [`Step::LoadRateState`] with "the store failed" (unreachable, timed
    /// out), or gives up after a lost compare-and-set whose retries failed too: the
    /// request that passed every other check is then answered per `on_error`
    /// (`None`: the policy's `rate_store_failure`) — fail-closed, 503
    /// `rate_limit_unavailable` with `Retry-After`; fail-open, allowed without
    /// rate-limit headers plus the warning `rate_limit_unavailable`. Either way
    /// nothing is written to the store. Ignored at any other step (a denial for
    /// another reason stays that denial).
    pub fn rate_state_unavailable(&mut self, on_error: Option<RateStoreFailure>) {
        let on_error = on_error.unwrap_or(self.engine.policy().rate_store_failure);
        let stage = std::mem::replace(&mut self.stage, Stage::Finished);
        self.stage = match stage {
            Stage::Checked { record, passed, meters } if meters.rate.is_some() || meters.usage.is_some() => {
                Stage::StoreFailed { record, passed, on_error }
            }
            other => other,
        };
    }

    /// The next compare-and-set the decision so far needs (before
    /// [`Verification::finish`]): the rate-limit bucket's, then, once the host
    /// confirmed it with [`Verification::rate_written`], the usage counter's.
    pub fn rate_write(&self) -> Option<RateWrite> {
        match &self.stage {
            Stage::Checked { meters, .. } => meters.pending(),
            _ => None,
        }
    }

    /// The decision and what to write. Asking before [`Step::Done`] decides with
    /// what is known: no record means `unknown_key`; no state means an empty bucket.
    pub fn finish(mut self) -> Outcome {
        for _ in 0..2 {
            if let Step::LoadRateState(_) = self.next_step() {
                self.rate_state(None);
            }
        }
        // Taken apart, not `mem::replace`d: the stage moves out without a copy of it.
        let Self { engine, prepared, now, stage, .. } = self;
        let denied = |deny| Outcome {
            decision: engine.render_denial(deny),
            rate_write: None,
            usage_write: None,
            upgraded_record: None,
            touch_last_used: None,
        };
        match stage {
            Stage::Denied(deny) => denied(deny),
            Stage::Lookup { .. } | Stage::Finished => denied(engine.no_record(&prepared)),
            Stage::Checked { record, passed, meters } => {
                allowed(&engine, &prepared, record, passed, &meters, now, None)
            }
            Stage::StoreFailed { record, on_error: RateStoreFailure::FailClosed { retry_after_seconds }, .. } => {
                denied(store_unavailable(retry_after_seconds).of(&record))
            }
            Stage::StoreFailed { record, mut passed, on_error: RateStoreFailure::FailOpen } => {
                passed.warnings.push(Warning::RateLimitUnavailable);
                let (none, detail) =
                    (Meters::new(None, None), "the rate-limit store is unavailable: allowed uncounted");
                allowed(&engine, &prepared, record, passed, &none, now, Some(detail))
            }
        }
    }
}

/// The outcome of an accepted key, built in place (it is large): the decision,
/// the meters' writes, a hash upgrade and the last-use write. `detail` replaces
/// the decision's empty one.
fn allowed(
    engine: &Engine,
    prepared: &Prepared,
    record: Arc<KeyRecord>,
    passed: Passed,
    meters: &Meters,
    now: DateTime<Utc>,
    detail: Option<&str>,
) -> Outcome {
    let (rate, usage) = (meters.rate(), meters.usage());
    let spends = rate.is_none_or(|(_, o)| o.allowed) && usage.is_none_or(|(_, o)| o.allowed);
    let upgraded_record =
        if passed.should_rehash && spends { engine.rehashed(prepared, &record).map(Box::new) } else { None };
    let stale =
        record.last_used_at.is_none_or(|at| now.signed_duration_since(at) >= engine.policy().last_used_interval());
    let mut decision = engine.conclude(passed, record, rate, usage);
    if let Some(detail) = detail {
        decision.detail = detail.to_string();
    }
    let touch_last_used = (decision.allowed && stale).then_some(now);
    Outcome {
        decision,
        rate_write: meters.rate_write(),
        usage_write: meters.usage_write(),
        upgraded_record,
        touch_last_used,
    }
}
