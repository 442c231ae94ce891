//! verify and demo.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{stdout_of, Env};
use predicates::prelude::*;

const CONFIG: &str = r#"{
  "formats": ["keyproof_live", "keyproof_test"],
  "policy": {
    "environments": ["live"],
    "routes": [
      { "method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"] },
      { "method": "POST", "path": "/v1/briefs", "all_of": ["briefs:write"] }
    ],
    "plans": { "tiny": { "limit": 1, "period_seconds": 3600, "burst": 2 } },
    "default_plan": "tiny"
  }
}"#;

fn setup(env: &Env) -> (String, String) {
    env.write("policy.json", CONFIG);
    let (key, record) = env.mint(&["--format", "keyproof_live", "--name", "reader", "--scope", "briefs:read"]);
    (key, record["id"].as_str().unwrap().to_string())
}

fn allowed_denied_and_rate_limited(env: &Env) {
    let (key, id) = setup(env);
    let auth = format!("Authorization: Bearer {key}");
    let out = env
        .cmd()
        .args(["verify", "--policy", "policy.json", "-H", &auth, "--method", "GET", "--path", "/v1/briefs"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("ALLOWED 200 ok"))
        .stdout(predicate::str::contains("RateLimit: \"tiny\";r=1;"))
        .get_output()
        .stdout
        .clone();
    assert!(!String::from_utf8(out).unwrap().contains(&key));

    let (code, v) = env.json(&["verify", "--policy", "policy.json", "-H", &auth, "-X", "POST", "--path", "/v1/briefs"]);
    assert_eq!(code, 1);
    assert_eq!((v["status"].as_u64(), v["code"].as_str()), (Some(403), Some("insufficient_scope")));
    assert_eq!(v["body"]["missing_scope"], "briefs:write");

    let (code, v) = env.json(&["verify", "--policy", "policy.json", "-H", &auth, "--path", "/v1/briefs"]);
    assert_eq!((code, v["status"].as_u64()), (0, Some(200)));
    assert_eq!(v["principal"]["key_id"], id.as_str());
    // Burst of 2 spent: rate-limit state persisted across runs.
    let (code, v) = env.json(&["verify", "--policy", "policy.json", "-H", &auth, "--path", "/v1/briefs"]);
    assert_eq!((code, v["status"].as_u64(), v["code"].as_str()), (1, Some(429), Some("rate_limited")));
    assert!(!v.to_string().contains(&key));
}

fn authentication_failures_are_401(env: &Env) {
    let (key, id) = setup(env);
    let auth = format!("Authorization: Bearer {key}");
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", "--policy", "policy.json", "--path", "/v1/briefs"];
        args.extend_from_slice(extra);
        env.json(&args)
    };
    let (code, v) = verify(&[]);
    assert_eq!((code, v["status"].as_u64(), v["code"].as_str()), (1, Some(401), Some("missing_credentials")));
    let (_, v) = verify(&["-H", "Authorization: Bearer kp_live_nope"]);
    assert_eq!(
        (v["status"].as_u64(), v["code"].as_str(), v["public_code"].as_str()),
        (Some(401), Some("wrong_length"), Some("invalid_key"))
    );
    let (test_key, _) = env.mint(&["--format", "keyproof_test", "--name", "test env", "--scope", "briefs:read"]);
    let (_, v) = verify(&["-H", &format!("Authorization: Bearer {test_key}")]);
    assert_eq!(v["code"], "wrong_environment");
    env.cmd().args(["revoke", &id]).assert().success();
    let (code, v) = verify(&["-H", &auth]);
    assert_eq!((code, v["status"].as_u64(), v["code"].as_str()), (1, Some(401), Some("key_revoked")));
    // Malformed credentials are 401 invalid_token like an unknown key (core's vendor fidelity).
    let (_, v) = verify(&["-H", "Authorization: Bearer a b"]);
    assert_eq!((v["status"].as_u64(), v["code"].as_str()), (Some(401), Some("malformed_authorization")));
    let (_, v) = env.json(&["verify", "--policy", "policy.json", "--path", "/v1/../x", "-H", &auth]);
    assert_eq!((v["status"].as_u64(), v["code"].as_str()), (Some(400), Some("invalid_path")));
}

fn ip_allowlist_and_rotation_headers(env: &Env) {
    setup(env);
    let (key, rec) = env.mint(&[
        "--format",
        "keyproof_live",
        "--name",
        "office",
        "--scope",
        "briefs:read",
        "--allow-ip",
        "203.0.113.0/24",
    ]);
    let auth = format!("Authorization: Bearer {key}");
    let base = ["verify", "--policy", "policy.json", "--path", "/v1/briefs", "-H"];
    let (code, _) = env.json(&[&base[..], &[auth.as_str(), "--ip", "203.0.113.9"]].concat());
    assert_eq!(code, 0);
    let (code, v) = env.json(&[&base[..], &[auth.as_str(), "--ip", "198.51.100.1"]].concat());
    assert_eq!((code, v["status"].as_u64(), v["code"].as_str()), (1, Some(403), Some("ip_not_allowed")));
    env.cmd().args(["rotate", rec["id"].as_str().unwrap()]).assert().success();
    let out = stdout_of(env.cmd().args([&base[..], &[auth.as_str(), "--ip", "203.0.113.9"]].concat()));
    assert!(out.starts_with("ALLOWED 200"), "{out}");
    assert!(out.contains("rotation_grace") && out.contains("Sunset:") && out.contains("Deprecation:"), "{out}");
}

fn origin_allowlist_from_mint_to_update(env: &Env) {
    // No plan: every allowed request passes the rate limit.
    let open = r#"{"formats": ["keyproof_live"], "policy": {"routes": [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}]}}"#;
    env.write("open.json", open);
    let (key, rec) = env.mint(&[
        "--format",
        "keyproof_live",
        "--name",
        "storefront",
        "--scope",
        "briefs:read",
        "--allow-origin",
        "HTTPS://Shop.Example.com:443",
        "--allow-origin",
        "http://localhost:3000",
    ]);
    assert_eq!(rec["allowed_origins"], serde_json::json!(["https://shop.example.com", "http://localhost:3000"]));
    let id = rec["id"].as_str().unwrap();
    let auth = format!("Authorization: Bearer {key}");
    let from = |origin: Option<&str>| {
        let header = origin.map(|o| format!("Origin: {o}"));
        let mut args = vec!["verify", "--policy", "open.json", "--path", "/v1/briefs", "-H", auth.as_str()];
        if let Some(h) = &header {
            args.extend(["-H", h.as_str()]);
        }
        let (code, v) = env.json(&args);
        (code, v["code"].as_str().map(str::to_string))
    };
    assert_eq!(from(Some("https://shop.example.com")), (0, Some("ok".into())));
    assert_eq!(from(Some("https://evil.example")), (1, Some("origin_not_allowed".into())));
    assert_eq!(from(None), (1, Some("origin_not_allowed".into())));
    let show = stdout_of(env.cmd().args(["show", id]));
    assert!(show.contains("https://shop.example.com http://localhost:3000"), "{show}");
    env.cmd()
        .args(["update", id, "--allowed-origins", "shop.example.com"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error: invalid_origin:"));
    env.cmd().args(["update", id, "--allowed-origins", "https://*.example.com"]).assert().success();
    assert_eq!(from(Some("https://eu.example.com")), (0, Some("ok".into())));
    env.cmd().args(["update", id, "--allowed-origins", ""]).assert().success();
    assert_eq!(from(None), (0, Some("ok".into())));
    env.cmd()
        .args(["mint", "--format", "keyproof_live", "--name", "bad", "--allow-origin", "https://*.com"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error: invalid_origin:"));
}

fn headers_from_stdin_and_bare_policy(env: &Env) {
    let (key, _) = setup(env);
    env.write("bare.json", r#"{"routes": [{"method": "GET", "path": "/v1/briefs"}]}"#);
    env.cmd()
        .args(["verify", "--policy", "bare.json", "--headers-from", "-", "--path", "/v1/briefs"])
        .write_stdin(format!("Authorization: Bearer {key}\n"))
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("ALLOWED 200"));
}

fn verify_bad_input(env: &Env) {
    let (key, _) = setup(env);
    env.write("broken.json", "{");
    env.write("invalid.json", r#"{"policy": {}, "formats": ["no_such_preset"]}"#);
    let auth = format!("Authorization: Bearer {key}");
    env.cmd()
        .args(["verify", "--policy", "broken.json", "--path", "/x", "-H", &auth])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: invalid_policy:"));
    env.cmd()
        .args(["verify", "--policy", "invalid.json", "--path", "/x", "-H", &auth])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: unknown_format:"));
    env.cmd().args(["verify", "--policy", "policy.json", "--path", "/x", "-H", "no colon"]).assert().code(2);
    env.cmd().args(["verify", "--policy", "missing.json", "--path", "/x"]).assert().code(5);
    env.cmd()
        .args(["--store", "nostore.db", "verify", "--policy", "policy.json", "--path", "/x"])
        .assert()
        .code(3)
        .stderr(predicate::str::starts_with("error: store_error:"));
}

#[test]
fn demo_covers_every_status() {
    let env = Env::new();
    let dir = env.path("demo");
    let (code, v) = env.json(&["demo", "--dir", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    assert!(dir.join("keyproof.db").exists() && dir.join("policy.json").exists());
    let statuses: std::collections::BTreeSet<u64> =
        v["requests"].as_array().unwrap().iter().map(|r| r["status"].as_u64().unwrap()).collect();
    for s in [200, 400, 401, 403, 429] {
        assert!(statuses.contains(&s), "status {s} missing: {statuses:?}");
    }
    // The demo store is usable afterwards, and holds no plaintext key.
    let (code, list) = env.json(&["--store", dir.join("keyproof.db").to_str().unwrap(), "list"]);
    assert_eq!(code, 0);
    assert!(list["keys"].as_array().unwrap().len() >= 5);
    // Running it again in the same directory is refused.
    env.cmd().args(["demo", "--dir", dir.to_str().unwrap()]).assert().code(2);
    // Human output: a table.
    let human = env.path("demo2");
    let out = stdout_of(env.cmd().args(["demo", "--dir", human.to_str().unwrap()]));
    assert!(out.contains("SAMPLE") && out.contains("429") && out.contains("rate_limited"), "{out}");
}

fn verify_upgrades_a_legacy_hash_once_the_key_proves_itself(env: &Env) {
    let (key, id) = setup(env);
    // A bare policy: the hasher follows KEYPROOF_PEPPER (hmac-sha256 when set).
    let config: serde_json::Value = serde_json::from_str(CONFIG).unwrap();
    env.write("bare.json", &config["policy"].to_string());
    let auth = format!("Authorization: Bearer {key}");
    let (_, before) = env.json(&["show", &id]);
    assert!(before["hash"].as_str().unwrap().starts_with("sha256:"));
    let pepper = "a-pepper-of-at-least-16-bytes";
    let out = env
        .cmd()
        .env("KEYPROOF_PEPPER", pepper)
        .args(["--json", "verify", "--policy", "bare.json", "-H", &auth, "--path", "/v1/briefs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let (_, after) = env.json(&["show", &id]);
    assert!(after["hash"].as_str().unwrap().starts_with("hmac-sha256:"), "{after}");
    assert_ne!(after["fingerprint"], before["fingerprint"]);
    // The upgraded record still verifies with the pepper, and no longer without it.
    let again = env
        .cmd()
        .env("KEYPROOF_PEPPER", pepper)
        .args(["verify", "--policy", "bare.json", "-H", &auth, "--path", "/v1/briefs"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0));
    let (code, _) = env.json(&["verify", "--policy", "bare.json", "-H", &auth, "--path", "/v1/briefs"]);
    assert_eq!(code, 1);
}

/// A usage limit is counted across runs in the store, beside the rate-limit buckets.
fn usage_limit_is_counted_across_runs(env: &Env) {
    env.write("policy.json", CONFIG);
    let (key, record) = env.mint(&[
        "--format",
        "keyproof_live",
        "--name",
        "metered",
        "--scope",
        "briefs:read",
        "--usage-limit",
        r#"{"limit": 5}"#,
    ]);
    let (auth, id) = (format!("Authorization: Bearer {key}"), record["id"].as_str().unwrap().to_string());
    let verify = ["verify", "--policy", "policy.json", "-H", &auth, "--path", "/v1/briefs"];
    let priced = |units: &'static str| [&verify[..], &["--usage-cost", units]].concat();
    // Priced by the caller: 4 units leave 1, 2 more would not fit (and spend no rate limit), the route's cost
    // spends the last (the plan's burst of 2 allows two requests).
    let (code, v) = env.json(&priced("4"));
    assert_eq!((code, v["code"].as_str(), v["usage"]["remaining"].as_u64()), (0, Some("ok"), Some(1)));
    let (code, v) = env.json(&priced("2"));
    assert_eq!((code, v["code"].as_str(), v["usage"]["remaining"].as_u64()), (1, Some("usage_exceeded"), Some(1)));
    let (code, v) = env.json(&verify);
    assert_eq!((code, v["code"].as_str(), v["usage"]["remaining"].as_u64()), (0, Some("ok"), Some(0)));
    // `show` reads what is left from the same counter.
    let (code, shown) = env.json(&["show", id.as_str()]);
    assert_eq!((code, shown["usage"]["remaining"].as_u64(), shown["usage"]["limit"].as_u64()), (0, Some(0), Some(5)));
    let text = env.cmd().args(["show", id.as_str()]).assert().code(0);
    text.stdout(predicate::str::contains("usage:").and(predicate::str::contains("0 of 5 left (total)")));
    env.cmd().args(priced("-1")).assert().code(2);
    let bad = env.cmd().args(["mint", "--format", "keyproof_live", "--name", "bad", "--usage-limit", "{}"]).assert();
    bad.code(2).stderr(predicate::str::contains("--usage-limit takes JSON"));
}

/// `charge` spends after the fact from the same counter `verify` reads.
fn charge_spends_what_is_left_and_reports_the_rest(env: &Env) {
    env.write("policy.json", CONFIG);
    let metered = ["--format", "keyproof_live", "--name", "metered", "--scope", "briefs:read"];
    let (key, record) = env.mint(&[&metered[..], &["--usage-limit", r#"{"limit": 10}"#]].concat());
    let id = record["id"].as_str().unwrap().to_string();
    let (code, c) = env.json(&["charge", id.as_str(), "7"]);
    assert_eq!((code, c["unpaid"].as_u64(), c["usage"]["remaining"].as_u64()), (0, Some(0), Some(3)));
    let text = env.cmd().args(["charge", id.as_str(), "5"]).assert().code(0);
    text.stdout(predicate::str::contains("charged 3 of 5 units (2 unpaid); 0 of 10 left"));
    let (code, r) = env.json(&["refund", id.as_str(), "4"]);
    assert_eq!((code, r["unpaid"].as_u64(), r["usage"]["remaining"].as_u64()), (0, Some(0), Some(4)));
    let text = env.cmd().args(["refund", id.as_str(), "20"]).assert().code(0);
    text.stdout(predicate::str::contains("refunded 6 of 20 units (14 unpaid); 10 of 10 left"));
    env.json(&["charge", id.as_str(), "10"]);
    let auth = format!("Authorization: Bearer {key}");
    let (code, v) = env.json(&["verify", "--policy", "policy.json", "-H", &auth, "--path", "/v1/briefs"]);
    assert_eq!((code, v["code"].as_str()), (1, Some("usage_exceeded")));
    let (_, plain) = env.mint(&metered);
    let plain_id = plain["id"].as_str().unwrap();
    env.cmd().args(["charge", plain_id, "1"]).assert().code(2).stderr(predicate::str::contains("no usage limit"));
    env.cmd().args(["charge", id.as_str(), "-3"]).assert().code(2);
}

common::on_every_store!(
    charge_spends_what_is_left_and_reports_the_rest,
    usage_limit_is_counted_across_runs,
    allowed_denied_and_rate_limited,
    authentication_failures_are_401,
    ip_allowlist_and_rotation_headers,
    origin_allowlist_from_mint_to_update,
    headers_from_stdin_and_bare_policy,
    verify_bad_input,
    verify_upgrades_a_legacy_hash_once_the_key_proves_itself,
);
