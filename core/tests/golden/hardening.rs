//! Hardening II vectors: the path contract (raw, percent-encoded request
//! targets decoded once by core), HEAD under GET rules, and hostile inputs.

use serde_json::json;

use keyproof::RateLimitState;

use super::{bearer, req, t0, Suite, VectorFile};

pub fn all() -> Vec<VectorFile> {
    vec![paths(), limits()]
}

fn limits() -> VectorFile {
    let mut s = Suite::new(
        "hardening_limits",
        "Corrupt rate-limit state is clamped to a full bucket (never a denial forever); clocks at the edges of time decide without panicking",
        json!({
            "formats": ["keyproof_live"],
            "policy": {
                "routes": [{"method": "GET", "path": "/v1/items", "all_of": ["items:read"]}],
                "plans": {"starter": {"limit": 60, "burst": 10}},
                "default_plan": "starter"
            }
        }),
    );
    let key = s.mint("reader", "keyproof_live", json!({"name": "Reader", "scopes": ["items:read"]}));
    let get = || req("GET", "/v1/items", bearer(&key));
    let now = t0();
    let us = now.timestamp_micros();
    let state = |tat_us: i64| Some(RateLimitState { tat_us });
    s.case_full(
        "tat_us = i64::MAX is clamped: retry after one interval",
        "rate_limited",
        get(),
        now,
        state(i64::MAX),
        None,
    );
    s.case_full(
        "tat_us just past a full bucket plus a period is clamped",
        "rate_limited",
        get(),
        now,
        state(us + 71_000_001),
        None,
    );
    s.case_full("a full bucket is an ordinary denial", "rate_limited", get(), now, state(us + 10_000_000), None);
    s.case_full("one interval of room", "ok", get(), now, state(us + 9_000_000), None);
    s.case_full("tat_us = i64::MIN is an empty bucket", "ok", get(), now, state(i64::MIN), None);
    s.case_full("negative state long ago", "ok", get(), now, state(-1), None);
    let end = chrono::DateTime::parse_from_rfc3339("9999-12-31T23:59:59Z").unwrap().with_timezone(&chrono::Utc);
    s.case_full("clock at 9999-12-31", "ok", get(), end, None, None);
    let start = chrono::DateTime::parse_from_rfc3339("0001-01-01T00:00:00Z").unwrap().with_timezone(&chrono::Utc);
    s.case_full("clock at 0001-01-01 (before the key was created)", "ok", get(), start, None, None);
    s.finish()
}

fn paths() -> VectorFile {
    let mut s = Suite::new(
        "hardening_paths",
        "The path core judges is the raw request target, percent-decoded once; encoded / ? # \\ NUL and dots are refused; HEAD follows GET rules",
        json!({
            "formats": ["keyproof_live"],
            "policy": {
                "realm": "api.example.com",
                "unknown_routes": "authenticate",
                "routes": [
                    {"method": "GET", "path": "/v1/orgs/{org}", "all_of": ["orgs:read"]},
                    {"method": "GET", "path": "/v1/orgs/{org}/billing", "all_of": ["billing:read"]},
                    {"method": "GET", "path": "/v1/admin/report", "all_of": ["admin"]},
                    {"method": "HEAD", "path": "/v1/status", "all_of": ["status:head"]},
                    {"method": "GET", "path": "/v1/status", "all_of": ["status:read"]}
                ]
            }
        }),
    );
    let orgs =
        s.mint("orgs reader", "keyproof_live", json!({"name": "Orgs reader", "scopes": ["orgs:read", "status:read"]}));
    let admin = s.mint("admin", "keyproof_live", json!({"name": "Admin", "scopes": ["admin", "status:head"]}));
    let cases: &[(&str, &str, &str, &str)] = &[
        ("org itself", "GET", "/v1/orgs/acme", "ok"),
        ("billing needs billing:read", "GET", "/v1/orgs/acme/billing", "insufficient_scope"),
        ("encoded ? cannot cut the path (bypass attempt)", "GET", "/v1/orgs/acme%3F/billing", "invalid_path"),
        ("encoded ? lower case", "GET", "/v1/orgs/acme%3f/billing", "invalid_path"),
        ("encoded # cannot cut the path (bypass attempt)", "GET", "/v1/orgs/acme%23/billing", "invalid_path"),
        ("literal ? starts the query", "GET", "/v1/orgs/acme?/billing", "ok"),
        ("percent-decoded once: %61cme is acme", "GET", "/v1/orgs/%61cme", "ok"),
        ("decoded billing segment is judged as billing", "GET", "/v1/orgs/acme/%62illing", "insufficient_scope"),
        ("double encoding is decoded once only", "GET", "/v1/orgs/acme%253F/billing", "insufficient_scope"),
        ("UTF-8 org name", "GET", "/v1/orgs/caf%C3%A9", "ok"),
        ("invalid UTF-8 after decoding", "GET", "/v1/orgs/caf%C3", "invalid_path"),
        ("encoded NUL", "GET", "/v1/orgs/a%00b", "invalid_path"),
        ("encoded newline", "GET", "/v1/orgs/a%0Ab", "invalid_path"),
        ("encoded backslash", "GET", "/v1/orgs/a%5Cb", "invalid_path"),
        ("encoded dot segment", "GET", "/v1/orgs/%2E%2E/admin/report", "invalid_path"),
        ("truncated escape", "GET", "/v1/orgs/acme%4", "invalid_path"),
        ("non-hex escape", "GET", "/v1/orgs/acme%zz", "invalid_path"),
        ("HEAD follows the GET rule (admin only)", "HEAD", "/v1/admin/report", "insufficient_scope"),
        ("HEAD on a path with its own HEAD rule", "HEAD", "/v1/status", "insufficient_scope"),
        ("GET on that path", "GET", "/v1/status", "ok"),
        ("lower-case head is HEAD", "head", "/v1/admin/report", "insufficient_scope"),
        ("OPTIONS has no fallback: unknown route, authenticated only", "OPTIONS", "/v1/admin/report", "ok"),
    ];
    for (name, method, path, expect) in cases {
        s.case(name, expect, req(method, path, bearer(&orgs)));
    }
    s.case("HEAD on an admin GET route with the admin key", "ok", req("HEAD", "/v1/admin/report", bearer(&admin)));
    s.case("HEAD rule wins over GET for the admin key", "ok", req("HEAD", "/v1/status", bearer(&admin)));
    s.finish()
}
