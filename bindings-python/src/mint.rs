//! Wrapper for `keyproof::mint`: `mint()` and `MintedKey`.

use keyproof::{KeyFormat, MintOptions};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use serde_json::{Map, Value};

use crate::convert::{now_or, py_to_json, q, random_or_urandom};
use crate::errors::to_py_err;
use crate::format::Format;
use crate::hash::Hasher;
use crate::record::{KeyRecord, Owner};

/// A freshly minted key: show `.key` once, store `.record`. `repr` shows the preview only.
#[pyclass(name = "MintedKey", module = "keyproof", frozen)]
pub struct MintedKey {
    inner: keyproof::MintedKey,
}

#[pymethods]
impl MintedKey {
    /// The plaintext key. Show it once; never log or store it.
    #[getter]
    fn key(&self) -> &str {
        self.inner.key.expose()
    }
    /// The record to store (hash only).
    #[getter]
    fn record(&self) -> KeyRecord {
        KeyRecord::wrap(self.inner.record.clone())
    }
    /// The masked preview, safe to show and log.
    #[getter]
    fn preview(&self) -> &str {
        &self.inner.record.preview
    }
    fn __repr__(&self) -> String {
        format!("MintedKey(preview={})", q(&self.inner.record.preview))
    }
}

fn format_arg(format: &Bound<'_, PyAny>) -> PyResult<KeyFormat> {
    if let Ok(f) = format.cast::<Format>() {
        return Ok(f.get().inner.clone());
    }
    if let Ok(id) = format.extract::<String>() {
        return keyproof::presets::get(&id).map_err(to_py_err);
    }
    Err(PyTypeError::new_err("format must be a Format or a preset id"))
}

fn owner_arg(owner: &Bound<'_, PyAny>) -> PyResult<Value> {
    if let Ok(o) = owner.cast::<Owner>() {
        return serde_json::to_value(&o.get().inner).map_err(|e| PyTypeError::new_err(e.to_string()));
    }
    py_to_json(owner)
}

fn id_style_arg(style: &Bound<'_, PyAny>) -> PyResult<Value> {
    match style.extract::<String>() {
        Ok(name) => Ok(serde_json::json!({ "style": name })),
        Err(_) => py_to_json(style),
    }
}

/// Mints a key of `format` (a `Format` or preset id). `options` is a dict of the
/// core's mint options (its JSON schema); keyword arguments override its fields.
/// Randomness defaults to `os.urandom(32)` and `now` to the current UTC time.
#[pyfunction]
#[pyo3(signature = (
    format, options=None, *, name=None, scopes=None, role=None, expires_in=None, expires_at=None,
    allowed_ips=None, plan=None, features=None, owner=None, client_id=None, generate_client_id=None,
    metadata=None, id_style=None, hasher=None, random_bytes=None, now=None
))]
#[allow(clippy::too_many_arguments)] // one keyword argument per MintOptions field
pub(crate) fn mint(
    py: Python<'_>,
    format: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, PyAny>>,
    name: Option<String>,
    scopes: Option<Vec<String>>,
    role: Option<String>,
    expires_in: Option<String>,
    expires_at: Option<&Bound<'_, PyAny>>,
    allowed_ips: Option<Vec<String>>,
    plan: Option<String>,
    features: Option<Vec<String>>,
    owner: Option<&Bound<'_, PyAny>>,
    client_id: Option<String>,
    generate_client_id: Option<bool>,
    metadata: Option<&Bound<'_, PyAny>>,
    id_style: Option<&Bound<'_, PyAny>>,
    hasher: Option<PyRef<'_, Hasher>>,
    random_bytes: Option<Vec<u8>>,
    now: Option<&Bound<'_, PyAny>>,
) -> PyResult<MintedKey> {
    let format = format_arg(format)?;
    let mut map = match options.filter(|o| !o.is_none()).map(py_to_json).transpose()? {
        None => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(PyTypeError::new_err("options must be a mapping of mint options")),
    };
    if let Some(generate) = generate_client_id {
        map.insert("generate_client_id".into(), generate.into());
    }
    let strings =
        [("name", name), ("role", role), ("expires_in", expires_in), ("plan", plan), ("client_id", client_id)];
    for (key, value) in strings {
        if let Some(value) = value {
            map.insert(key.into(), value.into());
        }
    }
    let lists = [("scopes", scopes), ("allowed_ips", allowed_ips), ("features", features)];
    for (key, value) in lists {
        if let Some(value) = value {
            map.insert(key.into(), value.into());
        }
    }
    let objects = [("expires_at", expires_at.map(py_to_json)), ("metadata", metadata.map(py_to_json))];
    for (key, value) in objects {
        if let Some(value) = value {
            map.insert(key.into(), value?);
        }
    }
    if let Some(owner) = owner {
        map.insert("owner".into(), owner_arg(owner)?);
    }
    if let Some(style) = id_style {
        map.insert("id_style".into(), id_style_arg(style)?);
    }
    let options = MintOptions::from_json(&Value::Object(map).to_string()).map_err(to_py_err)?;
    let now = now_or(now)?;
    let random = random_or_urandom(py, random_bytes)?;
    let default_hasher = keyproof::Hasher::default();
    let hasher = hasher.as_deref().map_or(&default_hasher, |h| &h.inner);
    let inner = py.detach(|| keyproof::mint(&format, hasher, &options, &random, now)).map_err(to_py_err)?;
    Ok(MintedKey { inner })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<MintedKey>()?;
    m.add_function(wrap_pyfunction!(mint, m)?)?;
    Ok(())
}
