//! One loading path for every value a host hands to core: from JSON text or
//! straight from any serde `Deserializer` (pythonize, serde-wasm-bindgen, napi),
//! so bindings convert host values without a JSON-text round trip.

use serde::de::DeserializeOwned;
use serde::Deserializer;

use crate::error::{deserialize_error, serde_error, Error, ErrorKind, Result};

/// A value core loads from outside: deserialized, then validated.
pub trait Load: DeserializeOwned {
    /// The error kind a shape error of this value reports.
    const KIND: ErrorKind;

    /// Checks what serde cannot (ranges, cross-field rules).
    fn check(&self) -> Result<()> {
        Ok(())
    }

    /// Loads from any deserializer; its errors become keyproof errors of [`Load::KIND`]
    /// (or the code a field deserializer names, e.g. `invalid_timestamp`), their
    /// message led by the path of the field at fault (`policy.routes[2].method: …`).
    fn load<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self>
    where
        D::Error: std::fmt::Display,
    {
        let value: Self = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let path = e.path().to_string();
            at_path(&path, deserialize_error(Self::KIND, e.into_inner().to_string()))
        })?;
        value.check()?;
        Ok(value)
    }

    /// Loads from JSON text (syntax errors are `invalid_json`).
    fn load_json(json: &str) -> Result<Self> {
        let mut de = serde_json::Deserializer::from_str(json);
        let value: Self = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            at_path(&path, serde_error(Self::KIND, e.inner()))
        })?;
        de.end().map_err(|e| serde_error(Self::KIND, &e))?;
        value.check()?;
        Ok(value)
    }
}

/// `error` with the field path leading its message (the root `.` adds nothing).
fn at_path(path: &str, error: Error) -> Error {
    if path.is_empty() || path == "." {
        return error;
    }
    Error::new(error.kind(), format!("{path}: {}", error.message()))
}
