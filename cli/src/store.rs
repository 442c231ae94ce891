//! The SQLite key store: one row per record, keyed by record id, with a unique
//! index on the storage hash. The record itself is kept as the core's record JSON;
//! the other columns exist for lookups and listing. Every write runs in a
//! transaction, so an interrupted command leaves the store as it was.

use std::path::Path;

use keyproof::{KeyFormat, KeyRecord};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

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
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.is_dir() {
                return Err(CliError::store(format!("the directory {} does not exist", parent.display())));
            }
        }
        let conn = Connection::open(path)
            .map_err(|e| CliError::store(format!("cannot open the store {}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
            .map_err(|e| CliError::store(format!("{} is not a usable SQLite store: {e}", path.display())))?;
        let mut store = Self { conn };
        store.migrate()?;
        Ok(store)
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

    /// Every record, oldest first.
    pub fn list(&self) -> CliResult<Vec<KeyRecord>> {
        let mut stmt = self.conn.prepare("SELECT id, record FROM keys ORDER BY created_at, id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, json) = row?;
            out.push(parse_record(&id, &json)?);
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

    /// Custom formats saved by earlier mints.
    pub fn formats(&self) -> CliResult<Vec<KeyFormat>> {
        let mut stmt = self.conn.prepare("SELECT id, format FROM formats ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, json) = row?;
            out.push(KeyFormat::from_json(&json).map_err(|e| {
                CliError::store(format!("the stored format {id:?} is corrupt ({}: {})", e.code(), e.message()))
            })?);
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
