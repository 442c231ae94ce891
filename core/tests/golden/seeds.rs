//! Vectors for seeds 000 (Matchii) and 001 (MatCraft).

use chrono::Duration;
use keyproof::RateLimitState;
use serde_json::json;

use super::{bearer, req, req_ip, t0, Suite, VectorFile};

pub fn all() -> Vec<VectorFile> {
    vec![matchii(), matcraft_live(), matcraft_sandbox()]
}

const MATCHII_ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/v1/briefs", "briefs:read"),
    ("POST", "/v1/briefs", "briefs:write"),
    ("DELETE", "/v1/briefs/brf_1", "briefs:write"),
    ("GET", "/v1/matches", "matches:read"),
    ("POST", "/v1/matches/m_7/accept", "matches:write"),
    ("GET", "/v1/agencies/ag_3", "agencies:read"),
    ("POST", "/v1/webhooks", "webhooks:manage"),
    ("POST", "/v1/api-keys", "admin"),
    ("POST", "/v1/api-keys/key_2f8a3b1c/rotate", "admin"),
];

/// Independent oracle for the scope rule: `admin` grants all, otherwise exact match.
fn holds(scopes: &[&str], required: &str) -> bool {
    scopes.contains(&"admin") || scopes.contains(&required)
}

fn matchii() -> VectorFile {
    let mut s = Suite::new(
        "seed000_matchii",
        "Seed 000 Matchii: mk_live_ Bearer keys, 7 scopes with admin = all, 24 h rotation grace, per-plan GCRA limits",
        json!({
            "formats": ["matchii_live", "matchii_test"],
            "policy": {
                "realm": "api.matchii.ai",
                "environments": ["live"],
                "routes": [
                    {"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]},
                    {"method": "POST", "path": "/v1/briefs", "all_of": ["briefs:write"]},
                    {"method": ["PATCH", "DELETE"], "path": "/v1/briefs/{id}", "all_of": ["briefs:write"]},
                    {"method": "GET", "path": "/v1/matches", "all_of": ["matches:read"]},
                    {"method": "POST", "path": "/v1/matches/{id}/{action}", "all_of": ["matches:write"]},
                    {"method": "GET", "path": "/v1/agencies/{id}", "all_of": ["agencies:read"]},
                    {"method": "POST", "path": "/v1/webhooks", "all_of": ["webhooks:manage"]},
                    {"method": "POST", "path": "/v1/api-keys", "all_of": ["admin"]},
                    {"method": "POST", "path": "/v1/api-keys/{id}/rotate", "all_of": ["admin"]}
                ],
                "plans": {
                    "starter": {"limit": 60, "burst": 10},
                    "pro": {"limit": 300, "burst": 50},
                    "enterprise": {"limit": 1000, "burst": 200}
                },
                "default_plan": "starter"
            }
        }),
    );
    let org = json!({"organization": "org_acme"});
    let keys: Vec<(&str, Vec<&str>, &str)> = vec![
        ("production", vec!["briefs:read", "briefs:write", "matches:read"], "pro"),
        ("admin", vec!["admin"], "enterprise"),
        ("readonly", vec!["briefs:read", "matches:read", "agencies:read"], "starter"),
        ("webhooks", vec!["webhooks:manage"], "starter"),
    ];
    let mut minted = Vec::new();
    for (label, scopes, plan) in &keys {
        let key = s.mint(
            label,
            "matchii_live",
            json!({"name": format!("{label} key"), "id_style": {"style": "prefixed", "prefix": "key_", "hex_length": 8},
                   "owner": org, "scopes": scopes, "plan": plan}),
        );
        minted.push((label, scopes.clone(), key));
    }
    for (label, scopes, key) in &minted {
        for (method, path, required) in MATCHII_ROUTES {
            let expect = if holds(scopes, required) { "ok" } else { "insufficient_scope" };
            s.case(&format!("{label} key {method} {path}"), expect, req(method, path, bearer(key)));
        }
    }
    let prod = minted[0].2.clone();
    s.case("unknown route is denied", "route_not_allowed", req("GET", "/v1/unknown", bearer(&prod)));
    s.case("method not in table is denied", "route_not_allowed", req("PUT", "/v1/briefs", bearer(&prod)));
    s.case("trailing slash is the same route", "ok", req("GET", "/v1/briefs/", bearer(&prod)));
    s.case("query string is ignored", "ok", req("GET", "/v1/briefs?page=2", bearer(&prod)));
    s.case(
        "lower-case bearer scheme",
        "ok",
        req("GET", "/v1/briefs", vec![("authorization".into(), format!("bearer {prod}"))]),
    );
    s.case("no credentials", "missing_credentials", req("GET", "/v1/briefs", vec![]));
    let test_key = s.mint("test env", "matchii_test", json!({"name": "dev key", "scopes": ["admin"]}));
    s.case("test key at the live deployment", "wrong_environment", req("GET", "/v1/briefs", bearer(&test_key)));

    // Rotation: old and new keys both work for 24 hours, then the old one stops.
    let rotated_new = s.mint("rotation new", "matchii_live", json!({"name": "rotated new", "scopes": ["briefs:read"]}));
    let new_id = s.records.last().unwrap().id.clone();
    let rotated_old =
        s.mint_with("rotation old", "matchii_live", json!({"name": "rotated old", "scopes": ["briefs:read"]}), |r| {
            r.rotate(&new_id, t0() - Duration::hours(2), Duration::hours(24)).unwrap();
        });
    s.case("rotated key inside its grace period", "ok", req("GET", "/v1/briefs", bearer(&rotated_old)));
    s.case("replacement key", "ok", req("GET", "/v1/briefs", bearer(&rotated_new)));
    s.case_full(
        "rotated key one second before grace ends",
        "ok",
        req("GET", "/v1/briefs", bearer(&rotated_old)),
        t0() + Duration::hours(22) - Duration::seconds(1),
        None,
        None,
    );
    s.case_full(
        "rotated key when grace ends",
        "rotation_grace_ended",
        req("GET", "/v1/briefs", bearer(&rotated_old)),
        t0() + Duration::hours(22),
        None,
        None,
    );
    let revoked = s.mint_with("revoked", "matchii_live", json!({"name": "revoked key", "scopes": ["admin"]}), |r| {
        r.revoke(t0() - Duration::days(1)).unwrap();
    });
    s.case("revoked key", "key_revoked", req("GET", "/v1/briefs", bearer(&revoked)));
    let disabled = s.mint_with("disabled", "matchii_live", json!({"name": "disabled key", "scopes": ["admin"]}), |r| {
        r.disable(t0() - Duration::days(1)).unwrap();
    });
    s.case("disabled key", "key_disabled", req("GET", "/v1/briefs", bearer(&disabled)));
    let unknown = prod.chars().take(prod.len() - 1).collect::<String>() + if prod.ends_with('A') { "B" } else { "A" };
    s.case("well-formed but unknown key", "unknown_key", req("GET", "/v1/briefs", bearer(&unknown)));

    // Plans: Starter bursts 10 then refills 1/s; Pro bursts 50; Enterprise 200.
    for (label, plan_burst) in [("readonly", 10u32), ("production", 50), ("admin", 200)] {
        let key = minted.iter().find(|m| *m.0 == label).unwrap().2.clone();
        let mut state: Option<RateLimitState> = None;
        for i in 1..=plan_burst {
            let name = format!("{label} burst request {i} of {plan_burst}");
            if i == 1 || i == plan_burst || i % 25 == 0 {
                state = s.case_full(&name, "ok", req("GET", "/v1/briefs", bearer(&key)), t0(), state, None);
            } else {
                // Only a few are worth a vector each; advance the state the same way.
                let p = s.engine.prepare_request(&req("GET", "/v1/briefs", bearer(&key)));
                let rec = s.records.iter().find(|r| p.lookup_hashes().contains(&r.hash));
                state = s.engine.decide(&p, rec, t0(), state).rate_limit.map(|r| r.outcome.state);
            }
        }
        let after = s.case_full(
            &format!("{label} over burst"),
            "rate_limited",
            req("GET", "/v1/briefs", bearer(&key)),
            t0(),
            state,
            None,
        );
        assert_eq!(after, state);
        let refill = Duration::microseconds(
            60_000_000
                / i64::from(match label {
                    "readonly" => 60,
                    "production" => 300,
                    _ => 1000,
                }),
        );
        s.case_full(
            &format!("{label} after one refill interval"),
            "ok",
            req("GET", "/v1/briefs", bearer(&key)),
            t0() + refill,
            state,
            None,
        );
    }
    s.finish()
}

const MATCRAFT_ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/api/v1/campaigns", "campaigns:read"),
    ("GET", "/api/v1/results", "campaigns:read"),
    ("POST", "/api/v1/campaigns", "campaigns:write"),
    ("POST", "/api/v1/campaigns/c1/start", "campaigns:write"),
    ("DELETE", "/api/v1/campaigns/c1", "campaigns:delete"),
    ("GET", "/api/v1/datasets", "datasets:read"),
    ("POST", "/api/v1/datasets", "datasets:write"),
    ("GET", "/api/v1/templates", "templates:read"),
    ("DELETE", "/api/v1/api-keys/key_abc123", "admin"),
];

fn matcraft_config(environments: &[&str]) -> serde_json::Value {
    json!({
        "formats": ["matcraft_live", "matcraft_test", "matcraft_ci"],
        "policy": {
            "realm": "api.matcraft.ai",
            "environments": environments,
            "routes": [
                {"method": "GET", "path": "/api/v1/campaigns", "all_of": ["campaigns:read"]},
                {"method": "GET", "path": "/api/v1/results", "all_of": ["campaigns:read"]},
                {"method": "POST", "path": "/api/v1/campaigns", "all_of": ["campaigns:write"]},
                {"method": "POST", "path": "/api/v1/campaigns/{id}/start", "all_of": ["campaigns:write"]},
                {"method": "DELETE", "path": "/api/v1/campaigns/{id}", "all_of": ["campaigns:delete"]},
                {"method": "GET", "path": "/api/v1/datasets", "all_of": ["datasets:read"]},
                {"method": "POST", "path": "/api/v1/datasets", "all_of": ["datasets:write"]},
                {"method": "GET", "path": "/api/v1/templates", "all_of": ["templates:read"]},
                {"method": ["POST", "PATCH", "DELETE"], "path": "/api/v1/api-keys/**", "all_of": ["admin"]},
                {"method": "GET", "path": "/api/v1/search", "any_of": ["campaigns:read", "datasets:read"]}
            ]
        }
    })
}

fn matcraft_live() -> VectorFile {
    let mut s = Suite::new(
        "seed001_matcraft_live",
        "Seed 001 MatCraft production: mc_live_/mc_ci_ accepted, mc_test_ refused; scope to endpoint table; expiry; CIDR allowlists; 401 vs 403",
        matcraft_config(&["live", "ci"]),
    );
    let pipeline = s.mint("ci pipeline", "matcraft_ci", json!({"name": "CI Pipeline Key", "scopes": ["campaigns:read", "campaigns:write"], "expires_at": "2027-01-01T00:00:00Z"}));
    let reader = s.mint(
        "reader",
        "matcraft_live",
        json!({"name": "Reader", "scopes": ["campaigns:read", "datasets:read", "templates:read"]}),
    );
    let admin = s.mint("admin", "matcraft_live", json!({"name": "Admin key", "scopes": ["admin"]}));
    let wildcard = s.mint("wildcard", "matcraft_live", json!({"name": "Campaign robot", "scopes": ["campaigns:*"]}));
    let keys = [
        ("ci pipeline", pipeline.clone(), vec!["campaigns:read", "campaigns:write"]),
        ("reader", reader.clone(), vec!["campaigns:read", "datasets:read", "templates:read"]),
        ("admin", admin.clone(), vec!["admin"]),
        ("campaigns wildcard", wildcard.clone(), vec!["campaigns:read", "campaigns:write", "campaigns:delete"]),
    ];
    for (label, key, scopes) in &keys {
        for (method, path, required) in MATCRAFT_ROUTES {
            let expect = if holds(scopes, required) { "ok" } else { "insufficient_scope" };
            s.case(&format!("{label} {method} {path}"), expect, req(method, path, bearer(key)));
        }
    }
    s.case("any_of satisfied by one scope", "ok", req("GET", "/api/v1/search", bearer(&reader)));
    let templates_only = s_key_without_read(&mut s);
    s.case("any_of with none held", "insufficient_scope", req("GET", "/api/v1/search", bearer(&templates_only)));
    let sandbox = s.mint("sandbox", "matcraft_test", json!({"name": "Sandbox key", "scopes": ["admin"]}));
    s.case("mc_test_ key at production", "wrong_environment", req("GET", "/api/v1/campaigns", bearer(&sandbox)));
    s.case_full(
        "ci key just before expires_at",
        "ok",
        req("GET", "/api/v1/campaigns", bearer(&pipeline)),
        chrono::DateTime::parse_from_rfc3339("2026-12-31T23:59:59Z").unwrap().into(),
        None,
        None,
    );
    s.case_full(
        "ci key at expires_at",
        "key_expired",
        req("GET", "/api/v1/campaigns", bearer(&pipeline)),
        chrono::DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z").unwrap().into(),
        None,
        None,
    );
    s.case_full(
        "ci key in its last week warns",
        "ok",
        req("GET", "/api/v1/campaigns", bearer(&pipeline)),
        chrono::DateTime::parse_from_rfc3339("2026-12-28T00:00:00Z").unwrap().into(),
        None,
        None,
    );
    let fenced = s.mint("fenced", "matcraft_live", json!({"name": "Enterprise fenced", "scopes": ["admin"], "allowed_ips": ["203.0.113.0/24", "198.51.100.42", "2001:db8::/32"]}));
    for (ip, expect) in [
        ("203.0.113.7", "ok"),
        ("203.0.113.255", "ok"),
        ("203.0.114.1", "ip_not_allowed"),
        ("198.51.100.42", "ok"),
        ("198.51.100.43", "ip_not_allowed"),
        ("::ffff:203.0.113.9", "ok"),
        ("::ffff:198.51.100.42", "ok"),
        ("2001:db8:abcd::1", "ok"),
        ("2001:db9::1", "ip_not_allowed"),
        ("::1", "ip_not_allowed"),
        ("10.0.0.1", "ip_not_allowed"),
    ] {
        s.case(&format!("allowlisted key from {ip}"), expect, req_ip("GET", "/api/v1/campaigns", bearer(&fenced), ip));
    }
    s.case("allowlisted key without a client IP", "ip_not_allowed", req("GET", "/api/v1/campaigns", bearer(&fenced)));
    s.case(
        "unparseable client IP",
        "invalid_client_ip",
        req_ip("GET", "/api/v1/campaigns", bearer(&fenced), "203.0.113.7:443"),
    );
    let expired = s.mint_with("expired", "matcraft_live", json!({"name": "Old key", "scopes": ["admin"]}), |r| {
        r.expires_at = Some(t0() - Duration::days(1))
    });
    s.case("expired key is 401, not 403", "key_expired", req("DELETE", "/api/v1/campaigns/c1", bearer(&expired)));
    let revoked = s.mint_with("revoked", "matcraft_live", json!({"name": "Leaked key", "scopes": ["admin"]}), |r| {
        r.revoke(t0() - Duration::hours(1)).unwrap();
    });
    s.case("revoked key", "key_revoked", req("GET", "/api/v1/campaigns", bearer(&revoked)));
    s.case("malformed key", "wrong_length", req("GET", "/api/v1/campaigns", bearer("mc_live_sk_a1b2c3d4e5f6g7h8i9j0")));
    s.finish()
}

/// A key holding neither `campaigns:read` nor `datasets:read`.
fn s_key_without_read(s: &mut Suite) -> String {
    s.mint("templates only", "matcraft_live", json!({"name": "Templates only", "scopes": ["templates:read"]}))
}

fn matcraft_sandbox() -> VectorFile {
    let mut s = Suite::new(
        "seed001_matcraft_sandbox",
        "Seed 001 MatCraft sandbox: only mc_test_ keys are accepted",
        matcraft_config(&["test"]),
    );
    let sandbox = s.mint("sandbox", "matcraft_test", json!({"name": "Sandbox key", "scopes": ["campaigns:read"]}));
    let live = s.mint("live", "matcraft_live", json!({"name": "Live key", "scopes": ["admin"]}));
    s.case("test key in sandbox", "ok", req("GET", "/api/v1/campaigns", bearer(&sandbox)));
    s.case(
        "test key lacking scope in sandbox",
        "insufficient_scope",
        req("POST", "/api/v1/campaigns", bearer(&sandbox)),
    );
    s.case("live key at sandbox", "wrong_environment", req("GET", "/api/v1/campaigns", bearer(&live)));
    s.finish()
}
