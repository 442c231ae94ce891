//! What every command shares: global options, the clock, randomness, the store,
//! the format set (presets + `--formats` file + formats saved in the store) and the hasher.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use keyproof::{presets, FormatSet, HashAlgorithm, Hasher, KeyFormat};

use crate::exit::{CliError, CliResult};
use crate::store::{Store, StoreLocation};

/// Environment variable holding an optional HMAC pepper (≥ 16 bytes).
pub const PEPPER_ENV: &str = "KEYPROOF_PEPPER";

/// Global options and the clock, resolved once per run.
pub struct Ctx {
    /// Print JSON instead of tables.
    pub json: bool,
    /// The store: a SQLite file or a PostgreSQL database.
    pub store: StoreLocation,
    /// Extra formats file.
    pub formats_file: Option<PathBuf>,
    /// The time every decision uses.
    pub now: DateTime<Utc>,
}

impl Ctx {
    /// Opens (creating) the store.
    pub fn open_store(&self) -> CliResult<Store> {
        Store::open(&self.store)
    }

    /// Opens the store read-only (`None` when there is none yet): for commands
    /// that only read, so they need no write access and create nothing.
    pub fn open_read_store(&self) -> CliResult<Option<Store>> {
        Store::open_read(&self.store)
    }

    /// Formats from the `--formats` file: a JSON array of formats or one format object.
    pub fn file_formats(&self) -> CliResult<Vec<KeyFormat>> {
        match &self.formats_file {
            Some(path) => formats_from_file(path),
            None => Ok(Vec::new()),
        }
    }

    /// Every preset, plus the `--formats` file, plus `stored` formats not already known.
    pub fn format_set(&self, stored: &[KeyFormat]) -> CliResult<FormatSet> {
        let mut formats = presets::all();
        formats.extend(self.file_formats()?);
        for f in stored {
            if !formats.iter().any(|g| g.id == f.id) {
                formats.push(f.clone());
            }
        }
        Ok(FormatSet::new(formats)?)
    }

    /// The hasher: SHA-256, or HMAC-SHA256 when `KEYPROOF_PEPPER` is set.
    pub fn hasher(&self) -> CliResult<Hasher> {
        match std::env::var_os(PEPPER_ENV) {
            Some(p) if !p.is_empty() => {
                let pepper = p.into_encoded_bytes();
                Ok(Hasher::new(HashAlgorithm::HmacSha256, Some(&pepper))?)
            }
            _ => Ok(Hasher::default()),
        }
    }
}

/// Formats from a `--formats` file: a JSON array of formats or one format object.
pub fn formats_from_file(path: &Path) -> CliResult<Vec<KeyFormat>> {
    let text = read_file(path)?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::new(crate::exit::Exit::Usage, "invalid_format", format!("{}: {e}", path.display())))?;
    let formats = match value {
        serde_json::Value::Array(items) => items,
        other => vec![other],
    };
    formats
        .into_iter()
        .map(|f| KeyFormat::from_json(&f.to_string()).map_err(CliError::from))
        .collect::<CliResult<Vec<_>>>()
}

/// 32 bytes from the operating system's random number generator.
pub fn random32() -> CliResult<[u8; 32]> {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).map_err(|e| {
        CliError::new(crate::exit::Exit::Io, "insufficient_randomness", format!("the OS random generator failed: {e}"))
    })?;
    Ok(buf)
}

/// Reads a whole file as text.
pub fn read_file(path: &Path) -> CliResult<String> {
    std::fs::read_to_string(path).map_err(|e| CliError::io(&format!("cannot read {}", path.display()), &e))
}

/// Reads `path`, or stdin when it is `-`.
pub fn read_input(path: &str) -> CliResult<String> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| CliError::io("cannot read stdin", &e))?;
        Ok(text)
    } else {
        read_file(Path::new(path))
    }
}

/// Parses a grace duration (`24h`, `30m`, `7d`, `0` …) with core's rule; a bad one is a usage error.
pub fn parse_duration(text: &str) -> CliResult<chrono::Duration> {
    keyproof::lifecycle::parse_grace(text).map_err(|e| CliError::usage(e.message().to_string()))
}

/// Parses an RFC 3339 / ISO 8601 timestamp given on the command line.
pub fn parse_time(text: &str) -> CliResult<DateTime<Utc>> {
    Ok(keyproof::timestamp::parse_timestamp(text)?)
}

/// A key's own quotas from `--rate-limits` JSON (core checks them when it mints or updates).
pub fn quotas(text: &str) -> CliResult<std::collections::BTreeMap<String, keyproof::Quota>> {
    json_flag("--rate-limits", r#"'{"default": {"limit": 100, "burst": 20}}'"#, text)
}

/// A key's usage limit from `--usage-limit` JSON (core checks it when it mints or updates).
pub fn usage_limit(text: &str) -> CliResult<keyproof::UsageLimit> {
    json_flag("--usage-limit", r#"'{"limit": 1000, "period": "month"}'"#, text)
}

fn json_flag<T: serde::de::DeserializeOwned>(flag: &str, example: &str, text: &str) -> CliResult<T> {
    serde_json::from_str(text).map_err(|e| CliError::usage(format!("{flag} takes JSON like {example} ({e})")))
}
