//! The SQLite backend (the default): one file, WAL journal, `synchronous=FULL`,
//! every write in one `BEGIN IMMEDIATE` transaction (a single writer at a time).
//!
//! Commands that only read open the file read-only ([`SqliteStore::open_read`]):
//! they work on a file or directory they cannot write.

use std::path::Path;

use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::{Connection, OpenFlags, ToSql, Transaction, TransactionBehavior};

use super::sql::{Backend, DbError, Param, Sql, WriteTx};
use super::SCHEMA_VERSION;
use crate::exit::{CliError, CliResult};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS keys (
    id          TEXT PRIMARY KEY NOT NULL,
    hash        TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    format      TEXT NOT NULL,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    client_id   TEXT,
    created_at  INTEGER NOT NULL,
    record      TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS keys_hash ON keys(hash);
CREATE INDEX IF NOT EXISTS keys_client_id ON keys(client_id);
CREATE TABLE IF NOT EXISTS formats (
    id     TEXT PRIMARY KEY NOT NULL,
    format TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kv (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
";

/// A store in a SQLite file.
pub struct SqliteStore {
    conn: Connection,
}

/// `path` as an SQLite URI filename (`file:` plus the percent-encoded path).
fn uri_of(path: &Path) -> String {
    let mut uri = String::from("file:");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// Switches to WAL. The switch needs an exclusive lock and SQLite answers "database
/// is locked" at once, without the busy handler, when processes opening a new store
/// together would deadlock; so it is retried for up to the busy timeout.
fn wal_mode(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;") {
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

fn too_new(version: i64) -> CliError {
    CliError::store(format!("the store has schema version {version}; this keyproof understands up to {SCHEMA_VERSION}"))
}

impl SqliteStore {
    /// Opens (creating on first use) the store at `path`.
    pub fn open(path: &Path) -> CliResult<Self> {
        check_parent(path)?;
        let conn = Connection::open(path)
            .map_err(|e| CliError::store(format!("cannot open the store {}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        wal_mode(&conn)
            .map_err(|e| CliError::store(format!("{} is not a usable SQLite store: {e}", path.display())))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(too_new(version));
        }
        let mut store = Self { conn };
        let tx = store.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(SCHEMA)?;
        tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))?;
        tx.commit()?;
        Ok(store)
    }

    /// Opens the store at `path` for reading only: nothing is created, migrated
    /// or written, so a store on a read-only file or in a read-only directory can
    /// be listed. `None` when there is no store file yet (an empty store).
    ///
    /// A WAL store normally needs its `-shm` file created beside it even to be
    /// read; where the directory cannot be written, the file is read as
    /// immutable (no locks; a `-wal` left by a writer that crashed is not seen).
    pub fn open_read(path: &Path) -> CliResult<Option<Self>> {
        check_parent(path)?;
        if !path.exists() {
            return Ok(None);
        }
        let cannot = |e: rusqlite::Error| CliError::store(format!("cannot open the store {}: {e}", path.display()));
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(cannot)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let conn = match conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)) {
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen)
                ) =>
            {
                drop(conn);
                let uri = format!("{}?immutable=1", uri_of(path));
                Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI).map_err(cannot)?
            }
            _ => conn,
        };
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| CliError::store(format!("{} is not a usable SQLite store: {e}", path.display())))?;
        if version > SCHEMA_VERSION {
            return Err(too_new(version));
        }
        if version == 0 {
            // Never written by keyproof (an empty file): nothing to read.
            return Ok(None);
        }
        Ok(Some(Self { conn }))
    }
}

fn check_parent(path: &Path) -> CliResult<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(CliError::store(format!("the directory {} does not exist", parent.display())));
        }
    }
    Ok(())
}

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Param::Text(s) | Param::OptText(Some(s)) => ToSqlOutput::from(s),
            Param::OptText(None) => ToSqlOutput::Owned(Value::Null),
            Param::Int(i) => ToSqlOutput::from(i),
        })
    }
}

fn db_error(e: rusqlite::Error) -> DbError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => DbError::Conflict(e.to_string()),
        _ => DbError::Other(e.to_string()),
    }
}

impl From<rusqlite::Error> for CliError {
    fn from(e: rusqlite::Error) -> Self {
        Self::store(e.to_string())
    }
}

fn execute(conn: &Connection, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
    let n =
        conn.prepare_cached(sql).and_then(|mut s| s.execute(rusqlite::params_from_iter(params))).map_err(db_error)?;
    Ok(u64::try_from(n).unwrap_or(u64::MAX))
}

fn rows(conn: &Connection, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<String>>, DbError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_error)?;
    let columns = stmt.column_count();
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), |r| (0..columns).map(|i| r.get::<_, String>(i)).collect())
        .map_err(db_error)?;
    rows.collect::<Result<Vec<Vec<String>>, _>>().map_err(db_error)
}

impl Sql for SqliteStore {
    fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
        execute(&self.conn, sql, params)
    }

    fn rows(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<String>>, DbError> {
        rows(&self.conn, sql, params)
    }
}

impl Backend for SqliteStore {
    fn begin(&mut self) -> Result<Box<dyn WriteTx + '_>, DbError> {
        // IMMEDIATE takes the write lock up front: one writer at a time.
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_error)?;
        Ok(Box::new(SqliteTx(tx)))
    }
}

struct SqliteTx<'a>(Transaction<'a>);

impl Sql for SqliteTx<'_> {
    fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
        execute(&self.0, sql, params)
    }

    fn rows(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<String>>, DbError> {
        rows(&self.0, sql, params)
    }
}

impl WriteTx for SqliteTx<'_> {
    fn commit(self: Box<Self>) -> Result<(), DbError> {
        self.0.commit().map_err(db_error)
    }
}
