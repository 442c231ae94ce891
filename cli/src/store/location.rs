//! Where the store lives: a SQLite file (the default) or a PostgreSQL database
//! named by a `postgresql://` / `postgres://` URL. A URL's password never leaves
//! this module: everything printed uses [`Dsn::shown`], which masks it.

use std::fmt;
use std::path::{Path, PathBuf};

/// The `--store` / `KEYPROOF_STORE` value, resolved.
#[derive(Clone)]
pub enum StoreLocation {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(Dsn),
}

impl StoreLocation {
    /// A `postgresql://` or `postgres://` URL selects PostgreSQL; anything else is a SQLite path.
    pub fn parse(value: PathBuf) -> Self {
        match value.to_str() {
            Some(text) if is_postgres_url(text) => Self::Postgres(Dsn::new(text)),
            _ => Self::Sqlite(value),
        }
    }

    /// Printable form: the path, or the URL with its password masked.
    pub fn display(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(dsn) => dsn.shown().to_string(),
        }
    }

    /// False only for a SQLite file that does not exist yet (a database is
    /// only known to lack the store once connected to).
    pub fn may_exist(&self) -> bool {
        match self {
            Self::Sqlite(path) => path.exists(),
            Self::Postgres(_) => true,
        }
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(path) => Some(path),
            Self::Postgres(_) => None,
        }
    }
}

impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

/// Whether `text` names a PostgreSQL database.
fn is_postgres_url(text: &str) -> bool {
    ["postgresql://", "postgres://"]
        .iter()
        .any(|scheme| text.get(..scheme.len()).is_some_and(|s| s.eq_ignore_ascii_case(scheme)))
}

/// A PostgreSQL connection URL. `Debug` and [`Dsn::shown`] mask the password.
#[derive(Clone)]
pub struct Dsn {
    url: String,
    shown: String,
}

impl Dsn {
    /// Wraps a URL.
    pub fn new(url: &str) -> Self {
        Self { url: url.to_string(), shown: mask_password(url) }
    }

    /// The URL itself, password included: only for connecting.
    pub fn secret_url(&self) -> &str {
        &self.url
    }

    /// The URL with its password (in the user info or a `password=` parameter) masked.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The password given in the URL, if any (to scrub it from driver messages).
    pub fn password(&self) -> Option<String> {
        let (_, rest) = self.url.split_once("://")?;
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let from_userinfo =
            authority.rsplit_once('@').and_then(|(userinfo, _)| userinfo.split_once(':')).map(|(_, p)| p);
        let from_query = query_of(rest).and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("password=")));
        from_userinfo.or(from_query).filter(|p| !p.is_empty()).map(str::to_string)
    }

    /// `text` with the URL's password masked (driver errors should never carry
    /// it; this makes sure).
    pub fn scrub(&self, text: &str) -> String {
        match self.password() {
            Some(p) => text.replace(&p, "***"),
            None => text.to_string(),
        }
    }
}

impl fmt::Debug for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

fn query_of(rest: &str) -> Option<&str> {
    rest.split_once('?').map(|(_, q)| q.split('#').next().unwrap_or_default())
}

/// `scheme://user:***@host/db?password=***`: user info and `password=` masked.
fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|kv| if kv.starts_with("password=") { "password=***".to_string() } else { kv.to_string() })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        let dsn = Dsn::new("postgresql://ops:s3cr%40t@db.internal:5432/keys?sslmode=disable&password=other");
        assert_eq!(dsn.shown(), "postgresql://ops:***@db.internal:5432/keys?sslmode=disable&password=***");
        assert_eq!(dsn.password().as_deref(), Some("s3cr%40t"));
        assert_eq!(format!("{dsn:?}"), dsn.shown());
        let plain = Dsn::new("postgres://ops@127.0.0.1/keys");
        assert_eq!(plain.shown(), "postgres://ops@127.0.0.1/keys");
        assert_eq!(plain.password(), None);
        let query_only = Dsn::new("postgres://ops@h/db?password=pw1");
        assert_eq!(query_only.password().as_deref(), Some("pw1"));
        assert_eq!(query_only.scrub("failed with pw1"), "failed with ***");
    }

    #[test]
    fn urls_select_postgres_and_paths_sqlite() {
        assert!(matches!(StoreLocation::parse("POSTGRESQL://h/db".into()), StoreLocation::Postgres(_)));
        assert!(matches!(StoreLocation::parse("postgres://h/db".into()), StoreLocation::Postgres(_)));
        assert!(matches!(StoreLocation::parse("keyproof.db".into()), StoreLocation::Sqlite(_)));
        assert!(matches!(StoreLocation::parse("postgres.db".into()), StoreLocation::Sqlite(_)));
    }
}
