//! The little each database has to provide so the store's operations
//! (`records.rs`) are written once: run a statement, read rows of text, start
//! and commit a write transaction, and lock what a write transaction reads.
//!
//! Statements are written with SQLite's numbered placeholders (`?1`, `?2`…);
//! the PostgreSQL backend turns them into `$1`, `$2`….

use crate::exit::CliError;

/// A value bound to a statement parameter.
#[derive(Clone, Copy, Debug)]
pub enum Param<'a> {
    /// Text.
    Text(&'a str),
    /// Text or NULL.
    OptText(Option<&'a str>),
    /// A 64-bit integer.
    Int(i64),
}

/// A database failure: a unique-constraint violation is told apart (a
/// duplicate id or hash), everything else is a message.
#[derive(Debug)]
pub enum DbError {
    /// A row with the same unique value exists.
    Conflict(String),
    /// Any other failure.
    Other(String),
}

impl From<DbError> for CliError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Conflict(m) | DbError::Other(m) => CliError::store(m),
        }
    }
}

/// Statements and queries; every column a query selects is text.
pub trait Sql {
    /// Runs a statement; the number of rows it changed.
    fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError>;

    /// Runs a query; its rows, each column as text.
    fn rows(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<String>>, DbError>;

    /// Appended to a `SELECT` of rows a write transaction may change, so no
    /// other writer changes them before it ends. SQLite needs nothing (its
    /// write transaction excludes every other writer); PostgreSQL says `FOR UPDATE`.
    fn row_lock(&self) -> &'static str {
        ""
    }

    /// Makes other write transactions that lock the same `name` wait until this
    /// one ends, for an entry that may not exist yet (so there is no row to lock).
    fn lock_name(&self, _name: &str) -> Result<(), DbError> {
        Ok(())
    }
}

/// An open connection to either database.
pub trait Backend: Sql {
    /// Starts a write transaction.
    fn begin(&mut self) -> Result<Box<dyn WriteTx + '_>, DbError>;
}

/// A write transaction: rolled back when dropped without [`WriteTx::commit`].
pub trait WriteTx: Sql {
    /// Makes every change durable at once.
    fn commit(self: Box<Self>) -> Result<(), DbError>;
}
