//! GCRA arithmetic (`keyproof::gcra`, `keyproof::is_corrupt`) with arbitrary
//! quotas (valid or not), states, clocks (all of i64) and costs, then a
//! sequence of requests on a moving clock.
//!
//! Invariants: no panic; `remaining ≤ limit`; `retry_after` present iff denied
//! (and ≥ 1 s); a denied request keeps the stored state unless it was corrupt
//! and clamped; wherever no intermediate value leaves i64 the outcome equals an
//! exact i128 model of the algorithm; over a sequence from an empty bucket, the
//! cost let through never exceeds `burst + elapsed / interval`.
#![no_main]

use keyproof::{gcra, is_corrupt, Quota, RateLimitOutcome, RateLimitState};
use keyproof_fuzz::Input;
use libfuzzer_sys::fuzz_target;

const MICROS: i128 = 1_000_000;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mut quota = Quota { limit: input.u32(), period_seconds: input.u32(), burst: input.u32() };
    let mode = input.u8();
    if mode & 1 == 0 {
        // A quota the policy would accept.
        quota.limit = quota.limit % 1_000_000 + 1;
        quota.burst = quota.burst % 1_000_000 + 1;
        quota.period_seconds = quota.period_seconds % (31 * 86_400) + 1;
    }
    let valid = quota.validate().is_ok();
    let raw_state = input.i64();
    let now = input.i64();
    let cost = input.u32();
    let state = match mode >> 1 & 3 {
        0 => None,
        1 => Some(RateLimitState { tat_us: raw_state }),
        _ => Some(RateLimitState { tat_us: now.wrapping_add(raw_state % 10_000_000_000_000) }),
    };
    let cost = if mode & 8 == 0 { cost % quota.burst.max(1) + 1 } else { cost };

    let out = gcra(state, now, &quota, cost);
    check_one(&quota, state, now, cost, &out, valid);
    if let Some(s) = state {
        let (_, cap) = interval_capacity(&quota);
        let bound = i128::from(now) + cap + i128::from(quota.period_seconds) * MICROS;
        if fits(cap) && fits(bound) {
            assert_eq!(is_corrupt(s, now, &quota), model_corrupt(&quota, s.tat_us, now));
        }
    }

    // A sequence from an empty bucket on a clock that only moves forward.
    if valid {
        let start = now.clamp(-(1 << 60), 1 << 60);
        let (t, cap) = interval_capacity(&quota);
        let mut clock = start;
        let mut stored: Option<RateLimitState> = None;
        let mut spent: i128 = 0;
        while input.remaining_ctl() >= 3 {
            clock = clock.saturating_add(i64::from(input.u16()) * i64::from(input.u8() % 64 + 1) * 1000);
            let cost = u32::from(input.u8()) % quota.burst + 1;
            let o = gcra(stored, clock, &quota, cost);
            check_one(&quota, stored, clock, cost, &o, true);
            if o.allowed {
                assert!(stored.is_none_or(|s| o.state.tat_us > s.tat_us), "an allowed request did not spend");
                spent += i128::from(cost);
                stored = Some(o.state);
            }
            assert!(
                spent * t <= i128::from(clock) - i128::from(start) + cap,
                "{spent} units through in {} µs with interval {t} and burst {}",
                clock - start,
                quota.burst
            );
        }
    }
});

fn interval_capacity(q: &Quota) -> (i128, i128) {
    let t = (i128::from(q.period_seconds) * MICROS / i128::from(q.limit.max(1))).max(1);
    (t, t * i128::from(q.burst))
}

fn model_corrupt(q: &Quota, tat: i64, now: i64) -> bool {
    let (_, cap) = interval_capacity(q);
    i128::from(tat) > i128::from(now) + cap + i128::from(q.period_seconds) * MICROS
}

fn ceil_s(us: i128) -> u64 {
    let us = us.max(0);
    u64::try_from((us + MICROS - 1) / MICROS).unwrap_or(u64::MAX)
}

fn fits(v: i128) -> bool {
    i64::try_from(v).is_ok()
}

fn check_one(q: &Quota, state: Option<RateLimitState>, now: i64, cost: u32, o: &RateLimitOutcome, valid: bool) {
    assert_eq!(o.limit, q.burst);
    assert!(o.remaining <= o.limit, "remaining {} > limit {}", o.remaining, o.limit);
    assert_eq!(o.retry_after_seconds.is_some(), !o.allowed, "retry_after iff denied");
    assert!(o.retry_after_seconds.is_none_or(|s| s >= 1));
    if cost > q.burst {
        assert!(!o.allowed, "a cost above the burst passed");
    }

    // The exact model, wherever no value saturates.
    let (t, cap) = interval_capacity(q);
    let now_w = i128::from(now);
    let period = i128::from(q.period_seconds) * MICROS;
    let mut in_range = fits(t) && fits(cap) && fits(now_w + cap + period) && fits(t * i128::from(cost));
    let tat = match state {
        None => now_w,
        Some(s) => {
            let corrupt = i128::from(s.tat_us) > now_w + cap + period;
            (if corrupt { now_w + cap } else { i128::from(s.tat_us) }).max(now_w)
        }
    };
    let new_tat = tat + t * i128::from(cost);
    let allow_at = new_tat - cap;
    in_range &= fits(new_tat) && fits(allow_at) && fits(tat - now_w) && fits(cap - (new_tat - now_w));
    if !in_range {
        return;
    }
    let denied = now_w < allow_at || cost > q.burst;
    let kept = if denied { tat } else { new_tat };
    let remaining = ((cap - (kept - now_w)).max(0) / t).min(i128::from(q.burst));
    let wait = if cost > q.burst { tat } else { allow_at };
    assert_eq!(o.allowed, !denied, "allowed");
    assert_eq!(i128::from(o.state.tat_us), kept, "state");
    assert_eq!(i128::from(o.remaining), remaining.min(i128::from(u32::MAX)), "remaining");
    assert_eq!(o.reset_seconds, ceil_s(kept - now_w), "reset");
    assert_eq!(o.retry_after_seconds, denied.then(|| ceil_s(wait - now_w).max(1)), "retry_after");

    // Denied requests spend nothing: the stored state stays, unless it was corrupt and got clamped.
    if valid && denied && cost <= q.burst {
        let s = state.expect("an empty bucket admits any cost up to the burst");
        if !model_corrupt(q, s.tat_us, now) {
            assert_eq!(o.state, s, "a denied request changed the state");
        } else {
            assert!(o.state.tat_us < s.tat_us, "a corrupt state was not clamped");
        }
    }
}
