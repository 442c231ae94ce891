//! Charging (and refunding) a usage-limited key after the fact: the host learns what a request
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

/// A charge against a key's usage limit, or a refund (see [`KeyRecord::charge`], [`KeyRecord::refund`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Charged {
    /// The counter's compare-and-set; `None` when nothing changes (0 units, or
    /// nothing left). On a conflict, read the counter again and charge again.
    pub write: Option<RateWrite>,
    /// What the key has left once the write is made (plan `usage`, class the period).
    pub usage: RateLimitDecision,
    /// Units beyond what was left: not counted, since a counter ends at its
    /// limit (the key is then used up until its period ends), for the host to
    /// bill or log; for a refund, units beyond what the period spent.
    pub unpaid: u32,
}

/// What a host settles after the fact: spending more, or giving some back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// [`KeyRecord::charge`].
    Charge,
    /// [`KeyRecord::refund`].
    Refund,
}

impl KeyRecord {
    /// [`KeyRecord::charge`] or [`KeyRecord::refund`], as `settlement` says.
    pub fn settle(
        &self,
        settlement: Settlement,
        state: Option<RateLimitState>,
        units: u32,
        now: DateTime<Utc>,
    ) -> Option<Charged> {
        match settlement {
            Settlement::Charge => self.charge(state, units, now),
            Settlement::Refund => self.refund(state, units, now),
        }
    }

    /// Charges `units` to this key's usage limit at `now`, given the state
    /// stored under its counter's key (`None`: nothing spent yet; ask
    /// [`KeyRecord::usage`] with no state for the key): what was left is spent
    /// first, the rest is `unpaid`. `None` without a usage limit.
    pub fn charge(&self, state: Option<RateLimitState>, units: u32, now: DateTime<Utc>) -> Option<Charged> {
        let meter = self.usage_limit.as_ref()?.meter(&self.id, now);
        let paid = units.min(meter.spend(state, 0).remaining);
        Some(settled(&meter, state, paid, meter.spend(state, paid).state, units))
    }

    /// Gives back `units` of what this key spent in the current period (a
    /// request priced with an estimate that cost less, a job that failed): at
    /// most what the period spent; the rest is reported as `unpaid` (not
    /// given back). A counter no spending can produce counts as fully spent.
    pub fn refund(&self, state: Option<RateLimitState>, units: u32, now: DateTime<Utc>) -> Option<Charged> {
        let meter = self.usage_limit.as_ref()?.meter(&self.id, now);
        let spent = meter.limit.saturating_sub(meter.spend(state, 0).remaining);
        let back = units.min(spent);
        let left = RateLimitState { tat_us: meter.end_us.saturating_add(i64::from(spent.saturating_sub(back))) };
        Some(settled(&meter, state, back, left, units))
    }
}

/// A charge or refund of `applied` of the asked `units`, leaving `new` in the counter.
fn settled(
    meter: &crate::ratelimit::UsageMeter,
    state: Option<RateLimitState>,
    applied: u32,
    new: RateLimitState,
    units: u32,
) -> Charged {
    let write = (applied > 0).then(|| RateWrite {
        key: meter.key.clone(),
        expected: state,
        new,
        ttl_seconds: meter.ttl_seconds(),
    });
    let usage = usage_decision(meter, meter.spend(Some(new), 0));
    Charged { write, usage, unpaid: units.saturating_sub(applied) }
}
