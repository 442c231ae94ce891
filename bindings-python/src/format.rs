//! Key formats and keys: `Format`, `FormatSet`, `ParsedKey`, presets, parsing,
//! leak scanning and redaction.

use std::sync::OnceLock;

use keyproof::KeyFormat;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert::{fields, load, to_json, to_py, Text};
use crate::errors::to_py_err;

/// One key format: prefix, environment, kind, alphabet, length, checksum, layout.
#[pyclass(name = "Format", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Format {
    pub(crate) inner: KeyFormat,
}

impl Format {
    pub(crate) fn wrap(inner: KeyFormat) -> Self {
        Self { inner }
    }
}

/// A format given as a `Format` or a preset id.
pub(crate) fn format_arg(obj: &Bound<'_, PyAny>) -> PyResult<KeyFormat> {
    match obj.cast::<Format>() {
        Ok(f) => Ok(f.get().inner.clone()),
        Err(_) => keyproof::presets::get(&obj.extract::<Text>()?).map_err(to_py_err),
    }
}

loads!(Format);
dumps!(Format);
getters!(Format |f| {
    id: &str = &f.id;
    prefix: &str = &f.prefix;
    environment: &str = &f.environment;
    kind: &'static str = f.kind.as_str();
    alphabet: PyResult<Py<PyAny>> = Python::attach(|py| to_py(py, &f.alphabet));
    length: usize = f.length;
    checksum: PyResult<Py<PyAny>> = Python::attach(|py| to_py(py, &f.checksum));
    layout: PyResult<Py<PyAny>> = Python::attach(|py| to_py(py, &f.layout));
    short_length: Option<usize> = f.short_length;
    hash: Option<&'static str> = f.hash.map(|h| h.tag());
    description: &str = &f.description;
    body_length: usize = f.body_length();
    key_length: usize = f.key_length();
    entropy_bits: f64 = f.entropy_bits();
});

#[pymethods]
impl Format {
    /// Builds and validates a custom format (keyword options: `checksum`, `layout`,
    /// `short_length`, `hash`, `description`).
    #[new]
    #[pyo3(signature = (id, prefix, environment, kind, alphabet, length, **options))]
    #[allow(clippy::too_many_arguments)] // the format's required fields, in order
    fn new<'py>(
        py: Python<'py>,
        id: &Bound<'py, PyAny>,
        prefix: &Bound<'py, PyAny>,
        environment: &Bound<'py, PyAny>,
        kind: &Bound<'py, PyAny>,
        alphabet: &Bound<'py, PyAny>,
        length: &Bound<'py, PyAny>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Self> {
        let given = [
            ("id", Some(id)),
            ("prefix", Some(prefix)),
            ("environment", Some(environment)),
            ("kind", Some(kind)),
            ("alphabet", Some(alphabet)),
            ("length", Some(length)),
        ];
        load(&fields(py, &given, options)?).map(Self::wrap)
    }

    /// A built-in format by id (see `keyproof.presets()`).
    #[staticmethod]
    fn preset(id: Text) -> PyResult<Self> {
        keyproof::presets::get(&id).map(Self::wrap).map_err(to_py_err)
    }

    /// Seam's `prefixed-api-key` layout for `key_prefix` (`mycompany` → `mycompany_<8>_<24>`).
    #[staticmethod]
    #[pyo3(signature = (id, key_prefix, environment=Text("live".into())), text_signature = "(id, key_prefix, environment='live')")]
    fn seam(id: Text, key_prefix: Text, environment: Text) -> PyResult<Self> {
        let format = keyproof::presets::seam_format(&id, &key_prefix, &environment);
        format.validate().map_err(to_py_err)?;
        Ok(Self::wrap(format))
    }

    /// Parses a key of this format.
    fn parse(&self, key: Text) -> PyResult<ParsedKey> {
        keyproof::parse::parse_with(&self.inner, &key).map(|inner| ParsedKey { inner }).map_err(to_py_err)
    }
}

repr!(Format: id, prefix, environment, kind);

/// A validated set of formats, matched by longest prefix.
#[pyclass(name = "FormatSet", module = "keyproof", frozen)]
pub struct FormatSet {
    pub(crate) inner: keyproof::FormatSet,
}

/// The formats a call uses: the given set, or every preset (built once).
fn set_or_presets(formats: Option<&FormatSet>) -> PyResult<&keyproof::FormatSet> {
    static ALL: OnceLock<Result<keyproof::FormatSet, keyproof::Error>> = OnceLock::new();
    match formats {
        Some(set) => Ok(&set.inner),
        None => ALL.get_or_init(keyproof::presets::all_set).as_ref().map_err(|e| to_py_err(e.clone())),
    }
}

#[pymethods]
impl FormatSet {
    /// A set of `Format` objects, preset ids, or format dicts.
    #[new]
    fn new(formats: &Bound<'_, PyAny>) -> PyResult<Self> {
        let mut out = Vec::new();
        for item in formats.try_iter()? {
            let item = item?;
            out.push(if item.is_instance_of::<pyo3::types::PyString>() { format_arg(&item)? } else { load(&item)? });
        }
        keyproof::FormatSet::new(out).map(|inner| Self { inner }).map_err(to_py_err)
    }

    /// A set of the named presets, or of every preset.
    #[staticmethod]
    #[pyo3(signature = (ids=None))]
    fn presets(ids: Option<Vec<String>>) -> PyResult<Self> {
        let inner = match ids {
            Some(ids) => keyproof::presets::set(&ids.iter().map(String::as_str).collect::<Vec<_>>()),
            None => keyproof::presets::all_set(),
        };
        inner.map(|inner| Self { inner }).map_err(to_py_err)
    }

    /// Loads a JSON array of formats.
    #[staticmethod]
    fn from_json(json: Text) -> PyResult<Self> {
        keyproof::FormatSet::from_json(&json).map(|inner| Self { inner }).map_err(to_py_err)
    }

    /// The formats as a JSON array.
    fn to_json(&self) -> PyResult<String> {
        to_json(self.inner.formats())
    }

    /// The formats, longest prefix first.
    #[getter]
    fn formats(&self) -> Vec<Format> {
        self.inner.formats().iter().map(|f| Format::wrap((**f).clone())).collect()
    }

    /// The format ids, longest prefix first.
    #[getter]
    fn ids(&self) -> Vec<String> {
        self.inner.formats().iter().map(|f| f.id.clone()).collect()
    }

    fn get(&self, id: Text) -> PyResult<Format> {
        self.inner.get(&id).cloned().map(Format::wrap).map_err(to_py_err)
    }

    /// The format whose prefix `key` starts with (longest prefix wins), or None.
    fn match_prefix(&self, key: Text) -> Option<Format> {
        self.inner.match_prefix(&key).map(|f| Format::wrap((**f).clone()))
    }

    fn parse(&self, key: Text) -> PyResult<ParsedKey> {
        parse_key(key, Some(self))
    }

    fn scan(&self, py: Python<'_>, text: Text) -> PyResult<Vec<Finding>> {
        scan(py, text, Some(self))
    }

    fn redact(&self, py: Python<'_>, text: Text) -> PyResult<String> {
        redact(py, text, Some(self))
    }

    fn __len__(&self) -> usize {
        self.inner.formats().len()
    }

    fn __contains__(&self, id: Text) -> bool {
        self.inner.get(&id).is_ok()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyList::new(py, self.formats())?.try_iter()?.into_any())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("FormatSet({})", PyList::new(py, self.ids())?.repr()?))
    }
}

/// A key that matched a format. Holds the plaintext, which no `repr` shows.
#[pyclass(name = "ParsedKey", module = "keyproof", frozen)]
pub struct ParsedKey {
    pub(crate) inner: keyproof::ParsedKey,
}

getters!(ParsedKey |p| {
    format_id: &str = p.format_id();
    environment: &str = p.environment();
    kind: &'static str = p.kind().as_str();
    public_part: &str = p.public_part();
    has_checksum: bool = p.has_checksum();
    preview: String = p.preview();
    format: Format = Format::wrap(p.format().clone());
});

repr!(ParsedKey: format_id, environment, kind, preview);

/// Parses `key` against `formats` (every preset when omitted).
#[pyfunction]
#[pyo3(signature = (key, formats=None))]
fn parse_key(key: Text, formats: Option<&FormatSet>) -> PyResult<ParsedKey> {
    keyproof::parse_key(set_or_presets(formats)?, &key).map(|inner| ParsedKey { inner }).map_err(to_py_err)
}

/// A key found in text: offsets and a preview, never the key. `start`/`end`
/// index the Python string; `byte_start`/`byte_end` its UTF-8 bytes.
#[pyclass(name = "Finding", module = "keyproof", frozen, eq, get_all)]
#[derive(Clone, PartialEq)]
pub struct Finding {
    format_id: String,
    start: usize,
    end: usize,
    byte_start: usize,
    byte_end: usize,
    line: usize,
    column: usize,
    preview: String,
    checksum_verified: bool,
}

repr!(Finding: format_id, line, column, preview);

/// Finds keys of `formats` (every preset when omitted) in `text`.
#[pyfunction]
#[pyo3(signature = (text, formats=None))]
fn scan(py: Python<'_>, text: Text, formats: Option<&FormatSet>) -> PyResult<Vec<Finding>> {
    let set = set_or_presets(formats)?;
    let findings = py.detach(|| keyproof::scan(set, &text));
    Ok(findings
        .into_iter()
        .map(|f| Finding {
            format_id: f.format_id,
            start: f.char_start,
            end: f.char_end,
            byte_start: f.start,
            byte_end: f.end,
            line: f.line,
            column: f.column,
            preview: f.preview,
            checksum_verified: f.checksum_verified,
        })
        .collect())
}

/// `text` with every key of `formats` (every preset when omitted) replaced by its preview.
#[pyfunction]
#[pyo3(signature = (text, formats=None))]
fn redact(py: Python<'_>, text: Text, formats: Option<&FormatSet>) -> PyResult<String> {
    let set = set_or_presets(formats)?;
    Ok(py.detach(|| keyproof::redact(set, &text)))
}

/// Every built-in format, by id, in catalogue order.
#[pyfunction]
fn presets(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    for f in keyproof::presets::all() {
        dict.set_item(f.id.clone(), Format::wrap(f))?;
    }
    Ok(dict)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Format>()?;
    m.add_class::<FormatSet>()?;
    m.add_class::<ParsedKey>()?;
    m.add_class::<Finding>()?;
    m.add_function(wrap_pyfunction!(presets, m)?)?;
    m.add_function(wrap_pyfunction!(parse_key, m)?)?;
    m.add_function(wrap_pyfunction!(scan, m)?)?;
    m.add_function(wrap_pyfunction!(redact, m)?)?;
    Ok(())
}
