//! Vectors for seeds 002 (Matatika), 003 (tmmate) and 004 (Authmatech).

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::{bearer, req, t0, Suite, VectorFile};

pub fn all() -> Vec<VectorFile> {
    vec![matatika(), tmmate(), authmatech()]
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn basic(id: &str, secret: &str) -> Vec<(String, String)> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    vec![("Authorization".into(), format!("Basic {encoded}"))]
}

fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

fn matatika() -> VectorFile {
    let mut s = Suite::new(
        "seed002_matatika",
        "Seed 002 Matatika: UUID key ids, client id + client secret shown once, sent as HTTP Basic",
        json!({
            "formats": ["matatika_client_secret"],
            "policy": {
                "realm": "app.matatika.com",
                "credentials": {"methods": ["basic"]},
                "unknown_routes": "authenticate",
                "routes": [
                    {"method": ["GET", "POST"], "path": "/api/apikeys", "credential_kinds": ["client_secret"]},
                    {"method": ["GET", "PUT", "DELETE"], "path": "/api/apikeys/{id}", "credential_kinds": ["client_secret"]},
                    {"method": "*", "path": "/api/**", "credential_kinds": ["client_secret"]}
                ]
            }
        }),
    );
    let profile = json!({"profile": "auth0|5eb0327cbfd7490bff55feeb"});
    let sit = s.mint(
        "sit",
        "matatika_client_secret",
        json!({"name": "SIT-generated api key", "generate_client_id": true, "owner": profile}),
    );
    let sit_id = s.records.last().unwrap().client_id.clone().unwrap();
    let default = s.mint(
        "default",
        "matatika_client_secret",
        json!({"name": "default", "generate_client_id": true, "owner": profile}),
    );
    let default_id = s.records.last().unwrap().client_id.clone().unwrap();
    for path in
        ["/api/apikeys", "/api/apikeys/9904cf92-2202-48c0-a751-a9724e32c98e", "/api/workspaces", "/api/profiles/me"]
    {
        s.case(&format!("client credentials GET {path}"), "ok", req("GET", path, basic(&sit_id, &sit)));
    }
    s.case(
        "second key's own pair",
        "ok",
        req("DELETE", "/api/apikeys/6418582c-d796-4fc9-b3e3-228d1c956a3b", basic(&default_id, &default)),
    );
    s.case(
        "secret with another key's client id",
        "client_id_mismatch",
        req("GET", "/api/apikeys", basic(&default_id, &sit)),
    );
    s.case(
        "unknown client id",
        "client_id_mismatch",
        req("GET", "/api/apikeys", basic("UajESGdi9hMM9v3IsPv7NLYZfJ1uo53i", &sit)),
    );
    let wrong = format!("{}{}", &sit[..63], if sit.ends_with('a') { "b" } else { "a" });
    s.case("wrong secret", "unknown_key", req("GET", "/api/apikeys", basic(&sit_id, &wrong)));
    s.case("secret of the wrong length", "wrong_length", req("GET", "/api/apikeys", basic(&sit_id, "tooshort")));
    s.case(
        "Basic credentials not base64",
        "invalid_basic_credentials",
        req("GET", "/api/apikeys", h(&[("Authorization", "Basic %%%not-base64%%%")])),
    );
    let no_colon = base64::engine::general_purpose::STANDARD.encode(&sit);
    s.case(
        "Basic credentials without a colon",
        "invalid_basic_credentials",
        req("GET", "/api/apikeys", h(&[("Authorization", &format!("Basic {no_colon}"))])),
    );
    let empty_id = base64::engine::general_purpose::STANDARD.encode(format!(":{sit}"));
    s.case(
        "Basic credentials with an empty client id",
        "invalid_basic_credentials",
        req("GET", "/api/apikeys", h(&[("Authorization", &format!("Basic {empty_id}"))])),
    );
    s.case("empty Basic credentials", "empty_token", req("GET", "/api/apikeys", h(&[("Authorization", "Basic ")])));
    s.case("Bearer is not accepted here", "missing_credentials", req("GET", "/api/apikeys", bearer(&sit)));
    let mut conflicting = basic(&sit_id, &sit);
    conflicting.push(("X-Client-Id".into(), default_id.clone()));
    s.case(
        "Basic client id disagrees with X-CLIENT-ID",
        "conflicting_credentials",
        req("GET", "/api/apikeys", conflicting),
    );
    let deleted = s.mint_with(
        "deleted",
        "matatika_client_secret",
        json!({"name": "deleted key", "generate_client_id": true}),
        |r| {
            r.revoke(t0() - Duration::days(2)).unwrap();
        },
    );
    let deleted_id = s.records.last().unwrap().client_id.clone().unwrap();
    s.case("deleted key", "key_revoked", req("GET", "/api/apikeys", basic(&deleted_id, &deleted)));
    s.finish()
}

const TMMATE_ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/api/v1/capabilities", "admin"),
    ("POST", "/api/v1/agents/ag_1/run", "admin"),
    ("GET", "/api/v1/agents", "admin"),
    ("POST", "/api/v1/kb/documents", "admin"),
    ("POST", "/api/v1/kb/search", "member"),
    ("POST", "/api/v1/kb/query", "member"),
    ("GET", "/api/v1/kb/status", "member"),
    ("POST", "/api/v1/kb/embeddings", "member"),
];

fn tmmate() -> VectorFile {
    let mut s = Suite::new(
        "seed003_tmmate",
        "Seed 003 tmmate: sk_prod_ + 32 hex, keys inherit the user's role (member < admin), expiry presets 15d..1y",
        json!({
            "formats": ["tmmate_prod"],
            "policy": {
                "realm": "tmmate.ai",
                "roles": ["member", "admin"],
                "routes": [
                    {"method": "GET", "path": "/api/v1/capabilities", "role": "admin"},
                    {"method": "*", "path": "/api/v1/agents/**", "role": "admin"},
                    {"method": "GET", "path": "/api/v1/agents", "role": "admin"},
                    {"method": "*", "path": "/api/v1/kb/documents", "role": "admin"},
                    {"method": "POST", "path": "/api/v1/kb/{op}", "role": "member"},
                    {"method": "GET", "path": "/api/v1/kb/status", "role": "member"}
                ]
            }
        }),
    );
    let ws = json!({"workspace": "ws_42"});
    let admin = s.mint(
        "admin",
        "tmmate_prod",
        json!({"name": "Ops admin key", "role": "admin", "owner": ws, "expires_in": "1y"}),
    );
    let member = s.mint(
        "member",
        "tmmate_prod",
        json!({"name": "Support bot", "role": "member", "owner": ws, "expires_in": "6m"}),
    );
    let guest = s.mint("guest", "tmmate_prod", json!({"name": "Guest key", "role": "guest", "owner": ws}));
    let roleless = s.mint("roleless", "tmmate_prod", json!({"name": "No role", "owner": ws}));
    for (label, key, rank) in
        [("admin", &admin, 2), ("member", &member, 1), ("guest", &guest, 0), ("roleless", &roleless, 0)]
    {
        for (method, path, needed) in TMMATE_ROUTES {
            let need = if *needed == "admin" { 2 } else { 1 };
            let expect = if rank >= need { "ok" } else { "insufficient_role" };
            s.case(&format!("{label} key {method} {path}"), expect, req(method, path, bearer(key)));
        }
    }
    // Presets counted from the mint time 2026-02-16T10:30:00Z (t0 - 30 days); months are calendar months.
    for (preset, expiry) in [
        ("15d", "2026-03-03T10:30:00Z"),
        ("25d", "2026-03-13T10:30:00Z"),
        ("45d", "2026-04-02T10:30:00Z"),
        ("90d", "2026-05-17T10:30:00Z"),
        ("6m", "2026-08-16T10:30:00Z"),
        ("1y", "2027-02-16T10:30:00Z"),
    ] {
        let key = s.mint(
            &format!("preset {preset}"),
            "tmmate_prod",
            json!({"name": format!("Expires {preset}"), "role": "member", "expires_in": preset}),
        );
        assert_eq!(s.records.last().unwrap().expires_at, Some(at(expiry)), "{preset}");
        let path = "/api/v1/kb/status";
        s.case_full(
            &format!("{preset} key one second before expiry"),
            "ok",
            req("GET", path, bearer(&key)),
            at(expiry) - Duration::seconds(1),
            None,
            None,
        );
        s.case_full(
            &format!("{preset} key at expiry"),
            "key_expired",
            req("GET", path, bearer(&key)),
            at(expiry),
            None,
            None,
        );
    }
    let deactivated = s.mint_with("deactivated", "tmmate_prod", json!({"name": "Deactivated", "role": "admin"}), |r| {
        r.disable(t0()).unwrap();
    });
    s.case("deactivated key", "key_disabled", req("GET", "/api/v1/capabilities", bearer(&deactivated)));
    s.case("missing key", "missing_credentials", req("GET", "/api/v1/capabilities", vec![]));
    s.case(
        "upper-case hex is malformed",
        "bad_character",
        req("GET", "/api/v1/kb/status", bearer("sk_prod_3F9A1C7E2B8D4056A1C2E3F40516A7B8")),
    );
    s.case(
        "the documentation's example key",
        "unknown_key",
        req("GET", "/api/v1/kb/status", bearer("sk_prod_3f9a1c7e2b8d4056a1c2e3f40516a7b8")),
    );
    s.case(
        "placeholder key",
        "bad_character",
        req("GET", "/api/v1/kb/status", bearer("sk_prod_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")),
    );
    s.finish()
}

fn authmatech() -> VectorFile {
    let mut s = Suite::new(
        "seed004_authmatech",
        "Seed 004 Authmatech: X-API-KEY + X-CLIENT-ID on every request, SDK token only for /v1/api/sdk/session, client secret gates rotation, 400 when a feature is off",
        json!({
            "formats": ["authmatech_api_key", "authmatech_sdk_token", "authmatech_client_secret"],
            "policy": {
                "realm": "api.authmatech.com",
                "credentials": {"methods": ["api_key_header", "sdk_token"]},
                "require_client_id": true,
                "routes": [
                    {"method": "POST", "path": "/v1/api/sdk/session", "credential_kinds": ["sdk_token"]},
                    {"method": "POST", "path": "/v1/api/verify", "credential_kinds": ["secret"], "feature": "verify"},
                    {"method": "POST", "path": "/v1/api/me/api-key/rotate", "credential_kinds": ["client_secret"]},
                    {"method": "POST", "path": "/v1/api/clients/rotate-key", "credential_kinds": ["client_secret"]},
                    {"method": "*", "path": "/v1/api/**", "credential_kinds": ["secret"]}
                ]
            }
        }),
    );
    let account = "amc_4Jr8TqZ2xVb9";
    let other = "amc_Other0000001";
    let with_verify = json!({"name": "Backend key", "client_id": account, "features": ["verify", "sdk"]});
    let key = s.mint("api key", "authmatech_api_key", with_verify);
    let sdk = s.mint(
        "sdk token",
        "authmatech_sdk_token",
        json!({"name": "Web SDK", "client_id": account, "features": ["sdk"]}),
    );
    let secret =
        s.mint("client secret", "authmatech_client_secret", json!({"name": "Client secret", "client_id": account}));
    let basic_plan = s.mint("no verify", "authmatech_api_key", json!({"name": "Basic plan key", "client_id": other}));
    let api = |k: &str, c: &str| h(&[("X-API-KEY", k), ("X-CLIENT-ID", c)]);
    let sdk_h = |k: &str, c: &str| h(&[("X-SDK-TOKEN", k), ("X-CLIENT-ID", c)]);
    s.case("api key with client id", "ok", req("GET", "/v1/api/account", api(&key, account)));
    s.case(
        "header names are case-insensitive",
        "ok",
        req("GET", "/v1/api/account", h(&[("x-api-key", &key), ("x-client-id", account)])),
    );
    s.case("verify with the feature", "ok", req("POST", "/v1/api/verify", api(&key, account)));
    s.case(
        "verify without the feature is 400",
        "feature_not_enabled",
        req("POST", "/v1/api/verify", api(&basic_plan, other)),
    );
    s.case("missing X-CLIENT-ID", "missing_client_id", req("GET", "/v1/api/account", h(&[("X-API-KEY", &key)])));
    s.case("missing X-API-KEY", "missing_credentials", req("GET", "/v1/api/account", h(&[("X-CLIENT-ID", account)])));
    s.case("empty X-CLIENT-ID", "empty_token", req("GET", "/v1/api/account", api(&key, "")));
    s.case("client id of another account", "client_id_mismatch", req("GET", "/v1/api/account", api(&key, other)));
    s.case("SDK token opens a session", "ok", req("POST", "/v1/api/sdk/session", sdk_h(&sdk, account)));
    s.case("SDK token in X-API-KEY opens a session too", "ok", req("POST", "/v1/api/sdk/session", api(&sdk, account)));
    s.case(
        "SDK token cannot call verify",
        "credential_kind_not_allowed",
        req("POST", "/v1/api/verify", sdk_h(&sdk, account)),
    );
    s.case(
        "SDK token cannot call server APIs",
        "credential_kind_not_allowed",
        req("GET", "/v1/api/account", sdk_h(&sdk, account)),
    );
    s.case(
        "API key is not an SDK token",
        "credential_kind_not_allowed",
        req("POST", "/v1/api/sdk/session", api(&key, account)),
    );
    s.case("client secret rotates the key", "ok", req("POST", "/v1/api/me/api-key/rotate", api(&secret, account)));
    s.case("client secret rotates by client", "ok", req("POST", "/v1/api/clients/rotate-key", api(&secret, account)));
    s.case(
        "API key cannot rotate",
        "credential_kind_not_allowed",
        req("POST", "/v1/api/me/api-key/rotate", api(&key, account)),
    );
    s.case(
        "client secret is not a server key",
        "credential_kind_not_allowed",
        req("GET", "/v1/api/account", api(&secret, account)),
    );
    s.case(
        "two different credentials",
        "conflicting_credentials",
        req("GET", "/v1/api/account", h(&[("X-API-KEY", &key), ("X-SDK-TOKEN", &sdk), ("X-CLIENT-ID", account)])),
    );
    s.case(
        "X-API-KEY twice",
        "duplicate_header",
        req("GET", "/v1/api/account", h(&[("X-API-KEY", &key), ("x-api-key", &key), ("X-CLIENT-ID", account)])),
    );
    s.case(
        "X-CLIENT-ID twice",
        "duplicate_header",
        req("GET", "/v1/api/account", h(&[("X-API-KEY", &key), ("X-CLIENT-ID", account), ("X-CLIENT-ID", account)])),
    );
    let flipped = format!("{}{}", &key[..key.len() - 1], if key.ends_with('0') { "1" } else { "0" });
    s.case(
        "one changed character fails the checksum",
        "bad_checksum",
        req("GET", "/v1/api/account", api(&flipped, account)),
    );
    s.case(
        "Bearer is not accepted here",
        "missing_credentials",
        req("GET", "/v1/api/account", {
            let mut v = bearer(&key);
            v.push(("X-CLIENT-ID".into(), account.into()));
            v
        }),
    );
    s.case("route outside the API", "route_not_allowed", req("GET", "/v2/other", api(&key, account)));
    s.finish()
}
