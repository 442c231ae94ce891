//! token issue / inspect / verify and jwks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::Env;
use predicates::prelude::*;
use serde_json::{json, Value};

const NOW: &str = "2026-03-18T10:30:00Z";

/// A store with one key and a config whose token key `jwks --generate` made.
fn setup(env: &Env) -> (String, String) {
    let (code, jwk) = env.json(&["jwks", "--generate", "ed-1"]);
    assert_eq!(code, 0);
    assert_eq!((jwk["kty"].as_str(), jwk["kid"].as_str()), (Some("OKP"), Some("ed-1")));
    let config = json!({
        "formats": ["keyproof_live"],
        "policy": {"routes": [
            {"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]},
            {"method": "POST", "path": "/v1/briefs", "all_of": ["briefs:write"]}
        ]},
        "tokens": {"issuer": "https://issuer.test/", "audience": "https://api.test/", "lifetime_seconds": 600, "keys": [jwk]},
    });
    env.write("config.json", &config.to_string());
    let (key, record) = env.mint(&[
        "--format",
        "keyproof_live",
        "--name",
        "writer",
        "--scope",
        "briefs:read",
        "--scope",
        "briefs:write",
    ]);
    (key, record["id"].as_str().unwrap().to_string())
}

fn issue(env: &Env, id: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["--now", NOW, "token", "issue", id, "--policy", "config.json"];
    args.extend_from_slice(extra);
    env.json(&args)
}

fn issue_verify_inspect_and_jwks(env: &Env) {
    let (key, id) = setup(env);
    let (code, v) = issue(env, &id, &["--scope", "briefs:read", "--lifetime", "300"]);
    assert_eq!(code, 0, "{v}");
    let token = v["access_token"].as_str().unwrap().to_string();
    assert_eq!((v["expires_in"].as_i64(), v["kid"].as_str()), (Some(300), Some("ed-1")));
    assert_eq!(v["claims"]["scope"], "briefs:read");
    assert!(!v.to_string().contains(&key));

    let (code, v) = env.json(&["--now", NOW, "token", "verify", &token, "--policy", "config.json"]);
    assert_eq!((code, v["valid"].as_bool(), v["claims"]["key_id"].as_str()), (0, Some(true), Some(id.as_str())));
    let later = "2026-03-18T10:36:00Z";
    let (code, v) = env.json(&["--now", later, "token", "verify", &token, "--policy", "config.json"]);
    assert_eq!((code, v["code"].as_str()), (1, Some("token_expired")));
    // The signature's first character carries 6 whole bits (changing the last one
    // could leave non-zero padding bits: malformed rather than a bad signature).
    let signature = token.rfind('.').unwrap() + 1;
    let swapped = if &token[signature..=signature] == "A" { "B" } else { "A" };
    let tampered = format!("{}{swapped}{}", &token[..signature], &token[signature + 1..]);
    env.cmd()
        .args(["--now", NOW, "token", "verify", "-", "--policy", "config.json"])
        .write_stdin(tampered)
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("INVALID bad_token_signature"));

    let (code, v) = env.json(&["token", "inspect", &token]);
    assert_eq!((code, v["verified"].as_bool(), v["header"]["typ"].as_str()), (0, Some(false), Some("at+jwt")));
    env.cmd().args(["token", "inspect", &token]).assert().success().stdout(predicate::str::starts_with("NOT VERIFIED"));

    let (code, v) = env.json(&["jwks", "--policy", "config.json"]);
    assert_eq!((code, v["keys"][0]["kid"].as_str()), (0, Some("ed-1")));
    assert!(v["keys"][0].get("d").is_none(), "the private key is never published");
}

fn tokens_pass_the_engine_and_revocation_stops_them(env: &Env) {
    let (_, id) = setup(env);
    let (_, v) = issue(env, &id, &["--scope", "briefs:read"]);
    let auth = format!("Authorization: Bearer {}", v["access_token"].as_str().unwrap());
    let verify = |method: &str| -> (i32, Value) {
        env.json(&[
            "--now",
            NOW,
            "verify",
            "--policy",
            "config.json",
            "-H",
            &auth,
            "-X",
            method,
            "--path",
            "/v1/briefs",
        ])
    };
    let (code, v) = verify("GET");
    assert_eq!((code, v["code"].as_str(), v["token"]["record_confirmed"].as_bool()), (0, Some("ok"), Some(true)));
    assert_eq!(v["principal"]["key_id"], id.as_str());
    let (code, v) = verify("POST"); // narrowed to briefs:read: the key's briefs:write does not come along
    assert_eq!((code, v["code"].as_str()), (1, Some("insufficient_scope")));
    env.cmd().args(["revoke", &id]).assert().success();
    let (code, v) = verify("GET");
    assert_eq!((code, v["status"].as_u64(), v["code"].as_str()), (1, Some(401), Some("key_revoked")));
}

fn tokens_never_gain_what_the_key_lacks(env: &Env) {
    let (_, id) = setup(env);
    let (code, v) = issue(env, &id, &["--scope", "admin"]);
    assert_eq!((code, v["error"]["code"].as_str()), (1, Some("scope_not_granted")));
    let (code, v) = issue(env, &id, &["--route", "/v1/admin"]);
    assert_eq!((code, v["error"]["code"].as_str()), (1, Some("scope_not_granted")));
    let (code, v) = issue(env, &id, &["--lifetime", "601"]);
    assert_eq!((code, v["error"]["code"].as_str()), (1, Some("scope_not_granted")));
    env.write("plain.json", r#"{"formats": ["keyproof_live"]}"#);
    let (code, v) = env.json(&["jwks", "--policy", "plain.json"]);
    assert_eq!((code, v["error"]["code"].as_str()), (2, Some("usage")));
}

common::on_every_store!(
    issue_verify_inspect_and_jwks,
    tokens_pass_the_engine_and_revocation_stops_them,
    tokens_never_gain_what_the_key_lacks,
);
