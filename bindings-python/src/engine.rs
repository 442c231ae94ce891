//! Wrapper for `keyproof::engine`: `Engine` (built once, shared by threads) and `Prepared`.

use keyproof::{EngineConfig, KeyFormat};
use pyo3::prelude::*;
use pyo3::PyErr;

use crate::convert::{headers_from_py, now_or, py_to_json, q};
use crate::decision::Decision;
use crate::errors::to_py_err;
use crate::format::FormatSet;
use crate::hash::Hasher;
use crate::parse::ParsedKey;
use crate::policy::Policy;
use crate::ratelimit::state_from_py;
use crate::record::record_from_py;

/// The verification engine: formats, hasher and compiled policy. Immutable, so
/// one engine serves every thread; `prepare` and `decide` release the GIL.
#[pyclass(name = "Engine", module = "keyproof", frozen)]
pub struct Engine {
    inner: keyproof::Engine,
}

fn config_text(config: &Bound<'_, PyAny>) -> PyResult<String> {
    match config.extract::<String>() {
        Ok(text) => Ok(text),
        Err(_) => Ok(py_to_json(config)?.to_string()),
    }
}

#[pymethods]
impl Engine {
    /// Builds an engine from a config (JSON text or dict: formats, hashing, policy).
    /// `pepper` (bytes, e.g. from a secret store) overrides `hashing.pepper_hex`.
    #[new]
    #[pyo3(signature = (config, *, pepper=None))]
    fn new(config: &Bound<'_, PyAny>, pepper: Option<Vec<u8>>) -> PyResult<Self> {
        let config = EngineConfig::from_json(&config_text(config)?).map_err(to_py_err)?;
        let inner = keyproof::Engine::from_config(config, pepper.as_deref()).map_err(to_py_err)?;
        Ok(Self { inner })
    }

    /// Builds an engine from JSON text.
    #[staticmethod]
    #[pyo3(signature = (json, *, pepper=None))]
    fn from_json(json: &Bound<'_, PyAny>, pepper: Option<Vec<u8>>) -> PyResult<Self> {
        Self::new(json, pepper)
    }

    /// Builds an engine from a JSON-shaped dict.
    #[staticmethod]
    #[pyo3(signature = (data, *, pepper=None))]
    fn from_dict(data: &Bound<'_, PyAny>, pepper: Option<Vec<u8>>) -> PyResult<Self> {
        let text = py_to_json(data)?.to_string();
        let config = EngineConfig::from_json(&text).map_err(to_py_err)?;
        let inner = keyproof::Engine::from_config(config, pepper.as_deref()).map_err(to_py_err)?;
        Ok(Self { inner })
    }

    /// The engine's formats.
    #[getter]
    fn formats(&self) -> FormatSet {
        FormatSet { inner: self.inner.formats().clone() }
    }

    /// The engine's hasher (mint with it so records match the deployment).
    #[getter]
    fn hasher(&self) -> Hasher {
        Hasher::from_core(self.inner.hasher().clone())
    }

    /// The engine's policy.
    #[getter]
    fn policy(&self) -> Policy {
        Policy { inner: self.inner.policy().clone() }
    }

    /// Parses a key with the engine's formats.
    fn parse(&self, key: String) -> PyResult<ParsedKey> {
        crate::parse::parse_in(self.inner.formats(), &key)
    }

    /// The storage hash a new record of `key` stores.
    fn hash_key(&self, py: Python<'_>, key: String) -> PyResult<String> {
        let inner = &self.inner;
        py.detach(|| inner.hash_key(&key)).map_err(to_py_err)
    }

    /// Reads a request up to the record lookup: request shape, credential, key
    /// format, and the hashes to look the record up by.
    #[pyo3(signature = (method, path, headers, client_ip=None))]
    fn prepare(
        &self,
        py: Python<'_>,
        method: String,
        path: String,
        headers: &Bound<'_, PyAny>,
        client_ip: Option<String>,
    ) -> PyResult<Prepared> {
        let headers = headers_from_py(headers)?;
        Ok(py.detach(|| self.wrap_prepared(self.inner.prepare(&method, &path, &headers, client_ip.as_deref()))))
    }

    /// `prepare` for a request dict or JSON text (`method`, `path`, `headers`, `client_ip`).
    fn prepare_request(&self, py: Python<'_>, request: &Bound<'_, PyAny>) -> PyResult<Prepared> {
        let text = config_text(request)?;
        let request = keyproof::Request::from_json(&text).map_err(to_py_err)?;
        Ok(py.detach(|| self.wrap_prepared(self.inner.prepare_request(&request))))
    }

    /// Decides a prepared request. `record` is what the host found under one of
    /// `prepared.lookup_hashes` (KeyRecord, dict, JSON text, or None); `rate_state`
    /// is what it stored under `rate_limit_key(prepared, record)`. `now` defaults
    /// to the current UTC time.
    #[pyo3(signature = (prepared, record=None, now=None, rate_state=None))]
    fn decide(
        &self,
        py: Python<'_>,
        prepared: PyRef<'_, Prepared>,
        record: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
        rate_state: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        let record = match record.filter(|r| !r.is_none()) {
            Some(r) => Some(record_from_py(r)?),
            None => None,
        };
        let now = now_or(now)?;
        let state = state_from_py(rate_state)?;
        let (inner, prepared) = (&self.inner, &prepared.inner);
        Ok(Decision::wrap(py.detach(|| inner.decide(prepared, record.as_ref(), now, state))))
    }

    /// The key under which to keep rate-limit state for this request and record,
    /// or None when no quota applies.
    fn rate_limit_key(&self, prepared: PyRef<'_, Prepared>, record: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        let record = record_from_py(record)?;
        Ok(self.inner.rate_limit_key(&prepared.inner, &record))
    }

    fn __repr__(&self) -> String {
        let ids: Vec<String> = self.inner.formats().formats().iter().map(|f| q(&f.id)).collect();
        format!("Engine(formats=[{}], realm={})", ids.join(", "), q(&self.inner.policy().realm))
    }
}

impl Engine {
    fn wrap_prepared(&self, inner: keyproof::Prepared) -> Prepared {
        let format = inner.parsed_key().map(|p| p.format().clone());
        Prepared { inner, format }
    }
}

/// A request read up to the record lookup. `lookup_hashes` is empty when the
/// request is already denied; `decide` renders that denial. `repr` shows no hash.
#[pyclass(name = "Prepared", module = "keyproof", frozen)]
pub struct Prepared {
    inner: keyproof::Prepared,
    format: Option<KeyFormat>,
}

#[pymethods]
impl Prepared {
    /// Hashes to look the record up by, preferred first; empty when already denied.
    #[getter]
    fn lookup_hashes(&self) -> Vec<String> {
        self.inner.lookup_hashes().to_vec()
    }
    /// Whether the request failed before the lookup (`decide` renders the denial).
    #[getter]
    fn denied(&self) -> bool {
        self.inner.error().is_some()
    }
    /// The early denial as an exception object (not raised), or None.
    #[getter]
    fn error(&self) -> Option<PyErr> {
        self.inner.error().cloned().map(to_py_err)
    }
    /// The stable code of the early denial, or None.
    #[getter]
    fn error_code(&self) -> Option<&'static str> {
        self.inner.error().map(keyproof::Error::code)
    }
    /// The parsed key, when one was presented.
    #[getter]
    fn parsed_key(&self) -> Option<ParsedKey> {
        match (self.inner.parsed_key(), &self.format) {
            (Some(p), Some(f)) => Some(ParsedKey::new(p.clone(), f.clone())),
            _ => None,
        }
    }
    /// The client id sent with the credential.
    #[getter]
    fn client_id(&self) -> Option<&str> {
        self.inner.client_id()
    }
    fn __repr__(&self) -> String {
        match (self.inner.error(), self.inner.parsed_key()) {
            (Some(e), _) => format!("Prepared(error_code={})", q(e.code())),
            (None, Some(p)) => format!("Prepared(format_id={}, preview={})", q(p.format_id()), q(&p.preview())),
            (None, None) => "Prepared()".to_string(),
        }
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Engine>()?;
    m.add_class::<Prepared>()?;
    Ok(())
}
