//! Wrapper for `keyproof::parse`: `ParsedKey` and `parse_key`.

use keyproof::KeyFormat;
use pyo3::prelude::*;

use crate::convert::q;
use crate::errors::to_py_err;
use crate::format::{set_or_presets, Format, FormatSet};

/// A key that matched a format. Holds the plaintext, which no `repr` shows.
#[pyclass(name = "ParsedKey", module = "keyproof", frozen)]
pub struct ParsedKey {
    pub(crate) inner: keyproof::ParsedKey,
    pub(crate) format: KeyFormat,
}

impl ParsedKey {
    pub(crate) fn new(inner: keyproof::ParsedKey, format: KeyFormat) -> Self {
        Self { inner, format }
    }
}

/// Parses `key` in `set`, keeping the matching format for hashing.
pub(crate) fn parse_in(set: &keyproof::FormatSet, key: &str) -> PyResult<ParsedKey> {
    let parsed = keyproof::parse_key(set, key).map_err(to_py_err)?;
    let format = parsed.format().clone();
    Ok(ParsedKey::new(parsed, format))
}

#[pymethods]
impl ParsedKey {
    /// Id of the matching format.
    #[getter]
    fn format_id(&self) -> &str {
        self.inner.format_id()
    }
    /// Environment of the format.
    #[getter]
    fn environment(&self) -> &str {
        self.inner.environment()
    }
    /// Credential kind of the format.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind().as_str()
    }
    /// The non-secret part: the prefix, plus Seam's short token.
    #[getter]
    fn public_part(&self) -> &str {
        self.inner.public_part()
    }
    /// Whether a checksum was verified.
    #[getter]
    fn has_checksum(&self) -> bool {
        self.inner.has_checksum()
    }
    /// Masked preview, safe to log.
    #[getter]
    fn preview(&self) -> String {
        self.inner.preview()
    }
    /// The matching format.
    #[getter]
    fn format(&self) -> Format {
        Format::wrap(self.format.clone())
    }

    fn __repr__(&self) -> String {
        format!(
            "ParsedKey(format_id={}, environment={}, kind={}, preview={})",
            q(self.inner.format_id()),
            q(self.inner.environment()),
            q(self.inner.kind().as_str()),
            q(&self.inner.preview())
        )
    }
}

/// Parses `key` against `formats` (every preset when omitted).
#[pyfunction]
#[pyo3(signature = (key, formats=None))]
pub(crate) fn parse_key(key: String, formats: Option<PyRef<'_, FormatSet>>) -> PyResult<ParsedKey> {
    parse_in(set_or_presets(formats.as_deref())?, &key)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ParsedKey>()?;
    m.add_function(wrap_pyfunction!(parse_key, m)?)?;
    Ok(())
}
