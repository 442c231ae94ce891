//! The SQLite key store: one row per record, keyed by record id, with a unique
//! index on the storage hash. The record itself is kept as the core's record JSON;
//! the other columns exist for lookups and listing. Every write runs in a
//! transaction, so an interrupted command leaves the store as it was.
//!
//! Commands that only read (`list`, `show`, `inspect`) open the store read-only
//! ([`Store::open_read`]): they work on a file or directory they cannot write.
//! One corrupt row (a record core refuses to load) is reported and skipped by
//! `list`; every other record keeps being served.

use std::path::Path;

use keyproof::{KeyFormat, KeyRecord};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};

use crate::exit::{CliError, CliResult};

const SCHEMA_VERSION: i64 = 1;

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

/// An open store.
pub struct Store {
    conn: Connection,
}

/// A stored row that core refuses to load (e.g. a timestamp outside 0001–9999
/// written by an older version): reported, never served.
#[derive(Clone, Debug)]
pub struct CorruptRow {
    /// The row's id.
    pub id: String,
    /// Core's error code for the row (`invalid_timestamp`, `invalid_record`, …).
    pub code: &'static str,
    /// Core's message.
    pub message: String,
}

impl CorruptRow {
    /// The one-line warning printed for the row.
    pub fn warning(&self, what: &str) -> String {
        format!("warning: the stored {what} {:?} is corrupt and was skipped ({}: {})", self.id, self.code, self.message)
    }
}

/// Every record that loads, and the rows that do not.
#[derive(Debug, Default)]
pub struct Listing {
    /// Records, oldest first.
    pub records: Vec<KeyRecord>,
    /// Rows core refused to load.
    pub corrupt: Vec<CorruptRow>,
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

fn status_str(record: &KeyRecord) -> String {
    serde_json::to_value(record.status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn parse_record(id: &str, json: &str) -> CliResult<KeyRecord> {
    KeyRecord::from_json(json)
        .map_err(|e| CliError::store(format!("the stored record {id:?} is corrupt ({}: {})", e.code(), e.message())))
}

impl Store {
    /// Opens (creating on first use) the store at `path`.
    pub fn open(path: &Path) -> CliResult<Self> {
        Self::check_parent(path)?;
        let conn = Connection::open(path)
            .map_err(|e| CliError::store(format!("cannot open the store {}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
            .map_err(|e| CliError::store(format!("{} is not a usable SQLite store: {e}", path.display())))?;
        let mut store = Self { conn };
        store.migrate()?;
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
        Self::check_parent(path)?;
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
            return Err(CliError::store(format!(
                "the store has schema version {version}; this keyproof understands up to {SCHEMA_VERSION}"
            )));
        }
        if version == 0 {
            // Never written by keyproof (an empty file): nothing to read.
            return Ok(None);
        }
        Ok(Some(Self { conn }))
    }

    fn check_parent(path: &Path) -> CliResult<()> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.is_dir() {
                return Err(CliError::store(format!("the directory {} does not exist", parent.display())));
            }
        }
        Ok(())
    }

    fn migrate(&mut self) -> CliResult<()> {
        let version: i64 = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(CliError::store(format!(
                "the store has schema version {version}; this keyproof understands up to {SCHEMA_VERSION}"
            )));
        }
        let tx = self.write()?;
        tx.execute_batch(SCHEMA)?;
        tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))?;
        tx.commit()?;
        Ok(())
    }

    /// Starts a write transaction (taking the write lock up front).
    pub fn write(&mut self) -> CliResult<Transaction<'_>> {
        Ok(self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    /// Inserts a new record. Fails on a duplicate id or hash.
    pub fn insert(tx: &Transaction<'_>, record: &KeyRecord) -> CliResult<()> {
        tx.execute(
            "INSERT INTO keys (id, hash, fingerprint, format, name, status, client_id, created_at, record)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                record.id,
                record.hash,
                record.fingerprint,
                record.format,
                record.name,
                status_str(record),
                record.client_id,
                record.created_at.timestamp_micros(),
                record.to_json(),
            ],
        )
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => {
                CliError::store(format!("a record with the id {:?} or the same hash already exists", record.id))
            }
            _ => CliError::from(e),
        })?;
        Ok(())
    }

    /// Replaces an existing record (same id).
    pub fn update(tx: &Transaction<'_>, record: &KeyRecord) -> CliResult<()> {
        let n = tx.execute(
            "UPDATE keys SET hash = ?2, fingerprint = ?3, format = ?4, name = ?5, status = ?6, client_id = ?7,
             record = ?8 WHERE id = ?1",
            params![
                record.id,
                record.hash,
                record.fingerprint,
                record.format,
                record.name,
                status_str(record),
                record.client_id,
                record.to_json(),
            ],
        )?;
        if n == 0 {
            return Err(CliError::unknown_id(&record.id));
        }
        Ok(())
    }

    /// Whether a record with this id exists.
    pub fn exists(tx: &Transaction<'_>, id: &str) -> CliResult<bool> {
        Ok(tx.query_row("SELECT 1 FROM keys WHERE id = ?1", [id], |_| Ok(())).optional()?.is_some())
    }

    /// Reads one record inside a transaction.
    pub fn get_in(tx: &Transaction<'_>, id: &str) -> CliResult<KeyRecord> {
        let json: Option<String> =
            tx.query_row("SELECT record FROM keys WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        json.map_or_else(|| Err(CliError::unknown_id(id)), |j| parse_record(id, &j))
    }

    /// Reads one record.
    pub fn get(&self, id: &str) -> CliResult<KeyRecord> {
        let json: Option<String> =
            self.conn.query_row("SELECT record FROM keys WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        json.map_or_else(|| Err(CliError::unknown_id(id)), |j| parse_record(id, &j))
    }

    /// The connection, for reads outside a transaction.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The record stored under the first of `hashes` that exists.
    pub fn find_by_hashes(conn: &Connection, hashes: &[String]) -> CliResult<Option<KeyRecord>> {
        let mut stmt = conn.prepare_cached("SELECT id, record FROM keys WHERE hash = ?1")?;
        for hash in hashes {
            let row: Option<(String, String)> = stmt.query_row([hash], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
            if let Some((id, json)) = row {
                return parse_record(&id, &json).map(Some);
            }
        }
        Ok(None)
    }

    /// Every record, oldest first; rows core refuses to load are set aside, not fatal.
    pub fn list(&self) -> CliResult<Listing> {
        let mut stmt = self.conn.prepare("SELECT id, record FROM keys ORDER BY created_at, id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Listing::default();
        for row in rows {
            let (id, json) = row?;
            match KeyRecord::from_json(&json) {
                Ok(record) => out.records.push(record),
                Err(e) => out.corrupt.push(CorruptRow { id, code: e.code(), message: e.message().to_string() }),
            }
        }
        Ok(out)
    }

    /// Remembers a custom format so later commands (rotate, verify) know it.
    pub fn save_format(tx: &Transaction<'_>, format: &KeyFormat) -> CliResult<()> {
        tx.execute(
            "INSERT INTO formats (id, format) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET format = excluded.format",
            params![format.id, format.to_json()],
        )?;
        Ok(())
    }

    /// Custom formats saved by earlier mints. A format core refuses to load is
    /// skipped with a warning on stderr (keys of it then fail as unknown formats;
    /// the rest of the store keeps working).
    pub fn formats(&self) -> CliResult<Vec<KeyFormat>> {
        let (formats, corrupt) = self.formats_checked()?;
        for row in corrupt {
            crate::output::err_line(&row.warning("format"));
        }
        Ok(formats)
    }

    /// Custom formats, and the rows core refused to load.
    pub fn formats_checked(&self) -> CliResult<(Vec<KeyFormat>, Vec<CorruptRow>)> {
        let mut stmt = self.conn.prepare("SELECT id, format FROM formats ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = (Vec::new(), Vec::new());
        for row in rows {
            let (id, json) = row?;
            match KeyFormat::from_json(&json) {
                Ok(format) => out.0.push(format),
                Err(e) => out.1.push(CorruptRow { id, code: e.code(), message: e.message().to_string() }),
            }
        }
        Ok(out)
    }

    /// A value from the key-value table (rate-limit state and the like).
    pub fn kv_get(tx: &Connection, key: &str) -> CliResult<Option<String>> {
        Ok(tx.query_row("SELECT value FROM kv WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// Sets a value in the key-value table.
    pub fn kv_set(tx: &Connection, key: &str, value: &str) -> CliResult<()> {
        tx.execute(
            "INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}
