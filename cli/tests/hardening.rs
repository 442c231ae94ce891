//! Hardening II findings in the CLI: keys lost to a failed stdout (4), stores
//! poisoned by out-of-range timestamps (5), keys echoed in errors (8) and
//! read-only stores (13).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::fs::File;
use std::process::{Command, Stdio};

use common::{p, Env};
use predicates::prelude::*;
use serde_json::{json, Value};

/// Runs `keyproof ARGS` with stdout on `/dev/full` (every write fails with ENOSPC).
fn run_to_dev_full(env: &Env, args: &[&str]) -> std::process::Output {
    let full = File::create("/dev/full").unwrap();
    Command::new(env!("CARGO_BIN_EXE_keyproof"))
        .current_dir(env.dir.path())
        .env_remove("KEYPROOF_PEPPER")
        .env("KEYPROOF_STORE", env.store_arg())
        .args(args)
        .stdout(Stdio::from(full))
        .output()
        .unwrap()
}

fn count_keys(env: &Env) -> usize {
    let (code, v) = env.json(&["list"]);
    assert_eq!(code, 0, "{v}");
    v["keys"].as_array().unwrap().len()
}

// ---------------------------------------------------------------- finding 4

fn mint_to_a_full_stdout_fails_and_stores_nothing(env: &Env) {
    env.mint(&["--format", "keyproof_live", "--name", "first"]);
    for json in [false, true] {
        let mut args = vec!["mint", "--format", "keyproof_live", "--name", "lost"];
        if json {
            args.insert(0, "--json");
        }
        let out = run_to_dev_full(env, &args);
        assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("error: io_error: cannot write the new key to stdout"), "{stderr}");
        assert!(stderr.contains("nothing was stored"), "{stderr}");
        assert_eq!(count_keys(env), 1, "a key that was never shown was stored");
    }
}

fn rotate_to_a_full_stdout_fails_and_changes_nothing(env: &Env) {
    let (_, old) = env.mint(&["--format", "keyproof_live", "--name", "rotate me", "--scope", "a:b"]);
    let id = old["id"].as_str().unwrap();
    let out = run_to_dev_full(env, &["rotate", id]);
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: io_error:"));
    // Rolled back: no successor, the old key is untouched and can be rotated normally.
    assert_eq!(count_keys(env), 1);
    let (_, now) = env.json(&["show", id]);
    assert!(now["rotation"].is_null(), "{now}");
    assert_eq!(now["updated_at"], old["updated_at"]);
    let (code, v) = env.json(&["rotate", id]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(count_keys(env), 2);
}

fn rotate_resume_replaces_an_unseen_successor(env: &Env) {
    let (old_key, old) =
        env.mint(&["--format", "keyproof_live", "--name", "resume me", "--scope", "briefs:read", "--plan", "pro"]);
    let id = old["id"].as_str().unwrap();
    // A rotation that committed but whose key never reached anyone (output discarded).
    let lost = env.cmd().args(["--json", "rotate", id, "--grace", "2h"]).output().unwrap();
    assert!(lost.status.success());
    let lost: Value = serde_json::from_slice(&lost.stdout).unwrap();
    let lost_id = lost["record"]["id"].as_str().unwrap().to_string();
    // Rotating again is refused, and says so.
    env.cmd().args(["rotate", id]).assert().code(2).stderr(predicate::str::contains("already rotated"));
    // --resume on a key that was never rotated is a usage error.
    let (_, other) = env.mint(&["--format", "keyproof_live", "--name", "never rotated"]);
    env.cmd()
        .args(["rotate", "--resume", other["id"].as_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not rotated"));

    let (code, v) = env.json(&["rotate", "--resume", id]);
    assert_eq!(code, 0, "{v}");
    let new_key = v["key"].as_str().unwrap();
    assert_ne!(new_key, old_key);
    assert_eq!(v["rotated"]["id"], lost_id.as_str());
    assert_eq!(v["rotated"]["resumed_from"], id);
    assert_eq!(v["rotated"]["effective_status"], "rotated", "the unseen key stops working at once");
    for field in ["name", "scopes", "plan", "format"] {
        assert_eq!(v["record"][field], old[field], "{field}");
    }
    // The original key keeps its grace period; the new key is the active one.
    let (_, original) = env.json(&["show", id]);
    assert_eq!(original["effective_status"], "rotating");
    let (_, inspected) = env.json(&["inspect", new_key]);
    assert_eq!(inspected["record"]["status"], "active");
    // Resuming again follows the chain to the newest key.
    let (code, again) = env.json(&["rotate", "--resume", id]);
    assert_eq!(code, 0, "{again}");
    assert_eq!(again["rotated"]["id"], v["record"]["id"]);
    // Human output explains what happened.
    let out = common::stdout_of(env.cmd().args(["rotate", "--resume", id]));
    assert!(out.contains("unseen key") && out.contains("keeps working until"), "{out}");
}

fn rotate_grace_default_comes_from_core(env: &Env) {
    let (_, old) = env.mint(&["--format", "keyproof_live", "--name", "default grace"]);
    let id = old["id"].as_str().unwrap();
    let (code, v) = env.json(&["--now", "2030-01-01T00:00:00Z", "rotate", id]);
    assert_eq!(code, 0, "{v}");
    let hours = keyproof::DEFAULT_ROTATION_GRACE_HOURS;
    let until =
        chrono::DateTime::parse_from_rfc3339(v["rotated"]["rotation"]["grace_until"].as_str().unwrap()).unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z").unwrap();
    assert_eq!(until - start, chrono::Duration::hours(i64::from(hours)));
    env.cmd()
        .args(["rotate", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("default: {hours}h")));
}

// ---------------------------------------------------------------- finding 5

/// Inserts a copy of `record` under a new id and hash, with `created_at` set to
/// `created_at` as text: a row written by an older keyproof that core now refuses.
fn insert_raw(env: &Env, record: &Value, id: &str, created_at: &str) {
    let mut raw = record.clone();
    let obj = raw.as_object_mut().unwrap();
    obj.remove("effective_status");
    obj.insert("id".into(), json!(id));
    obj.insert("created_at".into(), json!(created_at));
    let hash = format!("sha256:{:0>64}", id.len() * 7 + id.bytes().map(usize::from).sum::<usize>());
    obj.insert("hash".into(), json!(hash));
    env.raw_sql(
        "INSERT INTO keys (id, hash, fingerprint, format, name, status, client_id, created_at, record)
         VALUES (?1, ?2, 'fp_0', ?3, 'poison', 'active', NULL, 0, ?4)",
        &[id, &hash, record["format"].as_str().unwrap(), &raw.to_string()],
    );
}

fn one_corrupt_row_does_not_take_the_store_down(env: &Env) {
    env.write("policy.json", r#"{"routes": [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}]}"#);
    let (key, good) = env.mint(&["--format", "keyproof_live", "--name", "healthy", "--scope", "briefs:read"]);
    let good_id = good["id"].as_str().unwrap();
    insert_raw(env, &good, "key_poison01", "+10000-01-01T00:00:00Z");

    // list: the good record is served, the corrupt one reported.
    let out = env.cmd().args(["--json", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["keys"].as_array().unwrap().len(), 1);
    assert_eq!(v["keys"][0]["id"], good_id);
    assert_eq!(v["corrupt"][0]["id"], "key_poison01");
    assert_eq!(v["corrupt"][0]["code"], "invalid_timestamp");
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: the stored record \"key_poison01\" is corrupt"));
    env.cmd()
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains("healthy"))
        .stderr(predicate::str::contains("key_poison01"));

    // show: other ids work; the corrupt one is a store error, not a crash.
    let (code, v) = env.json(&["show", good_id]);
    assert_eq!((code, v["name"].as_str()), (0, Some("healthy")));
    env.cmd()
        .args(["show", "key_poison01"])
        .assert()
        .code(3)
        .stderr(predicate::str::starts_with("error: store_error:"));

    // verify keeps serving the healthy key.
    let auth = format!("Authorization: Bearer {key}");
    let (code, v) = env.json(&["verify", "--policy", "policy.json", "-H", &auth, "--path", "/v1/briefs"]);
    assert_eq!((code, v["status"].as_u64()), (0, Some(200)), "{v}");

    // Year 0 is refused the same way.
    insert_raw(env, &good, "key_poison02", "0000-01-01T00:00:00Z");
    let (code, v) = env.json(&["list"]);
    assert_eq!(code, 0);
    assert_eq!(v["corrupt"].as_array().unwrap().len(), 2);
}

fn times_beyond_year_9999_are_typed_errors(env: &Env) {
    let (_, rec) = env.mint(&["--format", "keyproof_live", "--name", "far future", "--expires", "90d"]);
    let id = rec["id"].as_str().unwrap();
    for args in [
        vec!["--now", "+262142-12-31T23:59:00", "rotate", id],
        vec!["--now", "+10000-01-01T00:00:00", "rotate", id],
        vec!["--now", "9999-12-31T23:00:00Z", "rotate", id],
        vec!["--now", "9999-12-31T23:00:00Z", "rotate", id, "--grace", "2h"],
        vec!["mint", "--format", "keyproof_live", "--name", "far", "--expires-at", "+10000-01-01T00:00:00Z"],
        vec!["update", id, "--expires-at", "+10000-01-01T00:00:00Z"],
    ] {
        env.cmd()
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::starts_with("error: invalid_timestamp:"))
            .stderr(predicate::str::contains("panicked").not());
    }
    // Nothing was changed by the refusals.
    let (_, v) = env.json(&["show", id]);
    assert!(v["rotation"].is_null());
    assert_eq!(count_keys(env), 1);
}

// ---------------------------------------------------------------- finding 8

fn keys_in_arguments_show_only_as_previews_in_errors(env: &Env) {
    let (key, rec) = env.mint(&["--format", "keyproof_live", "--name", "leaky"]);
    let id = rec["id"].as_str().unwrap();
    let preview = rec["preview"].as_str().unwrap();
    env.write("policy.json", r#"{"routes": []}"#);
    let metadata = format!("{key}=nope");
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["show", &key], 4),
        (vec!["rotate", &key], 4),
        (vec!["revoke", &key], 4),
        (vec!["mint", "--format", &key, "--name", "abc"], 2),
        (vec!["mint", "--format", "keyproof_live", "--name", "abc", "--allow-ip", &key], 2),
        (vec!["mint", "--format", "keyproof_live", "--name", "abc", "--id-style", &key], 2),
        (vec!["update", id, "--allowed-ips", &key], 2),
        (vec!["update", id, "--metadata", &metadata], 2),
        (vec!["rotate", id, "--grace", &key], 2),
        (vec!["list", "--status", &key], 2),
        (vec!["scan", &key], 5),
        (vec!["verify", "--policy", &key, "--path", "/"], 5),
    ];
    for (args, code) in &cases {
        for json in [false, true] {
            let mut cmd = env.cmd();
            if json {
                cmd.arg("--json");
            }
            let out = cmd.args(args).output().unwrap();
            let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert_eq!(out.status.code(), Some(*code), "{args:?}: {all}");
            assert!(!all.contains(&key), "{args:?} echoed the key: {all}");
            assert!(!all.contains("panicked"), "{args:?}: {all}");
            if args.contains(&"show") || args.contains(&"--allowed-ips") || args.contains(&"--format") {
                assert!(all.contains(preview), "{args:?} should name the preview: {all}");
            }
        }
    }
}

fn keys_of_custom_formats_are_redacted_too(env: &Env) {
    let formats = env.write(
        "formats.json",
        r#"[{"id": "acme_live", "prefix": "acme_live_", "environment": "live", "kind": "secret",
             "alphabet": "base62", "length": 32, "checksum": "crc32_base62"}]"#,
    );
    let (code, v) = env.json(&["--formats", p(&formats), "mint", "--format", "acme_live", "--name", "custom"]);
    assert_eq!(code, 0, "{v}");
    let key = v["key"].as_str().unwrap();
    let preview = v["record"]["preview"].as_str().unwrap();
    // Without --formats: the format is known from the store.
    let out = env.cmd().args(["show", key]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4));
    assert!(!stderr.contains(key) && stderr.contains(preview), "{stderr}");
    // With --formats and no store.
    let other = Env::new();
    let out = other.cmd().args(["--formats", p(&formats), "show", key]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(key) && stderr.contains(preview), "{stderr}");
}

// ---------------------------------------------------------------- finding 13

/// Runs the CLI as an unprivileged user when the tests run as root (root
/// ignores file modes, which would make a permission test prove nothing).
/// `None` when that is impossible (root without `setpriv`).
fn unprivileged(env: &Env) -> Option<Command> {
    let bin = env!("CARGO_BIN_EXE_keyproof");
    let uid = Command::new("id").arg("-u").output().ok()?;
    let root = String::from_utf8_lossy(&uid.stdout).trim() == "0";
    let mut cmd = if root {
        let ok = Command::new("setpriv").arg("--version").output().is_ok_and(|o| o.status.success());
        if !ok {
            return None;
        }
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin]);
        c
    } else {
        Command::new(bin)
    };
    cmd.current_dir("/").env_remove("KEYPROOF_PEPPER").env("KEYPROOF_STORE", env.store());
    Some(cmd)
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn reading_a_read_only_store_needs_no_write_access() {
    let env = Env::new();
    let (key, rec) = env.mint(&["--format", "keyproof_live", "--name", "read only"]);
    let id = rec["id"].as_str().unwrap();
    let db = env.store();
    let before = std::fs::read(&db).unwrap();
    // A read-only file in a read-only directory (no -wal/-shm can be created).
    set_mode(&db, 0o444);
    set_mode(env.dir.path(), 0o555);
    let restore = || set_mode(env.dir.path(), 0o755);
    let Some(mut list) = unprivileged(&env) else {
        restore();
        eprintln!("skipped: running as root without setpriv, file modes cannot be tested");
        return;
    };
    let out = list.args(["--json", "list"]).output().unwrap();
    let run = |args: &[&str]| unprivileged(&env).unwrap().args(args).output().unwrap();
    let show = run(&["--json", "show", id]);
    let inspect = run(&["--json", "inspect", &key]);
    let revoke = run(&["revoke", id]);
    restore();

    assert_eq!(out.status.code(), Some(0), "list: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["keys"][0]["id"], id);
    assert_eq!(show.status.code(), Some(0), "show: {}", String::from_utf8_lossy(&show.stderr));
    assert_eq!(inspect.status.code(), Some(0), "inspect: {}", String::from_utf8_lossy(&inspect.stderr));
    let v: Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(v["record"]["id"], id);
    // Writing still needs write access, and says so (exit 3, not a crash).
    assert_eq!(revoke.status.code(), Some(3), "revoke: {}", String::from_utf8_lossy(&revoke.stderr));
    // Reading changed nothing and created nothing.
    assert_eq!(std::fs::read(&db).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(env.dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("keys.db")]);
}

#[test]
fn reading_a_read_only_file_in_a_writable_directory() {
    let env = Env::new();
    let (_, rec) = env.mint(&["--format", "keyproof_live", "--name", "ro file"]);
    set_mode(&env.store(), 0o444);
    let Some(mut cmd) = unprivileged(&env) else {
        eprintln!("skipped: running as root without setpriv");
        return;
    };
    // The directory must be writable by the unprivileged user for this case.
    set_mode(env.dir.path(), 0o777);
    let out = cmd.args(["--json", "list"]).output().unwrap();
    set_mode(env.dir.path(), 0o755);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["keys"][0]["id"], rec["id"]);
}

fn reading_a_missing_store_creates_nothing(env: &Env) {
    let (code, v) = env.json(&["list"]);
    assert_eq!((code, v["keys"].as_array().map(Vec::len)), (0, Some(0)));
    env.cmd().args(["show", "key_00000000"]).assert().code(4);
    assert!(!env.store_exists(), "list/show created a store");
}

common::on_every_store!(
    mint_to_a_full_stdout_fails_and_stores_nothing,
    rotate_to_a_full_stdout_fails_and_changes_nothing,
    rotate_resume_replaces_an_unseen_successor,
    rotate_grace_default_comes_from_core,
    one_corrupt_row_does_not_take_the_store_down,
    times_beyond_year_9999_are_typed_errors,
    keys_in_arguments_show_only_as_previews_in_errors,
    keys_of_custom_formats_are_redacted_too,
    reading_a_missing_store_creates_nothing,
);
