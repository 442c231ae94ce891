//! The key store: one row per record, keyed by record id, with a unique index
//! on the storage hash, in a SQLite file (default, [`sqlite`]) or a PostgreSQL
//! database ([`pg`]). Commands are written once against [`Store`] (reads)
//! and [`Tx`] (a write transaction, rolled back unless committed); each backend
//! only runs statements ([`sql::Sql`]), so every operation ([`records`]) and its
//! SQL exist once.
//!
//! Commands that only read (`list`, `show`, `inspect`) open the store read-only
//! ([`Store::open_read`]): nothing is created or written. One corrupt row (a
//! record core refuses to load) is reported and skipped by `list`; every other
//! record keeps being served.

mod location;
mod pg;
mod records;
mod sql;
mod sqlite;
mod tls;

use keyproof::{KeyFormat, KeyRecord};

pub use location::StoreLocation;

use crate::exit::{CliError, CliResult};
use pg::PgStore;
use sql::{Backend, WriteTx};
use sqlite::SqliteStore;

/// The schema version both backends write (SQLite: `PRAGMA user_version`;
/// PostgreSQL: the `schema_version` table).
const SCHEMA_VERSION: i64 = 1;

/// An open store.
pub struct Store {
    db: Box<dyn Backend>,
}

/// A write transaction: every change in it lands at once on [`Tx::commit`], or
/// not at all when it is dropped (an error, an interrupted command).
pub struct Tx<'a> {
    db: Box<dyn WriteTx + 'a>,
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

impl Store {
    /// Opens (creating on first use) the store.
    pub fn open(location: &StoreLocation) -> CliResult<Self> {
        let db: Box<dyn Backend> = match location {
            StoreLocation::Sqlite(path) => Box::new(SqliteStore::open(path)?),
            StoreLocation::Postgres(dsn) => Box::new(PgStore::open(dsn)?),
        };
        Ok(Self { db })
    }

    /// Opens the store for reading only: nothing is created, migrated or
    /// written. `None` when there is no store yet (an empty store).
    pub fn open_read(location: &StoreLocation) -> CliResult<Option<Self>> {
        let db: Option<Box<dyn Backend>> = match location {
            StoreLocation::Sqlite(path) => SqliteStore::open_read(path)?.map(|s| Box::new(s) as Box<dyn Backend>),
            StoreLocation::Postgres(dsn) => PgStore::open_read(dsn)?.map(|s| Box::new(s) as Box<dyn Backend>),
        };
        Ok(db.map(|db| Self { db }))
    }

    /// Starts a write transaction (SQLite takes the write lock up front).
    pub fn write(&mut self) -> CliResult<Tx<'_>> {
        Ok(Tx { db: self.db.begin()? })
    }

    /// Reads one record.
    pub fn get(&self, id: &str) -> CliResult<KeyRecord> {
        records::get(&*self.db, id)
    }

    /// A value from the key-value table (rate-limit and usage state).
    pub fn kv_get(&self, key: &str) -> CliResult<Option<String>> {
        records::kv_get(&*self.db, key)
    }

    /// The record stored under the first of `hashes` that exists.
    pub fn find_by_hashes(&self, hashes: &[String]) -> CliResult<Option<KeyRecord>> {
        records::find_by_hashes(&*self.db, hashes)
    }

    /// Every record, oldest first; rows core refuses to load are set aside, not fatal.
    pub fn list(&self) -> CliResult<Listing> {
        records::list(&*self.db)
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
        records::formats_checked(&*self.db)
    }
}

impl Tx<'_> {
    /// Inserts a new record. Fails on a duplicate id or hash.
    pub fn insert(&self, record: &KeyRecord) -> CliResult<()> {
        records::insert(&*self.db, record)
    }

    /// Replaces an existing record (same id).
    pub fn update(&self, record: &KeyRecord) -> CliResult<()> {
        records::update(&*self.db, record)
    }

    /// Whether a record with this id exists.
    pub fn exists(&self, id: &str) -> CliResult<bool> {
        records::exists(&*self.db, id)
    }

    /// Reads one record; no other writer changes it until this transaction ends.
    pub fn get(&self, id: &str) -> CliResult<KeyRecord> {
        records::get(&*self.db, id)
    }

    /// The record stored under the first of `hashes` that exists (locked like [`Tx::get`]).
    pub fn find_by_hashes(&self, hashes: &[String]) -> CliResult<Option<KeyRecord>> {
        records::find_by_hashes(&*self.db, hashes)
    }

    /// Remembers a custom format so later commands (rotate, verify) know it.
    pub fn save_format(&self, format: &KeyFormat) -> CliResult<()> {
        records::save_format(&*self.db, format)
    }

    /// A value from the key-value table (rate-limit state); no other writer
    /// reads or writes that entry until this transaction ends.
    pub fn kv_get(&self, key: &str) -> CliResult<Option<String>> {
        records::kv_get(&*self.db, key)
    }

    /// Sets a value in the key-value table.
    pub fn kv_set(&self, key: &str, value: &str) -> CliResult<()> {
        records::kv_set(&*self.db, key, value)
    }

    /// Makes every change of the transaction durable at once.
    pub fn commit(self) -> CliResult<()> {
        self.db.commit().map_err(CliError::from)
    }
}
