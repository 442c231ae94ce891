//! Vendor fidelity vectors: statuses as RFC 6750 and the seeds promise (401 for
//! malformed or empty credentials, 400 for malformed requests), per-deployment
//! status overrides, and the rate-limit header dialects.

use serde_json::json;

use super::{bearer, req, Suite, VectorFile};

pub fn all() -> Vec<VectorFile> {
    let mut files = vec![statuses(), overrides()];
    files.extend(rate_limit_headers());
    files
}

fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

fn statuses() -> VectorFile {
    let mut s = Suite::new(
        "vendor_statuses",
        "Missing, empty or malformed credentials are 401 invalid_token (seeds 003 and 004, RFC 6750 §3.1); duplicate, conflicting or oversized credential headers are 400",
        json!({
            "formats": ["tmmate_prod", "authmatech_api_key"],
            "policy": {
                "realm": "api.example.com",
                "credentials": {"methods": ["bearer", "api_key_header"]},
                "routes": [{"method": "GET", "path": "/v1/me"}]
            }
        }),
    );
    let key = s.mint("tmmate", "tmmate_prod", json!({"name": "Support bot"}));
    let am = s.mint("authmatech", "authmatech_api_key", json!({"name": "Server", "client_id": "amc_Client000001"}));
    let get = |headers: Vec<(String, String)>| req("GET", "/v1/me", headers);
    type Case<'a> = (&'a str, &'a str, Vec<(String, String)>);
    let cases: Vec<Case> = vec![
        ("valid bearer", "ok", bearer(&key)),
        ("Bearer with nothing after it", "empty_token", h(&[("Authorization", "Bearer")])),
        ("Bearer followed by spaces only", "empty_token", h(&[("Authorization", "Bearer   ")])),
        (
            "key wrapped in double quotes",
            "malformed_authorization",
            h(&[("Authorization", &format!("Bearer \"{key}\""))]),
        ),
        ("key followed by a comma", "malformed_authorization", h(&[("Authorization", &format!("Bearer {key},"))])),
        ("key followed by a semicolon", "malformed_authorization", h(&[("Authorization", &format!("Bearer {key};"))])),
        ("key inside angle brackets", "malformed_authorization", h(&[("Authorization", &format!("Bearer <{key}>"))])),
        ("key with a non-ASCII character", "invalid_header_value", h(&[("Authorization", &format!("Bearer {key}é"))])),
        ("empty X-API-KEY", "empty_token", h(&[("X-API-KEY", "")])),
        ("empty X-CLIENT-ID", "empty_token", h(&[("X-API-KEY", &am), ("X-CLIENT-ID", "")])),
        ("X-API-KEY with a control character", "invalid_header_value", h(&[("X-API-KEY", &format!("{am}\u{7}"))])),
        ("X-API-KEY with its client id", "ok", h(&[("X-API-KEY", &am), ("X-CLIENT-ID", "amc_Client000001")])),
        ("malformed key in X-API-KEY", "wrong_length", h(&[("X-API-KEY", "amk_live_short")])),
        ("no credential at all", "missing_credentials", vec![]),
        (
            "the same credential header twice",
            "duplicate_header",
            h(&[("Authorization", &format!("Bearer {key}")), ("authorization", &format!("Bearer {key}"))]),
        ),
        (
            "two different credentials",
            "conflicting_credentials",
            h(&[("Authorization", &format!("Bearer {key}")), ("X-API-KEY", &am)]),
        ),
        (
            "oversized credential header",
            "header_too_large",
            h(&[("Authorization", &format!("Bearer {}", "a".repeat(5000)))]),
        ),
    ];
    for (name, expect, headers) in cases {
        s.case(name, expect, get(headers));
    }
    s.finish()
}

fn overrides() -> VectorFile {
    let mut s = Suite::new(
        "vendor_status_overrides",
        "status_overrides: a deployment documents other statuses (404 for unknown routes, 403 for IP denials as 404 …); the challenge follows the final status",
        json!({
            "formats": ["keyproof_live"],
            "policy": {
                "realm": "api.example.com",
                "status_overrides": {"route_not_allowed": 404, "ip_not_allowed": 404, "missing_credentials": 403, "insufficient_scope": 404, "feature_not_enabled": 403},
                "routes": [
                    {"method": "GET", "path": "/v1/items", "all_of": ["items:read"]},
                    {"method": "POST", "path": "/v1/verify", "feature": "verify"}
                ]
            }
        }),
    );
    let key = s.mint(
        "reader",
        "keyproof_live",
        json!({"name": "Reader", "scopes": ["items:read"], "allowed_ips": ["203.0.113.0/24"]}),
    );
    let open = s.mint("open", "keyproof_live", json!({"name": "Open"}));
    s.case("allowed", "ok", super::req_ip("GET", "/v1/items", bearer(&key), "203.0.113.7"));
    s.case("unknown route answered 404", "route_not_allowed", req("GET", "/v1/secret", bearer(&open)));
    s.case("IP denial answered 404", "ip_not_allowed", super::req_ip("GET", "/v1/items", bearer(&key), "10.0.0.1"));
    s.case("missing credentials answered 403 (no challenge)", "missing_credentials", req("GET", "/v1/items", vec![]));
    s.case("missing scope answered 404 (no challenge)", "insufficient_scope", req("GET", "/v1/items", bearer(&open)));
    s.case("feature answered 403", "feature_not_enabled", req("POST", "/v1/verify", bearer(&open)));
    s.case(
        "bad checksum keeps 401 with its challenge",
        "bad_checksum",
        req("GET", "/v1/items", bearer(&format!("{}A", &open[..open.len() - 1]))),
    );
    s.finish()
}

/// One file per header dialect (each file has one policy).
fn rate_limit_headers() -> Vec<VectorFile> {
    let dialects = [
        ("draft", json!(["draft"])),
        ("legacy", json!(["legacy"])),
        ("x", json!(["x_rate_limit"])),
        ("all", json!(["draft", "legacy", "x_rate_limit"])),
    ];
    let mut out = Vec::new();
    for (mode, dialect) in dialects {
        let mut s = Suite::new(
            &format!("vendor_rate_limit_headers_{mode}"),
            "Rate-limit header dialects: draft-11 RateLimit / RateLimit-Policy (default), the legacy RateLimit-Limit/-Remaining/-Reset trio, X-RateLimit-*",
            json!({
                "formats": ["keyproof_live"],
                "policy": {
                    "rate_limit_headers": dialect,
                    "routes": [
                        {"method": "GET", "path": "/v1/items"},
                        {"method": "POST", "path": "/v1/reports", "rate_limit": {"class": "heavy", "cost": 2}}
                    ],
                    "plans": {"starter": {"limit": 60, "burst": 3}},
                    "rate_limit_classes": {"heavy": {"starter": {"limit": 10, "burst": 2}}},
                    "default_plan": "starter"
                }
            }),
        );
        let key = s.mint("reader", "keyproof_live", json!({"name": "Reader"}));
        let mut state = None;
        for i in 1..=4 {
            let expect = if i <= 3 { "ok" } else { "rate_limited" };
            let name = format!("{mode}: request {i} of a burst of 3");
            state =
                s.case_full(&name, expect, req("GET", "/v1/items", bearer(&key)), super::t0(), state, None).or(state);
        }
        s.case(
            &format!("{mode}: a heavy class (policy named plan.class)"),
            "ok",
            req("POST", "/v1/reports", bearer(&key)),
        );
        out.push(s.finish());
    }
    out
}
