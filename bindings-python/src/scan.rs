//! Wrapper for `keyproof::scan`: leak scanning and redaction.

use pyo3::prelude::*;

use crate::convert::q;
use crate::format::{set_or_presets, FormatSet};

/// A key found in text: offsets and a preview, never the key.
/// `start`/`end` index the Python string; `byte_start`/`byte_end` its UTF-8 bytes.
#[pyclass(name = "Finding", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Finding {
    #[pyo3(get)]
    format_id: String,
    #[pyo3(get)]
    start: usize,
    #[pyo3(get)]
    end: usize,
    #[pyo3(get)]
    byte_start: usize,
    #[pyo3(get)]
    byte_end: usize,
    #[pyo3(get)]
    line: usize,
    #[pyo3(get)]
    column: usize,
    #[pyo3(get)]
    preview: String,
    #[pyo3(get)]
    checksum_verified: bool,
}

#[pymethods]
impl Finding {
    fn __repr__(&self) -> String {
        format!(
            "Finding(format_id={}, line={}, column={}, preview={})",
            q(&self.format_id),
            self.line,
            self.column,
            q(&self.preview)
        )
    }
}

/// Converts the core's byte offsets (in order of appearance) to code-point indices.
fn with_char_offsets(text: &str, findings: Vec<keyproof::Finding>) -> Vec<Finding> {
    let (mut byte, mut chars) = (0usize, 0usize);
    let mut advance = |to: usize| {
        chars += text.get(byte..to).map_or(0, |s| s.chars().count());
        byte = to;
        chars
    };
    findings
        .into_iter()
        .map(|f| {
            let start = advance(f.start);
            let end = advance(f.end);
            Finding {
                format_id: f.format_id,
                start,
                end,
                byte_start: f.start,
                byte_end: f.end,
                line: f.line,
                column: f.column,
                preview: f.preview,
                checksum_verified: f.checksum_verified,
            }
        })
        .collect()
}

pub(crate) fn scan_in(py: Python<'_>, set: &keyproof::FormatSet, text: String) -> Vec<Finding> {
    py.detach(|| with_char_offsets(&text, keyproof::scan(set, &text)))
}

pub(crate) fn redact_in(py: Python<'_>, set: &keyproof::FormatSet, text: String) -> String {
    py.detach(|| keyproof::redact(set, &text))
}

/// Finds keys of `formats` (every preset when omitted) in `text`.
#[pyfunction]
#[pyo3(signature = (text, formats=None))]
pub(crate) fn scan(py: Python<'_>, text: String, formats: Option<PyRef<'_, FormatSet>>) -> PyResult<Vec<Finding>> {
    Ok(scan_in(py, set_or_presets(formats.as_deref())?, text))
}

/// `text` with every key of `formats` (every preset when omitted) replaced by its preview.
#[pyfunction]
#[pyo3(signature = (text, formats=None))]
pub(crate) fn redact(py: Python<'_>, text: String, formats: Option<PyRef<'_, FormatSet>>) -> PyResult<String> {
    Ok(redact_in(py, set_or_presets(formats.as_deref())?, text))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Finding>()?;
    m.add_function(wrap_pyfunction!(scan, m)?)?;
    m.add_function(wrap_pyfunction!(redact, m)?)?;
    Ok(())
}
