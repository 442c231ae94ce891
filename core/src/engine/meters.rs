//! The counters a checked request spends from — its rate-limit bucket, then a
//! usage-limited key's counter — what each spent once its state was read, and
//! which of their compare-and-sets the host confirmed (the step's bookkeeping).

use chrono::{DateTime, Utc};

use super::bucket::RateBucket;
use crate::ratelimit::{RateLimitOutcome, RateLimitState, UsageMeter};

/// A rate-limit write: store `new` under `key` if the stored value is still
/// `expected` (compare-and-set). On a conflict, read again and pass the fresh
/// state to [`super::Verification::rate_state`]: the step recomputes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RateWrite {
    /// Storage key of the bucket.
    pub key: String,
    /// The state the decision was computed from (`None`: no state was stored).
    pub expected: Option<RateLimitState>,
    /// The state to store.
    pub new: RateLimitState,
    /// Seconds until the bucket is full again: a store may expire the key then.
    pub ttl_seconds: u64,
}

/// What a counter's stored state gave: the outcome, and the state it was computed from.
#[derive(Clone, Copy, Debug)]
pub(super) struct Spent {
    outcome: RateLimitOutcome,
    read: Option<RateLimitState>,
}

impl Spent {
    /// Whether the spending changed the stored state (so it needs a write).
    fn changed(&self) -> bool {
        self.outcome.state != self.read.unwrap_or_default()
    }

    /// The compare-and-set this spending needs (none when the state is unchanged).
    fn write(&self, key: &str, ttl_seconds: u64) -> Option<RateWrite> {
        self.changed().then(|| RateWrite {
            key: key.to_string(),
            expected: self.read,
            new: self.outcome.state,
            ttl_seconds,
        })
    }
}

/// The counters a checked request spends from: its rate-limit bucket, then its
/// usage counter (read only when the rate limit let it through), each with what
/// it spent once its state was read, and which writes the host confirmed.
#[derive(Debug)]
pub(super) struct Meters {
    /// Boxed, as `usage`: inline, they would grow every step the host moves.
    pub(super) rate: Option<Box<(RateBucket, Option<Spent>)>>,
    /// Boxed: only usage-limited keys have one, and inline it would grow every step.
    pub(super) usage: Option<Box<(UsageMeter, u32, Option<Spent>)>>,
    pub(super) rate_written: bool,
    pub(super) usage_written: bool,
}

/// One of a request's two counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Counter {
    Rate,
    Usage,
}

impl Meters {
    /// A checked request's counters, nothing read yet.
    pub(super) fn new(rate: Option<RateBucket>, usage: Option<(UsageMeter, u32)>) -> Self {
        Self {
            rate: rate.map(|b| Box::new((b, None))),
            usage: usage.map(|(m, c)| Box::new((m, c, None))),
            rate_written: false,
            usage_written: false,
        }
    }

    pub(super) fn rate_allowed(&self) -> bool {
        !matches!(self.rate.as_deref(), Some((_, Some(s))) if !s.outcome.allowed)
    }

    /// The counter whose state is still to be read, if any.
    pub(super) fn unread(&self) -> Option<Counter> {
        match (self.rate.as_deref(), self.usage.as_deref()) {
            (Some((_, None)), _) => Some(Counter::Rate),
            (_, Some((_, _, None))) if self.rate_allowed() => Some(Counter::Usage),
            _ => None,
        }
    }

    /// What the bucket spent, when it needs a write: none when the usage counter
    /// denies the request (read before any write, so such a request spends no quota).
    fn rate_spent(&self) -> Option<(&RateBucket, &Spent)> {
        if matches!(self.usage.as_deref(), Some((_, _, Some(s))) if !s.outcome.allowed) {
            return None;
        }
        let (bucket, spent) = self.rate.as_deref()?;
        spent.as_ref().filter(|s| s.changed()).map(|s| (bucket, s))
    }

    /// What the usage counter spent, when it needs a write (allowed by both counters).
    fn usage_spent(&self) -> Option<(&UsageMeter, &Spent)> {
        let (meter, cost, spent) = self.usage.as_deref()?;
        // A check priced at 0 spends nothing, so it writes nothing (not even a clamped state).
        let spent = spent.as_ref().filter(|s| *cost > 0 && s.outcome.allowed && s.changed() && self.rate_allowed())?;
        Some((meter, spent))
    }

    /// The rate bucket's write, if it needs one.
    pub(super) fn rate_write(&self) -> Option<RateWrite> {
        self.rate_spent().and_then(|(bucket, spent)| spent.write(&bucket.key, spent.outcome.reset_seconds))
    }

    /// The usage counter's write, if it needs one.
    pub(super) fn usage_write(&self) -> Option<RateWrite> {
        self.usage_spent().and_then(|(meter, spent)| spent.write(&meter.key, meter.ttl_seconds()))
    }

    /// The first counter whose write the host has not confirmed yet: the rate
    /// bucket, then the usage counter (found without building the write).
    pub(super) fn pending_counter(&self) -> Option<Counter> {
        if !self.rate_written && self.rate_spent().is_some() {
            Some(Counter::Rate)
        } else if !self.usage_written && self.usage_spent().is_some() {
            Some(Counter::Usage)
        } else {
            None
        }
    }

    /// The first write the host has not confirmed yet.
    pub(super) fn pending(&self) -> Option<RateWrite> {
        match self.pending_counter()? {
            Counter::Rate => self.rate_write(),
            Counter::Usage => self.usage_write(),
        }
    }

    /// Spends from the counter still to be read, or (after a lost compare-and-set)
    /// again from the one whose write is pending, given its stored state.
    pub(super) fn spend(&mut self, state: Option<RateLimitState>, now: DateTime<Utc>) {
        let counter = self.unread().or_else(|| self.pending_counter());
        match (counter, self.rate.as_deref_mut(), self.usage.as_deref_mut()) {
            (Some(Counter::Rate), Some((bucket, spent)), _) => {
                *spent = Some(Spent { outcome: bucket.spend(state, now), read: state });
            }
            (Some(Counter::Usage), _, Some((meter, cost, spent))) => {
                *spent = Some(Spent { outcome: meter.spend(state, *cost), read: state });
            }
            _ => {}
        }
    }

    /// Prices the usage counter's spend at `units`, while it is still unread.
    pub(super) fn price_usage(&mut self, units: u32) {
        if let Some((_, cost, None)) = self.usage.as_deref_mut() {
            *cost = units;
        }
    }

    pub(super) fn rate(&self) -> Option<(&RateBucket, &RateLimitOutcome)> {
        self.rate.as_deref().and_then(|(b, s)| Some((b, &s.as_ref()?.outcome)))
    }

    pub(super) fn usage(&self) -> Option<(&UsageMeter, &RateLimitOutcome)> {
        self.usage.as_deref().and_then(|(m, _, s)| Some((m, &s.as_ref()?.outcome)))
    }
}
