//! Shared helpers for the CLI tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// A temporary directory with a store path inside it.
pub struct Env {
    pub dir: TempDir,
}

impl Env {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn store(&self) -> PathBuf {
        self.path("keys.db")
    }

    /// `keyproof` with the store set, run from the temp dir, without inherited config.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyproof"));
        cmd.current_dir(self.dir.path())
            .env_remove("KEYPROOF_PEPPER")
            .env_remove("KEYPROOF_POLICY")
            .env("KEYPROOF_STORE", self.store());
        cmd
    }

    /// Runs `keyproof --json ARGS` and parses stdout.
    pub fn json(&self, args: &[&str]) -> (i32, Value) {
        let out = self.cmd().arg("--json").args(args).output().unwrap();
        let value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("stdout of {args:?} is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout))
        });
        (out.status.code().unwrap(), value)
    }

    /// Mints with `--json` and returns (key, record).
    pub fn mint(&self, args: &[&str]) -> (String, Value) {
        let mut all = vec!["mint"];
        all.extend_from_slice(args);
        let (code, v) = self.json(&all);
        assert_eq!(code, 0, "mint {args:?}: {v}");
        (v["key"].as_str().unwrap().to_string(), v["record"].clone())
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }
}

pub fn stdout_of(cmd: &mut Command) -> String {
    String::from_utf8(cmd.output().unwrap().stdout).unwrap()
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}
