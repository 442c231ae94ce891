//! mint, list, show, rotate, revoke, disable, enable; bad input and exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{stdout_of, Env};
use predicates::prelude::*;

fn mint_prints_key_once_and_stores_record(env: &Env) {
    let out = env
        .cmd()
        .args(["mint", "--format", "keyproof_live", "--name", "CI deploy", "--scope", "briefs:read"])
        .args(["--scope", "matches:read", "--role", "member", "--expires", "90d", "--allow-ip", "10.0.0.0/8"])
        .args(["--plan", "starter", "--id-style", "prefixed"])
        .assert()
        .success()
        .stdout(predicate::str::contains("shown only once"))
        .stdout(predicate::str::contains("kp_live_"))
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let key = text.split_whitespace().find(|w| w.starts_with("kp_live_") && !w.contains('…')).unwrap();
    assert_eq!(key.len(), 44);
    assert!(env.store_exists());

    let (code, list) = env.json(&["list"]);
    assert_eq!(code, 0);
    let keys = list["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let rec = &keys[0];
    assert!(rec["id"].as_str().unwrap().starts_with("key_"));
    assert_eq!(rec["scopes"], serde_json::json!(["briefs:read", "matches:read"]));
    assert_eq!(rec["allowed_ips"], serde_json::json!(["10.0.0.0/8"]));
    assert_eq!(rec["plan"], "starter");
    assert_eq!(rec["role"], "member");
    assert_eq!(rec["effective_status"], "active");
    assert!(rec["expires_at"].is_string());
}

fn json_mint_has_key_and_record(env: &Env) {
    let (key, record) = env.mint(&["--format", "github_pat", "--name", "bot token", "--generate-client-id"]);
    assert!(key.starts_with("ghp_"));
    assert_eq!(record["format"], "github_pat");
    assert!(record["hash"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(record["client_id"].as_str().unwrap().len(), 32);
    assert!(!record.to_string().contains(&key));
    let (_, record2) = env.mint(&["--format", "keyproof_test", "--name", "bound", "--client-id", "client_123"]);
    assert_eq!(record2["client_id"], "client_123");
}

fn no_secret_in_list_show_or_inspect(env: &Env) {
    let (key, record) = env.mint(&["--format", "keyproof_live", "--name", "secret check", "--scope", "a:b"]);
    let id = record["id"].as_str().unwrap();
    let secret_body = &key["kp_live_".len()..];
    for args in [
        vec!["list"],
        vec!["--json", "list"],
        vec!["show", id],
        vec!["--json", "show", id],
        vec!["inspect", &key],
        vec!["--json", "inspect", &key],
    ] {
        let out = env.cmd().args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!all.contains(secret_body), "{args:?} leaked the key");
        assert!(all.contains(record["preview"].as_str().unwrap()) || args.contains(&"list"), "{args:?}");
    }
    let show = stdout_of(env.cmd().args(["show", id]));
    assert!(show.contains("fingerprint:"));
    assert!(show.contains("secret check"));
}

fn bad_input_exits_2_with_core_codes(env: &Env) {
    let cases: &[(&[&str], &str)] = &[
        (&["mint", "--format", "nope", "--name", "abc"], "error: unknown_format:"),
        (&["mint", "--format", "keyproof_live", "--name", "abc", "--expires", "5x"], "error: invalid_expiry:"),
        (&["mint", "--format", "keyproof_live", "--name", "abc", "--expires", "0d"], "error: invalid_expiry:"),
        (&["mint", "--format", "keyproof_live", "--name", "abc", "--allow-ip", "10.0.0.0/33"], "error: invalid_cidr:"),
        (&["mint", "--format", "keyproof_live", "--name", "abc", "--allow-ip", "nope"], "error: invalid_cidr:"),
        (&["mint", "--format", "keyproof_live", "--name", " padded "], "error: invalid_name:"),
        (&["mint", "--format", "keyproof_live", "--name", "abc", "--scope", "a b"], "error: invalid_scope:"),
        (&["mint", "--format", "keyproof_live", "--name", "abc", "--client-id", "a b"], "error: invalid_id:"),
        (
            &["mint", "--format", "keyproof_live", "--name", "abc", "--expires-at", "yesterday"],
            "error: invalid_timestamp:",
        ),
        (&["mint", "--format", "keyproof_live"], "error: usage:"),
        (&["mint", "--format", "keyproof_live", "--name", "abc", "--id-style", "weird"], "error: usage:"),
        (&["frobnicate"], "error: usage:"),
        (&["show", "bad id!"], "error: invalid_id:"),
        (&["rotate", "x", "--grace", "forever"], "error: usage:"),
    ];
    for (args, expected) in cases {
        env.cmd()
            .args(*args)
            .assert()
            .code(2)
            .stderr(predicate::str::starts_with(*expected))
            .stderr(predicate::str::contains("panicked").not())
            .stderr(predicate::function(|s: &str| s.lines().count() == 1));
    }
    // Nothing was stored by the failed mints.
    let (_, list) = env.json(&["list"]);
    assert_eq!(list["keys"].as_array().unwrap().len(), 0);
}

fn json_errors_are_json(env: &Env) {
    let (code, v) = env.json(&["mint", "--format", "nope", "--name", "abc"]);
    assert_eq!(code, 2);
    assert_eq!(v["error"]["code"], "unknown_format");
    assert_eq!(v["error"]["exit_code"], 2);
    let (code, v) = env.json(&["show", "missing_id"]);
    assert_eq!(code, 4);
    assert_eq!(v["error"]["code"], "unknown_id");
}

fn unknown_id_exits_4(env: &Env) {
    for cmd in ["show", "revoke", "disable", "enable", "rotate"] {
        env.cmd()
            .args([cmd, "key_00000000"])
            .assert()
            .code(4)
            .stderr(predicate::str::starts_with("error: unknown_id:"));
    }
}

#[test]
fn store_errors_exit_3() {
    let env = Env::new();
    env.write("not-a-db", "this is not sqlite, just text that is long enough to not be a db header");
    env.cmd()
        .args(["--store", "not-a-db", "list"])
        .assert()
        .code(3)
        .stderr(predicate::str::starts_with("error: store_error:"));
    env.cmd()
        .args(["--store", "missing/dir/keys.db", "list"])
        .assert()
        .code(3)
        .stderr(predicate::str::starts_with("error: store_error:"));
}

#[test]
fn postgres_store_errors_exit_3_and_never_show_the_password() {
    let env = Env::new();
    let secret = "hunter2-never-shown";
    let cases = [
        (format!("postgresql://ops:{secret}@127.0.0.1:1/keys"), "cannot connect to the store postgresql://ops:***@"),
        (
            format!("postgres://ops@127.0.0.1:1/keys?password={secret}&sslmode=verify"),
            "sslmode=verify is not one of disable, allow, prefer, require, verify-ca, verify-full",
        ),
        (
            format!("postgres://ops@127.0.0.1:1/keys?password={secret}&sslmode=verify-full&sslrootcert=/none/ca.pem"),
            "root certificate file /none/ca.pem does not exist",
        ),
        (format!("postgresql://ops:{secret}@127.0.0.1:1/keys?connect_timeout=soon"), "is not a usable PostgreSQL URL"),
    ];
    for (url, says) in &cases {
        for args in [&["list"][..], &["mint", "--format", "keyproof_live", "--name", "x"], &["--json", "show", "key_0"]]
        {
            for on_command_line in [false, true] {
                let mut cmd = env.cmd();
                if on_command_line {
                    cmd.args(["--store", url]);
                } else {
                    cmd.env("KEYPROOF_STORE", url);
                }
                let out = cmd.args(args).output().unwrap();
                let stderr = String::from_utf8_lossy(&out.stderr);
                let all = format!("{}{stderr}", String::from_utf8_lossy(&out.stdout));
                assert_eq!(out.status.code(), Some(3), "{args:?}: {all}");
                assert!(stderr.starts_with("error: store_error:") && all.contains(says), "{args:?}: {all}");
                assert!(!all.contains(secret), "{args:?} printed the password: {all}");
            }
        }
    }
    // --help shows where KEYPROOF_STORE comes in, never its value.
    let url = format!("postgresql://ops:{secret}@127.0.0.1:1/keys");
    let help = stdout_of(env.cmd().env("KEYPROOF_STORE", &url).arg("--help"));
    assert!(help.contains("KEYPROOF_STORE") && !help.contains(secret), "{help}");
}

fn revoke_disable_enable_lifecycle(env: &Env) {
    let (_, record) = env.mint(&["--format", "matchii_live", "--name", "lifecycle"]);
    let id = record["id"].as_str().unwrap();

    let (code, v) = env.json(&["disable", id]);
    assert_eq!((code, v["changed"].as_bool(), v["record"]["status"].as_str()), (0, Some(true), Some("disabled")));
    let (_, v) = env.json(&["disable", id]);
    assert_eq!(v["changed"], false);
    env.cmd().args(["enable", id]).assert().success().stdout(predicate::str::contains("is now active"));
    env.cmd().args(["revoke", id]).assert().success().stdout(predicate::str::contains("is now revoked"));
    let (_, v) = env.json(&["show", id]);
    assert_eq!(v["status"], "revoked");
    assert!(v["revoked_at"].is_string());
    env.cmd().args(["enable", id]).assert().code(2).stderr(predicate::str::starts_with("error: invalid_transition:"));
    env.cmd().args(["disable", id]).assert().code(2);
    env.cmd().args(["rotate", id]).assert().code(2);
    let (_, v) = env.json(&["list", "--status", "revoked"]);
    assert_eq!(v["keys"].as_array().unwrap().len(), 1);
    let (_, v) = env.json(&["list", "--status", "active"]);
    assert_eq!(v["keys"].as_array().unwrap().len(), 0);
    env.cmd().args(["list", "--status", "weird"]).assert().code(2);
}

fn rotate_copies_settings_and_keeps_old_key_in_grace(env: &Env) {
    let (old_key, old) = env.mint(&[
        "--format",
        "keyproof_live",
        "--name",
        "rotating",
        "--scope",
        "briefs:read",
        "--role",
        "admin",
        "--plan",
        "pro",
        "--allow-ip",
        "203.0.113.0/24",
        "--expires",
        "90d",
        "--id-style",
        "prefixed",
    ]);
    let old_id = old["id"].as_str().unwrap();
    let (code, v) = env.json(&["rotate", old_id, "--grace", "2h"]);
    assert_eq!(code, 0, "{v}");
    let new_key = v["key"].as_str().unwrap();
    assert_ne!(new_key, old_key);
    assert!(new_key.starts_with("kp_live_"));
    let new = &v["record"];
    assert!(new["id"].as_str().unwrap().starts_with("key_"));
    for field in ["name", "format", "scopes", "role", "plan", "allowed_ips"] {
        assert_eq!(new[field], old[field], "{field}");
    }
    assert!(new["expires_at"].is_string());
    assert_eq!(v["rotated"]["rotation"]["replaced_by"], new["id"]);
    assert_eq!(v["rotated"]["effective_status"], "rotating");

    // A second rotation of the same key is refused.
    env.cmd().args(["rotate", old_id]).assert().code(2).stderr(predicate::str::contains("already rotated"));
    // After the grace period the old key shows as rotated.
    let grace_until = v["rotated"]["rotation"]["grace_until"].as_str().unwrap().to_string();
    let (_, v) = env.json(&["--now", &grace_until, "show", old_id]);
    assert_eq!(v["effective_status"], "rotated");
    let (_, v) = env.json(&["--now", "2099-01-01T00:00:00Z", "show", old_id]);
    assert_eq!(v["effective_status"], "expired");
    // Human output mentions the grace period and prints the new key once.
    let (_, other) = env.mint(&["--format", "keyproof_live", "--name", "second"]);
    let out = stdout_of(env.cmd().args(["rotate", other["id"].as_str().unwrap()]));
    assert!(out.contains("keeps working until"));
    assert_eq!(out.matches("kp_live_").count(), 3, "{out}"); // the key, its preview, the old preview
}

#[test]
fn formats_lists_presets() {
    let env = Env::new();
    env.cmd().arg("formats").assert().success().stdout(predicate::str::contains("keyproof_live"));
    let (_, v) = env.json(&["formats"]);
    assert!(v["formats"].as_array().unwrap().iter().any(|f| f["id"] == "github_pat"));
}

fn custom_formats_are_saved_for_rotation(env: &Env) {
    let formats = env.write(
        "formats.json",
        r#"[{"id": "acme_live", "prefix": "acme_live_", "environment": "live", "kind": "secret",
             "alphabet": "base62", "length": 32, "checksum": "crc32_base62"}]"#,
    );
    let f = formats.to_str().unwrap();
    let (code, v) = env.json(&["--formats", f, "mint", "--format", "acme_live", "--name", "custom"]);
    assert_eq!(code, 0, "{v}");
    assert!(v["key"].as_str().unwrap().starts_with("acme_live_"));
    // rotate works without --formats: the format was saved in the store.
    let (code, v) = env.json(&["rotate", v["record"]["id"].as_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    assert!(v["key"].as_str().unwrap().starts_with("acme_live_"));
    // inspect finds it in the store, too.
    let (code, v) = env.json(&["inspect", v["key"].as_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["format"], "acme_live");
    assert_eq!(v["record"]["status"], "active");
    // A broken formats file is bad input.
    let bad = env.write(
        "bad.json",
        r#"[{"id": "weak", "prefix": "w_", "environment": "live", "kind": "secret", "alphabet": "hex", "length": 8}]"#,
    );
    env.cmd()
        .args(["--formats", bad.to_str().unwrap(), "formats"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: invalid_format:"));
}

#[test]
fn help_and_version_exit_0() {
    let env = Env::new();
    env.cmd().arg("--help").assert().success().stdout(predicate::str::contains("mint"));
    env.cmd().arg("--version").assert().success();
    env.cmd().assert().code(2);
}

common::on_every_store!(
    mint_prints_key_once_and_stores_record,
    json_mint_has_key_and_record,
    no_secret_in_list_show_or_inspect,
    bad_input_exits_2_with_core_codes,
    json_errors_are_json,
    unknown_id_exits_4,
    revoke_disable_enable_lifecycle,
    rotate_copies_settings_and_keeps_old_key_in_grace,
    custom_formats_are_saved_for_rotation,
);
