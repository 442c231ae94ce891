//! Rate limits per owner (`policy.rate_limit_scope`): all keys of one
//! organization share a bucket per class, so minting more keys buys no more
//! quota; keys without an organization keep their own.

use std::collections::BTreeMap;

use serde_json::json;

use super::{bearer, req, t0, Suite, VectorFile};

pub fn suite() -> VectorFile {
    let mut s = Suite::new(
        "rate_limit_scope",
        "rate_limit_scope \"organization\": the keys of one owner organization share one bucket per class (org.<organization>:<class>); other organizations and keys without one keep their own",
        json!({
            "formats": ["keyproof_live"],
            "policy": {
                "routes": [{"method": "GET", "path": "/v1/items", "all_of": ["items:read"]}],
                "plans": {"starter": {"limit": 60, "burst": 2}},
                "default_plan": "starter",
                "rate_limit_scope": "organization"
            }
        }),
    );
    let of = |org: Option<&str>| {
        let owner = org.map_or(json!({}), |o| json!({"organization": o}));
        json!({"name": "Scoped key", "scopes": ["items:read"], "owner": owner})
    };
    let first = s.mint("acme-1", "keyproof_live", of(Some("org_acme")));
    let second = s.mint("acme-2", "keyproof_live", of(Some("org_acme")));
    let other = s.mint("globex", "keyproof_live", of(Some("org_globex")));
    let loner = s.mint("no-org", "keyproof_live", of(None));
    let get = |key: &str| req("GET", "/v1/items", bearer(key));
    let now = t0();
    let one = s.case_stored(
        "one organization: its first key spends the shared bucket",
        "ok",
        get(&first),
        now,
        &BTreeMap::new(),
    );
    let two = s.case_stored("one organization: its second key spends the same bucket", "ok", get(&second), now, &one);
    s.case_stored("one organization: a burst of 2 for all its keys together", "rate_limited", get(&first), now, &two);
    s.case_stored("one organization: its other key is limited too", "rate_limited", get(&second), now, &two);
    s.case_stored("another organization keeps its own bucket", "ok", get(&other), now, &two);
    s.case_stored("a key without an organization keeps its own bucket", "ok", get(&loner), now, &two);
    s.finish()
}
