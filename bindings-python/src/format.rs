//! Wrappers for `keyproof::format` and `keyproof::presets`: `Format`, `FormatSet`, `presets()`.

use std::sync::OnceLock;

use keyproof::KeyFormat;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::{Map, Value};

use crate::convert::{json_text_to_py, py_to_json, q, serde_name, to_json_text};
use crate::errors::to_py_err;
use crate::parse::ParsedKey;

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

fn format_from_value(value: Value) -> PyResult<KeyFormat> {
    KeyFormat::from_json(&value.to_string()).map_err(to_py_err)
}

#[pymethods]
impl Format {
    /// Builds and validates a custom format.
    #[new]
    #[pyo3(signature = (id, prefix, environment, kind, alphabet, length, *, checksum=None, layout=None, short_length=None, hash=None, description=None))]
    #[allow(clippy::too_many_arguments)] // mirrors the format's JSON fields one to one
    fn new(
        id: String,
        prefix: String,
        environment: String,
        kind: String,
        alphabet: String,
        length: usize,
        checksum: Option<String>,
        layout: Option<String>,
        short_length: Option<usize>,
        hash: Option<String>,
        description: Option<String>,
    ) -> PyResult<Self> {
        let mut map = Map::new();
        map.insert("id".into(), id.into());
        map.insert("prefix".into(), prefix.into());
        map.insert("environment".into(), environment.into());
        map.insert("kind".into(), kind.into());
        map.insert("alphabet".into(), alphabet.into());
        map.insert("length".into(), length.into());
        let optional = [
            ("checksum", checksum.map(Value::from)),
            ("layout", layout.map(Value::from)),
            ("short_length", short_length.map(Value::from)),
            ("hash", hash.map(Value::from)),
            ("description", description.map(Value::from)),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                map.insert(key.into(), value);
            }
        }
        format_from_value(Value::Object(map)).map(Self::wrap)
    }

    /// A built-in format by id (see `keyproof.presets()`).
    #[staticmethod]
    fn preset(id: String) -> PyResult<Self> {
        keyproof::presets::get(&id).map(Self::wrap).map_err(to_py_err)
    }

    /// Seam's `prefixed-api-key` layout for `key_prefix` (`mycompany` → `mycompany_<8>_<24>`).
    #[staticmethod]
    #[pyo3(signature = (id, key_prefix, environment="live".to_string()), text_signature = "(id, key_prefix, environment='live')")]
    fn seam(id: String, key_prefix: String, environment: String) -> PyResult<Self> {
        let format = keyproof::presets::seam_format(&id, &key_prefix, &environment);
        format.validate().map_err(to_py_err)?;
        Ok(Self::wrap(format))
    }

    /// Loads one format from JSON text.
    #[staticmethod]
    fn from_json(json: String) -> PyResult<Self> {
        KeyFormat::from_json(&json).map(Self::wrap).map_err(to_py_err)
    }

    /// Loads one format from a dict shaped like its JSON.
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        format_from_value(py_to_json(data)?).map(Self::wrap)
    }

    /// The format as JSON text.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The format as a JSON-shaped dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_text_to_py(py, &self.inner.to_json())
    }

    /// Parses a key of this format.
    fn parse(&self, key: String) -> PyResult<ParsedKey> {
        keyproof::parse::parse_with(&self.inner, &key).map(|p| ParsedKey::new(p, self.inner.clone())).map_err(to_py_err)
    }

    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }
    #[getter]
    fn prefix(&self) -> &str {
        &self.inner.prefix
    }
    #[getter]
    fn environment(&self) -> &str {
        &self.inner.environment
    }
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind.as_str()
    }
    #[getter]
    fn alphabet(&self) -> String {
        serde_name(&self.inner.alphabet)
    }
    #[getter]
    fn length(&self) -> usize {
        self.inner.length
    }
    #[getter]
    fn checksum(&self) -> Option<String> {
        self.inner.checksum.as_ref().map(serde_name)
    }
    #[getter]
    fn layout(&self) -> String {
        serde_name(&self.inner.layout)
    }
    #[getter]
    fn short_length(&self) -> Option<usize> {
        self.inner.short_length
    }
    #[getter]
    fn hash(&self) -> Option<&'static str> {
        self.inner.hash.map(|h| h.tag())
    }
    #[getter]
    fn description(&self) -> &str {
        &self.inner.description
    }
    /// Characters after the prefix.
    #[getter]
    fn body_length(&self) -> usize {
        self.inner.body_length()
    }
    /// Total key length.
    #[getter]
    fn key_length(&self) -> usize {
        self.inner.key_length()
    }
    /// Bits of entropy in the secret part.
    #[getter]
    fn entropy_bits(&self) -> f64 {
        self.inner.entropy_bits()
    }

    fn __repr__(&self) -> String {
        format!(
            "Format(id={}, prefix={}, environment={}, kind={})",
            q(&self.inner.id),
            q(&self.inner.prefix),
            q(&self.inner.environment),
            q(self.inner.kind.as_str())
        )
    }
}

/// A validated set of formats, matched by longest prefix.
#[pyclass(name = "FormatSet", module = "keyproof", frozen)]
pub struct FormatSet {
    pub(crate) inner: keyproof::FormatSet,
}

/// Every preset, built once.
pub(crate) fn all_presets() -> PyResult<&'static keyproof::FormatSet> {
    static ALL: OnceLock<Result<keyproof::FormatSet, keyproof::Error>> = OnceLock::new();
    ALL.get_or_init(keyproof::presets::all_set).as_ref().map_err(|e| to_py_err(e.clone()))
}

/// The formats a call uses: the given set, or every preset.
pub(crate) fn set_or_presets(formats: Option<&FormatSet>) -> PyResult<&keyproof::FormatSet> {
    match formats {
        Some(set) => Ok(&set.inner),
        None => all_presets(),
    }
}

#[pymethods]
impl FormatSet {
    /// A set of `Format` objects, format dicts, or preset ids.
    #[new]
    fn new(formats: &Bound<'_, PyAny>) -> PyResult<Self> {
        let mut out = Vec::new();
        for item in formats.try_iter()? {
            let item = item?;
            if let Ok(f) = item.cast::<Format>() {
                out.push(f.get().inner.clone());
            } else if let Ok(id) = item.extract::<String>() {
                out.push(keyproof::presets::get(&id).map_err(to_py_err)?);
            } else if item.is_instance_of::<PyDict>() {
                out.push(format_from_value(py_to_json(&item)?)?);
            } else {
                return Err(PyTypeError::new_err("FormatSet items must be Format objects, dicts or preset ids"));
            }
        }
        keyproof::FormatSet::new(out).map(|inner| Self { inner }).map_err(to_py_err)
    }

    /// A set of the named presets, or of every preset.
    #[staticmethod]
    #[pyo3(signature = (ids=None))]
    fn presets(ids: Option<Vec<String>>) -> PyResult<Self> {
        let inner = match ids {
            Some(ids) => {
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                keyproof::presets::set(&ids)
            }
            None => keyproof::presets::all_set(),
        };
        inner.map(|inner| Self { inner }).map_err(to_py_err)
    }

    /// Loads a JSON array of formats.
    #[staticmethod]
    fn from_json(json: String) -> PyResult<Self> {
        keyproof::FormatSet::from_json(&json).map(|inner| Self { inner }).map_err(to_py_err)
    }

    /// The formats as a JSON array.
    fn to_json(&self) -> PyResult<String> {
        to_json_text(&self.inner.formats())
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

    /// A format by id.
    fn get(&self, id: String) -> PyResult<Format> {
        self.inner.get(&id).cloned().map(Format::wrap).map_err(to_py_err)
    }

    /// The format whose prefix `key` starts with (longest prefix wins), or None.
    fn match_prefix(&self, key: String) -> Option<Format> {
        self.inner.match_prefix(&key).map(|f| Format::wrap((**f).clone()))
    }

    /// Parses a key against the set.
    fn parse(&self, key: String) -> PyResult<ParsedKey> {
        crate::parse::parse_in(&self.inner, &key)
    }

    /// Finds keys of these formats in `text`.
    fn scan(&self, py: Python<'_>, text: String) -> Vec<crate::scan::Finding> {
        crate::scan::scan_in(py, &self.inner, text)
    }

    /// `text` with every key of these formats replaced by its preview.
    fn redact(&self, py: Python<'_>, text: String) -> String {
        crate::scan::redact_in(py, &self.inner, text)
    }

    fn __len__(&self) -> usize {
        self.inner.formats().len()
    }

    fn __contains__(&self, id: String) -> bool {
        self.inner.get(&id).is_ok()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyList::new(py, self.formats())?.try_iter()?.into_any())
    }

    fn __repr__(&self) -> String {
        format!("FormatSet([{}])", self.ids().iter().map(|id| q(id)).collect::<Vec<_>>().join(", "))
    }
}

/// Every built-in format, by id, in catalogue order.
#[pyfunction]
pub(crate) fn presets<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for f in keyproof::presets::all() {
        dict.set_item(f.id.clone(), Format::wrap(f))?;
    }
    Ok(dict)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Format>()?;
    m.add_class::<FormatSet>()?;
    m.add_function(wrap_pyfunction!(presets, m)?)?;
    Ok(())
}
