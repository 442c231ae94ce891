//! Shared helpers for the CLI tests.
//!
//! Every test that touches the store is written once, as `fn name(env: &Env)`,
//! and listed in [`on_every_store!`]: it then runs on a SQLite file always, and
//! on PostgreSQL when `KEYPROOF_TEST_POSTGRES_DSN` is set (scripts/test-postgres.sh
//! sets it), each run in a schema of its own so tests run in parallel.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// The server the PostgreSQL half of the tests runs against.
pub const POSTGRES_DSN_ENV: &str = "KEYPROOF_TEST_POSTGRES_DSN";

/// `name::sqlite` and `name::postgresql` tests for each `fn name(env: &Env)`.
/// The PostgreSQL test passes without running when no server is configured
/// (it says so on stderr); scripts/test-postgres.sh always configures one.
#[allow(unused_macros)]
macro_rules! on_every_store {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(&super::common::Env::new());
            }

            #[test]
            fn postgresql() {
                if let Some(env) = super::common::Env::postgres() {
                    super::$name(&env);
                }
            }
        }
    )+};
}
#[allow(unused_imports)]
pub(crate) use on_every_store;

/// A PostgreSQL schema created for one test and dropped after it.
struct Schema {
    admin_dsn: String,
    name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.admin_dsn, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

/// A temporary directory (policies, formats files, the SQLite store) and the
/// store every command of the test uses.
pub struct Env {
    pub dir: TempDir,
    store: String,
    schema: Option<Schema>,
}

impl Env {
    /// A test on a SQLite store (`keys.db` in the temporary directory).
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("keys.db").to_str().unwrap().to_string();
        Self { dir, store, schema: None }
    }

    /// A test on PostgreSQL, in a new empty schema; `None` when no server is configured.
    pub fn postgres() -> Option<Self> {
        let Some(admin_dsn) = std::env::var(POSTGRES_DSN_ENV).ok().filter(|d| !d.is_empty()) else {
            eprintln!("not run on PostgreSQL: {POSTGRES_DSN_ENV} is not set (scripts/test-postgres.sh sets it)");
            return None;
        };
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("kp_test_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let mut client = postgres::Client::connect(&admin_dsn, postgres::NoTls)
            .unwrap_or_else(|e| panic!("{POSTGRES_DSN_ENV} is set but PostgreSQL cannot be reached: {e}"));
        client.batch_execute(&format!("CREATE SCHEMA {name}")).unwrap();
        let separator = if admin_dsn.contains('?') { '&' } else { '?' };
        let store = format!("{admin_dsn}{separator}options=-c%20search_path%3D{name}");
        let dir = tempfile::tempdir().unwrap();
        Some(Self { dir, store, schema: Some(Schema { admin_dsn, name }) })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The SQLite store file (for SQLite-only checks; see [`Env::sqlite_file`]).
    pub fn store(&self) -> PathBuf {
        self.path("keys.db")
    }

    /// What `--store` / `KEYPROOF_STORE` is: the SQLite path or the PostgreSQL URL.
    pub fn store_arg(&self) -> &str {
        &self.store
    }

    /// The SQLite file, `None` on PostgreSQL.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        self.schema.is_none().then(|| self.store())
    }

    /// Whether the store's tables exist.
    pub fn store_exists(&self) -> bool {
        match &self.schema {
            None => self.store().exists(),
            Some(_) => {
                let rows = self.pg().query("SELECT 1 FROM pg_tables WHERE schemaname = current_schema()", &[]);
                !rows.unwrap().is_empty()
            }
        }
    }

    /// A connection to the test's PostgreSQL schema.
    pub fn pg(&self) -> postgres::Client {
        postgres::Client::connect(&self.store, postgres::NoTls).unwrap()
    }

    /// Runs one statement with text parameters `?1`, `?2`… (`$1`… on PostgreSQL)
    /// straight on the store, bypassing keyproof: rows an older version or another tool wrote.
    pub fn raw_sql(&self, sql: &str, params: &[&str]) {
        match &self.schema {
            None => {
                let conn = rusqlite::Connection::open(self.store()).unwrap();
                conn.execute(sql, rusqlite::params_from_iter(params)).unwrap();
            }
            Some(_) => {
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn postgres::types::ToSql + Sync)).collect();
                self.pg().execute(sql.replace('?', "$").as_str(), &params).unwrap();
            }
        }
    }

    /// `keyproof` with the store set, run from the temp dir, without inherited config.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyproof"));
        cmd.current_dir(self.dir.path())
            .env_remove("KEYPROOF_PEPPER")
            .env_remove("KEYPROOF_POLICY")
            .env("KEYPROOF_STORE", &self.store);
        cmd
    }

    /// Runs `keyproof --json ARGS` and parses stdout.
    pub fn json(&self, args: &[&str]) -> (i32, Value) {
        let out = self.cmd().arg("--json").args(args).output().unwrap();
        let value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout of {args:?} is not JSON ({e}): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
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
