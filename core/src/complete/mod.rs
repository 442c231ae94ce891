//! The whole host loop as I/O-free actions: the verification step, then the
//! compare-and-set of the rate-limit write (re-reading the state after a lost
//! race), saving an upgraded record, writing the last use and, for a host that
//! keeps them, counting the request. A binding's verifier is a `match` over
//! [`Completion::next_action`] doing each action's I/O, so every runtime
//! retries, saves, touches and counts in the same order.
//!
//! ```
//! use std::collections::HashMap;
//! use keyproof::{mint, Action, Completion, Engine, KeyRecord, MintOptions, RateLimitState};
//!
//! let engine = Engine::from_json(r#"{"formats": ["matchii_live"], "policy": {
//!     "routes": [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}],
//!     "plans": {"starter": {"limit": 60, "burst": 10}}, "default_plan": "starter"}}"#)?;
//! let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap_or_default();
//! let options = MintOptions::from_json(r#"{"name": "Docs key", "scopes": ["briefs:read"]}"#)?;
//! let minted = mint(engine.formats().get("matchii_live")?, engine.hasher(), &options, &[7; 32], now)?;
//! let mut db: HashMap<String, KeyRecord> = HashMap::from([(minted.record.hash.clone(), minted.record)]);
//! let mut rates: HashMap<String, RateLimitState> = HashMap::new();
//!
//! let headers = [("Authorization", format!("Bearer {}", minted.key.expose()))];
//! let mut c = Completion::new(engine.begin("GET", "/v1/briefs", &headers, None, now));
//! let decision = loop {
//!     match c.next_action() {
//!         Action::LookupRecord(hash) => { let found = db.get(hash).cloned(); c.record(found); }
//!         Action::LoadRateState(key) => { let state = rates.get(key).copied(); c.rate_state(state); }
//!         Action::CompareAndSet(w) => {
//!             let won = rates.get(&w.key).copied() == w.expected;
//!             if won { rates.insert(w.key.clone(), w.new); }
//!             c.written(won);
//!         }
//!         Action::SaveRecord(record) => { db.insert(record.hash.clone(), record.clone()); c.saved(); }
//!         Action::TouchLastUsed { .. } => c.touched(),
//!         Action::CountRequest { .. } => c.counted(),
//!         Action::StoreContended => break None,
//!         Action::Done(decision) => break Some(decision.clone()),
//!     }
//! };
//! assert_eq!(decision.map(|d| d.status), Some(200));
//! assert_eq!(rates.len(), 1);
//! # Ok::<(), keyproof::Error>(())
//! ```

use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::{DateTime, Utc};

mod action;

pub use action::Action;

use crate::answers::RateStoreFailure;
use crate::cache::RecordCache;
use crate::engine::{Outcome, RateWrite, Step, Verification};
use crate::ratelimit::RateLimitState;
use crate::record::KeyRecord;

/// Compare-and-set writes a [`Completion`] tries before it reports
/// [`Action::StoreContended`]: a store losing this many races in a row is broken.
pub const MAX_WRITE_TRIES: u32 = 32;

#[derive(Debug)]
enum Stage {
    /// Answering the step's lookups and state loads.
    Steps(Verification),
    /// Writing the rate state: `tries` compare-and-sets asked so far.
    Write { v: Verification, write: RateWrite, tries: u32 },
    /// Re-reading the state after a lost compare-and-set.
    Reread { v: Verification, key: String, tries: u32 },
    /// Too many lost compare-and-sets; the step waits for a store-failure answer.
    Contended(Verification),
    /// Decided: saving (`saved` false), touching (`touched` false), counting
    /// (`counted` false), then done.
    Decided { outcome: Box<Outcome>, saved: bool, touched: bool, counted: bool },
    /// Only between taking a stage apart and putting the next one in place.
    Poisoned,
}

/// One request carried through the whole host loop (see the module docs).
#[derive(Debug)]
pub struct Completion {
    stage: Stage,
    max_tries: u32,
    /// The host saves upgraded records / writes the last use / counts requests
    /// (else those actions are skipped).
    saves: bool,
    touches: bool,
    counts: bool,
    /// The engine's record cache, when configured, and the request's instant.
    cache: Option<Arc<RecordCache>>,
    now: DateTime<Utc>,
    /// The cache missed the open lookup: the host answers it (asked once, however
    /// often the host reads the next action).
    cache_missed: bool,
}

impl Completion {
    /// Carries `v` through the loop. A host that keeps no records or no last
    /// use answers [`Action::SaveRecord`] / [`Action::TouchLastUsed`] at once.
    /// With the engine's record cache, lookups it holds are answered without the
    /// host, and the host's answers, saves and touches are kept in it.
    pub fn new(v: Verification) -> Self {
        let (cache, now) = (v.engine().record_cache().cloned(), v.now());
        let stage = Stage::Steps(v);
        let (saves, touches, counts, cache_missed) = (true, true, false, false);
        Self { stage, max_tries: MAX_WRITE_TRIES, saves, touches, counts, cache, now, cache_missed }
    }

    /// Whether the host saves upgraded records and writes the last use: a host
    /// that does neither is never asked (no [`Action::SaveRecord`] /
    /// [`Action::TouchLastUsed`]), which spares it a call per request.
    pub fn set_host_writes(&mut self, saves: bool, touches: bool) {
        (self.saves, self.touches) = (saves, touches);
    }

    /// Whether the host keeps a request count per key: then each allowed
    /// request ends with [`Action::CountRequest`] (never asked by default, as
    /// it is a store write per request where the last use is one a minute).
    pub fn set_host_counts(&mut self, counts: bool) {
        self.counts = counts;
    }

    /// At most `max_tries` compare-and-sets (at least one) before [`Action::StoreContended`].
    pub fn set_max_tries(&mut self, max_tries: u32) {
        self.max_tries = max_tries.max(1);
    }

    /// What the host must do next.
    pub fn next_action(&mut self) -> Action<'_> {
        self.advance();
        match &self.stage {
            Stage::Steps(v) => match v.next_step() {
                Step::LookupRecord(hash) => Action::LookupRecord(hash),
                Step::LoadRateState(key) => Action::LoadRateState(key),
                Step::Done => Action::StoreContended, // `advance` leaves no finished step here
            },
            Stage::Write { write, .. } => Action::CompareAndSet(write),
            Stage::Reread { key, .. } => Action::LoadRateState(key),
            Stage::Contended(_) => Action::StoreContended,
            Stage::Decided { outcome, saved: false, .. } => match &outcome.upgraded_record {
                Some(record) => Action::SaveRecord(record),
                None => Action::Done(&outcome.decision),
            },
            Stage::Decided { outcome, touched: false, .. } => {
                match (&outcome.decision.principal, outcome.touch_last_used) {
                    (Some(p), Some(at)) => Action::TouchLastUsed { key_id: p.key_id(), at },
                    _ => Action::Done(&outcome.decision),
                }
            }
            Stage::Decided { outcome, counted: false, .. } => match &outcome.decision.principal {
                Some(p) => Action::CountRequest { key_id: p.key_id() },
                None => Action::Done(&outcome.decision),
            },
            Stage::Decided { outcome, .. } => Action::Done(&outcome.decision),
            Stage::Poisoned => Action::StoreContended,
        }
    }

    /// Moves past a finished step. Only then is the stage taken out and put back:
    /// `next_action` runs several times per request, and a stage is half a kilobyte.
    fn advance(&mut self) {
        if let (Some(cache), Stage::Steps(v), false) = (&self.cache, &mut self.stage, self.cache_missed) {
            while let Step::LookupRecord(lookup) = v.next_step() {
                match cache.get(lookup, self.now) {
                    Some(cached) => v.shared_record(cached),
                    None => {
                        self.cache_missed = true;
                        break;
                    }
                }
            }
        }
        if !matches!(&self.stage, Stage::Steps(v) if v.next_step() == Step::Done) {
            return;
        }
        if let Stage::Steps(v) = std::mem::replace(&mut self.stage, Stage::Poisoned) {
            self.stage = self.writing(v, 0);
        }
    }

    /// The decided stage: nothing left to save, touch or count (or a host that
    /// does not) counts as done. Only allowed requests are counted.
    fn decided(&self, v: Verification) -> Stage {
        let outcome = v.finish();
        let saved = !self.saves || outcome.upgraded_record.is_none();
        let touched = !self.touches || outcome.touch_last_used.is_none();
        let counted = !self.counts || !outcome.decision.allowed;
        Stage::Decided { outcome: Box::new(outcome), saved, touched, counted }
    }

    /// The write a finished step needs, or its decision when it needs none. A
    /// bucket recomputed after a lost race may now let the request through: its
    /// usage counter, unread so far, is read first.
    fn writing(&self, v: Verification, tries: u32) -> Stage {
        if let Step::LoadRateState(_) = v.next_step() {
            return Stage::Steps(v);
        }
        match v.rate_write() {
            Some(_) if tries >= self.max_tries => Stage::Contended(v),
            Some(write) => Stage::Write { v, write, tries: tries.saturating_add(1) },
            None => self.decided(v),
        }
    }

    /// Answers [`Action::LookupRecord`].
    pub fn record(&mut self, record: Option<KeyRecord>) {
        self.shared_record(record.map(Arc::new));
    }

    /// Answers [`Action::LookupRecord`] with a record the host keeps in an `Arc`
    /// (see [`Verification::shared_record`]).
    pub fn shared_record(&mut self, record: Option<Arc<KeyRecord>>) {
        if let Stage::Steps(v) = &mut self.stage {
            if let (Some(cache), Step::LookupRecord(lookup)) = (&self.cache, v.next_step()) {
                cache.put(lookup, record.clone(), self.now);
            }
            self.cache_missed = false;
            v.shared_record(record);
        }
    }

    /// Answers [`Action::LoadRateState`]: the step recomputes from this state.
    pub fn rate_state(&mut self, state: Option<RateLimitState>) {
        let stage = std::mem::replace(&mut self.stage, Stage::Poisoned);
        self.stage = match stage {
            Stage::Steps(mut v) => {
                v.rate_state(state);
                Stage::Steps(v)
            }
            Stage::Reread { mut v, tries, .. } => {
                v.rate_state(state);
                self.writing(v, tries)
            }
            other => other,
        };
    }

    /// Answers [`Action::LoadRateState`] or [`Action::CompareAndSet`] with "the
    /// store failed": core answers per `on_error` (`None`: the policy's
    /// `rate_store_failure`) and nothing is written.
    pub fn rate_state_unavailable(&mut self, on_error: Option<RateStoreFailure>) {
        let stage = std::mem::replace(&mut self.stage, Stage::Poisoned);
        self.stage = match stage {
            Stage::Steps(mut v)
            | Stage::Write { mut v, .. }
            | Stage::Reread { mut v, .. }
            | Stage::Contended(mut v) => {
                v.rate_state_unavailable(on_error);
                Stage::Steps(v)
            }
            other => other,
        };
    }

    /// Answers [`Action::CompareAndSet`]: `true` when the store took the write
    /// (the next write follows: a usage-limited key's counter after its rate
    /// bucket); `false` (another request wrote first) asks to re-read the state.
    pub fn written(&mut self, won: bool) {
        let stage = std::mem::replace(&mut self.stage, Stage::Poisoned);
        self.stage = match stage {
            Stage::Write { mut v, .. } if won => {
                v.rate_written();
                self.writing(v, 0)
            }
            Stage::Write { v, write, tries } => Stage::Reread { v, key: write.key, tries },
            other => other,
        };
    }

    /// Answers [`Action::CompareAndSet`] with "lost, and this is the state stored
    /// now" (a compare-and-swap that returns it): the write is recomputed without
    /// a re-read.
    pub fn lost_to(&mut self, state: Option<RateLimitState>) {
        let stage = std::mem::replace(&mut self.stage, Stage::Poisoned);
        self.stage = match stage {
            Stage::Write { mut v, tries, .. } => {
                v.rate_state(state);
                self.writing(v, tries)
            }
            other => other,
        };
    }

    /// Answers [`Action::SaveRecord`].
    pub fn saved(&mut self) {
        if let Stage::Decided { saved, outcome, .. } = &mut self.stage {
            if let (Some(cache), Some(record), false) = (&self.cache, &outcome.upgraded_record, *saved) {
                cache.replace(record, self.now);
            }
            *saved = true;
        }
    }

    /// Answers [`Action::TouchLastUsed`].
    pub fn touched(&mut self) {
        if let Stage::Decided { saved: true, touched, outcome, .. } = &mut self.stage {
            let key_id = outcome.decision.principal.as_ref().map(|p| p.key_id());
            if let (Some(cache), Some(key_id), Some(at), false) =
                (&self.cache, key_id, outcome.touch_last_used, *touched)
            {
                cache.touch(key_id, at);
            }
            *touched = true;
        }
    }

    /// Answers [`Action::CountRequest`].
    pub fn counted(&mut self) {
        if let Stage::Decided { saved: true, touched: true, counted, .. } = &mut self.stage {
            *counted = true;
        }
    }

    /// Does every action through the host's closures — `lookup(hash)`,
    /// `load_state(key)`, `act(action)` for a compare-and-set (answering whether
    /// it won), a save, a touch or a count — until [`Action::Done`] or
    /// [`Action::StoreContended`] (`Continue`), or until a closure breaks with
    /// `B`: that action stays open, for the host to answer itself.
    pub fn drive<B, R: Into<Arc<KeyRecord>>>(
        &mut self,
        mut lookup: impl FnMut(&str) -> ControlFlow<B, Option<R>>,
        mut load_state: impl FnMut(&str) -> ControlFlow<B, Option<RateLimitState>>,
        mut act: impl FnMut(Action<'_>) -> ControlFlow<B, bool>,
    ) -> ControlFlow<B> {
        loop {
            match self.next_action() {
                Action::LookupRecord(hash) => {
                    let record = lookup(hash)?;
                    self.shared_record(record.map(Into::into));
                }
                Action::LoadRateState(key) => {
                    let state = load_state(key)?;
                    self.rate_state(state);
                }
                Action::Done(_) | Action::StoreContended => return ControlFlow::Continue(()),
                action @ Action::CompareAndSet(_) => {
                    let won = act(action)?;
                    self.written(won);
                }
                action @ Action::SaveRecord(_) => {
                    act(action)?;
                    self.saved();
                }
                action @ Action::TouchLastUsed { .. } => {
                    act(action)?;
                    self.touched();
                }
                action @ Action::CountRequest { .. } => {
                    act(action)?;
                    self.counted();
                }
            }
        }
    }

    /// The step, while the decision is not yet made (for hosts driving it by hand).
    pub fn verification(&mut self) -> Option<&mut Verification> {
        match &mut self.stage {
            Stage::Steps(v) | Stage::Write { v, .. } | Stage::Reread { v, .. } | Stage::Contended(v) => Some(v),
            Stage::Poisoned | Stage::Decided { .. } => None,
        }
    }

    /// The outcome: the decision made so far, or made now from what is known
    /// (as [`Verification::finish`]); `None` after [`Action::StoreContended`].
    pub fn into_outcome(self) -> Option<Outcome> {
        match self.stage {
            Stage::Steps(v) | Stage::Write { v, .. } | Stage::Reread { v, .. } => Some(v.finish()),
            Stage::Decided { outcome, .. } => Some(*outcome),
            Stage::Contended(_) | Stage::Poisoned => None,
        }
    }
}

#[cfg(test)]
mod tests;
