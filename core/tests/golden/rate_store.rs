//! The host's rate-limit store fails (Redis down, timed out): each vector carries
//! `rate_store_failure`, and the host answers `LoadRateState` with
//! `rate_state_unavailable(rate_store_failure)`. Fail-closed is a 503
//! `rate_limit_unavailable` problem with `Retry-After`; fail-open allows without
//! rate-limit headers plus the warning `rate_limit_unavailable`; a request denied
//! for another reason never reaches the store and keeps its denial.

use keyproof::RateStoreFailure;
use serde_json::json;

use super::{bearer, req, StoreFailure, Suite, VectorFile};

pub fn suite() -> VectorFile {
    let mut s = Suite::new(
        "rate_store",
        "Rate-limit store failures: LoadRateState is answered with rate_state_unavailable(rate_store_failure) \
         (fail_closed: 503 rate_limit_unavailable with Retry-After; fail_open: allowed, no rate-limit headers, \
         warning rate_limit_unavailable); other denials are unchanged",
        json!({
            "formats": ["matchii_live"],
            "policy": {"default_plan": "team", "plans": {"team": {"limit": 120, "burst": 20}},
                "rate_limit_headers": ["draft", "x_rate_limit"], "routes": [
                {"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]},
                {"method": "DELETE", "path": "/v1/briefs/{id}", "all_of": ["briefs:delete"]}]}
        }),
    );
    let opts = |name: &str| json!({"name": name, "scopes": ["briefs:read"]});
    let key = s.mint("reader", "matchii_live", opts("reader"));
    let revoked = s.mint_with("revoked", "matchii_live", opts("revoked"), |r| {
        r.revoke(super::t0() - chrono::Duration::days(1)).unwrap();
    });
    let get = |key: &str| req("GET", "/v1/briefs", bearer(key));
    s.store_failure = Some(StoreFailure::Named(RateStoreFailure::default()));
    s.case("fail closed: 503, Retry-After 1", "rate_limit_unavailable", get(&key));
    s.case(
        "fail closed: a missing scope is still 403",
        "insufficient_scope",
        req("DELETE", "/v1/briefs/b1", bearer(&key)),
    );
    s.case("fail closed: a revoked key is still 401", "key_revoked", get(&revoked));
    s.store_failure = Some(StoreFailure::Named(RateStoreFailure::FailClosed { retry_after_seconds: 30 }));
    s.case("fail closed: Retry-After 30", "rate_limit_unavailable", get(&key));
    s.store_failure = Some(StoreFailure::Named(RateStoreFailure::FailOpen));
    s.case("fail open: allowed uncounted, with a warning", "ok", get(&key));
    s.case(
        "fail open: a missing scope is still 403",
        "insufficient_scope",
        req("DELETE", "/v1/briefs/b1", bearer(&key)),
    );
    s.finish()
}

/// The deployment decides how its stores fail (`policy.rate_store_failure`); a
/// host that names no answer (`"rate_store_failure": "policy"`) gets the policy's,
/// and a host that names one overrides it.
pub fn policy_suite() -> VectorFile {
    let mut s = Suite::new(
        "rate_store_policy",
        "The policy's rate_store_failure (here fail_open) answers when the host names no answer of its own \
         (rate_store_failure \"policy\": rate_state_unavailable() with nothing); a named answer overrides it",
        json!({
            "formats": ["matchii_live"],
            "policy": {"default_plan": "team", "plans": {"team": {"limit": 120, "burst": 20}},
                "rate_store_failure": {"on_error": "fail_open"},
                "routes": [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}]}
        }),
    );
    let key = s.mint("reader", "matchii_live", json!({"name": "reader", "scopes": ["briefs:read"]}));
    let get = |key: &str| req("GET", "/v1/briefs", bearer(key));
    s.store_failure = Some(StoreFailure::Policy);
    s.case("the policy's answer: fail open, allowed uncounted with a warning", "ok", get(&key));
    s.case(
        "the policy's answer: an unknown key is still 401",
        "unknown_key",
        get("mk_live_0000000000000000000000000000000a"),
    );
    s.store_failure = Some(StoreFailure::Named(RateStoreFailure::FailClosed { retry_after_seconds: 5 }));
    s.case("the host's own answer overrides it: fail closed, Retry-After 5", "rate_limit_unavailable", get(&key));
    s.finish()
}
