//! The PostgreSQL backend (`--store postgresql://…`): the same tables as the
//! SQLite file, created on first use in the connection's schema (`search_path`).
//!
//! Guarantees: each write is one transaction (READ COMMITTED); every record a
//! write transaction reads is locked (`SELECT … FOR UPDATE`) until it ends, and
//! a rate-limit entry, which may not exist yet, is locked by name (a
//! transaction-scoped advisory lock), so concurrent writers never lose one
//! another's changes — what SQLite's single writer gives. Inserts rely on the
//! unique id and hash; a commit never fails for serialization reasons, so a key
//! printed before the commit is stored unless the connection dies.
//!
//! TLS as libpq's `sslmode` / `sslrootcert` say (see `tls`).

use std::cell::RefCell;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, Config, GenericClient, NoTls, Transaction};

use super::location::Dsn;
use super::sql::{Backend, DbError, Param, Sql, WriteTx};
use super::tls::Tls;
use super::SCHEMA_VERSION;
use crate::exit::{CliError, CliResult};

/// The SQLite schema in PostgreSQL types: `created_at` is a BIGINT and ids,
/// hashes and keys compare bytewise (`COLLATE "C"`), as in SQLite.
const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS keys (
    id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    hash        TEXT COLLATE "C" NOT NULL,
    fingerprint TEXT NOT NULL,
    format      TEXT NOT NULL,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    client_id   TEXT COLLATE "C",
    created_at  BIGINT NOT NULL,
    record      TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS keys_hash ON keys(hash);
CREATE INDEX IF NOT EXISTS keys_client_id ON keys(client_id);
CREATE TABLE IF NOT EXISTS formats (
    id     TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    format TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kv (
    key   TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER NOT NULL
);
"#;

/// First half of keyproof's advisory lock keys: creating the tables.
const MIGRATE_LOCK: i32 = 0x6b70_0001;
/// First half of keyproof's advisory lock keys: one key-value entry.
const NAME_LOCK: i32 = 0x6b70_0002;

/// How long a statement waits for a lock another writer holds (SQLite's busy timeout is 5 s).
const SESSION: &str = "SET lock_timeout = '10s'";

/// A store in a PostgreSQL database.
pub struct PgStore {
    client: RefCell<Client>,
}

impl PgStore {
    /// Connects and creates the tables on first use.
    pub fn open(dsn: &Dsn) -> CliResult<Self> {
        let mut client = connect(dsn, SESSION)?;
        match version(&mut client)? {
            Some(v) if v > SCHEMA_VERSION => return Err(too_new(v)),
            Some(v) if v == SCHEMA_VERSION => {}
            _ => migrate(&mut client).map_err(|e| {
                CliError::store(format!("cannot create the store's tables in {}: {}", dsn.shown(), e.message))
            })?,
        }
        Ok(Self { client: RefCell::new(client) })
    }

    /// Connects in a read-only session; `None` when the database holds no store yet.
    pub fn open_read(dsn: &Dsn) -> CliResult<Option<Self>> {
        let mut client = connect(dsn, &format!("{SESSION}; SET default_transaction_read_only = on"))?;
        match version(&mut client)? {
            None => Ok(None),
            Some(v) if v > SCHEMA_VERSION => Err(too_new(v)),
            Some(_) => Ok(Some(Self { client: RefCell::new(client) })),
        }
    }
}

fn too_new(version: i64) -> CliError {
    CliError::store(format!("the store has schema version {version}; this keyproof understands up to {SCHEMA_VERSION}"))
}

fn connect(dsn: &Dsn, session: &str) -> CliResult<Client> {
    let unusable = |e: String| CliError::store(format!("{}: {}", dsn.shown(), dsn.scrub(&e)));
    let tls = Tls::from_url(dsn.secret_url()).map_err(unusable)?;
    let mut config: Config = tls.url.parse().map_err(|e: postgres::Error| {
        CliError::store(format!("{} is not a usable PostgreSQL URL: {}", dsn.shown(), dsn.scrub(&e.to_string())))
    })?;
    config.ssl_mode(tls.mode);
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    if config.get_password().is_none() {
        if let Some(password) = std::env::var_os("PGPASSWORD").filter(|p| !p.is_empty()) {
            config.password(password.into_encoded_bytes());
        }
    }
    if config.get_application_name().is_none() {
        config.application_name("keyproof");
    }
    let connected = match tls.connector().map_err(unusable)? {
        Some(connector) => config.connect(connector),
        None => config.connect(NoTls),
    };
    let mut client = connected.map_err(|e| {
        CliError::store(format!("cannot connect to the store {}: {}", dsn.shown(), dsn.scrub(&with_causes(&e))))
    })?;
    client.batch_execute(session).map_err(db_error)?;
    Ok(client)
}

/// The schema version, `None` when the tables were never created here.
fn version(client: &mut Client) -> Result<Option<i64>, DbError> {
    let row = client.query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[]).map_err(db_error)?;
    if !row.try_get::<_, bool>(0).map_err(db_error)? {
        return Ok(None);
    }
    let row = client.query_one("SELECT max(version)::bigint FROM schema_version", &[]).map_err(db_error)?;
    row.try_get::<_, Option<i64>>(0).map_err(db_error)
}

/// Creates the tables, holding a lock so that concurrent first commands do not
/// race on `CREATE TABLE` (which PostgreSQL does not make safe by itself).
fn migrate(client: &mut Client) -> CliResult<()> {
    let mut tx = client.transaction().map_err(db_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", &[&MIGRATE_LOCK]).map_err(db_error)?;
    tx.batch_execute(SCHEMA).map_err(db_error)?;
    let current: Option<i64> = tx
        .query_one("SELECT max(version)::bigint FROM schema_version", &[])
        .and_then(|r| r.try_get(0))
        .map_err(db_error)?;
    if let Some(v) = current.filter(|v| *v > SCHEMA_VERSION) {
        return Err(too_new(v));
    }
    let target = i32::try_from(SCHEMA_VERSION).unwrap_or(i32::MAX);
    tx.execute("DELETE FROM schema_version", &[]).map_err(db_error)?;
    tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&target]).map_err(db_error)?;
    tx.commit().map_err(db_error)?;
    Ok(())
}

/// The driver's message and its causes ("error connecting to server: Connection refused …").
fn with_causes(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

fn db_error(e: postgres::Error) -> DbError {
    match e.as_db_error() {
        Some(db) if db.code() == &SqlState::UNIQUE_VIOLATION => DbError::Conflict(db.message().to_string()),
        Some(db) => DbError::Other(format!("{} ({})", db.message(), db.code().code())),
        None => DbError::Other(with_causes(&e)),
    }
}

fn bind<'p>(params: &'p [Param<'_>]) -> Vec<&'p (dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| match p {
            Param::Text(s) => s as &(dyn ToSql + Sync),
            Param::OptText(s) => s as &(dyn ToSql + Sync),
            Param::Int(i) => i as &(dyn ToSql + Sync),
        })
        .collect()
}

/// `?1` → `$1`: statements are written once, with SQLite's placeholders.
fn dialect(sql: &str) -> String {
    sql.replace('?', "$")
}

fn borrow<C>(cell: &RefCell<C>) -> Result<std::cell::RefMut<'_, C>, DbError> {
    cell.try_borrow_mut().map_err(|_| DbError::Other("the connection is busy".into()))
}

fn execute(client: &mut impl GenericClient, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
    client.execute(dialect(sql).as_str(), &bind(params)).map_err(db_error)
}

fn rows(client: &mut impl GenericClient, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<String>>, DbError> {
    let rows = client.query(dialect(sql).as_str(), &bind(params)).map_err(db_error)?;
    rows.iter().map(|row| (0..row.len()).map(|i| row.try_get::<_, String>(i).map_err(db_error)).collect()).collect()
}

impl Sql for PgStore {
    fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
        execute(&mut *borrow(&self.client)?, sql, params)
    }

    fn rows(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<String>>, DbError> {
        rows(&mut *borrow(&self.client)?, sql, params)
    }
}

impl Backend for PgStore {
    fn begin(&mut self) -> Result<Box<dyn WriteTx + '_>, DbError> {
        let tx = self.client.get_mut().transaction().map_err(db_error)?;
        Ok(Box::new(PgTx(RefCell::new(tx))))
    }
}

struct PgTx<'a>(RefCell<Transaction<'a>>);

impl Sql for PgTx<'_> {
    fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
        execute(&mut *borrow(&self.0)?, sql, params)
    }

    fn rows(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<String>>, DbError> {
        rows(&mut *borrow(&self.0)?, sql, params)
    }

    fn row_lock(&self) -> &'static str {
        " FOR UPDATE"
    }

    fn lock_name(&self, name: &str) -> Result<(), DbError> {
        let sql = "SELECT pg_advisory_xact_lock($1, hashtext(current_schema() || '.' || $2))";
        borrow(&self.0)?.execute(sql, &[&NAME_LOCK, &name]).map(|_| ()).map_err(db_error)
    }
}

impl WriteTx for PgTx<'_> {
    fn commit(self: Box<Self>) -> Result<(), DbError> {
        self.0.into_inner().commit().map_err(db_error)
    }
}
