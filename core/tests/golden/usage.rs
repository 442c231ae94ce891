//! Usage limits (`KeyRecord::usage_limit`): units per UTC day, per ISO week, per
//! UTC month or in all (credits), counted after the rate limit in a counter named by its
//! period; headers add a `"usage"` policy; a spent allowance is 429 `usage_exceeded`.

use std::collections::BTreeMap;

use chrono::Duration;
use keyproof::RateLimitState;
use serde_json::json;

use super::{bearer, req, t0, Suite, VectorFile};

pub fn suite() -> VectorFile {
    let mut s = Suite::new(
        "usage_limits",
        "Usage limits per day, per week, per month and in all (credits): counters keyed by period, spent after the rate limit, shared by a key that names another key's counter, priced by the host per request (usage_cost); 429 usage_exceeded with Retry-After until the period ends (none for credits)",
        json!({
            "formats": ["keyproof_live"],
            "policy": {
                "routes": [
                    {"method": "GET", "path": "/v1/items", "all_of": ["items:read"]},
                    {"method": "POST", "path": "/v1/exports", "all_of": ["items:read"], "rate_limit": {"class": "heavy", "cost": 3}}
                ],
                "plans": {"starter": {"limit": 60, "burst": 10}},
                "rate_limit_classes": {"heavy": {"starter": {"limit": 60, "burst": 10}}},
                "default_plan": "starter"
            }
        }),
    );
    let scoped =
        |usage: serde_json::Value| json!({"name": "Usage key", "scopes": ["items:read"], "usage_limit": usage});
    let daily = s.mint("daily", "keyproof_live", scoped(json!({"limit": 2, "period": "day"})));
    let monthly = s.mint("monthly", "keyproof_live", scoped(json!({"limit": 5, "period": "month"})));
    let weekly = s.mint("weekly", "keyproof_live", scoped(json!({"limit": 1, "period": "week"})));
    let credits = s.mint("credits", "keyproof_live", scoped(json!({"limit": 4})));
    let credits_id = s.records.last().map(|r| r.id.clone()).unwrap_or_default();
    let sharing = s.mint("sharing", "keyproof_live", scoped(json!({"limit": 4, "counter": credits_id})));
    let get = |key: &str| req("GET", "/v1/items", bearer(key));
    let export = |key: &str| req("POST", "/v1/exports", bearer(key));
    let now = t0();
    let none = BTreeMap::new();

    let one = s.case_stored("daily: the first request spends one of two", "ok", get(&daily), now, &none);
    let two = s.case_stored("daily: the second spends the last", "ok", get(&daily), now, &one);
    s.case_stored("daily: the third waits for UTC midnight", "usage_exceeded", get(&daily), now, &two);
    s.case_stored("daily: the next day starts a new counter", "ok", get(&daily), now + Duration::days(1), &two);

    let m = s.case_stored("monthly: an export costs its route's 3 units", "ok", export(&monthly), now, &none);
    s.case_stored("monthly: another export would need 6 of 5", "usage_exceeded", export(&monthly), now, &m);
    s.case_stored("monthly: a 1-unit request still fits", "ok", get(&monthly), now, &m);
    let april = now + Duration::days(14);
    s.case_stored("monthly: April starts a new counter", "ok", export(&monthly), april, &m);

    let w = s.case_stored("weekly: one unit per ISO week", "ok", get(&weekly), now, &none);
    s.case_stored("weekly: spent until Monday 00:00 UTC", "usage_exceeded", get(&weekly), now, &w);
    s.case_stored("weekly: Monday starts a new week", "ok", get(&weekly), now + Duration::days(5), &w);

    let mut limited = m.clone();
    for (key, state) in &m {
        if key.ends_with(":heavy") {
            limited.insert(key.clone(), RateLimitState { tat_us: state.tat_us + 60 * 1_000_000 });
        }
    }
    s.case_stored("a rate-limited request spends no usage", "rate_limited", export(&monthly), now, &limited);

    let c = s.case_stored("credits: an export spends 3 of 4", "ok", export(&credits), now, &none);
    let c = s.case_stored("credits: a request spends the last", "ok", get(&credits), now, &c);
    s.case_stored(
        "credits: spent for good, no Retry-After",
        "usage_exceeded",
        get(&credits),
        now + Duration::days(40),
        &c,
    );
    s.case_stored("a key naming another key's counter shares its credits", "usage_exceeded", get(&sharing), now, &c);
    s.case_stored("a key naming another key's counter: fresh credits", "ok", get(&sharing), now, &none);

    let mut odd = BTreeMap::new();
    let counter = format!("{credits_id}:usage:total");
    odd.insert(counter, RateLimitState { tat_us: -7 });
    s.case_stored("credits: a negative counter counts as spent", "usage_exceeded", get(&credits), now, &odd);

    // The host prices a request (`usage_cost`): the usage counter spends that, the rate limit its route's cost.
    let priced = s.mint("priced", "keyproof_live", scoped(json!({"limit": 10, "period": "month"})));
    let costing = |units: u32| keyproof::Request { usage_cost: Some(units), ..get(&priced) };
    let p = s.case_stored("priced: a request the host priced at 7 units spends 7", "ok", costing(7), now, &none);
    s.case_stored("priced: 4 more would need 11 of 10", "usage_exceeded", costing(4), now, &p);
    let p = s.case_stored("priced: 3 more spend the rest", "ok", costing(3), now, &p);
    s.case_stored("priced at 0: a check passes while a unit is left", "ok", costing(0), now, &none);
    s.case_stored("priced at 0: a spent allowance refuses even a check", "usage_exceeded", costing(0), now, &p);
    s.case_stored("priced above the whole allowance: never passes", "usage_exceeded", costing(11), now, &none);
    s.finish()
}
