//! Last-used tracking (seed 001: "the API dashboard shows … last-used timestamps
//! for each key"): an allowed request asks the host to write `last_used_at` only
//! when the stored one is absent or at least `last_used_interval_seconds` old, so
//! a busy key writes about once a minute. Each vector pins `touch_last_used`.

use chrono::Duration;
use keyproof::RateLimitState;
use serde_json::json;

use super::{bearer, req, t0, Suite, VectorFile};

pub fn suite() -> VectorFile {
    let mut s = Suite::new(
        "last_used",
        "Last-used hints: touch_last_used is the decision instant when last_used_at is absent or at least \
         last_used_interval_seconds (here the default, 60) old, on allowed requests only",
        json!({
            "formats": ["matcraft_live"],
            "policy": {
                "routes": [
                    {"method": "GET", "path": "/v1/materials", "all_of": ["materials:read"]},
                    {"method": "POST", "path": "/v1/materials", "all_of": ["materials:write"]}
                ],
                "plans": {"starter": {"limit": 60, "burst": 2}},
                "default_plan": "starter"
            }
        }),
    );
    s.pin_touch = true;
    let opts = |name: &str| json!({"name": name, "scopes": ["materials:read"]});
    let used = |s: &mut Suite, label: &str, ago: Option<Duration>| {
        s.mint_with(label, "matcraft_live", opts(label), |r| r.last_used_at = ago.map(|d| t0() - d))
    };
    let never = used(&mut s, "never used", None);
    let fresh = used(&mut s, "used 59 s ago", Some(Duration::seconds(59)));
    let minute = used(&mut s, "used 60 s ago", Some(Duration::seconds(60)));
    let hour = used(&mut s, "used an hour ago", Some(Duration::hours(1)));
    let ahead = used(&mut s, "used 10 s ahead (another clock)", Some(Duration::seconds(-10)));
    let get = |key: &str| req("GET", "/v1/materials", bearer(key));
    s.case("never used: write now", "ok", get(&never));
    s.case("used 59 s ago: no write", "ok", get(&fresh));
    s.case("used exactly 60 s ago: write now", "ok", get(&minute));
    s.case("used an hour ago: write now", "ok", get(&hour));
    s.case("stored instant ahead of this clock: no write", "ok", get(&ahead));
    s.case("insufficient scope: no write", "insufficient_scope", req("POST", "/v1/materials", bearer(&never)));
    let full = RateLimitState { tat_us: (t0() + Duration::seconds(10)).timestamp_micros() };
    s.case_full("rate limited: no write", "rate_limited", get(&never), t0(), Some(full), None);
    let revoked = s.mint_with("revoked", "matcraft_live", opts("revoked"), |r| {
        r.revoke(t0() - Duration::days(1)).unwrap();
    });
    s.case("revoked key: no write", "key_revoked", get(&revoked));
    s.case("unknown key: no write", "unknown_key", get("mc_live_sk_8oCBDno9w9FQgF0fFDt9QPwTpr8zETsJ"));
    s.finish()
}
