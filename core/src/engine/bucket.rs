//! The rate-limit bucket a request spends from (step 18): the key's own quota
//! for the route's class, else its plan's, under the storage key `<key id>:<class>`;
//! and the usage counter a usage-limited key spends from after it.

use chrono::{DateTime, Utc};

use super::request::Prepared;
use super::Engine;
use crate::decision::RateLimitDecision;
use crate::ratelimit::{gcra, Quota, RateLimitOutcome, RateLimitScope, RateLimitState, UsageMeter};
use crate::record::KeyRecord;
use crate::routes::RouteRateLimit;

/// The plan name a bucket reports (and `RateLimit-Policy` shows) when the key's
/// own quota applies (`KeyRecord::rate_limits`).
pub(crate) const OWN_QUOTA: &str = "key";

/// The rate-limit bucket a request spends from: which quota, under which storage key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateBucket {
    /// Storage key of the bucket: `<key id>:<class>`, or the owner's
    /// (`org.<organization>:<class>`) under the policy's `rate_limit_scope`.
    pub key: String,
    /// Plan whose quota applies.
    pub plan: String,
    /// Rate-limit class of the route.
    pub class: String,
    /// The quota.
    pub quota: Quota,
    /// Units this request costs.
    pub cost: u32,
    /// The last state spent from was corrupt and was clamped (see [`crate::ratelimit::is_corrupt`]).
    pub corrupt_state: bool,
}

impl RateBucket {
    /// The bucket for a request and record, or `None` when no quota applies:
    /// the key's own quota for the route's class, else its plan's.
    pub(crate) fn for_request(engine: &Engine, prepared: &Prepared, record: &KeyRecord) -> Option<Self> {
        let policy = engine.policy();
        let plan = record.plan.as_deref().or(policy.default_plan.as_deref());
        if plan.is_none() && record.rate_limits.is_empty() {
            return None; // no quota anywhere: skip the route's class
        }
        let default_rl = RouteRateLimit::default();
        let rl = engine.route_of(prepared).and_then(|r| r.rate_limit.as_ref()).unwrap_or(&default_rl);
        let (plan, quota) = match record.rate_limits.get(&rl.class) {
            Some(own) => (OWN_QUOTA, *own),
            None => plan.and_then(|plan| Some((plan, *policy.quota(plan, &rl.class)?)))?,
        };
        // Whose bucket: the key's, or its owner's (ids never contain '.', so the two never meet).
        let (kind, owner) = match policy.rate_limit_scope {
            RateLimitScope::Organization => ("org.", record.owner.organization.as_deref()),
            RateLimitScope::Workspace => ("workspace.", record.owner.workspace.as_deref()),
            RateLimitScope::Key => ("", None),
        };
        let (kind, id) = owner.map_or(("", record.id.as_str()), |owner| (kind, owner));
        let len = [kind.len(), id.len(), 1, rl.class.len()].iter().fold(0_usize, |a, b| a.saturating_add(*b));
        let mut key = String::with_capacity(len);
        key.push_str(kind);
        key.push_str(id);
        key.push(':');
        key.push_str(&rl.class);
        Some(Self { key, plan: plan.to_string(), class: rl.class.clone(), quota, cost: rl.cost, corrupt_state: false })
    }

    /// One GCRA step of this bucket at `now` (notes a corrupt state in `corrupt_state`).
    pub fn spend(&mut self, state: Option<RateLimitState>, now: DateTime<Utc>) -> RateLimitOutcome {
        let now_us = now.timestamp_micros();
        self.corrupt_state = state.is_some_and(|s| crate::ratelimit::is_corrupt(s, now_us, &self.quota));
        gcra(state, now_us, &self.quota, self.cost)
    }

    pub(crate) fn decision(&self, outcome: RateLimitOutcome) -> RateLimitDecision {
        RateLimitDecision { key: self.key.clone(), plan: self.plan.clone(), class: self.class.clone(), outcome }
    }
}

/// The name a usage counter's decision reports as its plan (and `RateLimit-Policy` shows).
pub(crate) const USAGE: &str = "usage";

/// The usage counter a request of a usage-limited key spends from, and the
/// units it costs (the host's price, else its route's rate-limit cost).
pub(crate) fn usage_meter(
    engine: &Engine,
    prepared: &Prepared,
    record: &KeyRecord,
    now: DateTime<Utc>,
    cost: Option<u32>,
) -> Option<(UsageMeter, u32)> {
    let limit = record.usage_limit.as_ref()?;
    let route_cost = || engine.route_of(prepared).and_then(|r| r.rate_limit.as_ref()).map_or(1, |rl| rl.cost);
    Some((limit.meter(&record.id, now), cost.unwrap_or_else(route_cost)))
}

impl KeyRecord {
    /// What this key has left of its usage limit at `now`, given the state
    /// stored under the counter's key (`None`: nothing spent yet), or `None`
    /// without a usage limit; `allowed` says whether a one-unit request would
    /// pass (as a request priced at 0 would). A dashboard asks once with no
    /// state to learn the counter's `key`, reads that key from the rate-limit
    /// store, and asks again.
    pub fn usage(&self, state: Option<RateLimitState>, now: DateTime<Utc>) -> Option<RateLimitDecision> {
        let meter = self.usage_limit.as_ref()?.meter(&self.id, now);
        Some(usage_decision(&meter, meter.spend(state, 0)))
    }
}

/// A usage counter's outcome as a decision reports it: plan `usage`, class the period.
pub(crate) fn usage_decision(meter: &UsageMeter, outcome: RateLimitOutcome) -> RateLimitDecision {
    RateLimitDecision { key: meter.key.clone(), plan: USAGE.to_string(), class: meter.period.to_string(), outcome }
}
