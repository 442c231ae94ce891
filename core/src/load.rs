//! One loading path for every value a host hands to core: from JSON text or
//! straight from any serde `Deserializer` (pythonize, serde-wasm-bindgen, napi),
//! so bindings convert host values without a JSON-text round trip.

use serde::de::DeserializeOwned;
use serde::Deserializer;

use crate::error::{deserialize_error, serde_error, ErrorKind, Result};

/// A value core loads from outside: deserialized, then validated.
pub trait Load: DeserializeOwned {
    /// The error kind a shape error of this value reports.
    const KIND: ErrorKind;

    /// Checks what serde cannot (ranges, cross-field rules).
    fn check(&self) -> Result<()> {
        Ok(())
    }

    /// Loads from any deserializer; its errors become keyproof errors of [`Load::KIND`]
    /// (or the code a field deserializer names, e.g. `invalid_timestamp`).
    fn load<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self>
    where
        D::Error: std::fmt::Display,
    {
        let value = Self::deserialize(deserializer).map_err(|e| deserialize_error(Self::KIND, e.to_string()))?;
        value.check()?;
        Ok(value)
    }

    /// Loads from JSON text (syntax errors are `invalid_json`).
    fn load_json(json: &str) -> Result<Self> {
        let value: Self = serde_json::from_str(json).map_err(|e| serde_error(Self::KIND, &e))?;
        value.check()?;
        Ok(value)
    }
}
