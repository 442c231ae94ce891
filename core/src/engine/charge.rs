//! Charging a usage-limited key after the fact: the host learns what a request
//! cost only once it has answered it (tokens a model generated, rows exported)
//! and spends that from the key's counter with the same compare-and-set the
//! verification step uses, so charges and verifications never lose each other's units.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::bucket::usage_decision;
use super::meters::RateWrite;
use crate::decision::RateLimitDecision;
use crate::ratelimit::RateLimitState;
use crate::record::KeyRecord;

/// A charge against a key's usage limit (see [`KeyRecord::charge`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Charged {
    /// The counter's compare-and-set; `None` when nothing changes (0 units, or
    /// nothing left). On a conflict, read the counter again and charge again.
    pub write: Option<RateWrite>,
    /// What the key has left once the write is made (plan `usage`, class the period).
    pub usage: RateLimitDecision,
    /// Units beyond what was left: not counted, since a counter ends at its
    /// limit (the key is then used up until its period ends), for the host to bill or log.
    pub unpaid: u32,
}

impl KeyRecord {
    /// Charges `units` to this key's usage limit at `now`, given the state
    /// stored under its counter's key (`None`: nothing spent yet; ask
    /// [`KeyRecord::usage`] with no state for the key): what was left is spent
    /// first, the rest is `unpaid`. `None` without a usage limit.
    pub fn charge(&self, state: Option<RateLimitState>, units: u32, now: DateTime<Utc>) -> Option<Charged> {
        let meter = self.usage_limit.as_ref()?.meter(&self.id, now);
        let paid = units.min(meter.spend(state, 0).remaining);
        let spent = meter.spend(state, paid).state;
        let write = (paid > 0).then(|| RateWrite {
            key: meter.key.clone(),
            expected: state,
            new: spent,
            ttl_seconds: meter.ttl_seconds(),
        });
        let usage = usage_decision(&meter, meter.spend(Some(spent), 0));
        Some(Charged { write, usage, unpaid: units.saturating_sub(paid) })
    }
}
