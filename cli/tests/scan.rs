//! inspect, scan and redact.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{stdout_of, Env};
use predicates::prelude::*;

fn inspect_valid_key_from_arg_and_stdin(env: &Env) {
    let (key, record) = env.mint(&["--format", "github_pat", "--name", "inspect me"]);
    let out = stdout_of(env.cmd().args(["inspect", &key]));
    for want in ["github_pat", "live", "secret", "checksum:     valid", record["preview"].as_str().unwrap()] {
        assert!(out.contains(want), "{want} missing in {out}");
    }
    assert!(!out.contains(&key));
    let out = env.cmd().args(["--json", "inspect", "-"]).write_stdin(format!("{key}\n")).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["format"], "github_pat");
    assert_eq!(v["checksum"], "valid");
    assert_eq!(v["record"]["id"], record["id"]);
    // Unchecksummed formats say so.
    let (key, _) = env.mint(&["--format", "matchii_live", "--name", "no checksum"]);
    let (_, v) = env.json(&["inspect", &key]);
    assert_eq!(v["checksum"], "none");
}

fn inspect_without_store_does_not_create_one(env: &Env) {
    env.cmd()
        .args(["inspect", "kp_live_000000000000000000000000000000000000"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: bad_checksum:"));
    assert!(!env.store_exists());
}

fn malformed_keys_fail_with_core_codes(env: &Env) {
    let (key, _) = env.mint(&["--format", "keyproof_live", "--name", "base key"]);
    let last = key.chars().last().unwrap();
    let flipped = format!("{}{}", &key[..key.len() - 1], if last == 'a' { 'b' } else { 'a' });
    let bad_char = format!("{}!{}", &key[..10], &key[11..]);
    let cases = [
        (flipped.as_str(), "bad_checksum"),
        ("kp_live_short", "wrong_length"),
        (bad_char.as_str(), "bad_character"),
        ("hello", "unknown_prefix"),
        ("", "wrong_length"),
        ("seam_12345678-abcdefghijkmnopqrstuvwxy", "malformed_key"),
    ];
    for (k, code) in cases {
        let (status, v) = env.json(&["inspect", k]);
        assert_eq!(status, 2, "{k}");
        assert_eq!(v["error"]["code"], code, "{k}");
        env.cmd().args(["inspect", k]).assert().code(2).stderr(predicate::str::starts_with(format!("error: {code}:")));
    }
}

fn scan_finds_planted_key_and_skips_git_and_binaries(env: &Env) {
    let (key, record) = env.mint(&["--format", "keyproof_live", "--name", "planted"]);
    let (pat, _) = env.mint(&["--format", "github_pat", "--name", "planted pat"]);
    env.write("repo/README.md", "nothing to see here\n");
    env.write("repo/src/config.py", &format!("x = 1\nAPI_KEY = \"{key}\"\n"));
    env.write("repo/deep/er/notes.txt", &format!("token: {pat}"));
    env.write("repo/.git/config", &format!("{key}\n"));
    std::fs::write(env.path("repo/blob.bin"), [b"\0\0\0".as_slice(), key.as_bytes()].concat()).unwrap();

    let out = env.cmd().args(["scan", "repo"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let preview = record["preview"].as_str().unwrap();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines
        .iter()
        .any(|l| l.ends_with("notes.txt:1:8 github_pat ghp_") || l.contains("notes.txt:1:8 github_pat ")));
    assert!(lines.contains(&format!("repo/src/config.py:2:12 keyproof_live {preview}").as_str()), "{stdout}");
    assert!(!stdout.contains(&key) && !stdout.contains(&pat));
    assert!(!stdout.contains(".git"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 key(s) found"));

    let (code, v) = env.json(&["scan", "repo"]);
    assert_eq!(code, 1);
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2);
    let f = findings.iter().find(|f| f["format"] == "keyproof_live").unwrap();
    assert_eq!((f["line"].as_u64(), f["column"].as_u64()), (Some(2), Some(12)));
    assert_eq!(f["checksum_verified"], true);
    assert!(v["skipped"].as_array().unwrap().iter().any(|s| s["reason"] == "binary"));
    assert!(!v.to_string().contains(&key));
}

fn scan_clean_exits_0_and_stdin_works(env: &Env) {
    env.write("clean/a.txt", "no keys, only kp_live_ words and ghp_ prefixes\n");
    env.cmd().args(["scan", "clean"]).assert().code(0).stdout(predicate::str::is_empty());
    env.cmd().args(["scan", "-"]).write_stdin("hello world").assert().code(0);
    let (key, _) = env.mint(&["--format", "keyproof_test", "--name", "stdin key"]);
    env.cmd()
        .args(["scan", "-"])
        .write_stdin(format!("line one\n  {key}\n"))
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("-:2:3 keyproof_test kp_test_"));
    // A missing path is an I/O error (exit 5) when nothing was found.
    env.cmd().args(["scan", "does-not-exist"]).assert().code(5).stderr(predicate::str::contains("io_error"));
    env.cmd().args(["scan"]).assert().code(2);
}

#[test]
fn scan_with_custom_formats() {
    let env = Env::new();
    let formats = env.write(
        "formats.json",
        r#"{"id": "acme", "prefix": "acme_", "environment": "live", "kind": "secret", "alphabet": "base62", "length": 24}"#,
    );
    env.write("f.txt", "key=acme_abcdefghijklmnopqrstuvwx\n");
    env.cmd().args(["scan", "f.txt"]).assert().code(0);
    env.cmd()
        .args(["--formats", formats.to_str().unwrap(), "scan", "f.txt"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("f.txt:1:5 acme acme_abcd…uvwx"));
}

fn redact_stdout_stdin_and_in_place(env: &Env) {
    let (key, record) = env.mint(&["--format", "github_pat", "--name", "redact me"]);
    let preview = record["preview"].as_str().unwrap();
    let text = format!("before {key} after\nsecond line\n");
    let file = env.write("log.txt", &text);

    let out = stdout_of(env.cmd().args(["redact", "log.txt"]));
    assert_eq!(out, format!("before {preview} after\nsecond line\n"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text, "redact without --in-place changes nothing");

    let out = stdout_of(env.cmd().args(["redact", "-"]).write_stdin(text.clone()));
    assert_eq!(out, format!("before {preview} after\nsecond line\n"));

    let (code, v) = env.json(&["redact", "log.txt"]);
    assert_eq!((code, v["redacted"].as_u64()), (0, Some(1)));
    assert!(!v["text"].as_str().unwrap().contains(&key));

    env.cmd()
        .args(["redact", "--in-place", "log.txt"])
        .assert()
        .success()
        .stderr(predicate::str::contains("redacted 1"));
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(!after.contains(&key));
    assert!(after.contains(preview));
    env.cmd().args(["scan", "log.txt"]).assert().code(0);

    env.cmd().args(["redact", "--in-place", "-"]).assert().code(2);
    env.cmd().args(["redact", "missing.txt"]).assert().code(5).stderr(predicate::str::starts_with("error: io_error:"));
}

common::on_every_store!(
    inspect_valid_key_from_arg_and_stdin,
    inspect_without_store_does_not_create_one,
    malformed_keys_fail_with_core_codes,
    scan_finds_planted_key_and_skips_git_and_binaries,
    scan_clean_exits_0_and_stdin_works,
    redact_stdout_stdin_and_in_place,
);
