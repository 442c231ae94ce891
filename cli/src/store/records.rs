//! The store's operations, written once for every backend: records by id and
//! by storage hash, the listing, custom formats and the key-value entries
//! (rate-limit state). The core's record JSON in `record` is the source of
//! truth; the other columns exist for lookups and listing.

use keyproof::{KeyFormat, KeyRecord};

use super::sql::{DbError, Param, Sql};
use super::{CorruptRow, Listing};
use crate::exit::{CliError, CliResult};

fn status_str(record: &KeyRecord) -> String {
    serde_json::to_value(record.status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn parse_record(id: &str, json: &str) -> CliResult<KeyRecord> {
    KeyRecord::from_json(json)
        .map_err(|e| CliError::store(format!("the stored record {id:?} is corrupt ({}: {})", e.code(), e.message())))
}

/// Each row's first two columns.
fn pairs(rows: Vec<Vec<String>>) -> impl Iterator<Item = (String, String)> {
    rows.into_iter().filter_map(|row| {
        let mut columns = row.into_iter();
        Some((columns.next()?, columns.next()?))
    })
}

/// The first row's first two columns.
fn pair(rows: Vec<Vec<String>>) -> Option<(String, String)> {
    pairs(rows).next()
}

/// Writes `record` with `sql`, whose placeholders are the columns in table
/// order: id, hash, fingerprint, format, name, status, client_id, created_at, record.
fn write_row(db: &dyn Sql, sql: &str, record: &KeyRecord) -> Result<u64, DbError> {
    let (status, json) = (status_str(record), record.to_json());
    db.execute(
        sql,
        &[
            Param::Text(&record.id),
            Param::Text(&record.hash),
            Param::Text(&record.fingerprint),
            Param::Text(&record.format),
            Param::Text(&record.name),
            Param::Text(&status),
            Param::OptText(record.client_id.as_deref()),
            Param::Int(record.created_at.timestamp_micros()),
            Param::Text(&json),
        ],
    )
}

/// Inserts a new record. Fails on a duplicate id or hash.
pub fn insert(db: &dyn Sql, record: &KeyRecord) -> CliResult<()> {
    let sql = "INSERT INTO keys (id, hash, fingerprint, format, name, status, client_id, created_at, record)
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
    write_row(db, sql, record).map_err(|e| match e {
        DbError::Conflict(_) => {
            CliError::store(format!("a record with the id {:?} or the same hash already exists", record.id))
        }
        other => CliError::from(other),
    })?;
    Ok(())
}

/// Replaces an existing record (same id).
pub fn update(db: &dyn Sql, record: &KeyRecord) -> CliResult<()> {
    let sql = "UPDATE keys SET hash = ?2, fingerprint = ?3, format = ?4, name = ?5, status = ?6, client_id = ?7,
               created_at = ?8, record = ?9 WHERE id = ?1";
    if write_row(db, sql, record)? == 0 {
        return Err(CliError::unknown_id(&record.id));
    }
    Ok(())
}

/// The stored JSON of record `id` (locked in a write transaction).
fn record_json(db: &dyn Sql, id: &str) -> CliResult<Option<String>> {
    let sql = format!("SELECT id, record FROM keys WHERE id = ?1{}", db.row_lock());
    Ok(pair(db.rows(&sql, &[Param::Text(id)])?).map(|(_, json)| json))
}

/// Whether a record with this id exists.
pub fn exists(db: &dyn Sql, id: &str) -> CliResult<bool> {
    Ok(record_json(db, id)?.is_some())
}

/// One record; `unknown_id` when there is none.
pub fn get(db: &dyn Sql, id: &str) -> CliResult<KeyRecord> {
    record_json(db, id)?.map_or_else(|| Err(CliError::unknown_id(id)), |j| parse_record(id, &j))
}

/// The record stored under the first of `hashes` that exists.
pub fn find_by_hashes(db: &dyn Sql, hashes: &[String]) -> CliResult<Option<KeyRecord>> {
    let sql = format!("SELECT id, record FROM keys WHERE hash = ?1{}", db.row_lock());
    for hash in hashes {
        if let Some((id, json)) = pair(db.rows(&sql, &[Param::Text(hash)])?) {
            return parse_record(&id, &json).map(Some);
        }
    }
    Ok(None)
}

/// Every record, oldest first; rows core refuses to load are set aside, not fatal.
pub fn list(db: &dyn Sql) -> CliResult<Listing> {
    let mut out = Listing::default();
    for (id, json) in pairs(db.rows("SELECT id, record FROM keys ORDER BY created_at, id", &[])?) {
        match KeyRecord::from_json(&json) {
            Ok(record) => out.records.push(record),
            Err(e) => out.corrupt.push(CorruptRow { id, code: e.code(), message: e.message().to_string() }),
        }
    }
    Ok(out)
}

/// Remembers a custom format so later commands (rotate, verify) know it.
pub fn save_format(db: &dyn Sql, format: &KeyFormat) -> CliResult<()> {
    db.execute(
        "INSERT INTO formats (id, format) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET format = excluded.format",
        &[Param::Text(&format.id), Param::Text(&format.to_json())],
    )?;
    Ok(())
}

/// Custom formats, and the rows core refused to load.
pub fn formats_checked(db: &dyn Sql) -> CliResult<(Vec<KeyFormat>, Vec<CorruptRow>)> {
    let mut out = (Vec::new(), Vec::new());
    for (id, json) in pairs(db.rows("SELECT id, format FROM formats ORDER BY id", &[])?) {
        match KeyFormat::from_json(&json) {
            Ok(format) => out.0.push(format),
            Err(e) => out.1.push(CorruptRow { id, code: e.code(), message: e.message().to_string() }),
        }
    }
    Ok(out)
}

/// A value from the key-value table, locked until the transaction ends.
pub fn kv_get(db: &dyn Sql, key: &str) -> CliResult<Option<String>> {
    db.lock_name(key)?;
    Ok(pair(db.rows("SELECT key, value FROM kv WHERE key = ?1", &[Param::Text(key)])?).map(|(_, value)| value))
}

/// Sets a value in the key-value table.
pub fn kv_set(db: &dyn Sql, key: &str, value: &str) -> CliResult<()> {
    db.execute(
        "INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        &[Param::Text(key), Param::Text(value)],
    )?;
    Ok(())
}
