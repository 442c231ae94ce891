//! Rate limiting as a pure GCRA step (the generic cell rate algorithm, a token
//! bucket without a background refill). The state is one timestamp the host
//! stores wherever it likes (memory, Redis with compare-and-set …); core keeps nothing.

use serde::{Deserialize, Serialize};

pub mod shared_store;
mod usage;

pub use usage::{UsageLimit, UsageMeter, UsagePeriod, LIFETIME_COUNTER_TTL_SECONDS, NEVER_ENDS_US};

use crate::error::{Error, ErrorKind, Result};

const MICROS: i64 = 1_000_000;

/// A quota: `limit` requests per `period_seconds`, up to `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// Sustained requests per period.
    pub limit: u32,
    /// Period length in seconds (default 60).
    #[serde(default = "default_period")]
    pub period_seconds: u32,
    /// Requests that may arrive back to back (bucket capacity).
    pub burst: u32,
}

fn default_period() -> u32 {
    60
}

impl crate::load::Load for Quota {
    const KIND: ErrorKind = ErrorKind::InvalidQuota;

    fn check(&self) -> Result<()> {
        self.validate()
    }
}

impl Quota {
    /// Loads and validates a quota from JSON.
    pub fn from_json(json: &str) -> Result<Self> {
        crate::load::Load::load_json(json)
    }

    /// `limit` per minute with `burst`.
    pub fn per_minute(limit: u32, burst: u32) -> Self {
        Self { limit, period_seconds: 60, burst }
    }

    /// Checks bounds: limit and burst 1–1,000,000, period 1 s – 31 days.
    pub fn validate(&self) -> Result<()> {
        let ok = (1..=1_000_000).contains(&self.limit)
            && (1..=1_000_000).contains(&self.burst)
            && (1..=31 * 86_400).contains(&self.period_seconds);
        if ok {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::InvalidQuota,
                "quotas need limit and burst 1-1000000 and period_seconds 1-2678400",
            ))
        }
    }

    /// Microseconds between two requests at the sustained rate.
    fn interval_us(&self) -> i64 {
        i64::from(self.period_seconds)
            .saturating_mul(MICROS)
            .checked_div(i64::from(self.limit.max(1)))
            .unwrap_or(1)
            .max(1)
    }
}

/// Whose requests one rate-limit bucket counts. Per key, a customer who mints
/// more keys gets more quota; per organization or workspace (the record's
/// `owner`), all of its keys share one bucket per class. Keys without that
/// owner id keep their own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum RateLimitScope {
    /// Each key its own bucket: `<key id>:<class>`.
    #[default]
    Key,
    /// One bucket per owner organization: `org.<organization>:<class>`.
    Organization,
    /// One bucket per owner workspace: `workspace.<workspace>:<class>`.
    Workspace,
}

/// What the host stores between requests: the theoretical arrival time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitState {
    /// Theoretical arrival time, microseconds since the Unix epoch.
    pub tat_us: i64,
}

impl crate::load::Load for RateLimitState {
    const KIND: ErrorKind = ErrorKind::InvalidQuota;
}

impl RateLimitState {
    /// Parses the JSON a host stored.
    pub fn from_json(json: &str) -> Result<Self> {
        crate::load::Load::load_json(json)
    }

    /// JSON to store.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Result of one GCRA step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RateLimitOutcome {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// State to store (unchanged when denied).
    pub state: RateLimitState,
    /// Bucket capacity (`RateLimit-Limit`).
    pub limit: u32,
    /// Requests that could be made right now after this one (`RateLimit-Remaining`).
    pub remaining: u32,
    /// Seconds until the bucket is full again (`RateLimit-Reset`).
    pub reset_seconds: u64,
    /// Seconds to wait before retrying, when denied (`Retry-After`).
    pub retry_after_seconds: Option<u64>,
}

fn ceil_seconds(us: i64) -> u64 {
    u64::try_from(us.max(0)).unwrap_or(0).div_ceil(MICROS as u64)
}

/// Whether a stored state lies more than one period beyond a full bucket: no
/// sequence of requests can produce it, so it is corrupt (or forged).
pub fn is_corrupt(state: RateLimitState, now_us: i64, quota: &Quota) -> bool {
    let capacity = quota.interval_us().saturating_mul(i64::from(quota.burst));
    let period = i64::from(quota.period_seconds).saturating_mul(MICROS);
    state.tat_us > now_us.saturating_add(capacity).saturating_add(period)
}

/// One GCRA step: may a request of `cost` units pass at `now_us`, given the stored state?
/// A corrupt state (see [`is_corrupt`]) is clamped to a full bucket, so it costs
/// one interval's wait, not forever.
pub fn gcra(state: Option<RateLimitState>, now_us: i64, quota: &Quota, cost: u32) -> RateLimitOutcome {
    let t = quota.interval_us();
    let capacity = t.saturating_mul(i64::from(quota.burst));
    let tat = state.map_or(now_us, |s| {
        let tat = if is_corrupt(s, now_us, quota) { now_us.saturating_add(capacity) } else { s.tat_us };
        tat.max(now_us)
    });
    let new_tat = tat.saturating_add(t.saturating_mul(i64::from(cost)));
    let allow_at = new_tat.saturating_sub(capacity);
    let remaining_at = |tat: i64| {
        let free = capacity.saturating_sub(tat.saturating_sub(now_us)).max(0);
        u32::try_from(free.checked_div(t).unwrap_or(0)).unwrap_or(u32::MAX).min(quota.burst)
    };
    let denied = now_us < allow_at || cost > quota.burst;
    // A denied request spends nothing: the stored state stays as it was.
    let kept = if denied { tat } else { new_tat };
    let retry_after_seconds = denied.then(|| {
        let wait = if cost > quota.burst { tat } else { allow_at };
        ceil_seconds(wait.saturating_sub(now_us)).max(1)
    });
    RateLimitOutcome {
        allowed: !denied,
        state: RateLimitState { tat_us: kept },
        limit: quota.burst,
        remaining: remaining_at(kept),
        reset_seconds: ceil_seconds(kept.saturating_sub(now_us)),
        retry_after_seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_plan_allows_a_burst_of_ten_then_one_per_second() {
        let q = Quota::per_minute(60, 10);
        let now = 1_700_000_000 * MICROS;
        let mut state = None;
        for i in 0..10 {
            let o = gcra(state, now, &q, 1);
            assert!(o.allowed, "request {i}");
            assert_eq!(o.remaining, 9 - i);
            state = Some(o.state);
        }
        let denied = gcra(state, now, &q, 1);
        assert!(!denied.allowed);
        assert_eq!(denied.retry_after_seconds, Some(1));
        assert_eq!(denied.state, state.unwrap_or_default());
        assert_eq!(denied.reset_seconds, 10);
        // One second later exactly one request fits again.
        let later = gcra(state, now + MICROS, &q, 1);
        assert!(later.allowed);
        assert_eq!(later.remaining, 0);
        assert!(!gcra(Some(later.state), now + MICROS, &q, 1).allowed);
    }

    #[test]
    fn cost_above_burst_never_passes_and_quota_validation() {
        let q = Quota::per_minute(60, 10);
        assert!(!gcra(None, 0, &q, 11).allowed);
        assert!(gcra(None, 0, &q, 10).allowed);
        assert!(Quota::per_minute(0, 1).validate().is_err());
        assert!(Quota::per_minute(1, 0).validate().is_err());
        assert!(Quota::per_minute(1000, 200).validate().is_ok());
    }
}
