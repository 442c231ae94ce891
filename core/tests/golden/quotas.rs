//! A key's own quotas (`KeyRecord::rate_limits`): per rate-limit class, used
//! instead of its plan's; the headers name the policy `key`.

use serde_json::json;

use super::{bearer, req, t0, Suite, VectorFile};

pub fn suite() -> VectorFile {
    let mut s = Suite::new(
        "own_quotas",
        "A key's own quotas by rate-limit class replace its plan's for that class (RateLimit-Policy names them \"key\"); other classes keep the plan's",
        json!({
            "formats": ["keyproof_live"],
            "policy": {
                "routes": [
                    {"method": "GET", "path": "/v1/items", "all_of": ["items:read"]},
                    {"method": "POST", "path": "/v1/exports", "all_of": ["items:read"], "rate_limit": {"class": "heavy", "cost": 2}}
                ],
                "plans": {"starter": {"limit": 60, "burst": 10}},
                "rate_limit_classes": {"heavy": {"starter": {"limit": 10, "burst": 4}}},
                "default_plan": "starter"
            }
        }),
    );
    let small = s.mint(
        "small",
        "keyproof_live",
        json!({"name": "Small key", "scopes": ["items:read"], "rate_limits": {"default": {"limit": 2, "burst": 2, "period_seconds": 60}}}),
    );
    let exports = s.mint(
        "exports",
        "keyproof_live",
        json!({"name": "Export key", "scopes": ["items:read"], "rate_limits": {"heavy": {"limit": 100, "burst": 6}}}),
    );
    let plain = s.mint("plain", "keyproof_live", json!({"name": "Plan key", "scopes": ["items:read"]}));
    let get = |key: &str| req("GET", "/v1/items", bearer(key));
    let export = |key: &str| req("POST", "/v1/exports", bearer(key));
    let now = t0();
    let first = s.case("the key's own quota: first request", "ok", get(&small));
    let second = s.case_full("the key's own quota: its burst of 2", "ok", get(&small), now, first, None);
    s.case_full("the key's own quota: the third is limited", "rate_limited", get(&small), now, second, None);
    s.case("the key's own quota for another class leaves the default class on the plan", "ok", get(&exports));
    let one = s.case("the key's own heavy quota: burst 6 at cost 2", "ok", export(&exports));
    let two = s.case_full("the key's own heavy quota: second export", "ok", export(&exports), now, one, None);
    let three = s.case_full("the key's own heavy quota: third export", "ok", export(&exports), now, two, None);
    s.case_full("the key's own heavy quota: the fourth is limited", "rate_limited", export(&exports), now, three, None);
    let p1 = s.case("the plan's heavy quota: burst 4 at cost 2", "ok", export(&plain));
    let p2 = s.case_full("the plan's heavy quota: second export", "ok", export(&plain), now, p1, None);
    s.case_full("the plan's heavy quota: the third is limited", "rate_limited", export(&plain), now, p2, None);
    s.finish()
}
