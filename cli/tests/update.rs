//! `keyproof update`: every field, clearing, "no change", and core's refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{p, stdout_of, Env};
use predicates::prelude::*;
use serde_json::{json, Value};

fn setup(env: &Env) -> (String, Value) {
    let (_, rec) = env.mint(&[
        "--format",
        "keyproof_live",
        "--name",
        "patch me",
        "--scope",
        "briefs:read",
        "--role",
        "member",
        "--plan",
        "starter",
        "--feature",
        "reports",
        "--client-id",
        "client_1",
        "--expires",
        "90d",
    ]);
    let id = rec["id"].as_str().unwrap().to_string();
    (id, rec)
}

fn update(env: &Env, id: &str, args: &[&str]) -> Value {
    let mut all = vec!["update", id];
    all.extend_from_slice(args);
    let (code, v) = env.json(&all);
    assert_eq!(code, 0, "update {args:?}: {v}");
    v
}

fn each_field_is_set_and_cleared(env: &Env) {
    let (id, rec) = setup(env);
    let cases: Vec<(Vec<&str>, &str, Value)> = vec![
        (vec!["--name", "renamed key"], "name", json!("renamed key")),
        (vec!["--scopes", "briefs:read,matches:read"], "scopes", json!(["briefs:read", "matches:read"])),
        (vec!["--scopes", ""], "scopes", json!([])),
        (vec!["--role", "admin"], "role", json!("admin")),
        (vec!["--clear-role"], "role", Value::Null),
        (
            vec!["--allowed-ips", "203.0.113.0/24,198.51.100.4/32"],
            "allowed_ips",
            json!(["203.0.113.0/24", "198.51.100.4/32"]),
        ),
        (vec!["--allowed-ips", ""], "allowed_ips", Value::Null),
        (vec!["--expires-at", "2031-01-02T03:04:05Z"], "expires_at", json!("2031-01-02T03:04:05Z")),
        (vec!["--no-expiry"], "expires_at", Value::Null),
        (vec!["--plan", "pro"], "plan", json!("pro")),
        (vec!["--clear-plan"], "plan", Value::Null),
        (
            vec!["--rate-limits", r#"{"default": {"limit": 100, "burst": 20}}"#],
            "rate_limits",
            json!({"default": {"limit": 100, "period_seconds": 60, "burst": 20}}),
        ),
        (vec!["--rate-limits", "{}"], "rate_limits", Value::Null),
        (
            vec!["--usage-limit", r#"{"limit": 1000, "period": "month"}"#],
            "usage_limit",
            json!({"limit": 1000, "period": "month"}),
        ),
        (vec!["--clear-usage-limit"], "usage_limit", Value::Null),
        (vec!["--features", "reports,exports"], "features", json!(["reports", "exports"])),
        (vec!["--features", ""], "features", Value::Null),
        (vec!["--client-id", "client_2"], "client_id", json!("client_2")),
        (vec!["--clear-client-id"], "client_id", Value::Null),
        (
            vec!["--metadata", "tier=3", "--metadata", "team=\"billing\""],
            "metadata",
            json!({"team": "billing", "tier": 3}),
        ),
        (vec!["--unset-metadata", "tier"], "metadata", json!({"team": "billing"})),
        (vec!["--clear-metadata"], "metadata", Value::Null),
    ];
    let mut last_updated = rec["updated_at"].clone();
    for (i, (args, field, expected)) in cases.iter().enumerate() {
        let now = format!("2030-01-01T00:00:{i:02}Z");
        let mut all = vec!["--now", now.as_str()];
        all.extend_from_slice(args);
        let v = update(env, &id, &all);
        assert_eq!(v["changed"], true, "{args:?}");
        assert_eq!(v["record"][field], *expected, "{args:?}: {v}");
        assert_ne!(v["record"]["updated_at"], last_updated, "{args:?} must bump updated_at");
        last_updated = v["record"]["updated_at"].clone();
        // Stored, not only printed.
        let (_, shown) = env.json(&["show", &id]);
        assert_eq!(shown[field], *expected, "{args:?}");
    }
    // The record's identity never changes.
    let (_, shown) = env.json(&["show", &id]);
    for field in ["id", "hash", "fingerprint", "preview", "created_at", "format"] {
        assert_eq!(shown[field], rec[field], "{field}");
    }
}

fn several_fields_in_one_transaction_and_no_change(env: &Env) {
    let (id, _) = setup(env);
    let v = update(env, &id, &["--name", "both", "--allowed-ips", "10.0.0.0/8", "--plan", "pro"]);
    assert_eq!((v["record"]["name"].as_str(), v["record"]["plan"].as_str()), (Some("both"), Some("pro")));
    assert_eq!(v["record"]["allowed_ips"], json!(["10.0.0.0/8"]));
    // Same values again: reported as no change, nothing written.
    let v = update(env, &id, &["--name", "both", "--plan", "pro"]);
    assert_eq!(v["changed"], false);
    env.cmd().args(["update", &id, "--name", "both"]).assert().success().stdout(predicate::str::contains("no change"));
    // Human output on a change shows the record.
    let out = stdout_of(env.cmd().args(["update", &id, "--role", "owner"]));
    assert!(out.contains("updated.") && out.contains("role:") && out.contains("owner"), "{out}");
}

fn json_update_document(env: &Env) {
    let (id, _) = setup(env);
    let doc = env.write(
        "patch.json",
        r#"{"allowed_ips": ["203.0.113.0/24", "198.51.100.4/32"], "role": null, "metadata": {"k": [1, 2]}}"#,
    );
    let v = update(env, &id, &["--json-update", p(&doc)]);
    assert_eq!(v["record"]["allowed_ips"], json!(["203.0.113.0/24", "198.51.100.4/32"]));
    assert!(v["record"]["role"].is_null());
    assert_eq!(v["record"]["metadata"], json!({"k": [1, 2]}));
    // From stdin.
    let out = env
        .cmd()
        .args(["--json", "update", &id, "--json-update", "-"])
        .write_stdin(r#"{"name": "from stdin"}"#)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["record"]["name"], "from stdin");
    // Unknown fields and flags mixed with a document are refused.
    let bad = env.write("bad.json", r#"{"colour": "red"}"#);
    env.cmd()
        .args(["update", &id, "--json-update", p(&bad)])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: invalid_record:"));
    env.cmd()
        .args(["update", &id, "--json-update", p(&doc), "--name", "both"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: usage:"));
}

fn refusals_keep_the_record_unchanged(env: &Env) {
    let (id, _) = setup(env);
    let (_, before) = env.json(&["show", &id]);
    let cases: &[(&[&str], i32, &str)] = &[
        (&["--allowed-ips", "10.0.0.0/33"], 2, "error: invalid_cidr:"),
        (&["--allowed-ips", "10.0.0.0/8,nope"], 2, "error: invalid_cidr:"),
        (&["--allowed-ips", "10.0.0.0/8,,10.1.0.0/16"], 2, "error: usage:"),
        (&["--scopes", "a b"], 2, "error: invalid_scope:"),
        (&["--name", " padded "], 2, "error: invalid_name:"),
        (&["--expires-at", "tomorrow"], 2, "error: invalid_timestamp:"),
        (&["--client-id", "a b"], 2, "error: invalid_id:"),
        (&["--rate-limits", r#"{"default": {"limit": 1, "burst": 0}}"#], 2, "error: invalid_quota:"),
        (&["--rate-limits", "[1]"], 2, "error: usage:"),
        (&["--usage-limit", r#"{"limit": 0}"#], 2, "error: invalid_quota:"),
        (&["--usage-limit", r#"{"limit": 5, "period": "fortnight"}"#], 2, "error: usage:"),
        (&["--metadata", "novalue"], 2, "error: usage:"),
        (&["--metadata", "k=not json"], 2, "error: usage:"),
        (&["--role", "x", "--clear-role"], 2, "error: usage:"),
        (&[], 2, "error: usage: nothing to update"),
    ];
    for (args, code, prefix) in cases {
        let mut all = vec!["update", id.as_str()];
        all.extend_from_slice(args);
        env.cmd().args(&all).assert().code(*code).stderr(predicate::str::starts_with(*prefix));
    }
    let (_, after) = env.json(&["show", &id]);
    assert_eq!(before, after);
    env.cmd()
        .args(["update", "key_00000000", "--name", "ghost"])
        .assert()
        .code(4)
        .stderr(predicate::str::starts_with("error: unknown_id:"));
    // A revoked key cannot be changed: core's invalid_transition, exit 2.
    env.cmd().args(["revoke", &id]).assert().success();
    env.cmd()
        .args(["update", &id, "--name", "too late"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: invalid_transition:"));
    let (code, v) = env.json(&["update", &id, "--plan", "pro"]);
    assert_eq!((code, v["error"]["code"].as_str()), (2, Some("invalid_transition")));
}

common::on_every_store!(
    each_field_is_set_and_cleared,
    several_fields_in_one_transaction_and_no_change,
    json_update_document,
    refusals_keep_the_record_unchanged,
);
