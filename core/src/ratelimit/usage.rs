//! Usage limits: a key may spend `limit` units per UTC day, per ISO week, per
//! UTC calendar month, or in all (credits, as Unkey's `remaining` and better-auth's
//! `remaining` / `refillAmount` offer). Each period counts in its own counter,
//! stored like a rate-limit state under a key that names the period: a new
//! period starts from zero with nothing to reset. The state's `tat_us` is the
//! period's end plus the units spent, so what holds for a bucket holds for a
//! counter: a state whose `tat_us` has passed may be dropped (a store that
//! prunes full buckets drops ended periods, never a live count).

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{RateLimitOutcome, RateLimitState};
use crate::error::{Error, ErrorKind, Result};

/// Most units a usage limit may grant per period.
const MAX_USAGE_LIMIT: u32 = 1_000_000_000;

/// How long a store keeps a counter that never restarts (`period` absent): ten years.
pub const LIFETIME_COUNTER_TTL_SECONDS: u64 = 10 * 365 * 86_400;

/// The "end" of an allowance that never restarts: 2200-01-01T00:00:00Z, in
/// microseconds. Far enough that no store drops live credits, near enough that
/// a state (this plus up to 10⁹ units) stays below 2⁵³, exact in a JavaScript number.
pub const NEVER_ENDS_US: i64 = 7_258_118_400_000_000;

/// When a usage allowance starts again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum UsagePeriod {
    /// Every UTC midnight.
    Day,
    /// Every Monday, 00:00 UTC (ISO weeks: counters named `2026-W12`).
    Week,
    /// On the first of every month, UTC.
    Month,
}

/// A key's usage allowance: `limit` units per `period`, or in all when `period`
/// is absent. JSON: `{"limit": 1000, "period": "month"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UsageLimit {
    /// Units the key may spend per period (a request spends its route's cost).
    pub limit: u32,
    /// When the allowance starts again (`day`, `week`, `month`); absent: never (credits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<UsagePeriod>,
    /// The counter this key spends from, named like a record id: set by rotation
    /// to the predecessor's id (the successor keeps spending its allowance), or
    /// chosen (`org_acme`) so several keys share one allowance; absent: its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter: Option<String>,
}

impl UsageLimit {
    /// Checks the bounds: limit 1–1,000,000,000; `counter` a record id (`invalid_id`).
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_USAGE_LIMIT).contains(&self.limit) {
            return Err(Error::new(ErrorKind::InvalidQuota, "usage_limit.limit must be 1-1000000000"));
        }
        self.counter.as_deref().map_or(Ok(()), crate::ids::validate_id)
    }

    /// The counter a request of key `key_id` spends from at `now`.
    pub fn meter(&self, key_id: &str, now: DateTime<Utc>) -> UsageMeter {
        let owner = self.counter.as_deref().unwrap_or(key_id);
        let (label, window) = match self.period.and_then(|p| period_bounds(p, now)) {
            Some((label, start, end)) => (label, Some((start, end))),
            None => ("total".to_string(), None),
        };
        let mut key = String::with_capacity(owner.len().saturating_add(7).saturating_add(label.len()));
        key.push_str(owner);
        key.push_str(":usage:");
        key.push_str(&label);
        let seconds = |a: DateTime<Utc>, b: DateTime<Utc>| u64::try_from(b.signed_duration_since(a).num_seconds()).ok();
        UsageMeter {
            key,
            limit: self.limit,
            end_us: window.map_or(NEVER_ENDS_US, |(_, end)| end.timestamp_micros()),
            reset_seconds: window.and_then(|(_, end)| seconds(now, end)).map(|s| s.max(1)),
            window_seconds: window.and_then(|(start, end)| seconds(start, end)),
            period: match self.period {
                Some(UsagePeriod::Day) => "day",
                Some(UsagePeriod::Week) => "week",
                Some(UsagePeriod::Month) => "month",
                None => "total",
            },
        }
    }
}

/// The current period's label (`2026-03-18`, `2026-W12`, `2026-03`), start and end. The
/// label is written with `format!`: chrono's strftime would add its format
/// parser to the WASM module.
fn period_bounds(period: UsagePeriod, now: DateTime<Utc>) -> Option<(String, DateTime<Utc>, DateTime<Utc>)> {
    let today = now.date_naive();
    let (label, start) = match period {
        UsagePeriod::Day => (format!("{:04}-{:02}-{:02}", today.year(), today.month(), today.day()), today),
        UsagePeriod::Week => {
            let week = today.iso_week();
            let monday = today.checked_sub_days(Days::new(u64::from(today.weekday().num_days_from_monday())))?;
            (format!("{:04}-W{:02}", week.year(), week.week()), monday)
        }
        UsagePeriod::Month => (
            format!("{:04}-{:02}", today.year(), today.month()),
            NaiveDate::from_ymd_opt(today.year(), today.month(), 1)?,
        ),
    };
    let end = match period {
        UsagePeriod::Day => start.succ_opt()?,
        UsagePeriod::Week => start.checked_add_days(Days::new(7))?,
        UsagePeriod::Month => start.checked_add_months(Months::new(1))?,
    };
    Some((label, start.and_hms_opt(0, 0, 0)?.and_utc(), end.and_hms_opt(0, 0, 0)?.and_utc()))
}

/// One usage counter as a request meets it: where it is stored and its bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageMeter {
    /// Storage key: `<key id>:usage:<period>` (`total` when the allowance never restarts).
    pub key: String,
    /// Units per period.
    pub limit: u32,
    /// The period's end in microseconds ([`NEVER_ENDS_US`] for credits): a
    /// counter's state is this plus the units spent.
    pub end_us: i64,
    /// Seconds until the period ends (`None`: it never does).
    pub reset_seconds: Option<u64>,
    /// Length of the current period in seconds (`None`: no period).
    pub window_seconds: Option<u64>,
    /// The period the counter covers: `day`, `week`, `month` or `total`.
    pub period: &'static str,
}

impl UsageMeter {
    /// Spends `cost` units from the counter's stored state (the period's end
    /// plus the units spent so far; `None`: nothing yet). A denied request spends
    /// nothing. A state no spending can produce (below the period's end, or
    /// beyond its limit) is taken as used up.
    pub fn spend(&self, state: Option<RateLimitState>, cost: u32) -> RateLimitOutcome {
        let limit = i64::from(self.limit);
        let used = match state.map(|s| s.tat_us.checked_sub(self.end_us)) {
            None => 0,
            Some(Some(n)) if (0..=limit).contains(&n) => n,
            Some(_) => limit,
        };
        let after = used.saturating_add(i64::from(cost));
        // A check priced at 0 passes while a unit is left, as `KeyRecord::usage` reports.
        let allowed = after <= limit && (cost > 0 || used < limit);
        let kept = if allowed { after } else { used };
        RateLimitOutcome {
            allowed,
            state: RateLimitState { tat_us: self.end_us.saturating_add(kept) },
            limit: self.limit,
            remaining: u32::try_from(limit.saturating_sub(kept).max(0)).unwrap_or(0),
            reset_seconds: self.reset_seconds.unwrap_or(0),
            // More than the whole allowance never fits, not even in the next period.
            retry_after_seconds: if allowed || i64::from(cost) > limit { None } else { self.reset_seconds },
        }
    }

    /// Seconds a store should keep the counter: to the end of its period, or ten years.
    pub fn ttl_seconds(&self) -> u64 {
        self.reset_seconds.unwrap_or(LIFETIME_COUNTER_TTL_SECONDS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn periods_name_their_counters_and_end_at_utc_boundaries() {
        let now = at("2026-02-28T23:59:30Z");
        let day = UsageLimit { limit: 3, period: Some(UsagePeriod::Day), counter: None }.meter("key_1", now);
        assert_eq!(
            (day.key.as_str(), day.reset_seconds, day.window_seconds),
            ("key_1:usage:2026-02-28", Some(30), Some(86_400))
        );
        let month = UsageLimit { limit: 3, period: Some(UsagePeriod::Month), counter: Some("key_0".into()) }
            .meter("key_1", now);
        assert_eq!(
            (month.key.as_str(), month.reset_seconds, month.window_seconds),
            ("key_0:usage:2026-02", Some(30), Some(28 * 86_400))
        );
        // ISO weeks start on Monday: Saturday 2026-02-28 is in 2026-W09, until Monday 2026-03-02.
        let week = UsageLimit { limit: 3, period: Some(UsagePeriod::Week), counter: None };
        let this = week.meter("key_1", now);
        assert_eq!(
            (this.key.as_str(), this.reset_seconds, this.window_seconds, this.period),
            ("key_1:usage:2026-W09", Some(86_400 + 30), Some(7 * 86_400), "week")
        );
        // Friday 2027-01-01 still counts in 2026's 53rd ISO week (from Monday 2026-12-28).
        let new_year = week.meter("key_1", at("2027-01-01T12:00:00Z"));
        assert_eq!(
            (new_year.key.as_str(), new_year.end_us),
            ("key_1:usage:2026-W53", at("2027-01-04T00:00:00Z").timestamp_micros())
        );
        let total = UsageLimit { limit: 3, period: None, counter: None }.meter("key_1", now);
        assert_eq!(
            (total.key.as_str(), total.reset_seconds, total.ttl_seconds()),
            ("key_1:usage:total", None, LIFETIME_COUNTER_TTL_SECONDS)
        );
    }

    #[test]
    fn spending_stops_at_the_limit_and_odd_states_count_as_used_up() {
        let meter = UsageLimit { limit: 3, period: None, counter: None }.meter("k", at("2026-03-18T10:30:00Z"));
        let first = meter.spend(None, 2);
        assert!(first.allowed && first.remaining == 1 && first.state.tat_us == NEVER_ENDS_US + 2);
        let denied = meter.spend(Some(first.state), 2);
        assert!(!denied.allowed && denied.state == first.state && denied.retry_after_seconds.is_none());
        assert!(meter.spend(Some(first.state), 1).allowed);
        assert!(!meter.spend(Some(RateLimitState { tat_us: 2 }), 1).allowed);
        assert!(!meter.spend(Some(RateLimitState { tat_us: NEVER_ENDS_US + 99 }), 1).allowed);
        // Credit states stay exact in a JavaScript number (below 2^53).
        assert!(NEVER_ENDS_US + i64::from(MAX_USAGE_LIMIT) < 1_i64 << 53);
        // A day's counter ends at UTC midnight: past it, a store may drop the state.
        let day = UsageLimit { limit: 3, period: Some(UsagePeriod::Day), counter: None };
        let spent = day.meter("k", at("2026-03-18T10:30:00Z")).spend(None, 1).state.tat_us;
        assert_eq!(spent, at("2026-03-19T00:00:00Z").timestamp_micros() + 1);
        assert!(UsageLimit { limit: 0, period: None, counter: None }.validate().is_err());
        assert!(UsageLimit { limit: 1, period: None, counter: Some("sha256:x".into()) }.validate().is_err());
    }
}
